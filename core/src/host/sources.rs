//! Where actor modules and provider archives come from: bytes, local files, OCI registries; and
//! which of those a request from the lattice may name.
//!
//! The embedding API and the CLI's own commands read any local file the process can read. A
//! control-interface request comes from anyone who can publish on the lattice, so its `file://`
//! and bare-path references are refused unless the operator allowed directories
//! ([`HostConfig::allow_file_load`](crate::HostConfig::allow_file_load)), and then only inside
//! them, after resolving `..` and symbolic links.

use std::path::{Component, Path, PathBuf};

use bytes::Bytes;
use wasmhost_protocol::ctl::RegistryCredentialMap;

use super::Host;
use crate::oci::ArtifactKind;
use crate::provider_archive::ProviderArchive;
use crate::quote::{quote_input, quote_path};
use crate::{Error, ErrorKind, Result};

/// Largest actor module accepted, in bytes.
pub(crate) const MAX_MODULE_SIZE: u64 = 64 << 20;

/// Where an actor module or a provider archive comes from.
#[derive(Debug, Clone)]
pub enum ArtifactSource {
    /// The bytes themselves.
    Bytes(Bytes),
    /// A path to a `.wasm` file or a `.par.gz` archive.
    File(PathBuf),
    /// A reference: `file:///abs/path`, or an OCI reference such as `registry:5000/echo:0.1.0`.
    Reference(String),
}

/// Where an actor's module comes from.
pub type ActorSource = ArtifactSource;
/// Where a capability provider's archive comes from.
pub type ProviderSource = ArtifactSource;

impl ArtifactSource {
    /// Interprets a string the way the CLI does: `file://` and existing paths are files, anything
    /// else an OCI reference.
    pub fn parse(reference: &str) -> ArtifactSource {
        if let Some(path) = reference.strip_prefix("file://") {
            return ArtifactSource::File(PathBuf::from(path));
        }
        if looks_like_path(reference) || Path::new(reference).is_file() {
            return ArtifactSource::File(PathBuf::from(reference));
        }
        ArtifactSource::Reference(reference.to_string())
    }

    /// Interprets a reference that arrived from the lattice (a control-interface request): OCI
    /// references as [`ArtifactSource::parse`] does; `file://` URLs and paths only inside one of
    /// `allowed_dirs` (none by default), else a [`ErrorKind::Denied`] error that names the switch.
    /// The answer is the same whether or not a refused path exists, so a client cannot probe the
    /// host's files.
    pub fn from_lattice(reference: &str, allowed_dirs: &[PathBuf]) -> Result<ArtifactSource> {
        if reference.starts_with("bindle://") {
            return Err(Error::invalid(format!(
                "{}: Bindle references are not supported (Bindle was a 2022 experiment, no longer maintained); publish the artifact to an OCI registry and use its reference",
                quote_input(reference)
            )));
        }
        let path = match reference.strip_prefix("file://") {
            Some(path) => PathBuf::from(path),
            None if looks_like_path(reference) => PathBuf::from(reference),
            None => return Ok(ArtifactSource::Reference(reference.to_string())),
        };
        let refused = || {
            Error::new(
                ErrorKind::Denied,
                format!(
                    "loading local files from the lattice is not allowed for {} (the host's operator can allow directories with --allow-file-load DIR or WASMCLOUD_ALLOW_FILE_LOAD)",
                    quote_path(&path)
                ),
            )
        };
        if allowed_dirs.is_empty() || !path.is_absolute() {
            return Err(refused());
        }
        match path.canonicalize() {
            Ok(real) if allowed_dirs.iter().any(|dir| within(&real, dir)) => {
                Ok(ArtifactSource::File(real))
            }
            Ok(_) => Err(refused()),
            // A missing file inside an allowed directory is reported as missing; anywhere else the
            // refusal does not say whether it exists.
            Err(e)
                if allowed_dirs
                    .iter()
                    .any(|dir| within(&normalize(&path), dir)) =>
            {
                Err(Error::not_found(format!(
                    "cannot read {}: {e}",
                    quote_path(&path)
                )))
            }
            Err(_) => Err(refused()),
        }
    }

