"""Python call overhead vs the Rust API on the in-process echo actor (`Echo.Echo`, 100 B).

Same process, same host, same actor instance for every row:
* rust: `Host::call_actor` awaited in a loop inside Rust (the baseline, no Python per call);
* call(): `host.call()` from Python (GIL released during the call);
* call_async() sequential: `await host.call_async()` one after another on an asyncio loop;
* call_async() x1000 concurrent: `asyncio.gather` of 1000 calls, time per call (throughput).

Run with a release wheel: `pip install ./bindings/python && python bindings/python/benches/bench_call.py`.
"""

from __future__ import annotations

import asyncio
import platform
import statistics
import time
from pathlib import Path
from typing import List

import wasmhost

ECHO = Path(__file__).resolve().parents[3] / "examples" / "actors" / "echo.wasm"
PAYLOAD = bytes(range(100))
N = 20_000
ROUNDS = 5


def pct(samples: List[int], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] / 1000.0


def python_call(host: wasmhost.Host, key: str) -> List[int]:
    samples = []
    call = host.call
    for _ in range(N):
        start = time.perf_counter_ns()
        call(key, "Echo.Echo", PAYLOAD)
        samples.append(time.perf_counter_ns() - start)
    return samples


def python_call_async(host: wasmhost.Host, key: str) -> List[int]:
    async def run() -> List[int]:
        samples = []
        for _ in range(N):
            start = time.perf_counter_ns()
            await host.call_async(key, "Echo.Echo", PAYLOAD)
            samples.append(time.perf_counter_ns() - start)
        return samples

    return asyncio.run(run())


def concurrent_call_async(host: wasmhost.Host, key: str) -> float:
    async def run() -> float:
        start = time.perf_counter_ns()
        replies = await asyncio.gather(*(host.call_async(key, "Echo.Echo", PAYLOAD) for _ in range(1000)))
        assert all(r == PAYLOAD for r in replies)
        return (time.perf_counter_ns() - start) / 1000 / 1000.0

    return statistics.median(asyncio.run(run()) for _ in range(ROUNDS * 4))


def main() -> None:
    with wasmhost.Host() as host:
        key = host.start_actor(ECHO).public_key
        assert host.call(key, "Echo.Echo", PAYLOAD) == PAYLOAD
        host._native._bench_rust_calls(key, "Echo.Echo", PAYLOAD, N // 10)  # warm-up
        python_call(host, key)
        rows = {}
        # Interleave the rows round by round so background load hits all of them alike.
        rust: List[int] = []
        sync: List[int] = []
        asyn: List[int] = []
        for _ in range(ROUNDS):
            rust += host._native._bench_rust_calls(key, "Echo.Echo", PAYLOAD, N)
            sync += python_call(host, key)
            asyn += python_call_async(host, key)
        rows["rust `Host::call_actor` (baseline)"] = rust
        rows["python `call()`"] = sync
        rows["python `await call_async()` sequential"] = asyn
        base = pct(rust, 0.5)
        print(f"python {platform.python_version()} on {platform.machine()}, {ROUNDS}x{N} calls per row, payload {len(PAYLOAD)} B")
        print("| path | p50 µs | p99 µs | p50 overhead vs rust |")
        print("|---|---:|---:|---:|")
        for name, samples in rows.items():
            p50 = pct(samples, 0.5)
            print(f"| {name} | {p50:.1f} | {pct(samples, 0.99):.1f} | {p50 - base:+.1f} µs |")
        per_call = concurrent_call_async(host, key)
        print(f"| python `call_async()` x1000 concurrent (gather), time per call | {per_call:.1f} | | {1e6 / per_call:,.0f} calls/s |")


if __name__ == "__main__":
    main()
