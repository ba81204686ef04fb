#!/usr/bin/env bash
# The main job: build the host and run actors in it: first in an embedded lattice (no server
# needed), then the kvcounter application on a real lattice (NATS, Redis, an OCI registry, two
# capability providers), see examples/kvcounter/run.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh >/dev/null
# A debug build (Cranelift and the archive codecs are optimised even there, see Cargo.toml):
# `scripts/test.sh` has built it already; a release build would compile wasmtime again (~6 min).
cargo build -q -p wasmhost-cli
bin=target/debug/wasmhost

echo "== echo: HttpServer.HandleRequest GET /hello?name=world"
"$bin" run examples/actors/echo.wasm --data '{"method":"GET","path":"/hello","queryString":"name=world"}'

echo "== kvcounter with an in-process key-value store: the count goes up"
"$bin" run examples/actors/kvcounter.wasm --kv-memory --repeat 3

echo "== pinger calls echo by key and pong by call alias"
echo_key=$("$bin" claims inspect --json examples/actors/echo.wasm | sed -n 's/.*"module": "\(M[A-Z0-9]*\)".*/\1/p')
"$bin" run examples/actors/pinger.wasm --with examples/actors/echo.wasm --with examples/actors/pong.wasm \
  --data "{\"queryString\":\"target=$echo_key\"}"

echo "== kvcounter on a real lattice: HTTP -> actor -> Redis, through two capability providers"
bash examples/kvcounter/run.sh --no-setup
