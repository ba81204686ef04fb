//! Starting an actor by OCI reference through the control interface (`cmd.{host}.la`), the way a
//! 0.5x operator did it: a real registry, a real nats-server, a plain NATS client.

mod common;
mod lattice_support;
mod registry;

use std::time::Duration;

use common::example_actor;
use lattice_support::{ack, client, lattice_config, request, unique_lattice, NatsServer};
use registry::{Registry, TempDir};
use wasmhost::oci::{push, ArtifactKind, PushOptions};
use wasmhost::protocol::subjects;
use wasmhost::Host;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn la_with_an_oci_reference_pulls_starts_and_records_the_refmap() {
    let registry = Registry::start();
    let cache = TempDir::new("oci-ctl-cache");
    let reference = registry.reference("examples/echo:0.1.0");
    push(
        &reference,
        example_actor("echo"),
        ArtifactKind::Actor,
        &PushOptions {
            insecure: true,
            ..Default::default()
        },
    )
    .await
    .expect("push echo");

    let nats = NatsServer::start();
    let lattice = unique_lattice("ocictl");
    let mut config = lattice_config(&nats.url(), &lattice, &nkeys::KeyPair::new_cluster());
    config.oci_allowed_insecure = vec![registry.addr.clone()];
    config.oci_cache_dir = Some(cache.path().to_path_buf());
    let host = Host::start(config).await.expect("host starts");
    let mut events = host.subscribe_events().unwrap();

    let nc = client(&nats.url()).await;
    let p = subjects::ctl_prefix("wasmbus.ctl", &lattice);
    let la = format!(
        r#"{{"actor_ref":"{reference}","host_id":"{}","count":1}}"#,
        host.id()
    );
    let reply = ack(&request(&nc, subjects::host_command(&p, host.id(), "la"), la).await);
    assert!(reply.accepted, "{reply:?}");

    let (mut refmap, mut started) = (None, None);
    while refmap.is_none() || started.is_none() {
        let event = tokio::time::timeout(Duration::from_secs(20), events.next())
            .await
            .expect("an event")
            .expect("stream open");
        match event.short_type() {
            "refmap_set" => refmap = Some(event.data.clone()),
            "actor_started" => started = Some(event.data.clone()),
            "actor_start_failed" => panic!("start by reference failed: {}", event.data),
            _ => {}
        }
    }
    let (refmap, started) = (refmap.unwrap(), started.unwrap());
    assert_eq!(started["image_ref"], reference.as_str());
    let public_key = started["public_key"].as_str().unwrap().to_string();
    assert_eq!(
        (refmap["oci_url"].as_str(), refmap["public_key"].as_str()),
        (Some(reference.as_str()), Some(public_key.as_str()))
    );
    assert_eq!(
        host.call_actor(&public_key, "Echo.Echo", b"pulled".to_vec())
            .await
            .unwrap(),
        b"pulled"
    );

    // A reference the registry does not have: the ack comes first, then actor_start_failed says why.
    let missing = registry.reference("examples/missing:9.9.9");
    let la = format!(
        r#"{{"actor_ref":"{missing}","host_id":"{}","count":1}}"#,
        host.id()
    );
    assert!(ack(&request(&nc, subjects::host_command(&p, host.id(), "la"), la).await).accepted);
    let failed = loop {
        let event = tokio::time::timeout(Duration::from_secs(20), events.next())
            .await
            .expect("an event")
            .expect("stream open");
        if event.short_type() == "actor_start_failed" {
            break event.data.clone();
        }
    };
    assert_eq!(failed["actor_ref"], missing.as_str());
    assert!(
        failed["error"].as_str().unwrap().contains("not found"),
        "{failed}"
    );
    host.stop().await.unwrap();
}
