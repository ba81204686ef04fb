//! In-process invocation benchmark: `Echo.Echo` on the echo actor through the host, through a raw
//! wasmtime waPC round trip on the same module, and (when built) through the wapc +
//! wasmtime-provider crates; actor start (cold and cached); scale 1 → 1000 instances.
//!
//! Run: `cargo bench -p wasmhost --bench invoke` (build the peer first for its row:
//! `cargo build --release --manifest-path benches/wapc-peer/Cargo.toml`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use wasmhost::{ActorSource, Host, HostConfig};

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

struct Stats {
    p50: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<u64>) -> Stats {
    samples.sort_unstable();
    let at =
        |q: usize| Duration::from_nanos(samples[(samples.len() * q / 100).min(samples.len() - 1)]);
    Stats {
        p50: at(50),
        p99: at(99),
    }
}

fn row(name: &str, size: usize, s: &Stats, reference: Option<&Stats>) {
    let ratio = reference
        .map(|r| format!("{:.2}x", s.p50.as_nanos() as f64 / r.p50.as_nanos() as f64))
        .unwrap_or_default();
    println!(
        "| {name:<34} | {size:>7} | {:>10.2?} | {:>10.2?} | {ratio:>8} |",
        s.p50, s.p99
    );
}

fn iterations(size: usize) -> usize {
    if size > 10_000 {
        5_000
    } else {
        50_000
    }
}

/// The host's path: `Host::call_actor` from an async task.
fn host_echo(rt: &tokio::runtime::Runtime, host: &Host, actor: &str, size: usize) -> Stats {
    let payload = Bytes::from(vec![0x5a; size]);
    rt.block_on(async {
        let n = iterations(size);
        for _ in 0..n / 10 {
            host.call_actor(actor, "Echo.Echo", payload.clone())
                .await
                .unwrap();
        }
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            let start = Instant::now();
            let reply = host
                .call_actor(actor, "Echo.Echo", payload.clone())
                .await
                .unwrap();
            samples.push(start.elapsed().as_nanos() as u64);
            assert_eq!(reply.len(), size);
        }
        stats(samples)
    })
}

/// The floor: a synchronous waPC round trip on plain wasmtime defaults, no pooling, no timeouts.
/// With `epoch` the engine also compiles in epoch-interruption checks (what the host needs for
/// timeouts and yields), with a deadline that never fires: the cost of those checks alone.
mod raw {
    use wasmtime::{Caller, Engine, Extern, Linker, Module, Store};

    #[derive(Default)]
    pub struct State {
        op: Vec<u8>,
        payload: Vec<u8>,
        response: Vec<u8>,
    }

