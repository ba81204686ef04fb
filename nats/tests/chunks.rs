//! The object store path against a real nats-server: objects round-trip byte for byte and are
//! deleted once read, their meta carries what async-nats 0.23 needs, and `invoke` chunks a
//! large request and a large response through a server built from `fetch_request` and
//! `store_response`.

use std::time::Duration;

use futures::StreamExt;
use nkeys::KeyPair;
use wasmhost_nats::testing::NatsServer;
use wasmhost_nats::{
    fetch_request, invoke, store_response, target_subject, ChunkStore, NatsError, CHUNK_THRESHOLD,
};
use wasmhost_protocol::rpc::{Invocation, InvocationResponse, WasmCloudEntity};

const WAIT: Duration = Duration::from_secs(20);

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[tokio::test]
async fn objects_round_trip_and_are_deleted_once_read() {
    let server = NatsServer::start();
    let client = async_nats::connect(server.url()).await.unwrap();
    let store = ChunkStore::for_client(&client, "chunks1", None, 1);
    let bytes = payload(2 << 20, 3);
    tokio::time::timeout(WAIT, store.put("inv-1", &bytes))
        .await
        .unwrap()
        .unwrap();

    // The meta message as a 2022 reader sees it: every field its ObjectInfo requires.
    let js = async_nats::jetstream::new(client.clone());
    let stream = js.get_stream("OBJ_chunks1").await.unwrap();
    let meta = stream
        .get_last_raw_message_by_subject("$O.chunks1.M.aW52LTE=")
        .await
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&meta.payload).unwrap();
    for field in [
        "name", "bucket", "nuid", "size", "chunks", "modified", "digest", "deleted",
    ] {
        assert!(info.get(field).is_some(), "meta lacks {field}: {info}");
    }
    assert_eq!(
        (info["size"].as_u64(), info["chunks"].as_u64()),
        (Some(2 << 20), Some(16))
    );

    // Replacing an object keeps only the new chunks.
    let replacement = payload(CHUNK_THRESHOLD + 1, 9);
    store.put("inv-1", &replacement).await.unwrap();
    let read = tokio::time::timeout(WAIT, store.take("inv-1"))
        .await
        .unwrap()
        .unwrap();
    assert!(read == replacement, "payload differs after the round trip");
    let state = js
        .get_stream("OBJ_chunks1")
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .state
        .clone();
    assert!(
        state.messages <= 1,
        "old or read chunks left behind: {state:?}"
    );
    let err = store.take("inv-1").await.unwrap_err();
    assert!(
        matches!(err, NatsError::Transport(_)) && err.to_string().contains("inv-1"),
        "{err}"
    );
}

#[tokio::test]
async fn invoke_chunks_both_ways() {
    let server = NatsServer::start();
    let caller = async_nats::connect(server.url()).await.unwrap();
    let callee = async_nats::connect(server.url()).await.unwrap();
    let lattice = "chunks2";
    let cluster = KeyPair::new_cluster();
    let actor = KeyPair::new_module().public_key();
    let request = payload(2 << 20, 1);
    let invocation = Invocation::new_signed(
        &cluster,
        WasmCloudEntity::actor(KeyPair::new_module().public_key()),
        WasmCloudEntity::actor(&actor),
        "Echo.Reverse",
        request.clone(),
        "Nhost",
    )
    .unwrap();

    let mut sub = callee
        .subscribe(target_subject(lattice, &invocation))
        .await
        .unwrap();
    callee.flush().await.unwrap();
    let server_task = tokio::spawn(async move {
        let chunks = ChunkStore::for_client(&callee, lattice, None, 1);
        let message = sub.next().await.expect("invocation arrives");
        let mut inv = Invocation::decode(&message.payload).unwrap();
        assert!(
            inv.msg.is_empty() && inv.is_chunked(),
            "a 2 MiB request travels chunked"
        );
        fetch_request(&chunks, &mut inv).await.unwrap();
        let mut reply: Vec<u8> = inv.msg.clone();
        reply.reverse();
        let mut response = InvocationResponse::success(&inv.id, reply);
        store_response(&chunks, &mut response).await.unwrap();
        assert!(response.msg.is_empty() && response.is_chunked());
        callee
            .publish(message.reply.unwrap(), response.encode().into())
            .await
            .unwrap();
        callee.flush().await.unwrap();
        inv.msg
    });
    let chunks = ChunkStore::for_client(&caller, lattice, None, 1);
    let response = tokio::time::timeout(
        WAIT,
        invoke(
            &caller,
            &chunks,
            lattice,
            invocation,
            Duration::from_secs(2),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    let received = server_task.await.unwrap();
    assert!(received == request, "the request arrived changed");
    let mut expected = request;
    expected.reverse();
    assert_eq!(response.error, None);
    assert!(response.msg == expected, "the response arrived changed");

    // Nothing serves another actor.
    let lonely = Invocation::new_signed(
        &cluster,
        WasmCloudEntity::actor(KeyPair::new_module().public_key()),
        WasmCloudEntity::actor(KeyPair::new_module().public_key()),
        "Echo.Echo",
        b"hi".to_vec(),
        "Nhost",
    )
    .unwrap();
    let err = invoke(&caller, &chunks, lattice, lonely, Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(matches!(err, NatsError::NoResponders(_)), "{err:?}");
}

/// A 2022 sender (async-nats 0.23) sends the invocation without awaiting its object's publish
/// acks: the reader must wait for an object that arrives a moment after the message naming it,
/// and still fail, within a bound, for one that never comes.
#[tokio::test]
async fn an_object_stored_after_it_was_asked_for_is_still_read() {
    let server = NatsServer::start();
    let client = async_nats::connect(server.url()).await.unwrap();
    let reader = ChunkStore::for_client(&client, "late", None, 1);
    let writer = ChunkStore::for_client(&client, "late", None, 1);
    let bytes = payload(CHUNK_THRESHOLD + 7, 5);
    let expected = bytes.clone();
    let read = tokio::spawn(async move { reader.take("inv-late").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    writer.put("inv-late", &bytes).await.unwrap();
    let got = tokio::time::timeout(WAIT, read)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(got == expected, "the late object came back changed");

    let started = std::time::Instant::now();
    let missing = writer.take("never-stored").await.unwrap_err();
    assert!(missing.to_string().contains("not found"), "{missing}");
    assert!(
        started.elapsed() >= wasmhost_nats::OBJECT_ARRIVAL_WAIT - Duration::from_millis(200),
        "gave up after {:?}",
        started.elapsed()
    );
}
