"""msgpack as the wasmCloud interfaces use it (encoded in Rust, no extra dependency).

``str`` is a msgpack string, ``bytes`` a msgpack ``bin``, ``dict`` a map, ``list``/``tuple`` an
array. ``decode`` gives the same types back and raises ``InvalidInput`` on malformed data.
"""

from __future__ import annotations

from typing import Any, Union

from . import _native

__all__ = ["encode", "decode"]


def encode(value: Any) -> bytes:
    """Encodes ``value`` (None, bool, int, float, str, bytes, list, tuple, dict)."""
    return _native.msgpack_encode(value)


def decode(data: Union[bytes, bytearray, memoryview]) -> Any:
    """Decodes exactly one msgpack value."""
    return _native.msgpack_decode(data)
