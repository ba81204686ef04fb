#!/usr/bin/env bash
# The kvcounter application end to end on a real lattice: nats-server (JetStream), redis-server, a
# local OCI registry and `wasmhost up`; the kvcounter actor and two capability providers (our
# httpserver and keyvalue, packaged as signed .par.gz and pushed to the registry) started and
# linked with `wasmhost ctl`; `curl` counts 1, 2, 3 with the value kept in Redis. Then the host
# is stopped and started again (the count continues from Redis, the links from the lattice's
# JetStream bucket), and finally the actor and each provider run on three different hosts.
#
# Usage: examples/kvcounter/run.sh [--no-setup] [--serve] [--dashboard]
#   --no-setup  skip scripts/setup.sh (already run on this machine)
#   --serve     after the first three counts, keep the application running on http://localhost:8080
#               (open it in a browser; Ctrl-C stops everything) instead of going on
#   --dashboard like --serve, and the host also serves the web dashboard on http://localhost:4000
#               (start, scale, stop, hot-reload actors; a copy of echo.wasm to hot-reload is printed)
# Exits non-zero if any step fails.
set -euo pipefail
[ -n "${KVCOUNTER_TRACE:-}" ] && { PS4='+ $(date +%T.%N | cut -c1-12) '; set -x; }
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
setup=yes serve=no dashboard=no
for arg in "$@"; do
  case "$arg" in
    --no-setup) setup=no ;;
    --serve) serve=yes ;;
    --dashboard) serve=yes dashboard=yes ;;
    *) echo "unknown argument $arg (usage: $0 [--no-setup] [--serve] [--dashboard])" >&2; exit 2 ;;
  esac
done
[ "$setup" = no ] || bash scripts/setup.sh >/dev/null
export PATH="$root/.venv/bin:$PATH"

echo "== build: the host CLI and both providers"
cargo build -q -p wasmhost-cli -p wasmhost-httpserver -p wasmhost-keyvalue
bin="$root/target/debug/wasmhost"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }
fail() {
  echo "FAILED: $*" >&2
  for log in "$work"/host-*.log; do [ -e "$log" ] && { echo "--- $log" >&2; tail -n 30 "$log" >&2; }; done
  exit 1
}

nats_port=$(free_port); redis_port=$(free_port); registry_port=$(free_port); http_port=$(free_port)
if [ "$serve" = yes ]; then
  (echo >/dev/tcp/127.0.0.1/8080) 2>/dev/null && fail "port 8080 is in use; stop what listens there and retry"
  http_port=8080
fi
echo "== services: nats-server :$nats_port, redis-server :$redis_port, docker-registry :$registry_port"
nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$work/nats" >"$work/nats.log" 2>&1 &
pids+=($!)
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
mkdir -p "$work/registry"
cat >"$work/registry/config.yml" <<EOF
version: 0.1
storage: {filesystem: {rootdirectory: $work/registry/data}}
http: {addr: 127.0.0.1:$registry_port}
log: {level: error}
EOF
(cd "$work/registry" && exec docker-registry serve config.yml >"$work/registry.log" 2>&1) &
pids+=($!)
wait_port "$nats_port"; wait_port "$redis_port"; wait_port "$registry_port"

