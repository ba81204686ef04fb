//! kvcounter through this provider: `Host::call_actor(kvcounter, "HttpServer.HandleRequest")` →
//! the actor's `KeyValue.Increment` host call → a signed invocation over NATS → the
//! `wasmhost-keyvalue` process (in-memory store) → reply. For comparison, the same actor on an
//! embedded host whose `wasmcloud:keyvalue` is the in-process `InMemoryKeyValue` handler: the
//! difference is the cost of the NATS hop and the provider process.
//!
//! Run: `cargo bench -p wasmhost-keyvalue --bench kvcounter_rps` (needs nats-server: .venv/bin or
//! PATH). `KVCOUNTER_BENCH_SECS` sets the measured seconds per row (default 5).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use support::*;
use wasmhost::keyvalue::{InMemoryKeyValue, KEYVALUE_CONTRACT};
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
    let phase = |length: Duration| {
        let workers: Vec<_> = (0..in_flight)
            .map(|i| {
                let host = host.clone();
                let path = format!("/bench/{i}");
                tokio::spawn(async move {
                    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
                    let end = Instant::now() + length;
                    let mut last = 0;
                    while Instant::now() < end {
                        let t = Instant::now();
                        let n = count(&host, &path)
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

        // In process: an embedded host, the same actor, the host's InMemoryKeyValue handler.
        let local_host = Host::start(HostConfig::default()).await.unwrap();
        local_host.register_capability(KEYVALUE_CONTRACT, "default", Arc::new(InMemoryKeyValue::new())).unwrap();
        local_host.start_actor(kvcounter_source(), 16, HashMap::new()).await.unwrap();
        count(&local_host, "/ready").await.expect("in-process kvcounter");

        println!("| path                                           | in flight | calls   | calls/s   | p50        | p99        |");
        println!("|------------------------------------------------|-----------|---------|-----------|------------|------------|");
        for in_flight in [1, 16] {
            let o = measure(&lattice_host, in_flight, warmup, run).await;
            row("kvcounter → NATS → wasmhost-keyvalue process", in_flight, &o);
            let o = measure(&local_host, in_flight, warmup, run).await;
            row("kvcounter → in-process InMemoryKeyValue", in_flight, &o);
        }
        within("host stop", lattice_host.stop()).await.unwrap();
        local_host.stop().await.unwrap();
        let _ = std::fs::remove_dir_all(cache);
    });
}
