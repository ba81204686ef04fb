//! The actor runtime through the public API: real signed modules, the 2022 vectors, bad input.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use wasmhost::keyvalue::{InMemoryKeyValue, KEYVALUE_CONTRACT};
use wasmhost::protocol::http::{HttpRequest, HttpResponse};
use wasmhost::{ActorSource, ErrorKind, HostConfig};

fn get(path: &str, query: &str) -> Vec<u8> {
    wasmhost::protocol::encode(&HttpRequest {
        method: "GET".into(),
        path: path.into(),
        query_string: query.into(),
        ..Default::default()
    })
}

fn json_body(reply: &[u8]) -> (u16, serde_json::Value) {
    let response: HttpResponse = wasmhost::protocol::decode(reply).expect("an HttpResponse");
    (
        response.status_code,
        serde_json::from_slice(&response.body).expect("a JSON body"),
    )
}

#[tokio::test]
async fn vector_actors_signed_by_wascap_08_and_09_answer_the_recorded_request() {
    let host = host().await;
    for name in ["actor_wascap08.wasm", "actor_wascap09.wasm"] {
        let actor = host
            .start_actor(vector(name).into(), 1, none())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            actor.public_key,
            "MB3YFG3MKA2INWK3R7UZ5J4VKRCLQREI42ASDYNV3JAVJPKZGQYXJJBJ"
        );
        assert_eq!(
            actor.api_version, 1,
            "the vector actor exports __wasmbus_rpc_version = 1"
        );
        let reply = host
            .call_actor(
                &actor.public_key,
                "HttpServer.HandleRequest",
                vector("http_request.msgpack"),
            )
            .await
            .unwrap();
        assert_eq!(
            reply,
            vector("http_response.msgpack"),
            "{name}: reply must be byte-identical to the recorded response"
        );
        host.stop_actor(&actor.public_key, 0, none()).await.unwrap();
    }
    host.stop().await.unwrap();
}

#[tokio::test]
async fn bad_modules_are_refused_with_clear_errors_and_the_host_keeps_serving() {
    let host = host().await;
    let signer = Signer::new();
    let cases: Vec<(&str, Vec<u8>, ErrorKind, &str)> = vec![
        (
            "unsigned",
            vector("actor_unsigned.wasm"),
            ErrorKind::Claims,
            "No claims found",
        ),
        (
            "tampered 0.8",
            vector("actor_wascap08_tampered.wasm"),
            ErrorKind::Claims,
            "Invalid module hash",
        ),
        (
            "tampered 0.9",
            vector("actor_wascap09_tampered.wasm"),
            ErrorKind::Claims,
            "Invalid module hash",
        ),
        (
            "garbage",
            b"\0asm\x01\0\0\0garbage".to_vec(),
            ErrorKind::Claims,
            "",
        ),
        ("empty", Vec::new(), ErrorKind::Claims, ""),
        (
            "no __guest_call",
            signer.sign(&fixture("no_guest_call"), &[]).0,
            ErrorKind::InvalidInput,
            "__guest_call",
        ),
        (
            "unknown import",
            signer.sign(&fixture("bad_import"), &[]).0,
            ErrorKind::InvalidInput,
            "nope",
        ),
        (
            "trapping wapc_init",
            signer.sign(&fixture("start_trap"), &[]).0,
            ErrorKind::Runtime,
            "wapc_init",
        ),
    ];
    let mut events = host.subscribe_events().unwrap();
    for (what, module, kind, text) in &cases {
        let err = host
            .start_actor(module.clone().into(), 1, none())
            .await
            .expect_err(what);
        assert_eq!(err.kind(), *kind, "{what}: {err}");
        assert!(
            err.to_string().contains(text),
            "{what}: `{err}` should mention `{text}`"
        );
    }
    let seen = drain(&mut events, Duration::from_millis(200)).await;
    assert_eq!(
        count(&seen, "actor_start_failed"),
        cases.len(),
        "one actor_start_failed per refused start"
    );
    assert!(host.actors().is_empty());
    // Still serving.
    let echo = host
        .start_actor(example_actor("echo").into(), 1, none())
        .await
        .unwrap();
    assert_eq!(
        host.call_actor(&echo.public_key, "Echo.Echo", b"still here".to_vec())
            .await
            .unwrap(),
        b"still here"
    );
    host.stop().await.unwrap();
}

