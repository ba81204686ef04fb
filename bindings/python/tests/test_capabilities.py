"""Python functions answering actors' host calls: sync, async, raising, from many threads."""

from __future__ import annotations

import asyncio
import threading
from typing import Dict, Set

import pytest

import wasmhost
from wasmhost import msgpack
from wasmhost.http import Request, Response

from conftest import ECHO, KVCOUNTER, KVCOUNTER_KEY

KV = "wasmcloud:keyvalue"


def get(host: wasmhost.Host, path: str = "/") -> Response:
    return Response.decode(host.call(KVCOUNTER_KEY, "HttpServer.HandleRequest", Request("GET", path).encode()))


class DictKeyValue:
    """`KeyValue.Increment` over a dict, recording which threads served the calls."""

    def __init__(self) -> None:
        self.store: Dict[str, int] = {}
        self.lock = threading.Lock()
        self.threads: Set[int] = set()
        self.calls: list[wasmhost.CapabilityCall] = []

    def __call__(self, call: wasmhost.CapabilityCall) -> bytes:
        assert call.operation == "KeyValue.Increment"
        args = msgpack.decode(call.payload)
        with self.lock:
            self.threads.add(threading.get_ident())
            self.calls.append(call)
            self.store[args["key"]] = self.store.get(args["key"], 0) + args["value"]
            return msgpack.encode(self.store[args["key"]])


def test_sync_handler_answers_kvcounter(host: wasmhost.Host) -> None:
    kv = DictKeyValue()
    host.register_capability(KV, kv)
    host.start_actor(KVCOUNTER)
    assert [get(host).json() for _ in range(3)] == [{"counter": 1}, {"counter": 2}, {"counter": 3}]
    assert get(host, "/a/b").json() == {"counter": 1}
    assert kv.store == {"counter": 3, "counter:a:b": 1}
    call = kv.calls[0]
    assert (call.actor_id, call.contract_id, call.link_name, call.operation) == (KVCOUNTER_KEY, KV, "default", "KeyValue.Increment")
    assert "KeyValue.Increment" in repr(call)


def test_async_handler_runs_on_the_registering_loop(host: wasmhost.Host) -> None:
    loops = []

    async def handler(call: wasmhost.CapabilityCall) -> bytes:
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0.001)
        return msgpack.encode(41 + msgpack.decode(call.payload)["value"])

    async def main() -> list[bytes]:
        host.register_capability(KV, handler)
        await host.start_actor_async(KVCOUNTER)
        request = Request("GET", "/").encode()
        return await asyncio.gather(*(host.call_async(KVCOUNTER_KEY, "HttpServer.HandleRequest", request) for _ in range(20)))

    replies = asyncio.run(main())
    assert {Response.decode(r).text for r in replies} == {'{"counter":42}'}
    assert len(set(map(id, loops))) == 1


def test_async_handler_without_a_running_loop(host: wasmhost.Host) -> None:
    async def handler(call: wasmhost.CapabilityCall) -> bytes:
        await asyncio.sleep(0)
        return msgpack.encode(7)

    host.register_capability(KV, handler)
    host.start_actor(KVCOUNTER)
    assert get(host).json() == {"counter": 7}


def test_a_raising_handler_reaches_the_actor_as_a_host_error(host: wasmhost.Host) -> None:
    def handler(call: wasmhost.CapabilityCall) -> bytes:
        raise ValueError("boom from Python")

    host.register_capability(KV, handler)
    host.start_actor(KVCOUNTER)
    for _ in range(3):
        reply = get(host)
        assert reply.status_code == 500
        assert reply.json() == {"error": "ValueError: boom from Python"}
    host.register_capability(KV, lambda call: msgpack.encode(5))
    assert get(host).json() == {"counter": 5}


def test_a_handler_returning_no_bytes_is_a_host_error(host: wasmhost.Host) -> None:
    host.register_capability(KV, lambda call: 5)  # type: ignore[arg-type,return-value]
    host.start_actor(KVCOUNTER)
    reply = get(host)
    assert reply.status_code == 500
    assert "must return bytes, not int" in reply.json()["error"]


def test_unregister_and_link_names(host: wasmhost.Host) -> None:
    host.start_actor(KVCOUNTER)
    host.register_capability(KV, lambda call: msgpack.encode(1), link_name="other")
    assert get(host).status_code == 500, "kvcounter uses link `default`, which has no handler"
    host.register_capability(KV, lambda call: msgpack.encode(2))
    assert get(host).json() == {"counter": 2}
    assert host.unregister_capability(KV) is True
    assert host.unregister_capability(KV) is False
    assert get(host).status_code == 500


def test_callbacks_from_many_threads(host: wasmhost.Host) -> None:
    kv = DictKeyValue()
    host.register_capability(KV, kv)
    host.start_actor(KVCOUNTER, count=4)
    seen: list[int] = []
    seen_lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            n = get(host).json()["counter"]
            with seen_lock:
                seen.append(n)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == list(range(1, 201)), "every increment happened exactly once"
    assert threading.get_ident() not in kv.threads, "handlers run on host threads"


def test_a_handler_may_call_back_into_the_host(host: wasmhost.Host) -> None:
    echo = host.start_actor(ECHO)

    def handler(call: wasmhost.CapabilityCall) -> bytes:
        return msgpack.encode(len(echo.call("Echo.Echo", b"12345")))

    host.register_capability(KV, handler)
    host.start_actor(KVCOUNTER)
    assert get(host).json() == {"counter": 5}


def test_a_handler_that_hangs_times_the_invocation_out_and_the_host_keeps_serving() -> None:
    release = threading.Event()

    def handler(call: wasmhost.CapabilityCall) -> bytes:
        if not release.is_set():
            release.wait(10)
        return msgpack.encode(1)

    with wasmhost.Host(invocation_timeout=0.3) as host:
        host.register_capability(KV, handler)
        host.start_actor(KVCOUNTER)
        with pytest.raises(wasmhost.TimeoutError, match="invocation timeout"):
            get(host)
        release.set()
        assert get(host).json() == {"counter": 1}


def test_contract_id_must_not_be_empty(host: wasmhost.Host) -> None:
    with pytest.raises(wasmhost.InvalidInput):
        host.register_capability("", lambda call: b"")


def test_1000_concurrent_call_async_through_a_python_handler() -> None:
    # Every call waits for a host call into Python, so each one takes the runtime path back to the loop.
    kv = DictKeyValue()
    with wasmhost.Host(invocation_timeout=120.0) as host:
        host.register_capability(KV, kv)
        host.start_actor(KVCOUNTER, count=4)
        request = Request("GET", "/").encode()

        async def main() -> list[bytes]:
            return await asyncio.gather(*(host.call_async(KVCOUNTER_KEY, "HttpServer.HandleRequest", request) for _ in range(1000)))

        replies = asyncio.run(main())
    assert sorted(Response.decode(r).json()["counter"] for r in replies) == list(range(1, 1001))
