//! Host and actor lifecycle: scale, update, stop, links, policy, and the events of each step.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use wasmhost::protocol::rpc::LinkDefinition;
use wasmhost::{ErrorKind, HostConfig, Policy, PolicyDecision, PolicyRequest};

const WAIT: Duration = Duration::from_millis(200);

#[tokio::test]
async fn scale_one_to_five_to_zero_with_events() {
    let (host, mut events) = wasmhost::Host::start_with_events(HostConfig::default())
        .await
        .unwrap();
    let started = drain(&mut events, WAIT).await;
    assert_eq!(count(&started, "host_started"), 1);
    let heartbeat = started
        .iter()
        .find(|(k, _)| k == "host_heartbeat")
        .expect("a heartbeat right at start");
    assert!(heartbeat.1["labels"]["hostcore.os"].is_string());

    let echo = host
        .start_actor(
            example_actor("echo").into(),
            1,
            HashMap::from([("app".into(), "demo".into())]),
        )
        .await
        .unwrap();
    let pk = echo.public_key.clone();
    let seen = drain(&mut events, WAIT).await;
    let started = seen
        .iter()
        .find(|(k, _)| k == "actor_started")
        .expect("actor_started");
    assert_eq!(started.1["public_key"], pk);
    assert_eq!(started.1["annotations"]["app"], "demo");
    assert_eq!(
        started.1["claims"]["caps"],
        serde_json::json!(["wasmcloud:httpserver"])
    );
    assert_eq!(started.1["claims"]["name"], "Echo");

    let scaled = host.scale_actor(&pk, 5, none()).await.unwrap();
    assert_eq!(scaled.instances.len(), 5);
    assert_eq!(count(&drain(&mut events, WAIT).await, "actor_started"), 4);
    let inv = host.inventory();
    assert_eq!(inv.actors.len(), 1);
    assert_eq!(inv.actors[0].instances.len(), 5);
    assert_eq!(inv.host_id, host.id());

    let scaled = host.scale_actor(&pk, 2, none()).await.unwrap();
    assert_eq!(scaled.instances.len(), 2);
    assert_eq!(count(&drain(&mut events, WAIT).await, "actor_stopped"), 3);

    host.scale_actor(&pk, 0, none()).await.unwrap();
    assert_eq!(count(&drain(&mut events, WAIT).await, "actor_stopped"), 2);
    assert!(host.actors().is_empty());
    assert_eq!(
        host.call_actor(&pk, "Echo.Echo", Vec::new())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );

    host.stop().await.unwrap();
    let last = drain(&mut events, WAIT).await;
    assert_eq!(count(&last, "host_stopped"), 1);
    assert!(
        events.next().await.is_none(),
        "the stream ends when the host stops"
    );
}

#[tokio::test]
async fn stop_by_annotation_stops_only_matching_instances() {
    let host = host().await;
    let echo = host
        .start_actor(
            example_actor("echo").into(),
            2,
            HashMap::from([("team".into(), "a".into())]),
        )
        .await
        .unwrap();
    host.start_actor(
        example_actor("echo").into(),
        3,
        HashMap::from([("team".into(), "b".into())]),
    )
    .await
    .unwrap();
    assert_eq!(host.actor(&echo.public_key).unwrap().instances.len(), 5);
    host.stop_actor(
        &echo.public_key,
        0,
        HashMap::from([("team".into(), "b".into())]),
    )
    .await
    .unwrap();
    let left = host.actor(&echo.public_key).unwrap().instances;
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|i| i.annotations["team"] == "a"));
    host.stop().await.unwrap();
}

#[tokio::test]
async fn live_update_needs_a_higher_revision() {
    let host = host().await;
    let signer = Signer::new();
    let module_key = nkeys::KeyPair::new_module();
    let module = fixture("wasmbus_echo");
    let rev2 = signer.sign_as(&module, &module_key, &[], 2, None);
    let actor = host
        .start_actor(rev2.clone().into(), 2, none())
        .await
        .unwrap();
    let mut events = host.subscribe_events().unwrap();

    for rev in [1, 2] {
        let older = signer.sign_as(&module, &module_key, &[], rev, None);
        let err = host
            .update_actor(&actor.public_key, older.into())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("not higher"), "{err}");
    }
    assert_eq!(
        count(&drain(&mut events, WAIT).await, "actor_update_failed"),
        4,
        "per instance, per refused update"
    );

    let other_actor = signer.sign_as(&module, &nkeys::KeyPair::new_module(), &[], 9, None);
    assert!(host
        .update_actor(&actor.public_key, other_actor.into())
        .await
        .is_err());
    drain(&mut events, WAIT).await;

    let rev3 = signer.sign_as(&module, &module_key, &[], 3, None);
    let updated = host
        .update_actor(&actor.public_key, rev3.into())
        .await
        .unwrap();
    assert_eq!(updated.claims.revision(), 3);
    assert_eq!(
        updated
            .instances
            .iter()
            .map(|i| &i.instance_id)
            .collect::<Vec<_>>(),
        actor
            .instances
            .iter()
            .map(|i| &i.instance_id)
            .collect::<Vec<_>>()
    );
    let seen = drain(&mut events, WAIT).await;
    assert_eq!(count(&seen, "actor_updated"), 2);
    assert!(seen
        .iter()
        .filter(|(k, _)| k == "actor_updated")
        .all(|(_, d)| d["revision"] == 3));
    assert_eq!(
        host.call_actor(&actor.public_key, "Echo", b"after".to_vec())
            .await
            .unwrap(),
        b"after"
    );

    // A different module under the same key must be updated, not started again.
    let err = host
        .start_actor(
            signer
                .sign_as(&fixture("trap"), &module_key, &[], 4, None)
                .into(),
            1,
            none(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("update"), "{err}");
    host.stop().await.unwrap();
}