#[tokio::test]
async fn expired_not_yet_valid_and_forged_claims_are_refused() {
    let host = host().await;
    let account = nkeys::KeyPair::new_account();
    let module = fixture("wasmbus_echo");
    let sign = |signing: wasmhost::protocol::claims::ActorSigning| {
        wasmhost::protocol::claims::sign_actor(
            &module,
            &signing,
            &account,
            &nkeys::KeyPair::new_module(),
        )
        .unwrap()
    };
    let not_yet = sign(wasmhost::protocol::claims::ActorSigning {
        not_before_secs: Some(3600),
        ..Default::default()
    });
    let err = host
        .start_actor(not_yet.into(), 1, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Claims, "{err}");
    assert!(
        err.to_string()
            .to_lowercase()
            .contains("cannot be used yet"),
        "{err}"
    );

    // A token whose signature segment comes from another token: valid shape, wrong signature.
    let a = sign(Default::default());
    let b = sign(Default::default());
    let forged = splice_signature(&a, &b);
    let err = host
        .start_actor(forged.into(), 1, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Claims, "{err}");
    assert!(
        err.to_string().to_lowercase().contains("signature"),
        "{err}"
    );
    host.stop().await.unwrap();
}

/// Replaces the JWT signature in module `a` with the one from module `b` (same length, both Ed25519).
fn splice_signature(a: &[u8], b: &[u8]) -> Vec<u8> {
    let token_sig = |m: &[u8]| -> (usize, usize) {
        let text = m
            .windows(3)
            .position(|w| w == b"eyJ")
            .expect("a JWT in the module");
        let end = text
            + m[text..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || b"-_.".contains(c)))
                .unwrap_or(m.len() - text);
        let last_dot = text + m[text..end].iter().rposition(|c| *c == b'.').unwrap();
        (last_dot + 1, end)
    };
    let (sa, ea) = token_sig(a);
    let (sb, eb) = token_sig(b);
    assert_eq!(ea - sa, eb - sb);
    let mut out = a.to_vec();
    out[sa..ea].copy_from_slice(&b[sb..eb]);
    out
}

