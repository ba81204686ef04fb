#!/usr/bin/env bash
# Fast checks that fail before the long tests do: formatting of every language, clippy on the
# workspace, and the seam rule (the lattice adapter never touches the host's internals).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "== gates: cargo fmt --check (workspace, tests/interop)"
cargo fmt --all --check
(cd tests/interop && cargo fmt --check)

echo "== gates: cargo clippy -D warnings (workspace, all targets)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== gates: mix format --check-formatted"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for dir in bindings/elixir examples/elixir; do
    (cd "$dir" && HOME="$tmp" MIX_HOME="$tmp/mix" mix format --check-formatted)
done

echo "== gates: gofmt"
unformatted=$(gofmt -l examples/go $(ls -d bindings/go 2>/dev/null))
[ -z "$unformatted" ] || { echo "gofmt would change: $unformatted" >&2; exit 1; }

echo "== gates: core/src/lattice/ does not use HostInner"
if grep -rn "HostInner" core/src/lattice/; then
    echo "the lattice adapter must reach the host through lattice::HostPort only" >&2
    exit 1
fi
echo "gates: all passed"
