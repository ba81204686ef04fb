//! Hostile lattice clients against `wasmhost up` as a process on a real nats-server: any process
//! that can publish on `wasmbus.ctl.*` may send anything. Each class of input is refused with a
//! clear, bounded error, and after each the host still answers ping, its inventory and links are
//! unchanged, an actor still answers, and its memory stayed bounded.

#[path = "../../core/tests/lattice_support/mod.rs"]
mod lattice_support;
mod up_support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lattice_support::*;
use nkeys::KeyPair;
use serde_json::{json, Value};
use up_support::*;
use wasmhost::protocol::ctl::{CtlOperationAck, HostPing};
use wasmhost::protocol::events::CloudEvent;
use wasmhost::protocol::subjects;

/// Memory a host may gain across one class of hostile requests (it held ~300 MB/s reading
/// `/dev/zero` before the fix).
const RSS_GROWTH_BOUND: u64 = 128 << 20;

/// One host process under attack, with echo running and one link in place.
struct Target {
    _nats: NatsServer,
    up: UpProcess,
    client: async_nats::Client,
    lattice: String,
    cluster: KeyPair,
    p: String,
    events: async_nats::Subscriber,
    baseline_rss: u64,
    baseline: (Vec<(String, usize)>, Value),
}

impl Target {
    async fn start(nats: NatsServer, args: &[OsString], envs: &[(&str, &str)]) -> Target {
        let lattice = unique_lattice("hostile");
        let cluster = KeyPair::new_cluster();
        let up = UpProcess::start_with(&nats.url(), &lattice, &cluster, args, envs);
        let client = client(&nats.url()).await;
        let p = subjects::ctl_prefix("wasmbus.ctl", &lattice);
        let events = client.subscribe(subjects::events(&lattice)).await.unwrap();
        let baseline_rss = up.rss_bytes();
        Target {
            _nats: nats,
            up,
            client,
            lattice,
            cluster,
            p,
            events,
            baseline_rss,
            baseline: (Vec::new(), Value::Null),
        }
    }

    fn cmd(&self, verb: &str) -> String {
        subjects::host_command(&self.p, &self.up.id, verb)
    }

    /// A control request answered within the 2 s a client waits.
    async fn ask(&self, subject: String, body: Value) -> Value {
        let body = body.to_string();
        let reply = tokio::time::timeout(
            Duration::from_secs(2),
            self.client.request(subject.clone(), body.into()),
        )
        .await
        .unwrap_or_else(|_| panic!("no reply on {subject} within the client's 2 s"))
        .unwrap_or_else(|e| panic!("request on {subject} failed: {e}"));
        serde_json::from_slice(&reply.payload).unwrap()
    }

    async fn ack(&self, verb: &str, body: Value) -> CtlOperationAck {
        serde_json::from_value(self.ask(self.cmd(verb), body).await).unwrap()
    }

    /// The data of the next event of `kind` from this host (others skipped), within 10 s.
    async fn event(&mut self, kind: &str) -> Value {
        let wait = async {
            while let Some(message) = self.events.next().await {
                let event =
                    CloudEvent::from_json_bytes(&message.payload).expect("events are CloudEvents");
                if event.short_type() == kind {
                    return event.data;
                }
            }
            panic!("event subscription ended");
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("no {kind} within 10 s"))
    }

    /// Starts echo (from a directory the operator allowed) and puts one link; records the state
    /// every later check compares with.
    async fn with_echo_and_link(&mut self, echo_ref: &str) {
        assert!(
            self.ack("la", json!({"actor_ref": echo_ref, "count": 1}))
                .await
                .accepted
        );
        self.event("actor_started").await;
        let link = json!({"actor_id": ECHO_PK, "provider_id": "VPROVIDERKEY", "link_name": "default", "contract_id": "wasmcloud:httpserver", "values": {"PORT": "8080"}});
        assert_eq!(
            self.ask(subjects::linkdefs_put(&self.p), link).await["accepted"],
            true
        );
        self.event("linkdef_set").await;
        self.baseline = self.state().await;
        self.baseline_rss = self.up.rss_bytes();
    }

    async fn state(&self) -> (Vec<(String, usize)>, Value) {
        let inventory = inventory(&self.client, &self.p, &self.up.id).await;
        let actors = inventory
            .actors
            .iter()
            .map(|a| (a.id.clone(), a.instances.len()))
            .collect();
        let links = self.ask(subjects::get_links(&self.p), Value::Null).await;
        (actors, links)
    }