#[tokio::test]
async fn expired_claims_are_refused() {
    let host = host().await;
    let account = nkeys::KeyPair::new_account();
    let claims = wasmhost::protocol::claims::ActorSigning {
        expires_in_secs: Some(1),
        ..Default::default()
    };
    let module = wasmhost::protocol::claims::sign_actor(
        &fixture("wasmbus_echo"),
        &claims,
        &account,
        &nkeys::KeyPair::new_module(),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let err = host
        .start_actor(module.into(), 1, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Claims, "{err}");
    assert!(err.to_string().to_lowercase().contains("expired"), "{err}");
    host.stop().await.unwrap();
}

#[tokio::test]
async fn echo_describes_the_request() {
    let host = host().await;
    let echo = host
        .start_actor(example_actor("echo").into(), 1, none())
        .await
        .unwrap();
    assert_eq!(echo.claims.caps(), ["wasmcloud:httpserver"]);
    let reply = host
        .call_actor(
            &echo.public_key,
            "HttpServer.HandleRequest",
            get("/foo/bar", "a=1"),
        )
        .await
        .unwrap();
    let (status, body) = json_body(&reply);
    assert_eq!(status, 200);
    assert_eq!(body["method"], "GET");
    assert_eq!(body["path"], "/foo/bar");
    assert_eq!(body["query_string"], "a=1");
    let big = vec![7u8; 100 * 1024];
    assert_eq!(
        host.call_actor(&echo.public_key, "Echo.Echo", big.clone())
            .await
            .unwrap(),
        big
    );
    host.stop().await.unwrap();
}

#[tokio::test]
async fn kvcounter_counts_through_an_in_process_keyvalue_handler() {
    let host = host().await;
    let store = Arc::new(InMemoryKeyValue::new());
    host.register_capability(KEYVALUE_CONTRACT, "default", store.clone())
        .unwrap();
    let kv = host
        .start_actor(example_actor("kvcounter").into(), 2, none())
        .await
        .unwrap();
    for expected in 1..=3 {
        let (status, body) = json_body(
            &host
                .call_actor(&kv.public_key, "HttpServer.HandleRequest", get("/", ""))
                .await
                .unwrap(),
        );
        assert_eq!((status, body["counter"].as_i64()), (200, Some(expected)));
    }
    assert_eq!(store.get("counter").as_deref(), Some("3"));
    let (_, body) = json_body(
        &host
            .call_actor(&kv.public_key, "HttpServer.HandleRequest", get("/a/b", ""))
            .await
            .unwrap(),
    );
    assert_eq!(body["counter"], 1);
    assert_eq!(store.get("counter:a:b").as_deref(), Some("1"));
    host.stop().await.unwrap();
}

#[tokio::test]
async fn capability_calls_need_the_claim_and_a_link_or_handler() {
    let host = host().await;
    // kvcounter without any keyvalue handler or link: the actor gets a host error and answers 500.
    let kv = host
        .start_actor(example_actor("kvcounter").into(), 1, none())
        .await
        .unwrap();
    let (status, body) = json_body(
        &host
            .call_actor(&kv.public_key, "HttpServer.HandleRequest", get("/", ""))
            .await
            .unwrap(),
    );
    assert_eq!(status, 500);
    assert_eq!(
        body["error"],
        "Invocation not authorized: missing link definition for wasmcloud:keyvalue on default"
    );

    // The same code signed without the keyvalue claim: refused even with a handler registered.
    host.register_capability(
        KEYVALUE_CONTRACT,
        "default",
        Arc::new(InMemoryKeyValue::new()),
    )
    .unwrap();
    let unsigned = std::fs::read(repo_path("examples/actors/unsigned/kvcounter.wasm")).unwrap();
    let (no_cap, _) = Signer::new().sign(&unsigned, &["wasmcloud:httpserver"]);
    let weak = host.start_actor(no_cap.into(), 1, none()).await.unwrap();
    let (status, body) = json_body(
        &host
            .call_actor(&weak.public_key, "HttpServer.HandleRequest", get("/", ""))
            .await
            .unwrap(),
    );
    assert_eq!(status, 500);
    assert_eq!(
        body["error"],
        "Invocation not authorized: missing capability claim for wasmcloud:keyvalue"
    );

    // A handler error reaches the actor as its host error text.
    host.register_capability(
        KEYVALUE_CONTRACT,
        "default",
        wasmhost::capability_fn(|call| async move { Err(format!("no {} today", call.operation)) }),
    )
    .unwrap();
    let (status, body) = json_body(
        &host
            .call_actor(&kv.public_key, "HttpServer.HandleRequest", get("/", ""))
            .await
            .unwrap(),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (500, Some("no KeyValue.Increment today"))
    );
    host.stop().await.unwrap();
}

#[tokio::test]
async fn pinger_calls_actors_by_key_and_by_call_alias() {
    let host = host().await;
    let echo = host
        .start_actor(example_actor("echo").into(), 1, none())
        .await
        .unwrap();
    let pong = host
        .start_actor(example_actor("pong").into(), 1, none())
        .await
        .unwrap();
    assert_eq!(pong.claims.call_alias(), Some("wasmhost/pong"));
    let pinger = host
        .start_actor(example_actor("pinger").into(), 1, none())
        .await
        .unwrap();
    let reply = host
        .call_actor(
            &pinger.public_key,
            "HttpServer.HandleRequest",
            get("/", &format!("target={}", echo.public_key)),
        )
        .await
        .unwrap();
    let (status, body) = json_body(&reply);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"by_key": "ping", "by_alias": "pong:ping"})
    );
    // The embedding API resolves call aliases too.
    assert_eq!(
        host.call_actor("wasmhost/pong", "Echo.Echo", b"x".to_vec())
            .await
            .unwrap(),
        b"pong:x"
    );

    // Unknown target key: the host error reaches pinger.
    let missing = "MAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let (status, body) = json_body(
        &host
            .call_actor(
                &pinger.public_key,
                "HttpServer.HandleRequest",
                get("/", &format!("target={missing}")),
            )
            .await
            .unwrap(),
    );
    assert_eq!(status, 500);
    assert!(
        body["error"].as_str().unwrap().contains("not running"),
        "{body}"
    );
    host.stop().await.unwrap();
}

