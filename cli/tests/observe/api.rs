//! `wasmhost dashboard` against a host in another process, over its JSON API: the token and the
//! loopback `Host` check; "from file" for a remote host pushes the module to the `--registry` and
//! starts it by reference, hot reload pushes each rebuild and sends `upd`; scale and stop go through
//! the control interface; without `--registry` a remote file start is refused saying why; a
//! non-loopback address is refused without `--allow-remote`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::lattice_support::*;
use crate::up_support::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use nkeys::KeyPair;
use serde_json::{json, Value};
use wasmhost::observer::{LatticeObserver, LatticeSnapshot, ObserverConfig};

const ECHO_PK: &str = "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75";
const TOKEN: &str = "s3cret-token";

/// A `wasmhost dashboard` child; killed on drop.
struct DashboardProcess {
    child: Child,
    addr: String,
}

impl DashboardProcess {
    fn start(nats: &str, lattice: &str, extra: &[&str]) -> DashboardProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wasmhost"))
            .args([
                "dashboard",
                "--nats-url",
                nats,
                "--lattice",
                lattice,
                "--listen",
                "127.0.0.1:0",
            ])
            .args(extra)
            .env_remove("WASMHOST_DASHBOARD_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("wasmhost dashboard starts");
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
        std::thread::spawn(move || for _ in stdout.lines() {});
        let addr = first
            .strip_prefix("dashboard: http://")
            .and_then(|r| r.split('/').next())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        DashboardProcess { child, addr }
    }
}

impl Drop for DashboardProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request; (status, JSON body).
async fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("dashboard reachable");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut request = hyper::Request::builder().method(method).uri(path);
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request = request.header("host", addr);
    }
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(Full::new(Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(60), sender.send_request(request))
        .await
        .expect("answer within 60 s")
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn act(addr: &str, path: &str, body: Value) -> (u16, Value) {
    let auth = format!("Bearer {TOKEN}");
    http(
        addr,
        "POST",
        path,
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        Some(body),
    )
    .await
}

async fn visible(
    observer: &LatticeObserver,
    what: &str,
    check: impl FnMut(&LatticeSnapshot) -> bool,
) -> LatticeSnapshot {
    observer
        .wait_for(Duration::from_secs(60), check)
        .await
        .unwrap_or_else(|last| panic!("{what}: never seen; last snapshot {}", last.to_json()))
}

fn echo_on(s: &LatticeSnapshot, host: &str) -> Option<(usize, i32, String)> {
    s.host(host)
        .and_then(|h| h.actor(ECHO_PK))
        .map(|a| (a.instances.len(), a.revision, a.image_ref.clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dashboard_drives_a_host_in_another_process() {
    let nats = NatsServer::start();
    let registry = crate::registry::Registry::start();
    let lattice = unique_lattice("dashapi");
    let cluster = KeyPair::new_cluster();
    let cache = crate::registry::TempDir::new("dash-oci");
    let cache_dir = cache.path().display().to_string();
    let host = UpProcess::start_in_zone(
        &nats.url(),
        &lattice,
        &cluster,
        "a",
        &[],
        &[
            ("WASMCLOUD_OCI_ALLOWED_INSECURE", &registry.addr),
            ("WASMHOST_OCI_CACHE_DIR", &cache_dir),
        ],
    );
    let dashboard = DashboardProcess::start(
        &nats.url(),
        &lattice,
        &[
            "--registry",
            &registry.addr,
            "--registry-insecure",
            "--token",
            TOKEN,
        ],
    );
    let addr = dashboard.addr.as_str();
    let observer = LatticeObserver::connect(&nats.url(), ObserverConfig::for_lattice(&lattice))
        .await
        .unwrap();

    // Protection: the token, JSON only, loopback Host names only.
    let (status, reply) = http(addr, "GET", "/api/snapshot", &[], None).await;
    assert_eq!(status, 401, "{reply}");
    assert!(reply["error"].as_str().unwrap().contains("token"));
    let (status, _) = http(
        addr,
        "GET",
        &format!("/api/snapshot?token={TOKEN}"),
        &[],
        None,
    )
    .await;
    assert_eq!(status, 200);
    let auth = format!("Bearer {TOKEN}");
    let (status, _) = http(
        addr,
        "POST",
        "/api/actors/stop",
        &[("authorization", &auth), ("content-type", "text/plain")],
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 415);
    let (status, _) = http(
        addr,
        "GET",
        "/api/snapshot",
        &[("authorization", &auth), ("host", "rebound.example:4000")],
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, reply) = act(addr, "/api/actors/start", json!({"source": "file"})).await;
    assert!(
        status == 400
            && reply["error"]
                .as_str()
                .unwrap()
                .contains("malformed request"),
        "{reply}"
    );

    // From a file, with hot reload, on a host in another process: pushed to the registry first.
    let work = crate::registry::TempDir::new("dash-file");
    let file = work.path().join("echo.wasm");
    std::fs::write(&file, echo_build(1, "v1")).unwrap();
    let (status, reply) = act(addr, "/api/actors/start", json!({"source": "file", "reference": file, "host_id": host.id, "count": 1, "hot_reload": true})).await;
    assert_eq!(status, 200, "{reply}");
    let snapshot = visible(&observer, "echo started from the registry", |s| {
        echo_on(s, &host.id).is_some_and(|(n, _, _)| n == 1)
    })
    .await;
    let (_, revision, image_ref) = echo_on(&snapshot, &host.id).unwrap();
    assert_eq!(revision, 1);
    assert!(
        image_ref.starts_with(&format!("{}/wasmhost-dashboard/echo:r1-", registry.addr)),
        "{image_ref}"
    );

    // A rebuild: pushed again and live-updated with `upd`.
    rebuild(&file, &echo_build(2, "v2"));
    visible(&observer, "revision 2 from its new reference", |s| {
        echo_on(s, &host.id).is_some_and(|(_, r, image)| r == 2 && image.contains(":r2-"))
    })
    .await;

    // Scale and stop through the control interface.
    let (status, reply) = act(
        addr,
        "/api/actors/scale",
        json!({"host_id": host.id, "actor_id": ECHO_PK, "actor_ref": "", "count": 3}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    visible(&observer, "3 instances", |s| {
        echo_on(s, &host.id).is_some_and(|(n, _, _)| n == 3)
    })
    .await;
    let (status, reply) = act(
        addr,
        "/api/actors/stop",
        json!({"host_id": host.id, "actor_id": ECHO_PK, "count": 0}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    visible(&observer, "echo stopped", |s| {
        echo_on(s, &host.id).is_none()
    })
    .await;

    // Without --registry a remote host cannot get the file: refused, saying what to do.
    let plain = DashboardProcess::start(&nats.url(), &lattice, &["--token", TOKEN]);
    let (status, reply) = act(
        &plain.addr,
        "/api/actors/start",
        json!({"source": "file", "reference": file, "host_id": host.id}),
    )
    .await;
    assert_eq!(status, 400);
    let error = reply["error"].as_str().unwrap();
    assert!(
        error.contains("--registry") && error.contains("wasmhost up --dashboard"),
        "{error}"
    );

    // A non-loopback address needs --allow-remote.
    let refused = Command::new(env!("CARGO_BIN_EXE_wasmhost"))
        .args([
            "dashboard",
            "--nats-url",
            &nats.url(),
            "--listen",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--allow-remote") && stderr.contains("reverse proxy"),
        "{stderr}"
    );
}
