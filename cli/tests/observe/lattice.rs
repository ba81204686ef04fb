//! The lattice observer against three `wasmhost up` processes on a real nats-server: what the
//! lattice does (start, scale, link, a provider crash, stop) is in the observer's snapshot within
//! 1 s of the event that announces it; a host killed with SIGKILL (no `host_stopped`) disappears
//! after its missed heartbeats. Waits are bounded polls of the snapshot, not timing assertions.

use std::time::Duration;

use crate::lattice_support::*;
use crate::provider_support::*;
use crate::up_support::*;
use futures::StreamExt;
use nkeys::KeyPair;
use wasmhost::observer::{
    HostGone, LatticeObserver, LatticeSnapshot, ObserverConfig, ProviderHealth,
};
use wasmhost::protocol::events::CloudEvent;
use wasmhost::protocol::subjects;

const ECHO_PK: &str = "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75";
/// What "appears within 1 s" means here: after the event was seen on the wire.
const VISIBLE_WITHIN: Duration = Duration::from_secs(1);
/// How long the hosts may take to do the work (debug builds on a busy machine).
const WORK_WITHIN: Duration = Duration::from_secs(60);

/// Raw lattice events, to know when something happened independently of the observer.
struct Wire(async_nats::Subscriber);

impl Wire {
    /// Waits for `n` events of type `kind` from `source` (bounded).
    async fn wait(&mut self, kind: &str, source: &str, n: usize) {
        let mut seen = 0;
        let deadline = tokio::time::Instant::now() + WORK_WITHIN;
        while seen < n {
            let message = tokio::time::timeout_at(deadline, self.0.next())
                .await
                .unwrap_or_else(|_| panic!("no {kind} from {source} on the wire"))
                .expect("subscription open");
            let Ok(event) = CloudEvent::from_json_bytes(&message.payload) else {
                continue;
            };
            if event.short_type() == kind && event.source == source {
                seen += 1;
            }
        }
    }
}

/// The snapshot satisfies `check` within `within`, else the test fails showing the last snapshot.
async fn visible(
    observer: &LatticeObserver,
    what: &str,
    within: Duration,
    check: impl FnMut(&LatticeSnapshot) -> bool,
) -> LatticeSnapshot {
    match observer.wait_for(within, check).await {
        Ok(snapshot) => snapshot,
        Err(last) => panic!(
            "{what}: not in the snapshot within {within:?}; last snapshot: {}",
            last.to_json()
        ),
    }
}

