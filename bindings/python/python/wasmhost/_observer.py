"""``LatticeObserver``: a live picture of a whole lattice (hosts, actors, providers, links, claims).

Built by the core from ``wasmbus.evt`` events and heartbeats, seeded from ``ping.hosts``, every
host's inventory, ``get.links`` and ``get.claims``; it works with any 0.5x host on the lattice.
The picture and its changes are plain dicts (the README's "Lattice observer" lists the fields).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Callable, Dict, Optional, Tuple

from . import _native
from ._host import Host
from ._streams import JsonStream
from .errors import TimeoutError as WasmhostTimeoutError

Snapshot = Dict[str, Any]
Change = Dict[str, Any]


def _options(lattice: Optional[str], options: Dict[str, Any]) -> str:
    merged = dict(options)
    if lattice is not None:
        merged["lattice"] = lattice
    return json.dumps(merged)


class Changes(JsonStream[Change]):
    """The changes of a picture, read with ``for``, ``async for`` or ``get(timeout)``.

    Each change is a dict with ``seq``, ``kind`` (``host_added``, ``actor_scaled``, ``link_set``,
    ...) and what changed. It ends when its observer is dropped.
    """

    def __init__(self, native: _native.ChangeStream) -> None:
        super().__init__(native)

    def _parse(self, text: str) -> Change:
        change: Change = json.loads(text)
        return change


class LatticeObserver:
    """Watches a lattice. ``LatticeObserver.connect(url)`` over NATS (blocking until the picture is
    seeded, about ``ping_timeout_ms``; ``await LatticeObserver.connect_async(url)`` in asyncio),
    ``LatticeObserver.from_host(host)`` for the lattice a host is in (embedded or NATS).

    Options (keyword arguments, all optional): ``ctl_topic_prefix``, ``missed_heartbeats`` (3),
    ``heartbeat_interval_ms``, ``min_heartbeat_interval_ms``, ``ping_timeout_ms``,
    ``request_timeout_ms``. Unknown options raise ``InvalidInput``.
    """

    def __init__(self, native: _native.LatticeObserver) -> None:
        self._native = native

    @classmethod
    def connect(cls, nats_url: str, lattice: Optional[str] = None, **options: Any) -> "LatticeObserver":
        """Observes the lattice ``lattice`` ("default") on the NATS servers of ``nats_url``."""
        return cls(_native.LatticeObserver.connect(nats_url, _options(lattice, options)))

    @classmethod
    async def connect_async(cls, nats_url: str, lattice: Optional[str] = None, **options: Any) -> "LatticeObserver":
        """``connect`` without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(
            None, lambda: cls.connect(nats_url, lattice, **options)
        )

    @classmethod
    def from_host(cls, host: Host, **options: Any) -> "LatticeObserver":
        """Observes the lattice ``host`` is in: every host of it over the host's NATS settings
        when it joined one, the host alone when its lattice is embedded."""
        return cls(_native.LatticeObserver.from_host(host._native, _options(None, options)))

    @property
    def lattice(self) -> str:
        return self._native.lattice

    def snapshot(self) -> Snapshot:
        """The picture now: ``{"lattice", "seq", "hosts": [...], "links": [...], "claims": [...]}``."""
        snapshot: Snapshot = json.loads(self._native.snapshot_json())
        return snapshot

    def watch(self) -> Tuple[Snapshot, Changes]:
        """The picture now and every change after it (changes with ``seq`` above the snapshot's)."""
        text, native = self._native.watch()
        return json.loads(text), Changes(native)

    def changes(self) -> Changes:
        """Every change from now on."""
        return self.watch()[1]

    def wait_for(self, predicate: Callable[[Snapshot], bool], timeout: float = 10.0) -> Snapshot:
        """Blocks until ``predicate(snapshot)`` holds and returns that snapshot; raises
        ``wasmhost.TimeoutError`` after ``timeout`` seconds."""
        snapshot, changes = self.watch()
        deadline = time.monotonic() + timeout
        while not predicate(snapshot):
            left = deadline - time.monotonic()
            if left <= 0 or changes.get(timeout=left) is None:
                raise WasmhostTimeoutError("the lattice did not reach the awaited state in time")
            snapshot = self.snapshot()
        return snapshot

    def __repr__(self) -> str:
        return f"LatticeObserver(lattice={self.lattice!r})"
