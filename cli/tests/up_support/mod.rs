//! `wasmhost up` as a child process, and what a control client asks it (shared by the tests that
//! run the host as a process).
#![allow(dead_code)]

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nkeys::KeyPair;
use wasmhost::protocol::claims::{sign_actor, ActorSigning};
use wasmhost::protocol::ctl::HostInventory;
use wasmhost::protocol::rpc::{Invocation, InvocationResponse, WasmCloudEntity};
use wasmhost::protocol::subjects;

use super::lattice_support::request;

pub const ECHO_PK: &str = "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75";
pub const PINGER_PK: &str = "MAUJCX4BIOUCE5BGKCLKNRIT7FXES2W7WIYLTPW6LZNZHNVPL4RY4XTY";
pub const PONG_PK: &str = "MCE5UWMI34OWVSPGTA5D6QHG2W67RNDPRK6XYJ54S67OYNIWHOKVK3ZO";

/// The repository's `examples/actors` directory.
pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/actors")
        .canonicalize()
        .unwrap()
}

/// Same as [`examples_dir`].
pub fn examples() -> PathBuf {
    examples_dir()
}

/// `file://` reference of `examples/actors/{name}.wasm`.
pub fn actor_ref(name: &str) -> String {
    format!("file://{}/{name}.wasm", examples_dir().display())
}

/// One `wasmhost up` child; killed on drop if still running.
pub struct UpProcess {
    pub child: Child,
    pub id: String,
    /// The lines it printed after the first one.
    lines: std::sync::mpsc::Receiver<String>,
}

impl UpProcess {
    /// A host in `lattice` labelled `zone`, signing with `cluster`; control clients may name the
    /// example actors and files in the temp dir.
    pub fn start(url: &str, lattice: &str, cluster: &KeyPair, zone: &str) -> UpProcess {
        Self::start_in_zone(url, lattice, cluster, zone, &[], &[])
    }

    /// [`UpProcess::start`] with extra arguments and environment variables.
    pub fn start_in_zone(
        url: &str,
        lattice: &str,
        cluster: &KeyPair,
        zone: &str,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> UpProcess {
        let mut args: Vec<OsString> = vec![
            "--label".into(),
            format!("zone={zone}").into(),
            "--allow-file-load".into(),
            examples_dir().into(),
            "--allow-file-load".into(),
            std::env::temp_dir().into(),
        ];
        args.extend(extra.iter().map(OsString::from));
        Self::start_with(url, lattice, cluster, &args, envs)
    }

    /// `wasmhost up --nats-url url --lattice lattice --cluster-seed ...` plus `args` and `envs`.
    pub fn start_with(
        url: &str,
        lattice: &str,
        cluster: &KeyPair,
        args: &[OsString],
        envs: &[(&str, &str)],
    ) -> UpProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wasmhost"))
            .args(["up", "--nats-url", url, "--lattice", lattice])
            .args(["--cluster-seed", &cluster.seed().unwrap()])
            .args(args)
            .envs(envs.iter().copied())
            .env_remove("WASMCLOUD_LATTICE_PREFIX")
            .env_remove("WASMCLOUD_ALLOW_FILE_LOAD")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("wasmhost up starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        // Keep reading so the host never writes into a closed pipe.
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let id = first
            .trim()
            .strip_prefix("host_id: ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        UpProcess { child, id, lines }
    }

    /// Waits up to 60 s for a stdout line starting with `prefix`; the rest of it.
    pub fn line_after(&self, prefix: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.trim().to_string();
                    }
                }
                Err(e) => panic!(
                    "wasmhost up {} printed no line starting with {prefix:?}: {e}",
                    self.id
                ),
            }
        }
    }

    /// SIGKILL: the host gets no chance to say goodbye.
    pub fn sigkill(&mut self) {
        self.child.kill().expect("kill");
        let _ = self.child.wait();
    }

    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to 15 s for the process to exit; its exit status.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "wasmhost up {} did not exit",
                self.id
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Resident memory of the host process, in bytes (Linux `/proc`).
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the host process is alive");
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS in /proc/<pid>/status");
        kib * 1024
    }
}

impl Drop for UpProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn inventory(client: &async_nats::Client, p: &str, host: &str) -> HostInventory {
    serde_json::from_slice(&request(client, subjects::host_inventory(p, host), "").await).unwrap()
}

/// Instances of `actor` on `host` (0 when absent).
pub async fn instances(client: &async_nats::Client, p: &str, host: &str, actor: &str) -> usize {
    inventory(client, p, host)
        .await
        .actors
        .iter()
        .find(|a| a.id == actor)
        .map_or(0, |a| a.instances.len())
}

pub async fn wait_instances(
    client: &async_nats::Client,
    p: &str,
    host: &str,
    actor: &str,
    n: usize,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while instances(client, p, host, actor).await != n {
        assert!(
            std::time::Instant::now() < deadline,
            "{actor} never had {n} instances on {host}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Calls `op` on actor `target` over the lattice as the pinger actor would, signed by `cluster`.
pub async fn invoke(
    client: &async_nats::Client,
    lattice: &str,
    cluster: &KeyPair,
    target: &str,
    op: &str,
    payload: &[u8],
) -> InvocationResponse {
    let inv = Invocation::new_signed(
        cluster,
        WasmCloudEntity::actor(PINGER_PK),
        WasmCloudEntity::actor(target),
        op,
        payload.to_vec(),
        &KeyPair::new_server().public_key(),
    )
    .unwrap();
    InvocationResponse::decode(
        &request(client, subjects::actor_rpc(lattice, target), inv.encode()).await,
    )
    .unwrap()
}

pub fn key(name: &str) -> KeyPair {
    KeyPair::from_seed(
        std::fs::read_to_string(examples().join("keys").join(name))
            .unwrap()
            .trim(),
    )
    .unwrap()
}

/// The echo actor rebuilt: its module (plus a custom section making the bytes new) signed with `rev`.
pub fn echo_build(rev: i32, marker: &str) -> Vec<u8> {
    let mut module = std::fs::read(examples().join("unsigned/echo.wasm")).unwrap();
    let payload = [&[marker.len() as u8][..], marker.as_bytes()].concat();
    module.push(0);
    module.push(payload.len() as u8);
    module.extend_from_slice(&payload);
    let signing = ActorSigning {
        name: Some("Echo".into()),
        caps: vec!["wasmcloud:httpserver".into()],
        rev: Some(rev),
        ver: Some(format!("0.{rev}.0")),
        ..Default::default()
    };
    sign_actor(&module, &signing, &key("account.nk"), &key("echo.nk")).unwrap()
}

/// Replaces `path` the way build tools do: write a temporary file, rename it over.
pub fn rebuild(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("wasm.tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}