fn echo_instances(snapshot: &LatticeSnapshot, host: &str) -> usize {
    snapshot
        .host(host)
        .and_then(|h| h.actor(ECHO_PK))
        .map_or(0, |a| a.instances.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_observer_follows_three_host_processes() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("observe");
    let cluster = KeyPair::new_cluster();
    let fast = [("WASMCLOUD_HEARTBEAT_INTERVAL_MS", "300")];
    let mut a = UpProcess::start_in_zone(&nats.url(), &lattice, &cluster, "a", &[], &fast);
    let b = UpProcess::start_in_zone(&nats.url(), &lattice, &cluster, "b", &[], &fast);
    let c = UpProcess::start_in_zone(&nats.url(), &lattice, &cluster, "c", &[], &fast);
    let client = client(&nats.url()).await;
    let mut wire = Wire(client.subscribe(subjects::events(&lattice)).await.unwrap());
    client.flush().await.unwrap();
    let p = subjects::ctl_prefix("wasmbus.ctl", &lattice);

    // Seeded from ping.hosts: every host, with its labels.
    let observer = LatticeObserver::connect(&nats.url(), ObserverConfig::for_lattice(&lattice))
        .await
        .expect("observer connects");
    let snapshot = visible(&observer, "three hosts", Duration::from_secs(10), |s| {
        s.hosts.len() == 3
    })
    .await;
    for (host, zone) in [(&a.id, "a"), (&b.id, "b"), (&c.id, "c")] {
        let state = snapshot.host(host).expect("host seeded");
        assert_eq!(state.labels.get("zone").map(String::as_str), Some(zone));
        assert!(!state.friendly_name.is_empty() && !state.version.is_empty());
    }

    // Start one instance of echo on B, then scale it to 3.
    let la = format!(
        r#"{{"actor_ref":"{}","host_id":"{}","count":1}}"#,
        actor_ref("echo"),
        b.id
    );
    assert!(ack(&request(&client, subjects::host_command(&p, &b.id, "la"), la).await).accepted);
    wire.wait("actor_started", &b.id, 1).await;
    let snapshot = visible(&observer, "echo on B", VISIBLE_WITHIN, |s| {
        echo_instances(s, &b.id) == 1
    })
    .await;
    let echo = snapshot.host(&b.id).unwrap().actor(ECHO_PK).unwrap();
    assert_eq!(echo.name, "Echo");
    assert!(echo.image_ref.ends_with("echo.wasm"), "{}", echo.image_ref);
    let scale = format!(
        r#"{{"actor_id":"{ECHO_PK}","actor_ref":"{}","count":3,"host_id":"{}"}}"#,
        actor_ref("echo"),
        b.id
    );
    assert!(
        ack(&request(&client, subjects::host_command(&p, &b.id, "scale"), scale).await).accepted
    );
    wire.wait("actor_started", &b.id, 2).await;
    visible(&observer, "echo scaled to 3", VISIBLE_WITHIN, |s| {
        echo_instances(s, &b.id) == 3
    })
    .await;

    // A provider on C: started, then crashed (SIGKILL to its process), then restarted by the host.
    let provider = ScriptProvider::new("observed", RUN_FOREVER);
    let lp = format!(
        r#"{{"provider_ref":"file://{}","link_name":"default"}}"#,
        provider.archive.display()
    );
    assert!(ack(&request(&client, subjects::host_command(&p, &c.id, "lp"), lp).await).accepted);
    wire.wait("provider_started", &c.id, 1).await;
    visible(&observer, "provider on C", VISIBLE_WITHIN, |s| {
        s.host(&c.id)
            .is_some_and(|h| h.provider(&provider.public_key, "default").is_some())
    })
    .await;
    eventually("the provider process runs", || !provider.pids().is_empty()).await;
    let pid = provider.pids()[0];
    assert!(std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    wire.wait("provider_stopped", &c.id, 1).await;
    let snapshot = visible(&observer, "the crash", VISIBLE_WITHIN, |s| {
        s.host(&c.id)
            .and_then(|h| h.provider(&provider.public_key, "default"))
            .is_some_and(|p| p.health == ProviderHealth::Exited)
    })
    .await;
    let crashed = snapshot
        .host(&c.id)
        .unwrap()
        .provider(&provider.public_key, "default")
        .unwrap();
    assert!(
        crashed
            .exit_reason
            .as_deref()
            .is_some_and(|r| r.contains('9')),
        "{:?}",
        crashed.exit_reason
    );
    wire.wait("provider_started", &c.id, 1).await;
    visible(&observer, "the restart", VISIBLE_WITHIN, |s| {
        s.host(&c.id)
            .and_then(|h| h.provider(&provider.public_key, "default"))
            .is_some_and(|p| p.health != ProviderHealth::Exited)
    })
    .await;

    // A link, then echo stopped.
    let link = format!(
        r#"{{"actor_id":"{ECHO_PK}","provider_id":"{}","link_name":"default","contract_id":"{CONTRACT}","values":{{"URL":"x"}}}}"#,
        provider.public_key
    );
    assert!(ack(&request(&client, subjects::linkdefs_put(&p), link).await).accepted);
    visible(&observer, "the link", Duration::from_secs(10), |s| {
        s.links
            .iter()
            .any(|l| l.actor_id == ECHO_PK && l.provider_id == provider.public_key)
    })
    .await;
    let sa = format!(
        r#"{{"actor_ref":"{ECHO_PK}","count":0,"host_id":"{}"}}"#,
        b.id
    );
    assert!(ack(&request(&client, subjects::host_command(&p, &b.id, "sa"), sa).await).accepted);
    wire.wait("actor_stopped", &b.id, 3).await;
    visible(&observer, "echo stopped", VISIBLE_WITHIN, |s| {
        s.host(&b.id).is_some_and(|h| h.actors.is_empty())
    })
    .await;

    // A killed host sends no host_stopped: it goes after three missed heartbeats.
    let mut changes = observer.subscribe();
    a.sigkill();
    let expired = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(change) = changes.next().await {
            if let wasmhost::observer::LatticeChange::HostRemoved { host_id, reason } =
                &change.change
            {
                if *host_id == a.id {
                    return *reason;
                }
            }
        }
        panic!("the change stream ended");
    })
    .await
    .expect("the killed host expires within 30 s");
    assert_eq!(expired, HostGone::Expired);
    let snapshot = observer.snapshot();
    assert!(snapshot.host(&a.id).is_none());
    assert!(
        snapshot.host(&b.id).is_some() && snapshot.host(&c.id).is_some(),
        "the live hosts stay: {}",
        snapshot.to_json()
    );
}
