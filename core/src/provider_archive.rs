//! Capability provider archives (`.par` / `.par.gz`, LATTICE.md §4.6).
//!
//! Parsing, verification and creation live in [`wasmhost_protocol::provider_archive`] (pure, no
//! I/O, fuzzed there) and are re-exported here; this module adds what touches the disk: writing a
//! provider's binary where a process can run it.

use std::path::{Path, PathBuf};

pub use wasmhost_protocol::provider_archive::{
    create_archive, native_target, ArchiveError, ProviderArchive, ProviderArchiveSpec,
    MAX_UNPACKED_SIZE,
};

use crate::{Error, Result};

/// Writes `archive`'s binary for this machine ([`native_target`]) to
/// `dir/{public_key}-{target}.bin` (see [`write_executable`]) and returns its path.
pub fn extract_native(archive: &ProviderArchive, dir: &Path) -> Result<PathBuf> {
    let path = dir.join(format!("{}-{}.bin", archive.public_key(), native_target()));
    write_executable(&path, archive.native_binary()?)?;
    Ok(path)
}

/// Writes `binary` to `path` with mode 0755 (archives store mode 0) through a temporary file and
/// a rename, so a process never runs a half-written file; a file already holding the same bytes
/// is left alone (a running provider keeps its binary).
pub fn write_executable(path: &Path, binary: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|existing| existing == binary) {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
    let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, binary).map_err(|e| io_error("write", &tmp, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| io_error("chmod", &tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io_error("rename", path, e))?;
    Ok(())
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::internal(format!("cannot {what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use nkeys::KeyPair;

    fn vector(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../protocol/tests/vectors/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
    }

    #[test]
    fn archive_errors_keep_their_kinds() {
        let par = ProviderArchive::parse(&vector("provider.par.gz")).unwrap();
        let err: Error = par.binary_for("aarch64-macos").unwrap_err().into();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(
            err.message()
                .contains("no binary for this platform (aarch64-macos)"),
            "{err}"
        );
        let err: Error = ProviderArchive::parse(b"not a tar at all, just text")
            .unwrap_err()
            .into();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let unsigned: Error = ArchiveError::UnsignedBinary { target: "x".into() }.into();
        assert_eq!(unsigned.kind(), ErrorKind::Claims);
    }

    #[test]
    fn created_archives_extract_as_executables() {
        let issuer = KeyPair::new_account();
        let subject = KeyPair::new_service();
        let spec = ProviderArchiveSpec {
            capid: "wasmcloud:example".into(),
            vendor: "tests".into(),
            binaries: [
                (native_target(), b"#!/bin/sh\necho hi\n".to_vec()),
                ("aarch64-macos".to_string(), b"other".to_vec()),
            ]
            .into(),
            ..Default::default()
        };
        let par =
            ProviderArchive::parse(&create_archive(&spec, &issuer, &subject).unwrap()).unwrap();
        let dir =
            std::env::temp_dir().join(format!("wasmhost-par-{}", uuid::Uuid::new_v4().simple()));
        let path = extract_native(&par, &dir).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"#!/bin/sh\necho hi\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o755
            );
        }
        // Writing the same bytes again leaves the file alone.
        write_executable(&path, b"#!/bin/sh\necho hi\n").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
