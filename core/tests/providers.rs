//! Provider supervision against a real nats-server: HostData on stdin, graceful stop (shutdown
//! request, grace period, kill of the whole process group), crash detection and restart with the
//! current links, health-check events, the control interface's lp/sp/auction.provider, and bad
//! input. The providers here are shell scripts packed into signed archives, so each test decides
//! how its provider misbehaves; this test plays the provider's NATS side itself where needed.
//! Real providers (wasmbus-rpc 0.11 and ours) run in tests/interop and examples/providers.

mod common;
mod lattice_support;
mod provider_support;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use lattice_support::*;
use nkeys::KeyPair;
use provider_support::*;
use wasmhost::protocol::ctl::{GetClaimsResponse, HostInventory, ProviderAuctionAck};
use wasmhost::protocol::rpc::LinkDefinition;
use wasmhost::protocol::subjects;
use wasmhost::provider_archive::{create_archive, native_target, ProviderArchiveSpec};
use wasmhost::{ErrorKind, Host, HostConfig, ProviderSource};

fn config(nats: &NatsServer, lattice: &str, cluster: &KeyPair, cache: &Path) -> HostConfig {
    let mut config = lattice_config(&nats.url(), lattice, cluster);
    config.provider_cache_dir = Some(cache.to_path_buf());
    config.provider_shutdown_delay = Duration::from_millis(200);
    config.provider_health_check_delay = Duration::from_millis(100);
    config.provider_health_check_interval = Duration::from_millis(200);
    config.rpc_timeout = Duration::from_millis(300);
    config
}

