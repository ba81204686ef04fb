"""``wasmcloud:httpserver`` wire types: what ``HttpServer.HandleRequest`` takes and returns.

Encoded by the core's protocol crate: msgpack maps with the exact keys of the 2022 interface
(``method``, ``path``, ``queryString``, ``header``, ``body``; ``statusCode``, ``header``, ``body``),
bodies as msgpack ``bin``::

    reply = host.call(echo, "HttpServer.HandleRequest", Request("GET", "/hi").encode())
    print(Response.decode(reply).json())
"""

from __future__ import annotations

import json as _json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Union

from . import _native

__all__ = ["Request", "Response", "HANDLE_REQUEST", "CONTRACT_ID"]

#: Contract id of the HTTP server capability.
CONTRACT_ID = "wasmcloud:httpserver"
#: The operation an HTTP server invokes on actors.
HANDLE_REQUEST = "HttpServer.HandleRequest"

Header = Dict[str, List[str]]
Body = Union[bytes, str]


def _body(body: Body) -> bytes:
    return body.encode() if isinstance(body, str) else bytes(body)


@dataclass
class Request:
    """An HTTP request as the HttpServer provider sends it to an actor."""

    method: str = "GET"
    path: str = "/"
    query_string: str = ""
    header: Header = field(default_factory=dict)
    body: bytes = b""

    def encode(self) -> bytes:
        """The msgpack argument of ``HttpServer.HandleRequest``."""
        return _native.encode_http_request(self.method, self.path, self.query_string, self.header, _body(self.body))

    @classmethod
    def decode(cls, data: bytes) -> "Request":
        """Parses a msgpack request; ``InvalidInput`` if it is not one."""
        method, path, query_string, header, body = _native.decode_http_request(data)
        return cls(method, path, query_string, header, body)


@dataclass
class Response:
    """An actor's reply to an HTTP request."""

    status_code: int = 200
    header: Header = field(default_factory=dict)
    body: bytes = b""

    def encode(self) -> bytes:
        """The msgpack form of the response."""
        return _native.encode_http_response(self.status_code, self.header, _body(self.body))

    @classmethod
    def decode(cls, data: bytes) -> "Response":
        """Parses an actor's msgpack reply; ``InvalidInput`` if it is not a response."""
        status_code, header, body = _native.decode_http_response(data)
        return cls(status_code, header, body)

    @property
    def text(self) -> str:
        """The body as UTF-8 text (invalid bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return _json.loads(self.body)
