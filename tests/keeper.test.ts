// The keeper (app/src/keeper.ts) on the compiled .so: it sends exactly what is due — funding
// after its interval, the volatility estimator, held series' marks at their age, accrued
// fees — skips the rest with the reason, sends nothing in a dry run, records a settlement
// price at expiry and then settles every portfolio holding the series, and counts every
// decision in its metrics. The SVM stands in for the RPC node through the `Chain` interface.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  Keeper,
  PERP_INSTRUMENT,
  decodeMarket,
  decodePortfolioAccount,
  keeperMetrics,
  marginBudgetIxs,
  marketPda,
  memoryLogger,
  metricsRegistry,
  seriesMask,
  tradeIx,
  updateMarksIx,
  vaultPda,
  type KeeperResult,
} from "../app/src/index.js";
import { svmChain } from "./harness.js";
import { SOL, SPL, client, setup, trade } from "./venue.js";

const brief = (rs: KeeperResult[], outcome: KeeperResult["outcome"]) =>
  rs.filter((r) => r.outcome === outcome).map((r) => `${r.task}: ${r.target}`).sort();

test("the keeper sends what is due, skips the rest with reasons, and settles an expiry", async () => {
  const s = await setup();
  // The call held (marks first, as every option trade needs), a perp fill for funding.
  s.sb.send([await updateMarksIx(client, 0, seriesMask(0, 1), s.oracle)]);
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, 0, 100n, 10_300_000n))], [s.a.owner, s.b.owner]);
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, PERP_INSTRUMENT, 100n, SOL))], [s.a.owner, s.b.owner]);
  const market = () => decodeMarket(s.sb.getAccount(marketPda(client.programId, client.exchange, 0))!.data);
  const payer = s.sb.fundedKeypair();
  const log = memoryLogger("keeper");
  const metrics = metricsRegistry("keeper");
  const on = keeperMetrics(metrics);
  const keeper = (dryRun: boolean) =>
    new Keeper(client, svmChain(s.sb, [s.a.portfolio, s.b.portfolio]), {
      payer,
      underlyingOracle: () => s.oracle,
      quote: { quoteMint: s.usdc, quoteVault: vaultPda(client.programId, client.exchange, s.usdc), tokenProgram: SPL },
      dryRun,
      log,
      on,
    });

  // An hour on: funding and the estimator are due, the marks at their age, fees accrued.
  s.sb.warp(3_600);
  s.publish(SOL);
  const due = ["funding: market 0", "marks: market 0 series mask 0x1", "sweep: market 0", "volatility: market 0"];
  const unchanged = market();
  assert.ok(unchanged.feesAccrued > 0n);
  const dry = await keeper(true).round();
  assert.deepEqual(brief(dry, "would send"), due);
  assert.deepEqual(market(), unchanged, "a dry run sends nothing");

  const first = await keeper(false).round();
  assert.deepEqual(brief(first, "sent"), due, JSON.stringify(log.lines));
  const now = s.sb.now().unixTimestamp;
  const m = market();
  assert.deepEqual([m.lastFundingTime, m.volatility.lastTime, m.marks[0]?.computedAt, m.feesAccrued], [now, now, now, 0n]);

  // At once again: nothing is due, and each skip says why.
  const second = await keeper(false).round();
  assert.deepEqual(brief(second, "sent"), []);
  const reasons = Object.fromEntries(second.filter((r) => r.outcome === "skipped").map((r) => [r.task, r.reason]));
  assert.deepEqual(reasons, {
    funding: "next in 3600 s",
    volatility: "next in 3600 s",
    marks: "1 held series fresh",
    sweep: "fees accrued 0 below the minimum",
  });

  // Expiry: the update at the expiry second is the settlement price.
  const expiry = m.series[0]!.expiry;
  s.sb.warp(Number(expiry - s.sb.now().unixTimestamp));
  s.publish(160_000_000n);
  s.sb.warp(10);
  const third = await keeper(false).round();
  assert.ok(brief(third, "sent").includes("settlement: market 0 series 0"), JSON.stringify(third));
  assert.equal(market().series[0]?.settlementPrice, 160_000_000n);
  const fourth = await keeper(false).round();
  const settled = brief(fourth, "sent").filter((r) => r.startsWith("settle:"));
  assert.deepEqual(settled, [`settle: portfolio ${s.a.portfolio.toBase58()} market 0`, `settle: portfolio ${s.b.portfolio.toBase58()} market 0`].sort());
  for (const t of [s.a, s.b]) {
    const p = decodePortfolioAccount(s.sb.getAccount(t.portfolio)!.data);
    assert.deepEqual(p.positions.filter((x) => x.active).map((x) => x.kind), ["perp"], "the expired call is settled");
  }
  assert.deepEqual(brief(await keeper(false).round(), "sent").filter((r) => r.startsWith("settle")), []);

  // Every decision is counted.
  const text = await metrics.metrics();
  assert.match(text, /xmargin_keeper_actions_total\{task="funding",outcome="sent",service="keeper"\} [1-9]/);
  assert.match(text, /xmargin_keeper_actions_total\{task="marks",outcome="skipped",service="keeper"\} [1-9]/);
  assert.match(text, /xmargin_keeper_actions_total\{task="settle",outcome="sent",service="keeper"\} 2/);
});

test("a failed send is reported and the round goes on; oracles come from the registry", async () => {
  const s = await setup();
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, PERP_INSTRUMENT, 100n, SOL))], [s.a.owner, s.b.owner]);
  s.sb.warp(3_600);
  s.publish(SOL);
  const chain = svmChain(s.sb, [s.a.portfolio, s.b.portfolio]);
  let sends = 0;
  const flaky = {
    ...chain,
    // The first send is lost (a race lost after the simulation, a dropped connection).
    async send(...args: Parameters<typeof chain.send>) {
      sends += 1;
      if (sends === 1) throw new Error("connection reset");
      return chain.send(...args);
    },
  };
  const keeper = new Keeper(client, flaky, {
    payer: s.sb.fundedKeypair(),
    quote: { quoteMint: s.usdc, quoteVault: vaultPda(client.programId, client.exchange, s.usdc), tokenProgram: SPL },
    tasks: new Set(["funding", "volatility", "sweep"] as const),
    dryRun: false,
    log: memoryLogger("keeper"),
  });
  const results = await keeper.round();
  assert.deepEqual(
    results.filter((r) => r.outcome !== "skipped").map((r) => [r.task, r.outcome, r.reason]),
    [
      ["funding", "failed", "connection reset"],
      ["volatility", "sent", undefined],
      ["sweep", "sent", undefined],
    ],
  );
  // The next round picks the failed one up again.
  assert.deepEqual(brief(await keeper.round(), "sent"), ["funding: market 0"]);
});
