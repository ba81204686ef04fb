//! Fixtures for the interoperability tests: a real `nats-server` and a real `wasmhost up`
//! process, each on a free loopback port, stopped (by their own pid) when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root (this crate lives in `tests/interop`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "wasmhost-interop-{tag}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until something accepts TCP connections on `port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// `nats-server`: `$NATS_SERVER`, else the repo's `.venv/bin/nats-server` (scripts/setup.sh), else `PATH`.
fn nats_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return PathBuf::from(path);
    }
    let venv = repo_root().join(".venv/bin/nats-server");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("nats-server")
    }
}

/// A child process killed (by its pid) when this value is dropped.
struct Owned(Child);

impl Drop for Owned {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// A JetStream-enabled nats-server on a free loopback port.
pub struct NatsServer {
    _process: Owned,
    /// The second node of [`NatsServer::start_clustered`].
    _peer: Option<Owned>,
    /// Its port.
    pub port: u16,
}

/// Whether the server's monitoring port answers `/healthz` with 200 (JetStream ready).
fn healthy(monitor_port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", monitor_port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.starts_with("HTTP/1.0 200") || reply.starts_with("HTTP/1.1 200")
}

impl NatsServer {
    /// Starts the server and waits until it accepts connections.
    pub fn start() -> NatsServer {
        let port = free_port();
        let store = temp_dir("nats");
        let child = Command::new(nats_server_binary())
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server (run scripts/setup.sh, or set NATS_SERVER)");
        let server = NatsServer {
            _process: Owned(child),
            _peer: None,
            port,
        };
        assert!(
            wait_for_port(port, Duration::from_secs(20)),
            "nats-server did not listen on {port}"
        );
        server
    }

    /// A node of a two-node JetStream cluster (the other node runs until this value is
    /// dropped), ready once both report healthy. async-nats 0.23, the 2022 clients' NATS
    /// client, reads object-store objects only from a clustered JetStream: it requires the
    /// `cluster` field of a consumer's info, which a single nats-server 2.10+ leaves out.
    pub fn start_clustered() -> NatsServer {
        let name = format!("interop{}", free_port());
        let nodes: Vec<(u16, u16, u16)> = (0..2)
            .map(|_| (free_port(), free_port(), free_port()))
            .collect();
        let routes: Vec<String> = nodes
            .iter()
            .map(|(_, route, _)| format!("\"nats-route://127.0.0.1:{route}\""))
            .collect();
        let mut children: Vec<Owned> = nodes
            .iter()
            .enumerate()
            .map(|(i, (port, route, monitor))| {
                let dir = temp_dir("nats-cluster");
                let config = dir.join("server.conf");
                std::fs::write(
                    &config,
                    format!(
                        "server_name: {name}-{i}\ncluster {{\n  name: {name}\n  listen: \"127.0.0.1:{route}\"\n  routes: [{}]\n}}\n",
                        routes.join(", ")
                    ),
                )
                .expect("cluster config");
                let child = Command::new(nats_server_binary())
                    .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-m", &monitor.to_string(), "-c"])
                    .arg(&config)
                    .arg("-sd")
                    .arg(dir.join("store"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn nats-server (run scripts/setup.sh, or set NATS_SERVER)");
                Owned(child)
            })
            .collect();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !nodes.iter().all(|(_, _, monitor)| healthy(*monitor)) {
            assert!(
                std::time::Instant::now() < deadline,
                "the nats cluster never became healthy"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let peer = children.pop();
        NatsServer {
            _process: children.pop().expect("first node"),
            _peer: peer,
            port: nodes[0].0,
        }
    }

    /// `nats://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

/// `wasmhost up` as a separate process, logging to a file.
pub struct HostProcess {
    process: Owned,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
}

/// The `wasmhost` binary built from the root workspace (`$WASMHOST_BIN` overrides).
pub fn wasmhost_binary() -> PathBuf {
    std::env::var_os("WASMHOST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/debug/wasmhost"))
}

impl HostProcess {
    /// Runs `wasmhost up --nats-url {nats_url}` with the 0.5x host's environment variables.
    pub fn start(nats_url: &str, env: &[(&str, &str)]) -> HostProcess {
        let binary = wasmhost_binary();
        assert!(
            binary.exists(),
            "{} is missing: run `cargo build -p wasmhost-cli` in the repository root",
            binary.display()
        );
        let log = temp_dir("host").join("wasmhost.log");
        let out = std::fs::File::create(&log).expect("host log file");
        let err = out.try_clone().expect("host log file");
        let mut command = Command::new(binary);
        // The 2022 clients name the example actors and archives in the temp dir by `file://`.
        let examples =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/actors");
        command
            .args(["up", "--nats-url", nats_url])
            .arg("--allow-file-load")
            .arg(examples)
            .arg("--allow-file-load")
            .arg(std::env::temp_dir())
            .stdout(out)
            .stderr(err)
            .stdin(Stdio::null());
        command.env("WASMHOST_LOG", "info");
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("spawn wasmhost up");
        HostProcess {
            process: Owned(child),
            log,
        }
    }

    /// Its OS process id.
    pub fn pid(&self) -> u32 {
        self.process.0.id()
    }

    /// Waits up to `timeout` for the process to exit; its exit status if it did.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.process.0.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The host's log so far (for failure reports).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Runs named steps, keeps going after a failure where later steps can still run, and
/// reports every step's outcome at the end: a failing run says exactly which steps work.
#[derive(Default)]
pub struct Steps {
    results: Vec<(String, Result<(), String>)>,
}

impl Steps {
    /// Runs one step and records its outcome; returns its value on success.
    pub async fn run<T>(
        &mut self,
        name: &str,
        step: impl std::future::Future<Output = Result<T, String>>,
    ) -> Option<T> {
        let outcome = step.await;
        let (recorded, value) = match outcome {
            Ok(value) => (Ok(()), Some(value)),
            Err(e) => (Err(e), None),
        };
        eprintln!(
            "step {:<48} {}",
            name,
            match &recorded {
                Ok(()) => "ok".to_string(),
                Err(e) => format!("FAILED: {e}"),
            }
        );
        self.results.push((name.to_string(), recorded));
        value
    }

    /// Records a step that could not run because an earlier one failed.
    pub fn blocked(&mut self, name: &str, by: &str) {
        self.results
            .push((name.to_string(), Err(format!("not run: needs '{by}'"))));
        eprintln!("step {name:<48} NOT RUN (needs '{by}')");
    }

    /// A table of every step; panics (with the table and `log`) if any failed.
    pub fn finish(self, log: &str) {
        let mut report = String::new();
        let mut failed = 0;
        for (name, result) in &self.results {
            match result {
                Ok(()) => report.push_str(&format!("  ok      {name}\n")),
                Err(e) => {
                    failed += 1;
                    report.push_str(&format!("  FAILED  {name}: {e}\n"));
                }
            }
        }
        eprintln!(
            "{} of {} steps passed:\n{report}",
            self.results.len() - failed,
            self.results.len()
        );
        if failed > 0 {
            panic!(
                "{failed} of {} steps failed:\n{report}\n--- host log ---\n{log}",
                self.results.len()
            );
        }
    }
}
