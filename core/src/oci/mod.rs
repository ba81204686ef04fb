//! Actors and provider archives by OCI reference (LATTICE.md §4.6, §1.9), through `oci-client`.
//!
//! * [`reference`](self): parsing and the OTP host's rules (`:latest` refused unless allowed, plain
//!   HTTP only for registries in `oci_allowed_insecure`);
//! * credentials from `registries.put` maps ([`Host::put_registry_credentials`]) and the
//!   `OCI_REGISTRY*` env fallback, anonymous otherwise;
//! * a content-addressed cache shared by the hosts of a machine, so a restart or a second host
//!   does not download again, and a reference fetched before still starts while its registry is down;
//! * [`push`] for `wasmhost push`.
//!
//! See `README.md` beside this file for how to publish and start an actor from a registry.

mod cache;
mod credentials;
mod errors;
mod reference;
mod registry;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Once;

use bytes::Bytes;
use parking_lot::RwLock;
use serde_json::json;
use wasmhost_protocol::ctl::RegistryCredentialMap;

use self::cache::{BlobCache, RefEntry};
use self::credentials::{CredentialStore, EnvCredentials};
use self::registry::RegistryClient;
use crate::provider_archive::ProviderArchive;
use crate::{Error, Host, HostConfig, Result};

/// Layer media type of a WebAssembly actor module.
pub const WASM_MEDIA_TYPE: &str = "application/vnd.module.wasm.content.layer.v1+wasm";
/// Generic OCI tar layer media type, also accepted for actors (as the OTP host did).
pub const OCI_TAR_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
/// Layer media type of a capability provider archive (`.par.gz`).
pub const PROVIDER_ARCHIVE_MEDIA_TYPE: &str = "application/vnd.wasmcloud.provider.archive.layer.v1+par";
/// Config media type `wash push` writes for actors.
pub const ACTOR_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasmcloud.actor.archive.config";
/// Config media type `wash push` writes for provider archives.
pub const PROVIDER_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasmcloud.provider.archive.config";
/// Default bound of the local cache (`HostConfig::oci_cache_max_bytes`): 1 GiB.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 1 << 30;
/// Default largest artifact fetched (`HostConfig::oci_max_artifact_bytes`): 512 MiB.
pub const DEFAULT_MAX_ARTIFACT_BYTES: u64 = 512 << 20;

/// What an artifact holds; decides the media types pushed and accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    /// A signed WebAssembly actor module.
    Actor,
    /// A capability provider archive (`.par` / `.par.gz`).
    ProviderArchive,
}

impl ArtifactKind {
    /// Guesses the kind of a file from its bytes: wasm magic = actor, gzip or tar = provider archive.
    pub fn detect(bytes: &[u8]) -> Option<ArtifactKind> {
        if bytes.starts_with(b"\0asm") {
            Some(ArtifactKind::Actor)
        } else if bytes.starts_with(&[0x1f, 0x8b]) || bytes.get(257..262) == Some(b"ustar") {
            Some(ArtifactKind::ProviderArchive)
        } else {
            None
        }
    }
    /// The layer media type `push` writes.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            ArtifactKind::Actor => WASM_MEDIA_TYPE,
            ArtifactKind::ProviderArchive => PROVIDER_ARCHIVE_MEDIA_TYPE,
        }
    }
    /// The config media type `push` writes.
    pub fn config_media_type(self) -> &'static str {
        match self {
            ArtifactKind::Actor => ACTOR_CONFIG_MEDIA_TYPE,
            ArtifactKind::ProviderArchive => PROVIDER_CONFIG_MEDIA_TYPE,
        }
    }
    /// Layer media types accepted when fetching.
    pub fn accepted_media_types(self) -> &'static [&'static str] {
        match self {
            ArtifactKind::Actor => &[WASM_MEDIA_TYPE, OCI_TAR_MEDIA_TYPE],
            ArtifactKind::ProviderArchive => &[PROVIDER_ARCHIVE_MEDIA_TYPE],
        }
    }
    fn describe(self) -> &'static str {
        match self {
            ArtifactKind::Actor => "an actor module",
            ArtifactKind::ProviderArchive => "a provider archive",
        }
    }
}

