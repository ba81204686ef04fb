"""Starting, scaling, updating and stopping actors; claims; inventory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import wasmhost

from conftest import ACTORS, ECHO, ECHO_KEY, ISSUER, PONG, PONG_KEY, Signer


def test_start_from_path_str_bytes_and_file_reference(host: wasmhost.Host) -> None:
    for source in (str(ECHO), ECHO, ECHO.read_bytes(), bytearray(ECHO.read_bytes()), f"file://{ECHO}"):
        actor = host.start_actor(source)
        assert actor.public_key == ECHO_KEY
        assert actor.call("Echo.Echo", b"hi") == b"hi"
        actor.stop()
        assert host.actors() == []


def test_claims_are_the_verified_claims_of_the_module(host: wasmhost.Host) -> None:
    echo = host.start_actor(ECHO)
    c = echo.claims
    assert (c.public_key, c.issuer, c.name, c.caps, c.revision, c.version) == (
        ECHO_KEY, ISSUER, "Echo", ("wasmcloud:httpserver",), 1, "0.1.0")
    assert c.call_alias is None and c.expires is None and c.issued_at > 1_600_000_000
    assert echo.name == "Echo" and echo.image_ref == f"file://{ECHO}"
    assert [x.public_key for x in host.claims()] == [ECHO_KEY]


def test_count_annotations_scale_and_stop(host: wasmhost.Host) -> None:
    echo = host.start_actor(ECHO, count=3, annotations={"team": "py"})
    assert len(echo.instances) == 3
    assert all(i.annotations == {"team": "py"} for i in echo.instances)
    assert len(echo.scale(5).instances) == 5
    assert len(echo.scale(1).instances) == 1
    assert len(host.actor(ECHO_KEY).instances) == 1
    echo.scale(0)
    with pytest.raises(wasmhost.ActorNotFound):
        echo.refresh()
    assert host.actors() == []


def test_stop_by_annotation_keeps_the_others(host: wasmhost.Host) -> None:
    host.start_actor(ECHO, count=2, annotations={"a": "1"})
    echo = host.start_actor(ECHO, count=1, annotations={"a": "2"})
    echo.stop(annotations={"a": "1"})
    assert [i.annotations for i in echo.refresh().instances] == [{"a": "2"}]


def test_actor_by_call_alias(host: wasmhost.Host) -> None:
    host.start_actor(PONG)
    pong = host.actor("wasmhost/pong")
    assert pong.public_key == PONG_KEY and pong.claims.call_alias == "wasmhost/pong"
    assert host.call("wasmhost/pong", "Echo.Echo", b"x") == b"pong:x"


def test_update_to_a_higher_revision(host: wasmhost.Host, sign: Signer) -> None:
    echo = host.start_actor(ECHO)
    rev2 = sign(ACTORS / "unsigned" / "echo.wasm", "Echo", caps=["wasmcloud:httpserver"],
                subject=ACTORS / "keys" / "echo.nk", extra=["--rev", "2"])
    assert echo.update(rev2).claims.revision == 2
    assert echo.call("Echo.Echo", b"after") == b"after"
    with pytest.raises(wasmhost.InvalidInput, match="not higher"):
        echo.update(ECHO)


def test_inventory(host: wasmhost.Host) -> None:
    host.start_actor(ECHO, count=2)
    inv = host.inventory()
    assert inv["host_id"] == host.id
    assert inv["labels"]["test"] == "python"
    [actor] = inv["actors"]
    assert actor["id"] == ECHO_KEY and len(actor["instances"]) == 2


@pytest.mark.parametrize("count", [0, -1, 70000])
def test_bad_counts_are_invalid_input(host: wasmhost.Host, count: int) -> None:
    with pytest.raises(wasmhost.InvalidInput, match="count"):
        host.start_actor(ECHO, count=count)


def test_bad_modules_raise_claims_errors_and_the_host_keeps_serving(host: wasmhost.Host, sign: Signer, tmp_path: Path) -> None:
    with pytest.raises(wasmhost.ClaimsError) as e:
        host.start_actor(ACTORS / "unsigned" / "echo.wasm")
    assert e.value.kind == "claims"
    with pytest.raises(wasmhost.ClaimsError):
        host.start_actor(b"\0asm\x01\0\0\0garbage")
    with pytest.raises(wasmhost.ClaimsError):
        host.start_actor(b"")
    not_yet = sign(ACTORS / "unsigned" / "echo.wasm", "Later", extra=["--not-before", "3600"])
    with pytest.raises(wasmhost.ClaimsError):
        host.start_actor(not_yet)
    assert host.start_actor(ECHO).call("Echo.Echo", b"ok") == b"ok"


def test_missing_file_and_oci_reference_are_not_found(host: wasmhost.Host, tmp_path: Path) -> None:
    with pytest.raises(wasmhost.ActorNotFound):
        host.start_actor(tmp_path / "missing.wasm")
    with pytest.raises(wasmhost.WasmhostError):
        host.start_actor("127.0.0.1:9/nothing/here:0.1.0")


def test_devices_pipes_and_directories_are_refused_before_reading(host: wasmhost.Host, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wasm"
    os.mkfifo(fifo)
    for path, why in [(Path("/dev/zero"), "character device"), (fifo, "named pipe"), (tmp_path, "directory")]:
        with pytest.raises(wasmhost.InvalidInput, match=why):
            host.start_actor(path)
    assert host.actors() == []
    host.start_actor(ECHO)
    assert host.call(ECHO_KEY, "Echo.Echo", b"still serving") == b"still serving"


def test_a_source_of_the_wrong_type_is_a_type_error(host: wasmhost.Host) -> None:
    with pytest.raises(TypeError):
        host.start_actor(42)  # type: ignore[arg-type]
