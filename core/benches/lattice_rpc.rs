//! NATS lattice RPC benchmark: `Echo.Echo` on an actor running on another host of the lattice
//! (host A's `call_actor` → signed invocation over NATS → host B validates, runs echo, replies) vs a
//! raw async-nats request/reply to a trivial responder echoing the payload, on the same nats-server,
//! with 1 and 16 requests in flight.
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
use wasmhost::{ActorSource, Host};

const ECHO_PK: &str = "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75";
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

fn row(name: &str, in_flight: usize, o: &Outcome, raw: &Outcome) {
    println!(
        "| {name:<28} | {in_flight:>9} | {:>10.1?} | {:>10.1?} | {:>9.0} | {:>11.2}x | {:>13.2}x |",
        o.p50,
        o.p99,
        o.per_sec,
        o.p50.as_nanos() as f64 / raw.p50.as_nanos() as f64,
        o.per_sec / raw.per_sec
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
        responder.flush().await.unwrap();
        let requester = client(&nats.url()).await;
        let payload = Bytes::from(vec![0x5a; PAYLOAD]);

        println!("| path                         | in flight | p50        | p99        | calls/s   | p50 vs raw   | calls/s vs raw |");
        println!("|------------------------------|-----------|------------|------------|-----------|--------------|----------------|");
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
            let (h, p): (Host, Bytes) = (a.clone(), payload.clone());
            let lattice_rpc = measure(in_flight, move || {
                let (h, p) = (h.clone(), p.clone());
                async move {
                    let reply = h.call_actor(ECHO_PK, "Echo.Echo", p).await.unwrap();
                    assert_eq!(reply.len(), PAYLOAD);
                }
            })
            .await;
            row("raw async-nats req/reply", in_flight, &raw, &raw);
            row("lattice RPC Echo.Echo", in_flight, &lattice_rpc, &raw);
        }
        a.stop().await.unwrap();
        b.stop().await.unwrap();
    });
}
