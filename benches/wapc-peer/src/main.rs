//! Times `Echo.Echo` round trips through the wapc + wasmtime-provider crates.
//! Usage: wapc-peer MODULE.wasm ITERATIONS PAYLOAD_BYTES
//! Prints one line: `wapc-peer p50_ns p99_ns mean_ns`.

use std::time::Instant;

use wapc::WapcHost;
use wasmtime_provider::WasmtimeEngineProviderBuilder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        return Err("usage: wapc-peer MODULE.wasm ITERATIONS PAYLOAD_BYTES".into());
    }
    let module = std::fs::read(&args[1])?;
    let iterations: usize = args[2].parse()?;
    let payload = vec![0x5au8; args[3].parse()?];
    let engine = WasmtimeEngineProviderBuilder::new().module_bytes(&module).build()?;
    let host = WapcHost::new(Box::new(engine), Some(Box::new(|_, _, _, _, _| Ok(Vec::new()))))?;
    for _ in 0..iterations / 10 + 10 {
        host.call("Echo.Echo", &payload)?;
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        let reply = host.call("Echo.Echo", &payload)?;
        samples.push(start.elapsed().as_nanos() as u64);
        assert_eq!(reply.len(), payload.len());
    }
    samples.sort_unstable();
    let mean = samples.iter().sum::<u64>() / samples.len() as u64;
    println!("wapc-peer {} {} {}", samples[samples.len() / 2], samples[samples.len() * 99 / 100], mean);
    Ok(())
}
