//! Every subject of LATTICE.md §1, served with no server: the replies a control client gets and
//! the events that follow.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use nkeys::KeyPair;
use serde_json::{json, Value};
use wasmhost_protocol::claims::{sign_actor, ActorSigning};
use wasmhost_protocol::subjects::{CommandVerb, CtlRequestKind};

use super::*;
use crate::{EventStream, HostConfig};

const ECHO_PK: &str = include_str!("../../../examples/actors/keys/echo.pub");

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A host whose lattice clients may load files from one temporary directory, holding echo.
struct Fixture {
    host: Host,
    events: EventStream,
    dir: PathBuf,
}

impl Fixture {
    async fn new() -> Fixture {
        Self::with(|_| {}).await
    }

    async fn with(tune: impl FnOnce(&mut HostConfig)) -> Fixture {
        let dir = std::env::temp_dir().join(format!("wasmhost-control-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(repo("examples/actors/echo.wasm"), dir.join("echo.wasm")).unwrap();
        let mut config = HostConfig {
            allow_file_load: vec![dir.clone()],
            ..Default::default()
        };
        config.labels.insert("region".into(), "eu".into());
        tune(&mut config);
        let (host, events) = Host::start_with_events(config).await.unwrap();
        Fixture { host, events, dir }
    }

    fn echo_ref(&self) -> String {
        format!("file://{}/echo.wasm", self.dir.display())
    }

    async fn request(&self, kind: CtlRequestKind, body: Value) -> Option<Value> {
        let body = if body.is_null() {
            Bytes::new()
        } else {
            Bytes::from(body.to_string())
        };
        self.raw(kind, body).await
    }

    async fn raw(&self, kind: CtlRequestKind, body: Bytes) -> Option<Value> {
        let reply = handle(
            &self.host,
            ControlRequest {
                kind,
                body,
                reply_limit: 1 << 20,
            },
        )
        .await?;
        Some(serde_json::from_slice(&reply).expect("replies are JSON"))
    }

    async fn command(&self, verb: CommandVerb, body: Value) -> Value {
        self.request(
            CtlRequestKind::Command {
                host: self.host.id().to_string(),
                verb,
            },
            body,
        )
        .await
        .expect("commands always reply")
    }

    /// The data of the next event of `kind` (others are skipped), within a bound.
    async fn event(&mut self, kind: &str) -> Value {
        let wait = async {
            loop {
                let event = self.events.next().await.expect("event stream open");
                if event.short_type() == kind {
                    return event.data.clone();
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("no {kind} event within 10 s"))
    }

    async fn start_echo(&mut self, count: u16) {
        assert_eq!(
            self.command(
                CommandVerb::La,
                json!({"actor_ref": self.echo_ref(), "count": count})
            )
            .await,
            ok()
        );
        for _ in 0..count {
            self.event("actor_started").await;
        }
    }
}

fn ok() -> Value {
    json!({"accepted": true, "error": ""})
}

fn refused(error: &str) -> Value {
    json!({"accepted": false, "error": error})
}

fn error_of(reply: &Value) -> &str {
    assert_eq!(reply["accepted"], false, "{reply}");
    reply["error"].as_str().unwrap()
}

fn echo_revision(rev: i32) -> Vec<u8> {
    let module = std::fs::read(repo("examples/actors/unsigned/echo.wasm")).unwrap();
    let seed = |name: &str| {
        KeyPair::from_seed(
            std::fs::read_to_string(repo(&format!("examples/actors/keys/{name}.nk")))
                .unwrap()
                .trim(),
        )
        .unwrap()
    };
    let signing = ActorSigning {
        name: Some("Echo".into()),
        caps: vec!["wasmcloud:httpserver".into()],
        rev: Some(rev),
        ..Default::default()
    };
    sign_actor(&module, &signing, &seed("account"), &seed("echo")).unwrap()
}

#[tokio::test]
async fn ping_replies_and_publishes_a_heartbeat() {
    let mut f = Fixture::new().await;
    let reply = f
        .request(CtlRequestKind::PingHosts, Value::Null)
        .await
        .unwrap();
    assert_eq!(reply["id"], f.host.id());
    assert_eq!(reply["issuer"], f.host.cluster_key());
    assert_eq!(reply["labels"]["region"], "eu");
    assert_eq!(reply["cluster_issuers"], f.host.cluster_key());
    assert_eq!(reply["version"], crate::VERSION);
    assert_eq!(reply["lattice_prefix"], "default");
    assert!(reply["js_domain"].is_null());
    assert!(f.event("host_heartbeat").await["labels"]["region"] == "eu");
}

#[tokio::test]
async fn inventory_is_ours_only() {
    let mut f = Fixture::new().await;
    f.start_echo(2).await;
    let inv = f
        .request(
            CtlRequestKind::Inventory {
                host: f.host.id().to_string(),
            },
            Value::Null,
        )
        .await
        .unwrap();
    assert_eq!(inv["host_id"], f.host.id());
    assert_eq!(inv["actors"][0]["id"], ECHO_PK.trim());
    assert_eq!(inv["actors"][0]["instances"].as_array().unwrap().len(), 2);
    assert_eq!(inv["providers"], json!([]));
    let other = f
        .request(
            CtlRequestKind::Inventory {
                host: "NOTUS".into(),
            },
            Value::Null,
        )
        .await
        .unwrap();
    assert_eq!(other, refused(WRONG_HOST));
}

#[tokio::test]
async fn claims_and_links_are_the_lattice_s() {
    let mut f = Fixture::new().await;
    f.start_echo(1).await;
    let claims = f
        .request(CtlRequestKind::GetClaims, Value::Null)
        .await
        .unwrap();
    assert_eq!(claims["claims"][0]["sub"], ECHO_PK.trim());
    assert_eq!(claims["claims"][0]["caps"], "wasmcloud:httpserver");
    assert_eq!(claims["claims"][0]["contract_id"], "");
    let link = json!({"actor_id": ECHO_PK.trim(), "provider_id": "VPROVIDER", "link_name": "default", "contract_id": "wasmcloud:httpserver", "values": {"PORT": "8080"}});
    assert_eq!(
        f.request(CtlRequestKind::LinkdefsPut, link.clone())
            .await
            .unwrap(),
        ok()
    );
    assert_eq!(f.event("linkdef_set").await["values"]["PORT"], "8080");
    let links = f
        .request(CtlRequestKind::GetLinks, Value::Null)
        .await
        .unwrap();
    assert_eq!(links["links"], json!([link]));
    let del = json!({"actor_id": ECHO_PK.trim(), "contract_id": "wasmcloud:httpserver", "link_name": "default"});
    assert_eq!(
        f.request(CtlRequestKind::LinkdefsDel, del.clone())
            .await
            .unwrap(),
        ok()
    );
    f.event("linkdef_deleted").await;
    // Deleting a link that is gone is not an error (the OTP host's rule).
    assert_eq!(
        f.request(CtlRequestKind::LinkdefsDel, del).await.unwrap(),
        ok()
    );
    assert_eq!(
        f.request(CtlRequestKind::GetLinks, Value::Null)
            .await
            .unwrap(),
        json!({"links": []})
    );
}

#[tokio::test]
async fn bad_link_requests_are_refused_with_the_otp_texts() {
    let f = Fixture::new().await;
    let garbage = f
        .raw(
            CtlRequestKind::LinkdefsPut,
            Bytes::from_static(b"{not json"),
        )
        .await
        .unwrap();
    assert_eq!(garbage, refused("Invalid link definition put request"));
    let missing = f
        .request(
            CtlRequestKind::LinkdefsPut,
            json!({"actor_id": "M", "link_name": "default", "contract_id": "c:d", "values": {}}),
        )
        .await
        .unwrap();
    assert_eq!(
        missing,
        refused("Invalid link definition put request: link definition without provider_id")
    );
    let huge = json!({"actor_id": "M", "provider_id": "V", "link_name": "default", "contract_id": "c:d", "values": {"CERT": "x".repeat(20_000)}});
    assert!(
        error_of(&f.request(CtlRequestKind::LinkdefsPut, huge).await.unwrap()).contains("CERT")
    );
    let garbage = f
        .raw(CtlRequestKind::LinkdefsDel, Bytes::from_static(b"[]"))
        .await
        .unwrap();
    assert_eq!(garbage, refused("Invalid link definition removal request"));
}

#[tokio::test]
async fn la_starts_from_allowed_files_and_reports_failures_as_events() {
    let mut f = Fixture::new().await;
    f.start_echo(1).await;
    assert_eq!(
        f.command(CommandVerb::La, json!({"actor_ref": "x", "count": 0}))
            .await,
        refused("Invalid launch actor JSON request: count must be at least 1")
    );
    assert_eq!(
        f.raw(
            CtlRequestKind::Command {
                host: f.host.id().into(),
                verb: CommandVerb::La
            },
            Bytes::from_static(b"{")
        )
        .await
        .unwrap(),
        refused("Invalid launch actor JSON request")
    );
    // A file outside the allowed directory: refused at once, and the refusal is an event too.
    let outside = f
        .command(
            CommandVerb::La,
            json!({"actor_ref": format!("file://{}", repo("examples/actors/pong.wasm").display())}),
        )
        .await;
    assert!(
        error_of(&outside).contains("--allow-file-load"),
        "{outside}"
    );
    assert!(f.event("actor_start_failed").await["error"]
        .as_str()
        .unwrap()
        .contains("not allowed"));
    // A file inside that is not wasm: accepted, then actor_start_failed without its bytes.
    std::fs::write(f.dir.join("notes.wasm"), "SECRET-CONTENT ".repeat(100)).unwrap();
    let notes = format!("file://{}/notes.wasm", f.dir.display());
    assert_eq!(
        f.command(CommandVerb::La, json!({"actor_ref": notes}))
            .await,
        ok()
    );
    let failed = f.event("actor_start_failed").await;
    assert_eq!(failed["actor_ref"], notes);
    assert!(
        !failed["error"].as_str().unwrap().contains("SECRET"),
        "{failed}"
    );
    // Another host's command.
    let elsewhere = f
        .request(
            CtlRequestKind::Command {
                host: "NOTUS".into(),
                verb: CommandVerb::La,
            },
            json!({"actor_ref": "x"}),
        )
        .await
        .unwrap();
    assert_eq!(elsewhere, refused(WRONG_HOST));
}

#[tokio::test]
async fn a_host_without_allowed_directories_reads_no_files_for_the_lattice() {
    let mut f = Fixture::with(|c| c.allow_file_load.clear()).await;
    for verb in [CommandVerb::La, CommandVerb::Scale] {
        let body = json!({"actor_ref": "/dev/zero", "actor_id": ECHO_PK.trim(), "count": 1});
        assert!(error_of(&f.command(verb, body).await).contains("not allowed"));
        f.event("actor_start_failed").await;
    }
    let upd = f
        .command(
            CommandVerb::Upd,
            json!({"actor_id": ECHO_PK.trim(), "new_actor_ref": "/etc/passwd"}),
        )
        .await;
    assert!(
        error_of(&upd).starts_with("Unable to perform live update: loading local files"),
        "{upd}"
    );
    let lp = f
        .command(
            CommandVerb::Lp,
            json!({"provider_ref": "file:///etc/passwd", "link_name": "default"}),
        )
        .await;
    assert!(error_of(&lp).contains("not allowed"), "{lp}");
    assert!(f.event("provider_start_failed").await["error"]
        .as_str()
        .unwrap()
        .contains("not allowed"));
}

#[tokio::test]
async fn sa_stops_running_actors_only() {
    let mut f = Fixture::new().await;
    f.start_echo(2).await;
    let pk = ECHO_PK.trim();
    assert_eq!(
        f.command(CommandVerb::Sa, json!({"actor_ref": pk, "count": 1}))
            .await,
        ok()
    );
    f.event("actor_stopped").await;
    assert_eq!(f.host.actor(pk).unwrap().instances.len(), 1);
    let missing = f
        .command(
            CommandVerb::Sa,
            json!({"actor_ref": "MNOTRUNNING", "count": 0}),
        )
        .await;
    assert_eq!(
        missing,
        refused("Invalid request to stop actor: actor MNOTRUNNING is not running on this host")
    );
    assert_eq!(
        f.command(CommandVerb::Sa, json!({"count": 0})).await,
        refused("Invalid request to stop actor")
    );
}

#[tokio::test]
async fn scale_goes_up_and_down_and_refuses_what_cannot_fit() {
    let mut f = Fixture::with(|c| c.max_instances = 4).await;
    let pk = ECHO_PK.trim().to_string();
    // Not running yet: started from actor_ref.
    assert_eq!(
        f.command(
            CommandVerb::Scale,
            json!({"actor_id": pk, "actor_ref": f.echo_ref(), "count": 2})
        )
        .await,
        ok()
    );
    f.event("actor_started").await;
    f.event("actor_started").await;
    assert_eq!(
        f.command(
            CommandVerb::Scale,
            json!({"actor_id": pk, "actor_ref": "", "count": 1})
        )
        .await,
        ok()
    );
    f.event("actor_stopped").await;
    // Beyond the pool: refused at once, with an event, nothing started.
    let beyond = f
        .command(
            CommandVerb::Scale,
            json!({"actor_id": pk, "actor_ref": "", "count": 100}),
        )
        .await;
    assert!(error_of(&beyond).contains("at most 4"), "{beyond}");
    assert!(f.event("actor_start_failed").await["error"]
        .as_str()
        .unwrap()
        .contains("at most 4"));
    assert_eq!(f.host.actor(&pk).unwrap().instances.len(), 1);
    let not_running = f
        .command(
            CommandVerb::Scale,
            json!({"actor_id": "MOTHER", "actor_ref": "", "count": 1}),
        )
        .await;
    assert!(error_of(&not_running).contains("no actor_ref was given"));
    let wrong = f
        .command(
            CommandVerb::Scale,
            json!({"actor_id": pk, "actor_ref": "", "count": 1, "host_id": "NOTUS"}),
        )
        .await;
    assert_eq!(wrong, refused(WRONG_HOST));
    assert_eq!(
        f.command(CommandVerb::Scale, json!({"actor_id": pk})).await,
        refused("Invalid scale actor JSON request")
    );
    assert_eq!(
        f.command(
            CommandVerb::Scale,
            json!({"actor_id": pk, "actor_ref": "", "count": 0})
        )
        .await,
        ok()
    );
    f.event("actor_stopped").await;
}

#[tokio::test]
async fn upd_replaces_with_a_higher_revision_only() {
    let mut f = Fixture::new().await;
    f.start_echo(1).await;
    let pk = ECHO_PK.trim();
    std::fs::write(f.dir.join("echo1.wasm"), echo_revision(1)).unwrap();
    std::fs::write(f.dir.join("echo9.wasm"), echo_revision(9)).unwrap();
    let same = f.command(CommandVerb::Upd, json!({"actor_id": pk, "new_actor_ref": format!("file://{}/echo1.wasm", f.dir.display())})).await;
    assert!(
        error_of(&same).starts_with("Unable to perform live update: new revision 1 is not higher"),
        "{same}"
    );
    f.event("actor_update_failed").await;
    let newer = f.command(CommandVerb::Upd, json!({"actor_id": pk, "new_actor_ref": format!("file://{}/echo9.wasm", f.dir.display())})).await;
    assert_eq!(newer, ok());
    assert_eq!(f.event("actor_updated").await["revision"], 9);
    assert_eq!(
        f.command(CommandVerb::Upd, json!({})).await,
        refused("Invalid JSON request to update actor")
    );
}

#[tokio::test]
async fn upd_from_an_unresponsive_registry_is_acked_within_the_budget() {
    let mut f = Fixture::new().await;
    f.start_echo(1).await;
    // A registry that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    // Within the 2 s a control client waits (`wasmhost ctl`, the 2022 client), as a client would.
    let request = f.command(
        CommandVerb::Upd,
        json!({"actor_id": ECHO_PK.trim(), "new_actor_ref": format!("{addr}/echo:0.2.0")}),
    );
    let reply = tokio::time::timeout(Duration::from_secs(2), request)
        .await
        .expect("a reply before the client gives up");
    assert_eq!(reply, ok(), "accepted: the outcome follows as an event");
    assert!(
        f.host.actor(ECHO_PK.trim()).is_ok(),
        "the old version keeps running"
    );
}

#[tokio::test]
async fn lp_and_sp_on_an_embedded_host() {
    let mut f = Fixture::new().await;
    assert_eq!(
        f.command(
            CommandVerb::Lp,
            json!({"provider_ref": "x", "link_name": ""})
        )
        .await,
        refused("Improperly formed start provider command JSON: link_name must not be empty")
    );
    assert_eq!(
        f.command(CommandVerb::Lp, json!({"link_name": "default"}))
            .await,
        refused("Improperly formed start provider command JSON")
    );
    // Accepted; the embedded host cannot run provider processes and says so in the event.
    std::fs::write(f.dir.join("p.par.gz"), b"not an archive").unwrap();
    let par = format!("file://{}/p.par.gz", f.dir.display());
    assert_eq!(
        f.command(
            CommandVerb::Lp,
            json!({"provider_ref": par, "link_name": "default"})
        )
        .await,
        ok()
    );
    assert!(f.event("provider_start_failed").await["error"]
        .as_str()
        .unwrap()
        .contains("NATS"));
    let sp = f
        .command(
            CommandVerb::Sp,
            json!({"provider_ref": "VNOPE", "link_name": "default"}),
        )
        .await;
    assert_eq!(sp, refused("Invalid request to stop provider: provider VNOPE with link name default is not running on this host"));
    assert_eq!(
        f.command(CommandVerb::Sp, json!({"link_name": "default"}))
            .await,
        refused("Invalid JSON request for stop provider")
    );
}

#[tokio::test]
async fn auctions_answer_only_when_the_labels_match() {
    let f = Fixture::new().await;
    let reply = f
        .request(
            CtlRequestKind::AuctionActor,
            json!({"actor_ref": "r:1", "constraints": {"region": "eu"}}),
        )
        .await
        .unwrap();
    assert_eq!(
        reply,
        json!({"actor_ref": "r:1", "constraints": {"region": "eu"}, "host_id": f.host.id()})
    );
    assert_eq!(
        f.request(
            CtlRequestKind::AuctionActor,
            json!({"actor_ref": "r:1", "constraints": {"region": "us"}})
        )
        .await,
        None
    );
    assert_eq!(
        f.request(CtlRequestKind::AuctionActor, json!({"constraints": {}}))
            .await
            .unwrap(),
        refused("Invalid JSON request for actor auction")
    );
    let reply = f
        .request(
            CtlRequestKind::AuctionProvider,
            json!({"provider_ref": "p:1", "link_name": "default", "constraints": {}}),
        )
        .await
        .unwrap();
    assert_eq!(reply["host_id"], f.host.id());
    assert_eq!(reply["link_name"], "default");
    assert_eq!(
        f.request(
            CtlRequestKind::AuctionProvider,
            json!({"provider_ref": "p:1", "constraints": {"zone": "a"}})
        )
        .await,
        None
    );
    assert_eq!(
        f.request(CtlRequestKind::AuctionProvider, json!([]))
            .await
            .unwrap(),
        refused("Invalid JSON request to auction provider")
    );
}

#[tokio::test]
async fn registries_put_merges_credentials() {
    let f = Fixture::new().await;
    let creds =
        json!({"localhost:5000": {"registryType": "oci", "username": "u", "password": "p"}});
    assert_eq!(
        f.request(CtlRequestKind::RegistriesPut, creds)
            .await
            .unwrap(),
        ok()
    );
    assert_eq!(
        f.request(CtlRequestKind::RegistriesPut, json!("nope"))
            .await
            .unwrap(),
        refused("Failed to update registry credential map")
    );
}

#[tokio::test]
async fn stop_checks_the_host_id_then_stops() {
    let mut f = Fixture::new().await;
    assert_eq!(
        f.command(CommandVerb::Stop, json!({"host_id": "NOTUS"}))
            .await,
        refused("Handled stop request for incorrect host. Ignoring")
    );
    assert_eq!(
        f.raw(
            CtlRequestKind::Command {
                host: f.host.id().into(),
                verb: CommandVerb::Stop
            },
            Bytes::from_static(b"{x")
        )
        .await
        .unwrap(),
        refused("Invalid JSON request to stop host")
    );
    assert_eq!(
        f.raw(
            CtlRequestKind::Command {
                host: f.host.id().into(),
                verb: CommandVerb::Stop
            },
            Bytes::new()
        )
        .await
        .unwrap(),
        ok()
    );
    f.event("host_stopped").await;
    tokio::time::timeout(Duration::from_secs(5), f.host.wait_stopped())
        .await
        .unwrap();
}

#[tokio::test]
async fn replies_too_large_for_the_server_become_failure_acks() {
    let mut f = Fixture::new().await;
    f.start_echo(3).await;
    let request = ControlRequest {
        kind: CtlRequestKind::Inventory {
            host: f.host.id().into(),
        },
        body: Bytes::new(),
        reply_limit: 200,
    };
    let reply: Value = serde_json::from_slice(&handle(&f.host, request).await.unwrap()).unwrap();
    assert!(
        error_of(&reply).contains("max_payload of 200 bytes"),
        "{reply}"
    );
}

#[test]
fn constraints_are_a_subset_test() {
    let labels: HashMap<String, String> = [
        ("region".into(), "eu".into()),
        ("hostcore.os".into(), "linux".into()),
    ]
    .into();
    assert!(satisfies(&labels, &HashMap::new()));
    assert!(satisfies(&labels, &[("region".into(), "eu".into())].into()));
    assert!(!satisfies(
        &labels,
        &[("region".into(), "us".into())].into()
    ));
    assert!(!satisfies(&labels, &[("zone".into(), "a".into())].into()));
}