    /// How the source is reported in events and inventories.
    pub(crate) fn image_ref(&self) -> String {
        match self {
            ArtifactSource::Bytes(_) => String::new(),
            ArtifactSource::File(p) => format!("file://{}", p.display()),
            ArtifactSource::Reference(r) => r.clone(),
        }
    }
}

/// Anything that looks like a path is a file (a missing one then fails as a missing file, not as
/// an odd registry reference); `oci://` or no scheme is a registry reference.
fn looks_like_path(reference: &str) -> bool {
    [".wasm", ".par", ".par.gz"]
        .iter()
        .any(|ext| reference.ends_with(ext))
        || reference.starts_with(['/', '.'])
}

/// `path` lies inside `dir` (both compared as the host resolves them).
fn within(path: &Path, dir: &Path) -> bool {
    let dir = dir.canonicalize().unwrap_or_else(|_| normalize(dir));
    path.starts_with(dir)
}

/// Removes `.` and resolves `..` lexically (for paths that do not exist, so cannot be canonicalised).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

impl From<Vec<u8>> for ArtifactSource {
    fn from(bytes: Vec<u8>) -> Self {
        ArtifactSource::Bytes(Bytes::from(bytes))
    }
}
impl From<&[u8]> for ArtifactSource {
    fn from(bytes: &[u8]) -> Self {
        ArtifactSource::Bytes(Bytes::copy_from_slice(bytes))
    }
}
impl From<PathBuf> for ArtifactSource {
    fn from(path: PathBuf) -> Self {
        ArtifactSource::File(path)
    }
}

impl Host {
    /// A reference from a control-interface request, under this host's file-load rule.
    pub(crate) fn source_from_lattice(&self, reference: &str) -> Result<ArtifactSource> {
        ArtifactSource::from_lattice(reference, &self.inner.config.allow_file_load)
    }

    /// The bytes of an actor module, at most [`MAX_MODULE_SIZE`] (and the artifact limit).
    pub(crate) async fn load_module(&self, source: ActorSource) -> Result<Bytes> {
        let limit = MAX_MODULE_SIZE.min(self.inner.config.oci_max_artifact_bytes);
        let bytes = match source {
            ActorSource::Bytes(b) => b,
            ActorSource::File(path) => crate::files::read_artifact(&path, limit, "actor module")
                .await?
                .into(),
            ActorSource::Reference(reference) => {
                self.inner
                    .oci
                    .fetch(&reference, ArtifactKind::Actor)
                    .await?
            }
        };
        if bytes.len() as u64 > limit {
            return Err(Error::invalid(format!(
                "actor module is larger than {limit} bytes"
            )));
        }
        Ok(bytes)
    }

    /// A provider archive, verified (claims signature and every binary's SHA-256).
    pub(crate) async fn load_provider_archive(
        &self,
        source: super::ProviderSource,
    ) -> Result<ProviderArchive> {
        let bytes: Bytes = match source {
            ArtifactSource::Reference(reference) => {
                return self.fetch_provider_archive(&reference).await
            }
            ArtifactSource::Bytes(bytes) => bytes,
            ArtifactSource::File(path) => crate::files::read_artifact(
                &path,
                self.inner.config.oci_max_artifact_bytes,
                "provider archive",
            )
            .await?
            .into(),
        };
        parse_archive(bytes).await
    }

    /// Merges registry credentials, as the control interface's `registries.put` does: keyed by
    /// server (scheme and path stripped), only entries with a `registryType` and a secret; OCI
    /// fetches use entries whose `registryType` is `"oci"`. Returns how many entries were kept.
    pub fn put_registry_credentials(&self, credentials: RegistryCredentialMap) -> usize {
        self.inner.oci.merge_credentials(credentials)
    }

    /// Fetches a provider archive by OCI reference (same rules, credentials and cache as actors)
    /// and verifies it: claims signature and every binary's signed SHA-256.
    pub async fn fetch_provider_archive(&self, reference: &str) -> Result<ProviderArchive> {
        let bytes = self
            .inner
            .oci
            .fetch(reference, ArtifactKind::ProviderArchive)
            .await?;
        parse_archive(bytes).await.map_err(|e| {
            Error::new(
                e.kind(),
                format!(
                    "provider archive `{}`: {}",
                    quote_input(reference),
                    e.message()
                ),
            )
        })
    }

