//! A capability provider written with the 2022 provider SDK (wasmbus-rpc 0.11.2,
//! `src/bin/kv_provider_2022.rs`) and packaged with the 2022 `provider-archive` 0.6.0 crate
//! runs under `wasmhost up` unchanged, driven by the 2022 control client
//! (wasmcloud-control-interface 0.22.3): `lp` from a `file://` archive, HostData on stdin,
//! links pushed after start (`linkdefs.put`/`.del`) and links known before start (HostData),
//! health checks, actor → provider calls, inventory, `sp` and `stop` (no provider process left).
//!
//! One host process, one nats-server. Each step is reported on its own (see `Steps`).

mod common;

use common::{
    accepted, actor_entity, connect_client, discover_host, example_actor, host_exited,
    httpserver_origin, rpc_client, send, EventLog, HttpRequest, HttpResponse, SETTLE,
};
use provider_archive::ProviderArchive;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;
use wascap::prelude::KeyPair;
use wasmbus_rpc::core::WasmCloudEntity;
use wasmbus_rpc::rpc_client::RpcClient;
use wasmcloud_control_interface::Client;
use wasmhost_interop::{temp_dir, HostProcess, NatsServer, Steps};

const LATTICE: &str = "interop-prov";

/// `SetRequest` of wasmcloud-interface-keyvalue 0.7 (same serde shape).
#[derive(serde::Serialize)]
struct SetRequest<'a> {
    key: &'a str,
    value: &'a str,
    expires: u32,
}
const CONTRACT: &str = "wasmcloud:keyvalue";
/// The opaque `configuration` string of `lp`, to arrive as `HostData.config_json`.
const CONFIG: &str = r#"{"greeting":"from the 2022 control client"}"#;

/// The `lp` configuration of the second instance: its shutdown takes 1 s (as a provider that closes
/// connections first would); the host's `stop` must still wait for it before `host_stopped`.
const PRESET_CONFIG: &str = r#"{"shutdown_delay_ms":1000}"#;

/// The provider binary cargo built for this test (wasmbus-rpc 0.11.2).
const PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_kv_provider_2022");

/// A provider archive built with provider-archive 0.6.0.
struct Par {
    path: PathBuf,
    /// The service key (V...), subject of the claims.
    key: String,
    /// The account key (A...), issuer of the claims.
    issuer: String,
}

/// `{ARCH}-{OS}` as 0.5x hosts compute their native target.
fn native_target() -> String {
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}

/// Packs the provider binary for this machine's target into `dir/kv_provider_2022.par.gz`, claims
/// signed by a fresh account key (issuer) for a fresh service key (subject).
async fn build_archive(dir: &Path) -> Result<Par, String> {
    let binary = std::fs::read(PROVIDER_BIN).map_err(|e| format!("{PROVIDER_BIN}: {e}"))?;
    let account = KeyPair::new_account();
    let service = KeyPair::new_service();
    let mut par = ProviderArchive::new(
        CONTRACT,
        "KV Provider 2022",
        "interop",
        Some(1),
        Some("0.1.0".to_string()),
    );
    par.add_library(&native_target(), &binary)
        .map_err(|e| e.to_string())?;
    let path = dir.join("kv_provider_2022.par.gz");
    par.write(&path, &account, &service, true)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Par {
        path,
        key: service.public_key(),
        issuer: account.public_key(),
    })
}

/// `GetResponse` of wasmcloud-interface-keyvalue 0.7.
#[derive(Deserialize, Debug)]
struct GetResponse {
    value: String,
    exists: bool,
}

fn provider_event(key: &str, link: &str) -> impl Fn(&serde_json::Value) -> bool {
    let (key, link) = (key.to_string(), link.to_string());
    move |d| d["public_key"] == key.as_str() && d["link_name"] == link.as_str()
}

// ---- OS processes (Linux /proc) ----

/// Is `pid` a live process (not gone, not a zombie)?
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // "pid (comm) S ..." — the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Every process as (pid, parent pid).
fn process_table() -> Vec<(u32, u32)> {
    let mut table = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return table;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        if let Some(ppid) = status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .and_then(|v| v.trim().parse::<u32>().ok())
        {
            table.push((pid, ppid));
        }
    }
    table
}

