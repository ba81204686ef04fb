"""msgpack and HttpServer wire helpers, the exception hierarchy, logging."""

from __future__ import annotations

import builtins
import logging

import pytest

import wasmhost
from wasmhost import msgpack
from wasmhost.http import Request, Response

# protocol/tests/vectors/http_request.msgpack: produced by wasmcloud-interface-httpserver 0.8.2 (rmp_serde::to_vec_named).
HTTP_REQUEST_VECTOR = bytes.fromhex(
    "85a66d6574686f64a3474554a470617468a82f766563746f7273ab7175657279537472696e67a3613d31a668656164657281a661636365707492"
    "aa746578742f706c61696eb06170706c69636174696f6e2f6a736f6ea4626f6479c40568656c6c6f"
)
# protocol/tests/vectors/kv_increment_request.msgpack (wasmcloud-interface-keyvalue 0.9.1).
KV_INCREMENT_VECTOR = bytes.fromhex("82a36b6579a7636f756e746572a576616c756501")


def test_http_request_matches_the_2022_bytes() -> None:
    request = Request("GET", "/vectors", "a=1", {"accept": ["text/plain", "application/json"]}, b"hello")
    assert request.encode() == HTTP_REQUEST_VECTOR
    assert Request.decode(HTTP_REQUEST_VECTOR) == request


def test_http_response_round_trip_and_bad_input() -> None:
    response = Response(404, {"x": ["1"]}, b"\xffnot found")
    assert Response.decode(response.encode()) == response
    assert response.text == "\ufffdnot found"
    with pytest.raises(wasmhost.InvalidInput):
        Response.decode(b"\x01\x02")


def test_msgpack_round_trip_and_types() -> None:
    value = {"key": "counter", "value": 1, "n": None, "t": True, "f": 1.5, "b": b"\x00\x01", "l": [1, "a", [2]], "big": 2**63}
    assert msgpack.decode(msgpack.encode(value)) == value
    assert msgpack.encode({"key": "counter", "value": 1}) == KV_INCREMENT_VECTOR
    assert msgpack.encode(b"a") == b"\xc4\x01a", "bytes are msgpack bin"
    assert msgpack.encode("a") == b"\xa1a", "str is a msgpack string"
    assert msgpack.decode(msgpack.encode((1, 2))) == [1, 2]
    assert msgpack.decode(b"\xff") == -1


@pytest.mark.parametrize("data", [b"", b"\x92\x01", b"\x01\x02", b"\xd9\x05ab"])
def test_msgpack_decode_rejects_malformed_data(data: bytes) -> None:
    with pytest.raises(wasmhost.InvalidInput, match="msgpack decode"):
        msgpack.decode(data)


def test_msgpack_encode_rejects_unsupported_values() -> None:
    with pytest.raises(TypeError):
        msgpack.encode(object())
    with pytest.raises(wasmhost.InvalidInput):
        msgpack.encode(2**70)
    deep: list = []  # type: ignore[type-arg]
    for _ in range(1000):
        deep = [deep]
    with pytest.raises(wasmhost.InvalidInput, match="nested"):
        msgpack.encode(deep)


def test_exception_hierarchy() -> None:
    kinds = {
        wasmhost.ActorNotFound: "not_found", wasmhost.InvalidInput: "invalid_input", wasmhost.ClaimsError: "claims",
        wasmhost.PolicyDenied: "denied", wasmhost.TimeoutError: "timeout", wasmhost.LatticeError: "transport",
        wasmhost.InvocationError: "runtime", wasmhost.HostStopped: "stopped", wasmhost.InternalError: "internal",
    }
    for cls, kind in kinds.items():
        assert issubclass(cls, wasmhost.WasmhostError) and cls.kind == kind
    assert issubclass(wasmhost.TimeoutError, builtins.TimeoutError)
    assert issubclass(wasmhost.InvalidInput, ValueError)


def test_host_logs_reach_python_logging(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wasmhost")
    with wasmhost.Host(friendly_name="logged-host") as host:
        host_id = host.id
    assert wasmhost.flush_logs()
    records = [r for r in caplog.records if r.name == "wasmhost.host"]
    assert any(r.levelno == logging.INFO and "host started" in r.message and host_id in r.message for r in records)
    assert any("host stopped" in r.message for r in records)


def test_debug_logs_are_off_until_the_logger_asks_for_them(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wasmhost")
    with wasmhost.Host() as host:
        host.put_link("MX", "VX", "wasmcloud:test")
    wasmhost.flush_logs()
    assert not [r for r in caplog.records if r.levelno < logging.INFO]
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="wasmhost")
    with wasmhost.Host() as host:
        host.put_link("MX", "VX", "wasmcloud:test")
    wasmhost.flush_logs()
    assert any(r.levelno == logging.DEBUG and "lattice event" in r.message for r in caplog.records)


def test_version() -> None:
    assert wasmhost.__version__.count(".") == 2
