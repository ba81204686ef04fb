//! `wasmhost ctl` (our operator client) drives `wasmhost up` over a real nats-server, and
//! the 2022 control-interface client sees the effects: both clients speak one protocol.

mod common;

use common::{example_actor_ref as actor_ref, wait_for_instances};
use std::collections::HashMap;
use std::time::Duration;
use wasmcloud_control_interface::Client;
use wasmhost_interop::{wasmhost_binary, HostProcess, NatsServer, Steps};

const CLUSTER_SEED: &str = "SCAKUNN72IFVVHIEKSS76LBAJOWFE4FRIDNSCVHFUASRG3FZSGWE6WVUJU";
const ECHO: &str = "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75";
const PROVIDER_KEY: &str = "VD4JAQI6QCBMSDPBDHVMBCURPGK6CSYMXIQVTQ32UGJ3FAG4S2OOP6UI";

/// One `wasmhost ctl` run: exit success, stdout, stderr.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_str(self.stdout.trim()).map_err(|e| {
            format!(
                "stdout is not JSON ({e}): {} / {}",
                self.stdout, self.stderr
            )
        })
    }

    fn success(self) -> Result<Run, String> {
        if self.ok {
            Ok(self)
        } else {
            Err(format!("ctl failed: {}", self.stderr.trim()))
        }
    }
}

struct Ctl {
    nats_url: String,
}

