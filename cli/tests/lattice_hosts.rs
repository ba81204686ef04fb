//! Three `wasmhost up` processes in one NATS lattice (a real nats-server with JetStream), driven by
//! a plain NATS client the way a 2022 control client does: discovery, auctions with label
//! constraints, starting and scaling actors across hosts, a call that crosses hosts, shared links
//! seen by a host started afterwards, stop by command and by SIGTERM; no provider process outlives
//! its host, whether the host stops or is killed.

#[path = "../../core/tests/lattice_support/mod.rs"]
mod lattice_support;
#[path = "../../core/tests/provider_support/mod.rs"]
mod provider_support;
#[path = "observe/up_support/mod.rs"]
mod up_support;

use std::process::Command;
use std::time::Duration;

use futures::StreamExt;
use lattice_support::*;
use provider_support::*;
use up_support::*;
use nkeys::KeyPair;
use wasmhost::protocol::ctl::{ActorAuctionAck, HostInventory, HostPing, LinkDefinitionList};
use wasmhost::protocol::events::CloudEvent;
use wasmhost::protocol::rpc::{Invocation, InvocationResponse, LinkDefinition, WasmCloudEntity};
use wasmhost::protocol::subjects;

const ECHO_PK: &str = "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75";
const PINGER_PK: &str = "MAUJCX4BIOUCE5BGKCLKNRIT7FXES2W7WIYLTPW6LZNZHNVPL4RY4XTY";
const PONG_PK: &str = "MCE5UWMI34OWVSPGTA5D6QHG2W67RNDPRK6XYJ54S67OYNIWHOKVK3ZO";

async fn inventory(client: &async_nats::Client, p: &str, host: &str) -> HostInventory {
    serde_json::from_slice(&request(client, subjects::host_inventory(p, host), "").await).unwrap()
}

/// Instances of `actor` on `host` (0 when absent).
async fn instances(client: &async_nats::Client, p: &str, host: &str, actor: &str) -> usize {
    inventory(client, p, host).await.actors.iter().find(|a| a.id == actor).map_or(0, |a| a.instances.len())
}

