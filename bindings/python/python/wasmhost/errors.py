"""Exceptions raised by wasmhost: one class per error kind of the core, with the core's message.

Every exception has ``kind``: the core's stable kind name (``not_found``, ``invalid_input``, ...).
"""

from __future__ import annotations

import builtins

__all__ = [
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


class WasmhostError(Exception):
    """Base class of every wasmhost error."""

    kind: str = "unknown"


class ActorNotFound(WasmhostError):
    """``not_found``: the actor, link, file or reference that was named does not exist here."""

    kind = "not_found"


class InvalidInput(WasmhostError, ValueError):
    """``invalid_input``: a malformed argument (bad wasm, bad count, bad msgpack, bad config)."""

    kind = "invalid_input"


class ClaimsError(WasmhostError):
    """``claims``: missing, expired or badly signed claims, or claims that do not match the module."""

    kind = "claims"


class PolicyDenied(WasmhostError, PermissionError):
    """``denied``: the policy, a missing capability claim or a missing link refused the operation."""

    kind = "denied"


class TimeoutError(WasmhostError, builtins.TimeoutError):  # noqa: A001 - deliberately shadows the builtin
    """``timeout``: the operation did not finish in time (also a builtin ``TimeoutError``)."""

    kind = "timeout"


class LatticeError(WasmhostError):
    """``transport``: the lattice (NATS) or a registry is unreachable or unavailable in this build."""

    kind = "transport"


class InvocationError(WasmhostError):
    """``runtime``: the actor trapped, ran out of memory or fuel, or returned a guest error."""

    kind = "runtime"


class HostStopped(WasmhostError):
    """``stopped``: the host has been stopped or is stopping."""

    kind = "stopped"


class InternalError(WasmhostError):
    """``internal``: a bug or an unexpected state inside the host."""

    kind = "internal"
