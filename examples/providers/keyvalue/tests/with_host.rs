//! The real host supervising the real `wasmhost-keyvalue` process over a real nats-server: the
//! kvcounter actor counts through it; a `kill -9` of the provider under load is detected, the
//! provider restarted and calls recover; a provider stopped on purpose makes calls fail with a
//! clear error, bounded by the RPC timeout, until it is started again.
//!
//! The tests run one at a time (each starts a host, a nats-server and a ~110 MB debug provider
//! binary on a 2-core machine; the SIGKILL test measures call latencies).

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use support::*;
use wasmhost::{EventStream, Host};

const RPC_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest a failing kvcounter call may take: the actor's host call gives up after the RPC
/// timeout; the rest is slack for a loaded machine.
const CALL_BOUND: Duration = Duration::from_secs(3);

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Panics on any thread other than a test's own (the host's runtime workers and its tasks).
fn host_panics() -> Vec<String> {
    static PANICS: OnceLock<Arc<Mutex<Vec<String>>>> = OnceLock::new();
    let panics = PANICS.get_or_init(|| {
        let panics = Arc::new(Mutex::new(Vec::new()));
        let seen = panics.clone();
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current().name().unwrap_or("?").to_string();
            if thread.starts_with("tokio-runtime-worker") {
                seen.lock().unwrap().push(format!("{thread}: {info}"));
            }
            default(info);
        }));
        panics
    });
    panics.lock().unwrap().clone()
}

