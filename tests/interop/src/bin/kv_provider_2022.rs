//! A capability provider written against the 2022 provider SDK, **wasmbus-rpc 0.11.2**, the
//! way providers of that era were: `provider_main` reads the HostData line from stdin, connects
//! to NATS, subscribes to the RPC / linkdefs / health / shutdown subjects and runs until the
//! host asks it to shut down. Nothing here knows about our host.
//!
//! Contract `wasmcloud:keyvalue`, dispatched by hand (no codegen, no interface crate), over an
//! in-memory map shared by all linked actors:
//! * `KeyValue.Increment`: msgpack `IncrementRequest {key, value}` → msgpack i32 (the new value);
//! * `KeyValue.Set`: msgpack `SetRequest {key, value, expires}` → nothing (msgpack nil);
//! * `KeyValue.Get`: msgpack str key → msgpack `GetResponse {value, exists}`.
//!
//! Introspection for the interop test (through `KeyValue.Get`, so a plain 2022 client can read it):
//! * key `__link:{actor_id}` → JSON `{"source":"host_data"|"linkdefs.put","values":{..}}` of the
//!   link the provider holds for that actor (`exists: false` if none);
//! * key `__host_data` → JSON `{"link_name","config_json","host_id","links":[actor ids]}` as
//!   received on stdin.
//!
//! `lp` configuration (HostData `config_json`), optional JSON: `{"shutdown_delay_ms": N}` makes
//! `shutdown()` take N ms, like a provider that closes its connections before it acknowledges.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use wasmbus_rpc::common::{deserialize, serialize};
use wasmbus_rpc::core::HostData;
use wasmbus_rpc::provider::prelude::*;

/// `IncrementRequest` of wasmcloud-interface-keyvalue 0.7 (same serde shape).
#[derive(Deserialize)]
struct IncrementRequest {
    key: String,
    value: i32,
}

/// `SetRequest` of wasmcloud-interface-keyvalue 0.7 (same serde shape).
#[derive(Deserialize)]
struct SetRequest {
    key: String,
    value: String,
    #[serde(default)]
    #[allow(dead_code)]
    expires: u32,
}

/// `GetResponse` of wasmcloud-interface-keyvalue 0.7.
#[derive(Serialize)]
struct GetResponse {
    value: String,
    exists: bool,
}

#[derive(Default)]
struct State {
    values: HashMap<String, String>,
    /// actor id → (how the link arrived, its values).
    links: HashMap<String, (String, HashMap<String, String>)>,
    /// actor ids of the links that came in HostData (put_link is called for them first).
    initial: HashSet<String>,
    /// `shutdown_delay_ms` of the `lp` configuration (config_json): how long shutdown() takes,
    /// like a provider that flushes or closes connections before it lets the host go on.
    shutdown_delay: std::time::Duration,
    host_data: serde_json::Value,
}

#[derive(Clone, Default)]
struct KvProvider {
    state: Arc<Mutex<State>>,
}

impl ProviderDispatch for KvProvider {}

#[async_trait]
impl ProviderHandler for KvProvider {
    async fn put_link(&self, ld: &LinkDefinition) -> RpcResult<bool> {
        let mut state = self.state.lock().unwrap();
        // provider_run calls put_link for every HostData link before subscribing, so a link is
        // "from HostData" the first time it is put if it was listed there.
        let source = if state.initial.remove(&ld.actor_id) {
            "host_data"
        } else {
            "linkdefs.put"
        };
        eprintln!(
            "kv_provider_2022: put_link actor {} link {} contract {} via {source} values {:?}",
            ld.actor_id, ld.link_name, ld.contract_id, ld.values
        );
        state
            .links
            .insert(ld.actor_id.clone(), (source.to_string(), ld.values.clone()));
        Ok(true)
    }

    async fn delete_link(&self, actor_id: &str) {
        eprintln!("kv_provider_2022: delete_link actor {actor_id}");
        self.state.lock().unwrap().links.remove(actor_id);
    }

