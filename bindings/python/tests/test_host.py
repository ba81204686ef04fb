"""Host lifecycle, configuration and identity."""

from __future__ import annotations

import asyncio
import gc

import pytest

import wasmhost

from conftest import ECHO


def test_embedded_host_identity_and_labels() -> None:
    with wasmhost.Host(lattice="pytest", friendly_name="py-host", labels={"zone": "a"}) as host:
        assert host.id.startswith("N") and len(host.id) == 56
        assert host.cluster_key.startswith("C")
        assert host.lattice == "pytest"
        assert host.friendly_name == "py-host"
        assert host.labels["zone"] == "a"
        assert host.labels["hostcore.os"] == "linux"
        assert host.uptime >= 0
        assert not host.is_stopped
        assert "running" in repr(host)
    assert host.is_stopped


def test_stop_twice_and_use_after_stop_raise_host_stopped() -> None:
    host = wasmhost.Host()
    host.stop()
    with pytest.raises(wasmhost.HostStopped) as e:
        host.stop()
    assert e.value.kind == "stopped"
    with pytest.raises(wasmhost.HostStopped):
        host.start_actor(ECHO)
    with pytest.raises(wasmhost.HostStopped):
        host.call("MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75", "Echo.Echo", b"x")
    with pytest.raises(wasmhost.HostStopped):
        host.events()


def test_with_block_stops_even_when_the_body_raises() -> None:
    with pytest.raises(RuntimeError):
        with wasmhost.Host() as host:
            raise RuntimeError("body failed")
    assert host.is_stopped


def test_async_with_stops_the_host() -> None:
    async def main() -> wasmhost.Host:
        async with wasmhost.Host() as host:
            echo = await host.start_actor_async(ECHO)
            assert await echo.call_async("Echo.Echo", b"async") == b"async"
        return host

    assert asyncio.run(main()).is_stopped


@pytest.mark.parametrize(
    "kwargs, text",
    [
        ({"lattice": "bad.lattice"}, "invalid lattice id"),
        ({"invocation_timeout": 0}, "invocation_timeout"),
        ({"invocation_timeout": float("nan")}, "invocation_timeout"),
        ({"nats_url": "http://127.0.0.1:4222"}, "unsupported NATS URL scheme"),
        ({"host_seed": "SNnotaseed"}, "invalid host seed"),
        ({"max_instance_memory": 1024}, "max_instance_memory"),
    ],
)
def test_bad_configuration_is_invalid_input(kwargs: dict, text: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(wasmhost.InvalidInput) as e:
        wasmhost.Host(**kwargs)
    assert text in str(e.value)
    assert isinstance(e.value, ValueError)


def test_from_env_reads_wasmcloud_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASMCLOUD_LATTICE_PREFIX", "fromenv")
    monkeypatch.setenv("HOST_REGION", "eu")
    with wasmhost.Host(from_env=True) as host:
        assert host.lattice == "fromenv"
        assert host.labels["region"] == "eu"


def test_a_collected_running_host_stops_and_ends_its_streams() -> None:
    host = wasmhost.Host()
    host.start_actor(ECHO, count=2)
    events = host.events()
    del host
    gc.collect()
    kinds = [e.kind for e in events]  # ends only when the host has stopped
    assert kinds.count("actor_stopped") == 2
    assert kinds[-1] == "host_stopped"


def test_many_hosts_collected_without_stop_do_not_crash() -> None:
    for _ in range(5):
        h = wasmhost.Host()
        h.start_actor(ECHO)
        assert h.call(h.actors()[0], "Echo.Echo", b"x") == b"x"
    del h
    gc.collect()


def test_every_core_error_kind_has_its_own_exception_class() -> None:
    from wasmhost import _native, errors

    kinds = _native.error_kinds()
    assert len(kinds) == 9
    classes = set()
    for kind, exc in kinds:
        assert isinstance(exc, errors.WasmhostError), kind
        assert type(exc) is not errors.WasmhostError, f"{kind} falls back to the base class"
        assert type(exc).__name__ in errors.__all__, kind
        assert exc.kind == kind
        classes.add(type(exc))
    assert len(classes) == len(kinds)
