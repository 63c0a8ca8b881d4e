# xmargin: the two commands are `make demo` (the main job) and `make test` (everything).
# Both install what they need (pinned Rust nightly, sbpf-linker, npm packages) when missing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO := cargo
# CI and the README's timings use these; a warm run skips every install.
NPM_STAMP := node_modules/.package-lock.json

WASM := app/wasm/xmargin_engine.wasm

.PHONY: wasm web setup-browser demo test setup setup-rust setup-node sbf idl cu fmt-check clippy unit rust-svm ts-typecheck ts-test localnet localnet-build clean

## The main job: the compiled program in an in-process SVM, an exchange, its state.
## The builds' output goes to target/demo-build.log (shown only when a build fails), so the
## demo's own output is what one reads.
demo: setup
	@mkdir -p target
	@echo "building the program and the demo (log: target/demo-build.log)"
	@{ ./sbf/build.sh && $(CARGO) build --locked -q -p xmargin-cli; } > target/demo-build.log 2>&1 || { cat target/demo-build.log; exit 1; }
	@$(CARGO) run --locked -q -p xmargin-cli -- demo

## Everything, in the order CI runs it.
test: setup fmt-check clippy unit sbf rust-svm ts-typecheck ts-test
	@echo "make test: all checks passed"

setup: setup-rust setup-node

setup-rust:
	@ROOT="$(CURDIR)" bash -c 'source sbf/env.sh; sbf_ensure_toolchain; sbf_ensure_linker'

setup-node: $(NPM_STAMP)
# `npm install` (not `npm ci`) on purpose: it installs the committed lock's versions, but
# `npm ci` also demands lock entries for litesvm's other-platform binaries (darwin, musl,
# arm64), which our package registry does not serve, and so always fails here.
$(NPM_STAMP): package.json package-lock.json app/package.json
	npm install --no-audit --no-fund
	@touch $(NPM_STAMP)

## target/deploy/xmargin.so (sBPF v3) + target/idl/xmargin.json + app/src/idl/*.
sbf:
	./sbf/build.sh

idl:
	$(CARGO) run --locked -q -p xmargin-idl-gen -- "$(CURDIR)"

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

## Host unit tests (every crate but the LiteSVM suite, which needs the .so).
unit:
	$(CARGO) test --locked --workspace --exclude xmargin-litesvm-tests

## The compiled .so in LiteSVM from Rust, with compute-unit ceilings.
rust-svm: sbf
	$(CARGO) test --locked -p xmargin-litesvm-tests

## app/wasm/xmargin_engine.wasm: the program's `refresh_health` (crates/wasm) for the TS
## client's `computeHealth`; cargo decides whether anything changed (own target dir: a
## wasm32 build must not evict the host or sBPF caches).
## Build scripts and proc macros at opt-level 0 here: they only generate code (the module is
## the same), and a cold build takes 3 min 25 s instead of 5 min 30 s on 2 cores.
wasm: setup-rust
	$(CARGO) build --locked -q --release -p xmargin-wasm --target wasm32-unknown-unknown --target-dir target/wasm \
		--config 'profile.release.build-override.opt-level=0'
	@mkdir -p app/wasm
	@cp target/wasm/wasm32-unknown-unknown/release/xmargin_wasm.wasm $(WASM)

ts-typecheck: setup-node sbf
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p web/tsconfig.json

## Debian's Chromium for the risk page's browser tests (tests/web.test.ts), installed when
## missing (as root, as CI runs; nothing downloads a browser at run time).
setup-browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## The risk page (web/): built into target/web and served on http://127.0.0.1:8080/ (PORT=...
## for another port); everything is computed in the browser by the engine (WebAssembly).
web: setup-node wasm
	node --import tsx scripts/web/serve.ts

ts-test: setup-node sbf wasm localnet-build setup-browser
	npm test

## The local network's binary (localnet/: surfpool-core on LiteSVM, a cargo workspace of its
## own so clippy and the unit tests never compile its ~1,200 crates), built when missing or stale.
localnet-build:
	cd localnet && CARGO_TARGET_DIR=$(CURDIR)/target/localnet $(CARGO) build --release --locked -q

## A local JSON-RPC network (127.0.0.1:8899, websockets :8900) with the program and a small
## venue on it, for trying the services (docs/operations.md); Ctrl-C stops it.
localnet: setup-node sbf localnet-build
	node --import tsx scripts/localnet/start.ts

## target/cu-report.json: every measured instruction and scenario, from the Rust and TS suites,
## and the write locks of the hot instructions with the throughput they allow.
cu: setup sbf
	rm -rf target/cu
	$(CARGO) test --locked -p xmargin-litesvm-tests
	npm test
	node scripts/cu-report.mjs target/cu/measurements.jsonl target/cu-report.json

clean:
	$(CARGO) clean
	rm -rf node_modules
