//! The "Done when" of issue 3: a client written with the 2022 crates
//! (wasmcloud-control-interface 0.22.3, wasmbus-rpc 0.11.2) discovers, inspects, starts,
//! scales, links, calls and stops actors on `wasmhost up`, with no change on its side.
//!
//! One host process, one nats-server. Each step is reported on its own (see `Steps`), so a
//! failing run lists exactly which parts of the protocol work.

mod common;

use common::{
    accepted, connect_client, discover_host, example_actor, host_exited, httpserver_origin,
    rpc_client, wait_for_instances, HttpRequest, HttpResponse,
};
use std::collections::HashMap;
use wascap::prelude::KeyPair;
use wasmhost_interop::{HostProcess, NatsServer, Steps};

const LATTICE: &str = "interop";
/// A provider key that only appears in link definitions and as a call's origin.
const PROVIDER_KEY: &str = "VD4JAQI6QCBMSDPBDHVMBCURPGK6CSYMXIQVTQ32UGJ3FAG4S2OOP6UI";

fn key_is(key: &str) -> impl Fn(&serde_json::Value) -> bool + '_ {
    move |data| data["public_key"] == key
}

/// Sends one invocation with wasmbus-rpc's own client, signed by `cluster`, from the
/// httpserver provider `PROVIDER_KEY` to `actor`.
async fn rpc_call(
    nats: &async_nats::Client,
    cluster: &KeyPair,
    actor: &str,
    method: &str,
    arg: Vec<u8>,
) -> Result<Vec<u8>, String> {
    let rpc = rpc_client(nats, cluster)?;
    common::send(
        &rpc,
        httpserver_origin(PROVIDER_KEY),
        common::actor_entity(actor),
        LATTICE,
        method,
        arg,
    )
    .await
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

    let (nats, client, events) = connect_client(nats_server.url(), LATTICE).await;
    let mut steps = Steps::default();

    let Some(host_id) = discover_host(&mut steps, &client, &host, |one| {
        one.id.starts_with('N') && one.id.len() == 56
    })
    .await
    else {
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
                let reply = rpc_call(&nats, &cluster, &echo.key, "HttpServer.HandleRequest", arg).await?;
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
                let reply =
                    rpc_call(&nats, &cluster, &echo.key, "Echo.Echo", payload.clone()).await?;
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
                match rpc_call(&nats, &stranger, &echo.key, "Echo.Echo", b"x".to_vec()).await {
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
            host_exited(&mut host)
        })
        .await;

    steps.finish(&host.log_text());
}