/// Does `pid` run the provider binary (its executable, wherever the host unpacked it, has the
/// size of the binary cargo built)?
fn runs_provider(pid: u32) -> bool {
    let size = std::fs::metadata(PROVIDER_BIN).map(|m| m.len()).ok();
    std::fs::metadata(format!("/proc/{pid}/exe"))
        .map(|m| m.len())
        .ok()
        == size
}

/// Live provider processes among the host's descendants (children, or deeper if it used a shell).
fn children_of(host: u32) -> BTreeSet<u32> {
    let table = process_table();
    let mut descendants = BTreeSet::new();
    let mut frontier = vec![host];
    while let Some(parent) = frontier.pop() {
        for (pid, ppid) in &table {
            if *ppid == parent && descendants.insert(*pid) {
                frontier.push(*pid);
            }
        }
    }
    descendants
        .into_iter()
        .filter(|pid| alive(*pid) && runs_provider(*pid))
        .collect()
}

/// Live processes whose executable lies under `dir` (the host's TMPDIR, where a 0.5x host
/// unpacks providers: `{tmp}/wasmcloudcache/...`).
fn running_from(dir: &Path) -> BTreeSet<u32> {
    process_table()
        .into_iter()
        .map(|(pid, _)| pid)
        .filter(|pid| {
            alive(*pid)
                && std::fs::read_link(format!("/proc/{pid}/exe"))
                    .map(|exe| exe.starts_with(dir))
                    .unwrap_or(false)
        })
        .collect()
}

