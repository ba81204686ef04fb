"""Shared fixtures: the example actors, a running host, and modules signed by the real CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pytest

import wasmhost

REPO = Path(__file__).resolve().parents[3]
ACTORS = REPO / "examples" / "actors"
ECHO = ACTORS / "echo.wasm"
KVCOUNTER = ACTORS / "kvcounter.wasm"
PONG = ACTORS / "pong.wasm"
PINGER = ACTORS / "pinger.wasm"
ECHO_KEY = (ACTORS / "keys" / "echo.pub").read_text().strip()
KVCOUNTER_KEY = (ACTORS / "keys" / "kvcounter.pub").read_text().strip()
PONG_KEY = (ACTORS / "keys" / "pong.pub").read_text().strip()
ISSUER = (ACTORS / "keys" / "account.pub").read_text().strip()

Signer = Callable[..., bytes]


@pytest.fixture
def host() -> Iterator[wasmhost.Host]:
    """A fresh embedded host with a short invocation timeout, stopped after the test."""
    h = wasmhost.Host(invocation_timeout=2.0, labels={"test": "python"})
    yield h
    if not h.is_stopped:
        h.stop()


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `wasmhost` CLI (scripts/test-python.sh builds it); `WASMHOST_CLI` overrides the path."""
    path = Path(os.environ.get("WASMHOST_CLI", REPO / "target" / "debug" / "wasmhost"))
    assert path.is_file(), f"{path} is missing: run `cargo build -p wasmhost-cli` (scripts/test-python.sh does)"
    return path


@pytest.fixture
def sign(cli: Path, tmp_path: Path) -> Signer:
    """Signs a module with the real CLI: sign(module_path, name, caps=(), subject=None, extra=())."""

    def run(module: Path, name: str, caps: Sequence[str] = (), subject: "Path | None" = None, extra: Sequence[str] = ()) -> bytes:
        out = tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}.wasm"
        args = [str(cli), "claims", "sign", str(module), "--name", name, "--issuer", str(ACTORS / "keys" / "account.nk"), "-o", str(out)]
        for cap in caps:
            args += ["--cap", cap]
        if subject is not None:
            args += ["--subject", str(subject)]
        args += list(extra)
        subprocess.run(args, check=True, capture_output=True)
        return out.read_bytes()

    return run
