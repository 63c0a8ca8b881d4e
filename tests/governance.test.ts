// Governance changes of every kind from the client (app/src/proposals.ts, the core of
// bin/governance.ts) on the compiled .so: edits by field path parsed by the field's type
// (NaN, a sign the field cannot hold, an overflow, an unknown field: refused naming it), the
// diff, the program's own checks in simulation before anything is offered (a 0 → 70% weight
// move is refused, not offered), the pending list with diffs and executable times, and the
// unsigned export a multisig imports.
import { test } from "node:test";
import assert from "node:assert/strict";

import { PublicKey, VersionedTransaction } from "@solana/web3.js";
import * as sqds from "@sqds/multisig";

import {
  CHANGE_KINDS,
  SQUADS_PROGRAM_ID,
  decodeMultisig,
  multisigVault,
  squadsProposal,
  vaultTransactionInstructions,
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

test("through a Squads v4 multisig: the vault's change, checked by the program, wrapped as a vault transaction and its proposal", async () => {
  const s = await setup();
  const feed = Buffer.alloc(32, 0x77);
  await listWrappedBtc(s.sb, client, s.governance, feed, 8_000);
  const chain = svmChain(s.sb, []);

  // A 2-of-3 multisig with four transactions behind it: an initiator who also votes, a voter,
  // an executor. The account is the SDK's own serialization, owned by the Squads program (the
  // program itself is not in the sandbox: building its calls is what is tested here).
  const [initiator, voter, executor] = [PublicKey.unique(), PublicKey.unique(), PublicKey.unique()];
  const { Permission, Permissions } = sqds.types;
  const [data] = sqds.accounts.Multisig.fromArgs({
    createKey: PublicKey.unique(),
    configAuthority: PublicKey.default,
    threshold: 2,
    timeLock: 3_600,
    transactionIndex: 4,
    staleTransactionIndex: 0,
    rentCollector: null,
    bump: 255,
    members: [
      { key: initiator, permissions: Permissions.fromPermissions([Permission.Initiate, Permission.Vote]) },
      { key: voter, permissions: Permissions.fromPermissions([Permission.Vote]) },
      { key: executor, permissions: Permissions.fromPermissions([Permission.Execute]) },
    ],
  }).serialize();
  const address = PublicKey.unique();
  s.sb.setAccount(address, data, SQUADS_PROGRAM_ID.toBase58());
  const [account] = await chain.accounts([address]);
  const multisig = decodeMultisig(account!);
  assert.deepEqual([multisig.threshold, multisig.timeLock, multisig.transactionIndex, multisig.members.length], [2, 3_600, 4n, 3]);

  // The vault holds governance (as if it had accepted the role).
  const vault = multisigVault(address);
  const exchange = Buffer.from((await s.sb.accountData(client.exchange))!);
  const at = exchange.indexOf(s.governance.publicKey.toBuffer());
  assert.ok(at > 0);
  vault.toBuffer().copy(exchange, at);
  s.sb.setAccount(client.exchange, exchange, client.programId.toBase58());
  assert.ok((await s.exchange()).governance.equals(vault));

  // The program checks the vault's proposal in simulation (the vault cannot sign here; a node
  // simulating without signature checks accepts it, as the governance CLI does). The vault
  // also pays the proposal's rent: inside its transaction no one else can sign.
  s.sb.fund(vault);
  const withVaultPayer = await planProposal(client, chain, { kind: "collateral", index: 1, edits: ["haircut.initialAssetWeightBps=2500"], governance: vault, payer: vault });
  assert.equal(withVaultPayer.refused, undefined, withVaultPayer.refused);
  const plan = withVaultPayer;
  assert.equal(plan.refused, undefined, plan.refused);
  const p = squadsProposal({ multisig, member: initiator, inner: [plan.ix], memo: `xmargin: proposal ${plan.id}` });
  assert.equal(p.transactionIndex, 5n, "the next index");
  assert.ok(p.vault.equals(vault));
  assert.equal(p.approved, true);
  assert.equal(p.instructions.length, 3, "create, propose, approve");
  assert.ok(p.instructions.every((ix) => ix.programId.equals(SQUADS_PROGRAM_ID)));
  assert.ok(p.instructions.every((ix) => ix.keys.some((k) => k.pubkey.equals(initiator) && k.isSigner)), "the member signs each");
  // Each account a Squads instruction takes is the PDA of index 5: the transaction and the proposal.
  const txPda = sqds.getTransactionPda({ multisigPda: address, index: 5n })[0];
  const proposalPda = sqds.getProposalPda({ multisigPda: address, transactionIndex: 5n })[0];
  assert.ok(p.instructions[0]!.keys.some((k) => k.pubkey.equals(txPda) && k.isWritable));
  assert.ok(p.instructions[1]!.keys.some((k) => k.pubkey.equals(proposalPda) && k.isWritable));

  // What the vault will run is exactly the program-checked instruction, the vault its signer.
  const inner = vaultTransactionInstructions(p.instructions[0]!);
  assert.equal(inner.length, 1);
  assert.ok(inner[0]!.programId.equals(client.programId));
  assert.deepEqual(inner[0]!.data, Buffer.from(plan.ix.data));
  assert.deepEqual(
    inner[0]!.keys.map((k) => [k.pubkey.toBase58(), k.isSigner, k.isWritable]),
    // A key listed twice carries its merged flags in a message: the vault is the payer too, so writable.
    plan.ix.keys.map((k) => [k.pubkey.toBase58(), k.isSigner, k.isWritable || k.pubkey.equals(vault)]),
  );
  // A change whose payer is a member would be unexecutable inside the vault: refused up front.
  const memberPays = await planProposal(client, chain, { kind: "collateral", index: 1, edits: ["haircut.initialAssetWeightBps=2500"], governance: vault, payer: initiator });
  assert.throws(() => squadsProposal({ multisig, member: initiator, inner: [memberPays.ix], memo: "x" }), /only the vault .* signs/);

  // A voter may not initiate; a stranger is not a member; a voter-less initiator adds no approval.
  assert.throws(() => squadsProposal({ multisig, member: voter, inner: [plan.ix], memo: "x" }), /may not initiate/);
  assert.throws(() => squadsProposal({ multisig, member: PublicKey.unique(), inner: [plan.ix], memo: "x" }), /is not a member/);
  const initiateOnly = { ...multisig, members: [{ key: initiator, initiate: true, vote: false, execute: false }] };
  assert.equal(squadsProposal({ multisig: initiateOnly, member: initiator, inner: [plan.ix], memo: "x" }).instructions.length, 2);
  // An account that is not Squads' is refused by owner.
  assert.throws(() => decodeMultisig({ ...account!, owner: client.programId }), /is not a Squads multisig/);
});
