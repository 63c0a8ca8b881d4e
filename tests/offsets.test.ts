// Capital-efficiency governance from TypeScript, on the compiled .so: a collateral linked to
// an underlying and a correlation offset group, each through the timelock with the
// governance diff, and the guardian's tightening (unlink, lower or dissolve a group) at once.
import { test } from "node:test";
import assert from "node:assert/strict";

import BN from "bn.js";

import {
  XmarginClient,
  collateralLink,
  decodeEvents,
  diffCollateralParams,
  diffOffsetGroup,
  offsetGroup,
  offsetGroupMembers,
  planCollateralChange,
  riskParamsOf,
  unlinked,
} from "../app/src/index.js";
import { adaptiveUnderlying, governedExchange, listWrappedBtc } from "./fixtures.js";
import { Sandbox, recordCu } from "./harness.js";

const client = new XmarginClient();
const DAY = 86_400;
const CEILING = 40_000;
// Same ceiling as programs/xmargin/tests/tests/offsets_governance.rs.
const OFFSETS_CEILING = 10_000;

/** An exchange with three underlyings (BTC, ETH, SOL) listed through the timelock and wrapped
 * BTC listed as collateral 1. */
async function venue() {
  const sb = new Sandbox();
  const { governance, guardian, usdc, exchange, registry } = await governedExchange(sb, client, DAY);
  const ids: bigint[] = [];
  for (const byte of [0x71, 0x72, 0x73]) {
    const id = (await exchange()).nextRiskChangeId;
    const change = { listUnderlying: { config: adaptiveUnderlying(Buffer.alloc(32, byte), 0) } };
    sb.send([await client.proposeRiskChangeIx({ payer: sb.payer.publicKey, governance: governance.publicKey, id, change })], [governance]);
    ids.push(id);
  }
  sb.warp(DAY);
  for (const id of ids) sb.send([await client.executeRiskChangeIx(id, sb.payer.publicKey)]);
  await listWrappedBtc(sb, client, governance, Buffer.alloc(32, 0x74), 9_000);
  const execute = async (id: bigint) => sb.send([await client.executeRiskChangeIx(id, sb.payer.publicKey)]);
  return { sb, governance, guardian, exchange, registry, execute };
}

test("a collateral link goes through the timelock with a readable diff; the guardian unlinks at once", async () => {
  const v = await venue();
  // wBTC is listed at 0% initial / 90% maintenance weight: the linked part's basis haircut may
  // start at most one step (25%) below the standalone haircut it replaces, 100% / 10%.
  const tooLow = planCollateralChange(await v.registry(), 1, { link: collateralLink({ underlying: 0, basisInitialBps: 500, basisMaintenanceBps: 300 }) });
  const tooLowIx = await client.proposeCollateralChangeIx({ payer: v.sb.payer.publicKey, governance: v.governance.publicKey, id: (await v.exchange()).nextRiskChangeId, index: 1, params: tooLow.next });
  assert.equal(v.sb.sendExpectingFailure([tooLowIx], [v.governance]).errorName, "BasisHaircutStepTooLarge");
  const link = collateralLink({ underlying: 0, basisInitialBps: 7_500, basisMaintenanceBps: 300 });
  const { old, next } = planCollateralChange(await v.registry(), 1, { link });
  assert.deepEqual(diffCollateralParams(old, next), [
    "link: none -> underlying 0, 1.000000 units per token, basis 75.00% / 3.00%   LOOSENS (timelock)",
  ]);
  const id = (await v.exchange()).nextRiskChangeId;
  const propose = await client.proposeCollateralChangeIx({ payer: v.sb.payer.publicKey, governance: v.governance.publicKey, id, index: 1, params: next });
  v.sb.send([propose], [v.governance]);
  assert.equal(v.sb.sendExpectingFailure([await client.executeRiskChangeIx(id, v.sb.payer.publicKey)]).errorName, "TimelockNotExpired");
  v.sb.warp(DAY);
  const landed = await v.execute(id);
  const event = decodeEvents(landed.logs, client.programId).find((e) => e.name === "collateralRiskChanged");
  assert.ok(event, "CollateralRiskChanged emitted");
  const linked = (await v.registry()).collaterals[1];
  assert.ok(linked);
  assert.equal(linked.link.active, 1);
  assert.equal(linked.link.basisInitialBps, 7_500);
  assert.equal(linked.link.ratioE9.toString(), "1000000000");

  // The quote asset is never linked; a ratio of 0 is refused; each with its own error.
  const quote = planCollateralChange(await v.registry(), 0, { link });
  const quoteIx = await client.proposeCollateralChangeIx({ payer: v.sb.payer.publicKey, governance: v.governance.publicKey, id: (await v.exchange()).nextRiskChangeId, index: 0, params: quote.next });
  assert.equal(v.sb.sendExpectingFailure([quoteIx], [v.governance]).errorName, "QuoteAssetCannotBeLinked");
  const zero = planCollateralChange(await v.registry(), 1, { link: collateralLink({ underlying: 0, basisInitialBps: 500, basisMaintenanceBps: 300, ratioE9: 0n }) });
  const zeroIx = await client.proposeCollateralChangeIx({ payer: v.sb.payer.publicKey, governance: v.governance.publicKey, id: (await v.exchange()).nextRiskChangeId, index: 1, params: zero.next });
  assert.equal(v.sb.sendExpectingFailure([zeroIx], [v.governance]).errorName, "InvalidLinkRatio");

  // The guardian may not lower a basis haircut, but unlinks at once.
  const lower = { ...riskParamsOf(linked), link: collateralLink({ underlying: 0, basisInitialBps: 7_400, basisMaintenanceBps: 300 }) };
  assert.equal(v.sb.sendExpectingFailure([await client.tightenRiskIx(v.guardian.publicKey, 1, lower)], [v.guardian]).errorName, "GuardianCannotLoosen");
  const unlink = { ...riskParamsOf(linked), link: unlinked() };
  assert.deepEqual(diffCollateralParams(riskParamsOf(linked), unlink), [
    "link: underlying 0, 1.000000 units per token, basis 75.00% / 3.00% -> none",
  ]);
  const done = v.sb.send([await client.tightenRiskIx(v.guardian.publicKey, 1, unlink)], [v.guardian]);
  recordCu("tighten_risk", "guardian: unlink a collateral", done.computeUnits, CEILING);
  assert.equal((await v.registry()).collaterals[1]?.link.active, 0);
});

