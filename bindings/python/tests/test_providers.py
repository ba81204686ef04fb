"""Capability providers: refused by an embedded host; over a real nats-server, a script provider
(a shell script packed as the provider binary by `wasmhost par create`) starts, is listed, stops."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

import pytest

import wasmhost

from test_lattice import lattice_host, nats_url  # noqa: F401  (the module's nats-server fixture)


@pytest.fixture
def script_provider(cli: Path, tmp_path: Path) -> Path:
    """A signed provider archive whose binary reads its HostData line and sleeps."""
    script = tmp_path / "provider.sh"
    script.write_text("#!/bin/sh\nread line\nexec sleep 600\n")
    archive = tmp_path / "script.par.gz"
    subprocess.run([str(cli), "par", "create", "--capid", "wasmcloud:keyvalue", "--name", "py script", "--vendor", "wasmhost-tests",
                    "--rev", "2", "--ver", "0.2.0", "--binary", f"{platform.machine()}-linux={script}", "-o", str(archive)],
                   check=True, capture_output=True)
    return archive


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return not stat.rsplit(")", 1)[1].strip().startswith("Z")


def test_an_embedded_host_refuses_providers(host: wasmhost.Host, script_provider: Path) -> None:
    with pytest.raises(wasmhost.InvalidInput, match="NATS") as e:
        host.start_provider(script_provider)
    assert isinstance(e.value, ValueError)
    assert host.providers() == []
    with pytest.raises(wasmhost.ActorNotFound):
        host.stop_provider("VAAAA")


def test_a_script_provider_starts_is_listed_and_stops(nats_url: str, script_provider: Path) -> None:  # noqa: F811
    with lattice_host(nats_url, "pyprov") as h:
        provider = h.start_provider(str(script_provider), config='{"greeting":"hi"}', annotations={"who": "python"})
        assert provider.public_key.startswith("V") and len(provider.public_key) == 56
        assert (provider.link_name, provider.contract_id) == ("default", "wasmcloud:keyvalue")
        assert (provider.name, provider.vendor, provider.revision, provider.version) == ("py script", "wasmhost-tests", 2, "0.2.0")
        assert provider.annotations == {"who": "python"}
        assert provider.image_ref.endswith("script.par.gz")
        assert provider.pid is not None and alive(provider.pid)
        assert provider.restarts == 0 and provider.instance_id
        # The same archive again: a second process for another link name, refused for the same one.
        with pytest.raises(wasmhost.InvalidInput, match="already running"):
            h.start_provider(script_provider)
        other = h.start_provider(script_provider.read_bytes(), link_name="other")
        assert other.pid is not None and other.pid != provider.pid
        listed = h.providers()
        assert [(p.public_key, p.link_name) for p in listed] == [(provider.public_key, "default"), (provider.public_key, "other")]
        assert "Provider(" in repr(listed[0])

        provider.stop()
        assert not alive(provider.pid)
        h.stop_provider(other.public_key, "other")
        assert other.pid is not None and not alive(other.pid)
        assert h.providers() == []
        with pytest.raises(wasmhost.ActorNotFound):
            h.stop_provider(provider)


def test_providers_stop_with_the_host(nats_url: str, script_provider: Path) -> None:  # noqa: F811
    h = lattice_host(nats_url, "pyprov2")
    provider = h.start_provider(os.fspath(script_provider), link_name="kv")
    assert provider.pid is not None and alive(provider.pid)
    h.stop()
    deadline = time.monotonic() + 10
    while alive(provider.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(provider.pid)