    /// The directory of the OCI cache this host uses.
    pub fn oci_cache_dir(&self) -> PathBuf {
        self.inner.oci.cache_root().to_path_buf()
    }
}

/// Archives are megabytes of gzip and SHA-256: checked on a blocking thread.
async fn parse_archive(bytes: Bytes) -> Result<ProviderArchive> {
    tokio::task::spawn_blocking(move || ProviderArchive::parse(&bytes).map_err(Error::from))
        .await
        .map_err(|e| Error::internal(format!("provider archive check failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmhost-sources-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("actors")).unwrap();
        std::fs::write(dir.join("actors/echo.wasm"), b"\0asm").unwrap();
        std::fs::write(dir.join("secret.wasm"), b"\0asm").unwrap();
        dir
    }

    #[test]
    fn local_parsing_reads_paths_and_references() {
        assert!(
            matches!(ArtifactSource::parse("file:///a/b.wasm"), ArtifactSource::File(p) if p == Path::new("/a/b.wasm"))
        );
        assert!(matches!(
            ArtifactSource::parse("./x.par.gz"),
            ArtifactSource::File(_)
        ));
        assert!(matches!(
            ArtifactSource::parse("registry:5000/echo:0.1"),
            ArtifactSource::Reference(_)
        ));
    }

    #[test]
    fn the_lattice_may_not_name_files_by_default() {
        let d = dir();
        for reference in [
            format!("file://{}/actors/echo.wasm", d.display()),
            format!("{}/actors/echo.wasm", d.display()),
            "/etc/passwd".into(),
            "/dev/zero".into(),
        ] {
            let e = ArtifactSource::from_lattice(&reference, &[]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Denied, "{reference}");
            assert!(e.message().contains("--allow-file-load"), "{e}");
        }
        assert!(matches!(
            ArtifactSource::from_lattice("registry:5000/echo:0.1", &[]),
            Ok(ArtifactSource::Reference(_))
        ));
    }

    #[test]
    fn allowed_directories_admit_their_files_only() {
        let d = dir();
        let allowed = vec![d.join("actors")];
        let inside = format!("file://{}/actors/echo.wasm", d.display());
        assert!(matches!(
            ArtifactSource::from_lattice(&inside, &allowed),
            Ok(ArtifactSource::File(_))
        ));
        // `..` and symbolic links cannot leave the directory.
        let escape = format!("file://{}/actors/../secret.wasm", d.display());
        assert_eq!(
            ArtifactSource::from_lattice(&escape, &allowed)
                .unwrap_err()
                .kind(),
            ErrorKind::Denied
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.join("secret.wasm"), d.join("actors/link.wasm")).unwrap();
            let link = format!("file://{}/actors/link.wasm", d.display());
            assert_eq!(
                ArtifactSource::from_lattice(&link, &allowed)
                    .unwrap_err()
                    .kind(),
                ErrorKind::Denied
            );
        }
        // Relative paths have no meaning for a remote client.
        assert_eq!(
            ArtifactSource::from_lattice("./actors/echo.wasm", &allowed)
                .unwrap_err()
                .kind(),
            ErrorKind::Denied
        );
        // A missing file inside is "not found"; outside, the same refusal as for an existing one.
        let missing = format!("file://{}/actors/none.wasm", d.display());
        assert_eq!(
            ArtifactSource::from_lattice(&missing, &allowed)
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound
        );
        let missing_outside = format!("file://{}/none.wasm", d.display());
        assert_eq!(
            ArtifactSource::from_lattice(&missing_outside, &allowed)
                .unwrap_err()
                .kind(),
            ErrorKind::Denied
        );
    }

    #[test]
    fn bindle_is_refused_with_what_to_use() {
        let e = ArtifactSource::from_lattice("bindle://example.com/echo/0.1", &[]).unwrap_err();
        assert!(e.message().contains("OCI"), "{e}");
    }

    #[test]
    fn refusals_quote_huge_references_truncated() {
        let huge = format!("/{}", "a".repeat(2 << 20));
        let e = ArtifactSource::from_lattice(&huge, &[]).unwrap_err();
        assert!(e.message().len() < 1024, "{} bytes", e.message().len());
    }
}
