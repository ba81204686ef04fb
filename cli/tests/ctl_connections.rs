//! `wasmhost ctl` against nats-servers that refuse anonymous clients: each connection flag (and
//! a `WASMCLOUD_CTL_*` variable) reaches a host that joined with the same credentials; wrong
//! credentials exit with a clear error, not a hang; `--nats-url` repeated fails over.

#[path = "../../core/tests/lattice_support/mod.rs"]
mod lattice_support;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lattice_support::*;
use nkeys::KeyPair;
use wasmhost::{Host, HostConfig, NatsAuth, NatsConfig, NatsConnection};
use wasmhost_nats::testing::{TestOperator, TestPki};

/// Runs `wasmhost ctl ARGS get hosts` (bounded: killed after 30 s); (success, stdout, stderr).
fn ctl_get_hosts(lattice: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wasmhost"));
    command.arg("ctl").args(args).args([
        "--lattice",
        lattice,
        "--timeout",
        "1000",
        "--output",
        "json",
        "get",
        "hosts",
    ]);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("WASMCLOUD_CTL_")) {
        command.env_remove(k);
    }
    let mut child = command
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wasmhost runs");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("wasmhost ctl {args:?} hangs");
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.success(), out, err)
}

async fn host(conn: NatsConnection, lattice: &str) -> Host {
    let mut config = HostConfig::default().with_lattice(lattice);
    config.nats = Some(NatsConfig::uniform(conn));
    tokio::time::timeout(Duration::from_secs(20), Host::start(config))
        .await
        .expect("start returns")
        .expect("host starts")
}