    /// The invariant after every class of hostile input.
    async fn still_serving(&self, after: &str) {
        let ping: HostPing =
            serde_json::from_value(self.ask(subjects::ping_hosts(&self.p), Value::Null).await)
                .unwrap();
        assert_eq!(ping.id, self.up.id, "{after}: ping");
        assert_eq!(
            self.state().await,
            self.baseline,
            "{after}: inventory and links unchanged"
        );
        let reply = invoke(
            &self.client,
            &self.lattice,
            &self.cluster,
            ECHO_PK,
            "Echo.Echo",
            b"still here",
        )
        .await;
        assert_eq!(
            (reply.error.as_deref(), &reply.msg[..]),
            (None, &b"still here"[..]),
            "{after}: echo answers"
        );
        let rss = self.up.rss_bytes();
        assert!(
            rss < self.baseline_rss + RSS_GROWTH_BOUND,
            "{after}: RSS grew from {} MiB to {} MiB",
            self.baseline_rss >> 20,
            rss >> 20
        );
    }
}

/// A temporary directory, removed when the test is done with it.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(tag: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("wasmhost-hostile-{tag}-{}", uuid()));
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir.canonicalize().unwrap())
}

fn uuid() -> String {
    KeyPair::new_user().public_key()[1..13].to_lowercase()
}

fn allow(dirs: &[&Path]) -> Vec<OsString> {
    dirs.iter()
        .flat_map(|d| {
            [
                OsString::from("--allow-file-load"),
                d.as_os_str().to_owned(),
            ]
        })
        .collect()
}

