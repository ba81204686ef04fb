//! `wasmhost up` child processes for the CLI's integration tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nkeys::KeyPair;
use wasmhost::protocol::claims::{sign_actor, ActorSigning};

pub fn actor_ref(name: &str) -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/actors/{name}.wasm"));
    format!("file://{}", path.canonicalize().unwrap().display())
}

/// One `wasmhost up` child; killed on drop if still running.
pub struct UpProcess {
    pub child: Child,
    pub id: String,
    /// The lines it printed after the first one.
    lines: std::sync::mpsc::Receiver<String>,
}

impl UpProcess {
    pub fn start(url: &str, lattice: &str, cluster: &KeyPair, zone: &str) -> UpProcess {
        Self::start_with(url, lattice, cluster, zone, &[], &[])
    }

    /// [`UpProcess::start`] with extra arguments and environment variables.
    pub fn start_with(
        url: &str,
        lattice: &str,
        cluster: &KeyPair,
        zone: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> UpProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wasmhost"))
            .args([
                "up",
                "--nats-url",
                url,
                "--lattice",
                lattice,
                "--label",
                &format!("zone={zone}"),
            ])
            .args(["--cluster-seed", &cluster.seed().unwrap()])
            .args(args)
            .envs(env.iter().copied())
            .env_remove("WASMCLOUD_LATTICE_PREFIX")
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
}

impl Drop for UpProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/actors")
        .canonicalize()
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
