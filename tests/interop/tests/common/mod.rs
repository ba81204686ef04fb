//! Helpers shared by the integration tests that drive `wasmhost up` with the 2022 crates
//! (`mod common;` in each test file). They use the 2022 crates, which are dev-dependencies,
//! so they live here rather than in `src/lib.rs` (process fixtures and `Steps`).
//!
//! Each test file uses only some of them.
#![allow(dead_code)]

use cloudevents::{AttributesReader, Data, Event};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wascap::prelude::KeyPair;
use wasmbus_rpc::common::Message;
use wasmbus_rpc::core::WasmCloudEntity;
use wasmbus_rpc::rpc_client::RpcClient;
use wasmcloud_control_interface::Client;
use wasmhost_interop::{repo_root, HostProcess, Steps};

/// How long to wait for asynchronous effects (actor and provider starts in a debug build,
/// scaling, the first health check at ~5 s, events, exits).
pub const SETTLE: Duration = Duration::from_secs(30);

// ---- wire structs of the 2022 interfaces ----

/// `HttpRequest` of wasmcloud-interface-httpserver 0.8 (the same serde shape).
#[derive(Serialize)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    #[serde(rename = "queryString")]
    pub query_string: String,
    pub header: HashMap<String, Vec<String>>,
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
}

/// `HttpResponse` of wasmcloud-interface-httpserver 0.8.
#[derive(Deserialize)]
pub struct HttpResponse {
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
}

// ---- example actors ----

/// An example actor: its `file://` reference and its public key.
pub struct ExampleActor {
    pub reference: String,
    pub key: String,
}

/// The `file://` reference of `examples/actors/{name}.wasm`.
pub fn example_actor_ref(name: &str) -> String {
    format!(
        "file://{}",
        repo_root()
            .join(format!("examples/actors/{name}.wasm"))
            .display()
    )
}

