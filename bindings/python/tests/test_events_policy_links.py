"""Events (iterators and callbacks), the policy callback and link definitions."""

from __future__ import annotations

import asyncio
import threading
from typing import List

import pytest

import wasmhost

from conftest import ECHO, ECHO_KEY, KVCOUNTER

# The host publishes a heartbeat at start and then periodically; these tests look at the others.
HEARTBEAT = "host_heartbeat"


def next_event(events: wasmhost.Events) -> wasmhost.Event:
    while True:
        event = events.get(timeout=30)
        assert event is not None, "the stream ended early"
        if event.kind != HEARTBEAT:
            return event


def test_events_iterate_until_the_host_stops() -> None:
    host = wasmhost.Host()
    events = host.events()
    host.start_actor(ECHO, count=2)
    host.stop()
    seen = [e for e in events if e.kind != HEARTBEAT]
    assert [e.kind for e in seen] == ["actor_started", "actor_started", "actor_stopped", "actor_stopped", "host_stopped"]
    started = seen[0]
    assert started.type == "com.wasmcloud.lattice.actor_started"
    assert started.source == host.id
    assert started.data["public_key"] == ECHO_KEY
    assert started.data["claims"]["name"] == "Echo"


def test_get_with_timeout(host: wasmhost.Host) -> None:
    events = host.events()
    with pytest.raises(wasmhost.TimeoutError):
        while True:  # a start-up heartbeat may come first
            assert events.get(timeout=0.05) is not None
    host.start_actor(ECHO)
    assert next_event(events).kind == "actor_started"


def test_async_iteration() -> None:
    async def main() -> List[str]:
        kinds = []
        async with wasmhost.Host() as host:
            events = host.events()
            await host.start_actor_async(ECHO)
            async for event in events:
                if event.kind == HEARTBEAT:
                    continue
                kinds.append(event.kind)
                if event.kind == "actor_started":
                    await host.stop_async()
        return kinds

    assert asyncio.run(main()) == ["actor_started", "actor_stopped", "host_stopped"]


def test_on_event_callback_and_close(host: wasmhost.Host) -> None:
    got: List[wasmhost.Event] = []
    threads = set()
    cond = threading.Condition()

    def on_event(event: wasmhost.Event) -> None:
        if event.kind == HEARTBEAT:
            return
        with cond:
            got.append(event)
            threads.add(threading.get_ident())
            cond.notify_all()

    sub = host.on_event(on_event)
    host.start_actor(ECHO, count=3)
    with cond:
        assert cond.wait_for(lambda: len(got) >= 3, timeout=30)
    assert [e.kind for e in got] == ["actor_started"] * 3
    assert threading.get_ident() not in threads
    sub.close()
    probe = host.events()
    host.put_link(ECHO_KEY, "VPROVIDER", "wasmcloud:test")
    assert next_event(probe).kind == "linkdef_set"  # the link event was published ...
    with cond:
        assert len(got) == 3  # ... and the closed subscription did not deliver it


def test_a_raising_event_callback_is_logged_and_delivery_continues(host: wasmhost.Host, caplog: pytest.LogCaptureFixture) -> None:
    got: List[str] = []
    done = threading.Event()

    def on_event(event: wasmhost.Event) -> None:
        if event.kind == HEARTBEAT:
            return
        got.append(event.kind)
        if len(got) == 1:
            raise RuntimeError("callback failed")
        done.set()

    host.on_event(on_event)
    host.start_actor(ECHO, count=2)
    assert done.wait(30)
    assert got == ["actor_started", "actor_started"]
    assert any("on_event callback raised" in r.message for r in caplog.records)


def test_async_on_event_callback_runs_on_the_loop() -> None:
    async def main() -> List[str]:
        kinds: List[str] = []
        done = asyncio.Event()

        async def on_event(event: wasmhost.Event) -> None:
            if event.kind == HEARTBEAT:
                return
            kinds.append(event.kind)
            done.set()

        async with wasmhost.Host() as host:
            host.on_event(on_event)
            await host.start_actor_async(ECHO)
            await asyncio.wait_for(done.wait(), 30)
        return kinds

    assert asyncio.run(main())[0] == "actor_started"


def test_policy_denies_starts_and_invocations(host: wasmhost.Host) -> None:
    requests: List[wasmhost.PolicyRequest] = []

    def policy(request: wasmhost.PolicyRequest) -> "bool | str":
        requests.append(request)
        if request.kind == "start_actor" and request.public_key != ECHO_KEY:
            return "only echo may run here"
        if request.kind == "invoke" and request.operation == "Echo.Forbidden":
            return False
        return True

    host.set_policy(policy)
    with pytest.raises(wasmhost.PolicyDenied, match="only echo may run here") as e:
        host.start_actor(KVCOUNTER)
    assert e.value.kind == "denied" and isinstance(e.value, PermissionError)
    echo = host.start_actor(ECHO)
    assert echo.call("Echo.Echo", b"ok") == b"ok"
    with pytest.raises(wasmhost.PolicyDenied, match="denied by the Python policy"):
        echo.call("Echo.Forbidden", b"")
    start = next(r for r in requests if r.kind == "start_actor" and r.public_key == ECHO_KEY)
    assert start.capabilities == ("wasmcloud:httpserver",) and start.image_ref == f"file://{ECHO}"
    invoke = next(r for r in requests if r.kind == "invoke")
    assert invoke.target == ECHO_KEY and invoke.operation == "Echo.Echo"
    host.set_policy(None)
    host.start_actor(KVCOUNTER)


def test_a_raising_or_async_policy(host: wasmhost.Host) -> None:
    def raising(request: wasmhost.PolicyRequest) -> bool:
        raise KeyError("no rule")

    host.set_policy(raising)
    with pytest.raises(wasmhost.PolicyDenied, match="no rule"):
        host.start_actor(ECHO)

    async def deny_all(request: wasmhost.PolicyRequest) -> str:
        await asyncio.sleep(0)
        return "async says no"

    host.set_policy(deny_all)
    with pytest.raises(wasmhost.PolicyDenied, match="async says no"):
        host.start_actor(ECHO)


def test_links_put_list_delete(host: wasmhost.Host) -> None:
    events = host.events()
    host.put_link(ECHO_KEY, "VPROV", "wasmcloud:keyvalue", values={"url": "redis://x"})
    host.put_link(ECHO_KEY, "VPROV2", "wasmcloud:keyvalue", link_name="backup")
    links = sorted(host.links(), key=lambda l: l.link_name)
    assert links == [
        wasmhost.Link(ECHO_KEY, "VPROV2", "wasmcloud:keyvalue", "backup", {}),
        wasmhost.Link(ECHO_KEY, "VPROV", "wasmcloud:keyvalue", "default", {"url": "redis://x"}),
    ]
    assert host.delete_link(ECHO_KEY, "wasmcloud:keyvalue") is True
    assert host.delete_link(ECHO_KEY, "wasmcloud:keyvalue") is False
    assert [l.link_name for l in host.links()] == ["backup"]
    assert [next_event(events).kind for _ in range(3)] == ["linkdef_set", "linkdef_set", "linkdef_deleted"]
    with pytest.raises(wasmhost.InvalidInput, match="provider_id"):
        host.put_link(ECHO_KEY, "", "wasmcloud:keyvalue")
