//! The local content-addressed cache of fetched artifacts, shared by every host on the machine.
//!
//! Layout under the cache root:
//! * `blobs/sha256/{hex}`: artifact bytes, named by their digest (a file whose bytes do not hash to
//!   its name is treated as absent and removed);
//! * `refs/{sha256(reference)}.json`: the last manifest/layer digest a reference resolved to, used
//!   when the registry cannot be reached and for digest-pinned references;
//! * `tmp/`: files being written. Every write goes to a unique temporary file and is renamed into
//!   place, so a reader (another host too) sees a whole file or none.
//!
//! The blobs' total size is bounded: after a write the least recently used blobs (oldest mtime; a
//! cache hit refreshes it) are removed until the total fits.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where the cache lives unless configured: `$XDG_CACHE_HOME/wasmhost/oci`, `~/.cache/wasmhost/oci`,
/// or the temp dir when neither is known.
pub(crate) fn default_dir() -> PathBuf {
    cache_base().join("wasmhost").join("oci")
}

/// `$XDG_CACHE_HOME`, else `~/.cache`, else the temp dir.
pub(crate) fn cache_base() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .unwrap_or_else(std::env::temp_dir)
}

/// What a reference resolved to the last time it was fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RefEntry {
    pub reference: String,
    pub manifest_digest: String,
    pub layer_digest: String,
    pub media_type: String,
}

/// The cache. Cheap to clone; all methods do blocking file I/O (call them off the async threads).
#[derive(Debug, Clone)]
pub(crate) struct BlobCache {
    root: PathBuf,
    max_bytes: u64,
}

impl BlobCache {
    pub(crate) fn new(root: PathBuf, max_bytes: u64) -> Self {
        BlobCache { root, max_bytes }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The blob with `digest` (`sha256:{hex}`), verified; refreshes its mtime for LRU eviction.
    pub(crate) fn get(&self, digest: &str) -> Option<Vec<u8>> {
        let path = self.blob_path(digest)?;
        let data = std::fs::read(&path).ok()?;
        if sha256_digest(&data) != digest {
            tracing::warn!(path = %path.display(), "cached blob does not match its digest; removing it");
            let _ = std::fs::remove_file(&path);
            return None;
        }
        if let Ok(file) = std::fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(SystemTime::now());
        }
        Some(data)
    }

    /// Stores a blob under its digest (atomically), then evicts old blobs beyond the size bound.
    pub(crate) fn put(&self, digest: &str, data: &[u8]) -> std::io::Result<()> {
        let path = self
            .blob_path(digest)
            .ok_or_else(|| std::io::Error::other(format!("unsupported digest `{digest}`")))?;
        self.write_atomic(&path, data)?;
        self.evict(&path);
        Ok(())
    }

    /// The last resolution of `reference`, if recorded and its blob is still present.
    pub(crate) fn get_ref(&self, reference: &str) -> Option<RefEntry> {
        let data = std::fs::read(self.ref_path(reference)).ok()?;
        let entry: RefEntry = serde_json::from_slice(&data).ok()?;
        (entry.reference == reference).then_some(entry)
    }

    /// Records what `entry.reference` resolved to.
    pub(crate) fn put_ref(&self, entry: &RefEntry) -> std::io::Result<()> {
        let data = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        self.write_atomic(&self.ref_path(&entry.reference), &data)
    }

    /// Total bytes of the cached blobs.
    #[cfg(test)]
    pub(crate) fn blobs_size(&self) -> u64 {
        self.blobs().iter().map(|(_, _, size)| size).sum()
    }

    fn blob_path(&self, digest: &str) -> Option<PathBuf> {
        let hex = digest.strip_prefix("sha256:")?;
        // Only a well-formed digest becomes a file name: nothing from a registry can escape the cache.
        (hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| self.root.join("blobs").join("sha256").join(hex))
    }

    fn ref_path(&self, reference: &str) -> PathBuf {
        let key = data_encoding::HEXLOWER.encode(&Sha256::digest(reference.as_bytes()));
        self.root.join("refs").join(format!("{key}.json"))
    }

    fn write_atomic(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        let tmp_dir = self.root.join("tmp");
        std::fs::create_dir_all(&tmp_dir)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = tmp_dir.join(format!(
            "{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let written = std::fs::write(&tmp, data).and_then(|_| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    fn blobs(&self) -> Vec<(PathBuf, SystemTime, u64)> {
        let Ok(dir) = std::fs::read_dir(self.root.join("blobs").join("sha256")) else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                meta.is_file().then(|| {
                    (
                        e.path(),
                        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        meta.len(),
                    )
                })
            })
            .collect()
    }

