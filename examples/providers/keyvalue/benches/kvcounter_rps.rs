//! kvcounter through this provider: `Host::call_actor(kvcounter, "HttpServer.HandleRequest")` →
//! the actor's `KeyValue.Increment` host call → a signed invocation over NATS → the
//! `wasmhost-keyvalue` process (in-memory store) → reply. For comparison, the same actor on an
//! embedded host whose `wasmcloud:keyvalue` is the in-process `InMemoryKeyValue` handler: the
//! difference is the cost of the NATS hop and the provider process. And the verified floor of the
//! NATS hop: a caller that signs a `KeyValue.Increment` invocation as a host does, and a responder
//! in this process that does only what the protocol requires of a provider (decode, verify the
//! JWT, its issuer, hash and URLs, check target and link, increment an in-memory counter, encode
//! the response), with no actor, host or provider SDK around them.
//!
//! Run: `cargo bench -p wasmhost-keyvalue --bench kvcounter_rps` (needs nats-server: .venv/bin or
//! PATH). `KVCOUNTER_BENCH_SECS` sets the measured seconds per row (default 5).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use nkeys::KeyPair;
use support::*;
use wasmhost::keyvalue::{InMemoryKeyValue, KEYVALUE_CONTRACT};
use wasmhost::protocol::keyvalue::IncrementRequest;
use wasmhost::protocol::rpc::{Invocation, InvocationResponse, WasmCloudEntity};
use wasmhost::{Host, HostConfig};

struct Outcome {
    calls: u64,
    per_sec: f64,
    p50: Duration,
    p99: Duration,
}

/// `in_flight` callers loop on kvcounter for `warmup`, then for `run`; latency of every measured
/// call in an HDR histogram (ns, 3 significant digits).
async fn measure(host: &Host, in_flight: usize, warmup: Duration, run: Duration) -> Outcome {
    let host = host.clone();
    measure_with(in_flight, warmup, run, move |path| {
        let host = host.clone();
        async move { count(&host, &path).await }
    })
    .await
}

/// [`measure`] of any call that returns the counter for a path.
async fn measure_with<F, Fut>(in_flight: usize, warmup: Duration, run: Duration, call: F) -> Outcome
where
    F: Fn(String) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<i64, String>> + Send,
{
    let phase = |length: Duration| {
        let workers: Vec<_> = (0..in_flight)
            .map(|i| {
                let call = call.clone();
                let path = format!("/bench/{i}");
                tokio::spawn(async move {
                    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
                    let end = Instant::now() + length;
                    let mut last = 0;
                    while Instant::now() < end {
                        let t = Instant::now();
                        let n = call(path.clone())
                            .await
                            .unwrap_or_else(|e| panic!("kvcounter call failed: {e}"));
                        hist.record(t.elapsed().as_nanos().max(1) as u64).unwrap();
                        assert!(n > last, "counter went from {last} to {n}");
                        last = n;
                    }
                    hist
                })
            })
            .collect::<Vec<_>>();
        async move {
            let started = Instant::now();
            let mut total = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
            for w in workers {
                total.add(w.await.unwrap()).unwrap();
            }
            (total, started.elapsed())
        }
    };
    phase(warmup).await;
    let (hist, elapsed) = phase(run).await;
    Outcome {
        calls: hist.len(),
        per_sec: hist.len() as f64 / elapsed.as_secs_f64(),
        p50: Duration::from_nanos(hist.value_at_quantile(0.50)),
        p99: Duration::from_nanos(hist.value_at_quantile(0.99)),
    }
}

