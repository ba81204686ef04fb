#!/usr/bin/env bash
# Build the example actors (wasm32, Debian's rustc 1.63), copy the unsigned modules to
# unsigned/, compile the .wat fixtures, and sign the actors with the wasmhost CLI into ./<name>.wasm.
#
# Usage: examples/actors/build.sh [--no-sign] [--sign-only]
#   --no-sign     build only (unsigned/ and fixtures/), never touch the signed modules
#   --sign-only   skip the cargo build; sign what is in unsigned/
# Environment:
#   WASMHOST_ISSUER_SEED  account seed (SA...) that signs the claims; default: keys/account.nk
#   WASMHOST_CLI          path to a built `wasmhost` binary; default: `cargo run -q -p wasmhost-cli --release --`
#                         from the repository root (rustup's cargo)
#
# Needs (Debian 12): rustc cargo libstd-rust-dev-wasm32 lld-14 (rustc's rust-lld is a link to lld-14) wabt
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

ACTORS=(echo kvcounter pinger pong relay)
do_build=1
do_sign=1
for arg in "$@"; do
    case "$arg" in
        --no-sign) do_sign=0 ;;
        --sign-only) do_build=0 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

say() { printf '==> %s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

# Signing options per actor: display name, capability contracts, call alias.
sign_args() {
    case "$1" in
        echo)      echo "--name Echo --cap wasmcloud:httpserver" ;;
        kvcounter) echo "--name KVCounter --cap wasmcloud:httpserver --cap wasmcloud:keyvalue" ;;
        pinger)    echo "--name Pinger --cap wasmcloud:httpserver" ;;
        pong)      echo "--name Pong --alias wasmhost/pong" ;;
        relay)     echo "--name Relay --cap wasmcloud:httpserver --cap wasmcloud:keyvalue" ;;
        *) die "no signing options for $1" ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# 1. cargo build for wasm32-unknown-unknown with Debian's toolchain