fn describe(pids: &BTreeSet<u32>) -> String {
    pids.iter()
        .map(|pid| {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "?".into());
            format!("{pid} ({exe})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Waits until exactly `count` provider processes run under the host.
async fn wait_for_children(host_pid: u32, count: usize) -> Result<BTreeSet<u32>, String> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let children = children_of(host_pid);
        if children.len() == count {
            return Ok(children);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "{} provider process(es) under the host, expected {count}: [{}]",
                children.len(),
                describe(&children)
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until none of `pids` is alive.
async fn wait_for_exit(pids: &BTreeSet<u32>) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let left: BTreeSet<u32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("still running: [{}]", describe(&left)));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---- RPC with wasmbus-rpc's own client ----

fn provider_entity(key: &str, link: &str) -> WasmCloudEntity {
    WasmCloudEntity {
        public_key: key.to_string(),
        link_name: link.to_string(),
        contract_id: CONTRACT.to_string(),
    }
}

/// `HttpServer.HandleRequest` (GET `path`) to kvcounter through `RpcClient`: status and body.
async fn handle_request(
    rpc: &RpcClient,
    kvcounter: &str,
    path: &str,
) -> Result<(u16, String), String> {
    let (status, body) = http_call(rpc, kvcounter, path, "", Vec::new()).await?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// `HttpServer.HandleRequest` to `actor` through `RpcClient`, as an httpserver provider would
/// send it: status and body bytes.
async fn http_call(
    rpc: &RpcClient,
    actor: &str,
    path: &str,
    query: &str,
    body: Vec<u8>,
) -> Result<(u16, Vec<u8>), String> {
    let request = HttpRequest {
        method: "POST".into(),
        path: path.into(),
        query_string: query.into(),
        header: HashMap::new(),
        body,
    };
    let arg = wasmbus_rpc::common::serialize(&request).map_err(|e| e.to_string())?;
    let origin = httpserver_origin(&KeyPair::new_service().public_key());
    let reply = send(
        rpc,
        origin,
        actor_entity(actor),
        LATTICE,
        "HttpServer.HandleRequest",
        arg,
    )
    .await?;
    let response: HttpResponse =
        wasmbus_rpc::common::deserialize(&reply).map_err(|e| e.to_string())?;
    Ok((response.status_code, response.body))
}

/// `KeyValue.Get` straight to a provider instance, as the linked actor `origin`.
async fn kv_get(
    rpc: &RpcClient,
    origin: &str,
    provider: &str,
    link: &str,
    key: &str,
) -> Result<GetResponse, String> {
    let arg = wasmbus_rpc::common::serialize(&key.to_string()).map_err(|e| e.to_string())?;
    let reply = send(
        rpc,
        actor_entity(origin),
        provider_entity(provider, link),
        LATTICE,
        "KeyValue.Get",
        arg,
    )
    .await?;
    wasmbus_rpc::common::deserialize(&reply).map_err(|e| e.to_string())
}

/// The provider's `__link:{actor}` record: how the link arrived and its values.
async fn link_record(
    rpc: &RpcClient,
    actor: &str,
    provider: &str,
    link: &str,
) -> Result<serde_json::Value, String> {
    let got = kv_get(rpc, actor, provider, link, &format!("__link:{actor}")).await?;
    if !got.exists {
        return Err(format!("the provider ({link}) holds no link for {actor}"));
    }
    serde_json::from_str(&got.value).map_err(|e| format!("{e}: {}", got.value))
}

/// Polls `link_record` until the provider holds the link (pushes are asynchronous); its last
/// error after `SETTLE`.
async fn wait_for_link_record(
    rpc: &RpcClient,
    actor: &str,
    provider: &str,
    link: &str,
) -> Result<serde_json::Value, String> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        match link_record(rpc, actor, provider, link).await {
            Ok(record) => return Ok(record),
            Err(e) if tokio::time::Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The HostData the provider instance `link` was started with (its `__host_data` record).
async fn host_data(
    rpc: &RpcClient,
    actor: &str,
    provider: &str,
    link: &str,
) -> Result<serde_json::Value, String> {
    let got = kv_get(rpc, actor, provider, link, "__host_data").await?;
    serde_json::from_str(&got.value).map_err(|e| e.to_string())
}

/// `start_provider` of the archive `par_ref` (service key `par_key`) as link `link` with the
/// configuration string `config`; the `provider_started` events of that instance.
async fn start_provider(
    client: &Client,
    events: &EventLog,
    host_id: &str,
    par_ref: &str,
    par_key: &str,
    link: &str,
    config: &str,
) -> Result<Vec<serde_json::Value>, String> {
    accepted(
        client
            .start_provider(
                host_id,
                par_ref,
                Some(link.to_string()),
                None,
                Some(config.to_string()),
            )
            .await,
    )?;
    events
        .wait_for("provider_started", 1, provider_event(par_key, link))
        .await
}

/// Runs `wasmhost par inspect FILE`.
fn par_inspect(path: &Path) -> Result<String, String> {
    let out = std::process::Command::new(wasmhost_interop::wasmhost_binary())
        .args(["par", "inspect"])
        .arg(path)
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "exit {}: {}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(text)
}

/// No host needed: the archive the 2022 crate writes reads back with that crate and with our CLI.
#[tokio::test]
async fn the_2022_archive_of_the_2022_provider_is_read_by_both() {
    let dir = temp_dir("par2022");
    let par = build_archive(&dir)
        .await
        .expect("provider-archive 0.6.0 writes");
    let bytes = std::fs::read(&par.path).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip-compressed");

    let back = ProviderArchive::try_load(&bytes)
        .await
        .expect("0.6.0 reads it back");
    let claims = back.claims().expect("claims");
    assert_eq!(claims.subject, par.key);
    assert_eq!(claims.issuer, par.issuer);
    assert_eq!(back.targets(), vec![native_target()]);
    assert_eq!(
        back.target_bytes(&native_target()).unwrap(),
        std::fs::read(PROVIDER_BIN).unwrap()
    );

    let text = par_inspect(&par.path).expect("wasmhost par inspect");
    for expected in [
        par.key.as_str(),
        par.issuer.as_str(),
        CONTRACT,
        "KV Provider 2022",
        native_target().as_str(),
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` missing from:\n{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// No host either: the provider, given by hand what §4 of LATTICE.md says a 0.5x host gives it
/// (HostData on stdin; linkdefs.put/del, health and shutdown on NATS), works. A failure of the
/// host test that this one does not share is therefore the host's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_2022_provider_follows_the_protocol_without_a_host() {
    use std::io::Write;
    let nats_server = NatsServer::start();
    let nats = async_nats::connect(nats_server.url())
        .await
        .expect("connect");
    let cluster = KeyPair::new_cluster();
    let host_id = KeyPair::new_server().public_key();
    let provider = KeyPair::new_service().public_key();
    let (actor_a, actor_b) = (
        KeyPair::new_module().public_key(),
        KeyPair::new_module().public_key(),
    );
    let lattice = LATTICE;
    let link = |actor: &str| {
        serde_json::json!({"actor_id": actor, "provider_id": provider, "link_name": "default",
                           "contract_id": CONTRACT, "values": {"K": "V"}})
    };
    let host_data = serde_json::json!({
        "host_id": host_id, "lattice_rpc_prefix": lattice, "link_name": "default",
        "lattice_rpc_user_jwt": "", "lattice_rpc_user_seed": "",
        "lattice_rpc_url": format!("127.0.0.1:{}", nats_server.port), "lattice_rpc_tls": 0,
        "env_values": {}, "instance_id": "4fd5b6b4-8f4e-4c4a-9d0e-4b7a1f1b2c3d",
        "provider_key": provider, "link_definitions": [link(&actor_a)],
        "config_json": "cfg", "default_rpc_timeout_ms": 2000,
        "cluster_issuers": [cluster.public_key()], "invocation_seed": cluster.seed().unwrap(),
        "js_domain": null, "enable_structured_logging": false,
    });
    let dir = temp_dir("provider-standalone");
    let log = dir.join("provider.log");
    let mut child = KillOnDrop(
        std::process::Command::new(PROVIDER_BIN)
            .stdin(std::process::Stdio::piped())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn the provider"),
    );
    let mut stdin = child.0.stdin.take().unwrap();
    writeln!(stdin, "{}", base64::encode(host_data.to_string())).unwrap();
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();

    // health: any reply is healthy for the host; wasmbus-rpc answers a msgpack HealthCheckResponse.
    let health = format!("wasmbus.rpc.{lattice}.{provider}.default.health");
    let placeholder =
        wasmbus_rpc::common::serialize(&HashMap::from([("placeholder", true)])).unwrap();
    let deadline = tokio::time::Instant::now() + SETTLE;
    let reply = loop {
        let asked = nats.request(health.clone(), placeholder.clone().into());
        match tokio::time::timeout(Duration::from_secs(2), asked).await {
            Ok(Ok(reply)) => break reply,
            _ if tokio::time::Instant::now() > deadline => {
                panic!("no health reply; provider log:\n{}", log_text())
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let health_reply: serde_json::Value = rmp_decode(&reply.payload);
    assert_eq!(health_reply["healthy"], true, "{health_reply}");

    let rpc = rpc_client(&nats, &cluster).unwrap();
    let increment = |actor: String| {
        let rpc = &rpc;
        let provider = provider.clone();
        async move {
            let arg = wasmbus_rpc::common::serialize(&serde_json::json!({"key": "k", "value": 1}))
                .unwrap();
            let reply = send(
                rpc,
                actor_entity(&actor),
                provider_entity(&provider, "default"),
                lattice,
                "KeyValue.Increment",
                arg,
            )
            .await?;
            wasmbus_rpc::common::deserialize::<i32>(&reply).map_err(|e| e.to_string())
        }
    };
    assert_eq!(increment(actor_a.clone()).await, Ok(1), "{}", log_text());
    assert_eq!(increment(actor_a.clone()).await, Ok(2));
    let refused = increment(actor_b.clone()).await.unwrap_err();
    assert!(refused.contains("unlinked actor"), "{refused}");

    // linkdefs.put (msgpack map) links B; linkdefs.del unlinks A.
    let subject = |what: &str| format!("wasmbus.rpc.{lattice}.{provider}.default.linkdefs.{what}");
    let put = wasmbus_rpc::common::serialize(&link(&actor_b)).unwrap();
    nats.publish(subject("put"), put.into()).await.unwrap();
    let del = wasmbus_rpc::common::serialize(&link(&actor_a)).unwrap();
    nats.publish(subject("del"), del.into()).await.unwrap();
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let b = increment(actor_b.clone()).await;
        let a = increment(actor_a.clone()).await;
        if b.is_ok()
            && a.as_ref()
                .err()
                .is_some_and(|e| e.contains("unlinked actor"))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "b {b:?}, a {a:?}; {}",
            log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let record = link_record(&rpc, &actor_b, &provider, "default")
        .await
        .unwrap();
    assert_eq!(record["source"], "linkdefs.put", "{record}");

    // shutdown for another host: ignored; for ours: "shutting down", and the process exits.
    let shutdown = format!("wasmbus.rpc.{lattice}.{provider}.default.shutdown");
    let other = serde_json::json!({"host_id": KeyPair::new_server().public_key()}).to_string();
    let ignored = tokio::time::timeout(
        Duration::from_secs(1),
        nats.request(shutdown.clone(), other.into_bytes().into()),
    )
    .await;
    assert!(
        !matches!(ignored, Ok(Ok(_))),
        "a shutdown for another host was answered"
    );
    let ours = serde_json::json!({"host_id": host_id}).to_string();
    let reply = tokio::time::timeout(
        Duration::from_secs(5),
        nats.request(shutdown, ours.into_bytes().into()),
    )
    .await
    .expect("shutdown reply in time")
    .expect("shutdown reply");
    assert_eq!(&reply.payload[..], b"shutting down");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            panic!(
                "the provider did not exit after shutdown; log:\n{}",
                log_text()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit {status}; log:\n{}", log_text());
    let text = log_text();
    assert!(text.contains("kv_provider_2022: starting"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The provider process of the standalone test, killed by its pid if the test fails early.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

fn rmp_decode(bytes: &[u8]) -> serde_json::Value {
    wasmbus_rpc::common::deserialize(bytes).expect("msgpack")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2022_provider_runs_under_wasmhost_up_unchanged() {
    let work = temp_dir("provider2022");
    let par = build_archive(&work)
        .await
        .expect("provider-archive 0.6.0 writes the archive");
    let par_ref = format!("file://{}", par.path.display());
    let kvcounter = example_actor("kvcounter");
    let (kv_ref, kv_key) = (kvcounter.reference, kvcounter.key);

    // Clustered: the only JetStream whose object store async-nats 0.23 (the provider's) can read.
    let nats_server = NatsServer::start_clustered();
    let cluster = KeyPair::new_cluster();
    let cluster_seed = cluster.seed().expect("cluster seed");
    // TMPDIR: the host's provider cache ({tmp}/wasmcloudcache/...) stays in this test's directory.
    let host_tmp = work.join("host-tmp");
    std::fs::create_dir_all(&host_tmp).unwrap();
    let mut host = HostProcess::start(
        &nats_server.url(),
        &[
            ("WASMCLOUD_LATTICE_PREFIX", LATTICE),
            ("WASMCLOUD_CLUSTER_SEED", cluster_seed.as_str()),
            ("TMPDIR", host_tmp.to_str().unwrap()),
        ],
    );
    let host_pid = host.pid();

    let (nats, client, events) = connect_client(nats_server.url(), LATTICE).await;
    let rpc = rpc_client(&nats, &cluster).expect("rpc client");
    let mut steps = Steps::default();

    let Some(host_id) = discover_host(&mut steps, &client, &host, |_| true).await else {
        return;
    };

    let actor_up = steps
        .run("start_actor kvcounter (file://) → actor_started", async {
            accepted(client.start_actor(&host_id, &kv_ref, 1, None).await)?;
            events
                .wait_for("actor_started", 1, |d| d["public_key"] == kv_key.as_str())
                .await
                .map(|_| ())
        })
        .await
        .is_some();

    // ---- provider instance "default": started first, linked afterwards ----
    let default_up = steps
        .run(
            "start_provider file://….par.gz (link default) → provider_started",
            async {
                let found = start_provider(
                    &client, &events, &host_id, &par_ref, &par.key, "default", CONFIG,
                )
                .await?;
                let data = &found[0];
                if data["contract_id"] != CONTRACT {
                    return Err(format!("provider_started contract_id: {data}"));
                }
                if data["image_ref"] != par_ref.as_str() {
                    return Err(format!("provider_started image_ref: {data}"));
                }
                if data["claims"]["issuer"] != par.issuer.as_str()
                    || data["claims"]["name"] != "KV Provider 2022"
                {
                    return Err(format!("provider_started claims: {data}"));
                }
                Ok(())
            },
        )
        .await
        .is_some();

    let default_pid = if default_up {
        steps
            .run("the provider runs as a process under the host", async {
                let pids = wait_for_children(host_pid, 1).await?;
                Ok(*pids.iter().next().unwrap())
            })
            .await
    } else {
        None
    };

    if default_up {
        steps
            .run("health_check_passed (default)", async {
                events
                    .wait_for(
                        "health_check_passed",
                        1,
                        provider_event(&par.key, "default"),
                    )
                    .await
                    .map(|_| ())
            })
            .await;

        steps
            .run("the host logs the provider's stderr", async {
                let deadline = tokio::time::Instant::now() + SETTLE;
                loop {
                    let log = host.log_text();
                    if log.contains("kv_provider_2022: starting") {
                        return Ok(());
                    }
                    if tokio::time::Instant::now() > deadline {
                        return Err("`kv_provider_2022: starting` not in the host log".into());
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
            .await;
    } else {
        steps.blocked("health_check_passed (default)", "start_provider (default)");
    }

    let linked = steps
        .run(
            "advertise_link kvcounter ↔ provider (default) → linkdef_set",
            async {
                let values: HashMap<String, String> =
                    [("NAMESPACE".to_string(), "interop".to_string())].into();
                accepted(
                    client
                        .advertise_link(&kv_key, &par.key, CONTRACT, "default", values)
                        .await,
                )?;
                events
                    .wait_for("linkdef_set", 1, |d| {
                        d["actor_id"] == kv_key.as_str() && d["link_name"] == "default"
                    })
                    .await
                    .map(|_| ())
            },
        )
        .await
        .is_some();

    if actor_up && default_up && linked {
        steps
            .run(
                "the running provider receives the link (linkdefs.put)",
                async {
                    // The push is asynchronous: poll until the provider holds the link.
                    let record = wait_for_link_record(&rpc, &kv_key, &par.key, "default").await?;
                    if record["source"] != "linkdefs.put"
                        || record["values"]["NAMESPACE"] != "interop"
                    {
                        return Err(format!("link record {record}"));
                    }
                    Ok(())
                },
            )
            .await;

        steps
            .run(
                "HostData of the default instance (config_json, host_id, link)",
                async {
                    let data = host_data(&rpc, &kv_key, &par.key, "default").await?;
                    if data["config_json"] != CONFIG
                        || data["host_id"] != host_id.as_str()
                        || data["link_name"] != "default"
                        || data["provider_key"] != par.key.as_str()
                    {
                        return Err(format!("HostData as the provider saw it: {data}"));
                    }
                    Ok(())
                },
            )
            .await;

        steps
            .run("kvcounter → KeyValue.Increment: counts 1, 2, 3", async {
                let mut bodies = Vec::new();
                for _ in 0..3 {
                    let (status, body) = handle_request(&rpc, &kv_key, "/").await?;
                    if status != 200 {
                        return Err(format!("status {status} body {body} (after {bodies:?})"));
                    }
                    bodies.push(body);
                }
                let expected: Vec<String> =
                    (1..=3).map(|n| format!(r#"{{"counter":{n}}}"#)).collect();
                if bodies != expected {
                    return Err(format!("bodies {bodies:?}, expected {expected:?}"));
                }
                let stored = kv_get(&rpc, &kv_key, &par.key, "default", "counter").await?;
                if !stored.exists || stored.value != "3" {
                    return Err(format!("provider holds counter = {stored:?}"));
                }
                Ok(())
            })
            .await;

        // Issue 19: 2 MiB each way between an actor on our host and the 2022 provider, through
        // the object store (the host writes the request the provider reads with async-nats 0.23,
        // the provider writes the reply the host reads, the host writes the actor's response the
        // 2022 RpcClient reads).
        let relay = example_actor("relay");
        let relay_linked = steps
            .run(
                "start_actor relay + advertise_link relay ↔ provider (default)",
                async {
                    accepted(
                        client
                            .start_actor(&host_id, &relay.reference, 1, None)
                            .await,
                    )?;
                    events
                        .wait_for("actor_started", 1, |d| {
                            d["public_key"] == relay.key.as_str()
                        })
                        .await?;
                    accepted(
                        client
                            .advertise_link(
                                &relay.key,
                                &par.key,
                                CONTRACT,
                                "default",
                                HashMap::new(),
                            )
                            .await,
                    )?;
                    wait_for_link_record(&rpc, &relay.key, &par.key, "default")
                        .await
                        .map(|_| ())
                },
            )
            .await
            .is_some();
        if relay_linked {
            steps
                .run(
                    "relay: 2 MiB to the provider (KeyValue.Set) and back (KeyValue.Get)",
                    async {
                        let big: String = (0..2 << 20)
                            .map(|i| char::from(b'A' + (i % 26) as u8))
                            .collect();
                        let set = SetRequest {
                            key: "big",
                            value: &big,
                            expires: 0,
                        };
                        let set =
                            wasmbus_rpc::common::serialize(&set).map_err(|e| e.to_string())?;
                        let (status, body) =
                            http_call(&rpc, &relay.key, "/", "op=KeyValue.Set", set).await?;
                        if status != 200 {
                            return Err(format!(
                                "Set: status {status}: {}",
                                String::from_utf8_lossy(&body)
                            ));
                        }
                        let get =
                            wasmbus_rpc::common::serialize(&"big").map_err(|e| e.to_string())?;
                        let (status, body) =
                            http_call(&rpc, &relay.key, "/", "op=KeyValue.Get", get).await?;
                        if status != 200 {
                            return Err(format!(
                                "Get: status {status}: {}",
                                String::from_utf8_lossy(&body)
                            ));
                        }
                        let got: GetResponse =
                            wasmbus_rpc::common::deserialize(&body).map_err(|e| e.to_string())?;
                        if !got.exists || got.value != big {
                            return Err(format!(
                                "Get returned {} bytes (exists {}), not the 2 MiB set",
                                got.value.len(),
                                got.exists
                            ));
                        }
                        Ok(())
                    },
                )
                .await;
        } else {
            steps.blocked("relay: 2 MiB to the provider and back", "start_actor relay");
        }
    } else {
        steps.blocked(
            "link delivery and kvcounter calls (default)",
            "start_actor, start_provider (default), advertise_link",
        );
    }

    if default_up {
        steps
            .run(
                "start_provider again (same link) → failure ack + provider_start_failed",
                async {
                    let ack = client
                        .start_provider(&host_id, &par_ref, Some("default".to_string()), None, None)
                        .await
                        .map_err(|e| e.to_string())?;
                    if ack.accepted {
                        return Err("a second (provider, default) was accepted".into());
                    }
                    if !ack.error.contains("already running") {
                        return Err(format!("refused, but with: {}", ack.error));
                    }
                    events
                        .wait_for("provider_start_failed", 1, |d| d["link_name"] == "default")
                        .await
                        .map(|_| ())
                },
            )
            .await;
    } else {
        steps.blocked(
            "start_provider again (same link)",
            "start_provider (default)",
        );
    }

    // ---- provider instance "preset": linked before it starts ----
    let preset_linked = steps
        .run(
            "advertise_link (link preset) before that instance starts",
            async {
                let values: HashMap<String, String> =
                    [("SOURCE".to_string(), "before-start".to_string())].into();
                accepted(
                    client
                        .advertise_link(&kv_key, &par.key, CONTRACT, "preset", values)
                        .await,
                )
            },
        )
        .await
        .is_some();

    let preset_up = steps
        .run("start_provider (link preset) → provider_started", async {
            start_provider(
                &client,
                &events,
                &host_id,
                &par_ref,
                &par.key,
                "preset",
                PRESET_CONFIG,
            )
            .await
            .map(|_| ())
        })
        .await
        .is_some();

    if preset_up {
        steps
            .run(
                "health_check_passed (preset); two provider processes",
                async {
                    events
                        .wait_for("health_check_passed", 1, provider_event(&par.key, "preset"))
                        .await?;
                    wait_for_children(host_pid, if default_pid.is_some() { 2 } else { 1 })
                        .await
                        .map(|_| ())
                },
            )
            .await;
    }

    if preset_up && preset_linked && actor_up {
        steps
            .run("a link put before start arrives in HostData", async {
                let record = wait_for_link_record(&rpc, &kv_key, &par.key, "preset").await?;
                let data = host_data(&rpc, &kv_key, &par.key, "preset").await?;
                if record["source"] != "host_data"
                    || record["values"]["SOURCE"] != "before-start"
                    || data["links"] != serde_json::json!([kv_key])
                    || data["link_name"] != "preset"
                    || data["config_json"] != PRESET_CONFIG
                {
                    return Err(format!("link record {record}, HostData {data}"));
                }
                Ok(())
            })
            .await;
    } else {
        steps.blocked(
            "a link put before start arrives in HostData",
            "advertise_link (preset), start_provider (preset)",
        );
    }

    steps
        .run("get_host_inventory lists both provider instances", async {
            let inv = client
                .get_host_inventory(&host_id)
                .await
                .map_err(|e| e.to_string())?;
            let mut seen: Vec<(String, String, String)> = inv
                .providers
                .iter()
                .map(|p| (p.id.clone(), p.link_name.clone(), p.contract_id.clone()))
                .collect();
            seen.sort();
            let expected = vec![
                (par.key.clone(), "default".to_string(), CONTRACT.to_string()),
                (par.key.clone(), "preset".to_string(), CONTRACT.to_string()),
            ];
            if seen != expected {
                return Err(format!("providers {seen:?}, expected {expected:?}"));
            }
            let default = inv
                .providers
                .iter()
                .find(|p| p.link_name == "default")
                .unwrap();
            if default.name.as_deref() != Some("KV Provider 2022")
                || default.revision != 1
                || default.image_ref.as_deref() != Some(par_ref.as_str())
            {
                return Err(format!(
                    "name {:?}, revision {}, image_ref {:?}",
                    default.name, default.revision, default.image_ref
                ));
            }
            Ok(())
        })
        .await;

    if linked && default_up {
        steps
            .run(
                "remove_link (default) → the provider drops it (linkdefs.del)",
                async {
                    accepted(client.remove_link(&kv_key, CONTRACT, "default").await)?;
                    // wasmbus-rpc refuses calls from an actor it holds no link for.
                    let deadline = tokio::time::Instant::now() + SETTLE;
                    loop {
                        match kv_get(&rpc, &kv_key, &par.key, "default", "counter").await {
                            Err(e) if e.contains("unlinked actor") => break,
                            other if tokio::time::Instant::now() > deadline => {
                                return Err(format!(
                                    "after remove_link the provider still answers: {other:?}"
                                ))
                            }
                            _ => tokio::time::sleep(Duration::from_millis(200)).await,
                        }
                    }
                    // The actor's call now fails: refused by the host (no link) or by the provider.
                    let (status, body) = handle_request(&rpc, &kv_key, "/").await?;
                    if status != 500 || !(body.contains("link") || body.contains("unlinked actor"))
                    {
                        return Err(format!("kvcounter after remove_link: {status} {body}"));
                    }
                    Ok(())
                },
            )
            .await;
    }

    if let Some(pid) = default_pid {
        steps
            .run(
                "stop_provider (default) → provider_stopped, its process exits",
                async {
                    accepted(
                        client
                            .stop_provider(&host_id, &par.key, "default", CONTRACT, None)
                            .await,
                    )?;
                    let found = events
                        .wait_for("provider_stopped", 1, provider_event(&par.key, "default"))
                        .await?;
                    if found[0]["contract_id"] != CONTRACT {
                        return Err(format!("provider_stopped: {}", found[0]));
                    }
                    wait_for_exit(&[pid].into()).await?;
                    if events
                        .of_kind("provider_stopped")
                        .iter()
                        .any(|d| d["link_name"] == "preset")
                    {
                        return Err("the preset instance stopped too".into());
                    }
                    let inv = client
                        .get_host_inventory(&host_id)
                        .await
                        .map_err(|e| e.to_string())?;
                    let left: Vec<&str> =
                        inv.providers.iter().map(|p| p.link_name.as_str()).collect();
                    if left != vec!["preset"] {
                        return Err(format!("providers left in the inventory: {left:?}"));
                    }
                    Ok(())
                },
            )
            .await;
    } else {
        steps.blocked(
            "stop_provider (default)",
            "the provider runs as a process under the host",
        );
    }

    let remaining = children_of(host_pid);
    steps
        .run(
            "stop_host → host_stopped, no provider process left",
            async {
                accepted(client.stop_host(&host_id, Some(5000)).await)?;
                // Every check runs; the step reports all that failed.
                let mut problems = Vec::new();
                if let Err(e) = host_exited(&mut host) {
                    problems.push(e);
                }
                if remaining.is_empty() && preset_up {
                    problems.push("no provider process was running before stop_host".into());
                }
                if let Err(e) = wait_for_exit(&remaining).await {
                    problems.push(format!("provider processes: {e}"));
                }
                let left = running_from(&host_tmp);
                if !left.is_empty() {
                    problems.push(format!(
                        "processes still run from the host's TMPDIR: [{}]",
                        describe(&left)
                    ));
                }
                if preset_up {
                    if let Err(e) = events
                        .wait_for("provider_stopped", 1, provider_event(&par.key, "preset"))
                        .await
                    {
                        problems.push(format!("the preset instance: {e}"));
                    }
                }
                if let Err(e) = events.wait_for("host_stopped", 1, |_| true).await {
                    problems.push(e);
                }
                if problems.is_empty() {
                    Ok(())
                } else {
                    Err(problems.join("; "))
                }
            },
        )
        .await;

    let log = host.log_text();
    steps.finish(&log);
    let _ = std::fs::remove_dir_all(&work);
}
