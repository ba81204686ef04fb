//! What a provider process needs before it starts: its binary on disk and its HostData.

use std::path::PathBuf;

use wasmhost_protocol::host_data::HostData;

use super::RunningProvider;
use crate::host::HostInner;
use crate::provider_archive::ProviderArchive;
use crate::{Error, ErrorKind, Result};

/// Writes this machine's binary to `{cache}/{provider key}/{revision}/{contract}_{link name}` (the
/// OTP host's layout, LATTICE.md §4.1) unless an identical file is already there, and returns its
/// path. Writing runs on a blocking thread: binaries are megabytes.
pub(crate) async fn extract_binary(
    inner: &HostInner,
    archive: &ProviderArchive,
    link_name: &str,
) -> Result<PathBuf> {
    let revision = archive
        .claims()
        .wascap
        .as_ref()
        .and_then(|w| w.rev)
        .unwrap_or(0);
    let dir = cache_root(inner)
        .join(archive.public_key())
        .join(revision.to_string());
    let file = format!(
        "{}_{}",
        sanitize(archive.contract_id()),
        sanitize(link_name)
    );
    let path = dir.join(file);
    let binary = archive.native_binary()?.to_vec();
    let target = path.clone();
    tokio::task::spawn_blocking(move || {
        crate::provider_archive::write_executable(&target, &binary)
    })
    .await
    .map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("binary extraction task failed: {e}"),
        )
    })??;
    Ok(path)
}

fn cache_root(inner: &HostInner) -> PathBuf {
    inner
        .config
        .provider_cache_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("wasmcloudcache"))
}

/// Lowercase, non-alphanumerics to `_` (as the OTP host names cached binaries).
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The HostData of LATTICE.md §4.1 for one process of `provider`: the links known for its key and
/// link name now (a restarted process gets the current ones), and a fresh instance id.
pub(crate) fn host_data(
    inner: &HostInner,
    provider: &RunningProvider,
    instance_id: &str,
) -> Result<HostData> {
    let nats = inner
        .config
        .nats
        .as_ref()
        .ok_or_else(|| Error::invalid("capability providers need a NATS lattice"))?;
    let cluster_seed = inner
        .cluster_key
        .seed()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("cluster key has no seed: {e}")))?;
    let link_definitions = inner
        .links
        .for_provider(&provider.public_key, &provider.link_name);
    let mut data = HostData {
        host_id: inner.id.clone(),
        lattice_rpc_prefix: inner.config.lattice.clone(),
        link_name: provider.link_name.clone(),
        provider_key: provider.public_key.clone(),
        invocation_seed: cluster_seed,
        env_values: Default::default(),
        instance_id: instance_id.to_string(),
        link_definitions,
        cluster_issuers: inner.cluster_issuers.clone(),
        config_json: Some(provider.config_json.clone()),
        default_rpc_timeout_ms: Some(inner.config.rpc_timeout.as_millis() as u64),
        js_domain: nats.js_domain.clone(),
        ..Default::default()
    };
    // Servers, credentials (a creds file as its JWT and seed) and TLS of the provider connection.
    wasmhost_nats::write_host_data(&nats.prov_rpc, &mut data)?;
    data.set_structured_logging(inner.config.structured_logging);
    Ok(data)
}