#[tokio::test]
async fn traps_timeouts_and_memory_bombs_fail_the_call_only() {
    let config = HostConfig::default()
        .with_invocation_timeout(Duration::from_millis(300))
        .with_max_instance_memory(8 << 20);
    let host = host_with(config).await;
    let signer = Signer::new();
    for (name, kind, text) in [
        ("trap", ErrorKind::Runtime, "unreachable"),
        ("loop", ErrorKind::Timeout, "invocation timeout"),
        ("membomb", ErrorKind::Runtime, "memory limit"),
        ("guest_error", ErrorKind::Runtime, "boom"),
    ] {
        let (module, _) = signer.sign(&fixture(name), &[]);
        let actor = host
            .start_actor(module.into(), 1, none())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for round in 0..2 {
            let err = host
                .call_actor(&actor.public_key, "Any.Thing", b"x".to_vec())
                .await
                .expect_err(name);
            assert_eq!(err.kind(), kind, "{name} round {round}: {err}");
            assert!(
                err.to_string().contains(text),
                "{name}: `{err}` should mention `{text}`"
            );
        }
        assert_eq!(
            host.actor(&actor.public_key).unwrap().instances.len(),
            1,
            "{name}: the failed instance was replaced"
        );
    }
    let echo = host
        .start_actor(example_actor("echo").into(), 1, none())
        .await
        .unwrap();
    assert_eq!(
        host.call_actor(&echo.public_key, "Echo.Echo", b"ok".to_vec())
            .await
            .unwrap(),
        b"ok"
    );
    host.stop().await.unwrap();
}

#[tokio::test]
async fn a_cancelled_call_does_not_lose_the_instance() {
    let host =
        host_with(HostConfig::default().with_invocation_timeout(Duration::from_millis(500))).await;
    let (module, _) = Signer::new().sign(&fixture("loop"), &[]);
    let looping = host.start_actor(module.into(), 1, none()).await.unwrap();
    // The caller gives up long before the invocation timeout.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(50),
        host.call_actor(&looping.public_key, "Spin", Vec::new()),
    )
    .await;
    assert!(gave_up.is_err());
    // The pool plants a replacement: the next call gets an instance and times out normally.
    let err = host
        .call_actor(&looping.public_key, "Spin", Vec::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(host.actor(&looping.public_key).unwrap().instances.len(), 1);
    host.stop().await.unwrap();
}

#[tokio::test]
async fn calls_run_in_parallel_on_separate_instances() {
    let host = host().await;
    // The handler only answers once 4 calls wait in it at once: that needs 4 instances busy together.
    let barrier = Arc::new(tokio::sync::Barrier::new(4));
    let b = barrier.clone();
    host.register_capability(
        KEYVALUE_CONTRACT,
        "default",
        wasmhost::capability_fn(move |_| {
            let b = b.clone();
            async move {
                b.wait().await;
                Ok(wasmhost::protocol::encode(&1i32))
            }
        }),
    )
    .unwrap();
    let kv = host
        .start_actor(example_actor("kvcounter").into(), 4, none())
        .await
        .unwrap();
    let calls =
        (0..4).map(|_| host.call_actor(&kv.public_key, "HttpServer.HandleRequest", get("/", "")));
    let replies = tokio::time::timeout(Duration::from_secs(10), futures::future::join_all(calls))
        .await
        .expect("4 instances served 4 calls at once");
    assert!(replies.into_iter().all(|r| json_body(&r.unwrap()).0 == 200));
    host.stop().await.unwrap();
}

#[tokio::test]
async fn oversized_payloads_and_unknown_actors_are_clear_errors() {
    let host = host_with(HostConfig {
        max_payload: 1024,
        ..Default::default()
    })
    .await;
    let echo = host
        .start_actor(example_actor("echo").into(), 1, none())
        .await
        .unwrap();
    let err = host
        .call_actor(&echo.public_key, "Echo.Echo", vec![0u8; 2048])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = host
        .call_actor("MNOPE", "Echo.Echo", Vec::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = host
        .start_actor(ActorSource::File("/nonexistent/x.wasm".into()), 1, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = host
        .start_actor(example_actor("echo").into(), 0, none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    host.stop().await.unwrap();
}
