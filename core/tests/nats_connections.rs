//! Hosts joining NATS servers that refuse anonymous clients, with every auth form and with TLS
//! (a CA, a server certificate and a client certificate made by the test); wrong credentials
//! refused at start with a clear error; failover to the second URL when the first server is
//! down; and a host whose server dies reconnecting to the other node of a two-node cluster.
//! Each time an actor on the host answers a call that crosses NATS.

mod common;
mod lattice_support;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use lattice_support::*;
use nkeys::KeyPair;
use wasmhost::protocol::rpc::{Invocation, WasmCloudEntity};
use wasmhost::{ActorSource, ErrorKind, Host, HostConfig, NatsAuth, NatsConfig, NatsConnection};
use wasmhost_nats::testing::{TestOperator, TestPki};
use wasmhost_nats::ChunkStore;

const ECHO_PK: &str = "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75";
const WAIT: Duration = Duration::from_secs(20);

fn host_config(conn: &NatsConnection, lattice: &str, cluster: &KeyPair) -> HostConfig {
    let mut config = HostConfig::default().with_lattice(lattice);
    config.nats = Some(NatsConfig::uniform(conn.clone()));
    config.cluster_seed = Some(cluster.seed().unwrap());
    config
}

/// Starts a host with `conn` for all its connections and the echo actor on it.
async fn host_with_echo(conn: &NatsConnection, lattice: &str, cluster: &KeyPair) -> Host {
    let host = tokio::time::timeout(WAIT, Host::start(host_config(conn, lattice, cluster)))
        .await
        .expect("start returns")
        .expect("host starts");
    let echo = ActorSource::File(repo_path("examples/actors/echo.wasm"));
    host.start_actor(echo, 1, HashMap::new())
        .await
        .expect("echo starts");
    host
}

