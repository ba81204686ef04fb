//! Compiled actors on disk, so an actor started again after a host restart skips Cranelift.
//!
//! Layout: `{root}/{wasmtime version}-{engine compatibility hash}/{SHA-256 of the module}.cwasm`.
//! The directory names the engine build and configuration the code was compiled for (another
//! configuration gets a directory of its own), the file names the exact module bytes. Files are
//! written to a temporary name and renamed, so hosts sharing the cache never read half a file;
//! the least recently used files are removed beyond the size bound.
//!
//! Loading compiled code is loading native code: the cache directory must be private to this
//! user (created `0700`; a directory that others can write to, or that belongs to someone else,
//! is not used, with a warning).

use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// Bytes kept by default (`HostConfig::module_cache_max_bytes`): 512 MiB.
pub const DEFAULT_MODULE_CACHE_MAX_BYTES: u64 = 512 << 20;

/// The default root: `$XDG_CACHE_HOME/wasmhost/modules`, else `~/.cache/wasmhost/modules`.
pub(crate) fn default_root() -> PathBuf {
    crate::oci::cache_base().join("wasmhost").join("modules")
}

/// The compiled-module cache of one engine configuration.
pub(crate) struct ModuleCache {
    dir: PathBuf,
    max_bytes: u64,
}

impl ModuleCache {
    /// Opens (creating) the cache for `engine` under `root`; `None`, with a warning, when the
    /// directory cannot be made or is not private.
    pub(crate) fn open(root: &Path, engine: &Engine, max_bytes: u64) -> Option<ModuleCache> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let dir = root.join(format!(
            "wasmtime-{}-{:016x}",
            wasmtime_version(),
            hasher.finish()
        ));
        if let Err(e) = make_private_dir(&dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "compiled-module cache disabled");
            return None;
        }
        Some(ModuleCache { dir, max_bytes })
    }

    /// The cache key of `module`: the SHA-256 of its bytes.
    pub(crate) fn key(module: &[u8]) -> String {
        data_encoding::HEXLOWER.encode(&Sha256::digest(module))
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.cwasm"))
    }

    /// The compiled module for `key`, if cached and loadable by `engine`. Blocking.
    pub(crate) fn load(&self, engine: &Engine, key: &str) -> Option<Module> {
        let path = self.path(key);
        if !path.is_file() {
            return None;
        }
        // SAFETY: the file was written by `store` (serialized by this engine's wasmtime) into a
        // directory only this user can write; wasmtime checks the version and configuration
        // recorded in it and refuses a mismatch.
        match unsafe { Module::deserialize_file(engine, &path) } {
            Ok(module) => {
                // Recency for the size bound.
                let _ = fs::File::options()
                    .append(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(SystemTime::now()));
                Some(module)
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "dropping an unusable compiled module from the cache");
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores `module` under `key`, then trims the cache to its bound. Blocking; failures are
    /// logged, never fatal (the module is compiled and running either way).
    pub(crate) fn store(&self, key: &str, module: &Module) {
        let bytes = match module.serialize() {
            Ok(bytes) => bytes,
            Err(e) => return tracing::warn!(error = %e, "cannot serialize a compiled module"),
        };
        let temp = self
            .dir
            .join(format!(".{key}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let written = fs::write(&temp, &bytes).and_then(|()| fs::rename(&temp, self.path(key)));
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return tracing::warn!(dir = %self.dir.display(), error = %e, "cannot write to the compiled-module cache");
        }
        self.trim();
    }

    /// Removes the least recently used files until the cache fits its bound.
    fn trim(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                Some((meta.modified().ok()?, meta.len(), e.path()))
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        files.sort();
        for (_, len, path) in files {
            if total <= self.max_bytes {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

fn wasmtime_version() -> &'static str {
    // The crate is pinned (`=48.0.8`); the engine hash covers its configuration.
    "48.0.8"
}

/// Creates `dir` (and parents) and checks it is this user's alone.
fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let meta = fs::metadata(dir)?;
        // SAFETY: geteuid has no preconditions.
        let uid = unsafe { libc::geteuid() };
        if meta.uid() != uid {
            return Err(std::io::Error::other(format!(
                "it belongs to uid {}, not to this user ({uid})",
                meta.uid()
            )));
        }
        if meta.permissions().mode() & 0o022 != 0 {
            return Err(std::io::Error::other(
                "others can write to it (chmod 700 it)",
            ));
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::default()
    }

    fn root() -> PathBuf {
        std::env::temp_dir().join(format!("wasmhost-modcache-{}", uuid::Uuid::new_v4()))
    }

    const WAT: &str = r#"(module (func (export "f") (result i32) i32.const 7))"#;

    #[test]
    fn a_stored_module_loads_back_and_runs() {
        let engine = engine();
        let cache = ModuleCache::open(&root(), &engine, 1 << 30).unwrap();
        let bytes = wat::parse_str(WAT).unwrap();
        let key = ModuleCache::key(&bytes);
        assert!(cache.load(&engine, &key).is_none());
        cache.store(&key, &Module::new(&engine, &bytes).unwrap());
        let module = cache.load(&engine, &key).expect("cached");
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
        let f = instance.get_typed_func::<(), i32>(&mut store, "f").unwrap();
        assert_eq!(f.call(&mut store, ()).unwrap(), 7);
    }

    #[test]
    fn another_engine_configuration_gets_its_own_directory() {
        let root = root();
        let plain = ModuleCache::open(&root, &engine(), 1 << 30).unwrap();
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let other = ModuleCache::open(&root, &Engine::new(&config).unwrap(), 1 << 30).unwrap();
        assert_ne!(plain.dir(), other.dir());
    }

    #[test]
    fn garbage_in_the_cache_is_dropped_not_loaded() {
        let engine = engine();
        let cache = ModuleCache::open(&root(), &engine, 1 << 30).unwrap();
        let key = ModuleCache::key(b"x");
        fs::write(cache.path(&key), b"not a compiled module").unwrap();
        assert!(cache.load(&engine, &key).is_none());
        assert!(!cache.path(&key).exists());
    }

    #[test]
    fn the_least_recently_used_files_go_beyond_the_bound() {
        let engine = engine();
        let bytes = wat::parse_str(WAT).unwrap();
        let module = Module::new(&engine, &bytes).unwrap();
        let size = module.serialize().unwrap().len() as u64;
        let cache = ModuleCache::open(&root(), &engine, size * 2 + size / 2).unwrap();
        let now = SystemTime::now();
        for (age, key) in [(2, "a"), (1, "b"), (0, "c")] {
            cache.store(key, &module);
            let at = now - std::time::Duration::from_secs(3600 * age);
            fs::File::options()
                .append(true)
                .open(cache.path(key))
                .unwrap()
                .set_modified(at)
                .unwrap();
        }
        cache.trim();
        assert!(!cache.path("a").exists(), "the oldest went");
        assert!(cache.path("b").exists() && cache.path("c").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_others_can_write_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let root = root();
        let engine = engine();
        let cache = ModuleCache::open(&root, &engine, 1 << 30).unwrap();
        fs::set_permissions(cache.dir(), fs::Permissions::from_mode(0o777)).unwrap();
        assert!(ModuleCache::open(&root, &engine, 1 << 30).is_none());
    }
}