fn link(actor: &str, provider: &str, values: &[(&str, &str)]) -> LinkDefinition {
    LinkDefinition {
        actor_id: actor.into(),
        provider_id: provider.into(),
        link_name: "default".into(),
        contract_id: CONTRACT.into(),
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// Awaits `future` for at most 20 s: a hang fails the test and says where.
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Waits for the next event of `kind`, returning its data.
async fn next_event(events: &mut wasmhost::EventStream, kind: &str) -> serde_json::Value {
    let wait = async {
        loop {
            let event = events.next().await.expect("event stream ended");
            if event.short_type() == kind {
                return event.data.clone();
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(15), wait)
        .await
        .unwrap_or_else(|_| panic!("no {kind} event"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_gets_its_host_data_and_a_graceful_stop_kills_its_process_group() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("prov");
    let cluster = KeyPair::new_cluster();
    let provider = ScriptProvider::new("graceful", RUN_FOREVER);
    let (host, mut events) =
        Host::start_with_events(config(&nats, &lattice, &cluster, &provider.dir))
            .await
            .unwrap();
    // A link put before the provider starts reaches it in HostData.
    let actor = KeyPair::new_module().public_key();
    host.put_link(link(
        &actor,
        &provider.public_key,
        &[("URL", "redis://127.0.0.1:1/")],
    ))
    .await
    .unwrap();

    let info = host
        .start_provider(
            provider.source(),
            "default",
            Some("{\"greeting\":\"hi\"}".into()),
            HashMap::from([("app".into(), "test".into())]),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            info.public_key.as_str(),
            info.link_name.as_str(),
            info.contract_id.as_str()
        ),
        (provider.public_key.as_str(), "default", CONTRACT)
    );
    assert_eq!(info.restarts, 0);
    let started = next_event(&mut events, "provider_started").await;
    assert_eq!(started["public_key"], provider.public_key.as_str());
    assert_eq!(started["contract_id"], CONTRACT);
    assert_eq!(started["instance_id"], info.instance_id.as_str());
    assert_eq!(started["annotations"]["app"], "test");
    assert_eq!(started["claims"]["name"], "script graceful");
    assert_eq!(started["claims"]["version"], "0.3.0");
    // The binary sits where the OTP host puts it: {cache}/{key}/{rev}/{contract}_{link}.
    assert!(provider
        .dir
        .join(&provider.public_key)
        .join("3")
        .join("wasmcloud_keyvalue_default")
        .is_file());

    eventually("the provider wrote its host data", || {
        !provider.children().is_empty()
    })
    .await;
    let pid = provider.pids()[0];
    assert_eq!(Some(pid), info.pid);
    let data = provider.host_data(pid);
    assert_eq!(data.host_id, host.id());
    assert_eq!(data.lattice_rpc_prefix, lattice);
    assert_eq!(data.link_name, "default");
    assert_eq!(data.provider_key, provider.public_key);
    assert_eq!(data.lattice_rpc_url, format!("127.0.0.1:{}", nats.port));
    assert_eq!(data.invocation_seed, cluster.seed().unwrap());
    assert!(data.cluster_issuers.contains(&cluster.public_key()));
    assert_eq!(data.instance_id, info.instance_id);
    assert_eq!(data.config_json.as_deref(), Some("{\"greeting\":\"hi\"}"));
    assert_eq!(data.default_rpc_timeout_ms, Some(300));
    assert_eq!(data.link_definitions.len(), 1);
    assert_eq!(
        data.link_definitions[0].values["URL"],
        "redis://127.0.0.1:1/"
    );
    assert_eq!(
        (data.structured_logging, data.enable_structured_logging),
        (false, Some(false))
    );
    let raw: serde_json::Value = serde_json::from_slice(&data.to_json()).unwrap();
    assert_eq!(
        raw["env_values"],
        serde_json::json!({}),
        "wasmbus-rpc requires env_values"
    );

    // Inventory, heartbeat and the lattice's claims list it.
    let client = client(&nats.url()).await;
    let p = subjects::ctl_prefix("wasmbus.ctl", &lattice);
    let inventory: HostInventory = serde_json::from_slice(
        &request(&client, subjects::host_inventory(&p, host.id()), "").await,
    )
    .unwrap();
    assert_eq!(inventory.providers.len(), 1);
    assert_eq!(inventory.providers[0].id, provider.public_key);
    assert_eq!(inventory.providers[0].revision, 3);
    assert_eq!(
        inventory.providers[0].contract_id.as_deref(),
        Some(CONTRACT)
    );
    assert_eq!(host.heartbeat_data().providers[0].link_name, "default");
    let claims: GetClaimsResponse =
        serde_json::from_slice(&request(&client, subjects::get_claims(&p), "").await).unwrap();
    let entry = claims
        .claims
        .iter()
        .find(|c| c["sub"] == provider.public_key)
        .expect("provider claims shared");
    assert_eq!(entry["contract_id"], CONTRACT);

    // Play the provider's shutdown subject: acknowledge, but do not exit (the host must kill).
    let mut shutdown = client
        .subscribe(subjects::provider_shutdown(
            &lattice,
            &provider.public_key,
            "default",
        ))
        .await
        .unwrap();
    client.flush().await.unwrap();
    let responder = {
        let client = client.clone();
        tokio::spawn(async move {
            let msg = shutdown.next().await.unwrap();
            client
                .publish(msg.reply.unwrap(), "shutting down".into())
                .await
                .unwrap();
            msg.payload.to_vec()
        })
    };
    let children = provider.children();
    within(
        "stop_provider",
        host.stop_provider(&provider.public_key, "default"),
    )
    .await
    .unwrap();
    let body: serde_json::Value =
        serde_json::from_slice(&within("the shutdown request", responder).await.unwrap()).unwrap();
    assert_eq!(body, serde_json::json!({"host_id": host.id()}));
    let stopped = next_event(&mut events, "provider_stopped").await;
    assert_eq!(
        (stopped["reason"].as_str(), stopped["instance_id"].as_str()),
        (Some("normal"), Some(info.instance_id.as_str()))
    );
    assert!(!alive(pid), "the provider process is gone");
    eventually("the provider's child is gone too", || {
        children.iter().all(|c| !alive(*c))
    })
    .await;
    assert!(host.providers().is_empty());
    let err = host
        .stop_provider(&provider.public_key, "default")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    within("host stop", host.stop()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_provider_is_restarted_with_the_current_links_and_host_stop_stops_it() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("crash");
    let cluster = KeyPair::new_cluster();
    // The first process exits with status 3; the next ones run.
    let provider = ScriptProvider::new(
        "crash",
        &format!("if [ ! -e $D/crashed ]; then touch $D/crashed; exit 3; fi\n{RUN_FOREVER}"),
    );
    let (host, mut events) =
        Host::start_with_events(config(&nats, &lattice, &cluster, &provider.dir))
            .await
            .unwrap();
    let first = host
        .start_provider(provider.source(), "default", None, HashMap::new())
        .await
        .unwrap();
    // Put while the provider is down: the restarted process gets it in its HostData.
    let actor = KeyPair::new_module().public_key();
    host.put_link(link(&actor, &provider.public_key, &[]))
        .await
        .unwrap();

    let stopped = next_event(&mut events, "provider_stopped").await;
    assert_eq!(stopped["instance_id"], first.instance_id.as_str());
    let reason = stopped["reason"].as_str().unwrap();
    assert!(reason.contains("exit status: 3"), "{reason}");
    let restarted = next_event(&mut events, "provider_started").await;
    assert_ne!(
        restarted["instance_id"],
        first.instance_id.as_str(),
        "a new process is a new instance"
    );
    eventually("the restarted process runs", || {
        provider.pids().len() == 2 && !provider.children().is_empty()
    })
    .await;
    let pid = provider.pids()[1];
    let data = provider.host_data(pid);
    assert_eq!(
        data.link_definitions.len(),
        1,
        "links are re-sent on restart"
    );
    assert_eq!(data.link_definitions[0].actor_id, actor);
    let info = &host.providers()[0];
    assert_eq!((info.restarts, info.pid), (1, Some(pid)));

    // Killed from outside: detected at once, restarted again.
    kill_9(pid);
    let stopped = next_event(&mut events, "provider_stopped").await;
    assert!(
        stopped["reason"].as_str().unwrap().contains("signal: 9"),
        "{stopped}"
    );
    next_event(&mut events, "provider_started").await;
    eventually("third process", || provider.pids().len() == 3).await;

    // Host stop stops it (nobody answers the shutdown request: the host kills after waiting).
    let children = provider.children();
    let last = provider.pids()[2];
    within("host stop", host.stop()).await.unwrap();
    assert!(!alive(last));
    eventually("children gone after host stop", || {
        children.iter().all(|c| !alive(*c))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_dropped_without_stop_takes_its_providers_down() {
    let nats = NatsServer::start();
    let cluster = KeyPair::new_cluster();
    let provider = ScriptProvider::new("dropped", RUN_FOREVER);
    let host = Host::start(config(
        &nats,
        &unique_lattice("drop"),
        &cluster,
        &provider.dir,
    ))
    .await
    .unwrap();
    let info = host
        .start_provider(provider.source(), "default", None, HashMap::new())
        .await
        .unwrap();
    let pid = info.pid.unwrap();
    eventually("the provider runs", || !provider.children().is_empty()).await;
    let children = provider.children();
    drop(host);
    eventually("the provider is gone", || !alive(pid)).await;
    eventually("its children are gone", || {
        children.iter().all(|c| !alive(*c))
    })
    .await;
}

/// SIGKILL, as an operator's `kill -9` would.
fn kill_9(pid: u32) {
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_publish_only_changes_of_state_and_resend_links_once_healthy() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("health");
    let cluster = KeyPair::new_cluster();
    let provider = ScriptProvider::new("health", RUN_FOREVER);
    let client = client(&nats.url()).await;
    // Play the provider's health subject: answer the first five checks, then go silent.
    let mut health = client
        .subscribe(subjects::provider_health(
            &lattice,
            &provider.public_key,
            "default",
        ))
        .await
        .unwrap();
    client.flush().await.unwrap();
    let responder = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut bodies = Vec::new();
            for _ in 0..5 {
                let msg = health.next().await.unwrap();
                bodies.push(msg.payload.to_vec());
                client
                    .publish(
                        msg.reply.unwrap(),
                        rmp_serde::to_vec_named(&serde_json::json!({"healthy": true}))
                            .unwrap()
                            .into(),
                    )
                    .await
                    .unwrap();
            }
            bodies
        })
    };
    let (host, mut events) =
        Host::start_with_events(config(&nats, &lattice, &cluster, &provider.dir))
            .await
            .unwrap();
    // Links are pushed fire-and-forget; the first health answer proves the provider listens, so
    // the host sends its links again then.
    let actor = KeyPair::new_module().public_key();
    host.put_link(link(&actor, &provider.public_key, &[("k", "v")]))
        .await
        .unwrap();
    let mut pushed = client
        .subscribe(subjects::provider_linkdefs_put(
            &lattice,
            &provider.public_key,
            "default",
        ))
        .await
        .unwrap();
    client.flush().await.unwrap();
    host.start_provider(provider.source(), "default", None, HashMap::new())
        .await
        .unwrap();
    let passed = next_event(&mut events, "health_check_passed").await;
    assert_eq!(
        passed,
        serde_json::json!({"public_key": provider.public_key, "link_name": "default"})
    );
    let again = within("links sent again once healthy", pushed.next())
        .await
        .unwrap();
    let again = LinkDefinition::decode(&again.payload).unwrap();
    assert_eq!(
        (again.actor_id.as_str(), again.values["k"].as_str()),
        (actor.as_str(), "v")
    );
    eventually("healthy", || host.providers()[0].healthy).await;
    let bodies = within("five health checks", responder).await.unwrap();
    let request: serde_json::Value = rmp_serde::from_slice(&bodies[0]).unwrap();
    assert_eq!(request, serde_json::json!({"placeholder": true}));
    let failed = next_event(&mut events, "health_check_failed").await;
    assert_eq!(failed["public_key"], provider.public_key.as_str());
    assert!(!host.providers()[0].healthy);
    // Five answers, one passed event: changes only.
    within("host stop", host.stop()).await.unwrap();
    let rest = common::drain(&mut events, Duration::from_millis(200)).await;
    assert_eq!(common::count(&rest, "health_check_passed"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_never_answers_health_is_reported_failed_once_and_the_host_is_unaffected() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("silent");
    let cluster = KeyPair::new_cluster();
    let provider = ScriptProvider::new("silent", RUN_FOREVER);
    let mut config = config(&nats, &lattice, &cluster, &provider.dir);
    config.provider_health_check_delay = Duration::from_millis(600);
    let (host, mut events) = Host::start_with_events(config).await.unwrap();
    host.start_provider(provider.source(), "default", None, HashMap::new())
        .await
        .unwrap();
    let failed = next_event(&mut events, "health_check_failed").await;
    assert_eq!(failed["public_key"], provider.public_key.as_str());
    let later = common::drain(&mut events, Duration::from_millis(800)).await;
    assert_eq!(
        common::count(&later, "health_check_failed"),
        0,
        "reported once, not per check"
    );
    assert!(!host.providers()[0].healthy);
    // The host serves as before.
    let client = client(&nats.url()).await;
    let p = subjects::ctl_prefix("wasmbus.ctl", &lattice);
    let inventory: HostInventory = serde_json::from_slice(
        &request(&client, subjects::host_inventory(&p, host.id()), "").await,
    )
    .unwrap();
    assert_eq!(inventory.providers.len(), 1);
    within("host stop", host.stop()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_interface_starts_auctions_and_stops_providers() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("ctlprov");
    let cluster = KeyPair::new_cluster();
    let provider = ScriptProvider::new("ctl", RUN_FOREVER);
    let host =
        Host::start(config(&nats, &lattice, &cluster, &provider.dir).with_label("zone", "a"))
            .await
            .unwrap();
    let mut events = host.subscribe_events().unwrap();
    let client = client(&nats.url()).await;
    let p = subjects::ctl_prefix("wasmbus.ctl", &lattice);
    let reference = format!("file://{}", provider.archive.display());

    // auction.provider: the host qualifies (labels match, not running yet); a constraint it lacks silences it.
    let auction = |constraints: &str| {
        format!(
            r#"{{"provider_ref":"{reference}","link_name":"default","constraints":{constraints}}}"#
        )
    };
    let replies = gather(
        &client,
        subjects::auction_provider(&p),
        auction(r#"{"zone":"a"}"#),
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(replies.len(), 1);
    let ack_: ProviderAuctionAck = serde_json::from_slice(&replies[0]).unwrap();
    assert_eq!(
        (ack_.host_id.as_str(), ack_.link_name.as_str()),
        (host.id(), "default")
    );
    assert!(gather(
        &client,
        subjects::auction_provider(&p),
        auction(r#"{"zone":"b"}"#),
        Duration::from_millis(300)
    )
    .await
    .is_empty());

    let lp = format!(
        r#"{{"provider_ref":"{reference}","link_name":"default","host_id":"{}","configuration":"c"}}"#,
        host.id()
    );
    assert!(
        ack(&request(
            &client,
            subjects::host_command(&p, host.id(), "lp"),
            lp.clone()
        )
        .await)
        .accepted
    );
    next_event(&mut events, "provider_started").await;
    assert_eq!(host.providers()[0].image_ref, reference);
    // Running now: a second lp is refused, by reference and by key, and the auction is silent.
    let reply = ack(&request(&client, subjects::host_command(&p, host.id(), "lp"), lp).await);
    assert_eq!(
        (reply.accepted, reply.error.as_str()),
        (
            false,
            "Provider with that link name is already running on this host"
        )
    );
    let failed = next_event(&mut events, "provider_start_failed").await;
    assert_eq!(failed["link_name"], "default");
    let by_key = format!(
        r#"{{"provider_ref":"{}","link_name":"default"}}"#,
        provider.public_key
    );
    assert!(
        !ack(&request(&client, subjects::host_command(&p, host.id(), "lp"), by_key).await).accepted
    );
    assert!(gather(
        &client,
        subjects::auction_provider(&p),
        auction("{}"),
        Duration::from_millis(300)
    )
    .await
    .is_empty());
    // Another link name is another provider instance.
    let other = format!(r#"{{"provider_ref":"{reference}","link_name":"backup"}}"#);
    assert!(
        ack(&request(&client, subjects::host_command(&p, host.id(), "lp"), other).await).accepted
    );
    eventually("two provider instances", || host.providers().len() == 2).await;

    // sp is acked once the provider is gone.
    let sp = format!(
        r#"{{"provider_ref":"{}","link_name":"default","contract_id":"{CONTRACT}"}}"#,
        provider.public_key
    );
    assert!(
        ack(&request(
            &client,
            subjects::host_command(&p, host.id(), "sp"),
            sp.clone()
        )
        .await)
        .accepted
    );
    assert_eq!(host.providers().len(), 1);
    let reply = ack(&request(&client, subjects::host_command(&p, host.id(), "sp"), sp).await);
    assert!(
        !reply.accepted && reply.error.contains("not running"),
        "{reply:?}"
    );
    // Malformed commands get failure acks; the host still answers.
    for (verb, body) in [
        ("lp", "{"),
        ("lp", r#"{"link_name":"default"}"#),
        ("sp", "[]"),
    ] {
        assert!(
            !ack(&request(&client, subjects::host_command(&p, host.id(), verb), body).await)
                .accepted,
            "{verb} {body}"
        );
    }
    assert!(!ack(&request(&client, subjects::auction_provider(&p), "nope").await).accepted);
    within("host stop", host.stop()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_provider_archives_and_hosts_without_nats_get_clear_errors() {
    // The embedded lattice has no NATS for a provider to join.
    let provider = ScriptProvider::new("bad", RUN_FOREVER);
    let embedded = Host::start(HostConfig::default()).await.unwrap();
    let err = embedded
        .start_provider(provider.source(), "default", None, HashMap::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("NATS"), "{err}");
    embedded.stop().await.unwrap();

    let nats = NatsServer::start();
    let cluster = KeyPair::new_cluster();
    let (host, mut events) = Host::start_with_events(config(
        &nats,
        &unique_lattice("bad"),
        &cluster,
        &provider.dir,
    ))
    .await
    .unwrap();
    let start = |source: ProviderSource| {
        let host = host.clone();
        async move {
            host.start_provider(source, "default", None, HashMap::new())
                .await
                .unwrap_err()
        }
    };
    // Missing file, garbage, a tampered binary, no binary for this machine, empty link name.
    let err = start(ProviderSource::File(provider.dir.join("missing.par.gz"))).await;
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let failed = next_event(&mut events, "provider_start_failed").await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("cannot read provider archive"),
        "{failed}"
    );
    assert_eq!(
        failed["provider_ref"],
        format!("file://{}", provider.dir.join("missing.par.gz").display())
    );
    let err = start(ProviderSource::Bytes(b"not an archive".to_vec().into())).await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let failed = next_event(&mut events, "provider_start_failed").await;
    assert!(
        failed["error"].as_str().unwrap().contains("archive"),
        "{failed}"
    );

    let spec = |target: &str, binary: &[u8]| ProviderArchiveSpec {
        capid: CONTRACT.into(),
        vendor: "tests".into(),
        binaries: BTreeMap::from([(target.to_string(), binary.to_vec())]),
        ..Default::default()
    };
    let signed = create_archive(
        &spec(&native_target(), b"#!/bin/sh\nexit 0\n"),
        &KeyPair::new_account(),
        &KeyPair::new_service(),
    )
    .unwrap();
    let tampered = tamper_binary(&signed);
    let err = start(ProviderSource::Bytes(tampered.into())).await;
    assert_eq!(err.kind(), ErrorKind::Claims, "{err}");
    assert!(
        err.message().contains("does not match its signed hash"),
        "{err}"
    );
    let failed = next_event(&mut events, "provider_start_failed").await;
    assert!(
        failed["error"].as_str().unwrap().contains("signed hash"),
        "{failed}"
    );
    let foreign = create_archive(
        &spec("riscv64-plan9", b"x"),
        &KeyPair::new_account(),
        &KeyPair::new_service(),
    )
    .unwrap();
    let err = start(ProviderSource::Bytes(foreign.into())).await;
    assert!(err.message().contains(&native_target()), "{err}");
    let failed = next_event(&mut events, "provider_start_failed").await;
    assert!(
        failed["error"].as_str().unwrap().contains(&native_target()),
        "{failed}"
    );
    let err = host
        .start_provider(provider.source(), "", None, HashMap::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(host.providers().is_empty());

    // The host is fine: a good provider starts, and a second start of it is refused.
    host.start_provider(provider.source(), "default", None, HashMap::new())
        .await
        .unwrap();
    let err = host
        .start_provider(provider.source(), "default", None, HashMap::new())
        .await
        .unwrap_err();
    assert!(err.message().contains("already running"), "{err}");
    within("host stop", host.stop()).await.unwrap();
}

/// Re-packs a signed archive with its binary's last byte flipped (the claims stay as signed).
fn tamper_binary(archive: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(archive)
        .read_to_end(&mut tar_bytes)
        .unwrap();
    let mut out = tar::Builder::new(Vec::new());
    for entry in tar::Archive::new(&tar_bytes[..]).entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if path.to_string_lossy().ends_with(".bin") {
            *data.last_mut().unwrap() ^= 1;
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o755);
        header.set_cksum();
        out.append_data(&mut header, path, &data[..]).unwrap();
    }
    out.into_inner().unwrap()
}
