#!/usr/bin/env bash
# Builds target/deploy/xmargin.so (sBPF v3) with upstream Rust + sbpf-linker, then the IDL.
# Idempotent: every step checks before it installs or rebuilds. See docs/build.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source sbf/env.sh

sbf_ensure_toolchain
sbf_ensure_linker
SRC_ROOT="$(sbf_patched_std)"

log "building xmargin.so (target $SBF_TARGET_JSON)"
# RUSTC_BOOTSTRAP_SYNTHETIC_TARGET: lets std build for a JSON target without the
#   `restricted_std` gate. __CARGO_TESTS_ONLY_SRC_ROOT: points -Z build-std at the
#   patched copy of the library sources (see sbf/std-solana.patch).
# Flags: panic=abort (no unwinding on-chain); static relocation model; lower-atomic
#   (single-threaded target: atomics become plain loads/stores, else "Cannot select:
#   AtomicSwap"); a 4096-byte stack frame, the SVM's frame size: with 8192 the program
#   links but reads the 6th and later function arguments as zero. Misaligned memory access
#   allowed (`--cpu-features=+allows-misaligned-mem-access`): the SVM loads and stores any
#   address unaligned (solana-sbpf's `MemoryMapping::load`/`store` are `read_unaligned`/
#   `write_unaligned`), and without it LLVM assembles every load from a byte array (a
#   `[u8; 16]` stored number, an oracle field at an odd offset, a pubkey) byte by byte:
#   a third of the code and ~7% of a health check's compute (measured: the .so 2.69 -> 1.68 MB,
#   refresh_health 182.5k -> 170.2k CU). LLVM's inline threshold at 1000 (default 225): on
#   sBPF a call costs its argument moves and a 128-bit result through memory, and the larger
#   functions are what the risk engine's hot paths call (measured: health −3.4%, trade −2.6%,
#   liquidation −1.9%; the .so 1.67 -> 2.92 MB, 3000 saved only 0.3% more at 4.9 MB).
RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1 \
__CARGO_TESTS_ONLY_SRC_ROOT="$SRC_ROOT" \
RUSTFLAGS="-C panic=abort -C relocation-model=static -C passes=lower-atomic -C link-arg=--llvm-args=-bpf-stack-size=${SBF_STACK_SIZE:-4096} -C link-arg=--cpu-features=+allows-misaligned-mem-access -C link-arg=--llvm-args=-inline-threshold=1000" \
  cargo build --release --locked -p xmargin -p xmargin-risk-bench ${SBF_FEATURES:+--features "xmargin/$SBF_FEATURES"} \
    --target "$SBF_TARGET_JSON" \
    -Z build-std=std,panic_abort -Z json-target-spec

mkdir -p "${SBF_OUT_DIR:-target/deploy}"
cp "${CARGO_TARGET_DIR:-target}/$SBF_TARGET_NAME/release/libxmargin.so" "${SBF_OUT_DIR:-target/deploy}/xmargin.so"
# The measurement program (programs/risk-bench): the engine's on-chain cost per stage.
cp "${CARGO_TARGET_DIR:-target}/$SBF_TARGET_NAME/release/libxmargin_risk_bench.so" "${SBF_OUT_DIR:-target/deploy}/risk_bench.so"
SO="${SBF_OUT_DIR:-target/deploy}/xmargin.so"
log "$SO: $(stat -c %s "$SO") bytes"

if [[ "${SBF_SKIP_IDL:-0}" != 1 ]]; then
  log "building the IDL"
  cargo run --locked -q -p xmargin-idl-gen -- "$ROOT"
fi
