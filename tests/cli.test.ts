// The services' command lines: every command documents its flags in --help, and bad input —
// an unknown or misspelled flag, a stray argument (`--dry-run yes`), a value out of range or
// of the wrong kind — is an error naming the flag, with exit code 1, before anything runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { Keypair } from "@solana/web3.js";

import { ROOT } from "./harness.js";

function cli(bin: "keeper" | "liquidator" | "governance", args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "app/src/bin", `${bin}.ts`), ...args], { cwd: ROOT, encoding: "utf8" });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test("--help lists every command and flag", () => {
  const keeper = cli("keeper", ["--help"]);
  assert.equal(keeper.status, 0);
  assert.match(keeper.out, /run \[options\][\s\S]*once \[options\]/);
  const run = cli("keeper", ["run", "--help"]);
  for (const flag of ["--rpc", "--keypair", "--program-id", "--interval", "--tasks", "--marks-refresh", "--sweep-minimum", "--oracle", "--settlement-update", "--metrics-port", "--dry-run", "--max-priority-fee", "--log-level", "--rounds"]) {
    assert.ok(run.out.includes(flag), `keeper run --help lacks ${flag}`);
  }
  const liq = cli("liquidator", ["--help"]);
  assert.match(liq.out, /run \[options\][\s\S]*once \[options\][\s\S]*open-portfolio \[options\]/);
  const open = cli("liquidator", ["open-portfolio", "--help"]);
  for (const flag of ["--deposit", "--index", "--source", "--program-id"]) assert.ok(open.out.includes(flag), `open-portfolio --help lacks ${flag}`);
});

test("bad flags and values are refused before anything runs", () => {
  const cases: [("keeper" | "liquidator"), string[], RegExp][] = [
    ["liquidator", ["run", "--dryrun"], /unknown option '--dryrun'[\s\S]*Did you mean --dry-run\?/],
    ["liquidator", ["run", "--dry-run", "yes"], /too many arguments for 'run'/],
    ["liquidator", ["frobnicate"], /unknown command 'frobnicate'/],
    ["liquidator", ["run", "--interval", "0"], /--interval <seconds>' argument '0' is invalid\. must be in 1\.\.=86400/],
    ["liquidator", ["run", "--program-id", "not-a-key"], /--program-id <id>' argument 'not-a-key' is invalid\. not a base58 public key/],
    ["liquidator", ["open-portfolio"], /required option '--deposit <amount>' not specified/],
    ["keeper", ["once", "--tasks", "funding,bogus"], /unknown task "bogus"/],
    ["keeper", ["once", "--marks-refresh", "NaN"], /--marks-refresh <fraction>' argument 'NaN' is invalid/],
    ["keeper", ["once", "--marks-refresh", "1.5"], /expected a number in \(0, 1\]/],
    ["keeper", ["once", "--sweep-minimum", "-5"], /--sweep-minimum <native>' argument '-5' is invalid/],
    ["keeper", ["once", "--oracle", "0"], /expected KEY=ACCOUNT/],
    ["keeper", ["once", "--oracle", "sol=11111111111111111111111111111111"], /"sol" is not an underlying index/],
    ["keeper", ["once", "--settlement-update", "0=11111111111111111111111111111111"], /"0" is not UNDERLYING:SERIES/],
    ["keeper", ["once", "--interval", "5"], /unknown option '--interval'/],
    ["liquidator", ["once", "--metrics-port", "9465"], /unknown option '--metrics-port'/],
    ["liquidator", ["run", "--oracle", "abc=11111111111111111111111111111111"], /is not an underlying index or a 32-byte feed id in hex/],
    ["keeper", ["once", "--log-level", "loud"], /Allowed choices are debug, info, warn, error/],
  ];
  for (const [bin, args, message] of cases) {
    const r = cli(bin, args);
    assert.equal(r.status, 1, `${bin} ${args.join(" ")} exited ${r.status}: ${r.err}`);
    assert.match(r.err, message, `${bin} ${args.join(" ")}`);
  }
});

test("governance refuses a signer that is not the authority, and an export without one", () => {
  const dir = join(ROOT, "target", "cli-test");
  mkdirSync(dir, { recursive: true });
  const key = join(dir, "gov.json");
  writeFileSync(key, JSON.stringify(Array.from(Keypair.generate().secretKey)));
  const other = Keypair.generate().publicKey.toBase58();
  const mismatch = cli("governance", ["propose", "margin-scale", "--set", "initialScaleBps=16000", "--keypair", key, "--authority", other, "--rpc", "http://127.0.0.1:1"]);
  assert.equal(mismatch.status, 1);
  assert.match(mismatch.err, new RegExp(`--authority ${other} is not the --keypair's key`));
  const exported = cli("governance", ["propose", "margin-scale", "--set", "initialScaleBps=16000", "--export-unsigned", "--rpc", "http://127.0.0.1:1"]);
  assert.equal(exported.status, 1);
  assert.match(exported.err, /--export-unsigned needs --authority PUBKEY/);
  const kind = cli("governance", ["propose", "everything"]);
  assert.match(kind.err, /argument 'kind'\. one of collateral, list-underlying, underlying, liquidation, offset-group, quote-peg, margin-scale/);
});

test("a missing keypair file is named, and nothing is sent", () => {
  const r = cli("keeper", ["once", "--keypair", "/nonexistent/k.json", "--rpc", "http://127.0.0.1:1"]);
  assert.equal(r.status, 1);
  assert.match(r.err, /keypair \/nonexistent\/k\.json: ENOENT/);
});
