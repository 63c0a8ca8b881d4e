// The risk model's quote depeg contingency from TypeScript, on the compiled .so: the peg goes
// through the timelock as its own change kind, a keeper records the quote's USD price with
// `update_quote_peg`, a depegged quote raises the requirement the program reports, a missing
// record refuses the portfolio's own actions, and the guardian only raises the contingency.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  OracleKind,
  PERP_INSTRUMENT,
  decodeEvents,
  diffMarginScale,
  getPortfolioHealth,
  marginScale,
  marginBudgetIxs,
  migrateMarketIx,
  sponsoredFeedAccount,
  tradeIx,
  type QuotePegParamsArg,
} from "../app/src/index.js";
import { oracleConfig } from "./fixtures.js";
import { healthNumbers, recordCu } from "./harness.js";
import { DAY, SOL, client, health, setup, trade } from "./venue.js";

// Same ceilings as programs/xmargin/tests/tests/risk_model.rs.
const PEG_CEILING = 20_000;
const TIGHTEN_CEILING = 20_000;

const PEG_FEED = Buffer.alloc(32, 0x52);

function peg(thresholdBps: number, factorHundredths: number): QuotePegParamsArg {
  return { oracle: oracleConfig(PEG_FEED, OracleKind.PythPull), thresholdBps, factorHundredths, padding: [0, 0, 0, 0] };
}

/** A venue where trader a is long 1 SOL perp (100 lots at 150 USDC), and a's health as the
 * program computes it (a simulated `refresh_health`). */
async function longSolPerp() {
  const s = await setup();
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, PERP_INSTRUMENT, 100n, SOL))], [s.a.owner, s.b.owner]);
  const view = async () => {
    const simulate = (ixs: Parameters<typeof s.sb.simulate>[0]) => s.sb.simulate([...marginBudgetIxs(), ...ixs]);
    return healthNumbers(await getPortfolioHealth(client, s.a.portfolio, await health(s, s.a), simulate));
  };
  return { s, view };
}

test("a depegged quote raises the requirement; the guardian only raises the contingency", async () => {
  const { s, view } = await longSolPerp();
  const par = await view();

  const id = (await s.exchange()).nextRiskChangeId;
  const change = { quotePeg: { params: peg(9_900, 200) } };
  s.sb.send([await client.proposeRiskChangeIx({ payer: s.sb.payer.publicKey, governance: s.governance.publicKey, id, change })], [s.governance]);
  s.sb.warp(DAY);
  s.publish(SOL);
  const executed = s.sb.send([await client.executeRiskChangeIx(id, s.sb.payer.publicKey)]);
  assert.ok(decodeEvents(executed.logs, client.programId).some((e) => e.name === "quotePegChanged"));
  assert.equal((await s.registry()).quotePeg.params.thresholdBps, 9_900);

  // Never recorded: the portfolio's own health is refused until a keeper records a price.
  const refresh = await client.refreshHealthIx(s.a.portfolio, await health(s, s.a));
  assert.equal(s.sb.sendExpectingFailure([...marginBudgetIxs(), refresh]).errorName, "QuotePegStale");

  const pegAccount = sponsoredFeedAccount(PEG_FEED);
  s.sb.putPullOracle(pegAccount, PEG_FEED, 1_000_000n, 100n, -6);
  const atPar = s.sb.send([await client.updateQuotePegIx(pegAccount)]);
  recordCu("update_quote_peg", "records the quote's USD price (TS)", atPar.computeUnits, PEG_CEILING);
  assert.equal((await view()).maintenanceRequirement, par.maintenanceRequirement);

  // USDC at 0.95 (recorded at min(spot, EMA) − conf = 0.949905): 2 × 0.040095 of 150 more.
  s.sb.putPullOracle(pegAccount, PEG_FEED, 950_000n, 95n, -6);
  s.sb.send([await client.updateQuotePegIx(pegAccount)]);
  assert.equal((await s.registry()).quotePeg.priceE9.toString(), "949905000");
  const depegged = await view();
  const addon = 2 * (0.99 - 0.949905) * 150;
  assert.ok(Math.abs(depegged.maintenanceRequirement - par.maintenanceRequirement - addon) < 1e-6, `${par.maintenanceRequirement} → ${depegged.maintenanceRequirement}`);
  assert.ok(Math.abs(depegged.initialRequirement - par.initialRequirement - 1.5 * addon) < 1e-6);

  // The guardian raises the factor at once, and may not lower it.
  const raise = await client.tightenScenarioIx(s.guardian.publicKey, { quotePeg: { params: peg(9_900, 300) } });
  recordCu("tighten_scenario", "guardian: raise the quote peg (TS)", s.sb.send([raise], [s.guardian]).computeUnits, TIGHTEN_CEILING);
  const lower = await client.tightenScenarioIx(s.guardian.publicKey, { quotePeg: { params: peg(9_900, 200) } });
  assert.equal(s.sb.sendExpectingFailure([lower], [s.guardian]).errorName, "GuardianCannotLoosenScenario");
  assert.equal((await s.registry()).quotePeg.params.factorHundredths, 300);
});