/// `ctl` with `args` lists the host; with `wrong` it fails, saying the server refused.
fn sees_host_and_refuses(
    lattice: &str,
    host: &Host,
    args: &[&str],
    env: &[(&str, &str)],
    wrong: &[&str],
) {
    let (ok, out, err) = ctl_get_hosts(lattice, args, env);
    assert!(
        ok && out.contains(host.id()),
        "ctl {args:?} {env:?} did not list the host: {out} {err}"
    );
    let (ok, _, err) = ctl_get_hosts(lattice, wrong, &[]);
    assert!(
        !ok && err.contains("refused"),
        "ctl {wrong:?} should be refused: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_password_token_and_nkey_flags() {
    let user = KeyPair::new_user();
    let server = NatsServer::start_with_config(&format!(
        "authorization {{ users = [ {{ user: ops, password: pw }}, {{ nkey: {} }} ] }}\n",
        user.public_key()
    ));
    let url = server.url();
    let lattice = unique_lattice("ctlauth");
    let conn = NatsConnection::from_url(&url)
        .unwrap()
        .with_auth(NatsAuth::UserPassword {
            user: "ops".into(),
            password: "pw".into(),
        });
    let h = host(conn, &lattice).await;
    sees_host_and_refuses(
        &lattice,
        &h,
        &[
            "--nats-url",
            &url,
            "--nats-user",
            "ops",
            "--nats-password",
            "pw",
        ],
        &[],
        &[
            "--nats-url",
            &url,
            "--nats-user",
            "ops",
            "--nats-password",
            "bad",
        ],
    );
    let seed = user.seed().unwrap();
    let other_seed = KeyPair::new_user().seed().unwrap();
    sees_host_and_refuses(
        &lattice,
        &h,
        &["--nats-url", &url, "--nats-seed", &seed],
        &[],
        &["--nats-url", &url, "--nats-seed", &other_seed],
    );
    // The variables of the 0.5x host work too.
    let (ok, out, err) = ctl_get_hosts(
        &lattice,
        &[],
        &[
            ("WASMCLOUD_CTL_HOST", &url),
            ("WASMCLOUD_CTL_USER", "ops"),
            ("WASMCLOUD_CTL_PASSWORD", "pw"),
        ],
    );
    assert!(ok && out.contains(h.id()), "{out} {err}");
    // A bad seed is refused before connecting, naming the flag.
    let (ok, _, err) = ctl_get_hosts(
        &lattice,
        &["--nats-url", &url, "--nats-seed", "SUnope"],
        &[],
    );
    assert!(!ok && err.contains("--nats-seed"), "{err}");
    h.stop().await.unwrap();

    let server = NatsServer::start_with_config("authorization { token: \"tok\" }\n");
    let url = server.url();
    let h = host(
        NatsConnection::from_url(&url)
            .unwrap()
            .with_auth(NatsAuth::Token("tok".into())),
        &lattice,
    )
    .await;
    sees_host_and_refuses(
        &lattice,
        &h,
        &["--nats-url", &url, "--nats-token", "tok"],
        &[],
        &["--nats-url", &url, "--nats-token", "not"],
    );
    let (ok, out, err) = ctl_get_hosts(
        &lattice,
        &[],
        &[("WASMCLOUD_CTL_HOST", &url), ("WASMCLOUD_CTL_TOKEN", "tok")],
    );
    assert!(ok && out.contains(h.id()), "{out} {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_seed_and_creds_flags_in_operator_mode() {
    let operator = TestOperator::new();
    let server = NatsServer::start_with_config(&operator.server_config());
    let url = server.url();
    let lattice = unique_lattice("ctljwt");
    let h = host(
        NatsConnection::from_url(&url)
            .unwrap()
            .with_auth(NatsAuth::CredsFile(operator.creds_file("host"))),
        &lattice,
    )
    .await;
    let creds = operator.creds_file("ops");
    let stranger = TestOperator::new();
    let stranger_creds = stranger.creds_file("stranger");
    let creds = creds.display().to_string();
    sees_host_and_refuses(
        &lattice,
        &h,
        &["--nats-url", &url, "--nats-creds", &creds],
        &[],
        &[
            "--nats-url",
            &url,
            "--nats-creds",
            &stranger_creds.display().to_string(),
        ],
    );
    let (jwt, seed) = operator.user("ops2");
    let (bad_jwt, bad_seed) = stranger.user("stranger2");
    sees_host_and_refuses(
        &lattice,
        &h,
        &["--nats-url", &url, "--nats-jwt", &jwt, "--nats-seed", &seed],
        &[],
        &[
            "--nats-url",
            &url,
            "--nats-jwt",
            &bad_jwt,
            "--nats-seed",
            &bad_seed,
        ],
    );
    let (ok, out, err) = ctl_get_hosts(
        &lattice,
        &[],
        &[
            ("WASMCLOUD_CTL_HOST", &url),
            ("WASMCLOUD_CTL_CREDS", &creds),
        ],
    );
    assert!(ok && out.contains(h.id()), "{out} {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_flags() {
    let pki = TestPki::generate();
    let server = NatsServer::start_with_config(&pki.server_config(true));
    let url = format!("tls://127.0.0.1:{}", server.port);
    let lattice = unique_lattice("ctltls");
    let mut conn = NatsConnection::from_url(&url).unwrap();
    conn.tls.ca_file = Some(pki.path("ca.pem"));
    conn.tls.cert_file = Some(pki.path("client.pem"));
    conn.tls.key_file = Some(pki.path("client.key"));
    let h = host(conn, &lattice).await;
    let path = |f: &str| pki.path(f).display().to_string();
    let (ca, cert, key, other) = (
        path("ca.pem"),
        path("client.pem"),
        path("client.key"),
        path("other-ca.pem"),
    );
    let (ok, out, err) = ctl_get_hosts(
        &lattice,
        &[
            "--nats-url",
            &url,
            "--tls-ca",
            &ca,
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
        &[],
    );
    assert!(ok && out.contains(h.id()), "{out} {err}");
    let (ok, _, err) = ctl_get_hosts(
        &lattice,
        &[
            "--nats-url",
            &url,
            "--tls-ca",
            &other,
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
        &[],
    );
    assert!(!ok && err.contains("TLS"), "{err}");
    let (ok, _, err) = ctl_get_hosts(
        &lattice,
        &["--nats-url", &url, "--tls-ca", &ca, "--tls-cert", &cert],
        &[],
    );
    assert!(
        !ok && err.contains("TLS_KEY") && err.contains("private key"),
        "{err}"
    );
    let (ok, out, err) = ctl_get_hosts(
        &lattice,
        &[],
        &[
            ("WASMCLOUD_CTL_HOST", &url),
            ("WASMCLOUD_CTL_TLS_CA", &ca),
            ("WASMCLOUD_CTL_TLS_CERT", &cert),
            ("WASMCLOUD_CTL_TLS_KEY", &key),
        ],
    );
    assert!(ok && out.contains(h.id()), "{out} {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_urls_fail_over() {
    let server = NatsServer::start();
    let lattice = unique_lattice("ctlurls");
    let h = host(NatsConnection::from_url(&server.url()).unwrap(), &lattice).await;
    let down = format!("nats://127.0.0.1:{}", free_port());
    let (ok, out, err) = ctl_get_hosts(
        &lattice,
        &["--nats-url", &down, "--nats-url", &server.url()],
        &[],
    );
    assert!(ok && out.contains(h.id()), "{out} {err}");
    let (ok, out, err) = ctl_get_hosts(
        &lattice,
        &["--nats-url", &format!("{down},{}", server.url())],
        &[],
    );
    assert!(ok && out.contains(h.id()), "{out} {err}");
    let (ok, _, err) = ctl_get_hosts(&lattice, &["--nats-url", &down], &[]);
    assert!(!ok && err.contains("cannot connect"), "{err}");
}
