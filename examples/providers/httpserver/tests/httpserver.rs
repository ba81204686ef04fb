//! The `wasmhost-httpserver` binary started as a host starts it, over a real nats-server.
//! The test plays the host (HostData, links, shutdown), the actor (answers
//! `HttpServer.HandleRequest` on its RPC subject) and the HTTP client.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use wasmhost_provider::protocol::http::{HttpRequest, HttpResponse, CONTRACT_ID, HANDLE_REQUEST};
use wasmhost_provider::protocol::subjects::actor_rpc;
use wasmhost_provider::protocol::{Invocation, InvocationResponse, WasmCloudEntity};
use wasmhost_provider::testing::{free_port, NatsServer, ProviderProcess, TestHost};

const BIN: &str = env!("CARGO_BIN_EXE_wasmhost-httpserver");

/// One HTTP/1 request to 127.0.0.1:port: (status, content-type, body).
async fn http(
    port: u16,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(u16, String, String), String> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header("x-test", "yes")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

/// Plays the actor: checks each invocation's claims and origin, answers by path.
fn spawn_actor(host: &TestHost, actor: &str, mut sub: async_nats::Subscriber) {
    let client = host.client.clone();
    let issuers = host.host_data.cluster_issuers.clone();
    let origin = WasmCloudEntity::provider(
        &host.host_data.provider_key,
        CONTRACT_ID,
        &host.host_data.link_name,
    );
    let actor = actor.to_string();
    tokio::spawn(async move {
        while let Some(msg) = sub.next().await {
            let inv = Invocation::decode(&msg.payload).unwrap();
            inv.validate(&issuers).expect("signed by the cluster key");
            assert_eq!(
                (&inv.origin, inv.target.public_key.as_str()),
                (&origin, actor.as_str())
            );
            assert_eq!(inv.operation, HANDLE_REQUEST);
            let req = HttpRequest::decode(&inv.msg).unwrap();
            let reply = match req.path.as_str() {
                "/slow" => continue,
                "/error" => InvocationResponse::failure(&inv.id, "boom in the actor"),
                "/garbage" => InvocationResponse::success(&inv.id, vec![0xc1]),
                _ => {
                    let body = format!(
                        "{} {} q={} x-test={:?} body={}",
                        req.method,
                        req.path,
                        req.query_string,
                        req.header.get("x-test"),
                        String::from_utf8_lossy(&req.body)
                    );
                    let resp = HttpResponse::with_status(200, body)
                        .with_header("content-type", "text/x-test");
                    InvocationResponse::success(&inv.id, resp.encode())
                }
            };
            client
                .publish(msg.reply.unwrap(), reply.encode().into())
                .await
                .unwrap();
        }
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_http_for_linked_actors() {
    let nats = NatsServer::start();
    let mut host = TestHost::new(&nats, "default").await;
    host.host_data.default_rpc_timeout_ms = Some(500);
    let mut process = ProviderProcess::spawn(BIN, &host.host_data);
    host.wait_ready().await;

    let actor = TestHost::new_actor();
    let sub = host
        .client
        .subscribe(actor_rpc(&host.host_data.lattice_rpc_prefix, &actor))
        .await
        .unwrap();
    host.client.flush().await.unwrap();
    spawn_actor(&host, &actor, sub);
    let port = free_port();
    let link = host.link(
        &actor,
        CONTRACT_ID,
        &[
            ("PORT", &port.to_string()),
            ("address", "127.0.0.1"),
            ("max_body_bytes", "1024"),
        ],
    );
    host.put_link(&link).await;

    let (status, content_type, body) = http(port, "GET", "/hello?a=1", b"").await.unwrap();
    assert_eq!((status, content_type.as_str()), (200, "text/x-test"));
    assert_eq!(body, r#"GET /hello q=a=1 x-test=Some(["yes"]) body="#);
    let (status, _, body) = http(port, "POST", "/submit", b"payload").await.unwrap();
    assert_eq!(
        (status, body.as_str()),
        (200, r#"POST /submit q= x-test=Some(["yes"]) body=payload"#)
    );

    let (status, _, body) = http(port, "GET", "/error", b"").await.unwrap();
    assert_eq!(status, 500);
    assert!(body.contains("boom in the actor"), "{body}");
    let (status, _, body) = http(port, "GET", "/garbage", b"").await.unwrap();
    assert_eq!(status, 500);
    assert!(body.contains("undecodable reply"), "{body}");
    let (status, _, body) = http(port, "GET", "/slow", b"").await.unwrap();
    assert_eq!(status, 504);
    assert!(body.contains("timed out"), "{body}");
    let (status, _, _) = http(port, "POST", "/big", &[b'x'; 4096]).await.unwrap();
    assert_eq!(status, 413);

    // A port in use refuses the link (the actor stays unlinked), the provider lives on.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let second = TestHost::new_actor();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    host.put_link_no_wait(&host.link(&second, CONTRACT_ID, &[("port", &taken_port)]))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(host.is_unlinked(&second).await);
    assert_eq!(http(port, "GET", "/still", b"").await.unwrap().0, 200);

    // An actor that runs nowhere: 503.
    let absent = TestHost::new_actor();
    let absent_port = free_port();
    host.put_link(&host.link(&absent, CONTRACT_ID, &[("PORT", &absent_port.to_string())]))
        .await;
    assert_eq!(http(absent_port, "GET", "/", b"").await.unwrap().0, 503);

    // Deleting the link closes the listener.
    host.delete_link(&link).await;
    assert!(
        http(port, "GET", "/hello", b"").await.is_err(),
        "listener closed"
    );

    // Shutdown: the process exits 0 and the remaining listener is gone.
    assert_eq!(
        host.shutdown(&host.host_data.host_id).await.as_deref(),
        Some(&b"shutting down"[..])
    );
    let status = process
        .wait_exit(Duration::from_secs(10))
        .expect("exits after shutdown");
    assert!(status.success(), "{status:?}");
    assert!(http(absent_port, "GET", "/", b"").await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn exits_when_stdin_closes() {
    let nats = NatsServer::start();
    let host = TestHost::new(&nats, "default").await;
    let mut process = ProviderProcess::spawn(BIN, &host.host_data);
    host.wait_ready().await;
    process.close_stdin();
    let status = process
        .wait_exit(Duration::from_secs(10))
        .expect("exits when the host is gone");
    assert!(status.success(), "{status:?}");
}