test("an offset group goes through the timelock; the guardian lowers and dissolves it at once", async () => {
  const v = await venue();
  const group = offsetGroup([0, 1], 2_500);
  const before = (await v.registry()).offsetGroups[0];
  assert.ok(before);
  assert.deepEqual(diffOffsetGroup(0, before, group), ["offset group 0: none -> underlyings 0+1, credit 25.00%   LOOSENS (timelock)"]);
  const propose = async (index: number, g: ReturnType<typeof offsetGroup>) => {
    const id = (await v.exchange()).nextRiskChangeId;
    return { id, ix: await client.proposeOffsetGroupIx({ payer: v.sb.payer.publicKey, governance: v.governance.publicKey, id, index, group: g }) };
  };
  // Too large a step, too few members: refused with their own errors.
  const far = await propose(0, offsetGroup([0, 1], 2_501));
  assert.equal(v.sb.sendExpectingFailure([far.ix], [v.governance]).errorName, "OffsetCreditStepTooLarge");
  const lonely = await propose(0, offsetGroup([0], 1_000));
  assert.equal(v.sb.sendExpectingFailure([lonely.ix], [v.governance]).errorName, "OffsetGroupMemberCount");

  const p = await propose(0, group);
  v.sb.send([p.ix], [v.governance]);
  assert.equal(v.sb.sendExpectingFailure([await client.executeRiskChangeIx(p.id, v.sb.payer.publicKey)]).errorName, "TimelockNotExpired");
  v.sb.warp(DAY);
  const landed = await v.execute(p.id);
  assert.ok(decodeEvents(landed.logs, client.programId).some((e) => e.name === "offsetGroupChanged"));
  const applied = (await v.registry()).offsetGroups[0];
  assert.ok(applied);
  assert.deepEqual(offsetGroupMembers(applied), [0, 1]);
  assert.equal(applied.creditBps, 2_500);

  // Overlap with the group in force is refused.
  const overlap = await propose(1, offsetGroup([1, 2], 1_000));
  assert.equal(v.sb.sendExpectingFailure([overlap.ix], [v.governance]).errorName, "OffsetGroupsOverlap");
  // A member change keeps no credit: the new members start from 0, one step at a time.
  const swap = await propose(0, offsetGroup([0, 2], 5_000));
  assert.equal(v.sb.sendExpectingFailure([swap.ix], [v.governance]).errorName, "OffsetCreditStepTooLarge");
  // No credit above 50%, whatever the step.
  const aboveHalf = await propose(0, offsetGroup([0, 1], 5_001));
  assert.equal(v.sb.sendExpectingFailure([aboveHalf.ix], [v.governance]).errorName, "InvalidOffsetCredit");

  // A pending raise goes stale when the guardian lowers the credit.
  const raise = await propose(0, offsetGroup([0, 1], 5_000));
  v.sb.send([raise.ix], [v.governance]);
  const raiseByGuardian = await client.tightenOffsetsIx(v.guardian.publicKey, 0, offsetGroup([0, 1], 3_000));
  assert.equal(v.sb.sendExpectingFailure([raiseByGuardian], [v.guardian]).errorName, "GuardianCannotLoosen");
  const notGuardian = await client.tightenOffsetsIx(v.governance.publicKey, 0, offsetGroup([0, 1], 1_000));
  assert.equal(v.sb.sendExpectingFailure([notGuardian], [v.governance]).errorName, "NotGuardian");
  const lowered = v.sb.send([await client.tightenOffsetsIx(v.guardian.publicKey, 0, offsetGroup([0, 1], 1_000))], [v.guardian]);
  recordCu("tighten_offsets", "guardian: lower a group's credit", lowered.computeUnits, OFFSETS_CEILING);
  assert.equal((await v.registry()).offsetGroups[0]?.creditBps, 1_000);
  v.sb.warp(DAY);
  assert.equal(v.sb.sendExpectingFailure([await client.executeRiskChangeIx(raise.id, v.sb.payer.publicKey)]).errorName, "RiskChangeStale");

  // Credit 0 dissolves the group: the slot is all zero again.
  v.sb.send([await client.tightenOffsetsIx(v.guardian.publicKey, 0, offsetGroup([0, 1], 0))], [v.guardian]);
  assert.deepEqual((await v.registry()).offsetGroups[0], offsetGroup([], 0));
});
