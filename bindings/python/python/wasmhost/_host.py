"""The embedding surface: ``Host``, ``Actor`` and ``Provider``."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from types import TracebackType
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Type, Union

from . import _native
from ._callbacks import adapt, as_bytes
from ._streams import JsonStream
from ._types import ActorInstance, Claims, Event, Link, PolicyRequest
from .errors import HostStopped

#: Where an actor comes from: the module bytes, a file path, or an OCI reference.
ActorSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]
#: Where a capability provider comes from: the archive (``.par.gz``) bytes, a file path, or an OCI reference.
ProviderSource = ActorSource
#: A payload: bytes-like, or ``str`` (sent as UTF-8).
Payload = Union[bytes, bytearray, memoryview, str]
#: A capability handler: ``(call) -> bytes``, sync or ``async``.
CapabilityHandler = Callable[[_native.CapabilityCall], Union[bytes, Awaitable[bytes]]]
#: A policy: ``(request) -> True/None`` permits, ``False`` or a reason string denies; sync or ``async``.
PolicyCallback = Callable[[PolicyRequest], Union[bool, str, None, Awaitable[Union[bool, str, None]]]]

_log = logging.getLogger("wasmhost")


def _payload(payload: Payload) -> Union[bytes, bytearray, memoryview]:
    return payload.encode() if isinstance(payload, str) else payload


def _source(source: ActorSource) -> Union[bytes, bytearray, memoryview, str]:
    if isinstance(source, (bytes, bytearray, memoryview, str)):
        return source
    return os.fspath(source)


def _actor_key(actor: Union["Actor", str]) -> str:
    return actor.public_key if isinstance(actor, Actor) else actor


class Actor:
    """A running actor: its identity, its claims and its instances (as of the last refresh)."""

    def __init__(self, host: "Host", info: Mapping[str, Any]) -> None:
        self._host = host
        self._update(info)

    def _update(self, info: Mapping[str, Any]) -> None:
        self.public_key: str = info["public_key"]
        self.image_ref: str = info["image_ref"]
        self.api_version: int = info["api_version"]
        self.claims: Claims = Claims._from_native(info["claims"])
        self.instances: List[ActorInstance] = [ActorInstance(i["instance_id"], dict(i["annotations"])) for i in info["instances"]]

    @property
    def name(self) -> Optional[str]:
        """The name from the claims."""
        return self.claims.name

    def refresh(self) -> "Actor":
        """Reloads the instances and claims from the host; raises ``ActorNotFound`` once stopped."""
        self._update(self._host._native.actor(self.public_key))
        return self

    def scale(self, count: int, annotations: Optional[Mapping[str, str]] = None) -> "Actor":
        """Sets the number of running instances (0 stops the actor)."""
        info = self._host._native.scale_actor(self.public_key, count, dict(annotations) if annotations else None)
        self._update(info)
        return self

    def stop(self, count: int = 0, annotations: Optional[Mapping[str, str]] = None) -> None:
        """Stops ``count`` instances (0 = all) whose annotations include ``annotations``."""
        self._host._native.stop_actor(self.public_key, count, dict(annotations) if annotations else None)

    def update(self, source: ActorSource) -> "Actor":
        """Replaces the module with a newer revision of the same actor."""
        self._update(self._host._native.update_actor(self.public_key, _source(source)))
        return self

    def call(self, operation: str, payload: Payload = b"") -> bytes:
        """Invokes ``operation`` and returns the reply (blocking, GIL released)."""
        return self._host.call(self.public_key, operation, payload)

    def call_async(self, operation: str, payload: Payload = b"") -> "asyncio.Future[bytes]":
        """Like ``call``, as an awaitable of the running event loop."""
        return self._host.call_async(self.public_key, operation, payload)

    def __repr__(self) -> str:
        return f"Actor(public_key={self.public_key!r}, name={self.name!r}, instances={len(self.instances)})"


class Provider:
    """A capability provider running on this host as a child process (as of when it was listed)."""

    def __init__(self, host: "Host", info: Mapping[str, Any]) -> None:
        self._host = host
        self.public_key: str = info["public_key"]
        self.link_name: str = info["link_name"]
        self.contract_id: str = info["contract_id"]
        self.image_ref: str = info["image_ref"]
        self.annotations: Dict[str, str] = dict(info["annotations"])
        self.name: Optional[str] = info["name"]
        self.vendor: Optional[str] = info["vendor"]
        self.revision: Optional[int] = info["revision"]
        self.version: Optional[str] = info["version"]
        self.issuer: str = info["issuer"]
        self.instance_id: str = info["instance_id"]
        #: The OS process id; ``None`` while the provider is being restarted.
        self.pid: Optional[int] = info["pid"]
        #: The last health check's verdict (``False`` until the first one answered).
        self.healthy: bool = info["healthy"]
        #: Restarts after unexpected exits so far.
        self.restarts: int = info["restarts"]

    def stop(self) -> None:
        """Stops the provider (shutdown request, grace period, then its process group is killed)."""
        self._host._native.stop_provider(self.public_key, self.link_name)

    def __repr__(self) -> str:
        return f"Provider(public_key={self.public_key!r}, link_name={self.link_name!r}, contract_id={self.contract_id!r}, pid={self.pid})"


class Events(JsonStream[Event]):
    """A stream of lattice events, read with ``for``, ``async for`` or ``get(timeout)``.

    It starts with the first event published after it was created and ends when the host stops.
    """

    def __init__(self, native: _native.EventStream) -> None:
        super().__init__(native)

    def _parse(self, text: str) -> Event:
        return Event._from_json(text)


class Host:
    """An embedded wasmhost: runs actors, answers their capability calls, publishes events.

    ``Host()`` runs an embedded lattice of one host in this process, no server needed.
    ``nats_url=`` (a URL, a comma list or a list of URLs, tried in order; or ``from_env=True`` with
    ``WASMCLOUD_*`` variables, which also carry credentials and TLS) joins a NATS lattice. Use it as ``with Host() as host:`` or
    ``async with Host() as host:``; a host that is garbage-collected without ``stop()`` stops in
    the background.
    """

    def __init__(
        self,
        *,
        lattice: Optional[str] = None,
        nats_url: Optional[Union[str, List[str]]] = None,
        host_seed: Optional[str] = None,
        cluster_seed: Optional[str] = None,
        cluster_issuers: Optional[List[str]] = None,
        labels: Optional[Mapping[str, str]] = None,
        friendly_name: Optional[str] = None,
        invocation_timeout: Optional[float] = None,
        rpc_timeout: Optional[float] = None,
        heartbeat_interval: Optional[float] = None,
        max_instance_memory: Optional[int] = None,
        max_instances: Optional[int] = None,
        max_payload: Optional[int] = None,
        enable_invocation_events: Optional[bool] = None,
        oci_allow_latest: Optional[bool] = None,
        oci_allowed_insecure: Optional[List[str]] = None,
        from_env: bool = False,
    ) -> None:
        _native.set_log_level(_log.getEffectiveLevel())
        self._native = _native.Host(
            lattice=lattice,
            nats_url=nats_url,
            host_seed=host_seed,
            cluster_seed=cluster_seed,
            cluster_issuers=cluster_issuers,
            labels=dict(labels) if labels else None,
            friendly_name=friendly_name,
            invocation_timeout=invocation_timeout,
            rpc_timeout=rpc_timeout,
            heartbeat_interval=heartbeat_interval,
            max_instance_memory=max_instance_memory,
            max_instances=max_instances,
            max_payload=max_payload,
            enable_invocation_events=enable_invocation_events,
            oci_allow_latest=oci_allow_latest,
            oci_allowed_insecure=oci_allowed_insecure,
            from_env=from_env,
        )

    # -- identity ---------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The host's public key (N...)."""
        return self._native.id

    @property
    def lattice(self) -> str:
        """The lattice id."""
        return self._native.lattice

    @property
    def cluster_key(self) -> str:
        """The cluster public key (C...) that signs this host's invocations."""
        return self._native.cluster_key

    @property
    def friendly_name(self) -> str:
        """The name for humans."""
        return self._native.friendly_name

    @property
    def labels(self) -> Dict[str, str]:
        """Host labels, ``hostcore.*`` included."""
        return self._native.labels

    @property
    def uptime(self) -> float:
        """Seconds since start."""
        return self._native.uptime

    @property
    def is_stopped(self) -> bool:
        """Whether the host has been stopped."""
        return self._native.is_stopped

    # -- lifecycle --------------------------------------------------------------------------
    def stop(self) -> None:
        """Stops every actor, publishes ``host_stopped`` and ends event streams. Raises
        ``HostStopped`` when already stopped."""
        self._native.stop()

    async def stop_async(self) -> None:
        """``stop()`` without blocking the event loop."""
        await asyncio.get_running_loop().run_in_executor(None, self._native.stop)

    def __enter__(self) -> "Host":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        if not self.is_stopped:
            try:
                self.stop()
            except HostStopped:
                pass  # stopped concurrently

    async def __aenter__(self) -> "Host":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        if not self.is_stopped:
            try:
                await self.stop_async()
            except HostStopped:
                pass

    # -- actors -----------------------------------------------------------------------------
    def start_actor(self, source: ActorSource, count: int = 1, annotations: Optional[Mapping[str, str]] = None) -> Actor:
        """Starts ``count`` instances of a signed actor from bytes, a file path or an OCI reference."""
        info = self._native.start_actor(_source(source), count, dict(annotations) if annotations else None)
        return Actor(self, info)

    async def start_actor_async(self, source: ActorSource, count: int = 1, annotations: Optional[Mapping[str, str]] = None) -> Actor:
        """``start_actor`` without blocking the event loop (compiling a module takes a moment)."""
        return await asyncio.get_running_loop().run_in_executor(None, self.start_actor, source, count, annotations)

    def actor(self, actor: str) -> Actor:
        """A running actor by public key or call alias; ``ActorNotFound`` otherwise."""
        return Actor(self, self._native.actor(actor))

    def actors(self) -> List[Actor]:
        """The running actors, sorted by public key."""
        return [Actor(self, info) for info in self._native.actors()]

    # -- providers --------------------------------------------------------------------------
    def start_provider(self, source: ProviderSource, link_name: str = "default", config: Optional[str] = None,
                       annotations: Optional[Mapping[str, str]] = None) -> Provider:
        """Starts a capability provider from a provider archive (bytes, a path or an OCI reference)
        serving ``link_name``; ``config`` (text, usually JSON) reaches the provider unchanged. Returns
        once its process runs. Providers join the lattice over NATS: an embedded host (no
        ``nats_url``) raises ``InvalidInput``."""
        info = self._native.start_provider(_source(source), link_name, config, dict(annotations) if annotations else None)
        return Provider(self, info)

    def stop_provider(self, provider: Union[Provider, str], link_name: str = "default") -> None:
        """Stops a provider (``Provider`` or public key) serving ``link_name``; ``ActorNotFound``
        (the not-found error) when it does not run here."""
        if isinstance(provider, Provider):
            self._native.stop_provider(provider.public_key, provider.link_name)
        else:
            self._native.stop_provider(provider, link_name)

    def providers(self) -> List[Provider]:
        """The running providers, sorted by public key and link name."""
        return [Provider(self, info) for info in self._native.providers()]

    def claims(self) -> List[Claims]:
        """Claims of every actor this host has seen."""
        return [Claims._from_native(c) for c in self._native.claims()]

    def inventory(self) -> Dict[str, Any]:
        """The inventory as the control interface reports it (``host_id``, ``labels``, ``actors`` ...)."""
        result: Dict[str, Any] = json.loads(self._native.inventory_json())
        return result

    # -- calls ------------------------------------------------------------------------------
    def call(self, actor: Union[Actor, str], operation: str, payload: Payload = b"") -> bytes:
        """Invokes ``operation`` on an actor (key, call alias or ``Actor``) and returns the reply.
        Blocks the calling thread only; the GIL is released while the actor runs."""
        return self._native.call(_actor_key(actor), operation, _payload(payload))

    def call_async(self, actor: Union[Actor, str], operation: str, payload: Payload = b"") -> "asyncio.Future[bytes]":
        """Like ``call``, returning a future of the running event loop (must be called from it).

        The call starts right here (GIL released) and a call that completes at once resolves the
        future immediately; a call still running continues on the host's threads.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        self._native.call_async(_actor_key(actor), operation, _payload(payload), loop, future)
        return future

    # -- events -----------------------------------------------------------------------------
    def events(self) -> Events:
        """A new event stream (iterate it with ``for`` or ``async for``)."""
        return Events(self._native.events())

    def lattice_events(self) -> Events:
        """A new stream of every host's events in the lattice (``wasmbus.evt.{lattice}``), this
        host's included (``event.source`` is the publishing host's id); with the embedded lattice,
        the same as ``events()``. It ends when this host stops."""
        return Events(self._native.lattice_events())

    def on_event(self, callback: Callable[[Event], Any]) -> _native.Subscription:
        """Calls ``callback(event)`` for each event, in order, on a host thread; ``async`` callbacks
        run on the loop that was running here. Exceptions are logged. ``close()`` the result to stop."""
        run = adapt(callback)

        def deliver(text: str) -> None:
            try:
                run(Event._from_json(text))
            except Exception:
                _log.exception("an on_event callback raised")

        return self._native.on_event(deliver)

    # -- capabilities and policy ------------------------------------------------------------
    def register_capability(self, contract_id: str, handler: CapabilityHandler, link_name: str = "default") -> None:
        """Answers actors' host calls to ``contract_id``/``link_name`` with ``handler(call) -> bytes``.

        ``call`` has ``actor_id``, ``contract_id``, ``link_name``, ``operation`` and ``payload``.
        The handler runs on a host worker thread (``async`` handlers on the loop that was running
        when it was registered, else on a fresh loop). An exception reaches the actor as a host error
        ``"<Type>: <message>"``; a handler slower than the invocation timeout is abandoned.
        An ``async`` handler needs its loop free: a blocking ``call()`` made on that loop's thread
        waits for the handler, which waits for the loop, until the invocation timeout; use
        ``call_async`` there.
        """
        run = adapt(handler)

        def answer(call: _native.CapabilityCall) -> bytes:
            return as_bytes(run(call))

        self._native.register_capability(contract_id, link_name, answer)

    def unregister_capability(self, contract_id: str, link_name: str = "default") -> bool:
        """Removes a handler; returns whether one was registered."""
        return self._native.unregister_capability(contract_id, link_name)

    def set_policy(self, policy: Optional[PolicyCallback]) -> None:
        """Installs ``policy(request)`` to approve actor starts and invocations (``None`` removes it).

        ``True``/``None`` permits; ``False`` or a reason string denies (``PolicyDenied``). A policy
        that raises denies with the exception's text.
        """
        if policy is None:
            self._native.set_policy(None)
            return
        run = adapt(policy)

        def decide(request: Mapping[str, Any]) -> Optional[str]:
            verdict = run(PolicyRequest._from_native(request))
            if verdict is None or verdict is True:
                return None
            if verdict is False:
                return "denied by the Python policy"
            return str(verdict)

        self._native.set_policy(decide)

    # -- links ------------------------------------------------------------------------------
    def put_link(self, actor_id: Union[Actor, str], provider_id: str, contract_id: str, link_name: str = "default",
                 values: Optional[Mapping[str, str]] = None) -> None:
        """Puts a link definition (replacing the one for the same actor, contract and link name)."""
        self._native.put_link(_actor_key(actor_id), provider_id, contract_id, link_name, dict(values) if values else None)

    def delete_link(self, actor_id: Union[Actor, str], contract_id: str, link_name: str = "default") -> bool:
        """Deletes a link; returns whether it existed."""
        return self._native.delete_link(_actor_key(actor_id), contract_id, link_name)

    def links(self) -> List[Link]:
        """Every link definition."""
        return [Link(l["actor_id"], l["provider_id"], l["contract_id"], l["link_name"], dict(l["values"])) for l in self._native.links()]

    def __repr__(self) -> str:
        state = "stopped" if self.is_stopped else "running"
        return f"Host(id={self.id!r}, lattice={self.lattice!r}, {state})"