fn file_ref(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn mkfifo(path: &Path) {
    assert!(std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unbounded_reads_are_refused_before_reading() {
    let dir = scratch("reads");
    std::fs::copy(examples_dir().join("echo.wasm"), dir.join("echo.wasm")).unwrap();
    mkfifo(&dir.join("pipe.wasm"));
    std::fs::create_dir(dir.join("folder.wasm")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(dir.join("socket.wasm")).unwrap();
    // A file that keeps growing while it is read, far past the cap.
    let growing = dir.join("growing.wasm");
    std::fs::write(&growing, b"\0asm\x01\0\0\0").unwrap();
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (growing, writing) = (growing.clone(), writing.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(growing)
                .unwrap();
            let chunk = vec![0u8; 64 << 10];
            // Far past the 4 MiB cap, but bounded: the test's disk use must be too.
            let mut written = 0usize;
            while writing.load(Ordering::Relaxed) && written < 64 << 20 {
                written += chunk.len();
                if file.write_all(&chunk).is_err() {
                    return;
                }
            }
        })
    };
    // The operator allowed /dev too: the read itself must refuse devices.
    let args = allow(&[&*dir, Path::new("/dev")]);
    let mut t = Target::start(
        NatsServer::start(),
        &args,
        &[("WASMHOST_OCI_MAX_ARTIFACT_BYTES", "4194304")],
    )
    .await;
    t.with_echo_and_link(&file_ref(&dir.join("echo.wasm")))
        .await;

    let cases = [
        ("file:///dev/zero".to_string(), "a character device"),
        ("/dev/urandom".to_string(), "a character device"),
        (file_ref(&dir.join("pipe.wasm")), "named pipe"),
        (file_ref(&dir.join("folder.wasm")), "a directory"),
        (file_ref(&dir.join("socket.wasm")), "socket"),
        (file_ref(&growing), "larger than the limit of 4194304 bytes"),
    ];
    for (reference, why) in &cases {
        let ack = t
            .ack("la", json!({"actor_ref": reference, "count": 1}))
            .await;
        assert!(
            ack.accepted,
            "{reference}: la is acked, the outcome is an event: {ack:?}"
        );
        let failed = t.event("actor_start_failed").await;
        let path = reference.trim_start_matches("file://");
        assert!(
            failed["actor_ref"].as_str().unwrap().ends_with(path),
            "{failed}"
        );
        assert!(
            failed["error"].as_str().unwrap().contains(why),
            "{reference}: {failed}"
        );
        t.still_serving(&format!("la {reference}")).await;
    }
    // Every verb that names an artifact.
    let upd = t
        .ack(
            "upd",
            json!({"actor_id": ECHO_PK, "new_actor_ref": "file:///dev/zero"}),
        )
        .await;
    assert!(
        !upd.accepted && upd.error.contains("a character device"),
        "{upd:?}"
    );
    t.event("actor_update_failed").await;
    let scale = t.ack("scale", json!({"actor_id": "MNOTRUNNINGYET", "actor_ref": file_ref(&dir.join("pipe.wasm")), "count": 1})).await;
    assert!(scale.accepted, "{scale:?}");
    assert!(t.event("actor_start_failed").await["error"]
        .as_str()
        .unwrap()
        .contains("named pipe"));
    let lp = t
        .ack(
            "lp",
            json!({"provider_ref": "/dev/zero", "link_name": "default"}),
        )
        .await;
    assert!(lp.accepted, "{lp:?}");
    assert!(t.event("provider_start_failed").await["error"]
        .as_str()
        .unwrap()
        .contains("a character device"));
    t.still_serving("upd, scale, lp of devices and pipes").await;
    writing.store(false, Ordering::Relaxed);
    writer.join().unwrap();
}

/// Every CLI command that reads a local file refuses devices and pipes at once: `{}` in each
/// argument list is the path under test.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn local_cli_commands_refuse_devices_and_pipes() {
    let dir = scratch("cli");
    mkfifo(&dir.join("pipe.wasm"));
    let nats = NatsServer::start();
    let url = nats.url();
    let echo = examples().join("echo.wasm");
    let echo = echo.to_str().unwrap();
    let seed = KeyPair::new_cluster().seed().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["run", "{}"],
        vec!["run", echo, "--op", "Echo.Echo", "--data-file", "{}"],
        vec!["claims", "inspect", "{}"],
        vec!["claims", "sign", "{}", "--name", "x", "-o", "/dev/null"],
        vec!["par", "inspect", "{}"],
        vec![
            "par",
            "create",
            "--capid",
            "x:y",
            "--name",
            "n",
            "--vendor",
            "v",
            "--binary",
            "x86_64-linux={}",
            "-o",
            "/dev/null",
        ],
        vec!["push", "localhost:1/x:1", "{}"],
        vec![
            "ctl",
            "--nats-url",
            &url,
            "call",
            ECHO_PK,
            "Echo.Echo",
            "--cluster-seed",
            &seed,
            "--data-file",
            "{}",
        ],
    ];
    for (path, why) in [
        (PathBuf::from("/dev/zero"), "a character device"),
        (dir.join("pipe.wasm"), "named pipe"),
        (PathBuf::from("/"), "a directory"),
    ] {
        for command in &commands {
            let args: Vec<String> = command
                .iter()
                .map(|a| a.replace("{}", path.to_str().unwrap()))
                .collect();
            let out = tokio::time::timeout(
                Duration::from_secs(30),
                tokio::process::Command::new(env!("CARGO_BIN_EXE_wasmhost"))
                    .args(&args)
                    .output(),
            )
            .await
            .unwrap_or_else(|_| panic!("wasmhost {args:?} did not exit"))
            .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "wasmhost {args:?} succeeded");
            assert!(stderr.contains(why), "wasmhost {args:?}: {stderr}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn local_files_need_the_operators_permission() {
    let allowed = scratch("allowed");
    let outside = scratch("outside");
    std::fs::copy(examples_dir().join("echo.wasm"), allowed.join("echo.wasm")).unwrap();
    std::fs::copy(examples_dir().join("pong.wasm"), outside.join("pong.wasm")).unwrap();
    std::os::unix::fs::symlink(outside.join("pong.wasm"), allowed.join("link.wasm")).unwrap();
    let mut t = Target::start(NatsServer::start(), &allow(&[&*allowed]), &[]).await;
    t.with_echo_and_link(&file_ref(&allowed.join("echo.wasm")))
        .await;
    let escapes = [
        file_ref(&outside.join("pong.wasm")),
        format!(
            "{}/../{}/pong.wasm",
            allowed.display(),
            outside.file_name().unwrap().to_string_lossy()
        ),
        file_ref(&allowed.join("link.wasm")),
        "/etc/passwd".into(),
        "file:///etc/hostname".into(),
        "./echo.wasm".into(),
    ];
    for reference in &escapes {
        for (verb, body) in [
            ("la", json!({"actor_ref": reference})),
            (
                "scale",
                json!({"actor_id": "MNEW", "actor_ref": reference, "count": 1}),
            ),
            (
                "lp",
                json!({"provider_ref": reference, "link_name": "default"}),
            ),
        ] {
            let ack = t.ack(verb, body).await;
            assert!(
                !ack.accepted && ack.error.contains("--allow-file-load"),
                "{verb} {reference}: {ack:?}"
            );
        }
        let upd = t
            .ack(
                "upd",
                json!({"actor_id": ECHO_PK, "new_actor_ref": reference}),
            )
            .await;
        assert!(
            !upd.accepted && upd.error.contains("not allowed"),
            "upd {reference}: {upd:?}"
        );
    }
    t.still_serving("file references outside the allowed directory")
        .await;

    // A host started without the switch reads no file for the lattice at all.
    let t = Target::start(NatsServer::start(), &[], &[]).await;
    let ack = t.ack("la", json!({"actor_ref": actor_ref("echo")})).await;
    assert!(
        !ack.accepted && ack.error.contains("--allow-file-load"),
        "{ack:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn errors_carry_no_file_bytes_and_quote_input_truncated() {
    let dir = scratch("errors");
    std::fs::copy(examples_dir().join("echo.wasm"), dir.join("echo.wasm")).unwrap();
    let secret = "SECRET-LINE-OF-THE-FILE\n".repeat(200);
    std::fs::write(dir.join("notes.wasm"), &secret).unwrap();
    std::fs::write(dir.join("notes.par.gz"), &secret).unwrap();
    // Room for multi-megabyte requests, so the host sees them at all.
    let nats = NatsServer::start_with_config("max_payload: 8MB\n");
    let mut t = Target::start(nats, &allow(&[&*dir]), &[]).await;
    t.with_echo_and_link(&file_ref(&dir.join("echo.wasm")))
        .await;

    assert!(
        t.ack(
            "la",
            json!({"actor_ref": file_ref(&dir.join("notes.wasm"))})
        )
        .await
        .accepted
    );
    let failed = t.event("actor_start_failed").await.to_string();
    assert!(!failed.contains("SECRET"), "{failed}");
    assert!(
        t.ack(
            "lp",
            json!({"provider_ref": file_ref(&dir.join("notes.par.gz")), "link_name": "default"})
        )
        .await
        .accepted
    );
    let failed = t.event("provider_start_failed").await.to_string();
    assert!(!failed.contains("SECRET"), "{failed}");

    // A 2 MiB reference, operation name and link name come back cut, never whole, never twice.
    let huge = format!("registry.example/{}:0.1.0", "a".repeat(2 << 20));
    let ack = t.ack("la", json!({"actor_ref": huge})).await;
    let event = t.event("actor_start_failed").await.to_string();
    assert!(
        event.len() < 4096,
        "actor_start_failed of {} bytes",
        event.len()
    );
    assert!(ack.error.len() < 2048, "ack of {} bytes", ack.error.len());
    let ack = t
        .ack(
            "lp",
            json!({"provider_ref": "p:1", "link_name": "l".repeat(2 << 20)}),
        )
        .await;
    assert!(ack.error.len() < 2048, "ack of {} bytes", ack.error.len());
    let reply = invoke(
        &t.client,
        &t.lattice,
        &t.cluster,
        ECHO_PK,
        &"Op".repeat(1 << 20),
        b"x",
    )
    .await;
    assert!(
        reply.error.as_deref().unwrap_or_default().len() < 4096,
        "error of {} bytes",
        reply.error.unwrap_or_default().len()
    );
    t.still_serving("inputs quoted in errors").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oversized_replies_and_events_never_vanish() {
    let dir = scratch("sizes");
    std::fs::copy(examples_dir().join("echo.wasm"), dir.join("echo.wasm")).unwrap();
    let nats = NatsServer::start_with_config("max_payload: 65536\n");
    let mut t = Target::start(nats, &allow(&[&*dir]), &[]).await;
    t.with_echo_and_link(&file_ref(&dir.join("echo.wasm")))
        .await;

    // Refused when put: a value over the bound, too many annotations.
    let big_value = json!({"actor_id": ECHO_PK, "provider_id": "V", "link_name": "big", "contract_id": "c:d", "values": {"CERT": "x".repeat(20 << 10)}});
    let ack = t.ask(subjects::linkdefs_put(&t.p), big_value).await;
    assert!(
        ack["accepted"] == false && ack["error"].as_str().unwrap().contains("CERT"),
        "{ack}"
    );
    let annotations: serde_json::Map<String, Value> =
        (0..40).map(|i| (format!("k{i}"), json!("v"))).collect();
    let ack = t
        .ack(
            "la",
            json!({"actor_ref": file_ref(&dir.join("echo.wasm")), "annotations": annotations}),
        )
        .await;
    assert!(
        !ack.accepted && ack.error.contains("annotations"),
        "{ack:?}"
    );
    t.still_serving("oversized puts").await;

    // Within the bounds, but more than one message holds: get.links fails loudly, and every
    // linkdef_set still reaches event subscribers (cut to fit).
    let values: serde_json::Map<String, Value> = (0..4)
        .map(|i| (format!("V{i}"), json!("y".repeat(15 << 10))))
        .collect();
    for n in 0..3 {
        let link = json!({"actor_id": ECHO_PK, "provider_id": "V", "link_name": format!("l{n}"), "contract_id": "c:d", "values": values});
        assert_eq!(
            t.ask(subjects::linkdefs_put(&t.p), link).await["accepted"],
            true
        );
        let set = t.event("linkdef_set").await;
        assert_eq!(set["link_name"], format!("l{n}"));
    }
    let links = t.ask(subjects::get_links(&t.p), Value::Null).await;
    assert!(
        links["accepted"] == false
            && links["error"]
                .as_str()
                .unwrap()
                .contains("max_payload of 65536 bytes"),
        "{links}"
    );

    // An inventory too large for one message.
    let annotations: serde_json::Map<String, Value> = (0..30)
        .map(|i| (format!("k{i}"), json!("w".repeat(1000))))
        .collect();
    assert!(t.ack("la", json!({"actor_ref": file_ref(&dir.join("echo.wasm")), "count": 3, "annotations": annotations})).await.accepted);
    for _ in 0..3 {
        t.event("actor_started").await;
    }
    let inv = t
        .ask(subjects::host_inventory(&t.p, &t.up.id), Value::Null)
        .await;
    assert!(
        inv["accepted"] == false && inv["error"].as_str().unwrap().contains("max_payload"),
        "{inv}"
    );
    // And the ping reply and the heartbeat it triggers still arrive.
    let ping = t.ask(subjects::ping_hosts(&t.p), Value::Null).await;
    assert_eq!(ping["id"], t.up.id);
    t.event("host_heartbeat").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scale_beyond_the_pool_fails_loudly() {
    let dir = scratch("scale");
    std::fs::copy(examples_dir().join("echo.wasm"), dir.join("echo.wasm")).unwrap();
    let mut t = Target::start(NatsServer::start(), &allow(&[&*dir]), &[]).await;
    t.with_echo_and_link(&file_ref(&dir.join("echo.wasm")))
        .await;
    let ack = t
        .ack(
            "scale",
            json!({"actor_id": ECHO_PK, "actor_ref": "", "count": 65535}),
        )
        .await;
    assert!(
        !ack.accepted && ack.error.contains("at most 2048"),
        "{ack:?}"
    );
    assert!(t.event("actor_start_failed").await["error"]
        .as_str()
        .unwrap()
        .contains("at most 2048"));
    let ack = t
        .ack(
            "la",
            json!({"actor_ref": file_ref(&dir.join("echo.wasm")), "count": 65535}),
        )
        .await;
    assert!(ack.accepted, "{ack:?}");
    assert!(t.event("actor_start_failed").await["error"]
        .as_str()
        .unwrap()
        .contains("at most 2048"));
    t.still_serving("scale and la beyond the pool").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_registries_never_delay_a_reply() {
    let dir = scratch("slow");
    std::fs::copy(examples_dir().join("echo.wasm"), dir.join("echo.wasm")).unwrap();
    // A registry that accepts connections and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let registry = silent.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for socket in silent.incoming().flatten() {
            held.push(socket);
        }
    });
    let insecure = registry.to_string();
    let mut t = Target::start(
        NatsServer::start(),
        &allow(&[&*dir]),
        &[("WASMCLOUD_OCI_ALLOWED_INSECURE", &insecure)],
    )
    .await;
    t.with_echo_and_link(&file_ref(&dir.join("echo.wasm")))
        .await;
    let reference = format!("{registry}/echo:0.2.0");
    // Each is answered within the client's 2 s (Target::ask), while the fetch still hangs.
    assert!(t.ack("la", json!({"actor_ref": reference})).await.accepted);
    assert!(
        t.ack(
            "upd",
            json!({"actor_id": ECHO_PK, "new_actor_ref": reference})
        )
        .await
        .accepted
    );
    assert!(
        t.ack(
            "lp",
            json!({"provider_ref": format!("{registry}/provider:0.2.0"), "link_name": "default"})
        )
        .await
        .accepted
    );
    t.still_serving("fetches hanging on a silent registry")
        .await;
}
