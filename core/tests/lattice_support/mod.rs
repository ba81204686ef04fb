//! Test fixtures for the NATS lattice: a real `nats-server -js` on a free loopback port (started,
//! restarted and stopped by PID), and hosts joined to it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use nkeys::KeyPair;
use wasmhost::protocol::ctl::CtlOperationAck;
use wasmhost::{Host, HostConfig};

/// A nats-server with JetStream on a free loopback port (the one fixture of wasmhost-nats).
#[allow(unused_imports)]
pub use wasmhost_nats::testing::{free_port, NatsServer};

/// A lattice id no other test uses.
pub fn unique_lattice(name: &str) -> String {
    format!("{name}{}", rand_suffix())
}

fn rand_suffix() -> String {
    let k = KeyPair::new_user().public_key();
    k[1..9].to_lowercase()
}

/// Config of a host in `lattice` at `url`, signing with `cluster` and trusting it. Control
/// clients may name files under the example actors and the temp dir (where tests write theirs).
pub fn lattice_config(url: &str, lattice: &str, cluster: &KeyPair) -> HostConfig {
    let mut config = HostConfig::default()
        .with_lattice(lattice)
        .with_nats_url(url)
        .unwrap();
    config.cluster_seed = Some(cluster.seed().unwrap());
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/actors");
    config.allow_file_load = vec![examples.canonicalize().unwrap(), std::env::temp_dir()];
    config
}

pub async fn start_host(
    url: &str,
    lattice: &str,
    cluster: &KeyPair,
    labels: &[(&str, &str)],
) -> Host {
    let mut config = lattice_config(url, lattice, cluster);
    for (k, v) in labels {
        config = config.with_label(*k, *v);
    }
    Host::start(config).await.expect("host starts")
}

/// A plain client, as an operator tool or a 2022 client would use.
pub async fn client(url: &str) -> async_nats::Client {
    let settings = wasmhost::NatsConnection::from_url(url).expect("a NATS URL");
    wasmhost_nats::connect(&settings, "test client")
        .await
        .expect("client connects")
}

/// Request/reply with a 5 s timeout; panics on timeout.
pub async fn request(
    client: &async_nats::Client,
    subject: String,
    body: impl Into<Vec<u8>>,
) -> Vec<u8> {
    let body: Vec<u8> = body.into();
    let reply = tokio::time::timeout(
        Duration::from_secs(5),
        client.request(subject.clone(), body.into()),
    )
    .await
    .unwrap_or_else(|_| panic!("no reply on {subject}"))
    .unwrap_or_else(|e| panic!("request on {subject} failed: {e}"));
    reply.payload.to_vec()
}

pub fn ack(bytes: &[u8]) -> CtlOperationAck {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not an ack: {e}: {}", String::from_utf8_lossy(bytes)))
}

/// Publishes with a fresh inbox and collects every reply for `wait` (scatter/gather).
pub async fn gather(
    client: &async_nats::Client,
    subject: String,
    body: impl Into<Vec<u8>>,
    wait: Duration,
) -> Vec<Vec<u8>> {
    use futures::StreamExt;
    let inbox = client.new_inbox();
    let mut sub = client.subscribe(inbox.clone()).await.unwrap();
    let body: Vec<u8> = body.into();
    client
        .publish_with_reply(subject, inbox, body.into())
        .await
        .unwrap();
    client.flush().await.unwrap();
    let mut replies = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, sub.next()).await {
        replies.push(msg.payload.to_vec());
    }
    replies
}

/// Polls `check` every 50 ms until it holds or 10 s pass (state that crosses the lattice
/// asynchronously: bucket watches, subscriptions after a reconnect).
pub async fn eventually<F: FnMut() -> bool>(what: &str, mut check: F) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
