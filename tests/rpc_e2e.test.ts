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
  PERP_INSTRUMENT,
  XmarginClient,
  createMarketIx,
  decodeEvents,
  decodeMarket,
  decodePortfolioAccount,
  getPortfolioHealth,
  marginBudgetIxs,
  marketPda,
  sponsoredFeedAccount,
  tradeIx,
  underlyingAccounts,
  decodePositions,
  type XmarginEvent,
} from "../app/src/index.js";
import { adaptiveUnderlying, marketParams } from "./fixtures.js";
import { ROOT } from "./harness.js";
import { Localnet } from "./rpc.js";

const PORT = 18_899; // not 8899: an operator's own local network may be running there
const DAY = 86_400;
const SOL = 150_000_000n;
const SPL = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
const ASSOCIATED_TOKEN_PROGRAM = new PublicKey("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
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
  const guardian = await net.fundedKeypair();
  await net.call("surfnet_setAccount", [upgradeAuthority.publicKey.toBase58(), { lamports: 10 ** 12 }]);

  // The venue, by transactions over RPC: the exchange, SOL listed through the timelock, its market.
  const usdc = await net.createMint(6, payer.publicKey, SPL);
  await net.send(payer, [await client.initializeExchangeIx({
    payer: payer.publicKey, upgradeAuthority: upgradeAuthority.publicKey, quoteMint: usdc, governance: governance.publicKey,
    guardian: guardian.publicKey, timelockDelaySecs: DAY, quoteDepositCap: 10n ** 15n, maxWeightStepBps: 2_500,
  })], [upgradeAuthority]);
  const feed = Buffer.alloc(32, 0x61);
  const oracle = sponsoredFeedAccount(feed);
  const exchangeState = async () => client.decodeExchange((await net.connection.getAccountInfo(client.exchange))!.data);
  const listId = (await exchangeState()).nextRiskChangeId;
  await net.send(payer, [await client.proposeRiskChangeIx({ payer: payer.publicKey, governance: governance.publicKey, id: listId, change: { listUnderlying: { config: adaptiveUnderlying(feed, 0) } } })], [governance]);
  await net.warp(DAY);
  await net.send(payer, [await client.executeRiskChangeIx(listId, payer.publicKey)]);
  const publish = (price: bigint) => net.putPullOracle(oracle, feed, price, price / 10_000n, -6);
  await publish(SOL);
  await net.send(payer, [await createMarketIx(client, payer.publicKey, governance.publicKey, marketParams(2, 10_000n))], [governance]);

  // Traders over RPC: a thin book long 10 SOL, its counterparty well funded.
  const trader = async (amount: bigint) => {
    const owner = await net.fundedKeypair();
    const portfolio = client.portfolio(owner.publicKey);
    const source = await net.createTokenAccount(usdc, owner.publicKey, amount, SPL);
    await net.send(owner, [
      await client.openPortfolioIx(owner.publicKey, owner.publicKey),
      await client.depositIx({ depositor: owner.publicKey, portfolio, mint: usdc, source, tokenProgram: SPL, amount, quote: true }),
    ]);
    return { owner, portfolio };
  };
  const thin = await trader(400_000_000n);
  const rich = await trader(100_000_000_000n);
  /** Health accounts of a quote-only portfolio: its markets and oracles (`exclude`: the traded underlying of a trade). */
  const accounts = async (portfolio: PublicKey, exclude?: number) =>
    underlyingAccounts(client, decodePositions(client, (await net.connection.getAccountInfo(portfolio))!.data), () => oracle, exclude);
  await net.send(thin.owner, [...marginBudgetIxs(), await tradeIx(client, {
    takerSigner: thin.owner.publicKey, makerSigner: rich.owner.publicKey, taker: thin.portfolio, maker: rich.portfolio, underlying: 0,
    instrument: PERP_INSTRUMENT, sizeLots: 1_000n, price: SOL, oracle, takerHealth: await accounts(thin.portfolio, 0), makerHealth: await accounts(rich.portfolio, 0),
  })], [rich.owner]);

  // Governance over RPC: propose, list (diff and timelock), refuse an early execution, execute.
  const govKey = keyFile("governance", governance);
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
  const base64 = exported.out.trim().split("\n").pop() ?? "";
  const tx = VersionedTransaction.deserialize(Buffer.from(base64, "base64"));
  assert.ok(tx.message.staticAccountKeys[0]?.equals(governance.publicKey));
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
  const ata = PublicKey.findProgramAddressSync([liquidator.publicKey.toBuffer(), SPL.toBuffer(), usdc.toBuffer()], ASSOCIATED_TOKEN_PROGRAM)[0];
  await net.createTokenAccount(usdc, liquidator.publicKey, 50_000_000_000n, SPL, ata);
  const liqKey = keyFile("liquidator", liquidator);
  const opened = cli("liquidator", ["open-portfolio", "--deposit", "25000.5", "--keypair", liqKey]);
  assert.equal(opened.status, 0, opened.err);
  assert.ok(opened.json.some((l) => l.msg === "portfolio funded" && l.deposited === "25000.5"), opened.out);
  const events: XmarginEvent[] = [];
  const subscription = net.connection.onLogs(client.programId, (l) => events.push(...decodeEvents(l.logs, client.programId)), "confirmed");
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
  assert.ok(round.json.some((l) => l.msg === "underwater" && l.portfolio === thin.portfolio.toBase58()), round.out);
  assert.ok(round.json.some((l) => l.msg === "sent" && l.action === "liquidation"), round.out);
  assert.ok(round.json.every((l) => l.service === "liquidator" && typeof l.time === "string"));
  assert.ok(!(await healthOf(thin.portfolio)).maintenanceHealth.isNegative(), "restored above maintenance");
  const p = decodePortfolioAccount((await net.connection.getAccountInfo(thin.portfolio))!.data);
  assert.ok(p.positions.filter((x) => x.active).every((x) => x.size < 1_000n), "partially liquidated");
  for (let i = 0; i < 50 && !events.some((e) => e.name === "positionsLiquidated"); i++) await new Promise((r) => setTimeout(r, 100));
  await net.connection.removeOnLogsListener(subscription);
  const liquidated = events.find((e) => e.name === "positionsLiquidated");
  assert.ok(liquidated && liquidated.name === "positionsLiquidated", `websocket events: ${events.map((e) => e.name).join(", ")}`);
  assert.ok(liquidated.data.target.equals(thin.portfolio));
  assert.equal(typeof liquidated.data.liquidatorFee, "bigint");
});

/** A v0 message for an unsigned simulation (the node replaces the blockhash). */
function unsignedMessage(payerKey: PublicKey, instructions: TransactionInstruction[]) {
  return new TransactionMessage({ payerKey, recentBlockhash: PublicKey.default.toBase58(), instructions }).compileToV0Message();
}
