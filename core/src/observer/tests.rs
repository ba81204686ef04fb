//! The state machine replayed on recorded event sequences: a `wasmhost up` session captured with
//! `wasmhost ctl watch events --output json` (testdata/wasmhost_up_session.jsonl), OTP v0.59
//! shapes from LATTICE.md §2 and the heartbeat vector recorded from the 2022 crates.

use std::time::Duration;

use wasmhost_protocol::ctl::{
    ActorDescription, ActorInstance, HostInventory, HostPing, ProviderDescription, StringMap,
};
use wasmhost_protocol::events::CloudEvent;
use wasmhost_protocol::rpc::LinkDefinition;

use super::*;

const SESSION: &str = include_str!("testdata/wasmhost_up_session.jsonl");
const OTP_PROVIDERS: &str = include_str!("testdata/otp_v059_providers.jsonl");
const HEARTBEAT_VECTOR: &str = include_str!("testdata/otp_heartbeat_vector.json");

const OUR_HOST: &str = "NBCAGA6BCUFLESEIUHOGPTHI4H2T6SXT4TGF3UAKQLODMHTSXYOEHPTS";
const ECHO: &str = "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75";
const OTP_HOST: &str = "NCE7YHGI42RWEKBRDJZWXBEJJCFNE5YLUJ7VE4AYHDJ5ZMDDPPKUQ6UC";
const OTP_ECHO: &str = "MBCFOPM6JW2APJLXJD3Z5O4CN7CPYJ2B4FTKLJUR5YR5MITIU7HD3WD5";
const HTTPSERVER: &str = "VAG3QITQQ2ODAOWB5TTQSDJ53XK3SHBEIFNK4AYJ5RKAX2UNSCAPHA5M";

fn events(jsonl: &str) -> Vec<CloudEvent> {
    jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| CloudEvent::from_json_bytes(l.as_bytes()).expect("recorded event parses"))
        .collect()
}

fn state() -> ObserverState {
    ObserverState::new("rec", ExpiryPolicy::default())
}

/// Applies events 100 ms apart from `start_ms`; every change made, in order.
fn replay(state: &mut ObserverState, events: &[CloudEvent], start_ms: u64) -> Vec<ChangeEvent> {
    events
        .iter()
        .enumerate()
        .flat_map(|(i, e)| state.apply_event(e, start_ms + 100 * i as u64))
        .collect()
}

fn kinds(changes: &[ChangeEvent]) -> Vec<&'static str> {
    changes
        .iter()
        .map(|c| c.change.kind())
        .filter(|k| *k != "host_seen")
        .collect()
}

fn instances(snapshot: &LatticeSnapshot, host: &str, actor: &str) -> usize {
    snapshot
        .host(host)
        .and_then(|h| h.actor(actor))
        .map_or(0, |a| a.instances.len())
}

