//! Fixtures for integration tests that play the host side of a provider (feature
//! `testing`): a real `nats-server -js` and `redis-server` on free loopback ports, a
//! provider child process fed a HostData line, and a [`TestHost`] that pushes links and
//! sends signed invocations with the wasmhost-protocol types. Processes are killed on drop.

use crate::HealthCheckResponse;
use std::io::Write;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use wasmhost_protocol::nkeys::KeyPair;
use wasmhost_protocol::subjects::{
    provider_health, provider_linkdefs_del, provider_linkdefs_put, provider_rpc, provider_shutdown,
};
use wasmhost_protocol::{
    HostData, Invocation, InvocationResponse, LinkDefinition, WasmCloudEntity,
};

pub use wasmhost_nats::testing::{free_port, wait_for_port, NatsServer};

fn kill(child: &mut Option<Child>) {
    if let Some(mut child) = child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A `redis-server` on a free loopback port, without persistence.
pub struct RedisServer {
    child: Option<Child>,
    /// The port it listens on.
    pub port: u16,
}

impl RedisServer {
    /// Starts `redis-server` from PATH and waits for its port.
    pub fn start() -> RedisServer {
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/setup.sh installs it)");
        wait_for_port(port);
        RedisServer {
            child: Some(child),
            port,
        }
    }

    /// `redis://127.0.0.1:{port}/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// A provider executable started as a host starts it: no arguments, the HostData line on
/// stdin, stdin left open; stderr passes through to the test's output.
pub struct ProviderProcess {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
}

impl ProviderProcess {
    /// Spawns `binary` and writes `line` (normally [`HostData::to_stdin_line`]) to its stdin.
    pub fn spawn_with_line(binary: &str, line: &str) -> ProviderProcess {
        let mut child = Command::new(binary)
            .stdin(Stdio::piped())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin.write_all(line.as_bytes()).expect("write HostData");
        stdin.flush().expect("flush stdin");
        ProviderProcess {
            child: Some(child),
            stdin: Some(stdin),
        }
    }

    /// Spawns `binary` with `host_data` on stdin.
    pub fn spawn(binary: &str, host_data: &HostData) -> ProviderProcess {
        Self::spawn_with_line(binary, &host_data.to_stdin_line())
    }

    /// Closes the provider's stdin, as a dying host would.
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// The exit status once the process ends, or `None` if it still runs after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ProviderProcess {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// The host side of one provider: its HostData, the cluster key that signs invocations,
/// and a NATS client to talk to the provider.
pub struct TestHost {
    /// A NATS client of its own.
    pub client: async_nats::Client,
    /// What the provider is (or will be) given on stdin.
    pub host_data: HostData,
    /// The cluster key listed in `cluster_issuers` (also the `invocation_seed`).
    pub cluster: KeyPair,
}

impl TestHost {
    /// A fresh host id, provider key, cluster key and lattice id for a provider with
    /// `link_name`, talking over `nats`.
    pub async fn new(nats: &NatsServer, link_name: &str) -> TestHost {
        let cluster = KeyPair::new_cluster();
        let host_data = HostData {
            host_id: KeyPair::new_server().public_key(),
            lattice_rpc_prefix: format!("test{}", free_port()),
            link_name: link_name.to_string(),
            lattice_rpc_url: format!("127.0.0.1:{}", nats.port),
            provider_key: KeyPair::new_service().public_key(),
            invocation_seed: cluster.seed().expect("cluster seed"),
            instance_id: "00000000-0000-4000-8000-000000000000".into(),
            cluster_issuers: vec![cluster.public_key()],
            default_rpc_timeout_ms: Some(2000),
            ..Default::default()
        };
        let settings = wasmhost_nats::NatsConnection::from_url(&nats.url()).expect("NATS URL");
        let client = wasmhost_nats::connect(&settings, "provider test host")
            .await
            .expect("test NATS client");
        TestHost {
            client,
            host_data,
            cluster,
        }
    }

    /// A new random actor public key.
    pub fn new_actor() -> String {
        KeyPair::new_module().public_key()
    }

    /// A link from `actor` to this provider with `values`.
    pub fn link(&self, actor: &str, contract_id: &str, values: &[(&str, &str)]) -> LinkDefinition {
        LinkDefinition {
            actor_id: actor.to_string(),
            provider_id: self.host_data.provider_key.clone(),
            link_name: self.host_data.link_name.clone(),
            contract_id: contract_id.to_string(),
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn subject(&self, f: fn(&str, &str, &str) -> String) -> String {
        let hd = &self.host_data;
        f(&hd.lattice_rpc_prefix, &hd.provider_key, &hd.link_name)
    }

    /// Asks for health until the provider answers (it is subscribed), up to 15 s.
    pub async fn wait_ready(&self) -> HealthCheckResponse {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.try_health(Duration::from_millis(300)).await {
                Some(health) => return health,
                None => {
                    assert!(
                        Instant::now() < deadline,
                        "the provider never answered a health check"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// One health request as the host sends it (msgpack `{"placeholder": true}`).
    pub async fn try_health(&self, timeout: Duration) -> Option<HealthCheckResponse> {
        let body =
            wasmhost_protocol::encode(&std::collections::HashMap::from([("placeholder", true)]));
        let reply = self
            .request(self.subject(provider_health), body, timeout)
            .await?;
        Some(wasmhost_protocol::decode(&reply).expect("HealthCheckResponse msgpack"))
    }

    /// A NATS request; `None` on timeout or no responders.
    pub async fn request(
        &self,
        subject: String,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Option<Vec<u8>> {
        let request = async_nats::Request::new()
            .payload(body.into())
            .timeout(Some(timeout));
        self.client
            .send_request(subject, request)
            .await
            .ok()
            .map(|m| m.payload.to_vec())
    }

    /// Publishes `link` on `linkdefs.put` and waits until calls from its actor are accepted
    /// (a probe invocation no longer says "unlinked actor"), up to 10 s.
    pub async fn put_link(&self, link: &LinkDefinition) {
        self.put_link_no_wait(link).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.is_unlinked(&link.actor_id).await {
            assert!(
                Instant::now() < deadline,
                "link for {} never took effect",
                link.actor_id
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Publishes `link` on `linkdefs.put` (msgpack) without waiting.
    pub async fn put_link_no_wait(&self, link: &LinkDefinition) {
        self.client
            .publish(self.subject(provider_linkdefs_put), link.encode().into())
            .await
            .expect("publish");
        self.client.flush().await.expect("flush");
    }

    /// Publishes `link` on `linkdefs.del` and waits until its actor is refused, up to 10 s.
    pub async fn delete_link(&self, link: &LinkDefinition) {
        self.client
            .publish(self.subject(provider_linkdefs_del), link.encode().into())
            .await
            .expect("publish");
        self.client.flush().await.expect("flush");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.is_unlinked(&link.actor_id).await {
            assert!(
                Instant::now() < deadline,
                "link for {} was never deleted",
                link.actor_id
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Whether the provider refuses `actor` as unlinked.
    pub async fn is_unlinked(&self, actor: &str) -> bool {
        let response = self.invoke(actor, "Test.LinkProbe", Vec::new()).await;
        response.error.is_some_and(|e| e.contains("unlinked actor"))
    }

    /// The signed invocation from `actor` to this provider.
    pub fn invocation(
        &self,
        signer: &KeyPair,
        actor: &str,
        operation: &str,
        msg: Vec<u8>,
    ) -> Invocation {
        let hd = &self.host_data;
        let target = WasmCloudEntity::provider(&hd.provider_key, "", &hd.link_name);
        Invocation::new_signed(
            signer,
            WasmCloudEntity::actor(actor),
            target,
            operation,
            msg,
            &hd.host_id,
        )
        .expect("sign invocation")
    }

    /// Sends an invocation signed by the cluster key from `actor`; 5 s timeout.
    pub async fn invoke(&self, actor: &str, operation: &str, msg: Vec<u8>) -> InvocationResponse {
        let inv = self.invocation(&self.cluster, actor, operation, msg);
        self.send_invocation(&inv).await
    }

    /// Sends `inv` on the provider's RPC subject and decodes the reply; panics on timeout.
    pub async fn send_invocation(&self, inv: &Invocation) -> InvocationResponse {
        let reply = self.send_raw(inv.encode()).await;
        InvocationResponse::decode(&reply).expect("InvocationResponse msgpack")
    }

    /// Sends raw bytes on the provider's RPC subject; panics on timeout.
    pub async fn send_raw(&self, body: Vec<u8>) -> Vec<u8> {
        self.request(self.subject(provider_rpc), body, Duration::from_secs(5))
            .await
            .expect("the provider answered the invocation")
    }

    /// Sends a shutdown request with `{"host_id": host_id}`; the reply, if any within 2 s.
    pub async fn shutdown(&self, host_id: &str) -> Option<Vec<u8>> {
        let body = format!(r#"{{"host_id":"{host_id}"}}"#).into_bytes();
        self.request(
            self.subject(provider_shutdown),
            body,
            Duration::from_secs(2),
        )
        .await
    }
}
