#!/usr/bin/env bash
# The 2022 wasmCloud client crates against `wasmhost up` (tests/interop/README.md).
# Builds the CLI from the root workspace, then runs the separate interop project with its
# own lock file and target dir (tests/interop/target).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH"

echo "== build wasmhost (root workspace)"
cargo build -p wasmhost-cli
echo "== cargo test (tests/interop, 2022 client crates)"
cd tests/interop
WASMHOST_BIN="$root/target/debug/wasmhost" CARGO_TARGET_DIR="$root/tests/interop/target" \
    cargo test --locked --no-fail-fast -- --nocapture
