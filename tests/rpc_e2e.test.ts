// The operators' tools end to end over a real JSON-RPC node and its websockets (the local
// network of localnet/, the compiled program deployed upgradeable): a venue set up by
// transactions over RPC, then the command-line services as an operator runs them —
// `xmargin-governance` proposes, lists, refuses an early execution, executes, exports for a
// multisig; `xmargin-keeper once` cranks funding; `xmargin-liquidator open-portfolio` and
// `once` liquidate a portfolio a crash put underwater, while a websocket log subscription
// decodes the liquidation event as it lands.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { Keypair, PublicKey, TransactionInstruction, TransactionMessage, VersionedTransaction } from "@solana/web3.js";

import {
  SQUADS_PROGRAM_ID,
  XmarginClient,
  associatedTokenAccount,
  decodeEvents,
  decodeMarket,
  decodePortfolioAccount,
  getPortfolioHealth,
  marginBudgetIxs,
  marketPda,
  multisigVault,
  vaultTransactionInstructions,
  type XmarginEvent,
} from "../app/src/index.js";
import * as sqds from "@sqds/multisig";
import { ROOT } from "./harness.js";
import { Localnet } from "../scripts/localnet/ledger.js";
import { DAY, SOL_PRICE as SOL, SPL, seedVenue } from "../scripts/localnet/venue.js";

const PORT = 18_899; // not 8899: an operator's own local network may be running there
const WORK = join(ROOT, "target", "rpc-e2e");
const client = new XmarginClient();

let net: Localnet;
const upgradeAuthority = Keypair.generate();

before(async () => {
  net = await Localnet.start(PORT, upgradeAuthority.publicKey);
});
after(async () => {
  await net?.stop();
});

/** A keypair file as solana-keygen writes it. */
function keyFile(name: string, k: Keypair): string {
  mkdirSync(WORK, { recursive: true });
  const path = join(WORK, `${name}.json`);
  writeFileSync(path, JSON.stringify(Array.from(k.secretKey)));
  return path;
}