/// Reads the actor's key from its token with wascap 0.8's JWT decoder (the module-hash
/// check of `extract_claims` is the subject of `wascap_08.rs`, not of these tests).
pub fn example_actor(name: &str) -> ExampleActor {
    let path = repo_root().join(format!("examples/actors/{name}.wasm"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let module: parity_wasm::elements::Module =
        parity_wasm::deserialize_buffer(&bytes).expect("a wasm module");
    let section = module
        .custom_sections()
        .find(|s| s.name() == "jwt")
        .expect("the actor is signed");
    let jwt = std::str::from_utf8(section.payload()).expect("utf-8 token");
    let claims = wascap::jwt::Claims::<wascap::jwt::Actor>::decode(jwt)
        .expect("wascap 0.8 decodes the token");
    ExampleActor {
        reference: format!("file://{}", path.display()),
        key: claims.subject,
    }
}

// ---- lifecycle events ----

/// Every lifecycle event the client's `events_receiver` delivered, in order.
#[derive(Clone, Default)]
pub struct EventLog(Arc<Mutex<Vec<Event>>>);

/// An event's data as JSON, whatever form it came in.
fn event_json(event: &Event) -> Option<serde_json::Value> {
    match event.data() {
        Some(Data::Json(v)) => Some(v.clone()),
        Some(Data::String(s)) => serde_json::from_str(s).ok(),
        Some(Data::Binary(b)) => serde_json::from_slice(b).ok(),
        None => None,
    }
}

impl EventLog {
    pub fn start(mut receiver: tokio::sync::mpsc::Receiver<Event>) -> EventLog {
        let log = EventLog::default();
        let sink = log.clone();
        tokio::spawn(async move {
            while let Some(event) = receiver.recv().await {
                sink.0.lock().unwrap().push(event);
            }
        });
        log
    }

    /// Waits until `count` events of `kind` (short type) satisfy `matches` on their data.
    pub async fn wait_for(
        &self,
        kind: &str,
        count: usize,
        matches: impl Fn(&serde_json::Value) -> bool,
    ) -> Result<Vec<serde_json::Value>, String> {
        let full_type = format!("com.wasmcloud.lattice.{kind}");
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            let found: Vec<serde_json::Value> = self
                .0
                .lock()
                .unwrap()
                .iter()
                .filter(|e| e.ty() == full_type)
                .filter_map(event_json)
                .filter(|data| matches(data))
                .collect();
            if found.len() >= count {
                return Ok(found);
            }
            if tokio::time::Instant::now() > deadline {
                let seen: Vec<String> = self
                    .0
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        e.ty()
                            .trim_start_matches("com.wasmcloud.lattice.")
                            .to_string()
                    })
                    .collect();
                return Err(format!(
                    "{count} {kind} event(s) expected, {} matched within {SETTLE:?}; events seen: {seen:?}",
                    found.len()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The events of `kind` seen so far (data only, JSON data only).
    pub fn of_kind(&self, kind: &str) -> Vec<serde_json::Value> {
        let full_type = format!("com.wasmcloud.lattice.{kind}");
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.ty() == full_type)
            .filter_map(|e| match e.data() {
                Some(Data::Json(v)) => Some(v.clone()),
                _ => None,
            })
            .collect()
    }

    /// Is every event's source `host_id`?
    pub fn sources_are(&self, host_id: &str) -> Result<(), String> {
        let events = self.0.lock().unwrap();
        match events.iter().find(|e| e.source().as_str() != host_id) {
            Some(e) => Err(format!(
                "event {} has source {}, not the host id",
                e.ty(),
                e.source()
            )),
            None => Ok(()),
        }
    }
}

// ---- the control client ----

/// Connects to `nats_url` and opens the 2022 control client on `lattice`, with its event log.
pub async fn connect_client(
    nats_url: String,
    lattice: &str,
) -> (async_nats::Client, Client, EventLog) {
    let nats = async_nats::connect(nats_url)
        .await
        .expect("connect to nats-server");
    let client = Client::new(
        nats.clone(),
        Some(lattice.to_string()),
        Duration::from_secs(5),
        Duration::from_secs(1),
    );
    let events = EventLog::start(client.events_receiver().await.expect("events_receiver"));
    (nats, client, events)
}

/// Polls `get_hosts` until it lists one host that `fits` (an empty list is polled again until
/// `SETTLE`); that host.
pub async fn one_host(
    client: &Client,
    fits: impl Fn(&wasmcloud_control_interface::Host) -> bool,
) -> Result<wasmcloud_control_interface::Host, String> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let hosts = client.get_hosts().await.map_err(|e| e.to_string())?;
        match hosts.as_slice() {
            [one] if fits(one) => return Ok(one.clone()),
            [] if tokio::time::Instant::now() < deadline => continue,
            other => return Err(format!("expected one host, got {other:?}")),
        }
    }
}

/// The first step, "get_hosts discovers the host" (see `one_host`): the host's id. If it
/// fails, every other step is reported blocked by it and `steps` finish (failing the test with
/// the host's log).
pub async fn discover_host(
    steps: &mut Steps,
    client: &Client,
    host: &HostProcess,
    fits: impl Fn(&wasmcloud_control_interface::Host) -> bool,
) -> Option<String> {
    let host_id = steps
        .run("get_hosts discovers the host", one_host(client, fits))
        .await
        .map(|h| h.id);
    if host_id.is_none() {
        steps.blocked("everything else", "get_hosts discovers the host");
        std::mem::take(steps).finish(&host.log_text());
    }
    host_id
}

/// A control operation's ack as a step result: `Ok` if the host accepted it.
pub fn accepted(
    ack: Result<
        wasmcloud_control_interface::CtlOperationAck,
        Box<dyn std::error::Error + Send + Sync>,
    >,
) -> Result<(), String> {
    let ack = ack.map_err(|e| e.to_string())?;
    if ack.accepted {
        Ok(())
    } else {
        Err(format!("refused: {}", ack.error))
    }
}

/// How many instances of `actor` the host's inventory lists (0 = absent).
pub async fn instances(client: &Client, host: &str, actor: &str) -> Result<usize, String> {
    let inventory = client
        .get_host_inventory(host)
        .await
        .map_err(|e| e.to_string())?;
    Ok(inventory
        .actors
        .iter()
        .find(|a| a.id == actor)
        .map(|a| a.instances.len())
        .unwrap_or(0))
}

/// Polls the host's inventory until `actor` runs `count` instances (0 = absent).
pub async fn wait_for_instances(
    client: &Client,
    host: &str,
    actor: &str,
    count: usize,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let running = instances(client, host, actor).await?;
        if running == count {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "{actor} runs {running} instance(s), expected {count}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits up to `SETTLE` for the host process to exit; `Ok` if it exited successfully.
pub fn host_exited(host: &mut HostProcess) -> Result<(), String> {
    match tokio::task::block_in_place(|| host.wait_for_exit(SETTLE)) {
        Some(status) if status.success() => Ok(()),
        Some(status) => Err(format!("the host exited with {status}")),
        None => Err(format!("the host still runs {SETTLE:?} after stop_host")),
    }
}

// ---- RPC with wasmbus-rpc's own client ----

/// wasmbus-rpc's `RpcClient`, signing invocations with `cluster`, as a fresh host id.
pub fn rpc_client(nats: &async_nats::Client, cluster: &KeyPair) -> Result<RpcClient, String> {
    let seed = cluster.seed().map_err(|e| e.to_string())?;
    let key = Arc::new(KeyPair::from_seed(&seed).map_err(|e| e.to_string())?);
    let host_id = KeyPair::new_server().public_key();
    Ok(RpcClient::new(
        nats.clone(),
        host_id,
        Some(Duration::from_secs(10)),
        key,
    ))
}

/// An actor as the target (or origin) of an invocation.
pub fn actor_entity(key: &str) -> WasmCloudEntity {
    WasmCloudEntity {
        public_key: key.to_string(),
        link_name: String::new(),
        contract_id: String::new(),
    }
}

/// An httpserver provider `key` (link `default`) as the origin of an invocation.
pub fn httpserver_origin(key: &str) -> WasmCloudEntity {
    WasmCloudEntity {
        public_key: key.into(),
        link_name: "default".into(),
        contract_id: "wasmcloud:httpserver".into(),
    }
}

/// Sends one invocation `method(arg)` from `origin` to `target` on `lattice`; the reply.
pub async fn send(
    rpc: &RpcClient,
    origin: WasmCloudEntity,
    target: WasmCloudEntity,
    lattice: &str,
    method: &str,
    arg: Vec<u8>,
) -> Result<Vec<u8>, String> {
    rpc.send(
        origin,
        target,
        lattice,
        Message {
            method,
            arg: Cow::Owned(arg),
        },
    )
    .await
    .map_err(|e| e.to_string())
}
