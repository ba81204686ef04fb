//! One conversation with a registry through `oci-client`: resolve a reference to its artifact
//! layer, download a layer with a size bound, push an artifact.

use std::time::Duration;

use futures::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::errors::{describe, Context, RegistryFailure};
use super::ArtifactKind;
use crate::{Error, ErrorKind};

/// A client for one reference with its credentials. A fresh `oci_client::Client` per use: the
/// client remembers the first credentials it saw per registry, and ours can change at runtime.
pub(crate) struct RegistryClient {
    client: Client,
    reference: Reference,
    original: String,
    auth: RegistryAuth,
    insecure: bool,
    pushing: bool,
}

impl RegistryClient {
    pub(crate) fn new(
        reference: Reference,
        original: &str,
        auth: RegistryAuth,
        insecure: bool,
    ) -> Self {
        super::install_crypto_provider();
        let protocol = if insecure {
            ClientProtocol::HttpsExcept(vec![reference.resolve_registry().to_string()])
        } else {
            ClientProtocol::Https
        };
        let config = ClientConfig {
            protocol,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            ..Default::default()
        };
        RegistryClient {
            client: Client::new(config),
            reference,
            original: original.to_string(),
            auth,
            insecure,
            pushing: false,
        }
    }

    fn failure(&self, e: oci_client::errors::OciDistributionError) -> RegistryFailure {
        describe(
            e,
            &Context {
                reference: &self.original,
                registry: self.reference.registry(),
                insecure: self.insecure,
                anonymous: matches!(self.auth, RegistryAuth::Anonymous),
                push: self.pushing,
            },
        )
    }

    fn plain(&self, error: Error) -> RegistryFailure {
        RegistryFailure {
            error,
            unreachable: false,
        }
    }

    /// Pulls the manifest and picks the one layer `kind` accepts; returns (manifest digest, layer).
    pub(crate) async fn resolve(
        &self,
        kind: ArtifactKind,
        max_bytes: u64,
    ) -> Result<(String, OciDescriptor), RegistryFailure> {
        let (manifest, digest) = self
            .client
            .pull_image_manifest(&self.reference, &self.auth)
            .await
            .map_err(|e| self.failure(e))?;
        let layer = select_layer(&manifest, kind).map_err(|msg| {
            self.plain(Error::invalid(format!(
                "`{}` is not {}: {msg}",
                self.original,
                kind.describe()
            )))
        })?;
        if layer.size < 0 || layer.size as u64 > max_bytes {
            return Err(self.plain(Error::invalid(format!(
                "`{}` is {} bytes, larger than the {max_bytes} bytes this host accepts (HostConfig::oci_max_artifact_bytes)",
                self.original, layer.size
            ))));
        }
        Ok((digest, layer))
    }

    /// Downloads `layer`, stopping as soon as it exceeds `max_bytes`, and checks its digest.
    pub(crate) async fn download(
        &self,
        layer: &OciDescriptor,
        max_bytes: u64,
    ) -> Result<Vec<u8>, RegistryFailure> {
        let mut stream = self
            .client
            .pull_blob_stream(&self.reference, layer)
            .await
            .map_err(|e| self.failure(e))?;
        let mut data = Vec::with_capacity(layer.size.clamp(0, 64 << 20) as usize);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                // oci-client checks the digest as the stream ends and reports a mismatch as an I/O error.
                let mismatch = e.get_ref().is_some_and(|inner| inner.is::<oci_client::errors::DigestError>() || inner.to_string().contains("Invalid digest"));
                let message = if mismatch {
                    format!("digest mismatch for `{}`: the registry sent bytes that do not hash to {} ({e})", self.original, layer.digest)
                } else {
                    format!("download of `{}` was interrupted: {e}", self.original)
                };
                self.plain(Error::new(ErrorKind::Transport, message))
            })?;
            if (data.len() + chunk.len()) as u64 > max_bytes {
                return Err(self.plain(Error::invalid(format!(
                    "`{}` is larger than the {max_bytes} bytes this host accepts (HostConfig::oci_max_artifact_bytes)",
                    self.original
                ))));
            }
            data.extend_from_slice(&chunk);
        }
        let actual = super::cache::sha256_digest(&data);
        if actual != layer.digest {
            return Err(self.plain(Error::new(
                ErrorKind::Transport,
                format!("digest mismatch for `{}`: the manifest names {}, the registry sent bytes hashing to {actual}", self.original, layer.digest),
            )));
        }
        Ok(data)
    }

    /// Pushes `data` as a one-layer artifact of `kind`; returns the manifest URL.
    pub(crate) async fn push(mut self, data: Vec<u8>, kind: ArtifactKind) -> Result<String, Error> {
        self.pushing = true;
        let layer = ImageLayer::new(data, kind.layer_media_type().to_string(), None);
        let config = Config::new(b"{}".to_vec(), kind.config_media_type().to_string(), None);
        let manifest = OciImageManifest::build(std::slice::from_ref(&layer), &config, None);
        let response = self
            .client
            .push(
                &self.reference,
                &[layer],
                config,
                &self.auth,
                Some(manifest),
            )
            .await
            .map_err(|e| self.failure(e).error)?;
        Ok(response.manifest_url)
    }
}

/// The layer of `manifest` that holds an artifact of `kind`, or why there is none.
fn select_layer(manifest: &OciImageManifest, kind: ArtifactKind) -> Result<OciDescriptor, String> {
    let accepted = kind.accepted_media_types();
    let mut matching = manifest
        .layers
        .iter()
        .filter(|l| accepted.contains(&l.media_type.as_str()));
    match (matching.next(), matching.next()) {
        (Some(layer), None) => Ok(layer.clone()),
        (Some(_), Some(_)) => Err(format!(
            "the manifest has several {} layers; expected exactly one",
            kind.describe()
        )),
        (None, _) => {
            let found: Vec<&str> = manifest
                .layers
                .iter()
                .map(|l| l.media_type.as_str())
                .collect();
            Err(format!(
                "wrong media type: its layers are [{}], expected one of [{}]",
                found.join(", "),
                accepted.join(", ")
            ))
        }
    }
}