registry="127.0.0.1:$registry_port"
nats="nats://127.0.0.1:$nats_port"
lattice="kvcounter"
cluster_seed=$("$bin" keys gen cluster --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["seed"])')
ctl() { "$bin" ctl --nats-url "$nats" --lattice "$lattice" "$@"; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

echo "== package both providers as signed archives and push them (and the actor) to the registry"
target="$(uname -m)-linux"
# Debug builds carry ~100 MB of debug info; providers ship without it.
strip -o "$work/wasmhost-httpserver" "$root/target/debug/wasmhost-httpserver"
strip -o "$work/wasmhost-keyvalue" "$root/target/debug/wasmhost-keyvalue"
"$bin" par create --capid wasmcloud:httpserver --name "HTTP Server" --vendor wasmhost --ver 0.1.0 \
  --binary "$target=$work/wasmhost-httpserver" -o "$work/httpserver.par.gz" 2>/dev/null
"$bin" par create --capid wasmcloud:keyvalue --name "Key-Value (Redis)" --vendor wasmhost --ver 0.1.0 \
  --binary "$target=$work/wasmhost-keyvalue" -o "$work/keyvalue.par.gz" 2>/dev/null
"$bin" push --insecure "$registry/httpserver:0.1.0" "$work/httpserver.par.gz"
"$bin" push --insecure "$registry/keyvalue:0.1.0" "$work/keyvalue.par.gz"
"$bin" push --insecure "$registry/kvcounter:0.1.0" examples/actors/kvcounter.wasm

# A host in the lattice; sets $host_id. Extra arguments go to `wasmhost up`. (Not run in a
# subshell, so its pid reaches the cleanup list.)
start_host() {
  local log="$work/host-$RANDOM.log"
  WASMCLOUD_OCI_ALLOWED_INSECURE="$registry" WASMHOST_OCI_CACHE_DIR="$work/oci" WASMHOST_PROVIDER_CACHE_DIR="$work/providers" \
    "$bin" up --nats-url "$nats" --lattice "$lattice" --cluster-seed "$cluster_seed" "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do
    grep -q '^host_id: ' "$log" && { host_id=$(sed -n 's/^host_id: //p' "$log" | head -1); return 0; }
    sleep 0.05
  done
  cat "$log" >&2; fail "wasmhost up did not start"
}

# Starts the actor and both providers (on hosts matching the given role labels).
start_app() {
  local actor_role=$1 http_role=$2 kv_role=$3
  actor_id=$(ctl --output json --timeout 500 start actor "$registry/kvcounter:0.1.0" --constraint "role=$actor_role" | json_field actor_id)
  http_id=$(ctl --output json --timeout 500 start provider "$registry/httpserver:0.1.0" --constraint "role=$http_role" | json_field provider_id)
  kv_id=$(ctl --output json --timeout 500 start provider "$registry/keyvalue:0.1.0" --constraint "role=$kv_role" | json_field provider_id)
}

# GET / until the provider listens, then expects {"counter":N}.
expect_count() {
  local want=$1 body="" status=""
  for _ in $(seq 100); do
    status=$(curl -s -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$http_port/" 2>/dev/null) || true
    body=$(cat "$work/body" 2>/dev/null || true)
    [ "$status" = "200" ] && break
    sleep 0.1
  done
  echo "   curl http://127.0.0.1:$http_port/ -> $status $body"
  [ "$body" = "{\"counter\":$want}" ] || fail "expected counter $want, got '$body'"
}

redis_count() { redis-cli -p "$redis_port" get counter; }

echo "== one host: actor, httpserver and keyvalue started with wasmhost ctl, then linked"
dashboard_args=()
if [ "$dashboard" = yes ]; then
  # Files started from the page go straight to this host; --registry lets it push them for other hosts.
  dashboard_args=(--dashboard 127.0.0.1:4000 --signing-keys "$root/examples/actors/keys" --registry "$registry" --registry-insecure)
fi
start_host --label role=all "${dashboard_args[@]}"; host=$host_id
start_app all all all
ctl link put "$actor_id" "$http_id" wasmcloud:httpserver "PORT=$http_port" "ADDRESS=127.0.0.1"
ctl link put "$actor_id" "$kv_id" wasmcloud:keyvalue "URL=redis://127.0.0.1:$redis_port/"
ctl get inventory "$host"
for n in 1 2 3; do expect_count "$n"; done
[ "$(redis_count)" = "3" ] || fail "Redis holds '$(redis_count)', expected 3"
echo "   redis-cli get counter -> $(redis_count)"
if [ "$dashboard" = yes ]; then
  mkdir -p "$work/dev"; cp examples/actors/echo.wasm "$work/dev/echo.wasm"
  echo "== dashboard: open http://localhost:4000 (the kvcounter lattice, live)"
  echo "   start $work/dev/echo.wasm from the form with 'hot reload' on, then rebuild it, e.g."
  echo "   $bin claims sign examples/actors/unsigned/echo.wasm --name Echo --cap wasmcloud:httpserver \\"
  echo "     --issuer examples/actors/keys/account.nk --subject examples/actors/keys/echo.nk --rev 2 -o $work/dev/echo.wasm"
  echo "   (any rebuild works: an old --rev is re-signed with the next revision from examples/actors/keys)"
fi
if [ "$serve" = yes ]; then
  echo "== serving: open http://localhost:8080 (each request adds one; Redis on 127.0.0.1:$redis_port holds it). Ctrl-C stops."
  wait "${pids[@]}"
  exit 0
fi

echo "== stop the host, start it again: the links come back from the lattice, the count from Redis"
ctl stop host "$host"
for _ in $(seq 100); do ! pgrep -f "$work/providers" >/dev/null && break; sleep 0.1; done
pgrep -f "$work/providers" >/dev/null && fail "provider processes outlived their host"
start_host --label role=all; host=$host_id
start_app all all all
ctl get links
expect_count 4

echo "== three hosts: the actor, the httpserver and the keyvalue provider each on its own host"
ctl stop host "$host"
start_host --label role=actor; actor_host=$host_id
start_host --label role=http; http_host=$host_id
start_host --label role=kv; kv_host=$host_id
start_app actor http kv
ctl get hosts
expect_count 5
expect_count 6
[ "$(redis_count)" = "6" ] || fail "Redis holds '$(redis_count)', expected 6"
for h in "$actor_host" "$http_host" "$kv_host"; do ctl stop host "$h" >/dev/null; done
echo "== kvcounter end to end: ok"
