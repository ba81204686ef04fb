//! The SDK against a real nats-server, in this process: a test handler served by
//! `serve`, driven by a `TestHost` that plays the host (and an actor) with the
//! wasmhost-protocol types.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::oneshot;
use wasmhost_provider::protocol::nkeys::KeyPair;
use wasmhost_provider::protocol::subjects::actor_rpc;
use wasmhost_provider::testing::{NatsServer, TestHost};
use wasmhost_provider::{
    async_trait, serve, Context, HealthCheckResponse, Invocation, InvocationResponse,
    LinkDefinition, ProviderError, ProviderHandler, StopReason, CHUNK_THRESHOLD,
};

const CONTRACT: &str = "test:echo";

#[derive(Default)]
struct Counters {
    puts: AtomicUsize,
    deletes: AtomicUsize,
    shutdowns: AtomicUsize,
}

struct TestHandler(Arc<Counters>);

#[async_trait]
impl ProviderHandler for TestHandler {
    async fn put_link(
        &self,
        _: &wasmhost_provider::Provider,
        link: &LinkDefinition,
    ) -> Result<bool, ProviderError> {
        self.0.puts.fetch_add(1, Ordering::SeqCst);
        match link.values.get("mode").map(String::as_str) {
            Some("refuse") => Ok(false),
            Some("fail") => Err(ProviderError::other("cannot link")),
            _ => Ok(true),
        }
    }

    async fn delete_link(&self, _actor_id: &str) {
        self.0.deletes.fetch_add(1, Ordering::SeqCst);
    }

    async fn dispatch(
        &self,
        ctx: &Context,
        operation: &str,
        msg: Vec<u8>,
    ) -> Result<Vec<u8>, ProviderError> {
        match operation {
            "Echo.Echo" => Ok(msg),
            "Echo.LinkValue" => Ok(ctx
                .link
                .values
                .get("v")
                .cloned()
                .unwrap_or_default()
                .into_bytes()),
            // Payload: the actor to call back; the reply is the actor's reply.
            "Echo.CallBack" => {
                let actor = String::from_utf8(msg).map_err(ProviderError::invalid)?;
                let big = vec![7u8; CHUNK_THRESHOLD + 10];
                ctx.provider.call_actor(&actor, "Actor.Back", big).await
            }
            "Echo.Slow" => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(b"slow".to_vec())
            }
            other => Err(ProviderError::unknown_operation(other)),
        }
    }

    async fn health(&self) -> HealthCheckResponse {
        HealthCheckResponse::unhealthy("tired")
    }

    async fn shutdown(&self) {
        self.0.shutdowns.fetch_add(1, Ordering::SeqCst);
    }
}

struct Running {
    host: TestHost,
    counters: Arc<Counters>,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<Result<StopReason, ProviderError>>,
    initial_actor: String,
}