    /// Removes least recently used blobs until the total fits `max_bytes`; never the one just written.
    fn evict(&self, keep: &Path) {
        let mut blobs = self.blobs();
        let mut total: u64 = blobs.iter().map(|(_, _, s)| s).sum();
        if total <= self.max_bytes {
            return;
        }
        blobs.sort_by_key(|(_, mtime, _)| *mtime);
        for (path, _, size) in blobs {
            if total <= self.max_bytes {
                break;
            }
            if path == keep {
                continue;
            }
            // Another host may have removed it already: that counts as removed.
            match std::fs::remove_file(&path) {
                Ok(()) => tracing::debug!(path = %path.display(), "evicted from the OCI cache"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot evict from the OCI cache");
                    continue;
                }
            }
            total = total.saturating_sub(size);
        }
    }
}

/// `sha256:{lowercase hex}`, the OCI digest form.
pub(crate) fn sha256_digest(data: &[u8]) -> String {
    format!(
        "sha256:{}",
        data_encoding::HEXLOWER.encode(&Sha256::digest(data))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn temp_cache(max: u64) -> BlobCache {
        BlobCache::new(
            std::env::temp_dir().join(format!(
                "wasmhost-cache-test-{}",
                uuid::Uuid::new_v4().simple()
            )),
            max,
        )
    }

    #[test]
    fn blobs_are_verified_and_shared_between_instances() {
        let cache = temp_cache(1 << 20);
        let data = b"actor bytes".to_vec();
        let digest = sha256_digest(&data);
        assert!(cache.get(&digest).is_none());
        cache.put(&digest, &data).unwrap();
        // A second host with the same directory sees it.
        let other = BlobCache::new(cache.root().to_path_buf(), 1 << 20);
        assert_eq!(other.get(&digest).unwrap(), data);
        // A corrupted file is dropped, not served.
        let hex = digest.strip_prefix("sha256:").unwrap();
        std::fs::write(cache.root().join("blobs/sha256").join(hex), b"evil").unwrap();
        assert!(cache.get(&digest).is_none());
        assert!(!cache.root().join("blobs/sha256").join(hex).exists());
        // No temp files are left behind.
        assert_eq!(
            std::fs::read_dir(cache.root().join("tmp")).unwrap().count(),
            0
        );
        std::fs::remove_dir_all(cache.root()).unwrap();
    }

    #[test]
    fn bad_digests_never_become_paths() {
        let cache = temp_cache(1 << 20);
        for digest in ["sha256:../../etc/passwd", "md5:abc", "sha256:ABCDEF", ""] {
            assert!(cache.put(digest, b"x").is_err());
            assert!(cache.get(digest).is_none());
        }
    }

    #[test]
    fn least_recently_used_blobs_are_evicted() {
        let cache = temp_cache(250);
        let blobs: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 100]).collect();
        let digests: Vec<String> = blobs.iter().map(|b| sha256_digest(b)).collect();
        cache.put(&digests[0], &blobs[0]).unwrap();
        cache.put(&digests[1], &blobs[1]).unwrap();
        // Make blob 0 the most recently used by giving blob 1 an older mtime.
        let old = SystemTime::now() - Duration::from_secs(3600);
        let hex1 = digests[1].strip_prefix("sha256:").unwrap();
        std::fs::File::options()
            .append(true)
            .open(cache.root().join("blobs/sha256").join(hex1))
            .unwrap()
            .set_modified(old)
            .unwrap();
        cache.put(&digests[2], &blobs[2]).unwrap();
        assert!(cache.get(&digests[1]).is_none(), "oldest blob evicted");
        assert!(cache.get(&digests[0]).is_some());
        assert!(cache.get(&digests[2]).is_some());
        assert!(cache.blobs_size() <= 250);
        std::fs::remove_dir_all(cache.root()).unwrap();
    }

    #[test]
    fn reference_index_round_trips() {
        let cache = temp_cache(1 << 20);
        let entry = RefEntry {
            reference: "127.0.0.1:5000/echo:0.1.0".into(),
            manifest_digest: sha256_digest(b"m"),
            layer_digest: sha256_digest(b"l"),
            media_type: "application/vnd.module.wasm.content.layer.v1+wasm".into(),
        };
        assert!(cache.get_ref(&entry.reference).is_none());
        cache.put_ref(&entry).unwrap();
        assert_eq!(cache.get_ref(&entry.reference).unwrap(), entry);
        assert!(cache.get_ref("127.0.0.1:5000/echo:0.2.0").is_none());
        std::fs::remove_dir_all(cache.root()).unwrap();
    }
}
