//! Build script of libwasmhost: the shared library's soname and export list, the C header, and the
//! pkg-config file and soname symlink next to the built libraries.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// Libraries the static library needs (`cargo rustc --crate-type staticlib -- --print native-static-libs`).
const STATIC_PRIVATE_LIBS: &str = "-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    let version = env::var("CARGO_PKG_VERSION").unwrap();

    // The soname carries the ABI major version; only `wasmhost_*` symbols are exported.
    let script = manifest_dir.join("exports.map");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libwasmhost.so.{major}");
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        script.display()
    );
    println!("cargo:rerun-if-changed=exports.map");

    generate_header(&manifest_dir);

    // target/<profile>/ is three levels above OUT_DIR (target/<profile>/build/<pkg>-<hash>/out).
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    if let Some(profile_dir) = out_dir.ancestors().nth(3) {
        write_pkg_config(profile_dir, &manifest_dir, &version);
        link_soname(profile_dir, &major);
        // The call-path benchmark links the built libwasmhost.so itself, to measure the real C path.
        println!("cargo:rustc-link-arg-benches=-L{}", profile_dir.display());
        println!("cargo:rustc-link-arg-benches=-lwasmhost");
        println!(
            "cargo:rustc-link-arg-benches=-Wl,-rpath,{}",
            profile_dir.display()
        );
    }
}

/// Regenerates include/wasmhost.h from the sources with cbindgen.toml. CI compares it with the committed copy.
fn generate_header(manifest_dir: &Path) {
    for entry in ["src", "cbindgen.toml"] {
        println!("cargo:rerun-if-changed={entry}");
    }
    let mut config = cbindgen::Config::from_file(manifest_dir.join("cbindgen.toml"))
        .expect("ffi/cbindgen.toml is valid");
    let env = |k: &str| env::var(k).unwrap();
    config.after_includes = Some(format!(
        "\n/** Version of this header (the library reports its own with wasmhost_version()). */\n\
         #define WASMHOST_VERSION \"{}\"\n#define WASMHOST_VERSION_MAJOR {}\n#define WASMHOST_VERSION_MINOR {}\n\
         #define WASMHOST_VERSION_PATCH {}\n",
        env("CARGO_PKG_VERSION"),
        env("CARGO_PKG_VERSION_MAJOR"),
        env("CARGO_PKG_VERSION_MINOR"),
        env("CARGO_PKG_VERSION_PATCH"),
    ));
    let header = manifest_dir.join("..").join("include").join("wasmhost.h");
    match cbindgen::Builder::new()
        .with_crate(manifest_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(&header);
        }
        Err(e) => panic!("cbindgen failed to generate include/wasmhost.h: {e}"),
    }
}

/// wasmhost.pc: `pkg-config --cflags --libs wasmhost` (shared) and `--static` (adds the private libs).
fn write_pkg_config(profile_dir: &Path, manifest_dir: &Path, version: &str) {
    let include = manifest_dir.join("..").join("include");
    let include = include.canonicalize().unwrap_or(include);
    let pc = format!(
        "prefix={prefix}\nlibdir={prefix}\nincludedir={include}\n\n\
         Name: wasmhost\n\
         Description: Embeddable wasmCloud-compatible lattice host for WebAssembly actors\n\
         Version: {version}\n\
         Cflags: -I${{includedir}}\n\
         Libs: -L${{libdir}} -lwasmhost\n\
         Libs.private: {STATIC_PRIVATE_LIBS}\n",
        prefix = profile_dir.display(),
        include = include.display(),
    );
    let path = profile_dir.join("wasmhost.pc");
    if fs::read_to_string(&path).ok().as_deref() != Some(pc.as_str()) {
        fs::write(&path, pc).expect("write wasmhost.pc");
    }
}

/// Programs linked with `-lwasmhost` record the soname `libwasmhost.so.N`: make that name resolve
/// in the build directory (the link is dangling until the library is linked).
fn link_soname(profile_dir: &Path, major: &str) {
    let link = profile_dir.join(format!("libwasmhost.so.{major}"));
    if fs::symlink_metadata(&link).is_err() {
        #[cfg(unix)]
        let _ = std::os::unix::fs::symlink("libwasmhost.so", &link);
    }
}
