//! Reading the operator's own files (modules, archives, seeds, payloads) for the CLI's commands.
//!
//! The CLI reads local paths on purpose, but a path can still name `/dev/zero`, a FIFO or a file
//! that grows while read: these go through the core's guarded reader (regular files only, size
//! counted while reading) so a typo cannot hang the command or fill memory.

use std::path::Path;

/// Largest file any CLI command reads: the host's default artifact limit.
pub const MAX_LOCAL_FILE_BYTES: u64 = wasmhost::oci::DEFAULT_MAX_ARTIFACT_BYTES;

/// Reads the regular file at `path` (`what` names it in errors, e.g. "actor module").
pub fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    wasmhost::files::read_artifact_blocking(path, MAX_LOCAL_FILE_BYTES, what)
        .map_err(|e| e.message().to_string())
}

/// [`read`] for text files (seeds, JSON payloads).
pub fn read_text(path: &Path, what: &str) -> Result<String, String> {
    String::from_utf8(read(path, what)?)
        .map_err(|_| format!("{what} {} is not UTF-8 text", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused_regular_files_read() {
        let dev = read(Path::new("/dev/zero"), "actor module").unwrap_err();
        assert!(dev.contains("not a regular file"), "{dev}");
        let dir = read(Path::new("/"), "payload").unwrap_err();
        assert!(dir.contains("not a regular file"), "{dir}");
        let file = std::env::temp_dir().join(format!("wasmhost-local-{}", std::process::id()));
        std::fs::write(&file, "seed\n").unwrap();
        assert_eq!(read_text(&file, "seed").unwrap(), "seed\n");
        std::fs::write(&file, [0xff, 0xfe]).unwrap();
        assert!(read_text(&file, "seed").unwrap_err().contains("not UTF-8"));
        std::fs::remove_file(&file).unwrap();
    }
}
