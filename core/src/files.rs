//! Reading artifacts (actor modules, provider archives) from local files without trusting the path.
//!
//! A path may name a character device (`/dev/zero`), a FIFO, a socket, a directory or a file that
//! grows while it is read. Only regular files are read, and the size cap is counted while reading:
//! `metadata().len()` says nothing about `/dev/urandom` or a file being appended to.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::{Error, ErrorKind, Result};

/// Reads the regular file at `path`, refusing anything else and anything larger than `max_bytes`.
///
/// The file is opened without blocking (a FIFO with no writer would block `open` forever), then
/// checked through the open descriptor (so a swap between check and read cannot slip a device
/// in), then read with the cap counted on the bytes themselves. `what` names the artifact in
/// errors ("actor module", "provider archive"). Blocking: call it off the async runtime
/// ([`read_artifact`] does).
pub fn read_artifact_blocking(path: &Path, max_bytes: u64, what: &str) -> Result<Vec<u8>> {
    let shown = crate::quote::quote_path(path);
    let file = open_nonblocking(path).map_err(|e| {
        let kind = match e.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::Denied,
            _ => ErrorKind::InvalidInput,
        };
        Error::new(kind, format!("cannot read {what} {shown}: {e}"))
    })?;
    let file_type = file
        .metadata()
        .map_err(|e| Error::invalid(format!("cannot read {what} {shown}: {e}")))?
        .file_type();
    if !file_type.is_file() {
        return Err(Error::invalid(format!(
            "cannot read {what} {shown}: it is {}, not a regular file",
            describe(&file_type)
        )));
    }
    let mut bytes = Vec::new();
    // One byte past the cap tells "exactly at the cap" from "larger".
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::invalid(format!("cannot read {what} {shown}: {e}")))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Error::invalid(format!(
            "{what} {shown} is larger than the limit of {max_bytes} bytes"
        )));
    }
    Ok(bytes)
}

/// [`read_artifact_blocking`] on a blocking thread, for async callers.
pub async fn read_artifact(path: &Path, max_bytes: u64, what: &'static str) -> Result<Vec<u8>> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || read_artifact_blocking(&path, max_bytes, what))
        .await
        .map_err(|e| Error::internal(format!("file read task failed: {e}")))?
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK only matters for FIFOs and devices, which are refused right after; reads of a
    // regular file ignore it.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

fn describe(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_whole() {
        let dir = tempdir();
        let path = dir.join("a.wasm");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(
            read_artifact_blocking(&path, 10, "actor module").unwrap(),
            b"0123456789"
        );
    }

    #[test]
    fn the_cap_is_counted_on_the_bytes() {
        let dir = tempdir();
        let path = dir.join("big.wasm");
        std::fs::write(&path, vec![7u8; 11]).unwrap();
        let e = read_artifact_blocking(&path, 10, "actor module").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(
            e.message().contains("larger than the limit of 10 bytes"),
            "{e}"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn devices_are_refused_before_reading() {
        for (path, what) in [
            ("/dev/zero", "a character device"),
            ("/dev/urandom", "a character device"),
        ] {
            let e = read_artifact_blocking(Path::new(path), 1 << 30, "actor module").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(e.message().contains(what), "{e}");
        }
        let e = read_artifact_blocking(Path::new("/tmp"), 1 << 30, "actor module").unwrap_err();
        assert!(e.message().contains("a directory"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_without_a_writer_is_refused_without_blocking() {
        let dir = tempdir();
        let fifo = dir.join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let e = read_artifact_blocking(&fifo, 1 << 20, "provider archive").unwrap_err();
        assert!(e.message().contains("named pipe"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_socket_is_refused() {
        let dir = tempdir();
        let path = dir.join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let e = read_artifact_blocking(&path, 1 << 20, "actor module").unwrap_err();
        // Opening a socket fails (ENXIO) or it is seen as a socket: refused either way.
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    }

    #[test]
    fn missing_files_are_not_found_and_long_paths_are_truncated() {
        let e = read_artifact_blocking(Path::new("/no/such/file.wasm"), 10, "actor module")
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let long = format!("/no/{}", "x".repeat(5000));
        let e = read_artifact_blocking(Path::new(&long), 10, "actor module").unwrap_err();
        assert!(e.message().len() < 600, "{} chars", e.message().len());
        assert!(e.message().contains("truncated"), "{e}");
    }

    fn tempdir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmhost-files-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
