//! `connect` against real nats-servers that refuse anonymous clients: every auth form, TLS with a
//! CA and a client certificate, wrong credentials refused at once, failover to the next server,
//! and the background first connect.

use std::time::Duration;

use futures::StreamExt;
use nkeys::KeyPair;
use wasmhost_nats::testing::{free_port, NatsServer, TestOperator, TestPki};
use wasmhost_nats::{connect, NatsAuth, NatsConnection, NatsError, ReconnectPolicy};

const WAIT: Duration = Duration::from_secs(10);

fn settings(server: &NatsServer, auth: NatsAuth) -> NatsConnection {
    NatsConnection::from_url(&server.url())
        .unwrap()
        .with_auth(auth)
}

/// A request/reply round trip through the server: the connection is really usable.
async fn round_trip(client: &async_nats::Client) {
    let subject = format!("probe.{}", free_port());
    let mut sub = client.subscribe(subject.clone()).await.unwrap();
    let responder = client.clone();
    let answer = tokio::spawn(async move {
        let msg = sub.next().await.expect("request arrives");
        responder
            .publish(msg.reply.unwrap(), "pong".into())
            .await
            .unwrap();
    });
    let reply = tokio::time::timeout(WAIT, client.request(subject, "ping".into()))
        .await
        .expect("reply in time")
        .expect("request");
    assert_eq!(&reply.payload[..], b"pong");
    answer.await.unwrap();
}

async fn connects(conn: &NatsConnection) {
    let client = tokio::time::timeout(WAIT, connect(conn, "test"))
        .await
        .expect("connect returns")
        .expect("connects");
    round_trip(&client).await;
}