#[tokio::test]
async fn links_put_replace_delete_and_events() {
    let host = host().await;
    let mut events = host.subscribe_events().unwrap();
    let link = |port: &str| LinkDefinition {
        actor_id: "MACTOR".into(),
        provider_id: "VPROVIDER".into(),
        link_name: "default".into(),
        contract_id: "wasmcloud:httpserver".into(),
        values: HashMap::from([("PORT".to_string(), port.to_string())]),
    };
    host.put_link(link("8080")).await.unwrap();
    host.put_link(link("9090")).await.unwrap();
    let links = host.links();
    assert_eq!(links.len(), 1, "same triple replaces");
    assert_eq!(links[0].values["PORT"], "9090");
    assert!(host
        .delete_link("MACTOR", "wasmcloud:httpserver", "default")
        .await
        .unwrap());
    assert!(!host
        .delete_link("MACTOR", "wasmcloud:httpserver", "default")
        .await
        .unwrap());
    assert!(host.links().is_empty());
    let seen = drain(&mut events, WAIT).await;
    assert_eq!(count(&seen, "linkdef_set"), 2);
    assert_eq!(count(&seen, "linkdef_deleted"), 1);
    let set = &seen.iter().find(|(k, _)| k == "linkdef_set").unwrap().1;
    assert_eq!(set["values"]["PORT"], "8080");
    assert_eq!(set["id"].as_str().unwrap().len(), 64);

    let mut bad = link("1");
    bad.provider_id.clear();
    assert_eq!(
        host.put_link(bad).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    host.stop().await.unwrap();
}

struct DenyTrap;

#[async_trait::async_trait]
impl Policy for DenyTrap {
    async fn evaluate(&self, request: &PolicyRequest) -> PolicyDecision {
        match request {
            PolicyRequest::Invoke { operation, .. } if operation == "Forbidden.Op" => {
                PolicyDecision::Deny("not that".into())
            }
            PolicyRequest::StartActor { capabilities, .. }
                if capabilities.iter().any(|c| c == "wasmcloud:keyvalue") =>
            {
                PolicyDecision::Deny("no keyvalue actors here".into())
            }
            _ => PolicyDecision::Permit,
        }
    }
}

#[tokio::test]
async fn policy_approves_or_denies_starts_and_invocations() {
    let host = host().await;
    host.set_policy(Some(Arc::new(DenyTrap)));
    let err = host
        .start_actor(example_actor("kvcounter").into(), 1, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied);
    assert!(err.to_string().contains("no keyvalue actors here"), "{err}");
    let echo = host
        .start_actor(example_actor("echo").into(), 1, none())
        .await
        .unwrap();
    let err = host
        .call_actor(&echo.public_key, "Forbidden.Op", Vec::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
    assert_eq!(
        host.call_actor(&echo.public_key, "Echo.Echo", b"ok".to_vec())
            .await
            .unwrap(),
        b"ok"
    );
    host.set_policy(None);
    host.start_actor(example_actor("kvcounter").into(), 1, none())
        .await
        .unwrap();
    host.stop().await.unwrap();
}

#[tokio::test]
async fn stop_is_graceful_and_a_second_stop_is_an_error() {
    let host = host().await;
    let echo = host
        .start_actor(example_actor("echo").into(), 3, none())
        .await
        .unwrap();
    let mut events = host.subscribe_events().unwrap();
    host.stop().await.unwrap();
    let seen = drain(&mut events, WAIT).await;
    assert_eq!(count(&seen, "actor_stopped"), 3);
    assert_eq!(count(&seen, "host_stopped"), 1);
    assert_eq!(host.stop().await.unwrap_err().kind(), ErrorKind::Stopped);
    assert_eq!(
        host.call_actor(&echo.public_key, "Echo.Echo", Vec::new())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Stopped
    );
    assert_eq!(
        host.start_actor(example_actor("echo").into(), 1, none())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Stopped
    );
    assert!(host.subscribe_events().is_err());
}

#[tokio::test]
async fn identity_comes_from_seeds_and_labels_from_config() {
    let mut config = HostConfig::default().with_label("region", "eu");
    config.host_seed = Some("SNAPBAMPJ6LFOAEFYCI6KLIVLS4ZFFCUG2FNEFJYCQE5UJEQP4UI3EQRNI".into());
    config.cluster_seed = Some("SCAKUNN72IFVVHIEKSS76LBAJOWFE4FRIDNSCVHFUASRG3FZSGWE6WVUJU".into());
    let host = host_with(config).await;
    assert_eq!(
        host.id(),
        "NDRXEHLF3QKEWHCGCO7MKGA3ZIPEUTDMJ2E5R3GPJDVCDX3UXD2XSHBH"
    );
    assert_eq!(
        host.cluster_key(),
        "CC4PEB6LR6S7SCYQIWPVD2SKHPXSRDYG7FQSUC5HXIQ6RCMI7VQG52G6"
    );
    assert!(host.cluster_issuers().contains(&host.cluster_key()));
    assert_eq!(host.labels()["region"], "eu");
    assert_eq!(host.labels()["hostcore.arch"], std::env::consts::ARCH);
    assert_eq!(host.friendly_name().split('-').count(), 3);
    host.stop().await.unwrap();

    let wrong = HostConfig {
        host_seed: Some("SCAKUNN72IFVVHIEKSS76LBAJOWFE4FRIDNSCVHFUASRG3FZSGWE6WVUJU".into()),
        ..Default::default()
    };
    let err = match wasmhost::Host::start(wrong).await {
        Ok(_) => panic!("a cluster seed is not a host seed"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}