if [ "$do_build" = 1 ]; then
    [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] ||
        die "Debian's rustc/cargo are missing: apt-get install -y rustc cargo libstd-rust-dev-wasm32 lld-14"
    [ -d /usr/lib/rustlib/wasm32-unknown-unknown ] ||
        die "no wasm32 std for /usr/bin/rustc: apt-get install -y libstd-rust-dev-wasm32"
    [ -e /usr/bin/rust-lld ] || command -v rust-lld >/dev/null 2>&1 ||
        die "rust-lld (the wasm linker) is missing: apt-get install -y lld-14"

    say "cargo build (Debian rustc $(/usr/bin/rustc --version | cut -d' ' -f2), --locked, release, wasm32-unknown-unknown)"
    start=$(date +%s)
    # RUSTC=/usr/bin/rustc: rustup's rustc has no wasm32 std here; rustup's cargo cannot drive rustc 1.63.
    # RUSTC_BOOTSTRAP=1 + -Z sparse-registry: cargo 1.65 reads the crates.io sparse index.
    # --remap-path-prefix: panic-location strings name dependency sources under $CARGO_HOME; remap
    # it so the module bytes (and so the claims hash) do not depend on the home directory.
    # --compress-relocations: without it the linker leaves padded LEB128 immediates, which wascap
    # 0.8 (parity-wasm) re-encodes before hashing: 0.5x hosts would then see a hash mismatch.
    cargo_home="${CARGO_HOME:-$HOME/.cargo}"
    RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo -C link-arg=--compress-relocations ${RUSTFLAGS:-}" \
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_REGISTRIES_CRATES_IO_PROTOCOL=sparse \
        /usr/bin/cargo -Z sparse-registry build --locked --release --target wasm32-unknown-unknown
    say "cargo build took $(( $(date +%s) - start )) s"

    mkdir -p unsigned
    for a in "${ACTORS[@]}"; do
        cp "target/wasm32-unknown-unknown/release/$a.wasm" "unsigned/$a.wasm"
    done

    # 2. the .wat fixtures
    if command -v wat2wasm >/dev/null 2>&1; then
        say "wat2wasm fixtures/*.wat"
        for w in fixtures/*.wat; do
            wat2wasm "$w" -o "${w%.wat}.wasm"
        done
    else
        say "wat2wasm not found (apt-get install -y wabt): keeping the committed fixtures/*.wasm"
    fi

    if command -v wasm-validate >/dev/null 2>&1; then
        for m in unsigned/*.wasm fixtures/*.wasm; do
            wasm-validate "$m" || die "invalid module: $m"
        done
        say "wasm-validate: all modules valid"
    fi
    for a in "${ACTORS[@]}"; do
        printf '    unsigned/%-16s %7d bytes\n' "$a.wasm" "$(stat -c %s "unsigned/$a.wasm")"
    done
fi

# ---------------------------------------------------------------------------------------------
# 3. signing with our CLI: `wasmhost claims sign FILE --name N --cap C... [--alias A]
#    --issuer SEED --subject SEED --rev N --ver V -o OUT`
[ "$do_sign" = 1 ] || { say "signing not requested (--no-sign)"; exit 0; }

issuer="${WASMHOST_ISSUER_SEED:-$(tr -d '[:space:]' < keys/account.nk)}"

if [ -n "${WASMHOST_CLI:-}" ]; then
    cli=("$WASMHOST_CLI")
else
    # rustup's cargo (first on PATH), not Debian's: the CLI is built with Rust 1.95.
    cli=(env -u RUSTC -u RUSTC_BOOTSTRAP cargo run -q --manifest-path "$root/Cargo.toml" -p wasmhost-cli --release --)
fi

skip_signing() {
    echo
    echo "############################################################################"
    echo "# SIGNING SKIPPED: $1"
    echo "# The unsigned modules are in examples/actors/unsigned/; the signed"
    echo "# examples/actors/<name>.wasm files were NOT updated."
    echo "# When \`wasmhost claims sign\` exists, run: examples/actors/build.sh --sign-only"
    echo "############################################################################"
    exit 0
}

if [ -z "${WASMHOST_CLI:-}" ]; then
    [ -f "$root/cli/Cargo.toml" ] || skip_signing "the wasmhost CLI crate (cli/) does not exist"
    # cheap check before a release build of the CLI: its sources must mention the subcommand
    grep -rqs -e 'claims' "$root/cli/src" && grep -rqs -e 'sign' "$root/cli/src" ||
        skip_signing "cli/src has no \`claims sign\` command yet"
fi
say "checking for \`wasmhost claims sign\` (${cli[*]})"
if ! help_text="$("${cli[@]}" claims sign --help 2>&1)"; then
    printf '%s\n' "$help_text" | tail -n 5 | sed 's/^/    /'
    skip_signing "\`wasmhost claims sign\` is not available yet"
fi

for a in "${ACTORS[@]}"; do
    [ -f "unsigned/$a.wasm" ] || die "unsigned/$a.wasm is missing: run build.sh without --sign-only"
    subject="$(tr -d '[:space:]' < "keys/$a.nk")"
    # shellcheck disable=SC2046  # sign_args is a list of words on purpose
    "${cli[@]}" claims sign "unsigned/$a.wasm" $(sign_args "$a") \
        --rev 1 --ver 0.1.0 --issuer "$issuer" --subject "$subject" -o "$a.wasm"
    printf '    signed %-14s %7d bytes  subject %s\n' "$a.wasm" "$(stat -c %s "$a.wasm")" "$(cat "keys/$a.pub")"
done
say "signed ${#ACTORS[@]} actors with issuer $(if [ -z "${WASMHOST_ISSUER_SEED:-}" ]; then cat keys/account.pub; else echo '(WASMHOST_ISSUER_SEED)'; fi)"