fn row(path: &str, in_flight: usize, o: &Outcome) {
    println!(
        "| {path:<46} | {in_flight:>9} | {:>7} | {:>9.0} | {:>10.1?} | {:>10.1?} |",
        o.calls, o.per_sec, o.p50, o.p99
    );
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

fn main() {
    let secs: u64 = std::env::var("KVCOUNTER_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let (warmup, run) = (Duration::from_secs(1), Duration::from_secs(secs));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let nats = NatsServer::start();
    rt.block_on(async {
        let t = Instant::now();
        let archive = archive();
        eprintln!("archive of {} built in {:.1?}", archive.public_key, t.elapsed());

        // Through NATS: a lattice host, the provider process, kvcounter linked to it.
        let cache = scratch_dir("bench-cache");
        let (lattice_host, mut events) = Host::start_with_events(host_config(&nats, cache.clone(), Duration::from_secs(2))).await.unwrap();
        lattice_host.start_actor(kvcounter_source(), 16, HashMap::new()).await.unwrap();
        lattice_host.put_link(kv_link(&archive.public_key)).await.unwrap();
        within("start_provider", lattice_host.start_provider(provider_source(), "default", None, HashMap::new())).await.unwrap();
        within("first health check", async {
            while let Some(e) = events.next().await {
                if e.short_type() == "health_check_passed" {
                    break;
                }
            }
        })
        .await;
        within("first call", async {
            while count(&lattice_host, "/ready").await.is_err() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;

        // The verified floor: signer and verifying responder on the same nats-server.
        let floor_key = Arc::new(KeyPair::from_seed(lattice_host.config().cluster_seed.as_deref().unwrap()).unwrap());
        let issuers = vec![floor_key.public_key()];
        let responder = async_nats::connect(nats.url()).await.unwrap();
        let mut floor_sub = responder.subscribe("bench.kvfloor").await.unwrap();
        let provider_key = archive.public_key.clone();
        tokio::spawn(async move {
            use futures::StreamExt;
            let linked: std::collections::HashSet<String> = [KVCOUNTER.to_string()].into();
            let mut counters: HashMap<String, i64> = HashMap::new();
            while let Some(msg) = floor_sub.next().await {
                let Some(reply) = msg.reply else { continue };
                let inv = Invocation::decode(&msg.payload).unwrap();
                inv.validate(&issuers).unwrap();
                assert!(inv.target.public_key == provider_key && linked.contains(&inv.origin.public_key));
                let req: IncrementRequest = wasmhost::protocol::decode(&inv.msg).unwrap();
                let n = counters.entry(req.key).or_default();
                *n += i64::from(req.value);
                let response = InvocationResponse::success(inv.id, wasmhost::protocol::encode(&(*n as i32)));
                let _ = responder.publish(reply, response.encode().into()).await;
            }
        });
        let caller = async_nats::connect(nats.url()).await.unwrap();
        let (caller_id, provider_pk) = (lattice_host.id().to_string(), archive.public_key.clone());
        let floor_call = move |path: String| {
            let (caller, key, caller_id, provider_pk) = (caller.clone(), floor_key.clone(), caller_id.clone(), provider_pk.clone());
            async move {
                let payload = wasmhost::protocol::encode(&IncrementRequest { key: path, value: 1 });
                let target = WasmCloudEntity::provider(&provider_pk, CONTRACT, "default");
                let inv = Invocation::new_signed(&key, WasmCloudEntity::actor(KVCOUNTER), target, "KeyValue.Increment", payload, &caller_id).map_err(|e| e.to_string())?;
                let reply = caller.request("bench.kvfloor", inv.encode().into()).await.map_err(|e| e.to_string())?;
                let response = InvocationResponse::decode(&reply.payload).map_err(|e| e.to_string())?;
                let n: i32 = wasmhost::protocol::decode(&response.msg).map_err(|e| e.to_string())?;
                Ok(i64::from(n))
            }
        };

        // In process: an embedded host, the same actor, the host's InMemoryKeyValue handler.
        let local_host = Host::start(HostConfig::default()).await.unwrap();
        local_host.register_capability(KEYVALUE_CONTRACT, "default", Arc::new(InMemoryKeyValue::new())).unwrap();
        local_host.start_actor(kvcounter_source(), 16, HashMap::new()).await.unwrap();
        count(&local_host, "/ready").await.expect("in-process kvcounter");

        println!("| path                                           | in flight | calls   | calls/s   | p50        | p99        |");
        println!("|------------------------------------------------|-----------|---------|-----------|------------|------------|");
        for in_flight in [1, 16] {
            let floor = measure_with(in_flight, warmup, run, floor_call.clone()).await;
            row("verified floor: sign → NATS → verify → increment", in_flight, &floor);
            let o = measure(&lattice_host, in_flight, warmup, run).await;
            row("kvcounter → NATS → wasmhost-keyvalue process", in_flight, &o);
            println!("|   (vs floor: p50 {:.2}x, calls/s {:.2}x)          |           |         |           |            |            |", o.p50.as_secs_f64() / floor.p50.as_secs_f64(), o.per_sec / floor.per_sec);
            let o = measure(&local_host, in_flight, warmup, run).await;
            row("kvcounter → in-process InMemoryKeyValue", in_flight, &o);
        }
        within("host stop", lattice_host.stop()).await.unwrap();
        local_host.stop().await.unwrap();
        let _ = std::fs::remove_dir_all(cache);
    });
}
