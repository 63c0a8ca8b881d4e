// Governance changes of every kind from the client (app/src/proposals.ts, the core of
// bin/governance.ts) on the compiled .so: edits by field path parsed by the field's type
// (NaN, a sign the field cannot hold, an overflow, an unknown field: refused naming it), the
// diff, the program's own checks in simulation before anything is offered (a 0 → 70% weight
// move is refused, not offered), the pending list with diffs and executable times, and the
// unsigned export a multisig imports.
import { test } from "node:test";
import assert from "node:assert/strict";

import { PublicKey, VersionedTransaction } from "@solana/web3.js";

import {
  CHANGE_KINDS,
  ValueError,
  applyEdits,
  currentParams,
  exportUnsigned,
  pendingChanges,
  planProposal,
  riskChangePda,
  untilText,
} from "../app/src/index.js";
import { listWrappedBtc } from "./fixtures.js";
import { svmChain } from "./harness.js";
import { DAY, client, setup } from "./venue.js";

test("edits are parsed by the field's type; bad values name the field", async () => {
  const s = await setup();
  const chain = svmChain(s.sb, []);
  const scale = await currentParams(client, chain, "margin-scale");
  assert.deepEqual(applyEdits("MarginScaleParams", scale, ["initialScaleBps=16000"]), { ...(scale as object), initialScaleBps: 16_000 });
  const underlying = await currentParams(client, chain, "underlying", 0);
  const edited = applyEdits("UnderlyingConfig", underlying, ["tail.0.weightBps=4000", "oracle.maxStalenessSecs=30"]) as {
    tail: { weightBps: number }[];
    oracle: { maxStalenessSecs: number };
  };
  assert.deepEqual([edited.tail[0]?.weightBps, edited.oracle.maxStalenessSecs], [4_000, 30]);
  assert.notEqual((underlying as { tail: { weightBps: number }[] }).tail[0]?.weightBps, 4_000, "the current value is not edited in place");
  const refusals: [string, RegExp][] = [
    ["initialScaleBps=NaN", /initialScaleBps: expected an integer \(u16\), got "NaN"/],
    ["initialScaleBps=-5", /initialScaleBps: must be in 0\.\.=65535 \(u16\), got -5/],
    ["initialScaleBps=70000", /must be in 0\.\.=65535/],
    ["initialScaleBps=1.5", /expected an integer/],
    ["initialScale=1", /initialScale: unknown field; MarginScaleParams has initialScaleBps/],
    ["initialScaleBps", /expected path=value/],
  ];
  for (const [edit, message] of refusals) {
    assert.throws(() => applyEdits("MarginScaleParams", scale, [edit]), (e: unknown) => e instanceof ValueError && message.test(e.message), edit);
  }
  assert.throws(() => applyEdits("UnderlyingConfig", underlying, ["tail.99.weightBps=1"]), /tail\.99: expected an index in 0\.\./);
  assert.throws(() => applyEdits("UnderlyingConfig", underlying, ["oracle.source=zz"]), /oracle\.source: expected 32 bytes as 64 hex digits/);
  assert.throws(() => applyEdits("UnderlyingConfig", underlying, ["tail=1"]), /tail: is not a single value/);
  await assert.rejects(currentParams(client, chain, "collateral"), /--index: required for a collateral change/);
  await assert.rejects(currentParams(client, chain, "collateral", 9), /--index: collateral 9 does not exist \(1 are listed\)/);
});

test("a proposal is checked by the program before it is offered, listed with its diff, and exported unsigned", async () => {
  const s = await setup();
  const feed = Buffer.alloc(32, 0x77);
  await listWrappedBtc(s.sb, client, s.governance, feed, 8_000);
  const chain = svmChain(s.sb, []);
  const who = { governance: s.governance.publicKey, payer: s.governance.publicKey };

  // The step limit is 25% per change: a 0 → 70% initial weight is refused, not offered (an initial weight above the maintenance one is refused too).
  const far = await planProposal(client, chain, { kind: "collateral", index: 1, edits: ["haircut.initialAssetWeightBps=7000"], ...who });
  assert.match(far.refused ?? "", /^WeightStepTooLarge/);
  const inverted = await planProposal(client, chain, { kind: "collateral", index: 1, edits: ["haircut.initialAssetWeightBps=9000"], ...who });
  assert.match(inverted.refused ?? "", /^InvalidHaircut/);
  const near = await planProposal(client, chain, { kind: "collateral", index: 1, edits: ["haircut.initialAssetWeightBps=2500"], ...who });
  assert.equal(near.refused, undefined);
  assert.deepEqual(near.changes, [{ path: "haircut.initialAssetWeightBps", old: "0 (0%)", next: "2500 (25%)" }]);
  assert.equal(near.executableAt, s.sb.now().unixTimestamp + BigInt(DAY));

  // Sent, it is pending with the same diff and its executable time.
  s.sb.send([near.ix], [s.governance]);
  const scale = await planProposal(client, chain, { kind: "margin-scale", edits: ["initialScaleBps=20000"], ...who });
  assert.equal(scale.refused, undefined, scale.refused);
  s.sb.send([scale.ix], [s.governance]);
  const known = [near.id, scale.id].map((id) => riskChangePda(client.programId, client.exchange, id));
  const pending = await pendingChanges(client, svmChain(s.sb, known));
  assert.deepEqual(
    pending.map((p) => [p.id, p.kind, p.target, p.changes]),
    [
      [near.id, "collateral", 1, near.changes],
      [scale.id, "margin-scale", 0, [{ path: "initialScaleBps", old: "0 (0%)", next: "20000 (200%)" }]],
    ],
  );
  const now = s.sb.now().unixTimestamp;
  assert.equal(untilText(pending[0]!.executableAt, now), "in 1d 0h 0m");
  assert.equal(untilText(now, now), "executable now");

  // The unsigned export: a v0 transaction for the governance key, no signature, the proposal inside.
  const base64 = exportUnsigned([near.ix], s.governance.publicKey, PublicKey.default.toBase58());
  const tx = VersionedTransaction.deserialize(Buffer.from(base64, "base64"));
  assert.ok(tx.message.staticAccountKeys[0]?.equals(s.governance.publicKey), "the authority pays and signs");
  assert.ok(tx.signatures.every((sig) => sig.every((b) => b === 0)), "unsigned");
  assert.ok(tx.message.staticAccountKeys.some((k) => k.equals(client.programId)));
  assert.equal(CHANGE_KINDS.length, 7, "every change kind of the program");
});
