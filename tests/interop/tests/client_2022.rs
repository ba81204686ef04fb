//! The "Done when" of issue 3: a client written with the 2022 crates
//! (wasmcloud-control-interface 0.22.3, wasmbus-rpc 0.11.2) discovers, inspects, starts,
//! scales, links, calls and stops actors on `wasmhost up`, with no change on its side.
//!
//! One host process, one nats-server. Each step is reported on its own (see `Steps`), so a
//! failing run lists exactly which parts of the protocol work.

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
use wasmhost_interop::{repo_root, HostProcess, NatsServer, Steps};

const LATTICE: &str = "interop";
/// A provider key that only appears in link definitions and as a call's origin.
const PROVIDER_KEY: &str = "VD4JAQI6QCBMSDPBDHVMBCURPGK6CSYMXIQVTQ32UGJ3FAG4S2OOP6UI";
/// How long to wait for asynchronous effects (actor start in a debug build, scaling, events).
const SETTLE: Duration = Duration::from_secs(30);

/// `HttpRequest` of wasmcloud-interface-httpserver 0.8 (the same serde shape).
#[derive(Serialize)]
struct HttpRequest {
    method: String,
    path: String,
    #[serde(rename = "queryString")]
    query_string: String,
    header: HashMap<String, Vec<String>>,
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
}

/// `HttpResponse` of wasmcloud-interface-httpserver 0.8.
#[derive(Deserialize)]
struct HttpResponse {
    #[serde(rename = "statusCode")]
    status_code: u16,
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
}

/// An example actor: its `file://` reference and its public key.
struct ExampleActor {
    reference: String,
    key: String,
}

