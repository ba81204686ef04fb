#!/usr/bin/env bash
# Elixir binding: compiles the NIF (via the mix compiler task) and runs `mix test` in a fresh
# HOME/MIX_HOME, offline from hex's point of view (the project has no deps).
# Usage: scripts/test-elixir.sh [mix test args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# rustup and cargo live under the real HOME; keep finding them once HOME points elsewhere.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export PATH="$CARGO_HOME/bin:$PATH"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp/home" MIX_HOME="$tmp/mix" HEX_OFFLINE=1
mkdir -p "$HOME" "$MIX_HOME"

# The update test signs a revision-2 actor with the CLI (target/debug/wasmhost).
(cd "$root" && cargo build --quiet -p wasmhost-cli)

cd "$root/bindings/elixir"
echo "== mix test (bindings/elixir)"
MIX_ENV=test mix test "$@"

echo "== examples/elixir (mix run run.exs)"
cd "$root/examples/elixir"
out=$(mix run run.exs)
printf '%s\n' "$out"
grep -q 'kvcounter GET / -> {"counter":2}' <<<"$out"
grep -q 'event host_stopped' <<<"$out"