/// `Echo.Echo` to the echo actor over a client of its own with `conn`, retried (bounded) while
/// the lattice settles; the reply bytes.
async fn call_echo(
    conn: &NatsConnection,
    lattice: &str,
    cluster: &KeyPair,
    payload: &[u8],
) -> Vec<u8> {
    let client = wasmhost_nats::connect(conn, "test caller")
        .await
        .expect("caller connects");
    let chunks = ChunkStore::for_client(&client, lattice, None, 1);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let inv = Invocation::new_signed(
            cluster,
            WasmCloudEntity::actor(KeyPair::new_module().public_key()),
            WasmCloudEntity::actor(ECHO_PK),
            "Echo.Echo",
            payload.to_vec(),
            &KeyPair::new_server().public_key(),
        )
        .unwrap();
        match wasmhost_nats::invoke(&client, &chunks, lattice, inv, Duration::from_secs(2)).await {
            Ok(response) if response.error.is_none() => return response.msg,
            other => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "echo never answered: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// A host joins with `conn` and its actor answers over NATS; the same host with `wrong`
/// credentials fails to start with a `Denied` error naming the auth form, in bounded time.
async fn joins_and_refuses(conn: NatsConnection, wrong: NatsConnection, form: &str) {
    let lattice = unique_lattice("auth");
    let cluster = KeyPair::new_cluster();
    let host = host_with_echo(&conn, &lattice, &cluster).await;
    assert_eq!(
        call_echo(&conn, &lattice, &cluster, b"secured").await,
        b"secured"
    );
    host.stop().await.unwrap();

    let err = tokio::time::timeout(WAIT, Host::start(host_config(&wrong, &lattice, &cluster)))
        .await
        .expect("a refused start does not hang")
        .err()
        .expect("wrong credentials fail the start");
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
    assert!(err.to_string().contains(form), "{err}");
}

fn at(server: &NatsServer, auth: NatsAuth) -> NatsConnection {
    NatsConnection::from_url(&server.url())
        .unwrap()
        .with_auth(auth)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn user_and_password() {
    let server = NatsServer::start_with_config(
        "authorization { users = [ { user: host, password: pw1 } ] }\n",
    );
    let good = at(
        &server,
        NatsAuth::UserPassword {
            user: "host".into(),
            password: "pw1".into(),
        },
    );
    let bad = at(
        &server,
        NatsAuth::UserPassword {
            user: "host".into(),
            password: "nope".into(),
        },
    );
    joins_and_refuses(good, bad, "user/password").await;
    let anonymous = tokio::time::timeout(
        WAIT,
        Host::start(host_config(
            &at(&server, NatsAuth::Anonymous),
            "anon",
            &KeyPair::new_cluster(),
        )),
    )
    .await
    .unwrap();
    assert!(anonymous.is_err(), "the server refuses anonymous clients");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token() {
    let server = NatsServer::start_with_config("authorization { token: \"s3cret-token\" }\n");
    joins_and_refuses(
        at(&server, NatsAuth::Token("s3cret-token".into())),
        at(&server, NatsAuth::Token("other".into())),
        "token",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nkey() {
    let user = KeyPair::new_user();
    let server = NatsServer::start_with_config(&format!(
        "authorization {{ users = [ {{ nkey: {} }} ] }}\n",
        user.public_key()
    ));
    let good = at(
        &server,
        NatsAuth::Nkey {
            seed: user.seed().unwrap(),
        },
    );
    let bad = at(
        &server,
        NatsAuth::Nkey {
            seed: KeyPair::new_user().seed().unwrap(),
        },
    );
    joins_and_refuses(good, bad, "nkey").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn jwt_and_seed_in_operator_mode() {
    let operator = TestOperator::new();
    let server = NatsServer::start_with_config(&operator.server_config());
    let (jwt, seed) = operator.user("host");
    let (stranger_jwt, stranger_seed) = TestOperator::new().user("stranger");
    let good = at(&server, NatsAuth::Jwt { jwt, seed });
    let bad = at(
        &server,
        NatsAuth::Jwt {
            jwt: stranger_jwt,
            seed: stranger_seed,
        },
    );
    joins_and_refuses(good, bad, "JWT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn creds_file_in_operator_mode() {
    let operator = TestOperator::new();
    let server = NatsServer::start_with_config(&operator.server_config());
    let good = at(&server, NatsAuth::CredsFile(operator.creds_file("host")));
    let stranger = TestOperator::new();
    let bad = at(
        &server,
        NatsAuth::CredsFile(stranger.creds_file("stranger")),
    );
    joins_and_refuses(good, bad, "creds file").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_with_a_client_certificate() {
    let pki = TestPki::generate();
    let server = NatsServer::start_with_config(&pki.server_config(true));
    let mut good = NatsConnection::from_url(&format!("tls://127.0.0.1:{}", server.port)).unwrap();
    good.tls.ca_file = Some(pki.path("ca.pem"));
    good.tls.cert_file = Some(pki.path("client.pem"));
    good.tls.key_file = Some(pki.path("client.key"));
    let mut untrusted = good.clone();
    untrusted.tls.ca_file = Some(pki.path("other-ca.pem"));
    joins_and_refuses(good, untrusted, "TLS").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settings_that_can_never_work_fail_before_connecting() {
    let lattice = unique_lattice("bad");
    let cluster = KeyPair::new_cluster();
    let mut config = host_config(&NatsConnection::default(), &lattice, &cluster);
    config.nats.as_mut().unwrap().prov_rpc.auth = NatsAuth::Nkey {
        seed: "SUnotaseed".into(),
    };
    let err = Host::start(config)
        .await
        .err()
        .expect("a bad seed fails the start");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("prov_rpc.seed"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_host_given_two_urls_joins_through_the_second_when_the_first_is_down() {
    let server = NatsServer::start();
    let down = format!("nats://127.0.0.1:{}", free_port());
    let conn = NatsConnection::from_url(&format!("{down},{}", server.url())).unwrap();
    let lattice = unique_lattice("failover");
    let cluster = KeyPair::new_cluster();
    let _host = host_with_echo(&conn, &lattice, &cluster).await;
    let direct = NatsConnection::from_url(&server.url()).unwrap();
    assert_eq!(
        call_echo(&direct, &lattice, &cluster, b"second").await,
        b"second"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_host_reconnects_to_the_other_node_of_a_cluster_and_keeps_serving() {
    let mut nodes = NatsServer::start_cluster(2);
    let (first, second) = (nodes[0].url(), nodes[1].url());
    let lattice = unique_lattice("cluster");
    let cluster = KeyPair::new_cluster();
    let host_conn = NatsConnection::from_url(&format!("{first},{second}")).unwrap();
    let _host = host_with_echo(&host_conn, &lattice, &cluster).await;
    let caller = NatsConnection::from_url(&second).unwrap();
    assert_eq!(
        call_echo(&caller, &lattice, &cluster, b"before").await,
        b"before"
    );

    // The host is on the first node (servers are tried in order): kill it.
    nodes[0].stop();
    assert_eq!(
        call_echo(&caller, &lattice, &cluster, b"after").await,
        b"after"
    );
}
