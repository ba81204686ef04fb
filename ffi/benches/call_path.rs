//! The C call path vs the Rust API call path, in one process and one run: `Echo.Echo` with a
//! 100-byte payload on the in-process echo actor.
//!
//! The C path goes through the real `libwasmhost.so` (linked dynamically, see build.rs):
//! `wasmhost_actor_call` + `wasmhost_bytes_free`. The Rust path calls `Host::call_actor` of the core
//! crate from the same thread with `Runtime::block_on`. Both hosts run the same signed module.
//!
//! Run: `cargo build --release -p wasmhost-ffi && cargo bench -p wasmhost-ffi --bench call_path`

use std::ffi::{c_char, c_void, CStr, CString};
use std::time::Instant;

use hdrhistogram::Histogram;

#[allow(non_camel_case_types)]
type wasmhost_result_t = i32;

extern "C" {
    fn wasmhost_host_start(
        config: *const c_void,
        out: *mut *mut c_void,
        err: *mut *mut c_void,
    ) -> wasmhost_result_t;
    fn wasmhost_host_free(host: *mut c_void);
    fn wasmhost_actor_start_file(
        host: *const c_void,
        path: *const c_char,
        count: u32,
        annotations: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut c_void,
    ) -> wasmhost_result_t;
    fn wasmhost_actor_call(
        host: *const c_void,
        actor: *const c_char,
        op: *const c_char,
        payload: *const u8,
        len: usize,
        out: *mut *mut u8,
        out_len: *mut usize,
        err: *mut *mut c_void,
    ) -> wasmhost_result_t;
    fn wasmhost_bytes_free(data: *mut u8, len: usize);
    fn wasmhost_string_free(s: *mut c_char);
    fn wasmhost_version() -> *const c_char;
}

const ROUNDS: usize = 20;
const CALLS_PER_ROUND: usize = 2_000;
const WARMUP: usize = 2_000;

fn main() {
    let echo = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/actors/echo.wasm");
    let payload = vec![0x5au8; 100];

    // C path.
    let mut chost: *mut c_void = std::ptr::null_mut();
    let mut actor: *mut c_char = std::ptr::null_mut();
    let path = CString::new(echo).unwrap();
    unsafe {
        assert_eq!(
            wasmhost_host_start(std::ptr::null(), &mut chost, std::ptr::null_mut()),
            0
        );
        assert_eq!(
            wasmhost_actor_start_file(
                chost,
                path.as_ptr(),
                1,
                std::ptr::null(),
                &mut actor,
                std::ptr::null_mut()
            ),
            0
        );
    }
    let op = CString::new("Echo.Echo").unwrap();
    let c_call = || unsafe {
        let (mut out, mut len) = (std::ptr::null_mut(), 0usize);
        let rc = wasmhost_actor_call(
            chost,
            actor,
            op.as_ptr(),
            payload.as_ptr(),
            payload.len(),
            &mut out,
            &mut len,
            std::ptr::null_mut(),
        );
        assert!(rc == 0 && len == 100);
        wasmhost_bytes_free(out, len);
    };

    // Rust path.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let rhost = rt
        .block_on(host::Host::start(host::HostConfig::default()))
        .unwrap();
    let info = rt
        .block_on(rhost.start_actor(host::ActorSource::File(echo.into()), 1, Default::default()))
        .unwrap();
    let rust_call = || {
        let reply = rt
            .block_on(rhost.call_actor(&info.public_key, "Echo.Echo", payload.clone()))
            .unwrap();
        assert_eq!(reply.len(), 100);
    };

    for _ in 0..WARMUP {
        c_call();
        rust_call();
    }
    let mut c_hist = Histogram::<u64>::new(3).unwrap();
    let mut r_hist = Histogram::<u64>::new(3).unwrap();
    // Alternate rounds so both paths see the same machine conditions.
    for _ in 0..ROUNDS {
        for _ in 0..CALLS_PER_ROUND {
            let t = Instant::now();
            c_call();
            c_hist.record(t.elapsed().as_nanos() as u64).unwrap();
        }
        for _ in 0..CALLS_PER_ROUND {
            let t = Instant::now();
            rust_call();
            r_hist.record(t.elapsed().as_nanos() as u64).unwrap();
        }
    }
    let version = unsafe { CStr::from_ptr(wasmhost_version()) }.to_string_lossy();
    println!(
        "libwasmhost {version}: Echo.Echo, 100 B payload, {} calls per path",
        ROUNDS * CALLS_PER_ROUND
    );
    println!("| path | p50 (µs) | p99 (µs) | mean (µs) |");
    println!("|---|---|---|---|");
    for (name, h) in [
        ("C ABI (`wasmhost_actor_call`, libwasmhost.so)", &c_hist),
        ("Rust API (`Host::call_actor` + `block_on`)", &r_hist),
    ] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            h.value_at_quantile(0.5) as f64 / 1e3,
            h.value_at_quantile(0.99) as f64 / 1e3,
            h.mean() / 1e3
        );
    }
    unsafe {
        wasmhost_string_free(actor);
        wasmhost_host_free(chost);
    }
    rt.block_on(rhost.stop()).unwrap();
}