/// Options of [`push`].
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// Talk plain HTTP to the registry.
    pub insecure: bool,
    /// Basic-auth user name; with `password`. Anonymous when absent.
    pub username: Option<String>,
    /// Basic-auth password.
    pub password: Option<String>,
}

/// Publishes `data` (an actor module or a provider archive) at `reference` with the media types of
/// `kind`; returns the manifest URL. Used by `wasmhost push`.
pub async fn push(reference: &str, data: Vec<u8>, kind: ArtifactKind, options: &PushOptions) -> Result<String> {
    let parsed = self::reference::parse(reference)?;
    let auth = match (&options.username, &options.password) {
        (Some(u), Some(p)) => oci_client::secrets::RegistryAuth::Basic(u.clone(), p.clone()),
        (None, None) => oci_client::secrets::RegistryAuth::Anonymous,
        _ => return Err(Error::invalid("give both a user name and a password, or neither")),
    };
    RegistryClient::new(parsed, reference, auth, options.insecure).push(data, kind).await
}

/// rustls is built without a default crypto provider (no aws-lc C build); use ring, once per process.
/// If the embedding application installed another provider first, that one stays.
pub(crate) fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The OCI state of one host: rules, credentials, cache, refmaps.
pub(crate) struct OciStore {
    allow_latest: bool,
    allowed_insecure: Vec<String>,
    max_artifact_bytes: u64,
    cache: BlobCache,
    credentials: CredentialStore,
    refmaps: RwLock<HashMap<String, String>>,
}

impl OciStore {
    pub(crate) fn new(config: &HostConfig) -> Self {
        let dir = config.oci_cache_dir.clone().unwrap_or_else(cache::default_dir);
        OciStore {
            allow_latest: config.oci_allow_latest,
            allowed_insecure: config.oci_allowed_insecure.clone(),
            max_artifact_bytes: config.oci_max_artifact_bytes,
            cache: BlobCache::new(dir, config.oci_cache_max_bytes),
            credentials: CredentialStore::default(),
            refmaps: RwLock::new(HashMap::new()),
        }
    }

    /// Fetches the artifact of `kind` at `reference`: from the cache when the registry names a
    /// layer we hold (or, for digest-pinned references, without asking the registry at all), else
    /// from the registry; when the registry cannot be reached, the last cached resolution is used.
    pub(crate) async fn fetch(&self, reference: &str, kind: ArtifactKind) -> Result<Bytes> {
        let parsed = self::reference::parse(reference)?;
        self::reference::check_latest(&parsed, reference, self.allow_latest)?;
        let key = parsed.whole();
        if parsed.digest().is_some() {
            if let Some(bytes) = self.cached(&key, kind).await {
                tracing::debug!(reference, "digest-pinned reference served from the OCI cache");
                return Ok(bytes);
            }
        }
        let insecure = self::reference::is_insecure_allowed(parsed.registry(), &self.allowed_insecure);
        let auth = self.credentials.auth_for(parsed.registry(), reference, &EnvCredentials::from_process_env());
        let client = RegistryClient::new(parsed, reference, auth, insecure);
        let (manifest_digest, layer) = match client.resolve(kind, self.max_artifact_bytes).await {
            Ok(resolved) => resolved,
            Err(failure) if failure.unreachable => {
                return match self.cached(&key, kind).await {
                    Some(bytes) => {
                        tracing::warn!(reference, error = %failure.error, "registry unreachable; using the cached copy");
                        Ok(bytes)
                    }
                    None => Err(failure.error),
                };
            }
            Err(failure) => return Err(failure.error),
        };
        let data = match self.blocking({
            let digest = layer.digest.clone();
            move |c| c.get(&digest)
        })
        .await
        {
            Some(data) => data,
            None => {
                let data = client.download(&layer, self.max_artifact_bytes).await.map_err(|f| f.error)?;
                let (digest, copy) = (layer.digest.clone(), data.clone());
                if let Err(e) = self.blocking(move |c| c.put(&digest, &copy)).await {
                    tracing::warn!(reference, error = %e, "cannot write to the OCI cache");
                }
                data
            }
        };
        let entry = RefEntry { reference: key, manifest_digest, layer_digest: layer.digest, media_type: layer.media_type };
        if let Err(e) = self.blocking(move |c| c.put_ref(&entry)).await {
            tracing::warn!(reference, error = %e, "cannot record the reference in the OCI cache");
        }
        Ok(Bytes::from(data))
    }

