// Write locks of the hot instructions (issue 16: measure scale, not only cost). Every
// transaction writing one account is serialized with every other, and may share only 12M CU
// per block: an instruction that writes a venue-wide account (the registry, the quote or
// insurance vault) runs one at a time across the whole venue. The venue-wide writes of today
// are a known gap, listed in `VENUE_WRITE_ALLOWLIST` (scripts/write-locks.mjs): a NEW
// venue-wide write fails here, and so does an allowlisted one that is gone (shrink the list
// as the gap closes). The same classification writes `write_locks` in target/cu-report.json.
import { test } from "node:test";
import assert from "node:assert/strict";

import idl from "../app/src/idl/xmargin.json" with { type: "json" };
import {
  HOT_INSTRUCTIONS,
  OPTIONAL_HOT_INSTRUCTIONS,
  VENUE_WRITE_ALLOWLIST,
  classifyAccount,
  throughput,
  throughputCu,
  writeLockReport,
  writeLocks,
  type Idl,
} from "../scripts/write-locks.mjs";

const locks = writeLocks(idl as unknown as Idl);

test("every hot instruction is in the IDL and has an allowlist entry", () => {
  const present = new Set(locks.map((w) => w.instruction));
  for (const name of HOT_INSTRUCTIONS) {
    if (OPTIONAL_HOT_INSTRUCTIONS.includes(name)) continue;
    assert.ok(present.has(name), `${name}: a hot instruction missing from the IDL (renamed?)`);
  }
  for (const name of present) {
    assert.ok(VENUE_WRITE_ALLOWLIST[name], `${name}: no VENUE_WRITE_ALLOWLIST entry — add one (empty if it writes no venue account)`);
  }
  for (const name of Object.keys(VENUE_WRITE_ALLOWLIST)) {
    assert.ok(present.has(name), `${name}: an allowlist entry for an instruction the IDL no longer has`);
  }
});

test("every writable account of a hot instruction has a known scope", () => {
  for (const w of locks) {
    for (const a of w.writable) {
      assert.notEqual(
        a.scope,
        "other",
        `${w.instruction}.${a.name}: writable, scope unknown — give it seeds in the IDL or an entry in SCOPE_BY_NAME`,
      );
    }
  }
});

test("no hot instruction writes a venue-wide account outside its allowlist", () => {
  for (const w of locks) {
    const allowed = VENUE_WRITE_ALLOWLIST[w.instruction] ?? [];
    const added = w.venue_wide.filter((n) => !allowed.includes(n));
    assert.deepEqual(added, [], `${w.instruction}: a new venue-wide write lock (serializes it across every market)`);
  }
});

test("every allowlisted venue-wide write is still made (shrink the allowlist as the gap closes)", () => {
  for (const w of locks) {
    const gone = (VENUE_WRITE_ALLOWLIST[w.instruction] ?? []).filter((n) => !w.venue_wide.includes(n));
    assert.deepEqual(gone, [], `${w.instruction}: no longer writes these venue-wide accounts — remove them from VENUE_WRITE_ALLOWLIST`);
  }
});

test("scope classification: from seeds, then by name", () => {
  const konst = (s: string) => ({ kind: "const", value: [...Buffer.from(s)] });
  const acc = (path: string) => ({ kind: "account", path });
  const arg = (path: string) => ({ kind: "arg", path });
  assert.equal(classifyAccount({ name: "exchange", pda: { seeds: [konst("exchange")] } }), "venue");
  assert.equal(classifyAccount({ name: "registry", pda: { seeds: [konst("registry"), acc("exchange")] } }), "venue");
  assert.equal(classifyAccount({ name: "vault", pda: { seeds: [konst("vault"), acc("exchange"), acc("quote_mint")] } }), "venue");
  assert.equal(classifyAccount({ name: "vault", pda: { seeds: [konst("vault"), acc("exchange"), acc("mint")] } }), "asset");
  assert.equal(classifyAccount({ name: "m", pda: { seeds: [konst("market"), acc("exchange"), arg("args.underlying")] } }), "market");
  assert.equal(classifyAccount({ name: "m", pda: { seeds: [konst("x"), acc("market")] } }), "market");
  assert.equal(classifyAccount({ name: "p", pda: { seeds: [konst("portfolio"), acc("owner"), arg("args.index")] } }), "portfolio");
  assert.equal(classifyAccount({ name: "risk_change", pda: { seeds: [konst("risk_change"), acc("exchange"), arg("args.id")] } }), "other");
  // Derived under another program (an associated token account): not from its seeds.
  assert.equal(classifyAccount({ name: "ata", pda: { seeds: [konst("x")], program: {} } }), "other");
  assert.equal(classifyAccount({ name: "market" }), "market");
  assert.equal(classifyAccount({ name: "quote_vault" }), "venue");
  assert.equal(classifyAccount({ name: "insurance_vault" }), "venue");
  assert.equal(classifyAccount({ name: "vault" }), "asset");
  assert.equal(classifyAccount({ name: "taker" }), "portfolio");
  assert.equal(classifyAccount({ name: "unknown" }), "other");
});

