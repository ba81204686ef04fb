"""Invocations: blocking and async, payloads, error mapping, the GIL."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

import wasmhost
from wasmhost.http import Request, Response

from conftest import ACTORS, ECHO, ECHO_KEY, PINGER, PONG, Signer


def test_echo_in_three_lines() -> None:
    with wasmhost.Host() as host:
        echo = host.start_actor(ECHO)
        reply = Response.decode(echo.call("HttpServer.HandleRequest", Request("POST", "/a/b", "x=1", body=b"hello").encode()))
    assert reply.status_code == 200
    assert reply.header == {"content-type": ["application/json"]}
    assert reply.json() == {"method": "POST", "path": "/a/b", "query_string": "x=1", "body": "hello", "body_len": 5}


@pytest.mark.parametrize("payload", [b"", b"x", bytes(range(256)) * 4096, "text ✓"])
def test_echo_returns_the_payload(host: wasmhost.Host, payload: "bytes | str") -> None:
    echo = host.start_actor(ECHO)
    expected = payload.encode() if isinstance(payload, str) else payload
    assert host.call(echo, "Echo.Echo", payload) == expected
    assert host.call(ECHO_KEY, "Echo.Echo", memoryview(expected)) == expected


def test_actor_to_actor_calls(host: wasmhost.Host) -> None:
    host.start_actor(ECHO)
    host.start_actor(PONG)
    pinger = host.start_actor(PINGER)
    assert pinger.call("Pinger.Ping", ECHO_KEY) == b'{"by_alias":"pong:ping","by_key":"ping"}'


def test_unknown_actor_is_actor_not_found_with_the_core_message(host: wasmhost.Host) -> None:
    with pytest.raises(wasmhost.ActorNotFound) as e:
        host.call("MNOTHERE", "Echo.Echo", b"")
    assert str(e.value) == "actor MNOTHERE is not running on this host"
    assert isinstance(e.value, wasmhost.WasmhostError)


def test_guest_error_and_trap_are_invocation_errors(host: wasmhost.Host, sign: Signer) -> None:
    echo = host.start_actor(ECHO)
    with pytest.raises(wasmhost.InvocationError, match="No handler registered for function Nope.Nope"):
        echo.call("Nope.Nope", b"")
    trap = host.start_actor(sign(ACTORS / "fixtures" / "trap.wasm", "Trap"))
    with pytest.raises(wasmhost.InvocationError) as e:
        trap.call("Any.Op", b"x")
    assert e.value.kind == "runtime"
    assert echo.call("Echo.Echo", b"still") == b"still"


def test_a_looping_actor_times_out_and_the_gil_stays_free(sign: Signer) -> None:
    with wasmhost.Host(invocation_timeout=0.5) as host:
        looper = host.start_actor(sign(ACTORS / "fixtures" / "loop.wasm", "Loop"))
        ticks = 0
        stop = threading.Event()

        def count() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                stop.wait(0.001)

        t = threading.Thread(target=count)
        t.start()
        with pytest.raises(wasmhost.TimeoutError) as e:
            looper.call("Loop.Forever", b"")
        stop.set()
        t.join()
    assert isinstance(e.value, TimeoutError)  # the builtin, too
    assert e.value.kind == "timeout"
    assert ticks > 0, "another Python thread ran while call() waited"


def test_payload_of_the_wrong_type_is_a_type_error(host: wasmhost.Host) -> None:
    host.start_actor(ECHO)
    with pytest.raises(TypeError):
        host.call(ECHO_KEY, "Echo.Echo", 12)  # type: ignore[arg-type]


def test_1000_concurrent_call_async(host: wasmhost.Host) -> None:
    echo = host.start_actor(ECHO, count=4)

    async def main() -> list[bytes]:
        return await asyncio.gather(*(echo.call_async("Echo.Echo", f"m{i}".encode()) for i in range(1000)))

    replies = asyncio.run(main())
    assert replies == [f"m{i}".encode() for i in range(1000)]


def test_call_async_errors_and_cancellation(host: wasmhost.Host) -> None:
    echo = host.start_actor(ECHO)

    async def main() -> None:
        with pytest.raises(wasmhost.ActorNotFound):
            await host.call_async("MNOTHERE", "Echo.Echo", b"")
        with pytest.raises(wasmhost.InvocationError):
            await echo.call_async("Nope.Nope")
        cancelled = [echo.call_async("Echo.Echo", b"c") for _ in range(50)]
        for f in cancelled:
            f.cancel()
        await asyncio.sleep(0)
        assert await echo.call_async("Echo.Echo", b"after") == b"after"

    asyncio.run(main())


def test_call_async_needs_a_running_loop(host: wasmhost.Host) -> None:
    host.start_actor(ECHO)
    with pytest.raises(RuntimeError):
        host.call_async(ECHO_KEY, "Echo.Echo", b"")


def test_blocking_calls_from_many_threads(host: wasmhost.Host) -> None:
    echo = host.start_actor(ECHO, count=2)
    results: dict[int, list[bytes]] = {}

    def worker(n: int) -> None:
        results[n] = [echo.call("Echo.Echo", f"{n}:{i}".encode()) for i in range(50)]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {n: [f"{n}:{i}".encode() for i in range(50)] for n in range(8)}
