// Trading from TypeScript, on the compiled .so: a market and a series created by governance,
// marks from the keeper crank, a perp and an option fill built by the app's client, positions
// decoded from the account, `quoteTrade` agreeing with the margin the program computes after
// the real fill, and rejections by their IDL names (including stale marks, then the fix).
import { test } from "node:test";
import assert from "node:assert/strict";

import { Keypair } from "@solana/web3.js";

import {
  Fx,
  InstrumentKind,
  PERP_INSTRUMENT,
  getPortfolioHealth,
  marginBudgetIxs,
  marketPda,
  marksBatches,
  quoteTrade,
  seriesMask,
  sweepFeesIx,
  tradeIx,
  updateMarksIx,
  vaultPda,
  type TradeParams,
} from "../app/src/index.js";
import { recordCu } from "./harness.js";
import { SOL, SPL, client, positions, setup, trade } from "./venue.js";

const TRADE_CEILING = 200_000;

test("fills from the TS client; quoteTrade is the program's own margin after the fill", async () => {
  const s = await setup();
  const marks = await updateMarksIx(client, 0, seriesMask(0, 1), s.oracle);
  recordCu("update_marks", "one series (TS)", s.sb.send([marks]).computeUnits, 33_000); // the scale issue's halving (66k)

  // The taker buys 1 SOL of the call at 10.30 USDC (model ≈ 10.3; band 2% of spot).
  const option = await trade(s, 0, 100n, 10_300_000n);
  const marketAndOracle = [marketPda(client.programId, client.exchange, 0), s.oracle];
  const simulate = (ixs: Parameters<typeof s.sb.simulate>[0]) => s.sb.simulate(ixs, [s.a.owner, s.b.owner]);
  const quote = await quoteTrade(client, option, [], marketAndOracle, simulate);
  // Exact values: 10,000 USDC deposited is exactly 10000 quote units.
  assert.equal(quote.before.equity.toString(), "10000", `equity before ${quote.before.equity}`);
  assert.equal(quote.before.initialRequirement.compare(Fx.ZERO), 0);
  assert.ok(quote.after.initialRequirement.compare(Fx.ZERO) > 0 && quote.after.initialHealth.compare(quote.before.initialHealth) < 0);

  const landed = s.sb.send([...marginBudgetIxs(), await tradeIx(client, option)], [s.a.owner, s.b.owner]);
  recordCu("trade", "option, empty portfolios (TS)", landed.computeUnits, TRADE_CEILING);
  const actual = await getPortfolioHealth(client, s.a.portfolio, marketAndOracle, (ixs) => s.sb.simulate(ixs));
  assert.deepEqual(actual, quote.after);

  const [mine] = await positions(s, s.a);
  const [theirs] = await positions(s, s.b);
  assert.deepEqual(
    [mine?.kind, mine?.series, mine?.sizeLots, theirs?.sizeLots],
    [InstrumentKind.Call, 0, 100n, -100n],
  );

  // A delta hedge: the taker sells 0.5 SOL of the perp at the oracle.
  const perp = await trade(s, PERP_INSTRUMENT, -50n, SOL);
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, perp)], [s.a.owner, s.b.owner]);
  const book = await positions(s, s.a);
  assert.deepEqual(book.map((p) => [p.kind, p.sizeLots]), [[InstrumentKind.Call, 100n], [InstrumentKind.Perp, -50n]]);
});

test("rejections carry their IDL names; stale marks are fixed by the keeper instruction", async () => {
  const s = await setup();
  s.sb.send([await updateMarksIx(client, 0, seriesMask(0, 1), s.oracle)]);
  const fails = async (p: TradeParams, signers: Keypair[], keeper: Parameters<typeof s.sb.send>[0] = []) =>
    s.sb.sendExpectingFailure([...marginBudgetIxs(), ...keeper, await tradeIx(client, p)], signers).errorName;
  const both = [s.a.owner, s.b.owner];
  assert.equal(await fails(await trade(s, PERP_INSTRUMENT, 10n, SOL * 2n), both), "PriceOutsideBand");
  assert.equal(await fails(await trade(s, PERP_INSTRUMENT, 10n, SOL + 1n), both), "PriceNotOnTick");
  assert.equal(await fails(await trade(s, PERP_INSTRUMENT, 10n, SOL, s.a, s.a), [s.a.owner]), "SamePortfolio");
  assert.equal(await fails(await trade(s, 5, 10n, SOL), both), "UnknownInstrument");
  assert.equal(
    s.sb.sendExpectingFailure([await updateMarksIx(client, 0, 0, s.oracle)]).errorName,
    "InvalidSeriesMask",
  );

  // The taker holds the call; an hour and a second later its marks are too old.
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, 0, 100n, 10_300_000n))], both);
  s.sb.warp(3_601);
  s.publish(SOL);
  const perp = await trade(s, PERP_INSTRUMENT, -50n, SOL);
  assert.equal(await fails(perp, both), "MarksTooOld");
  // The same fill with the keeper instruction in front goes through.
  const keeper = await updateMarksIx(client, 0, seriesMask(0, 1), s.oracle);
  s.sb.send([...marginBudgetIxs(), keeper, await tradeIx(client, perp)], both);
  assert.equal((await positions(s, s.a)).length, 2);
});

test("marksBatches keeps each call/put pair in one update_marks mask, at most 16 series each", () => {
  // Sixteen strikes, all calls first then all puts: index-order batches of 16 would split every pair.
  const listed = [0, 1].flatMap(() => Array.from({ length: 16 }, (_, i) => ({ strike: 150_000_000n + BigInt(i) * 10_000_000n, expiry: 1_800_000_000n })));
  const batches = marksBatches(listed);
  assert.equal(batches.length, 2);
  let covered = 0;
  for (const mask of batches) {
    assert.ok(mask.toString(2).replace(/0/g, "").length <= 16);
    for (let i = 0; i < 16; i++) assert.equal((mask >>> i) & 1, (mask >>> (i + 16)) & 1, `pair ${i} split`);
    assert.equal(covered & mask, 0);
    covered = (covered | mask) >>> 0;
  }
  assert.equal(covered, 0xffffffff);
  assert.deepEqual(marksBatches([]), []);
});

test("fees accrue in the market and sweep_fees moves them to the insurance vault; nothing left is refused", async () => {
  const s = await setup();
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, PERP_INSTRUMENT, 100n, SOL))], [s.a.owner, s.b.owner]);
  const quote = { quoteMint: s.usdc, quoteVault: vaultPda(client.programId, client.exchange, s.usdc), tokenProgram: SPL };
  const insurance0 = s.sb.tokenAmount(client.insuranceVault);
  const vault0 = s.sb.tokenAmount(quote.quoteVault);
  const landed = s.sb.send([await sweepFeesIx(client, 0, quote)], []);
  recordCu("sweep_fees", "ts: one market", landed.computeUnits, 30_000);
  const swept = s.sb.tokenAmount(client.insuranceVault) - insurance0;
  assert.ok(swept > 0n, "the trade's fees reached the insurance vault");
  assert.equal(vault0 - s.sb.tokenAmount(quote.quoteVault), swept);
  const again = s.sb.sendExpectingFailure([await sweepFeesIx(client, 0, quote)], []);
  assert.equal(again.errorName, "NothingToSweep");
  assert.equal(s.sb.tokenAmount(client.insuranceVault), insurance0 + swept, "the refusal moved nothing");
});
