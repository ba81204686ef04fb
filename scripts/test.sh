#!/usr/bin/env bash
# Sets up a fresh machine and runs every test: Rust unit and integration tests, the CLI demo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
export PATH="$root/.venv/bin:$PATH"
bash scripts/check-gates.sh

echo "== cargo test (workspace)"
cargo test --workspace --no-fail-fast 2>&1 | tee /tmp/wasmhost-cargo-test.log
bash scripts/test-fuzz.sh
echo "== example actors rebuild byte-identically from source"
bash examples/actors/build.sh --no-sign
git diff --exit-code --stat -- examples/actors/unsigned examples/actors/fixtures
bash scripts/test-interop.sh
bash scripts/test-elixir.sh
bash scripts/test-python.sh
bash scripts/test-c-go.sh
echo "== the README's main job"
bash scripts/demo.sh