/// Wrong credentials: a `Refused` error naming the auth form, in bounded time (no retry loop).
async fn refused(conn: &NatsConnection, form: &str) {
    let err = tokio::time::timeout(WAIT, connect(conn, "test"))
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(matches!(err, NatsError::Refused(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(form) && text.contains("refused"), "{text}");
}

#[tokio::test]
async fn user_and_password() {
    let server = NatsServer::start_with_config(
        "authorization { users = [ { user: alice, password: s3cret } ] }\n",
    );
    connects(&settings(
        &server,
        NatsAuth::UserPassword {
            user: "alice".into(),
            password: "s3cret".into(),
        },
    ))
    .await;
    refused(
        &settings(
            &server,
            NatsAuth::UserPassword {
                user: "alice".into(),
                password: "wrong".into(),
            },
        ),
        "user/password",
    )
    .await;
    refused(&settings(&server, NatsAuth::Anonymous), "anonymous").await;
}

#[tokio::test]
async fn token() {
    let server = NatsServer::start_with_config("authorization { token: \"t0ken-xyz\" }\n");
    connects(&settings(&server, NatsAuth::Token("t0ken-xyz".into()))).await;
    refused(&settings(&server, NatsAuth::Token("other".into())), "token").await;
}

#[tokio::test]
async fn nkey() {
    let user = KeyPair::new_user();
    let server = NatsServer::start_with_config(&format!(
        "authorization {{ users = [ {{ nkey: {} }} ] }}\n",
        user.public_key()
    ));
    connects(&settings(
        &server,
        NatsAuth::Nkey {
            seed: user.seed().unwrap(),
        },
    ))
    .await;
    refused(
        &settings(
            &server,
            NatsAuth::Nkey {
                seed: KeyPair::new_user().seed().unwrap(),
            },
        ),
        "nkey",
    )
    .await;
}

#[tokio::test]
async fn jwt_and_seed_and_creds_file_in_operator_mode() {
    let operator = TestOperator::new();
    let server = NatsServer::start_with_config(&operator.server_config());
    let (jwt, seed) = operator.user("alice");
    connects(&settings(&server, NatsAuth::Jwt { jwt, seed })).await;
    connects(&settings(
        &server,
        NatsAuth::CredsFile(operator.creds_file("bob")),
    ))
    .await;
    // A user of another operator: well formed, so only the server can refuse it.
    let (stranger_jwt, stranger_seed) = TestOperator::new().user("mallory");
    refused(
        &settings(
            &server,
            NatsAuth::Jwt {
                jwt: stranger_jwt,
                seed: stranger_seed,
            },
        ),
        "JWT",
    )
    .await;
    refused(
        &settings(
            &server,
            NatsAuth::CredsFile(TestOperator::new().creds_file("eve")),
        ),
        "creds file",
    )
    .await;
}

#[tokio::test]
async fn tls_with_a_ca_and_a_client_certificate() {
    let pki = TestPki::generate();
    let server = NatsServer::start_with_config(&pki.server_config(true));
    let mut conn = NatsConnection::from_url(&format!("tls://127.0.0.1:{}", server.port)).unwrap();
    conn.tls.ca_file = Some(pki.path("ca.pem"));
    conn.tls.cert_file = Some(pki.path("client.pem"));
    conn.tls.key_file = Some(pki.path("client.key"));
    connects(&conn).await;
    // The CA alone on a plain URL also turns TLS on.
    let mut plain_url = conn.clone();
    plain_url.servers[0].tls = false;
    connects(&plain_url).await;

    let mut untrusted = conn.clone();
    untrusted.tls.ca_file = Some(pki.path("other-ca.pem"));
    let err = tokio::time::timeout(WAIT, connect(&untrusted, "test"))
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(matches!(err, NatsError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("TLS"), "{err}");

    let mut no_client_cert = conn.clone();
    no_client_cert.tls.cert_file = None;
    no_client_cert.tls.key_file = None;
    let err = tokio::time::timeout(WAIT, connect(&no_client_cert, "test"))
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(matches!(err, NatsError::Refused(_)), "{err:?}");
}

#[tokio::test]
async fn unusable_tls_files_fail_before_connecting() {
    let pki = TestPki::generate();
    let mut conn = NatsConnection::default();
    conn.tls.ca_file = Some(pki.path("client.key"));
    let err = connect(&conn, "test").await.unwrap_err().to_string();
    assert!(
        err.contains("tls.ca_file") && err.contains("no PEM certificate"),
        "{err}"
    );
    conn.tls.ca_file = None;
    conn.tls.cert_file = Some(pki.path("client.pem"));
    conn.tls.key_file = Some(pki.path("server.key"));
    let err = connect(&conn, "test").await.unwrap_err().to_string();
    assert!(err.contains("tls.key_file"), "{err}");
    conn.tls.key_file = Some(pki.path("ca.pem"));
    let err = connect(&conn, "test").await.unwrap_err().to_string();
    assert!(
        err.contains("tls.key_file") && err.contains("no PEM private key"),
        "{err}"
    );
}

#[tokio::test]
async fn fails_over_to_the_next_server() {
    let server = NatsServer::start();
    let down = free_port();
    let conn =
        NatsConnection::from_url(&format!("nats://127.0.0.1:{down},{}", server.url())).unwrap();
    let client = tokio::time::timeout(WAIT, connect(&conn, "test"))
        .await
        .unwrap()
        .unwrap();
    round_trip(&client).await;
    assert_eq!(client.server_info().port, server.port);
}

#[tokio::test]
async fn joins_in_the_background_or_fails_fast_by_policy() {
    let port = free_port();
    let conn = NatsConnection::from_url(&format!("127.0.0.1:{port}")).unwrap();
    let fast = NatsConnection {
        reconnect: ReconnectPolicy::default().fail_fast(),
        ..conn.clone()
    };
    let err = tokio::time::timeout(WAIT, connect(&fast, "test"))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, NatsError::Transport(_)) && err.to_string().contains(&port.to_string()),
        "{err:?}"
    );

    let client = tokio::time::timeout(WAIT, connect(&conn, "test"))
        .await
        .unwrap()
        .expect("starts without a server");
    let _server = NatsServer::start_on(port);
    let deadline = tokio::time::Instant::now() + WAIT;
    while client.connection_state() != async_nats::connection::State::Connected {
        assert!(tokio::time::Instant::now() < deadline, "never joined");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    round_trip(&client).await;
}