async fn start(nats: &NatsServer) -> Running {
    let mut host = TestHost::new(nats, "default").await;
    let initial_actor = TestHost::new_actor();
    let link = host.link(&initial_actor, CONTRACT, &[("v", "initial")]);
    host.host_data.link_definitions = vec![link];
    let counters = Arc::new(Counters::default());
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let done = tokio::spawn(serve(
        host.host_data.clone(),
        CONTRACT,
        TestHandler(counters.clone()),
        async {
            let _ = stop_rx.await;
        },
    ));
    host.wait_ready().await;
    Running {
        host,
        counters,
        stop: Some(stop_tx),
        done,
        initial_actor,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_invocations_links_health_and_shutdown() {
    let nats = NatsServer::start();
    let mut run = start(&nats).await;
    let host = &run.host;

    // The initial link from HostData was offered and accepted.
    let reply = host
        .invoke(&run.initial_actor, "Echo.LinkValue", vec![])
        .await;
    assert_eq!(
        (reply.error.as_deref(), reply.msg.as_slice()),
        (None, &b"initial"[..])
    );
    let reply = host
        .invoke(&run.initial_actor, "Echo.Echo", b"hi".to_vec())
        .await;
    assert_eq!(reply.msg, b"hi");
    assert_eq!(reply.content_length, Some(2));
    let reply = host.invoke(&run.initial_actor, "Echo.Nope", vec![]).await;
    assert_eq!(reply.error.as_deref(), Some("unknown operation Echo.Nope"));

    // Unlinked actors, untrusted signers, tampered payloads and other targets are refused.
    let stranger = TestHost::new_actor();
    let reply = host.invoke(&stranger, "Echo.Echo", b"x".to_vec()).await;
    assert_eq!(reply.error, Some(format!("unlinked actor: '{stranger}'")));
    let rogue = KeyPair::new_cluster();
    let inv = host.invocation(&rogue, &run.initial_actor, "Echo.Echo", b"x".to_vec());
    let reply = host.send_invocation(&inv).await;
    assert!(
        reply
            .error
            .as_deref()
            .unwrap()
            .contains("not among the list of valid issuers"),
        "{reply:?}"
    );
    assert_eq!(reply.invocation_id, inv.id);
    let mut tampered = host.invocation(
        &host.cluster,
        &run.initial_actor,
        "Echo.Echo",
        b"x".to_vec(),
    );
    tampered.msg = b"y".to_vec();
    let reply = host.send_invocation(&tampered).await;
    assert!(
        reply.error.as_deref().unwrap().contains("hash"),
        "{reply:?}"
    );
    let mut unsigned = host.invocation(
        &host.cluster,
        &run.initial_actor,
        "Echo.Echo",
        b"x".to_vec(),
    );
    unsigned.encoded_claims.clear();
    assert!(host.send_invocation(&unsigned).await.error.is_some());
    let mut elsewhere = host.invocation(
        &host.cluster,
        &run.initial_actor,
        "Echo.Echo",
        b"x".to_vec(),
    );
    elsewhere.target.public_key = KeyPair::new_service().public_key();
    assert!(host.send_invocation(&elsewhere).await.error.is_some());

    // Garbage gets an error reply, and the provider keeps serving.
    let reply =
        InvocationResponse::decode(&host.send_raw(b"\xc1\x00garbage".to_vec()).await).unwrap();
    assert!(
        reply.error.as_deref().unwrap().starts_with("deser error"),
        "{reply:?}"
    );
    assert_eq!(
        host.invoke(&run.initial_actor, "Echo.Echo", b"ok".to_vec())
            .await
            .msg,
        b"ok"
    );

    // Links: a duplicate put is ignored (values unchanged), refused links are not kept.
    let puts_before = run.counters.puts.load(Ordering::SeqCst);
    host.put_link_no_wait(&host.link(&run.initial_actor, CONTRACT, &[("v", "changed")]))
        .await;
    let refused = TestHost::new_actor();
    host.put_link_no_wait(&host.link(&refused, CONTRACT, &[("mode", "refuse")]))
        .await;
    let failed = TestHost::new_actor();
    host.put_link_no_wait(&host.link(&failed, CONTRACT, &[("mode", "fail")]))
        .await;
    let second = TestHost::new_actor();
    let second_link = host.link(&second, CONTRACT, &[("v", "second")]);
    host.put_link(&second_link).await;
    assert_eq!(
        run.counters.puts.load(Ordering::SeqCst),
        puts_before + 3,
        "the duplicate never reached put_link"
    );
    assert_eq!(
        host.invoke(&run.initial_actor, "Echo.LinkValue", vec![])
            .await
            .msg,
        b"initial"
    );
    assert_eq!(
        host.invoke(&second, "Echo.LinkValue", vec![]).await.msg,
        b"second"
    );
    assert!(host.is_unlinked(&refused).await);
    assert!(host.is_unlinked(&failed).await);
    host.delete_link(&second_link).await;
    assert_eq!(run.counters.deletes.load(Ordering::SeqCst), 1);
    // JSON links (wasmbus-rpc's test mode) are accepted too.
    let json_actor = TestHost::new_actor();
    let json_link = host.link(&json_actor, CONTRACT, &[("v", "json")]);
    host.client
        .publish(
            wasmhost_provider::protocol::subjects::provider_linkdefs_put(
                &host.host_data.lattice_rpc_prefix,
                &host.host_data.provider_key,
                "default",
            ),
            json_link.to_json().into(),
        )
        .await
        .unwrap();
    for _ in 0..200 {
        if !host.is_unlinked(&json_actor).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        host.invoke(&json_actor, "Echo.LinkValue", vec![]).await.msg,
        b"json"
    );

    // Invocations run concurrently: ten slow calls take far less than ten times one.
    let started = std::time::Instant::now();
    let calls = (0..10).map(|_| host.invoke(&run.initial_actor, "Echo.Slow", vec![]));
    for reply in futures::future::join_all(calls).await {
        assert_eq!(reply.msg, b"slow");
    }
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "{:?}",
        started.elapsed()
    );

    // Health: the handler's answer, msgpack with the message.
    assert_eq!(
        host.try_health(Duration::from_secs(2)).await,
        Some(HealthCheckResponse::unhealthy("tired"))
    );

    // Shutdown for another host is ignored; ours stops the provider after a reply.
    let other = KeyPair::new_server().public_key();
    assert_eq!(host.shutdown(&other).await, None);
    assert!(host.try_health(Duration::from_secs(2)).await.is_some());
    let ours = host.host_data.host_id.clone();
    assert_eq!(
        host.shutdown(&ours).await.as_deref(),
        Some(&b"shutting down"[..])
    );
    let reason = tokio::time::timeout(Duration::from_secs(5), &mut run.done)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(reason, StopReason::ShutdownRequest);
    assert_eq!(run.counters.shutdowns.load(Ordering::SeqCst), 1);
    assert_eq!(
        host.try_health(Duration::from_millis(300)).await,
        None,
        "unsubscribed"
    );
    drop(run.stop.take());
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_future_ends_serving_and_calls_shutdown() {
    let nats = NatsServer::start();
    let mut run = start(&nats).await;
    run.stop.take().unwrap().send(()).unwrap();
    let reason = tokio::time::timeout(Duration::from_secs(5), &mut run.done)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(reason, StopReason::Stopped);
    assert_eq!(run.counters.shutdowns.load(Ordering::SeqCst), 1);
}

/// Chunked request and response (> 900 KiB) through the lattice's object store, and a
/// chunked call from the provider to an actor.
#[tokio::test(flavor = "multi_thread")]
async fn large_payloads_travel_through_the_object_store() {
    let nats = NatsServer::start();
    let run = start(&nats).await;
    let host = &run.host;
    let js = async_nats::jetstream::new(host.client.clone());
    let store = js
        .create_object_store(async_nats::jetstream::object_store::Config {
            bucket: host.host_data.lattice_rpc_prefix.clone(),
            ..Default::default()
        })
        .await
        .unwrap();

    let big: Vec<u8> = (0..CHUNK_THRESHOLD + 4096)
        .map(|i| (i % 251) as u8)
        .collect();
    let mut inv = host.invocation(&host.cluster, &run.initial_actor, "Echo.Echo", big.clone());
    store
        .put(inv.id.as_str(), &mut big.as_slice())
        .await
        .unwrap();
    inv.msg.clear();
    let reply = host.send_invocation(&inv).await;
    assert_eq!(reply.error, None);
    assert!(
        reply.msg.is_empty() && reply.content_length == Some(big.len() as u64),
        "chunked reply"
    );
    let mut object = store.get(format!("{}-r", inv.id).as_str()).await.unwrap();
    let mut echoed = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut object, &mut echoed)
        .await
        .unwrap();
    assert_eq!(echoed, big);
    assert!(
        store.get(inv.id.as_str()).await.is_err(),
        "the request object was deleted"
    );

    // The provider calls an actor with a chunked payload; the actor checks the claims.
    let actor = run.initial_actor.clone();
    let mut actor_sub = host
        .client
        .subscribe(actor_rpc(&host.host_data.lattice_rpc_prefix, &actor))
        .await
        .unwrap();
    host.client.flush().await.unwrap();
    let issuers = host.host_data.cluster_issuers.clone();
    let expected_origin = wasmhost_provider::WasmCloudEntity::provider(
        &host.host_data.provider_key,
        CONTRACT,
        "default",
    );
    let actor_client = host.client.clone();
    let actor_store = store.clone();
    let answering = tokio::spawn(async move {
        let msg = actor_sub.next().await.unwrap();
        let mut inv = Invocation::decode(&msg.payload).unwrap();
        assert!(inv.is_chunked());
        let mut object = actor_store.get(inv.id.as_str()).await.unwrap();
        inv.msg.clear();
        tokio::io::AsyncReadExt::read_to_end(&mut object, &mut inv.msg)
            .await
            .unwrap();
        assert_eq!(inv.msg.len(), CHUNK_THRESHOLD + 10);
        inv.validate(&issuers).unwrap();
        assert_eq!(inv.origin, expected_origin);
        assert_eq!(inv.operation, "Actor.Back");
        let reply = InvocationResponse::success(&inv.id, b"actor says hi".to_vec());
        actor_client
            .publish(msg.reply.unwrap(), reply.encode().into())
            .await
            .unwrap();
    });
    let reply = host
        .invoke(&actor, "Echo.CallBack", actor.clone().into_bytes())
        .await;
    answering.await.unwrap();
    assert_eq!((reply.error, reply.msg), (None, b"actor says hi".to_vec()));

    // Nobody answers for another actor: a clear error, not a hang.
    let absent = TestHost::new_actor();
    host.put_link(&host.link(&absent, CONTRACT, &[])).await;
    let reply = host
        .invoke(&absent, "Echo.CallBack", absent.clone().into_bytes())
        .await;
    assert!(
        reply.error.as_deref().unwrap().contains("no responders"),
        "{reply:?}"
    );
}