/// Reads the actor's key from its token with wascap 0.8's JWT decoder (the module-hash
/// check of `extract_claims` is the subject of `wascap_08.rs`, not of this test).
fn example_actor(name: &str) -> ExampleActor {
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

/// Every lifecycle event the client's `events_receiver` delivered, in order.
#[derive(Clone, Default)]
struct EventLog(Arc<Mutex<Vec<Event>>>);

impl EventLog {
    fn start(mut receiver: tokio::sync::mpsc::Receiver<Event>) -> EventLog {
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
    async fn wait_for(
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
                .filter_map(|e| match e.data() {
                    Some(Data::Json(v)) => Some(v.clone()),
                    Some(Data::String(s)) => serde_json::from_str(s).ok(),
                    Some(Data::Binary(b)) => serde_json::from_slice(b).ok(),
                    None => None,
                })
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
                    .map(|e| e.ty().to_string())
                    .collect();
                return Err(format!("{count} {kind} event(s) expected, {} matched within {SETTLE:?}; events seen: {seen:?}", found.len()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn sources_are(&self, host_id: &str) -> Result<(), String> {
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

fn key_is(key: &str) -> impl Fn(&serde_json::Value) -> bool + '_ {
    move |data| data["public_key"] == key
}

fn accepted(
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

/// Polls the host's inventory until `actor` runs `count` instances (0 = absent).
async fn wait_for_instances(
    client: &Client,
    host: &str,
    actor: &str,
    count: usize,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let inventory = client
            .get_host_inventory(host)
            .await
            .map_err(|e| e.to_string())?;
        let running = inventory
            .actors
            .iter()
            .find(|a| a.id == actor)
            .map(|a| a.instances.len())
            .unwrap_or(0);
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

/// Sends one invocation with wasmbus-rpc's own client, signed by `cluster`.
async fn rpc_call(
    nats: &async_nats::Client,
    cluster: &KeyPair,
    origin: WasmCloudEntity,
    actor: &str,
    method: &str,
    arg: Vec<u8>,
) -> Result<Vec<u8>, String> {
    let seed = cluster.seed().map_err(|e| e.to_string())?;
    let key = Arc::new(KeyPair::from_seed(&seed).map_err(|e| e.to_string())?);
    let host_id = KeyPair::new_server().public_key();
    let rpc = RpcClient::new(nats.clone(), host_id, Some(Duration::from_secs(10)), key);
    let target = WasmCloudEntity {
        public_key: actor.to_string(),
        link_name: String::new(),
        contract_id: String::new(),
    };
    rpc.send(
        origin,
        target,
        LATTICE,
        Message {
            method,
            arg: Cow::Owned(arg),
        },
    )
    .await
    .map_err(|e| e.to_string())
}

fn httpserver_origin() -> WasmCloudEntity {
    WasmCloudEntity {
        public_key: PROVIDER_KEY.into(),
        link_name: "default".into(),
        contract_id: "wasmcloud:httpserver".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2022_client_drives_wasmhost_up_unchanged() {
    let nats_server = NatsServer::start();
    let cluster = KeyPair::new_cluster();
    let cluster_seed = cluster.seed().expect("cluster seed");
    let mut host = HostProcess::start(
        &nats_server.url(),
        &[
            ("WASMCLOUD_LATTICE_PREFIX", LATTICE),
            ("WASMCLOUD_CLUSTER_SEED", cluster_seed.as_str()),
            ("HOST_zone", "interop"),
        ],
    );
    let echo = example_actor("echo");
    let pinger = example_actor("pinger");
    let pong = example_actor("pong");

    let nats = async_nats::connect(nats_server.url())
        .await
        .expect("connect to nats-server");
    let client = Client::new(
        nats.clone(),
        Some(LATTICE.to_string()),
        Duration::from_secs(5),
        Duration::from_secs(1),
    );
    let events = EventLog::start(client.events_receiver().await.expect("events_receiver"));
    let mut steps = Steps::default();

    let host_id = steps
        .run("get_hosts discovers the host", async {
            let deadline = tokio::time::Instant::now() + SETTLE;
            loop {
                let hosts = client.get_hosts().await.map_err(|e| e.to_string())?;
                match hosts.as_slice() {
                    [one] if one.id.starts_with('N') && one.id.len() == 56 => {
                        return Ok(one.clone())
                    }
                    [] if tokio::time::Instant::now() < deadline => continue,
                    other => return Err(format!("expected one host, got {other:?}")),
                }
            }
        })
        .await
        .map(|h| h.id);
    let Some(host_id) = host_id else {
        steps.blocked("everything else", "get_hosts discovers the host");
        steps.finish(&host.log_text());
        return;
    };

    steps
        .run("get_host_inventory: id, labels, no actors", async {
            let inv = client
                .get_host_inventory(&host_id)
                .await
                .map_err(|e| e.to_string())?;
            if inv.host_id != host_id {
                return Err(format!("host_id {} != {host_id}", inv.host_id));
            }
            if inv.labels.get("zone").map(String::as_str) != Some("interop") {
                return Err(format!("labels lack zone=interop: {:?}", inv.labels));
            }
            if !inv.actors.is_empty() || !inv.providers.is_empty() {
                return Err(format!(
                    "a fresh host runs {} actors, {} providers",
                    inv.actors.len(),
                    inv.providers.len()
                ));
            }
            Ok(())
        })
        .await;

    steps
        .run("perform_actor_auction honours label constraints", async {
            let yes: HashMap<String, String> = [("zone".to_string(), "interop".to_string())].into();
            let acks = client
                .perform_actor_auction(&echo.reference, yes)
                .await
                .map_err(|e| e.to_string())?;
            if acks.len() != 1 || acks[0].host_id != host_id {
                return Err(format!("matching auction: {acks:?}"));
            }
            let no: HashMap<String, String> =
                [("zone".to_string(), "elsewhere".to_string())].into();
            let acks = client
                .perform_actor_auction(&echo.reference, no)
                .await
                .map_err(|e| e.to_string())?;
            if !acks.is_empty() {
                return Err(format!("non-matching auction got bids: {acks:?}"));
            }
            Ok(())
        })
        .await;

    let started = steps
        .run(
            "start_actor echo, pong, pinger (file://) → actor_started",
            async {
                for actor in [&echo, &pong, &pinger] {
                    accepted(
                        client
                            .start_actor(&host_id, &actor.reference, 1, None)
                            .await,
                    )?;
                }
                for actor in [&echo, &pong, &pinger] {
                    let found = events
                        .wait_for("actor_started", 1, key_is(&actor.key))
                        .await?;
                    if found[0]["instance_id"].as_str().unwrap_or("").is_empty() {
                        return Err(format!("actor_started without instance_id: {}", found[0]));
                    }
                }
                wait_for_instances(&client, &host_id, &echo.key, 1).await
            },
        )
        .await
        .is_some();

    steps
        .run("inventory lists the started actors", async {
            let inv = client
                .get_host_inventory(&host_id)
                .await
                .map_err(|e| e.to_string())?;
            let echo_entry = inv
                .actors
                .iter()
                .find(|a| a.id == echo.key)
                .ok_or("echo not in inventory")?;
            if echo_entry.name.as_deref() != Some("Echo") || echo_entry.instances.len() != 1 {
                return Err(format!(
                    "echo entry: name {:?}, {} instances",
                    echo_entry.name,
                    echo_entry.instances.len()
                ));
            }
            if echo_entry.instances[0].revision != 1 {
                return Err(format!(
                    "echo revision {}",
                    echo_entry.instances[0].revision
                ));
            }
            Ok(())
        })
        .await;

    steps
        .run("scale_actor echo to 3 instances", async {
            accepted(
                client
                    .scale_actor(&host_id, &echo.reference, &echo.key, 3, None)
                    .await,
            )?;
            wait_for_instances(&client, &host_id, &echo.key, 3).await
        })
        .await;

    steps
        .run("advertise_link + query_links + linkdef_set", async {
            let values: HashMap<String, String> =
                [("URL".to_string(), "redis://127.0.0.1:6379/".to_string())].into();
            accepted(
                client
                    .advertise_link(
                        &echo.key,
                        PROVIDER_KEY,
                        "wasmcloud:keyvalue",
                        "default",
                        values,
                    )
                    .await,
            )?;
            let links = client.query_links().await.map_err(|e| e.to_string())?;
            let link = links
                .links
                .iter()
                .find(|l| l.actor_id == echo.key)
                .ok_or_else(|| format!("link missing: {:?}", links.links))?;
            if link.provider_id != PROVIDER_KEY
                || link.contract_id != "wasmcloud:keyvalue"
                || link.values["URL"] != "redis://127.0.0.1:6379/"
            {
                return Err(format!("link differs: {link:?}"));
            }
            events
                .wait_for("linkdef_set", 1, |d| d["actor_id"] == echo.key.as_str())
                .await
                .map(|_| ())
        })
        .await;

    steps
        .run("remove_link + linkdef_deleted", async {
            accepted(
                client
                    .remove_link(&echo.key, "wasmcloud:keyvalue", "default")
                    .await,
            )?;
            let links = client.query_links().await.map_err(|e| e.to_string())?;
            if !links.links.is_empty() {
                return Err(format!("links left: {:?}", links.links));
            }
            events
                .wait_for("linkdef_deleted", 1, |d| d["actor_id"] == echo.key.as_str())
                .await
                .map(|_| ())
        })
        .await;

    steps
        .run("update_actor to the same revision: a failure ack", async {
            let ack = client
                .update_actor(&host_id, &echo.key, &echo.reference, None)
                .await
                .map_err(|e| e.to_string())?;
            if ack.accepted || ack.error.is_empty() {
                return Err(format!("expected a refusal, got {ack:?}"));
            }
            Ok(())
        })
        .await;

    steps
        .run("get_claims lists the actors' claims", async {
            let claims = client.get_claims().await.map_err(|e| e.to_string())?;
            for actor in [&echo, &pong, &pinger] {
                let entry = claims
                    .claims
                    .iter()
                    .find(|c| c.get("sub") == Some(&actor.key))
                    .ok_or_else(|| format!("no claims for {}", actor.key))?;
                if entry.get("rev").map(String::as_str) != Some("1") {
                    return Err(format!("claims of {}: {entry:?}", actor.key));
                }
            }
            let echo_claims = claims
                .claims
                .iter()
                .find(|c| c.get("sub") == Some(&echo.key))
                .unwrap();
            if echo_claims.get("caps").map(String::as_str) != Some("wasmcloud:httpserver") {
                return Err(format!("echo caps: {echo_claims:?}"));
            }
            Ok(())
        })
        .await;

    if started {
        steps
            .run("RpcClient: HttpServer.HandleRequest to echo", async {
                let request = HttpRequest {
                    method: "POST".into(),
                    path: "/foo/bar".into(),
                    query_string: "a=1&b=2".into(),
                    header: HashMap::new(),
                    body: b"hello".to_vec(),
                };
                let arg = wasmbus_rpc::common::serialize(&request).map_err(|e| e.to_string())?;
                let reply = rpc_call(&nats, &cluster, httpserver_origin(), &echo.key, "HttpServer.HandleRequest", arg).await?;
                let response: HttpResponse = wasmbus_rpc::common::deserialize(&reply).map_err(|e| e.to_string())?;
                let body = String::from_utf8_lossy(&response.body);
                let expected = r#"{"method":"POST","path":"/foo/bar","query_string":"a=1&b=2","body":"hello","body_len":5}"#;
                if response.status_code != 200 || body != expected {
                    return Err(format!("status {} body {body}", response.status_code));
                }
                Ok(())
            })
            .await;

        steps
            .run("RpcClient: Echo.Echo returns the payload", async {
                let payload = b"hello from 2022".to_vec();
                let reply = rpc_call(
                    &nats,
                    &cluster,
                    httpserver_origin(),
                    &echo.key,
                    "Echo.Echo",
                    payload.clone(),
                )
                .await?;
                if reply != payload {
                    return Err(format!("reply {:?}", String::from_utf8_lossy(&reply)));
                }
                Ok(())
            })
            .await;

        steps
            .run("RpcClient: actor→actor call via pinger", async {
                let reply = rpc_call(
                    &nats,
                    &cluster,
                    httpserver_origin(),
                    &pinger.key,
                    "Pinger.Ping",
                    echo.key.clone().into_bytes(),
                )
                .await?;
                let text = String::from_utf8_lossy(&reply);
                if text != r#"{"by_alias":"pong:ping","by_key":"ping"}"# {
                    return Err(format!("reply {text}"));
                }
                Ok(())
            })
            .await;

        steps
            .run("RpcClient: an untrusted cluster key is refused", async {
                let stranger = KeyPair::new_cluster();
                match rpc_call(
                    &nats,
                    &stranger,
                    httpserver_origin(),
                    &echo.key,
                    "Echo.Echo",
                    b"x".to_vec(),
                )
                .await
                {
                    Ok(reply) => Err(format!(
                        "accepted, replied {:?}",
                        String::from_utf8_lossy(&reply)
                    )),
                    Err(e) if e.to_lowercase().contains("issuer") => Ok(()),
                    Err(e) => Err(format!("refused, but not for the issuer: {e}")),
                }
            })
            .await;
    } else {
        steps.blocked(
            "RpcClient calls (echo, Echo.Echo, pinger, untrusted key)",
            "start_actor echo, pong, pinger",
        );
    }

    steps
        .run("stop_actor echo → actor_stopped per instance", async {
            accepted(client.stop_actor(&host_id, &echo.key, 0, None).await)?;
            wait_for_instances(&client, &host_id, &echo.key, 0).await?;
            // 1 started + 2 by scaling: one actor_stopped per instance.
            let started = events
                .wait_for("actor_started", 3, key_is(&echo.key))
                .await?;
            let stopped = events
                .wait_for("actor_stopped", started.len(), key_is(&echo.key))
                .await?;
            let ids = |list: &[serde_json::Value]| {
                let mut ids: Vec<String> = list
                    .iter()
                    .map(|d| d["instance_id"].as_str().unwrap_or("").to_string())
                    .collect();
                ids.sort();
                ids
            };
            if ids(&stopped) != ids(&started) {
                return Err(format!(
                    "started instances {:?}, stopped {:?}",
                    ids(&started),
                    ids(&stopped)
                ));
            }
            Ok(())
        })
        .await;

    steps
        .run("every event's source is the host id", async {
            events.sources_are(&host_id)
        })
        .await;

    steps
        .run("stop_host → host_stopped, process exits", async {
            accepted(client.stop_host(&host_id, Some(5000)).await)?;
            events.wait_for("host_stopped", 1, |_| true).await?;
            match tokio::task::block_in_place(|| host.wait_for_exit(SETTLE)) {
                Some(status) if status.success() => Ok(()),
                Some(status) => Err(format!("the host exited with {status}")),
                None => Err(format!("the host still runs {SETTLE:?} after stop_host")),
            }
        })
        .await;

    steps.finish(&host.log_text());
}
