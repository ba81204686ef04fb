//! The `wasmhost-keyvalue` binary started as a host starts it, driven over a real
//! nats-server with signed invocations; every operation against the in-memory store and
//! a real redis-server.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasmhost_provider::protocol::keyvalue::*;
use wasmhost_provider::protocol::{decode, encode, InvocationResponse};
use wasmhost_provider::testing::{free_port, NatsServer, ProviderProcess, RedisServer, TestHost};
use wasmhost_provider::HealthCheckResponse;

const BIN: &str = env!("CARGO_BIN_EXE_wasmhost-keyvalue");

async fn start(nats: &NatsServer) -> (TestHost, ProviderProcess) {
    let host = TestHost::new(nats, "default").await;
    let process = ProviderProcess::spawn(BIN, &host.host_data);
    assert_eq!(host.wait_ready().await, HealthCheckResponse::healthy());
    (host, process)
}

async fn call<I: Serialize + ?Sized, O: DeserializeOwned>(
    host: &TestHost,
    actor: &str,
    op: &str,
    input: &I,
) -> O {
    let reply = host.invoke(actor, op, encode(input)).await;
    assert_eq!(reply.error, None, "{op}");
    decode(&reply.msg).unwrap_or_else(|e| panic!("{op}: {e}"))
}

/// Every operation of §6.7 on keys prefixed with `p`.
async fn exercise_every_operation(host: &TestHost, actor: &str, p: &str) {
    let key = format!("{p}key");
    let get: GetResponse = call(host, actor, ops::GET, &key).await;
    assert_eq!(
        get,
        GetResponse {
            value: String::new(),
            exists: false
        }
    );
    let set = SetRequest {
        key: key.clone(),
        value: "v1".into(),
        expires: 0,
    };
    let reply = host.invoke(actor, ops::SET, encode(&set)).await;
    assert_eq!(
        (reply.error, reply.msg.len()),
        (None, 0),
        "Set returns nothing"
    );
    let get: GetResponse = call(host, actor, ops::GET, &key).await;
    assert_eq!(
        get,
        GetResponse {
            value: "v1".into(),
            exists: true
        }
    );
    assert!(call::<_, bool>(host, actor, ops::CONTAINS, &key).await);
    assert!(call::<_, bool>(host, actor, ops::DEL, &key).await);
    assert!(!call::<_, bool>(host, actor, ops::DEL, &key).await);
    assert!(!call::<_, bool>(host, actor, ops::CONTAINS, &key).await);

    let counter = format!("{p}counter");
    let inc = |value| IncrementRequest {
        key: counter.clone(),
        value,
    };
    assert_eq!(
        call::<_, i32>(host, actor, ops::INCREMENT, &inc(5)).await,
        5
    );
    assert_eq!(
        call::<_, i32>(host, actor, ops::INCREMENT, &inc(-7)).await,
        -2
    );

    let list = format!("{p}list");
    for (i, v) in ["a", "b", "c", "b"].into_iter().enumerate() {
        let n: u32 = call(
            host,
            actor,
            ops::LIST_ADD,
            &ListAddRequest {
                list_name: list.clone(),
                value: v.into(),
            },
        )
        .await;
        assert_eq!(n, i as u32 + 1);
    }
    let range = |start, stop| ListRangeRequest {
        list_name: list.clone(),
        start,
        stop,
    };
    assert_eq!(
        call::<_, Vec<String>>(host, actor, ops::LIST_RANGE, &range(0, -1)).await,
        ["a", "b", "c", "b"]
    );
    assert_eq!(
        call::<_, Vec<String>>(host, actor, ops::LIST_RANGE, &range(1, 2)).await,
        ["b", "c"]
    );
    let del = ListDelRequest {
        list_name: list.clone(),
        value: "b".into(),
    };
    assert!(call::<_, bool>(host, actor, ops::LIST_DEL, &del).await);
    assert_eq!(
        call::<_, Vec<String>>(host, actor, ops::LIST_RANGE, &range(0, -1)).await,
        ["a", "c", "b"]
    );
    let missing = ListDelRequest {
        list_name: list.clone(),
        value: "zz".into(),
    };
    assert!(!call::<_, bool>(host, actor, ops::LIST_DEL, &missing).await);
    assert!(call::<_, bool>(host, actor, ops::LIST_CLEAR, &list).await);
    assert!(!call::<_, bool>(host, actor, ops::LIST_CLEAR, &list).await);
    assert!(
        call::<_, Vec<String>>(host, actor, ops::LIST_RANGE, &range(0, -1))
            .await
            .is_empty()
    );

    let (s1, s2) = (format!("{p}s1"), format!("{p}s2"));
    let add = |set: &str, v: &str| SetAddRequest {
        set_name: set.into(),
        value: v.into(),
    };
    for (set, v, added) in [
        (&s1, "x", 1),
        (&s1, "y", 1),
        (&s1, "x", 0),
        (&s2, "y", 1),
        (&s2, "z", 1),
    ] {
        assert_eq!(
            call::<_, u32>(host, actor, ops::SET_ADD, &add(set, v)).await,
            added
        );
    }
    let mut members: Vec<String> = call(host, actor, ops::SET_QUERY, &s1).await;
    members.sort();
    assert_eq!(members, ["x", "y"]);
    let mut union: Vec<String> = call(host, actor, ops::SET_UNION, &[&s1, &s2]).await;
    union.sort();
    assert_eq!(union, ["x", "y", "z"]);
    assert_eq!(
        call::<_, Vec<String>>(host, actor, ops::SET_INTERSECTION, &[&s1, &s2]).await,
        ["y"]
    );
    let del = |v: &str| SetDelRequest {
        set_name: s2.clone(),
        value: v.into(),
    };
    assert_eq!(
        call::<_, u32>(host, actor, ops::SET_DEL, &del("z")).await,
        1
    );
    assert_eq!(
        call::<_, u32>(host, actor, ops::SET_DEL, &del("z")).await,
        0
    );
    assert!(call::<_, bool>(host, actor, ops::SET_CLEAR, &s2).await);
    assert!(call::<_, Vec<String>>(host, actor, ops::SET_QUERY, &s2)
        .await
        .is_empty());

    // Expiry is honoured.
    let temp = format!("{p}temp");
    let set = SetRequest {
        key: temp.clone(),
        value: "soon gone".into(),
        expires: 1,
    };
    assert_eq!(host.invoke(actor, ops::SET, encode(&set)).await.error, None);
    assert!(
        call::<_, GetResponse>(host, actor, ops::GET, &temp)
            .await
            .exists
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(
        !call::<_, GetResponse>(host, actor, ops::GET, &temp)
            .await
            .exists,
        "expired"
    );

    // Leave values behind for the caller to inspect.
    let keep = SetRequest {
        key: format!("{p}kept"),
        value: "still here".into(),
        expires: 0,
    };
    assert_eq!(
        host.invoke(actor, ops::SET, encode(&keep)).await.error,
        None
    );
    let _: u32 = call(host, actor, ops::SET_ADD, &add(&s1, "w")).await;

    // Errors: unknown operations and bad payloads, without harm to the provider.
    let reply = host.invoke(actor, "KeyValue.Frobnicate", vec![]).await;
    assert_eq!(
        reply.error.as_deref(),
        Some("unknown operation KeyValue.Frobnicate")
    );
    let reply = host.invoke(actor, ops::INCREMENT, b"\xc1".to_vec()).await;
    assert!(reply.error.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_in_memory_and_the_provider_protocol() {
    let nats = NatsServer::start();
    let (host, mut process) = start(&nats).await;
    let actor = TestHost::new_actor();
    host.put_link(&host.link(&actor, CONTRACT_ID, &[])).await;
    exercise_every_operation(&host, &actor, "mem-").await;

    // The in-memory store is shared by every actor linked without a URL.
    let other = TestHost::new_actor();
    host.put_link(&host.link(&other, CONTRACT_ID, &[])).await;
    let kept: GetResponse = call(&host, &other, ops::GET, "mem-kept").await;
    assert_eq!(kept.value, "still here");

    // Refused: an untrusted signer, an unlinked actor; garbage gets an error reply.
    let rogue = wasmhost_provider::protocol::nkeys::KeyPair::new_cluster();
    let reply = host
        .send_invocation(&host.invocation(&rogue, &actor, ops::GET, encode("k")))
        .await;
    assert!(reply
        .error
        .unwrap()
        .contains("not among the list of valid issuers"));
    let mut unsigned = host.invocation(&host.cluster, &actor, ops::GET, encode("k"));
    unsigned.encoded_claims = String::new();
    assert!(host.send_invocation(&unsigned).await.error.is_some());
    assert!(host.is_unlinked(&TestHost::new_actor()).await);
    let reply = InvocationResponse::decode(&host.send_raw(vec![0xc1, 0x93]).await).unwrap();
    assert!(reply.error.unwrap().starts_with("deser error"));
    assert!(
        call::<_, GetResponse>(&host, &actor, ops::GET, "mem-kept")
            .await
            .exists,
        "still serving"
    );

    // A deleted link refuses the actor again.
    host.delete_link(&host.link(&other, CONTRACT_ID, &[])).await;

    // Shutdown for another host is ignored; ours ends the process with status 0.
    assert_eq!(
        host.shutdown(&wasmhost_provider::protocol::nkeys::KeyPair::new_server().public_key())
            .await,
        None
    );
    assert!(host.try_health(Duration::from_secs(2)).await.is_some());
    assert_eq!(
        host.shutdown(&host.host_data.host_id).await.as_deref(),
        Some(&b"shutting down"[..])
    );
    let status = process
        .wait_exit(Duration::from_secs(10))
        .expect("the provider exits after shutdown");
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_against_redis() {
    let nats = NatsServer::start();
    let redis_server = RedisServer::start();
    let (host, _process) = start(&nats).await;
    let actor = TestHost::new_actor();
    host.put_link(&host.link(&actor, CONTRACT_ID, &[("URL", &redis_server.url())]))
        .await;
    exercise_every_operation(&host, &actor, "r-").await;

    // Redis really holds what the actor stored.
    let mut redis = redis::Client::open(redis_server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let kept: Option<String> = redis::cmd("GET").arg("r-kept").query(&mut redis).unwrap();
    assert_eq!(kept.as_deref(), Some("still here"));
    let counter: i64 = redis::cmd("GET")
        .arg("r-counter")
        .query(&mut redis)
        .unwrap();
    assert_eq!(counter, -2);
    let mut members: Vec<String> = redis::cmd("SMEMBERS")
        .arg("r-s1")
        .query(&mut redis)
        .unwrap();
    members.sort();
    assert_eq!(members, ["w", "x", "y"]);
    let set = SetRequest {
        key: "r-ttl".into(),
        value: "v".into(),
        expires: 100,
    };
    assert_eq!(
        host.invoke(&actor, ops::SET, encode(&set)).await.error,
        None
    );
    let ttl: i64 = redis::cmd("TTL").arg("r-ttl").query(&mut redis).unwrap();
    assert!((1..=100).contains(&ttl), "{ttl}");
    // The in-memory store is separate from Redis.
    let mem_actor = TestHost::new_actor();
    host.put_link(&host.link(&mem_actor, CONTRACT_ID, &[]))
        .await;
    assert!(
        !call::<_, GetResponse>(&host, &mem_actor, ops::GET, "r-kept")
            .await
            .exists
    );

    // A Redis that is down gives invocation errors, not a crash.
    let dead = TestHost::new_actor();
    let dead_url = format!("redis://127.0.0.1:{}/", free_port());
    host.put_link(&host.link(&dead, CONTRACT_ID, &[("url", &dead_url)]))
        .await;
    let reply = host.invoke(&dead, ops::GET, encode("k")).await;
    assert!(
        reply.error.as_deref().unwrap().starts_with("redis error"),
        "{reply:?}"
    );
    assert!(
        call::<_, GetResponse>(&host, &actor, ops::GET, "r-kept")
            .await
            .exists,
        "still serving"
    );
    assert_eq!(
        host.try_health(Duration::from_secs(2)).await,
        Some(HealthCheckResponse::healthy())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn exits_when_stdin_closes() {
    let nats = NatsServer::start();
    let (_host, mut process) = start(&nats).await;
    process.close_stdin();
    let status = process
        .wait_exit(Duration::from_secs(10))
        .expect("the provider exits when its host is gone");
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_missing_or_garbled_host_data_line_is_a_clear_failure() {
    for input in ["", "this is not base64\n"] {
        let mut child = Command::new(BIN)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
        drop(child.stdin.take());
        let output = child.wait_with_output().unwrap();
        assert!(!output.status.success(), "{input:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("invalid host data"), "{input:?}: {stderr}");
    }
}