    /// The cached artifact `key` last resolved to, if it is of `kind` and still present.
    async fn cached(&self, key: &str, kind: ArtifactKind) -> Option<Bytes> {
        let key = key.to_string();
        let accepted = kind.accepted_media_types();
        self.blocking(move |c| {
            let entry = c.get_ref(&key)?;
            if !accepted.contains(&entry.media_type.as_str()) {
                return None;
            }
            c.get(&entry.layer_digest)
        })
        .await
        .map(Bytes::from)
    }

    /// Runs blocking cache I/O off the async worker threads.
    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce(&BlobCache) -> T + Send + 'static) -> T {
        let cache = self.cache.clone();
        match tokio::task::spawn_blocking(move || f(&cache)).await {
            Ok(value) => value,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

impl Host {
    /// Merges registry credentials, as the control interface's `registries.put` does: keyed by
    /// server (scheme and path stripped), only entries with a `registryType` and a secret; OCI
    /// fetches use entries whose `registryType` is `"oci"`. Returns how many entries were kept.
    pub fn put_registry_credentials(&self, credentials: RegistryCredentialMap) -> usize {
        self.inner.oci.credentials.merge(credentials)
    }

    /// Fetches a provider archive by OCI reference (same rules, credentials and cache as actors)
    /// and verifies it: claims signature and every binary's signed SHA-256.
    pub async fn fetch_provider_archive(&self, reference: &str) -> Result<ProviderArchive> {
        let bytes = self.inner.oci.fetch(reference, ArtifactKind::ProviderArchive).await?;
        match tokio::task::spawn_blocking(move || ProviderArchive::parse(&bytes).map_err(Error::from)).await {
            Ok(result) => result.map_err(|e| Error::new(e.kind(), format!("provider archive `{reference}`: {}", e.message()))),
            Err(e) => Err(Error::internal(format!("provider archive check failed: {e}"))),
        }
    }

    /// References this host started something from, with the public key each resolved to.
    pub fn refmaps(&self) -> HashMap<String, String> {
        self.inner.oci.refmaps.read().clone()
    }

    /// The directory of the OCI cache this host uses.
    pub fn oci_cache_dir(&self) -> PathBuf {
        self.inner.oci.cache.root().to_path_buf()
    }

    /// Fetches an actor module by reference (called by `load_module`).
    pub(crate) async fn fetch_actor_module(&self, reference: &str) -> Result<Bytes> {
        self.inner.oci.fetch(reference, ArtifactKind::Actor).await
    }

    /// Records that `reference` resolved to `public_key` and publishes `refmap_set`.
    pub(crate) fn record_refmap(&self, reference: &str, public_key: &str) {
        self.inner.oci.refmaps.write().insert(reference.to_string(), public_key.to_string());
        self.inner.events.publish(wasmhost_protocol::events::REFMAP_SET, json!({"oci_url": reference, "public_key": public_key}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_detected_from_bytes() {
        assert_eq!(ArtifactKind::detect(b"\0asm\x01\0\0\0"), Some(ArtifactKind::Actor));
        assert_eq!(ArtifactKind::detect(&[0x1f, 0x8b, 8, 0]), Some(ArtifactKind::ProviderArchive));
        assert_eq!(ArtifactKind::detect(b"hello"), None);
        assert!(ArtifactKind::Actor.accepted_media_types().contains(&OCI_TAR_MEDIA_TYPE));
        assert!(!ArtifactKind::ProviderArchive.accepted_media_types().contains(&WASM_MEDIA_TYPE));
    }
}