test("throughput arithmetic on fixed numbers", () => {
  // A venue-wide write: 12M / 500k = 24 per block whatever the number of markets.
  const venue = throughput(500_000, ["venue", "market", "portfolio"]);
  assert.deepEqual(venue.per_block, { per_market: 24, venue_wide: { "1": 24, "8": 24, "32": 24 } });
  assert.deepEqual(venue.per_second, { per_market: 60, venue_wide: { "1": 60, "8": 60, "32": 60 } });
  // Per market only: N × floor(12M / 700k) = N × 17, capped by floor(48M / 700k) = 68.
  const market = throughput(700_000, ["market"]);
  assert.deepEqual(market.per_block, { per_market: 17, venue_wide: { "1": 17, "8": 68, "32": 68 } });
  assert.deepEqual(market.per_second, { per_market: 42.5, venue_wide: { "1": 42.5, "8": 170, "32": 170 } });
  // Small CU: 32 × floor(12M / 100k) = 3840 above floor(48M / 100k) = 480; 8 × 120 = 960 too.
  assert.deepEqual(throughput(100_000, ["market", "portfolio"]).per_block.venue_wide, { "1": 120, "8": 480, "32": 480 });
  assert.deepEqual(throughput(3_000_000, ["market"]).per_block.venue_wide, { "1": 4, "8": 16, "32": 16 });
  // No shared lock (a view, or only portfolios and assets): the block limit alone.
  assert.deepEqual(throughput(400_000, ["portfolio", "asset"]).per_block, {
    per_market: null,
    venue_wide: { "1": 120, "8": 120, "32": 120 },
  });
  assert.deepEqual(throughput(400_000, []).per_block, { per_market: null, venue_wide: { "1": 120, "8": 120, "32": 120 } });
  // Not measured: every figure null, same shape.
  assert.deepEqual(throughput(null, ["venue"]), {
    per_block: { per_market: null, venue_wide: { "1": null, "8": null, "32": null } },
    per_second: { per_market: null, venue_wide: { "1": null, "8": null, "32": null } },
  });
  assert.throws(() => throughput(0, ["venue"]));
});

test("the CU used: the largest measured, 32-position scenarios for trade and liquidate_positions", () => {
  const ms = [
    { instruction: "trade", scenario: "two 32-position portfolios", cu: 549_175 },
    { instruction: "trade", scenario: "two 64-lot portfolios", cu: 900_000 },
    { instruction: "trade", scenario: "perp, two empty portfolios", cu: 69_898 },
    { instruction: "update_marks", scenario: "one series", cu: 65_582 },
    { instruction: "update_marks", scenario: "sixteen series", cu: 753_394 },
    { instruction: "liquidate_positions", scenario: "perp, 1-position target", cu: 116_091 },
  ];
  assert.deepEqual(throughputCu("trade", ms), { cu: 549_175, scenario: "two 32-position portfolios" });
  assert.deepEqual(throughputCu("update_marks", ms), { cu: 753_394, scenario: "sixteen series" });
  assert.deepEqual(throughputCu("liquidate_positions", ms), { cu: null, scenario: null });
  assert.deepEqual(throughputCu("deposit", ms), { cu: null, scenario: null });

  const report = writeLockReport(idl as unknown as Idl, ms);
  const trade = report.find((r) => r.instruction === "trade");
  assert.ok(trade);
  assert.equal(trade.cu, 549_175);
  // No venue-wide lock: per market the 12M account limit, across 32 markets the block's 48M.
  assert.equal(trade.per_block.per_market, Math.floor(12e6 / 549_175));
  assert.equal(trade.per_block.venue_wide["32"], Math.floor(48e6 / 549_175));
  const deposit = report.find((r) => r.instruction === "deposit");
  assert.ok(deposit);
  assert.equal(deposit.cu, null);
  assert.equal(deposit.per_block.venue_wide["8"], null);
});
