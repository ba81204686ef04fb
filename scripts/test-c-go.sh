#!/usr/bin/env bash
# The C ABI end to end: builds libwasmhost (debug: `cargo test --workspace` has already built the
# workspace in that profile, so no second wasmtime build is needed, and the dev profile optimises
# Cranelift), checks that the committed include/wasmhost.h is what the build generates, builds and
# runs the C example, runs the C API tests (plain, valgrind, AddressSanitizer), then the Go tests and
# the Go example.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "== build libwasmhost and the CLI (debug)"
cargo build -q -p wasmhost-ffi -p wasmhost-cli

echo "== include/wasmhost.h is current"
git ls-files --error-unmatch include/wasmhost.h >/dev/null
if ! git diff --exit-code --stat -- include/wasmhost.h; then
    echo "include/wasmhost.h differs from what cbindgen generates: commit the regenerated header" >&2
    exit 1
fi

echo "== C examples (the README's hello, and embed)"
make -s -C examples/c PROFILE=debug hello
[ "$(examples/c/hello)" = "hello" ] || { echo "examples/c/hello did not print hello" >&2; exit 1; }
make -s -C examples/c PROFILE=debug
out=$(cd examples/c && ./embed "$root/examples/actors")
echo "$out"
for expected in "echo replied: hello from C" 'kvcounter GET / -> 200 {"counter":3}' "event: host_stopped" "stopped cleanly"; do
    grep -qF "$expected" <<<"$out" || { echo "C example: missing \`$expected\`" >&2; exit 1; }
done

echo "== C API tests"
bash tests/c/run.sh debug

echo "== Go (cgo over libwasmhost)"
gotmp=$(mktemp -d)
trap 'rm -rf "$gotmp"' EXIT
export GOCACHE="$gotmp/cache" GOPATH="$gotmp/path" GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
(
    cd examples/go
    test -z "$(gofmt -l .)" || { echo "gofmt: $(gofmt -l .)" >&2; exit 1; }
    go vet ./...
    go test -count=1 -v ./... 2>&1 | grep -E '^(=== RUN|--- |ok|FAIL|PASS)'
    go run ./cmd/embed "$root/examples/actors"
)
echo "C and Go over the C ABI: all passed"