test("the initial scale is governed: a raise scales the initial grid; the guardian only raises it", async () => {
  const { s, view } = await longSolPerp();
  const before = await view();
  const registry = await s.registry();
  assert.equal(registry.marginScale.initialScaleBps, 0);
  assert.throws(() => marginScale(9_999), /10000\.\.=30000/);
  assert.throws(() => marginScale(Number.NaN), /integer/);
  assert.deepEqual(diffMarginScale(registry.marginScale, marginScale(20_000)), [
    "initial scale: 1.50x -> 2.00x of the maintenance grid   (option marks are refused until re-marked)",
  ]);
  assert.match(diffMarginScale(marginScale(20_000), marginScale(18_000))[0] ?? "", /LOOSENS/);

  // The program refuses what the helper would: a raw out-of-range value, a fall beyond the step.
  const propose = async (bps: number) => {
    const id = (await s.exchange()).nextRiskChangeId;
    const params = { initialScaleBps: bps, padding: [0, 0, 0, 0, 0, 0] };
    return client.proposeMarginScaleIx({ payer: s.sb.payer.publicKey, governance: s.governance.publicKey, id, params });
  };
  assert.equal(s.sb.sendExpectingFailure([await propose(30_001)], [s.governance]).errorName, "InvalidInitialScale");
  assert.equal(s.sb.sendExpectingFailure([await propose(12_499)], [s.governance]).errorName, "InitialScaleStepTooLarge");

  const id = (await s.exchange()).nextRiskChangeId;
  s.sb.send([await propose(20_000)], [s.governance]);
  s.sb.warp(DAY);
  s.publish(SOL);
  const executed = s.sb.send([await client.executeRiskChangeIx(id, s.sb.payer.publicKey)]);
  const event = decodeEvents(executed.logs, client.programId).find((e) => e.name === "marginScaleChanged");
  assert.ok(event, "marginScaleChanged emitted");
  const after = await s.registry();
  assert.equal(after.marginScale.initialScaleBps, 20_000);
  s.sb.warp(1);
  s.publish(SOL);
  const scaled = await view();
  // A perp book: maintenance unchanged, the initial grid 2 / 1.5 as wide.
  assert.ok(Math.abs(scaled.maintenanceRequirement - before.maintenanceRequirement) < 1e-6 * before.maintenanceRequirement);
  assert.ok(scaled.initialRequirement > 1.2 * before.initialRequirement, `${before.initialRequirement} -> ${scaled.initialRequirement}`);
  assert.ok(scaled.initialRequirement <= (2 / 1.5) * before.initialRequirement + 1);

  // The guardian only raises it.
  const lower = await client.tightenScenarioIx(s.guardian.publicKey, { marginScale: { params: marginScale(19_000) } });
  assert.equal(s.sb.sendExpectingFailure([lower], [s.guardian]).errorName, "GuardianCannotLoosenScenario");
  s.sb.send([await client.tightenScenarioIx(s.guardian.publicKey, { marginScale: { params: marginScale(21_000) } })], [s.guardian]);
  assert.equal((await s.registry()).marginScale.initialScaleBps, 21_000);
});

test("migrate_market refuses a market already at the current layout, and anyone but governance", async () => {
  const s = await setup();
  const stranger = s.a.owner;
  assert.equal(s.sb.sendExpectingFailure([await migrateMarketIx(client, stranger.publicKey, 0)], [stranger]).errorName, "NotGovernance");
  const current = await migrateMarketIx(client, s.governance.publicKey, 0);
  assert.equal(s.sb.sendExpectingFailure([current], [s.governance]).errorName, "MarketNotMigratable");
});