/** Runs a bin as an operator would, against the local network. */
function cli(bin: "keeper" | "liquidator" | "governance", args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "app/src/bin", `${bin}.ts`), ...args, "--rpc", net.url], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr, json: r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test("the operators' tools over JSON-RPC and websockets", { timeout: 600_000 }, async () => {
  const payer = await net.fundedKeypair();
  const governance = await net.fundedKeypair();
  const v = await seedVenue(net, { authority: upgradeAuthority, governance, guardian: await net.fundedKeypair() }, client);
  const { oracle, publish, accounts } = v;
  const usdc = v.usdc;
  // A thin book long 10 SOL, its counterparty well funded.
  const thin = await v.trader(400_000_000n);
  const rich = await v.trader(100_000_000_000n);
  await v.buyPerp(thin, rich, 1_000n);

  // Governance over RPC: propose, list (diff and timelock), refuse an early execution, execute.
  const govKey = keyFile("governance", governance);
  // Not at a terminal and without --yes: shown, checked, then refused rather than assumed.
  const unconfirmed = cli("governance", ["propose", "margin-scale", "--set", "initialScaleBps=16000", "--keypair", govKey]);
  assert.equal(unconfirmed.status, 1);
  assert.match(unconfirmed.out, /initialScaleBps: 0 \(0%\) -> 16000 \(160%\)/);
  assert.match(unconfirmed.err, /not a terminal: pass --yes/);
  const proposed = cli("governance", ["propose", "margin-scale", "--set", "initialScaleBps=16000", "--keypair", govKey, "--yes"]);
  assert.equal(proposed.status, 0, proposed.err);
  assert.match(proposed.out, /initialScaleBps: 0 \(0%\) -> 16000 \(160%\)/);
  assert.match(proposed.out, /sent proposal 1: /);
  const listed = cli("governance", ["list", "--keypair", govKey]);
  assert.equal(listed.status, 0, listed.err);
  assert.match(listed.out, /#1 margin-scale 0: executable .* \(in 1d 0h 0m\)\n {2}initialScaleBps: 0 \(0%\) -> 16000 \(160%\)/);
  const early = cli("governance", ["execute", "1", "--keypair", govKey, "--yes"]);
  assert.equal(early.status, 1);
  assert.match(early.err, /change #1 is not executable yet: in 1d 0h/);
  const far = cli("governance", ["propose", "margin-scale", "--set", "initialScaleBps=40000", "--keypair", govKey, "--yes"]);
  assert.equal(far.status, 1);
  assert.match(far.err, /the program refuses this proposal: InvalidInitialScale/);
  const exported = cli("governance", ["propose", "margin-scale", "--set", "initialScaleBps=17000", "--export-unsigned", "--authority", governance.publicKey.toBase58()]);
  assert.equal(exported.status, 0, exported.err);
  const lines = exported.out.trim().split("\n");
  const base64 = lines[lines.findIndex((l) => l.endsWith("base64:")) + 1] ?? "";
  const tx = VersionedTransaction.deserialize(Buffer.from(base64, "base64"));
  assert.ok(tx.message.staticAccountKeys[0]?.equals(governance.publicKey));
  // The instructions alone (a vault transaction cannot run compute-budget instructions).
  assert.deepEqual(tx.message.compiledInstructions.map((ix) => tx.message.staticAccountKeys[ix.programIdIndex]?.toBase58()), [client.programId.toBase58()]);
  assert.match(exported.out, /if another proposal lands first, build it again/);
  await net.warp(DAY);
  await publish(SOL);
  const executed = cli("governance", ["execute", "1", "--keypair", keyFile("payer", payer), "--yes"]);
  assert.equal(executed.status, 0, executed.err);
  assert.match(executed.out, /sent execute #1: /);

  // The keeper over RPC: a day on, funding is due.
  const before = decodeMarket((await net.connection.getAccountInfo(marketPda(client.programId, client.exchange, 0)))!.data);
  const kept = cli("keeper", ["once", "--tasks", "funding", "--keypair", keyFile("keeper", payer)]);
  assert.equal(kept.status, 0, kept.err);
  assert.ok(kept.json.some((l) => l.msg === "sent" && l.task === "funding"), kept.out);
  const afterFunding = decodeMarket((await net.connection.getAccountInfo(marketPda(client.programId, client.exchange, 0)))!.data);
  assert.ok(afterFunding.lastFundingTime > before.lastFundingTime);

  // SOL 150 → 126: the thin book is underwater; the liquidator funds its portfolio and runs a
  // round while a websocket subscription watches the program's logs.
  await publish(126_000_000n);
  const liquidator = await net.fundedKeypair();
  await net.createTokenAccount(usdc, liquidator.publicKey, 50_000_000_000n, SPL, associatedTokenAccount(liquidator.publicKey, usdc));
  const liqKey = keyFile("liquidator", liquidator);
  const opened = cli("liquidator", ["open-portfolio", "--deposit", "25000.5", "--keypair", liqKey]);
  assert.equal(opened.status, 0, opened.err);
  assert.ok(opened.json.some((l) => l.msg === "portfolio funded" && l.deposited === "25000.5"), opened.out);
  const events: XmarginEvent[] = [];
  const subscription = net.connection.onLogs(client.programId, (l) => events.push(...decodeEvents(l.logs, client.programId)), "confirmed");
  const seen = async (name: string) => {
    for (let i = 0; i < 100 && !events.some((e) => e.name === name); i++) await new Promise((r) => setTimeout(r, 100));
    return events.some((e) => e.name === name);
  };
  // The subscription is live once a probe's event arrives (the CLI below runs synchronously:
  // nothing sent before the subscription is active would be seen).
  // A probe sent before the node has the subscription in place is never delivered: probe
  // again until one arrives (on a loaded machine the first can take seconds).
  const probe = async () => net.send(payer, [...marginBudgetIxs(), await client.refreshHealthIx(rich.portfolio, await accounts(rich.portfolio))]);
  for (let i = 0; i < 6 && !events.some((e) => e.name === "healthReport"); i++) {
    await probe();
    await seen("healthReport");
  }
  assert.ok(events.some((e) => e.name === "healthReport"), `no probe event over the websocket: ${events.map((e) => e.name).join(", ")}`);
  const healthOf = async (portfolio: PublicKey) =>
    getPortfolioHealth(client, portfolio, await accounts(portfolio), async (ixs) => {
      const sim = await net.connection.simulateTransaction(
        new VersionedTransaction(unsignedMessage(payer.publicKey, [...marginBudgetIxs(), ...ixs])),
        { sigVerify: false, replaceRecentBlockhash: true },
      );
      assert.equal(sim.value.err, null, JSON.stringify(sim.value.logs));
      return Buffer.from(sim.value.returnData!.data[0], "base64");
    });
  assert.ok((await healthOf(thin.portfolio)).maintenanceHealth.isNegative());
  const round = cli("liquidator", ["once", "--keypair", liqKey, "--log-level", "info"]);
  assert.equal(round.status, 0, round.err);
  // Found by the local engine on accounts read over RPC (getProgramAccounts, getMultipleAccounts).
  assert.ok(round.json.some((l) => l.msg === "underwater" && l.portfolio === thin.portfolio.toBase58() && l.by === "local"), round.out);
  assert.ok(round.json.some((l) => l.msg === "sent" && l.action === "liquidation"), round.out);
  assert.ok(round.json.every((l) => l.service === "liquidator" && typeof l.time === "string"));
  assert.ok(!(await healthOf(thin.portfolio)).maintenanceHealth.isNegative(), "restored above maintenance");
  const p = decodePortfolioAccount((await net.connection.getAccountInfo(thin.portfolio))!.data);
  assert.ok(p.positions.filter((x) => x.active).every((x) => x.size < 1_000n), "partially liquidated");
  await seen("positionsLiquidated");
  await net.connection.removeOnLogsListener(subscription);
  const liquidated = events.find((e) => e.name === "positionsLiquidated");
  assert.ok(liquidated && liquidated.name === "positionsLiquidated", `websocket events: ${events.map((e) => e.name).join(", ")}`);
  assert.ok(liquidated.data.target.equals(thin.portfolio));
  assert.equal(typeof liquidated.data.liquidatorFee, "bigint");

  // Governance through a Squads v4 multisig over RPC. The multisig account is the SDK's own
  // serialization (the Squads program is not on this offline network: what is tested is what
  // the CLI builds); its vault holds governance (as if it had accepted the role) and SOL.
  const member = await net.fundedKeypair();
  const multisig = Keypair.generate().publicKey;
  const { Permission, Permissions } = sqds.types;
  const [msData] = sqds.accounts.Multisig.fromArgs({
    createKey: Keypair.generate().publicKey,
    configAuthority: PublicKey.default,
    threshold: 2,
    timeLock: 0,
    transactionIndex: 0,
    staleTransactionIndex: 0,
    rentCollector: null,
    bump: 255,
    members: [
      { key: member.publicKey, permissions: Permissions.all() },
      { key: Keypair.generate().publicKey, permissions: Permissions.fromPermissions([Permission.Vote]) },
    ],
  }).serialize();
  await net.setAccount(multisig, msData, SQUADS_PROGRAM_ID.toBase58());
  const vault = multisigVault(multisig);
  await net.fund(vault);
  const exchangeData = Buffer.from((await net.connection.getAccountInfo(client.exchange))!.data);
  vault.toBuffer().copy(exchangeData, exchangeData.indexOf(governance.publicKey.toBuffer()));
  await net.setAccount(client.exchange, exchangeData, client.programId.toBase58());
  const viaSquads = cli("governance", [
    "propose", "margin-scale", "--set", "initialScaleBps=17000",
    "--multisig", multisig.toBase58(), "--keypair", keyFile("member", member), "--export-unsigned",
  ]);
  assert.equal(viaSquads.status, 0, viaSquads.err);
  assert.match(viaSquads.out, /if another proposal lands before this one executes, it fails \(RiskChangeIdMismatch\)/);
  assert.match(viaSquads.out, /squads: vault transaction #1 in multisig .* threshold 2 of 2, time lock 0 s; created and proposed by .*, with its approval/);
  const squadsLines = viaSquads.out.trim().split("\n");
  const squadsTx = VersionedTransaction.deserialize(Buffer.from(squadsLines[squadsLines.findIndex((l) => l.endsWith("base64:")) + 1] ?? "", "base64"));
  const keys = squadsTx.message.staticAccountKeys;
  assert.ok(keys[0]?.equals(member.publicKey), "the member pays and signs");
  assert.deepEqual(squadsTx.message.compiledInstructions.map((ix) => keys[ix.programIdIndex]?.toBase58()), Array(3).fill(SQUADS_PROGRAM_ID.toBase58()));
  const create = squadsTx.message.compiledInstructions[0]!;
  const wrapped = vaultTransactionInstructions(new TransactionInstruction({ programId: SQUADS_PROGRAM_ID, keys: [], data: Buffer.from(create.data) }));
  assert.deepEqual(wrapped.map((ix) => ix.programId.toBase58()), [client.programId.toBase58()]);
  assert.ok(wrapped[0]!.keys.some((k) => k.pubkey.equals(vault) && k.isSigner), "the vault signs the change");
  // A key that is not a member is refused before anything is built.
  const voterOnly = cli("governance", ["propose", "margin-scale", "--set", "initialScaleBps=17000", "--multisig", multisig.toBase58(), "--keypair", keyFile("payer", payer), "--export-unsigned"]);
  assert.equal(voterOnly.status, 1);
  assert.match(voterOnly.err, /is not a member of multisig/);
});

/** A v0 message for an unsigned simulation (the node replaces the blockhash). */
function unsignedMessage(payerKey: PublicKey, instructions: TransactionInstruction[]) {
  return new TransactionMessage({ payerKey, recentBlockhash: PublicKey.default.toBase58(), instructions }).compileToV0Message();
}
