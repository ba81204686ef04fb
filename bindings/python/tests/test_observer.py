"""``wasmhost.LatticeObserver``: the core's picture of a lattice, over an embedded host and over a
real nats-server with two hosts; its changes read blocking and with ``async for``."""

from __future__ import annotations

import asyncio
from typing import Any, Dict

import pytest

import wasmhost

from conftest import ECHO, ECHO_KEY
from test_lattice import lattice_host, nats_url  # noqa: F401  (the nats_url fixture)

PROVIDER = "VAG3QITQQ2ODAOWB5TTQSDJ53XK3SHBEIFNK4AYJ5RKAX2UNSCAPHA5M"


def actor_instances(snapshot: Dict[str, Any], host_id: str, key: str) -> int:
    for host in snapshot["hosts"]:
        if host["id"] == host_id:
            for actor in host["actors"]:
                if actor["public_key"] == key:
                    return len(actor["instances"])
    return 0


def test_an_embedded_host_is_observed_with_its_actors_links_and_claims(host: wasmhost.Host) -> None:
    observer = wasmhost.LatticeObserver.from_host(host)
    assert observer.lattice == host.lattice
    snapshot, changes = observer.watch()
    assert [h["id"] for h in snapshot["hosts"]] == [host.id]
    host.start_actor(ECHO, count=2)
    host.put_link(ECHO_KEY, PROVIDER, "wasmcloud:httpserver", values={"PORT": "8080"})
    kinds = set()
    while not {"actor_added", "link_set"} <= kinds:
        change = changes.get(timeout=10)
        assert change is not None and change["seq"] > snapshot["seq"], change
        kinds.add(change["kind"])
    now = observer.wait_for(lambda s: actor_instances(s, host.id, ECHO_KEY) == 2)
    assert [(l["actor_id"], l["provider_id"]) for l in now["links"]] == [(ECHO_KEY, PROVIDER)]
    assert ECHO_KEY in [c["public_key"] for c in now["claims"]]


def test_bad_options_are_refused_by_name(host: wasmhost.Host) -> None:
    with pytest.raises(wasmhost.InvalidInput, match="no_such_option"):
        wasmhost.LatticeObserver.from_host(host, no_such_option=1)
    with pytest.raises(wasmhost.LatticeError):
        wasmhost.LatticeObserver.connect("nats://127.0.0.1:1", ping_timeout_ms=200)


def test_an_observer_over_nats_sees_every_host_and_follows_changes_with_async_for(nats_url: str) -> None:  # noqa: F811
    with lattice_host(nats_url, "pyobs") as a, lattice_host(nats_url, "pyobs") as b:
        observer = wasmhost.LatticeObserver.connect(nats_url, "pyobs", ping_timeout_ms=500)
        seeded = observer.wait_for(lambda s: {a.id, b.id} <= {h["id"] for h in s["hosts"]})
        assert seeded["lattice"] == "pyobs"

        async def follow() -> Dict[str, Any]:
            changes = observer.changes()
            b.start_actor(ECHO)
            async for change in changes:
                if change["kind"] == "actor_added" and change["host_id"] == b.id:
                    return change
            raise AssertionError("the change stream ended")

        added = asyncio.run(asyncio.wait_for(follow(), 20))
        assert added["actor"]["public_key"] == ECHO_KEY
        gone = observer.changes()
        a_id = a.id
        a.stop()
        while True:
            change = gone.get(timeout=20)
            assert change is not None
            if change["kind"] == "host_removed" and change["host_id"] == a_id:
                break
        assert a_id not in {h["id"] for h in observer.snapshot()["hosts"]}
        assert actor_instances(observer.snapshot(), b.id, ECHO_KEY) == 1