    async fn shutdown(&self) -> Result<(), std::convert::Infallible> {
        let delay = self.state.lock().unwrap().shutdown_delay;
        eprintln!("kv_provider_2022: shutdown (taking {delay:?})");
        tokio::time::sleep(delay).await;
        let mut state = self.state.lock().unwrap();
        state.links.clear();
        state.values.clear();
        eprintln!("kv_provider_2022: shutdown done");
        Ok(())
    }
}

#[async_trait]
impl MessageDispatch for KvProvider {
    async fn dispatch(&self, ctx: &Context, message: Message<'_>) -> Result<Vec<u8>, RpcError> {
        match message.method {
            "KeyValue.Increment" => {
                let req: IncrementRequest = deserialize(&message.arg)?;
                let mut state = self.state.lock().unwrap();
                let current = match state.values.get(&req.key) {
                    None => 0,
                    Some(v) => v.parse::<i32>().map_err(|e| {
                        RpcError::InvalidParameter(format!(
                            "value of {} is not a number: {e}",
                            req.key
                        ))
                    })?,
                };
                let new = current + req.value;
                state.values.insert(req.key.clone(), new.to_string());
                eprintln!(
                    "kv_provider_2022: Increment {} by {} = {new} (actor {:?})",
                    req.key, req.value, ctx.actor
                );
                serialize(&new)
            }
            "KeyValue.Set" => {
                let req: SetRequest = deserialize(&message.arg)?;
                eprintln!(
                    "kv_provider_2022: Set {} ({} bytes)",
                    req.key,
                    req.value.len()
                );
                self.state.lock().unwrap().values.insert(req.key, req.value);
                serialize(&())
            }
            "KeyValue.Get" => {
                let key: String = deserialize(&message.arg)?;
                let state = self.state.lock().unwrap();
                let found = if let Some(actor) = key.strip_prefix("__link:") {
                    state.links.get(actor).map(|(source, values)| {
                        serde_json::json!({ "source": source, "values": values }).to_string()
                    })
                } else if key == "__host_data" {
                    Some(state.host_data.to_string())
                } else {
                    state.values.get(&key).cloned()
                };
                serialize(&GetResponse {
                    exists: found.is_some(),
                    value: found.unwrap_or_default(),
                })
            }
            other => Err(RpcError::MethodNotHandled(format!(
                "kv_provider_2022: {other}"
            ))),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    eprintln!("kv_provider_2022: starting (wasmbus-rpc 0.11.2 provider_main)");
    // provider_main reads stdin through load_host_data, which caches the first read: reading it
    // here first shows what the host sent, and provider_main then gets the same HostData.
    let host_data: HostData = load_host_data()?;
    let provider = KvProvider::default();
    {
        let mut state = provider.state.lock().unwrap();
        let links: Vec<&str> = host_data
            .link_definitions
            .iter()
            .map(|l| l.actor_id.as_str())
            .collect();
        eprintln!(
            "kv_provider_2022: HostData provider {} link {} host {} lattice {} url {} links {links:?}",
            host_data.provider_key,
            host_data.link_name,
            host_data.host_id,
            host_data.lattice_rpc_prefix,
            host_data.lattice_rpc_url
        );
        state.initial = links.iter().map(|s| s.to_string()).collect();
        let config: serde_json::Value = host_data
            .config_json
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default();
        state.shutdown_delay =
            std::time::Duration::from_millis(config["shutdown_delay_ms"].as_u64().unwrap_or(0));
        state.host_data = serde_json::json!({
            "link_name": host_data.link_name,
            "config_json": host_data.config_json,
            "host_id": host_data.host_id,
            "provider_key": host_data.provider_key,
            "links": links,
        });
    }
    provider_main(provider, Some("kv_provider_2022".to_string()))?;
    eprintln!("kv_provider_2022: exiting");
    Ok(())
}