async fn wait_instances(client: &async_nats::Client, p: &str, host: &str, actor: &str, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while instances(client, p, host, actor).await != n {
        assert!(std::time::Instant::now() < deadline, "{actor} never had {n} instances on {host}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn invoke(client: &async_nats::Client, lattice: &str, cluster: &KeyPair, target: &str, op: &str, payload: &[u8]) -> InvocationResponse {
    let inv = Invocation::new_signed(cluster, WasmCloudEntity::actor(PINGER_PK), WasmCloudEntity::actor(target), op, payload.to_vec(), &KeyPair::new_server().public_key()).unwrap();
    InvocationResponse::decode(&request(client, subjects::actor_rpc(lattice, target), inv.encode()).await).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_host_processes_form_one_lattice() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("procs");
    let cluster = KeyPair::new_cluster();
    let a = UpProcess::start(&nats.url(), &lattice, &cluster, "a");
    let b = UpProcess::start(&nats.url(), &lattice, &cluster, "b");
    let mut c = UpProcess::start(&nats.url(), &lattice, &cluster, "c");
    let client = client(&nats.url()).await;
    let p = subjects::ctl_prefix("wasmbus.ctl", &lattice);

    // Discovery: every host answers ping.hosts.
    let pings: Vec<HostPing> = gather(&client, subjects::ping_hosts(&p), "", Duration::from_secs(1)).await.iter().map(|b| serde_json::from_slice(b).unwrap()).collect();
    let mut ids: Vec<_> = pings.iter().map(|p| p.id.clone()).collect();
    ids.sort();
    let mut expected = vec![a.id.clone(), b.id.clone(), c.id.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(pings.iter().all(|p| p.lattice_prefix == lattice && p.issuer == cluster.public_key()));

    // Auction with a label constraint: only zone b qualifies.
    let auction = format!(r#"{{"actor_ref":"{}","constraints":{{"zone":"b"}}}}"#, actor_ref("echo"));
    let acks: Vec<ActorAuctionAck> = gather(&client, subjects::auction_actor(&p), auction, Duration::from_secs(1)).await.iter().map(|b| serde_json::from_slice(b).unwrap()).collect();
    assert_eq!(acks.iter().map(|a| a.host_id.as_str()).collect::<Vec<_>>(), vec![b.id.as_str()]);

    // Start echo and pong on the auction's winner, pinger on A.
    for (host, name) in [(&b.id, "echo"), (&b.id, "pong"), (&a.id, "pinger")] {
        let la = format!(r#"{{"actor_ref":"{}","host_id":"{host}","count":1}}"#, actor_ref(name));
        assert!(ack(&request(&client, subjects::host_command(&p, host, "la"), la).await).accepted);
    }
    wait_instances(&client, &p, &b.id, ECHO_PK, 1).await;
    wait_instances(&client, &p, &b.id, PONG_PK, 1).await;
    wait_instances(&client, &p, &a.id, PINGER_PK, 1).await;

    // pinger on A calls echo (by key) and pong (by alias) on B.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = invoke(&client, &lattice, &cluster, PINGER_PK, "Pinger.Ping", ECHO_PK.as_bytes()).await;
        if response.error.is_none() {
            assert_eq!(String::from_utf8(response.msg).unwrap(), r#"{"by_alias":"pong:ping","by_key":"ping"}"#);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{response:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The server restarts (same port, same store): the hosts reconnect, resubscribe and serve
    // again with their actors intact.
    let mut nats = nats;
    nats.restart();
    let client = lattice_support::client(&nats.url()).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let response = tokio::time::timeout(Duration::from_secs(3), async {
            let inv = Invocation::new_signed(&cluster, WasmCloudEntity::actor(PINGER_PK), WasmCloudEntity::actor(PINGER_PK), "Pinger.Ping", ECHO_PK.as_bytes().to_vec(), &KeyPair::new_server().public_key()).unwrap();
            client.request(subjects::actor_rpc(&lattice, PINGER_PK), inv.encode().into()).await.ok().and_then(|r| InvocationResponse::decode(&r.payload).ok())
        })
        .await
        .ok()
        .flatten();
        if let Some(InvocationResponse { error: None, msg, .. }) = &response {
            assert_eq!(String::from_utf8_lossy(msg), r#"{"by_alias":"pong:ping","by_key":"ping"}"#);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no cross-host call after the restart: {response:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let pings = gather(&client, subjects::ping_hosts(&p), "", Duration::from_secs(1)).await;
    assert_eq!(pings.len(), 3, "every host answers again after the restart");

    // Scale across hosts: echo up to 2 on C (started from the ref), down to 0 on B; still served.
    let scale = |host: &str, count: u16| format!(r#"{{"actor_id":"{ECHO_PK}","actor_ref":"{}","count":{count},"host_id":"{host}"}}"#, actor_ref("echo"));
    assert!(ack(&request(&client, subjects::host_command(&p, &c.id, "scale"), scale(&c.id, 2)).await).accepted);
    wait_instances(&client, &p, &c.id, ECHO_PK, 2).await;
    assert!(ack(&request(&client, subjects::host_command(&p, &b.id, "scale"), scale(&b.id, 0)).await).accepted);
    wait_instances(&client, &p, &b.id, ECHO_PK, 0).await;
    let response = invoke(&client, &lattice, &cluster, ECHO_PK, "Echo.Echo", b"from C").await;
    assert_eq!((response.error, response.msg), (None, b"from C".to_vec()));

    // A link put through the control interface is seen by a host started afterwards: once the
    // others are gone, only D can answer get.links.
    let link = LinkDefinition { actor_id: ECHO_PK.into(), provider_id: "VAG3QITQQ2ODAOWB5TTQSDJ53XK3SHBEIFNK4AYJ5RKAX2UNSCAPHA5M".into(), link_name: "default".into(), contract_id: "wasmcloud:keyvalue".into(), values: Default::default() };
    assert!(ack(&request(&client, subjects::linkdefs_put(&p), link.to_json()).await).accepted);
    let mut d = UpProcess::start(&nats.url(), &lattice, &cluster, "d");

    // Stop A and B by command, C by SIGTERM; each says host_stopped and exits cleanly.
    let mut events = client.subscribe(subjects::events(&lattice)).await.unwrap();
    client.flush().await.unwrap();
    let mut stopped = Vec::new();
    for host in [&a, &b] {
        let stop = format!(r#"{{"host_id":"{}"}}"#, host.id);
        assert!(ack(&request(&client, subjects::host_command(&p, &host.id, "stop"), stop).await).accepted);
    }
    c.sigterm();
    assert!(c.wait_exit().success());
    while stopped.len() < 3 {
        let msg = tokio::time::timeout(Duration::from_secs(15), events.next()).await.expect("host_stopped events").unwrap();
        let event = CloudEvent::from_json_bytes(&msg.payload).unwrap();
        if event.short_type() == "host_stopped" {
            stopped.push(event.source.clone());
        }
    }
    stopped.sort();
    let mut expected = vec![a.id.clone(), b.id.clone(), c.id.clone()];
    expected.sort();
    assert_eq!(stopped, expected);
    let mut a = a;
    let mut b = b;
    assert!(a.wait_exit().success() && b.wait_exit().success());

    let pings = gather(&client, subjects::ping_hosts(&p), "", Duration::from_secs(1)).await;
    assert_eq!(pings.len(), 1, "only D is left");
    let links: LinkDefinitionList = serde_json::from_slice(&request(&client, subjects::get_links(&p), "").await).unwrap();
    assert_eq!(links.links, vec![link]);
    d.sigterm();
    assert!(d.wait_exit().success());
}

/// Starts the script provider on `host` through the control interface and returns its pid.
async fn start_script_provider(client: &async_nats::Client, p: &str, host: &str, provider: &ScriptProvider) -> u32 {
    let lp = format!(r#"{{"provider_ref":"file://{}","link_name":"default"}}"#, provider.archive.display());
    assert!(ack(&request(client, subjects::host_command(p, host, "lp"), lp).await).accepted);
    eventually("the provider runs", || !provider.children().is_empty()).await;
    provider.pids()[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_provider_outlives_its_host_process_stopped_or_killed() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("orphans");
    let cluster = KeyPair::new_cluster();
    let client = client(&nats.url()).await;
    let p = subjects::ctl_prefix("wasmbus.ctl", &lattice);
    let stopped_host = UpProcess::start(&nats.url(), &lattice, &cluster, "a");
    let mut killed_host = UpProcess::start(&nats.url(), &lattice, &cluster, "b");
    let graceful = ScriptProvider::new("sigterm", RUN_FOREVER);
    let abrupt = ScriptProvider::new("sigkill", RUN_FOREVER);
    let graceful_pid = start_script_provider(&client, &p, &stopped_host.id, &graceful).await;
    let abrupt_pid = start_script_provider(&client, &p, &killed_host.id, &abrupt).await;
    let inv = inventory(&client, &p, &killed_host.id).await;
    assert_eq!(inv.providers.len(), 1);
    assert_eq!(inv.providers[0].id, abrupt.public_key);

    // SIGTERM: the host stops its providers before it exits.
    let mut stopped_host = stopped_host;
    stopped_host.sigterm();
    assert!(stopped_host.wait_exit().success());
    assert!(!alive(graceful_pid));
    eventually("the SIGTERM'd host's provider children are gone", || graceful.children().iter().all(|c| !alive(*c))).await;

    // SIGKILL: nothing runs in the host any more; the parent-death signal takes the provider.
    let _ = killed_host.child.kill();
    let _ = killed_host.child.wait();
    eventually("the SIGKILL'd host's provider is gone", || !alive(abrupt_pid)).await;
    // Its own `sleep` child is not covered: the signal reaches only the provider (README, Providers).
    for child in abrupt.children() {
        let _ = Command::new("kill").args(["-9", &child.to_string()]).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctl_call_moves_a_two_megabyte_payload_through_the_object_store_both_ways() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("bigcall");
    let cluster = KeyPair::new_cluster();
    let host = UpProcess::start(&nats.url(), &lattice, &cluster, "a");
    let client = client(&nats.url()).await;
    let p = subjects::ctl_prefix("wasmbus.ctl", &lattice);
    let la = format!(r#"{{"actor_ref":"{}","count":1}}"#, actor_ref("echo"));
    assert!(ack(&request(&client, subjects::host_command(&p, &host.id, "la"), la).await).accepted);
    wait_instances(&client, &p, &host.id, ECHO_PK, 1).await;
    let payload: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let file = std::env::temp_dir().join(format!("wasmhost-bigcall-{}", std::process::id()));
    std::fs::write(&file, &payload).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wasmhost"))
        .args(["ctl", "--nats-url", &nats.url(), "--lattice", &lattice, "call", ECHO_PK, "Echo.Echo", "--raw", "--data-file"])
        .arg(&file)
        .args(["--cluster-seed", &cluster.seed().unwrap()])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout.len(), payload.len());
    assert!(out.stdout == payload, "the echoed bytes differ");
}
