#!/usr/bin/env bash
# Starts the xmargin local network, building it first only if the binary is missing or older
# than any of its sources. All arguments go to the binary (see --help).
# Build output goes to stderr, so stdout carries only the binary's own "localnet ready" line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Set explicitly (not only via .cargo/config.toml) so a CARGO_TARGET_DIR in the caller's
# environment cannot make cargo build somewhere other than where this script looks.
export CARGO_TARGET_DIR="$here/../target/localnet"
# release (default): 17 min cold build, starts in ~0.13 s, ~8 ms per simulated transaction.
# LOCALNET_PROFILE=dev: 9.5 min cold build, starts in ~1.1 s, ~26 ms per simulated transaction.
profile="${LOCALNET_PROFILE:-release}"
case $profile in
  release) bin="$CARGO_TARGET_DIR/release/xmargin-localnet" ;;
  dev) bin="$CARGO_TARGET_DIR/debug/xmargin-localnet" ;;
  *) echo "run.sh: LOCALNET_PROFILE must be release or dev, not '$profile'" >&2; exit 2 ;;
esac

stale=0
if [[ ! -x $bin ]]; then
  stale=1
else
  for src in "$here"/Cargo.toml "$here"/Cargo.lock "$here"/rust-toolchain.toml \
             "$here"/.cargo/config.toml "$here"/src/*.rs; do
    if [[ $src -nt $bin ]]; then stale=1; break; fi
  done
fi

if ((stale)); then
  # --locked: build exactly the committed Cargo.lock, never re-resolve against the registry.
  (cd "$here" && cargo build --profile "$profile" --locked) >&2
  # cargo leaves the binary untouched when only a source's mtime changed; touch it so the
  # next run sees it as fresh instead of invoking cargo again.
  touch "$bin"
fi

exec "$bin" "$@"
