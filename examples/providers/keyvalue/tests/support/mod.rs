//! Shared by `tests/with_host.rs` and `benches/kvcounter_rps.rs`: this provider's binary packed
//! into a signed archive, a host joined to a real nats-server with it, and the kvcounter actor's
//! `HttpServer.HandleRequest` call.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use nkeys::KeyPair;
use wasmhost::protocol::http::{HttpRequest, HttpResponse};
use wasmhost::protocol::rpc::LinkDefinition;
use wasmhost::provider_archive::{create_archive, native_target, ProviderArchiveSpec};
use wasmhost::{ActorSource, Host, HostConfig, ProviderSource};

pub use wasmhost_provider::testing::NatsServer;

/// The kvcounter actor's public key (examples/actors/kvcounter.wasm).
pub const KVCOUNTER: &str = "MABWSXVV2I2WPASLBEHAE74QWHZIMUKFFBAOJWJEXOYVGLAHFXLXK4M6";
pub const CONTRACT: &str = "wasmcloud:keyvalue";

/// The provider binary cargo built for this test or bench.
const BIN: &str = env!("CARGO_BIN_EXE_wasmhost-keyvalue");

/// A signed archive of this provider, built once per process.
pub struct Archive {
    pub bytes: Vec<u8>,
    pub public_key: String,
}

/// Packs the binary into a signed archive once per process, kept in memory (gzip of a debug
/// binary of ~110 MB takes a few seconds).
pub fn archive() -> &'static Archive {
    static ARCHIVE: OnceLock<Archive> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let binary = std::fs::read(BIN).unwrap_or_else(|e| panic!("read {BIN}: {e}"));
        let (issuer, subject) = (KeyPair::new_account(), KeyPair::new_service());
        let spec = ProviderArchiveSpec {
            capid: CONTRACT.into(),
            name: Some("wasmhost-keyvalue".into()),
            vendor: "wasmhost".into(),
            rev: Some(1),
            ver: Some("0.1.0".into()),
            binaries: BTreeMap::from([(native_target(), binary)]),
        };
        let bytes = create_archive(&spec, &issuer, &subject).expect("create the provider archive");
        Archive {
            bytes,
            public_key: subject.public_key(),
        }
    })
}

/// A fresh directory under the system temp dir, unique to this process and `name`.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmhost-kv-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A host on `nats` in a lattice of its own, caching provider binaries in `cache`, with fast
/// health checks and `rpc_timeout`.
pub fn host_config(nats: &NatsServer, cache: PathBuf, rpc_timeout: Duration) -> HostConfig {
    let lattice = format!(
        "kv{}",
        &KeyPair::new_user().public_key()[1..9].to_lowercase()
    );
    let mut config = HostConfig::default()
        .with_lattice(lattice)
        .with_nats_url(&nats.url())
        .expect("nats url");
    config.cluster_seed = Some(KeyPair::new_cluster().seed().unwrap());
    config.provider_cache_dir = Some(cache);
    config.provider_shutdown_delay = Duration::from_millis(500);
    // Start-up window: probed every 250 ms until the first answer (a debug binary of ~110 MB
    // takes a moment to start on a loaded machine).
    config.provider_health_check_delay = Duration::from_secs(15);
    config.provider_health_check_interval = Duration::from_millis(500);
    config.rpc_timeout = rpc_timeout;
    config
}

pub fn kvcounter_source() -> ActorSource {
    ActorSource::File(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../actors/kvcounter.wasm"))
}

pub fn provider_source() -> ProviderSource {
    ProviderSource::from(archive().bytes.clone())
}

/// kvcounter's `default` key-value link to `provider` (no `URL`: the in-memory store).
pub fn kv_link(provider: &str) -> LinkDefinition {
    LinkDefinition {
        actor_id: KVCOUNTER.into(),
        provider_id: provider.into(),
        link_name: "default".into(),
        contract_id: CONTRACT.into(),
        // No values: no `URL`, so the in-memory store.
        ..Default::default()
    }
}

/// `HttpServer.HandleRequest` for `GET path`, msgpack-encoded.
pub fn request(path: &str) -> Vec<u8> {
    HttpRequest {
        method: "GET".into(),
        path: path.into(),
        ..Default::default()
    }
    .encode()
}

/// One kvcounter request: `Ok(counter)` on a 200 `{"counter":N}`, else the error as text (a
/// failed `call_actor`, or the 500 body the actor answers when its host call fails).
pub async fn count(host: &Host, path: &str) -> Result<i64, String> {
    let reply = host
        .call_actor(KVCOUNTER, "HttpServer.HandleRequest", request(path))
        .await
        .map_err(|e| format!("call_actor: {e}"))?;
    let response =
        HttpResponse::decode(&reply).map_err(|e| format!("reply is not an HttpResponse: {e}"))?;
    let body = String::from_utf8_lossy(&response.body).into_owned();
    if response.status_code != 200 {
        return Err(format!("status {}: {body}", response.status_code));
    }
    let json: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("body {body}: {e}"))?;
    json["counter"]
        .as_i64()
        .ok_or_else(|| format!("no counter in {body}"))
}
