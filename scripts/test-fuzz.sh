#!/usr/bin/env bash
# Runs every fuzz target of protocol/ (protocol/fuzz, see its README.md) under libFuzzer for a
# bounded time, starting from the committed corpus; fails if any target finds a crash, a failed
# invariant, a leak of input into an error, unbounded memory or a hang.
#
#   WASMHOST_FUZZ_SECONDS  seconds per target (default 6)
#   WASMHOST_FUZZ_JOBS     targets run at once (default 2, one per core)
#   WASMHOST_FUZZ_TARGETS  space-separated subset (default: every target)
#   WASMHOST_FUZZ_KEEP     a folder to keep the inputs libFuzzer found (default: a temp folder)
#
# Needs cargo-fuzz (scripts/setup.sh installs it). Builds without a sanitizer (stable Rust, no
# RUSTC_BOOTSTRAP); debug assertions and overflow checks stay on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz_dir="$root/protocol/fuzz"
cd "$fuzz_dir"

seconds=${WASMHOST_FUZZ_SECONDS:-6}
jobs=${WASMHOST_FUZZ_JOBS:-2}
build_flags=(-O --debug-assertions --sanitizer none --codegen-units 16)

command -v cargo-fuzz >/dev/null || { echo "test-fuzz: cargo-fuzz is missing (run scripts/setup.sh)" >&2; exit 1; }

start=$(date +%s)
echo "== fuzz: building the targets (cargo fuzz build ${build_flags[*]})"
cargo fuzz build "${build_flags[@]}"
built=$(date +%s)

host=$(rustc -vV | sed -n 's/^host: //p')
bin_dir="$fuzz_dir/target/$host/release"
targets=${WASMHOST_FUZZ_TARGETS:-$(cargo fuzz list)}
work=${WASMHOST_FUZZ_KEEP:-$(mktemp -d)}
mkdir -p "$work"

run_target() {
  local target=$1 found="$work/$1" log="$work/$1.log"
  mkdir -p "$found" "$fuzz_dir/artifacts/$target"
  # New inputs go to $found (first folder); the committed corpus is read, never written.
  if "$bin_dir/$target" "$found" "$fuzz_dir/corpus/$target" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$fuzz_dir/artifacts/$target/" >"$log" 2>&1; then
    local runs
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz: $target: $runs runs in ${seconds}s, no failure"
  else
    echo "fuzz: $target FAILED; the input is in $fuzz_dir/artifacts/$target/; log tail:"
    grep -v '^#' "$log" | tail -40
    return 1
  fi
}
export -f run_target
export work fuzz_dir bin_dir seconds

echo "== fuzz: $(echo "$targets" | wc -w) targets, ${seconds}s each, $jobs at a time"
status=0
printf '%s\n' $targets | xargs -P "$jobs" -I{} bash -c 'run_target "$@"' _ {} || status=1
end=$(date +%s)
echo "fuzz: build $((built - start))s, runs $((end - built))s, total $((end - start))s"
[ -n "${WASMHOST_FUZZ_KEEP:-}" ] || rm -rf "$work"
exit $status
