# Shared set-up for the sBPF pipeline (sourced by sbf/build.sh and the Makefile's setup).
# Everything here is idempotent and quick when already done.

SBF_TOOLCHAIN="nightly-2026-10-29"
SBF_LINKER_VERSION="0.2.6"
SBF_TARGET_NAME="sbpf-solana-solana"
SBF_TARGET_JSON="$ROOT/sbf/$SBF_TARGET_NAME.json"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m[sbf]\033[0m %s\n' "$*" >&2; }

# The pinned nightly with rust-src (for -Z build-std), rustfmt and clippy.
sbf_ensure_toolchain() {
  if rustup run "$SBF_TOOLCHAIN" rustc --version >/dev/null 2>&1 &&
     [[ -d "$(rustup run "$SBF_TOOLCHAIN" rustc --print sysroot)/lib/rustlib/src/rust/library/std" ]] &&
     rustup component list --toolchain "$SBF_TOOLCHAIN" --installed 2>/dev/null | grep -q '^clippy' &&
     rustup component list --toolchain "$SBF_TOOLCHAIN" --installed 2>/dev/null | grep -q '^rustfmt' &&
     rustup target list --toolchain "$SBF_TOOLCHAIN" --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown'; then
    return
  fi
  # wasm32-unknown-unknown: the risk engine shipped in the TS package (crates/wasm).
  log "installing $SBF_TOOLCHAIN (rust-src, rustfmt, clippy, wasm32 target)"
  rustup toolchain install "$SBF_TOOLCHAIN" --profile minimal -c rust-src -c rustfmt -c clippy \
    -t wasm32-unknown-unknown
}

# sbpf-linker: the bitcode linker that turns LLVM's BPF output into an sBPF v3 ELF. It is
# built with any toolchain and loads the pinned nightly's LLVM (23) at link time.
sbf_ensure_linker() {
  if command -v sbpf-linker >/dev/null 2>&1 &&
     [[ "$(sbpf-linker --version 2>/dev/null)" == *"$SBF_LINKER_VERSION"* ]]; then
    return
  fi
  log "installing sbpf-linker $SBF_LINKER_VERSION (a few minutes on 2 cores)"
  local installer="$SBF_TOOLCHAIN"
  if rustup run stable cargo --version >/dev/null 2>&1; then installer=stable; fi
  (cd / && rustup run "$installer" cargo install sbpf-linker --version "$SBF_LINKER_VERSION" --locked)
}

# A copy of the toolchain's library sources with sbf/std-solana.patch applied, under
# target/. Rebuilt only when the toolchain or the patch changes. Prints its path.
sbf_patched_std() {
  local sysroot stamp dest
  sysroot="$(rustup run "$SBF_TOOLCHAIN" rustc --print sysroot)"
  dest="$ROOT/target/sbf-rust-src"
  stamp="$(rustup run "$SBF_TOOLCHAIN" rustc --version) $(sha256sum "$ROOT/sbf/std-solana.patch" | cut -c1-16)"
  if [[ -f "$dest/.stamp" && "$(cat "$dest/.stamp")" == "$stamp" ]]; then
    echo "$dest/library"
    return
  fi
  log "patching a copy of std for target_os = \"solana\""
  rm -rf "$dest"
  mkdir -p "$dest"
  cp -r "$sysroot/lib/rustlib/src/rust/library" "$dest/library"
  patch -s -p1 -d "$dest" < "$ROOT/sbf/std-solana.patch"
  echo "$stamp" > "$dest/.stamp"
  echo "$dest/library"
}