#[test]
fn a_recorded_wasmhost_session_replays_step_by_step() {
    let recorded = events(SESSION);
    let mut state = state();
    // host_started, two heartbeats (the first tells the version), three actor_started (two with
    // annotations, one from the scale).
    let changes = replay(&mut state, &recorded[..6], 0);
    assert_eq!(
        kinds(&changes),
        [
            "host_added",
            "host_updated",
            "actor_added",
            "claims_set",
            "actor_scaled",
            "actor_scaled"
        ]
    );
    let snapshot = state.snapshot();
    let host = snapshot.host(OUR_HOST).expect("host known");
    assert_eq!(host.friendly_name, "damp-wood-1901");
    assert_eq!(host.labels.get("zone").map(String::as_str), Some("rec"));
    assert_eq!(host.version, "0.1.0");
    let echo = host.actor(ECHO).expect("echo runs");
    assert_eq!(
        (echo.name.as_str(), echo.revision, echo.instances.len()),
        ("Echo", 1, 3)
    );
    assert!(
        echo.image_ref.ends_with("examples/actors/echo.wasm"),
        "{}",
        echo.image_ref
    );
    assert_eq!(
        echo.instances
            .iter()
            .filter(|i| i.annotations.get("app").map(String::as_str) == Some("rec"))
            .count(),
        2
    );
    let claims = &snapshot.claims[0];
    assert_eq!(
        (
            claims.public_key.as_str(),
            claims.name.as_str(),
            claims.caps.clone()
        ),
        (ECHO, "Echo", vec!["wasmcloud:httpserver".to_string()])
    );
    assert_eq!(snapshot.seq, changes.last().unwrap().seq);

    // The heartbeat agrees (no change but host_seen); the link is set; failures are reported.
    let changes = replay(&mut state, &recorded[6..12], 1_000);
    assert_eq!(
        kinds(&changes),
        [
            "link_set",
            "actor_start_failed",
            "actor_update_failed",
            "actor_update_failed",
            "actor_update_failed"
        ]
    );
    match &changes
        .iter()
        .find(|c| c.change.kind() == "actor_start_failed")
        .unwrap()
        .change
    {
        LatticeChange::ActorStartFailed {
            host_id,
            actor_ref,
            error,
        } => {
            assert_eq!(
                (host_id.as_str(), actor_ref.as_str()),
                (OUR_HOST, "file:///nonexistent.wasm")
            );
            assert!(error.contains("No such file"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    let snapshot = state.snapshot();
    assert_eq!(snapshot.links.len(), 1);
    assert_eq!(
        snapshot.links[0].values.get("URL").map(String::as_str),
        Some("redis://127.0.0.1:6379/")
    );
    assert_eq!(
        instances(&snapshot, OUR_HOST, ECHO),
        3,
        "a failed update keeps every instance"
    );

    // Link deleted, one instance stopped, two heartbeats agreeing, the rest stopped, host stopped.
    let changes = replay(&mut state, &recorded[12..18], 2_000);
    assert_eq!(
        kinds(&changes),
        [
            "link_deleted",
            "actor_scaled",
            "actor_scaled",
            "actor_removed"
        ]
    );
    assert!(state.snapshot().host(OUR_HOST).unwrap().actors.is_empty());
    let changes = replay(&mut state, &recorded[18..], 3_000);
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0].change,
        LatticeChange::HostRemoved {
            host_id: OUR_HOST.into(),
            reason: HostGone::Stopped
        }
    );
    assert!(state.snapshot().hosts.is_empty());
    assert_eq!(
        state.snapshot().claims.len(),
        1,
        "claims outlive the actor, as in get.claims"
    );
}

#[test]
fn changes_are_numbered_without_gaps() {
    let mut state = state();
    let changes = replay(&mut state, &events(SESSION), 0);
    let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (1..=changes.len() as u64).collect::<Vec<_>>());
    assert_eq!(state.seq(), changes.len() as u64);
}

#[test]
fn otp_provider_events_drive_health_and_an_abnormal_exit() {
    let mut state = state();
    let recorded = events(OTP_PROVIDERS);
    replay(&mut state, &recorded[..4], 0);
    let snapshot = state.snapshot();
    let host = snapshot.host(OTP_HOST).unwrap();
    let provider = host
        .provider(HTTPSERVER, "default")
        .expect("provider listed");
    assert_eq!(
        (
            provider.name.as_str(),
            provider.contract_id.as_str(),
            provider.health
        ),
        (
            "HTTP Server",
            "wasmcloud:httpserver",
            ProviderHealth::Healthy
        )
    );
    assert_eq!(host.actor(OTP_ECHO).unwrap().revision, 4);
    let provider_claims = snapshot
        .claims
        .iter()
        .find(|c| c.public_key == HTTPSERVER)
        .unwrap();
    assert_eq!(provider_claims.contract_id, "wasmcloud:httpserver");

    let changes = replay(&mut state, &recorded[4..], 1_000);
    assert_eq!(
        kinds(&changes),
        [
            "link_set",
            "provider_health_changed",
            "provider_health_changed"
        ]
    );
    let provider = state
        .snapshot()
        .host(OTP_HOST)
        .unwrap()
        .provider(HTTPSERVER, "default")
        .cloned()
        .unwrap();
    assert_eq!(provider.health, ProviderHealth::Exited);
    assert_eq!(provider.exit_reason.as_deref(), Some("{:exit_status, 137}"));

    // The OTP host does not restart it: its next heartbeat (after the grace) no longer lists it.
    let heartbeat = CloudEvent::new(
        "host_heartbeat",
        OTP_HOST,
        serde_json::json!({"actors": [{"public_key": OTP_ECHO, "instance_id": "3d6f0000-0000-4000-8000-000000000001"}], "providers": []}),
    );
    let changes = state.apply_event(&heartbeat, 10_000);
    assert_eq!(kinds(&changes), ["provider_removed"]);
    match &changes[0].change {
        LatticeChange::ProviderRemoved { reason, .. } => assert_eq!(reason, "{:exit_status, 137}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_stopped_provider_is_removed_at_once() {
    let mut state = state();
    replay(&mut state, &events(OTP_PROVIDERS)[..3], 0);
    let stop = CloudEvent::new(
        "provider_stopped",
        OTP_HOST,
        serde_json::json!({"public_key": HTTPSERVER, "link_name": "default", "contract_id": "wasmcloud:httpserver", "instance_id": "x", "reason": "normal"}),
    );
    let changes = state.apply_event(&stop, 1_000);
    assert_eq!(kinds(&changes), ["provider_removed"]);
    // A heartbeat built before the stop still lists it: it does not come back.
    let stale = CloudEvent::new(
        "host_heartbeat",
        OTP_HOST,
        serde_json::json!({"actors": [], "providers": [{"public_key": HTTPSERVER, "link_name": "default", "contract_id": "wasmcloud:httpserver", "instance_id": "x"}]}),
    );
    assert!(!kinds(&state.apply_event(&stale, 1_100)).contains(&"provider_added"));
}

#[test]
fn a_heartbeat_from_an_unknown_host_adds_it_and_asks_for_its_inventory() {
    let mut state = state();
    let heartbeat = CloudEvent::from_json_bytes(HEARTBEAT_VECTOR.as_bytes()).unwrap();
    let changes = state.apply_event(&heartbeat, 0);
    assert_eq!(
        kinds(&changes),
        ["host_added", "actor_added", "provider_added"]
    );
    let host_id = heartbeat.source.clone();
    assert_eq!(state.take_inventory_requests(), vec![host_id.clone()]);
    assert!(
        state.take_inventory_requests().is_empty(),
        "asked once per need"
    );
    let snapshot = state.snapshot();
    let host = snapshot.host(&host_id).unwrap();
    assert_eq!(
        (
            host.friendly_name.as_str(),
            host.uptime_seconds,
            host.version.as_str()
        ),
        ("vectors-host-0001", 3723, "0.59.0")
    );
    let actor_key = "MB3YFG3MKA2INWK3R7UZ5J4VKRCLQREI42ASDYNV3JAVJPKZGQYXJJBJ";
    assert_eq!(
        host.actor(actor_key).unwrap().name,
        "",
        "a heartbeat has no names"
    );

    // The inventory fills the details in.
    let inventory = HostInventory {
        host_id: host_id.clone(),
        issuer: "CC4PEB6LR6S7SCYQIWPVD2SKHPXSRDYG7FQSUC5HXIQ6RCMI7VQG52G6".into(),
        friendly_name: "vectors-host-0001".into(),
        actors: vec![ActorDescription {
            id: actor_key.into(),
            image_ref: Some("registry.example.com/vectors/actor:0.1.0".into()),
            name: Some("Vectors".into()),
            instances: vec![ActorInstance {
                instance_id: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d".into(),
                annotations: [("k".to_string(), "v".to_string())].into(),
                revision: 2,
            }],
        }],
        providers: vec![ProviderDescription {
            id: "VD4JAQI6QCBMSDPBDHVMBCURPGK6CSYMXIQVTQ32UGJ3FAG4S2OOP6UI".into(),
            image_ref: Some("n/a".into()),
            link_name: "default".into(),
            name: Some("KV".into()),
            instance_id: "0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e".into(),
            revision: 1,
            ..Default::default()
        }],
        ..Default::default()
    };
    let changes = state.apply_inventory(&inventory, 100);
    assert_eq!(kinds(&changes), ["host_updated", "actor_changed"]);
    let snapshot = state.snapshot();
    let host = snapshot.host(&host_id).unwrap();
    let actor = host.actor(actor_key).unwrap();
    assert_eq!(
        (
            actor.name.as_str(),
            actor.revision,
            actor.instances[0].annotations.get("k").map(String::as_str)
        ),
        ("Vectors", 2, Some("v"))
    );
    let provider = &host.providers[0];
    assert_eq!(
        (
            provider.name.as_str(),
            provider.image_ref.as_str(),
            provider.contract_id.as_str()
        ),
        ("KV", "", "wasmcloud:keyvalue")
    );
    assert_eq!(
        host.issuer,
        "CC4PEB6LR6S7SCYQIWPVD2SKHPXSRDYG7FQSUC5HXIQ6RCMI7VQG52G6"
    );
}

#[test]
fn heartbeats_correct_instance_counts_in_both_shapes() {
    let mut state = state();
    let host = "NHOST";
    let v059 = |ids: &[&str]| {
        let actors: Vec<_> = ids
            .iter()
            .map(|id| serde_json::json!({"public_key": "MACTOR", "instance_id": id}))
            .collect();
        CloudEvent::new(
            "host_heartbeat",
            host,
            serde_json::json!({"actors": actors, "providers": []}),
        )
    };
    state.apply_event(&v059(&["a", "b"]), 0);
    assert_eq!(instances(&state.snapshot(), host, "MACTOR"), 2);
    // A missed actor_started and a missed actor_stopped, both corrected.
    let changes = state.apply_event(&v059(&["b", "c", "d"]), 1_000);
    assert!(
        changes.iter().any(|c| c.change
            == LatticeChange::ActorScaled {
                host_id: host.into(),
                public_key: "MACTOR".into(),
                previous: 2,
                instances: 3
            }),
        "{changes:?}"
    );
    let ids: Vec<String> = state
        .snapshot()
        .host(host)
        .unwrap()
        .actor("MACTOR")
        .unwrap()
        .instances
        .iter()
        .map(|i| i.instance_id.clone())
        .collect();
    assert_eq!(ids, ["b", "c", "d"]);
    // The v0.60 shape: public key → count.
    let v060 = |n: u64| {
        CloudEvent::new(
            "host_heartbeat",
            host,
            serde_json::json!({"actors": {"MACTOR": n}, "providers": []}),
        )
    };
    state.apply_event(&v060(5), 2_000);
    assert_eq!(instances(&state.snapshot(), host, "MACTOR"), 5);
    state.apply_event(&v060(1), 3_000);
    assert_eq!(instances(&state.snapshot(), host, "MACTOR"), 1);
    let changes = state.apply_event(&v060(0), 4_000);
    assert!(kinds(&changes).contains(&"actor_removed"));
    assert!(state.snapshot().host(host).unwrap().actors.is_empty());
}

#[test]
fn a_heartbeat_taken_before_an_event_does_not_undo_it() {
    let mut state = state();
    let recorded = events(SESSION);
    replay(&mut state, &recorded[..3], 0);
    // Three instances started at ~1000 ms; a heartbeat built just before lists none of them.
    for (i, e) in recorded[3..6].iter().enumerate() {
        state.apply_event(e, 1_000 + i as u64);
    }
    let stale = CloudEvent::new(
        "host_heartbeat",
        OUR_HOST,
        serde_json::json!({"actors": [], "providers": []}),
    );
    state.apply_event(&stale, 1_100);
    assert_eq!(instances(&state.snapshot(), OUR_HOST, ECHO), 3);
    // The same heartbeat well after the events wins: the instances are gone.
    state.apply_event(&stale, 10_000);
    assert_eq!(instances(&state.snapshot(), OUR_HOST, ECHO), 0);
}

#[test]
fn a_silent_host_expires_after_missed_heartbeats_of_its_learnt_interval() {
    let mut state = state();
    let beat = || {
        CloudEvent::new(
            "host_heartbeat",
            "NFAST",
            serde_json::json!({"actors": [], "providers": []}),
        )
    };
    state.apply_event(&beat(), 0);
    // Until two gaps are seen, the assumed 30 s interval holds.
    assert_eq!(state.expiry_after("NFAST"), Some(Duration::from_secs(90)));
    state.apply_event(&beat(), 1_500);
    state.apply_event(&beat(), 3_000);
    assert_eq!(
        state.expiry_after("NFAST"),
        Some(Duration::from_millis(4_500))
    );
    assert!(
        state.expire(3_000 + 4_500).is_empty(),
        "not before the third missed heartbeat"
    );
    let changes = state.expire(3_000 + 4_501);
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0].change,
        LatticeChange::HostRemoved {
            host_id: "NFAST".into(),
            reason: HostGone::Expired
        }
    );
    // It comes back with its next heartbeat.
    assert_eq!(kinds(&state.apply_event(&beat(), 20_000)), ["host_added"]);
}

#[test]
fn short_gaps_after_pings_never_shrink_the_interval_below_the_floor() {
    let mut state = state();
    let beat = || CloudEvent::new("host_heartbeat", "NPING", serde_json::json!({}));
    for at in [0, 10, 20, 30] {
        state.apply_event(&beat(), at);
    }
    assert_eq!(state.expiry_after("NPING"), Some(Duration::from_secs(3)));
    let fixed = ObserverState::new(
        "x",
        ExpiryPolicy {
            heartbeat_interval: Some(Duration::from_millis(200)),
            missed_heartbeats: 5,
            ..Default::default()
        },
    );
    let mut fixed = fixed;
    fixed.apply_event(&beat(), 0);
    assert_eq!(fixed.expiry_after("NPING"), Some(Duration::from_secs(1)));
}

#[test]
fn seeding_from_ping_links_and_claims() {
    let mut state = state();
    let ping = HostPing {
        id: "NSEED".into(),
        friendly_name: "seed-host-1".into(),
        version: "0.59.0".into(),
        uptime_seconds: 73,
        issuer: "CKEY".into(),
        ..Default::default()
    };
    assert_eq!(kinds(&state.apply_ping(&ping, 0)), ["host_added"]);
    assert!(state.apply_ping(&ping, 10).is_empty(), "nothing changed");
    let link = |actor: &str, port: &str| LinkDefinition {
        actor_id: actor.into(),
        provider_id: HTTPSERVER.into(),
        link_name: "default".into(),
        contract_id: "wasmcloud:httpserver".into(),
        values: [("PORT".to_string(), port.to_string())].into(),
    };
    assert_eq!(
        kinds(&state.apply_links(&[link("MA", "1"), link("MB", "2")], 0)),
        ["link_set", "link_set"]
    );
    // A later list replaces: MA changed, MB gone.
    assert_eq!(
        kinds(&state.apply_links(&[link("MA", "3")], 10_000)),
        ["link_deleted", "link_set"]
    );
    // A link an event just set survives a list taken before it.
    state.apply_event(
        &CloudEvent::new(
            "linkdef_set",
            "NSEED",
            serde_json::to_value(link("MC", "4")).unwrap(),
        ),
        20_000,
    );
    state.apply_links(&[link("MA", "3")], 20_500);
    assert_eq!(state.snapshot().links.len(), 2);

    // get.claims maps: comma-joined lists, revision as a string, null version read as "".
    let map: StringMap = [
        ("sub", "MA"),
        ("iss", "AISS"),
        ("name", "A"),
        ("caps", "wasmcloud:httpserver,wasmcloud:keyvalue"),
        ("tags", ""),
        ("rev", "7"),
        ("version", ""),
        ("call_alias", "a/b"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(
        kinds(&state.apply_claims(&[map.clone(), StringMap::new()])),
        ["claims_set"]
    );
    let claims = state
        .snapshot()
        .claims
        .into_iter()
        .find(|c| c.public_key == "MA")
        .unwrap();
    assert_eq!(
        (
            claims.caps.len(),
            claims.revision,
            claims.call_alias.as_str(),
            claims.tags.len()
        ),
        (2, 7, "a/b", 0)
    );
    assert!(
        state.apply_claims(&[map]).is_empty(),
        "same claims, no change"
    );
}

#[test]
fn malformed_and_foreign_events_change_nothing() {
    let mut state = state();
    for event in [
        CloudEvent::new(
            "actor_started",
            OUR_HOST,
            serde_json::json!("not an object"),
        ),
        CloudEvent::new(
            "actor_started",
            OUR_HOST,
            serde_json::json!({"public_key": 7}),
        ),
        CloudEvent::new("host_heartbeat", "", serde_json::json!({})),
        CloudEvent::new("linkdef_set", "n/a", serde_json::json!({"actor_id": "MA"})),
        CloudEvent::new("invocation_succeeded", OUR_HOST, serde_json::json!({})),
        CloudEvent {
            event_type: "org.example.other".into(),
            ..CloudEvent::new("x", OUR_HOST, serde_json::json!({}))
        },
        CloudEvent::new("host_stopped", "NUNKNOWN", serde_json::json!({})),
        CloudEvent::new(
            "actor_stopped",
            OUR_HOST,
            serde_json::json!({"public_key": ECHO, "instance_id": "nope"}),
        ),
    ] {
        state.apply_event(&event, 0);
    }
    let snapshot = state.snapshot();
    // Only the host that sent actor events is known (they prove it exists); nothing else.
    assert_eq!(
        snapshot
            .hosts
            .iter()
            .map(|h| h.id.as_str())
            .collect::<Vec<_>>(),
        [OUR_HOST]
    );
    assert!(
        snapshot.hosts[0].actors.is_empty()
            && snapshot.links.is_empty()
            && snapshot.claims.is_empty()
    );
}

#[test]
fn the_snapshot_and_changes_have_one_stable_json_shape() {
    let mut state = state();
    let changes = replay(&mut state, &events(SESSION)[..7], 1_700_000_000_000);
    let json: serde_json::Value = serde_json::from_str(&state.snapshot().to_json()).unwrap();
    let host = &json["hosts"][0];
    for key in [
        "id",
        "friendly_name",
        "labels",
        "issuer",
        "version",
        "uptime_seconds",
        "uptime_human",
        "last_seen_ms",
        "actors",
        "providers",
    ] {
        assert!(host.get(key).is_some(), "host.{key} missing: {host}");
    }
    let actor = &host["actors"][0];
    assert_eq!(actor["public_key"], ECHO);
    assert_eq!(actor["instances"].as_array().unwrap().len(), 3);
    assert!(json["links"].is_array() && json["claims"].is_array() && json["lattice"] == "rec");
    let change: serde_json::Value = serde_json::from_str(&changes[1].to_json()).unwrap();
    assert_eq!(change["kind"], changes[1].change.kind());
    assert_eq!(change["seq"], changes[1].seq);
    // Changes read back into the same values (the bindings parse them).
    for change in &changes {
        assert_eq!(
            &serde_json::from_str::<ChangeEvent>(&change.to_json()).unwrap(),
            change
        );
    }
    assert_eq!(
        serde_json::from_value::<LatticeSnapshot>(json).unwrap(),
        state.snapshot()
    );
}

#[test]
fn options_from_json_name_what_is_wrong() {
    let config = ObserverConfig::from_json(r#"{"lattice":"prod","missed_heartbeats":5,"heartbeat_interval_ms":250,"ping_timeout_ms":300}"#).unwrap();
    assert_eq!(
        (
            config.lattice.as_str(),
            config.expiry.missed_heartbeats,
            config.expiry.heartbeat_interval
        ),
        ("prod", 5, Some(Duration::from_millis(250)))
    );
    assert_eq!(config.ping_timeout, Duration::from_millis(300));
    assert_eq!(ObserverConfig::from_json("").unwrap().lattice, "default");
    assert_eq!(
        ObserverConfig::from_json("null").unwrap().expiry,
        ExpiryPolicy::default()
    );
    for (json, needle) in [
        (r#"{"latice":"x"}"#, "latice"),
        (r#"{"missed_heartbeats":0}"#, "missed_heartbeats"),
        (r#"{"ping_timeout_ms":0}"#, "ping_timeout_ms"),
        ("[1]", "invalid observer options"),
    ] {
        let err = ObserverConfig::from_json(json).unwrap_err().to_string();
        assert!(err.contains(needle), "{json}: {err}");
    }
}
