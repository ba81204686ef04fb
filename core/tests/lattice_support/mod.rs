//! Test fixtures for the NATS lattice: a real `nats-server -js` on a free loopback port (started,
//! restarted and stopped by PID), and hosts joined to it.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nkeys::KeyPair;
use wasmhost::protocol::ctl::CtlOperationAck;
use wasmhost::{Host, HostConfig};

/// The nats-server binary: the repo's venv (scripts/setup.sh installs 2.15 there), else PATH.
pub fn nats_server_binary() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/nats-server");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("nats-server")
    }
}

/// A nats-server with JetStream, its store in a fresh directory; killed on drop.
pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    store: PathBuf,
    config: Option<PathBuf>,
}

impl NatsServer {
    pub fn start() -> NatsServer {
        let port = free_port();
        let store =
            std::env::temp_dir().join(format!("wasmhost-nats-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&store).expect("store dir");
        Self::launch(port, None)
    }

    /// A server on a port chosen earlier (a host may already be waiting for it there).
    pub fn start_on(port: u16) -> NatsServer {
        Self::launch(port, None)
    }

    /// A server that also reads `config` (nats-server config syntax, e.g. an `authorization` block).
    pub fn start_with_config(config: &str) -> NatsServer {
        let port = free_port();
        let path =
            std::env::temp_dir().join(format!("wasmhost-nats-{}-{port}.conf", std::process::id()));
        std::fs::write(&path, config).expect("config file");
        Self::launch(port, Some(path))
    }

    fn launch(port: u16, config: Option<PathBuf>) -> NatsServer {
        let store =
            std::env::temp_dir().join(format!("wasmhost-nats-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&store).expect("store dir");
        let mut server = NatsServer {
            child: None,
            port,
            store,
            config,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut command = Command::new(nats_server_binary());
        if let Some(config) = &self.config {
            command.arg("-c").arg(config);
        }
        let child = command
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server must be installed (scripts/setup.sh puts it in .venv/bin)");
        self.child = Some(child);
        wait_for_port(self.port);
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (its store stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server and starts it again on the same port with the same store.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store);
        if let Some(config) = &self.config {
            let _ = std::fs::remove_file(config);
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nats-server did not open port {port}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

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
    async_nats::connect(url).await.expect("client connects")
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
