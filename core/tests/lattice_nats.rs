//! Hosts in one NATS lattice (a real nats-server with JetStream), in this process: RPC between
//! hosts, the control interface as a plain NATS client sees it, shared links and claims, chunking,
//! forged and malformed input, and a server restart. Separate-process hosts: cli/tests/lattice_hosts.rs.

mod common;
mod lattice_support;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use lattice_support::*;
use nkeys::KeyPair;
use wasmhost::protocol::ctl::{
    ActorAuctionAck, GetClaimsResponse, HostInventory, HostPing, LinkDefinitionList,
};
use wasmhost::protocol::rpc::{Invocation, InvocationResponse, LinkDefinition, WasmCloudEntity};
use wasmhost::protocol::subjects;
use wasmhost::{ActorSource, ErrorKind, Host};

const ECHO_PK: &str = "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75";
const PINGER_PK: &str = "MAUJCX4BIOUCE5BGKCLKNRIT7FXES2W7WIYLTPW6LZNZHNVPL4RY4XTY";

fn actor(name: &str) -> ActorSource {
    ActorSource::File(repo_path(&format!("examples/actors/{name}.wasm")))
}

fn ctl_prefix(lattice: &str) -> String {
    subjects::ctl_prefix("wasmbus.ctl", lattice)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_actor_on_one_host_calls_actors_on_another_by_key_and_by_alias() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("calls");
    let cluster = KeyPair::new_cluster();
    let a = start_host(&nats.url(), &lattice, &cluster, &[]).await;
    let b = start_host(&nats.url(), &lattice, &cluster, &[]).await;
    a.start_actor(actor("pinger"), 1, HashMap::new())
        .await
        .unwrap();
    b.start_actor(actor("echo"), 1, HashMap::new())
        .await
        .unwrap();
    b.start_actor(actor("pong"), 1, HashMap::new())
        .await
        .unwrap();
    // pong's call alias reaches host A through the lattice bucket (asynchronously, hence the retry).
    let ping = || async {
        a.call_actor(PINGER_PK, "Pinger.Ping", ECHO_PK.as_bytes().to_vec())
            .await
            .map(|r| String::from_utf8_lossy(&r).into_owned())
    };
    retry_until(
        "pinger on A calls echo and pong on B",
        ping,
        r#"{"by_alias":"pong:ping","by_key":"ping"}"#,
    )
    .await;
    // The embedding API reaches a remote actor the same way.
    assert_eq!(
        a.call_actor(ECHO_PK, "Echo.Echo", b"hi".to_vec())
            .await
            .unwrap(),
        b"hi"
    );
    assert_eq!(
        a.call_actor("wasmhost/pong", "Echo.Echo", b"x".to_vec())
            .await
            .unwrap(),
        b"pong:x"
    );

    // Once echo stops, nobody serves it: a clear not-found error, no hang.
    b.stop_actor(ECHO_PK, 0, HashMap::new()).await.unwrap();
    let err = a
        .call_actor(ECHO_PK, "Echo.Echo", b"hi".to_vec())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_megabyte_payloads_cross_the_lattice_through_the_object_store() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("chunks");
    let cluster = KeyPair::new_cluster();
    let a = start_host(&nats.url(), &lattice, &cluster, &[]).await;
    let b = start_host(&nats.url(), &lattice, &cluster, &[]).await;
    b.start_actor(actor("echo"), 1, HashMap::new())
        .await
        .unwrap();
    let payload: Vec<u8> = (0..2 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let reply = a
        .call_actor(ECHO_PK, "Echo.Echo", payload.clone())
        .await
        .unwrap();
    assert!(
        reply == payload,
        "2 MB echo came back different ({} bytes)",
        reply.len()
    );

    // A plain client doing the chunking itself (as wasmbus-rpc does) gets a chunked reply back.
    let client = client(&nats.url()).await;
    let js = async_nats::jetstream::new(client.clone());
    let store = js
        .get_object_store(&lattice)
        .await
        .expect("the hosts created the lattice's object store");
    let mut invocation = Invocation::new_signed(
        &cluster,
        WasmCloudEntity::actor(PINGER_PK),
        WasmCloudEntity::actor(ECHO_PK),
        "Echo.Echo",
        payload.clone(),
        &KeyPair::new_server().public_key(),
    )
    .unwrap();
    let mut reader = &invocation.msg[..];
    store
        .put(invocation.id.as_str(), &mut reader)
        .await
        .unwrap();
    invocation.msg = Vec::new();
    let reply = tokio::time::timeout(
        Duration::from_secs(20),
        client.request(
            subjects::actor_rpc(&lattice, ECHO_PK),
            invocation.encode().into(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    let response = InvocationResponse::decode(&reply.payload).unwrap();
    assert_eq!(response.error, None);
    assert!(
        response.msg.is_empty() && response.content_length == Some(payload.len() as u64),
        "reply was not chunked"
    );
    let mut object = store.get(format!("{}-r", invocation.id)).await.unwrap();
    let mut body = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut object, &mut body)
        .await
        .unwrap();
    assert!(body == payload);
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_and_malformed_invocations_get_error_replies_and_the_host_keeps_serving() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("forged");
    let cluster = KeyPair::new_cluster();
    let host = start_host(&nats.url(), &lattice, &cluster, &[]).await;
    host.start_actor(actor("echo"), 1, HashMap::new())
        .await
        .unwrap();
    let client = client(&nats.url()).await;
    let subject = subjects::actor_rpc(&lattice, ECHO_PK);
    let host_id = KeyPair::new_server().public_key();

    // Signed by a cluster key the host does not trust.
    let stranger = KeyPair::new_cluster();
    let forged = Invocation::new_signed(
        &stranger,
        WasmCloudEntity::actor(PINGER_PK),
        WasmCloudEntity::actor(ECHO_PK),
        "Echo.Echo",
        b"hi".to_vec(),
        &host_id,
    )
    .unwrap();
    let response =
        InvocationResponse::decode(&request(&client, subject.clone(), forged.encode()).await)
            .unwrap();
    assert_eq!(
        response.error.as_deref(),
        Some("Issuer of this invocation is not among the list of valid issuers")
    );
    assert!(response.msg.is_empty());

    // Trusted key, but the payload was changed after signing.
    let mut tampered = Invocation::new_signed(
        &cluster,
        WasmCloudEntity::actor(PINGER_PK),
        WasmCloudEntity::actor(ECHO_PK),
        "Echo.Echo",
        b"hi".to_vec(),
        &host_id,
    )
    .unwrap();
    tampered.msg = b"ho".to_vec();
    let response =
        InvocationResponse::decode(&request(&client, subject.clone(), tampered.encode()).await)
            .unwrap();
    assert!(
        response
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("hash does not match"),
        "{response:?}"
    );

    // A provider origin needs the contract in the actor's caps (echo has only httpserver).
    let from_provider = Invocation::new_signed(
        &cluster,
        WasmCloudEntity::provider(
            "VAG3QITQQ2ODAOWB5TTQSDJ53XK3SHBEIFNK4AYJ5RKAX2UNSCAPHA5M",
            "wasmcloud:messaging",
            "default",
        ),
        WasmCloudEntity::actor(ECHO_PK),
        "Echo.Echo",
        b"hi".to_vec(),
        &host_id,
    )
    .unwrap();
    let response = InvocationResponse::decode(
        &request(&client, subject.clone(), from_provider.encode()).await,
    )
    .unwrap();
    assert_eq!(
        response.error.as_deref(),
        Some("Actor is missing the capability claim for \"Echo.Echo\"")
    );

    // Not msgpack at all: the OTP host's exact reply.
    let raw = request(
        &client,
        subject.clone(),
        b"\xc1 definitely not msgpack".to_vec(),
    )
    .await;
    let response = InvocationResponse::decode(&raw).unwrap();
    assert_eq!(
        response,
        InvocationResponse {
            error: Some("Failed to deserialize msgpack invocation".into()),
            ..Default::default()
        }
    );

    // A valid invocation still works afterwards.
    let good = Invocation::new_signed(
        &cluster,
        WasmCloudEntity::actor(PINGER_PK),
        WasmCloudEntity::actor(ECHO_PK),
        "Echo.Echo",
        b"still here".to_vec(),
        &host_id,
    )
    .unwrap();
    let response =
        InvocationResponse::decode(&request(&client, subject, good.encode()).await).unwrap();
    assert_eq!(
        (response.error, response.msg, response.invocation_id),
        (None, b"still here".to_vec(), good.id)
    );
    host.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_control_interface_answers_a_plain_nats_client() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("ctl");
    let cluster = KeyPair::new_cluster();
    let eu = start_host(&nats.url(), &lattice, &cluster, &[("region", "eu")]).await;
    let us = start_host(&nats.url(), &lattice, &cluster, &[("region", "us")]).await;
    let client = client(&nats.url()).await;
    let p = ctl_prefix(&lattice);

    let pings: Vec<HostPing> = gather(
        &client,
        subjects::ping_hosts(&p),
        "",
        Duration::from_millis(750),
    )
    .await
    .iter()
    .map(|b| serde_json::from_slice(b).unwrap())
    .collect();
    let mut ids: Vec<_> = pings.iter().map(|p| p.id.clone()).collect();
    ids.sort();
    let mut expected = vec![eu.id().to_string(), us.id().to_string()];
    expected.sort();
    assert_eq!(ids, expected);
    let eu_ping = pings.iter().find(|p| p.id == eu.id()).unwrap();
    assert_eq!(eu_ping.labels["region"], "eu");
    assert_eq!(eu_ping.lattice_prefix, lattice);
    assert_eq!(eu_ping.issuer, cluster.public_key());
    assert_eq!(eu_ping.rpc_host, "127.0.0.1");

    // Auctions: only hosts whose labels include every constraint answer.
    let auction = |c: &str| format!(r#"{{"actor_ref":"file:///x.wasm","constraints":{c}}}"#);
    let acks: Vec<ActorAuctionAck> = gather(
        &client,
        subjects::auction_actor(&p),
        auction(r#"{"region":"us"}"#),
        Duration::from_millis(750),
    )
    .await
    .iter()
    .map(|b| serde_json::from_slice(b).unwrap())
    .collect();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].host_id, us.id());
    assert_eq!(
        gather(
            &client,
            subjects::auction_actor(&p),
            auction("{}"),
            Duration::from_millis(750)
        )
        .await
        .len(),
        2
    );
    assert!(gather(
        &client,
        subjects::auction_actor(&p),
        auction(r#"{"region":"mars"}"#),
        Duration::from_millis(500)
    )
    .await
    .is_empty());

    // la on the eu host, then inventory shows it.
    let echo_ref = format!(
        "file://{}",
        repo_path("examples/actors/echo.wasm")
            .canonicalize()
            .unwrap()
            .display()
    );
    let mut events = eu.subscribe_events().unwrap();
    let la = format!(
        r#"{{"actor_ref":"{echo_ref}","host_id":"{}","count":2,"annotations":{{"app":"demo"}}}}"#,
        eu.id()
    );
    let reply = ack(&request(&client, subjects::host_command(&p, eu.id(), "la"), la).await);
    assert!(reply.accepted, "{reply:?}");
    for _ in 0..2 {
        loop {
            let event = tokio::time::timeout(Duration::from_secs(10), events.next())
                .await
                .unwrap()
                .unwrap();
            if event.short_type() == "actor_started" {
                break;
            }
        }
    }
    let inventory: HostInventory =
        serde_json::from_slice(&request(&client, subjects::host_inventory(&p, eu.id()), "").await)
            .unwrap();
    assert_eq!(inventory.host_id, eu.id());
    assert_eq!(inventory.actors.len(), 1);
    assert_eq!(inventory.actors[0].id, ECHO_PK);
    assert_eq!(inventory.actors[0].instances.len(), 2);
    assert_eq!(inventory.actors[0].instances[0].annotations["app"], "demo");
    // The us host was not asked.
    let us_inventory: HostInventory =
        serde_json::from_slice(&request(&client, subjects::host_inventory(&p, us.id()), "").await)
            .unwrap();
    assert!(us_inventory.actors.is_empty());

    // get.claims (from any host) includes echo's claims.
    let claims: GetClaimsResponse =
        serde_json::from_slice(&request(&client, subjects::get_claims(&p), "").await).unwrap();
    let echo = claims
        .claims
        .iter()
        .find(|c| c["sub"] == ECHO_PK)
        .expect("echo claims");
    assert_eq!(echo["name"], "Echo");
    assert_eq!(echo["caps"], "wasmcloud:httpserver");

    // scale down to 1, then stop with sa.
    let scale = format!(
        r#"{{"actor_id":"{ECHO_PK}","actor_ref":"","count":1,"host_id":"{}"}}"#,
        eu.id()
    );
    assert!(
        ack(&request(&client, subjects::host_command(&p, eu.id(), "scale"), scale).await).accepted
    );
    eventually("scaled to one instance", || {
        eu.actor(ECHO_PK).map(|a| a.instances.len()).ok() == Some(1)
    })
    .await;
    let sa = format!(
        r#"{{"actor_ref":"{ECHO_PK}","host_id":"{}","count":0}}"#,
        eu.id()
    );
    assert!(ack(&request(&client, subjects::host_command(&p, eu.id(), "sa"), sa).await).accepted);
    eventually("echo stopped", || eu.actors().is_empty()).await;

    // Stopping a provider that does not run here: a failure ack that says so (providers: core/tests/providers.rs).
    let sp = r#"{"provider_ref":"VAG3QITQQ2ODAOWB5TTQSDJ53XK3SHBEIFNK4AYJ5RKAX2UNSCAPHA5M","link_name":"default"}"#;
    let reply = ack(&request(&client, subjects::host_command(&p, eu.id(), "sp"), sp).await);
    assert!(
        !reply.accepted && reply.error.contains("is not running on this host"),
        "{reply:?}"
    );

    // Registry credentials are accepted (fire-and-forget for clients; acked when asked).
    let creds = r#"{"localhost:5000":{"registryType":"oci","username":"u","password":"p"}}"#;
    assert!(ack(&request(&client, subjects::registries_put(&p), creds).await).accepted);

    // Wrong host in the inventory subject: failure ack from nobody (no host has that id) → we ask
    // the eu host with a body naming another host for `scale` instead.
    let scale_wrong = format!(
        r#"{{"actor_id":"{ECHO_PK}","actor_ref":"","count":1,"host_id":"{}"}}"#,
        us.id()
    );
    let reply = ack(&request(
        &client,
        subjects::host_command(&p, eu.id(), "scale"),
        scale_wrong,
    )
    .await);
    assert_eq!(
        reply.error,
        "Command received by incorrect host and could not be processed"
    );

    // stop: the host acks, then stops and says so.
    let mut us_events = us.subscribe_events().unwrap();
    let stop = format!(r#"{{"host_id":"{}"}}"#, us.id());
    assert!(
        ack(&request(&client, subjects::host_command(&p, us.id(), "stop"), stop).await).accepted
    );
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), us_events.next())
            .await
            .unwrap();
        match event {
            Some(e) if e.short_type() == "host_stopped" => break,
            Some(_) => continue,
            None => panic!("event stream ended before host_stopped"),
        }
    }
    assert!(us.is_stopped());
    eu.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_json_on_every_command_subject_gets_a_failure_ack_and_ping_still_works() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("badjson");
    let host = start_host(&nats.url(), &lattice, &KeyPair::new_cluster(), &[]).await;
    let client = client(&nats.url()).await;
    let p = ctl_prefix(&lattice);
    let mut subjects_to_try: Vec<String> = ["la", "sa", "scale", "lp", "sp", "upd", "stop"]
        .iter()
        .map(|v| subjects::host_command(&p, host.id(), v))
        .collect();
    subjects_to_try.extend([
        subjects::linkdefs_put(&p),
        subjects::linkdefs_del(&p),
        subjects::auction_actor(&p),
        subjects::auction_provider(&p),
        subjects::registries_put(&p),
    ]);
    for subject in subjects_to_try {
        for body in [
            &b"{not json"[..],
            b"[1,2,3]",
            b"\xff\xfe",
            b"{\"host_id\":5,\"count\":\"many\"}",
        ] {
            let reply = ack(&request(&client, subject.clone(), body.to_vec()).await);
            assert!(
                !reply.accepted && !reply.error.is_empty(),
                "{subject} accepted {:?}",
                String::from_utf8_lossy(body)
            );
        }
    }
    let pings = gather(
        &client,
        subjects::ping_hosts(&p),
        "",
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(pings.len(), 1);
    assert!(!host.is_stopped());
    host.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn links_put_on_one_host_reach_the_others_and_hosts_started_later() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("links");
    let cluster = KeyPair::new_cluster();
    let a = start_host(&nats.url(), &lattice, &cluster, &[]).await;
    let b = start_host(&nats.url(), &lattice, &cluster, &[]).await;
    let link = LinkDefinition {
        actor_id: ECHO_PK.into(),
        provider_id: "VAG3QITQQ2ODAOWB5TTQSDJ53XK3SHBEIFNK4AYJ5RKAX2UNSCAPHA5M".into(),
        link_name: "default".into(),
        contract_id: "wasmcloud:keyvalue".into(),
        values: [("URL".to_string(), "redis://127.0.0.1:6379/".to_string())].into(),
    };
    // A provider process would listen here (no queue group) for its links, as msgpack.
    let provider = client(&nats.url()).await;
    let mut pushed = provider
        .subscribe(subjects::provider_linkdefs_put(
            &lattice,
            &link.provider_id,
            "default",
        ))
        .await
        .unwrap();
    provider.flush().await.unwrap();
    a.put_link(link.clone()).await.unwrap();
    let msg = tokio::time::timeout(
        Duration::from_secs(5),
        futures::StreamExt::next(&mut pushed),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(LinkDefinition::decode(&msg.payload).unwrap(), link);
    eventually("B sees A's link", || b.links() == vec![link.clone()]).await;
    let c = start_host(&nats.url(), &lattice, &cluster, &[]).await;
    assert_eq!(
        c.links(),
        vec![link.clone()],
        "a host started later catches up at start"
    );

    // Through the control interface: get.links from any host, linkdefs.del from a client.
    let client = client(&nats.url()).await;
    let p = ctl_prefix(&lattice);
    let list: LinkDefinitionList =
        serde_json::from_slice(&request(&client, subjects::get_links(&p), "").await).unwrap();
    assert_eq!(list.links, vec![link.clone()]);
    let del = format!(
        r#"{{"actor_id":"{ECHO_PK}","contract_id":"wasmcloud:keyvalue","link_name":"default","provider_id":"","values":{{}}}}"#
    );
    assert!(ack(&request(&client, subjects::linkdefs_del(&p), del).await).accepted);
    eventually("every host forgets the link", || {
        a.links().is_empty() && b.links().is_empty() && c.links().is_empty()
    })
    .await;

    // A newer client writing the bucket directly (v0.60 layout) is seen too.
    let kv = async_nats::jetstream::new(client.clone())
        .get_key_value(format!("LATTICEDATA_{lattice}"))
        .await
        .unwrap();
    kv.put(format!("LINKDEF_{}", link.hash_id()), link.to_json().into())
        .await
        .unwrap();
    eventually("a direct bucket write reaches every host", || {
        [&a, &b, &c].iter().all(|h| h.links() == vec![link.clone()])
    })
    .await;
    for host in [a, b, c] {
        host.stop().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hosts_start_before_nats_and_survive_a_server_restart_with_their_actors() {
    let port = free_port();
    let url = format!("nats://127.0.0.1:{port}");
    let lattice = unique_lattice("restart");
    let cluster = KeyPair::new_cluster();
    // No server yet: the host starts anyway.
    let a = start_host(&url, &lattice, &cluster, &[]).await;
    a.start_actor(actor("pinger"), 1, HashMap::new())
        .await
        .unwrap();
    let mut nats = NatsServer::start_on(port);
    let b = start_host(&url, &lattice, &cluster, &[]).await;
    b.start_actor(actor("echo"), 1, HashMap::new())
        .await
        .unwrap();
    b.start_actor(actor("pong"), 1, HashMap::new())
        .await
        .unwrap();
    let expected = r#"{"by_alias":"pong:ping","by_key":"ping"}"#;
    let ping = |h: Host| async move {
        h.call_actor(PINGER_PK, "Pinger.Ping", ECHO_PK.as_bytes().to_vec())
            .await
            .map(|r| String::from_utf8_lossy(&r).into_owned())
    };
    retry_until(
        "A reaches B once both are connected",
        || ping(a.clone()),
        expected,
    )
    .await;

    nats.restart();
    retry_until(
        "A reaches B again after the restart",
        || ping(a.clone()),
        expected,
    )
    .await;
    assert_eq!(b.actors().len(), 2, "actors survive the outage");
    let client = client(&nats.url()).await;
    let pings = gather(
        &client,
        subjects::ping_hosts(&ctl_prefix(&lattice)),
        "",
        Duration::from_millis(750),
    )
    .await;
    assert_eq!(pings.len(), 2);
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

/// Calls `f` until it returns `Ok(expected)` (reconnects take a moment), at most 20 s.
async fn retry_until<F, Fut>(what: &str, mut f: F, expected: &str)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = wasmhost::Result<String>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match f().await {
            Ok(reply) if reply == expected => return,
            other => assert!(
                std::time::Instant::now() < deadline,
                "{what}: last outcome {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_go_to_wasmbus_evt_and_invocation_results_to_rpcevt_when_enabled() {
    use futures::StreamExt;
    use wasmhost::protocol::events::CloudEvent;
    let nats = NatsServer::start();
    let lattice = unique_lattice("events");
    let cluster = KeyPair::new_cluster();
    let client = client(&nats.url()).await;
    let mut lifecycle = client.subscribe(subjects::events(&lattice)).await.unwrap();
    let mut results = client
        .subscribe(subjects::rpc_events(&lattice))
        .await
        .unwrap();
    client.flush().await.unwrap();
    let mut config = lattice_config(&nats.url(), &lattice, &cluster);
    config.enable_invocation_events = true;
    let host = Host::start(config).await.unwrap();
    host.start_actor(actor("echo"), 1, HashMap::new())
        .await
        .unwrap();

    async fn next_event(sub: &mut async_nats::Subscriber) -> CloudEvent {
        let msg = tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await
            .unwrap()
            .unwrap();
        CloudEvent::from_json_bytes(&msg.payload).unwrap()
    }
    let first = next_event(&mut lifecycle).await;
    assert_eq!(
        (first.short_type(), first.source.as_str()),
        ("host_started", host.id())
    );
    assert_eq!(
        next_event(&mut lifecycle).await.short_type(),
        "host_heartbeat",
        "a heartbeat right at start"
    );
    assert_eq!(
        next_event(&mut lifecycle).await.short_type(),
        "actor_started"
    );
    // A ping brings a fresh heartbeat.
    gather(
        &client,
        subjects::ping_hosts(&ctl_prefix(&lattice)),
        "",
        Duration::from_millis(300),
    )
    .await;
    let heartbeat = next_event(&mut lifecycle).await;
    assert_eq!(heartbeat.short_type(), "host_heartbeat");
    assert_eq!(heartbeat.data["actors"][0]["public_key"], ECHO_PK);

    let invocation = Invocation::new_signed(
        &cluster,
        WasmCloudEntity::actor(PINGER_PK),
        WasmCloudEntity::actor(ECHO_PK),
        "Echo.Echo",
        b"abc".to_vec(),
        host.id(),
    )
    .unwrap();
    request(
        &client,
        subjects::actor_rpc(&lattice, ECHO_PK),
        invocation.encode(),
    )
    .await;
    let msg = tokio::time::timeout(Duration::from_secs(5), results.next())
        .await
        .unwrap()
        .unwrap();
    let event = CloudEvent::from_json_bytes(&msg.payload).unwrap();
    assert_eq!(event.short_type(), "invocation_succeeded");
    assert_eq!(
        (
            event.data["dest"]["public_key"].as_str(),
            event.data["source"]["public_key"].as_str()
        ),
        (Some(ECHO_PK), Some(PINGER_PK))
    );
    assert_eq!(
        (
            event.data["operation"].as_str(),
            event.data["bytes"].as_u64()
        ),
        (Some("Echo.Echo"), Some(3))
    );

    host.stop().await.unwrap();
    let mut last = next_event(&mut lifecycle).await;
    while last.short_type() != "host_stopped" {
        last = next_event(&mut lifecycle).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upd_replaces_the_module_before_acking_and_refuses_an_older_revision() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("upd");
    let host = start_host(&nats.url(), &lattice, &KeyPair::new_cluster(), &[]).await;
    let client = client(&nats.url()).await;
    let p = ctl_prefix(&lattice);
    // The same actor key signed at revisions 1 and 2, as files a control client can name.
    let signer = Signer::new();
    let subject = KeyPair::new_module();
    let unsigned = std::fs::read(repo_path("examples/actors/unsigned/echo.wasm")).unwrap();
    let dir = std::env::temp_dir().join(format!("wasmhost-upd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |rev: i32| {
        let path = dir.join(format!("echo-rev{rev}.wasm"));
        std::fs::write(&path, signer.sign_as(&unsigned, &subject, &[], rev, None)).unwrap();
        format!("file://{}", path.display())
    };
    let (rev1, rev2) = (file(1), file(2));
    host.start_actor(ActorSource::parse(&rev1), 1, HashMap::new())
        .await
        .unwrap();

    let upd = |r: &str| {
        format!(
            r#"{{"actor_id":"{}","new_actor_ref":"{r}","host_id":"{}"}}"#,
            subject.public_key(),
            host.id()
        )
    };
    let reply = ack(&request(
        &client,
        subjects::host_command(&p, host.id(), "upd"),
        upd(&rev2),
    )
    .await);
    assert!(reply.accepted, "{reply:?}");
    // Acked after the update: the inventory already shows revision 2.
    let inventory: HostInventory = serde_json::from_slice(
        &request(&client, subjects::host_inventory(&p, host.id()), "").await,
    )
    .unwrap();
    assert_eq!(inventory.actors[0].instances[0].revision, 2);
    let reply = ack(&request(
        &client,
        subjects::host_command(&p, host.id(), "upd"),
        upd(&rev1),
    )
    .await);
    assert!(
        !reply.accepted && reply.error.starts_with("Unable to perform live update: "),
        "{reply:?}"
    );
    assert_eq!(
        host.call_actor(&subject.public_key(), "Echo.Echo", b"still".to_vec())
            .await
            .unwrap(),
        b"still"
    );
    host.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_host_authenticates_with_an_nkey_seed_on_both_connections() {
    let user = KeyPair::new_user();
    let nats = NatsServer::start_with_config(&format!(
        "authorization {{ users = [ {{ nkey: {} }} ] }}",
        user.public_key()
    ));
    let lattice = unique_lattice("nkey");
    let mut config = lattice_config(&nats.url(), &lattice, &KeyPair::new_cluster());
    let nats_config = config.nats.as_mut().unwrap();
    for conn in [&mut nats_config.rpc, &mut nats_config.ctl] {
        conn.auth = wasmhost::NatsAuth::Nkey {
            seed: user.seed().unwrap(),
        };
    }
    let host = Host::start(config).await.unwrap();
    host.start_actor(actor("echo"), 1, HashMap::new())
        .await
        .unwrap();
    let settings = wasmhost::NatsConnection::from_url(&nats.url())
        .unwrap()
        .with_auth(wasmhost::NatsAuth::Nkey {
            seed: user.seed().unwrap(),
        });
    let client = wasmhost_nats::connect(&settings, "test").await.unwrap();
    let pings = gather(
        &client,
        subjects::ping_hosts(&ctl_prefix(&lattice)),
        "",
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(pings.len(), 1);
    // Anonymous clients are refused by this server, so the host really used its seed.
    assert!(async_nats::ConnectOptions::new()
        .connect(nats.url())
        .await
        .is_err());
    host.stop().await.unwrap();

    // A seed that is not an nkey seed is refused at start with a clear error.
    let mut bad = lattice_config(&nats.url(), &lattice, &KeyPair::new_cluster());
    bad.nats.as_mut().unwrap().ctl.auth = wasmhost::NatsAuth::Nkey {
        seed: "SUnotaseed".into(),
    };
    let err = Host::start(bad).await.err().expect("a bad seed is refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_subscribes_to_every_hosts_events_in_its_lattice() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("allevents");
    let cluster = KeyPair::new_cluster();
    let a = start_host(&nats.url(), &lattice, &cluster, &[]).await;
    let b = start_host(&nats.url(), &lattice, &cluster, &[]).await;
    let mut events = a.subscribe_lattice_events().await.unwrap();
    // Garbage on the subject is skipped, not fatal.
    let client = client(&nats.url()).await;
    client
        .publish(subjects::events(&lattice), "not a cloud event".into())
        .await
        .unwrap();
    client.flush().await.unwrap();
    b.start_actor(actor("echo"), 1, HashMap::new())
        .await
        .unwrap();
    let started = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let event = events.next().await.expect("stream open");
            if event.short_type() == "actor_started" {
                return event;
            }
        }
    })
    .await
    .expect("B's actor_started reaches A's subscriber");
    assert_eq!(started.source, b.id());
    assert_eq!(started.data["public_key"], ECHO_PK);
    b.stop().await.unwrap();
    a.stop().await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while events.next().await.is_some() {}
    })
    .await;
    assert!(
        end.is_ok(),
        "the stream ends when the subscribing host stops"
    );

    // The embedded lattice is the host itself.
    let embedded = Host::start(wasmhost::HostConfig::default()).await.unwrap();
    let mut own = embedded.subscribe_lattice_events().await.unwrap();
    embedded
        .start_actor(actor("echo"), 1, HashMap::new())
        .await
        .unwrap();
    // Its first heartbeat may come before or after the subscription; the start comes after.
    let first_non_heartbeat = loop {
        let event = own.next().await.unwrap();
        if event.short_type() != "host_heartbeat" {
            break event;
        }
    };
    assert_eq!(first_non_heartbeat.short_type(), "actor_started");
    embedded.stop().await.unwrap();
}