    fn mem<'a>(caller: &'a mut Caller<'_, State>) -> (&'a mut [u8], &'a mut State) {
        let Some(Extern::Memory(m)) = caller.get_export("memory") else {
            panic!("no memory")
        };
        m.data_and_store_mut(caller)
    }

    pub struct Raw {
        store: Store<State>,
        call: wasmtime::TypedFunc<(i32, i32), i32>,
    }

    impl Raw {
        pub fn new(module: &[u8], epoch: bool) -> Raw {
            let engine = Engine::new(wasmtime::Config::new().epoch_interruption(epoch)).unwrap();
            let module = Module::new(&engine, module).unwrap();
            let mut linker = Linker::new(&engine);
            linker
                .func_wrap(
                    "wapc",
                    "__guest_request",
                    |mut c: Caller<'_, State>, op_ptr: i32, ptr: i32| {
                        let (data, state) = mem(&mut c);
                        data[op_ptr as usize..][..state.op.len()].copy_from_slice(&state.op);
                        data[ptr as usize..][..state.payload.len()].copy_from_slice(&state.payload);
                    },
                )
                .unwrap();
            linker
                .func_wrap(
                    "wapc",
                    "__guest_response",
                    |mut c: Caller<'_, State>, ptr: i32, len: i32| {
                        let (data, state) = mem(&mut c);
                        state.response = data[ptr as usize..][..len as usize].to_vec();
                    },
                )
                .unwrap();
            linker
                .func_wrap(
                    "wapc",
                    "__guest_error",
                    |_: Caller<'_, State>, _: i32, _: i32| {},
                )
                .unwrap();
            linker
                .func_wrap(
                    "wapc",
                    "__host_call",
                    |_: Caller<'_, State>,
                     _: i32,
                     _: i32,
                     _: i32,
                     _: i32,
                     _: i32,
                     _: i32,
                     _: i32,
                     _: i32| 0i32,
                )
                .unwrap();
            linker
                .func_wrap("wapc", "__host_response_len", |_: Caller<'_, State>| 0i32)
                .unwrap();
            linker
                .func_wrap("wapc", "__host_response", |_: Caller<'_, State>, _: i32| {})
                .unwrap();
            linker
                .func_wrap("wapc", "__host_error_len", |_: Caller<'_, State>| 0i32)
                .unwrap();
            linker
                .func_wrap("wapc", "__host_error", |_: Caller<'_, State>, _: i32| {})
                .unwrap();
            linker
                .func_wrap(
                    "wapc",
                    "__console_log",
                    |_: Caller<'_, State>, _: i32, _: i32| {},
                )
                .unwrap();
            let mut store = Store::new(&engine, State::default());
            store.set_epoch_deadline(u64::MAX / 2);
            let instance = linker.instantiate(&mut store, &module).unwrap();
            instance
                .get_typed_func::<(), ()>(&mut store, "wapc_init")
                .unwrap()
                .call(&mut store, ())
                .unwrap();
            let call = instance.get_typed_func(&mut store, "__guest_call").unwrap();
            Raw { store, call }
        }

        pub fn echo(&mut self, payload: &[u8]) -> usize {
            let state = self.store.data_mut();
            state.op.clear();
            state.op.extend_from_slice(b"Echo.Echo");
            state.payload.clear();
            state.payload.extend_from_slice(payload);
            let ok = self
                .call
                .call(&mut self.store, (9, payload.len() as i32))
                .unwrap();
            assert_eq!(ok, 1);
            std::mem::take(&mut self.store.data_mut().response).len()
        }
    }
}

fn raw_echo(module: &[u8], size: usize, epoch: bool) -> Stats {
    let mut raw = raw::Raw::new(module, epoch);
    let payload = vec![0x5a; size];
    let n = iterations(size);
    for _ in 0..n / 10 {
        raw.echo(&payload);
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let len = raw.echo(&payload);
        samples.push(start.elapsed().as_nanos() as u64);
        assert_eq!(len, size);
    }
    stats(samples)
}

fn wapc_peer(module: &PathBuf, size: usize) -> Option<Stats> {
    let bin = repo("benches/wapc-peer/target/release/wapc-peer");
    if !bin.exists() {
        println!("(wapc peer not built: cargo build --release --manifest-path benches/wapc-peer/Cargo.toml)");
        return None;
    }
    let out = std::process::Command::new(bin)
        .arg(module)
        .arg(iterations(size).to_string())
        .arg(size.to_string())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<u64> = text
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    (f.len() == 3).then(|| Stats {
        p50: Duration::from_nanos(f[0]),
        p99: Duration::from_nanos(f[1]),
    })
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// `WASMHOST_BENCH_CHILD_START=dir`: one actor start on a new host in this fresh process, with
/// the compiled-module cache at `dir`; prints the nanoseconds it took.
fn child_start(dir: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let echo = std::fs::read(repo("examples/actors/echo.wasm")).unwrap();
    let config = HostConfig {
        module_cache_dir: Some(PathBuf::from(dir)),
        ..Default::default()
    };
    let host = rt.block_on(Host::start(config)).unwrap();
    let start = Instant::now();
    rt.block_on(host.start_actor(ActorSource::Bytes(echo.into()), 1, HashMap::new()))
        .unwrap();
    println!("{}", start.elapsed().as_nanos());
}

fn main() {
    if let Ok(dir) = std::env::var("WASMHOST_BENCH_CHILD_START") {
        return child_start(&dir);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let echo_path = repo("examples/actors/echo.wasm");
    let echo = std::fs::read(&echo_path).unwrap();
    let host = rt.block_on(Host::start(HostConfig::default())).unwrap();
    let actor = rt
        .block_on(host.start_actor(ActorSource::Bytes(echo.clone().into()), 1, HashMap::new()))
        .unwrap()
        .public_key;

    println!("## In-process Echo.Echo round trip (one caller, one instance)\n");
    println!(
        "| path                               | payload |        p50 |        p99 | p50/raw  |"
    );
    println!(
        "|------------------------------------|---------|------------|------------|----------|"
    );
    for size in [100, 100 * 1024] {
        let raw = raw_echo(&echo, size, false);
        let raw_epoch = raw_echo(&echo, size, true);
        let ours = host_echo(&rt, &host, &actor, size);
        row("raw wasmtime __guest_call", size, &raw, None);
        row(
            "raw wasmtime + epoch interruption",
            size,
            &raw_epoch,
            Some(&raw),
        );
        row("wasmhost Host::call_actor", size, &ours, Some(&raw));
        if let Some(peer) = wapc_peer(&echo_path, size) {
            row("wapc 2.2 + wasmtime-provider 2.25", size, &peer, Some(&raw));
        }
    }
    rt.block_on(host.stop()).unwrap();
    // `WASMHOST_BENCH=echo` stops here (for profiling the call path alone).
    if std::env::var("WASMHOST_BENCH").as_deref() == Ok("echo") {
        return;
    }

    println!("\n## Actor start (echo, 134 KB, claims verified, 1 instance)\n");
    // Cold: nothing compiled anywhere (no disk cache).
    let no_disk = || HostConfig {
        module_cache: false,
        ..Default::default()
    };
    let mut cold = Vec::new();
    for _ in 0..5 {
        let h = rt.block_on(Host::start(no_disk())).unwrap();
        let start = Instant::now();
        rt.block_on(h.start_actor(ActorSource::Bytes(echo.clone().into()), 1, HashMap::new()))
            .unwrap();
        cold.push(start.elapsed().as_nanos() as u64);
        rt.block_on(h.stop()).unwrap();
    }
    // From the disk cache: every start on a new host (a fresh engine, as after a restart).
    let disk_dir =
        std::env::temp_dir().join(format!("wasmhost-bench-modules-{}", std::process::id()));
    let on_disk = || HostConfig {
        module_cache_dir: Some(disk_dir.clone()),
        ..Default::default()
    };
    let mut from_disk = Vec::new();
    for i in 0..51 {
        let h = rt.block_on(Host::start(on_disk())).unwrap();
        let start = Instant::now();
        rt.block_on(h.start_actor(ActorSource::Bytes(echo.clone().into()), 1, HashMap::new()))
            .unwrap();
        if i > 0 {
            from_disk.push(start.elapsed().as_nanos() as u64);
        }
        rt.block_on(h.stop()).unwrap();
    }
    // The same in fresh processes: this binary again, timing one start and exiting.
    let mut fresh = Vec::new();
    for _ in 0..20 {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env("WASMHOST_BENCH_CHILD_START", &disk_dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        fresh.push(
            text.trim()
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("child said {text:?}")),
        );
    }
    let h = rt.block_on(Host::start(no_disk())).unwrap();
    let mut cached = Vec::new();
    for i in 0..201 {
        let start = Instant::now();
        let info = rt
            .block_on(h.start_actor(ActorSource::Bytes(echo.clone().into()), 1, HashMap::new()))
            .unwrap();
        if i > 0 {
            cached.push(start.elapsed().as_nanos() as u64);
        }
        rt.block_on(h.stop_actor(&info.public_key, 0, HashMap::new()))
            .unwrap();
    }
    let (cold, from_disk, fresh, cached) =
        (stats(cold), stats(from_disk), stats(fresh), stats(cached));
    println!("| start                                      |        p50 |        p99 |");
    println!("|--------------------------------------------|------------|------------|");
    println!(
        "| cold (Cranelift), 5 hosts                  | {:>10.2?} | {:>10.2?} |",
        cold.p50, cold.p99
    );
    println!(
        "| disk cache, new host each, 50 starts       | {:>10.2?} | {:>10.2?} |",
        from_disk.p50, from_disk.p99
    );
    println!(
        "| disk cache, fresh process each, 20 starts  | {:>10.2?} | {:>10.2?} |",
        fresh.p50, fresh.p99
    );
    println!(
        "| in-memory module, same host, 200 starts    | {:>10.2?} | {:>10.2?} |",
        cached.p50, cached.p99
    );
    let _ = std::fs::remove_dir_all(&disk_dir);

    println!("\n## Scale echo 1 -> 1000 instances\n");
    let info = rt
        .block_on(h.start_actor(ActorSource::Bytes(echo.clone().into()), 1, HashMap::new()))
        .unwrap();
    let before = rss_kib();
    let start = Instant::now();
    rt.block_on(h.scale_actor(&info.public_key, 1000, HashMap::new()))
        .unwrap();
    let took = start.elapsed();
    let after = rss_kib();
    println!("| instances | time      | RSS before | RSS after | per instance |");
    println!("|-----------|-----------|------------|-----------|--------------|");
    println!(
        "| 1 -> 1000 | {:>9.2?} | {:>7} MiB | {:>6} MiB | {:>8} KiB |",
        took,
        before / 1024,
        after / 1024,
        (after.saturating_sub(before)) / 999
    );
    let start = Instant::now();
    rt.block_on(h.scale_actor(&info.public_key, 0, HashMap::new()))
        .unwrap();
    println!(
        "| 1000 -> 0 | {:>9.2?} |            |           |              |",
        start.elapsed()
    );
    rt.block_on(h.stop()).unwrap();
}
