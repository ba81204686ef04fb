//! NATS lattice RPC benchmark: `Echo.Echo` on an actor running on another host of the lattice
//! (host A's `call_actor` → signed invocation over NATS → host B validates, runs echo, replies), on
//! the same nats-server as two references, with 1 and 16 requests in flight:
//! * raw: an async-nats request/reply to a responder echoing the payload;
//! * verified floor: the protocol's irreducible work per call and nothing else: the caller signs
//!   an Invocation (its anti-forgery JWT, LATTICE.md §3.4) and encodes it; the responder decodes
//!   the msgpack, verifies the JWT (Ed25519 signature, dates, issuer among the cluster issuers, the
//!   SHA-256 payload hash, origin and target URLs), runs an actor that costs nothing (the reply is
//!   the payload) and encodes the InvocationResponse; the caller decodes it.
//!
//! Run: `cargo bench -p wasmhost --bench lattice_rpc` (needs nats-server: .venv/bin or PATH).

#[path = "../tests/lattice_support/mod.rs"]
mod lattice_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use lattice_support::*;
use nkeys::KeyPair;
use wasmhost::protocol::rpc::{Invocation, InvocationResponse, WasmCloudEntity};
use wasmhost::{ActorSource, Host};

const ECHO_PK: &str = "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75";
const PINGER_PK: &str = "MAUJCX4BIOUCE5BGKCLKNRIT7FXES2W7WIYLTPW6LZNZHNVPL4RY4XTY";
const PAYLOAD: usize = 100;
const REQUESTS: usize = 20_000;

struct Outcome {
    p50: Duration,
    p99: Duration,
    per_sec: f64,
}

/// Runs `REQUESTS` calls of `call` with `in_flight` concurrent callers; latency per call and
/// overall throughput.
async fn measure<F, Fut>(in_flight: usize, call: F) -> Outcome
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    for _ in 0..REQUESTS / 10 {
        call().await;
    }
    let started = Instant::now();
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(REQUESTS / in_flight);
                for _ in 0..REQUESTS / in_flight {
                    let t = Instant::now();
                    call().await;
                    samples.push(t.elapsed().as_nanos() as u64);
                }
                samples
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(REQUESTS);
    for w in workers {
        samples.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed();
    samples.sort_unstable();
    let at =
        |q: usize| Duration::from_nanos(samples[(samples.len() * q / 100).min(samples.len() - 1)]);
    Outcome {
        p50: at(50),
        p99: at(99),
        per_sec: samples.len() as f64 / elapsed.as_secs_f64(),
    }
}

fn row(name: &str, in_flight: usize, o: &Outcome, raw: &Outcome, floor: &Outcome) {
    let ratio = |a: Duration, b: Duration| a.as_nanos() as f64 / b.as_nanos() as f64;
    println!(
        "| {name:<28} | {in_flight:>9} | {:>10.1?} | {:>10.1?} | {:>9.0} | {:>7.2}x | {:>7.2}x | {:>9.2}x | {:>9.2}x |",
        o.p50,
        o.p99,
        o.per_sec,
        ratio(o.p50, raw.p50),
        o.per_sec / raw.per_sec,
        ratio(o.p50, floor.p50),
        o.per_sec / floor.per_sec
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let nats = NatsServer::start();
    rt.block_on(async {
        let lattice = unique_lattice("bench");
        let cluster = KeyPair::new_cluster();
        let a = start_host(&nats.url(), &lattice, &cluster, &[]).await;
        let b = start_host(&nats.url(), &lattice, &cluster, &[]).await;
        let echo = ActorSource::File(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/actors/echo.wasm"));
        b.start_actor(echo, 16, HashMap::new()).await.unwrap();

        // The raw responder: one subscription echoing every request.
        let responder = client(&nats.url()).await;
        let mut sub = responder.subscribe("bench.raw").await.unwrap();
        let replier = responder.clone();
        tokio::spawn(async move {
            while let Some(msg) = sub.next().await {
                if let Some(reply) = msg.reply {
                    let _ = replier.publish(reply, msg.payload).await;
                }
            }
        });
        // The verified floor's responder: decode, verify, answer, in its own connection.
        let floor_responder = client(&nats.url()).await;
        let mut floor_sub = floor_responder.subscribe("bench.floor").await.unwrap();
        let issuers = vec![cluster.public_key()];
        tokio::spawn(async move {
            while let Some(msg) = floor_sub.next().await {
                let Some(reply) = msg.reply else { continue };
                let invocation = Invocation::decode(&msg.payload).unwrap();
                invocation.validate(&issuers).unwrap();
                let response = InvocationResponse::success(invocation.id, invocation.msg);
                let _ = floor_responder.publish(reply, response.encode().into()).await;
            }
        });
        responder.flush().await.unwrap();
        let requester = client(&nats.url()).await;
        let payload = Bytes::from(vec![0x5a; PAYLOAD]);

        println!("| path                         | in flight | p50        | p99        | calls/s   | p50/raw  | rate/raw | p50/floor  | rate/floor |");
        println!("|------------------------------|-----------|------------|------------|-----------|----------|----------|------------|------------|");
        for in_flight in [1, 16] {
            let (c, p) = (requester.clone(), payload.clone());
            let raw = measure(in_flight, move || {
                let (c, p) = (c.clone(), p.clone());
                async move {
                    let reply = c.request("bench.raw", p).await.unwrap();
                    assert_eq!(reply.payload.len(), PAYLOAD);
                }
            })
            .await;
            let (c, p, k, caller_id) = (requester.clone(), payload.clone(), Arc::new(KeyPair::from_seed(&cluster.seed().unwrap()).unwrap()), a.id().to_string());
            let floor = measure(in_flight, move || {
                let (c, p, k, caller_id) = (c.clone(), p.clone(), k.clone(), caller_id.clone());
                async move {
                    let invocation = Invocation::new_signed(&k, WasmCloudEntity::actor(PINGER_PK), WasmCloudEntity::actor(ECHO_PK), "Echo.Echo", p.to_vec(), &caller_id).unwrap();
                    let reply = c.request("bench.floor", invocation.encode().into()).await.unwrap();
                    let response = InvocationResponse::decode(&reply.payload).unwrap();
                    assert_eq!(response.msg.len(), PAYLOAD);
                }
            })
            .await;
            let (h, p): (Host, Bytes) = (a.clone(), payload.clone());
            let lattice_rpc = measure(in_flight, move || {
                let (h, p) = (h.clone(), p.clone());
                async move {
                    let reply = h.call_actor(ECHO_PK, "Echo.Echo", p).await.unwrap();
                    assert_eq!(reply.len(), PAYLOAD);
                }
            })
            .await;
            row("raw async-nats req/reply", in_flight, &raw, &raw, &floor);
            row("verified floor", in_flight, &floor, &raw, &floor);
            row("lattice RPC Echo.Echo", in_flight, &lattice_rpc, &raw, &floor);
        }
        a.stop().await.unwrap();
        b.stop().await.unwrap();
    });
}
