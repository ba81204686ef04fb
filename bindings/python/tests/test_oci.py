"""Starting an actor from an OCI reference: a real docker-registry, the actor pushed by the CLI."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

import wasmhost

from conftest import ECHO, ECHO_KEY

REGISTRY = "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's docker-registry on a free loopback port (plain HTTP), stopped by PID."""
    assert shutil.which(REGISTRY), f"{REGISTRY} is missing: install docker-registry (scripts/setup.sh does)"
    root = tmp_path_factory.mktemp("registry")
    addr = f"127.0.0.1:{free_port()}"
    config = root / "config.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
                      f"http:\n  addr: {addr}\n")
    server = subprocess.Popen([REGISTRY, "serve", str(config)], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", int(addr.split(":")[1])), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, "docker-registry exited"
                assert time.monotonic() < deadline, "docker-registry did not open its port"
                time.sleep(0.05)
        yield addr
    finally:
        server.terminate()
        server.wait(10)


def test_start_actor_from_an_oci_reference(registry: str, cli: Path) -> None:
    reference = f"{registry}/wasmhost/echo:0.1.0"
    subprocess.run([str(cli), "push", reference, str(ECHO), "--insecure"], check=True, capture_output=True)
    with wasmhost.Host(oci_allowed_insecure=[registry]) as host:
        echo = host.start_actor(reference)
        assert echo.public_key == ECHO_KEY
        assert echo.image_ref == reference
        assert echo.call("Echo.Echo", b"from a registry") == b"from a registry"
        with pytest.raises(wasmhost.WasmhostError) as e:
            host.start_actor(f"{registry}/wasmhost/missing:0.1.0")
        assert e.value.kind in ("not_found", "transport"), e.value