/// Awaits `future` for at most 60 s: a hang fails the test and says where.
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Waits for the next event of `kind` (skipping others), returning its data.
async fn next_event(events: &mut EventStream, kind: &str) -> serde_json::Value {
    let wait = async {
        loop {
            let event = events.next().await.expect("event stream ended");
            if event.short_type() == kind {
                return event.data.clone();
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .unwrap_or_else(|_| panic!("no {kind} event within 60 s"))
}

/// One kvcounter call bounded by [`CALL_BOUND`]: a call that hangs is an error too.
async fn bounded_count(host: &Host, path: &str) -> (Result<i64, String>, Duration) {
    let t = Instant::now();
    let result = match tokio::time::timeout(CALL_BOUND, count(host, path)).await {
        Ok(r) => r,
        Err(_) => Err(format!("HANG: no reply within {CALL_BOUND:?}")),
    };
    (result, t.elapsed())
}

/// Calls until one succeeds (at most 60 s), returning its counter.
async fn until_ok(host: &Host, path: &str) -> i64 {
    within(&format!("a successful call on {path}"), async {
        loop {
            if let (Ok(n), _) = bounded_count(host, path).await {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
}

/// A fixture: nats-server, a host with kvcounter (8 instances) linked to the provider, the
/// provider started and healthy, one call through it answered.
struct Setup {
    _nats: NatsServer,
    host: Host,
    events: EventStream,
    provider: String,
    cache: std::path::PathBuf,
}

async fn setup(name: &str) -> Setup {
    let t = Instant::now();
    let archive = tokio::task::spawn_blocking(archive).await.unwrap();
    eprintln!("[{name}] archive ready after {:.1?}", t.elapsed());
    let nats = NatsServer::start();
    let cache = scratch_dir(name);
    let (host, mut events) = within(
        "host start",
        Host::start_with_events(host_config(&nats, cache.clone(), RPC_TIMEOUT)),
    )
    .await
    .unwrap();
    within(
        "kvcounter start",
        host.start_actor(kvcounter_source(), 8, HashMap::new()),
    )
    .await
    .unwrap();
    within("put_link", host.put_link(kv_link(&archive.public_key)))
        .await
        .unwrap();
    let info = within(
        "start_provider",
        host.start_provider(provider_source(), "default", None, HashMap::new()),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            info.public_key.as_str(),
            info.contract_id.as_str(),
            info.restarts
        ),
        (archive.public_key.as_str(), CONTRACT, 0)
    );
    assert!(info.pid.is_some(), "a running provider has a pid");
    let started = next_event(&mut events, "provider_started").await;
    assert_eq!(started["instance_id"], info.instance_id.as_str());
    next_event(&mut events, "health_check_passed").await;
    until_ok(&host, "/ready").await;
    eprintln!(
        "[{name}] provider healthy and answering after {:.1?}",
        t.elapsed()
    );
    Setup {
        _nats: nats,
        host,
        events,
        provider: archive.public_key.clone(),
        cache,
    }
}

impl Setup {
    async fn finish(self) {
        within("host stop", self.host.stop()).await.unwrap();
        let _ = std::fs::remove_dir_all(&self.cache);
    }
}

/// The error of a call to a provider that is not there must say why: nobody serves the
/// provider's subject (NATS "no responders": the host says "nothing in the lattice serves
/// wasmbus.rpc.{lattice}.{provider key}.{link}"), or the provider did not answer in time.
fn is_clear(error: &str, provider: &str) -> bool {
    let e = error.to_lowercase();
    (error.contains(provider)
        && (e.contains("nothing in the lattice serves") || e.contains("no responders")))
        || e.contains("timed out")
        || e.contains("timeout")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kvcounter_counts_through_the_provider_process() {
    let _serial = SERIAL.lock().await;
    let s = setup("count").await;
    let mut counters = Vec::new();
    for _ in 0..3 {
        let (result, _) = bounded_count(&s.host, "/").await;
        counters.push(result.expect("kvcounter call"));
    }
    assert_eq!(counters, [1, 2, 3]);
    assert_eq!(s.host.providers().len(), 1);
    assert!(s.host.providers()[0].healthy);
    assert!(host_panics().is_empty(), "{:?}", host_panics());
    s.finish().await;
}

/// What one caller saw: when each call started, how long it took, what it got.
type Log = Vec<(Instant, Duration, Result<i64, String>)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_killed_with_sigkill_under_load_is_restarted_and_calls_recover() {
    let _serial = SERIAL.lock().await;
    host_panics();
    let mut s = setup("sigkill").await;
    let before = s.host.providers()[0].clone();
    let old_pid = before.pid.expect("pid");

    // 8 callers, each on its own key, looping until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let callers: Vec<_> = (0..8)
        .map(|i| {
            let (host, stop) = (s.host.clone(), stop.clone());
            tokio::spawn(async move {
                let path = format!("/load/{i}");
                let mut log = Log::new();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let (result, took) = bounded_count(&host, &path).await;
                    let failed = result.is_err();
                    log.push((started, took, result));
                    if failed {
                        // Not a busy loop while the provider is away.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                log
            })
        })
        .collect();

    // Load is flowing: wait until ~2 s of calls went through.
    tokio::time::sleep(Duration::from_secs(2)).await;
    std::process::Command::new("kill")
        .args(["-9", &old_pid.to_string()])
        .status()
        .expect("kill -9");
    let killed_at = Instant::now();
    eprintln!("[sigkill] killed provider pid {old_pid}");

    let stopped = next_event(&mut s.events, "provider_stopped").await;
    let reason = stopped["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("signal: 9"),
        "provider_stopped reason: {stopped}"
    );
    assert_eq!(stopped["instance_id"], before.instance_id.as_str());
    let started = next_event(&mut s.events, "provider_started").await;
    assert_ne!(
        started["instance_id"],
        before.instance_id.as_str(),
        "a new process is a new instance"
    );
    assert_eq!(started["public_key"], s.provider.as_str());
    next_event(&mut s.events, "health_check_passed").await;
    let healthy_at = Instant::now();
    eprintln!(
        "[sigkill] stopped → started → healthy in {:.1?}",
        healthy_at - killed_at
    );

    // Let the callers run on the new process for a while, then stop them.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let mut logs = Vec::new();
    for caller in callers {
        logs.push(
            within("a caller to finish", caller)
                .await
                .expect("caller task"),
        );
    }

    let (mut ok_before, mut failed, mut ok_after, mut slowest_failure) =
        (0, Vec::new(), 0, Duration::ZERO);
    for (i, log) in logs.iter().enumerate() {
        let mut last_after_kill = 0;
        for (started, took, result) in log {
            match result {
                Ok(n) if *started + *took < killed_at => {
                    ok_before += 1;
                    let _ = n;
                }
                Ok(n) => {
                    if *started > killed_at {
                        assert!(
                            *n > last_after_kill,
                            "caller {i}: counter {n} after {last_after_kill} on the new process"
                        );
                        last_after_kill = *n;
                    }
                    if *started > healthy_at {
                        ok_after += 1;
                    }
                }
                Err(e) => {
                    assert!(!e.starts_with("HANG"), "caller {i}: {e}");
                    assert!(
                        *started + *took >= killed_at,
                        "caller {i} failed before the kill: {e}"
                    );
                    assert!(
                        is_clear(e, &s.provider),
                        "caller {i}: unclear error during the outage: {e}"
                    );
                    slowest_failure = slowest_failure.max(*took);
                    failed.push(e.clone());
                }
            }
        }
        let after: Vec<_> = log.iter().filter(|(st, _, _)| *st > healthy_at).collect();
        assert!(
            !after.is_empty() && after.iter().all(|(_, _, r)| r.is_ok()),
            "caller {i}: calls after recovery: {:?}",
            after.iter().map(|(_, _, r)| r).collect::<Vec<_>>()
        );
    }
    let timeouts = failed.iter().filter(|e| e.contains("time")).count();
    eprintln!(
        "[sigkill] {ok_before} calls ok before the kill, {} failed during the outage ({timeouts} timed out, slowest {slowest_failure:.1?}), {ok_after} ok after recovery; e.g. {:?}",
        failed.len(),
        failed.iter().find(|e| e.contains("time")).or(failed.first())
    );
    assert!(
        ok_before >= 8,
        "load was flowing before the kill ({ok_before} calls)"
    );
    assert!(!failed.is_empty(), "calls during the outage fail");
    assert!(
        slowest_failure <= RPC_TIMEOUT + Duration::from_secs(2),
        "a failing call took {slowest_failure:?}"
    );

    let after = s.host.providers();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].restarts, 1);
    assert!(after[0].healthy);
    assert_ne!(after[0].pid, Some(old_pid));
    assert_ne!(after[0].instance_id, before.instance_id);
    assert!(
        host_panics().is_empty(),
        "host panicked: {:?}",
        host_panics()
    );
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_provider_fails_calls_clearly_until_started_again() {
    let _serial = SERIAL.lock().await;
    host_panics();
    let mut s = setup("stopped").await;
    assert_eq!(until_ok(&s.host, "/s").await, 1);

    within(
        "stop_provider",
        s.host.stop_provider(&s.provider, "default"),
    )
    .await
    .unwrap();
    let stopped = next_event(&mut s.events, "provider_stopped").await;
    assert_eq!(stopped["reason"], "normal");
    assert!(s.host.providers().is_empty());

    let mut errors = Vec::new();
    for _ in 0..3 {
        let (result, took) = bounded_count(&s.host, "/s").await;
        let error = result.expect_err("a call with the provider stopped fails");
        assert!(!error.starts_with("HANG"), "{error}");
        assert!(
            took <= RPC_TIMEOUT + Duration::from_secs(2),
            "a failing call took {took:?}: {error}"
        );
        assert!(
            is_clear(&error, &s.provider),
            "unclear error with the provider stopped: {error}"
        );
        errors.push((error, took));
    }
    eprintln!("[stopped] errors: {errors:?}");

    let info = within(
        "start_provider again",
        s.host
            .start_provider(provider_source(), "default", None, HashMap::new()),
    )
    .await
    .unwrap();
    assert_eq!(info.restarts, 0);
    next_event(&mut s.events, "provider_started").await;
    next_event(&mut s.events, "health_check_passed").await;
    // A new process: its in-memory store starts empty.
    let first = until_ok(&s.host, "/s").await;
    let (second, _) = bounded_count(&s.host, "/s").await;
    assert_eq!(second.expect("second call after the restart"), first + 1);
    assert!(
        host_panics().is_empty(),
        "host panicked: {:?}",
        host_panics()
    );
    s.finish().await;
}
