#!/usr/bin/env bash
# A named profile of one instruction on the compiled .so (default: refresh_health at 32
# positions, from trading_cu), by register trace: exact per function (every executed sBPF
# instruction counted where it ran), not perturbed by instrumentation as the `cu-trace`
# build is. Optional developer tool (python3), not part of `make test`. See docs/scaling.md
# "Scaling on Solana" (Profiling).
#
#   scripts/sbf-profile/profile.sh [INSTRUCTION] [TOP]
#
# Steps: builds the program as build.sh does (same flags) keeping the linker's inputs and
# command; relinks them to target/sbf-profile/xmargin.so (the same bytes as the normal
# build) and to assembly, and names function entries (map_names.py); runs trading_cu with
# litesvm's register tracing on a patched copy of litesvm (litesvm-register-tracing.patch:
# the strict loader reads symbol labels from section headers that a stripped sBPF v3 ELF
# does not have), Cargo.lock restored afterwards; prints the profile (profile.py). To look
# inside one function: annotate.py with the trace profile.py names.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
source sbf/env.sh
INSTRUCTION="${1:-refresh_health}"
TOP="${2:-40}"
OUT="$ROOT/target/sbf-profile"
export SBF_PROFILE_DIR="$OUT" SBF_TOOLCHAIN
mkdir -p "$OUT"
SRC_ROOT="$(sbf_patched_std)"
# The flags of build.sh (kept in one place there).
RUSTFLAGS_SBF="$(sed -n 's/^RUSTFLAGS="\(.*\)" \\$/\1/p' sbf/build.sh | sed "s/\${SBF_STACK_SIZE:-4096}/4096/")"
[[ -n "$RUSTFLAGS_SBF" ]] || { echo "RUSTFLAGS not found in sbf/build.sh" >&2; exit 1; }
touch programs/xmargin/src/lib.rs
log "building with the linker's inputs kept"
RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1 __CARGO_TESTS_ONLY_SRC_ROOT="$SRC_ROOT" RUSTFLAGS="$RUSTFLAGS_SBF" \
  cargo rustc --release --locked -p xmargin --lib --crate-type cdylib --target "$SBF_TARGET_JSON" \
    -Z build-std=std,panic_abort -Z json-target-spec -- -C save-temps --print link-args \
    > "$OUT/link-args.txt"
python3 - "$OUT" <<'PY'
import json, shlex, sys
args = shlex.split(open(sys.argv[1] + '/link-args.txt').read().strip())
env, i = {}, 0
while '=' in args[i] and not args[i].startswith('/'):
    k, v = args[i].split('=', 1); env[k] = v; i += 1
json.dump({'env': env, 'cmd': args[i:]}, open(sys.argv[1] + '/link.json', 'w'))
PY
python3 scripts/sbf-profile/relink.py "$OUT/xmargin.so"
python3 scripts/sbf-profile/relink.py "$OUT/xmargin.s" --emit=asm
python3 scripts/sbf-profile/map_names.py "$OUT/xmargin.so" "$OUT/xmargin.s" "$OUT/names.txt"
LITESVM_SRC="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/litesvm-0.18.1 | head -1)"
rm -rf "$OUT/litesvm" "$OUT/trace"
cp -r "$LITESVM_SRC" "$OUT/litesvm"
patch -s -p1 -d "$OUT/litesvm" < scripts/sbf-profile/litesvm-register-tracing.patch
cp Cargo.lock "$OUT/Cargo.lock.saved"
trap 'cp "$OUT/Cargo.lock.saved" Cargo.lock' EXIT
log "tracing trading_cu (a few minutes, ~1.5 GB of traces)"
SBF_TRACE_DIR="$OUT/trace" XMARGIN_SO="$OUT/xmargin.so" \
  cargo --config "patch.crates-io.litesvm.path='$OUT/litesvm'" test -q -p xmargin-litesvm-tests \
    --test trading_cu -- --nocapture | grep "CU" || true
python3 scripts/sbf-profile/profile.py "$OUT/trace" "$OUT/names.txt" "$INSTRUCTION" "$TOP"