impl Ctl {
    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(wasmhost_binary());
        command
            .arg("ctl")
            .args(args)
            .args(["--nats-url", &self.nats_url])
            .env("WASMCLOUD_CLUSTER_SEED", CLUSTER_SEED);
        command.kill_on_drop(true);
        command
    }

    async fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().await.expect("run wasmhost ctl");
        Run {
            ok: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasmhost_ctl_drives_wasmhost_up() {
    let nats_server = NatsServer::start();
    let mut host = HostProcess::start(
        &nats_server.url(),
        &[
            ("WASMCLOUD_CLUSTER_SEED", CLUSTER_SEED),
            ("HOST_zone", "interop"),
        ],
    );
    let ctl = Ctl {
        nats_url: nats_server.url(),
    };
    let nats = async_nats::connect(nats_server.url())
        .await
        .expect("connect to nats-server");
    let client = Client::new(nats, None, Duration::from_secs(5), Duration::from_secs(1));
    let mut steps = Steps::default();

    let host_id = steps
        .run("ctl get hosts finds the host", async {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            loop {
                let run = ctl
                    .run(&["get", "hosts", "--output", "json", "--timeout", "500"])
                    .await;
                if run.ok {
                    let hosts = run.json()?;
                    let zone = hosts[0]["labels"]["zone"].as_str().unwrap_or("");
                    return match hosts[0]["id"].as_str() {
                        Some(id) if zone == "interop" => Ok(id.to_string()),
                        _ => Err(format!("unexpected hosts: {hosts}")),
                    };
                }
                if tokio::time::Instant::now() > deadline {
                    return Err(format!("no host after 30 s: {}", run.stderr));
                }
            }
        })
        .await;
    let Some(host_id) = host_id else {
        steps.blocked("everything else", "ctl get hosts finds the host");
        steps.finish(&host.log_text());
        return;
    };
    let host = &mut host;
    let h = host_id.as_str();

    steps
        .run(
            "ctl start actor by auction (constraint) waits for actor_started",
            async {
                let run = ctl
                    .run(&[
                        "start",
                        "actor",
                        &actor_ref("echo"),
                        "--constraint",
                        "zone=interop",
                        "--output",
                        "json",
                    ])
                    .await
                    .success()?;
                let result = run.json()?;
                if result["actor_id"] != ECHO || result["host_id"] != h {
                    return Err(format!("result {result}"));
                }
                wait_for_instances(&client, h, ECHO, 1).await
            },
        )
        .await;

    steps
        .run(
            "ctl start actor with an unmatched constraint fails clearly",
            async {
                let run = ctl
                    .run(&[
                        "start",
                        "actor",
                        &actor_ref("echo"),
                        "--constraint",
                        "zone=elsewhere",
                    ])
                    .await;
                if run.ok || !run.stderr.contains("no host accepted the auction") {
                    return Err(format!("ok={} stderr={}", run.ok, run.stderr));
                }
                Ok(())
            },
        )
        .await;

    steps
        .run("ctl start actor --host, ctl scale actor", async {
            ctl.run(&["start", "actor", &actor_ref("pong"), "--host", h])
                .await
                .success()?;
            ctl.run(&["scale", "actor", h, ECHO, "--count", "2"])
                .await
                .success()?;
            wait_for_instances(&client, h, ECHO, 2).await?;
            let inventory = ctl
                .run(&["get", "inventory", h, "--output", "json"])
                .await
                .success()?
                .json()?;
            let actors = inventory["actors"].as_array().map(Vec::len).unwrap_or(0);
            if actors != 2 {
                return Err(format!(
                    "ctl get inventory lists {actors} actors: {inventory}"
                ));
            }
            Ok(())
        })
        .await;

    steps
        .run(
            "ctl call HttpServer.HandleRequest / Echo.Echo --raw",
            async {
                let data = r#"{"method":"PUT","path":"/a/b","body":"hey"}"#;
                let reply = ctl
                    .run(&[
                        "call",
                        ECHO,
                        "HttpServer.HandleRequest",
                        "--data",
                        data,
                        "--output",
                        "json",
                    ])
                    .await
                    .success()?
                    .json()?;
                if reply["statusCode"] != 200
                    || reply["body_json"]["path"] != "/a/b"
                    || reply["body_json"]["body"] != "hey"
                {
                    return Err(format!("reply {reply}"));
                }
                let raw = ctl
                    .run(&["call", ECHO, "Echo.Echo", "--data", "raw bytes", "--raw"])
                    .await
                    .success()?;
                if raw.stdout != "raw bytes" {
                    return Err(format!("raw reply {:?}", raw.stdout));
                }
                Ok(())
            },
        )
        .await;

    steps
        .run(
            "ctl call signed by an untrusted cluster seed is refused",
            async {
                // A valid cluster seed the host does not trust.
                let stranger = wascap::prelude::KeyPair::new_cluster()
                    .seed()
                    .map_err(|e| e.to_string())?;
                let run = ctl
                    .run(&[
                        "call",
                        ECHO,
                        "Echo.Echo",
                        "--data",
                        "x",
                        "--raw",
                        "--cluster-seed",
                        &stranger,
                    ])
                    .await;
                if run.ok || !run.stderr.to_lowercase().contains("issuer") {
                    return Err(format!(
                        "ok={} stdout={} stderr={}",
                        run.ok, run.stdout, run.stderr
                    ));
                }
                Ok(())
            },
        )
        .await;

    steps
        .run(
            "ctl link put / get links / link del, seen by the 2022 client",
            async {
                ctl.run(&[
                    "link",
                    "put",
                    ECHO,
                    PROVIDER_KEY,
                    "wasmcloud:keyvalue",
                    "URL=redis://127.0.0.1:1/",
                ])
                .await
                .success()?;
                let links = client.query_links().await.map_err(|e| e.to_string())?;
                let expected: HashMap<String, String> =
                    [("URL".to_string(), "redis://127.0.0.1:1/".to_string())].into();
                if !links.links.iter().any(|l| {
                    l.actor_id == ECHO && l.provider_id == PROVIDER_KEY && l.values == expected
                }) {
                    return Err(format!("2022 client sees {:?}", links.links));
                }
                let ours = ctl
                    .run(&["get", "links", "--output", "json"])
                    .await
                    .success()?
                    .json()?;
                if ours["links"].as_array().map(Vec::len) != Some(1) {
                    return Err(format!("ctl get links: {ours}"));
                }
                ctl.run(&["link", "del", ECHO, "wasmcloud:keyvalue"])
                    .await
                    .success()?;
                let links = client.query_links().await.map_err(|e| e.to_string())?;
                if !links.links.is_empty() {
                    return Err(format!("after link del: {:?}", links.links));
                }
                Ok(())
            },
        )
        .await;

    steps
        .run("ctl get claims", async {
            let claims = ctl
                .run(&["get", "claims", "--output", "json"])
                .await
                .success()?
                .json()?;
            let found = claims["claims"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["sub"] == ECHO && c["name"] == "Echo");
            if !found {
                return Err(format!("claims {claims}"));
            }
            Ok(())
        })
        .await;

    steps
        .run(
            "ctl get inventory of an unknown host: no responders",
            async {
                let run = ctl.run(&["get", "inventory", "NOSUCHHOST"]).await;
                if run.ok || !run.stderr.contains("no responders") {
                    return Err(format!("ok={} stderr={}", run.ok, run.stderr));
                }
                Ok(())
            },
        )
        .await;

    steps
        .run("ctl watch events sees ctl stop actor", async {
            use tokio::io::AsyncBufReadExt;
            let mut watcher = ctl
                .command(&[
                    "watch",
                    "events",
                    "--type",
                    "actor_stopped",
                    "--count",
                    "2",
                    "--output",
                    "json",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| e.to_string())?;
            // The watcher says "Watching ..." on stderr once its subscription is live.
            let stderr = watcher.stderr.take().ok_or("no stderr")?;
            // Kept open until the watcher exits, so its later stderr writes never hit a closed pipe.
            let mut stderr = tokio::io::BufReader::new(stderr);
            let mut first = String::new();
            stderr
                .read_line(&mut first)
                .await
                .map_err(|e| e.to_string())?;
            if !first.starts_with("Watching wasmbus.evt.default") {
                return Err(format!("watch said {first:?}"));
            }
            ctl.run(&["stop", "actor", h, ECHO]).await.success()?;
            let output = tokio::time::timeout(Duration::from_secs(30), watcher.wait_with_output())
                .await
                .map_err(|_| {
                    "ctl watch events did not see 2 actor_stopped events within 30 s".to_string()
                })?
                .map_err(|e| e.to_string())?;
            drop(stderr);
            let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            if lines.len() != 2 || lines.iter().any(|e| e["data"]["public_key"] != ECHO) {
                return Err(format!("watch printed {lines:?}"));
            }
            wait_for_instances(&client, h, ECHO, 0).await
        })
        .await;

    steps
        .run(
            "ctl stop host: the process exits, then no host answers",
            async {
                ctl.run(&["stop", "host", h]).await.success()?;
                match tokio::task::block_in_place(|| host.wait_for_exit(Duration::from_secs(30))) {
                    Some(status) if status.success() => {}
                    other => return Err(format!("host exit: {other:?}")),
                }
                let run = ctl.run(&["get", "hosts", "--timeout", "500"]).await;
                if run.ok || !run.stderr.contains("no host answered") {
                    return Err(format!("ok={} stderr={}", run.ok, run.stderr));
                }
                Ok(())
            },
        )
        .await;

    steps.finish(&host.log_text());
}
