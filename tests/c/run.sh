#!/usr/bin/env bash
# Runs the C API tests: checks the exported symbols of libwasmhost.so, compiles the header as C11
# and C++17, signs the extra test modules and packs a script provider with the wasmhost CLI, then runs test_api plainly, under
# valgrind (no definite leaks, no memory errors) and with AddressSanitizer.
#
# Usage: tests/c/run.sh [PROFILE]   (debug by default; the library must be built: cargo build -p wasmhost-ffi)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
profile=${1:-debug}
libdir="${WASMHOST_LIBDIR:-$root/target/$profile}"
cli="${WASMHOST_CLI:-$libdir/wasmhost}"
[ -f "$libdir/libwasmhost.so" ] || { echo "run.sh: $libdir/libwasmhost.so is missing: cargo build -p wasmhost-ffi" >&2; exit 1; }
[ -x "$cli" ] || { echo "run.sh: $cli is missing: cargo build -p wasmhost-cli" >&2; exit 1; }

echo "== exported symbols: only wasmhost_*"
others=$(nm -D --defined-only "$libdir/libwasmhost.so" | awk '{print $3}' | grep -v '^wasmhost_' || true)
if [ -n "$others" ]; then echo "unexpected exports:"; echo "$others"; exit 1; fi
count=$(nm -D --defined-only "$libdir/libwasmhost.so" | grep -c ' wasmhost_')
soname=$(readelf -d "$libdir/libwasmhost.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
echo "$count functions exported, soname $soname"
[ "$soname" = "libwasmhost.so.0" ] || { echo "unexpected soname $soname"; exit 1; }
pkg=$(PKG_CONFIG_PATH="$libdir" pkg-config --static --libs wasmhost)
echo "pkg-config --static --libs wasmhost: $pkg"
case "$pkg" in *-lwasmhost*-lpthread*) ;; *) echo "wasmhost.pc lacks the static private libs"; exit 1 ;; esac

echo "== build (C11 and C++17 header checks, tests, ASan tests)"
make -s -B -C "$here" PROFILE="$profile" LIBDIR="$libdir" all

echo "== sign the extra test modules"
signed=$(mktemp -d)
keys="$root/examples/actors/keys"
"$cli" claims sign "$root/examples/actors/unsigned/echo.wasm" --name Echo --cap wasmcloud:httpserver --rev 2 --ver 0.2.0 \
    --issuer "$keys/account.nk" --subject "$keys/echo.nk" -o "$signed/echo_rev2.wasm" >/dev/null
for fixture in trap loop; do
    "$cli" claims sign "$root/examples/actors/fixtures/$fixture.wasm" --name "$fixture" -o "$signed/$fixture.wasm" >/dev/null 2>&1
done
# A capability provider whose binary is a shell script (reads its HostData, then sleeps), for the providers test.
printf '#!/bin/sh\nread line\nexec sleep 600\n' >"$signed/script.sh"
"$cli" par create --capid wasmcloud:keyvalue --name "c script" --vendor wasmhost-tests --rev 3 --ver 0.3.0 \
    --binary "$(uname -m)-linux=$signed/script.sh" -o "$signed/script.par.gz" >/dev/null 2>&1
for module in echo_rev2 trap loop; do
    [ -s "$signed/$module.wasm" ] || { echo "run.sh: signing $module.wasm with $cli failed" >&2; exit 1; }
done
[ -s "$signed/script.par.gz" ] || { echo "run.sh: packing script.par.gz with $cli failed" >&2; exit 1; }

actors="$root/examples/actors"
# A real nats-server on a free loopback port for the lattice test (stopped on exit).
nats_bin="${NATS_SERVER:-$(command -v nats-server || echo "$root/.venv/bin/nats-server")}"
nats_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nats_dir=$(mktemp -d)
"$nats_bin" -js -a 127.0.0.1 -p "$nats_port" -sd "$nats_dir" >"$nats_dir/log" 2>&1 &
nats_pid=$!
trap 'kill $nats_pid 2>/dev/null; wait $nats_pid 2>/dev/null; rm -rf "$signed" "$nats_dir"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break; sleep 0.1; done
export WASMHOST_TEST_NATS_URL="nats://127.0.0.1:$nats_port"
echo "== test_api"
"$here/test_api" "$actors" "$signed"
echo "== test_api under valgrind (6 instance slots: the engine reserves ~4 GiB of address space per slot)"
WASMHOST_TEST_MAX_INSTANCES=6 valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --suppressions="$here/valgrind.supp" "$here/test_api" "$actors" "$signed"
echo "== test_api with AddressSanitizer"
# Leak detection stays on; the library's own allocations are not instrumented.
ASAN_OPTIONS=detect_leaks=1 "$here/test_api_asan" "$actors" "$signed"
echo "C API tests: all passed (plain, valgrind, ASan)"
