"""wasmhost: an embeddable wasmCloud-compatible host for WebAssembly actors.

    import wasmhost
    with wasmhost.Host() as host:
        echo = host.start_actor("examples/actors/echo.wasm")
        print(echo.call("Echo.Echo", b"hello"))
"""

from __future__ import annotations

import atexit

from . import _native, http, msgpack
from ._host import Actor, ActorSource, CapabilityHandler, Events, Host, Payload, PolicyCallback, Provider, ProviderSource
from ._native import VERSION as __version__
from ._native import CapabilityCall, Subscription, flush_logs
from ._observer import Changes, LatticeObserver
from ._types import ActorInstance, Claims, Event, Link, PolicyRequest
from .errors import (
    ActorNotFound,
    ClaimsError,
    HostStopped,
    InternalError,
    InvalidInput,
    InvocationError,
    LatticeError,
    PolicyDenied,
    TimeoutError,
    WasmhostError,
)

# Host threads must not enter Python once the interpreter starts finalizing.
atexit.register(_native.python_exiting)

__all__ = [
    "__version__",
    "Host",
    "Actor",
    "ActorInstance",
    "ActorSource",
    "CapabilityCall",
    "CapabilityHandler",
    "Claims",
    "Event",
    "Events",
    "Changes",
    "LatticeObserver",
    "Link",
    "Payload",
    "PolicyCallback",
    "PolicyRequest",
    "Provider",
    "ProviderSource",
    "Subscription",
    "flush_logs",
    "http",
    "msgpack",
    "WasmhostError",
    "ActorNotFound",
    "InvalidInput",
    "ClaimsError",
    "PolicyDenied",
    "TimeoutError",
    "LatticeError",
    "InvocationError",
    "HostStopped",
    "InternalError",
]
