// The liquidator bot (app/src/liquidator.ts) on the compiled .so: after a SOL crash it
// liquidates exactly the underwater portfolios (in partial steps, each restored to the
// buffer), leaves the healthy one untouched, logs its decisions, and in a dry run sends
// nothing. The SVM stands in for the RPC node through the bot's `Chain` interface.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Keypair, PublicKey, TransactionInstruction } from "@solana/web3.js";

import BN from "bn.js";

import {
  IDL,
  LiquidatorBot,
  OracleKind,
  collateralInsurancePda,
  PERP_INSTRUMENT,
  getPortfolioHealth,
  insuranceVaultPda,
  liquidatePositionsIx,
  marginBudgetIxs,
  sponsoredFeedAccount,
  tradeIx,
  vaultPda,
  type Chain,
} from "../app/src/index.js";
import { oracleConfig } from "./fixtures.js";
import { recordCu, type Sandbox } from "./harness.js";
import { SOL, SPL, client, health, setup, trade, type Setup, type Trader } from "./venue.js";

const LIQUIDATE_CEILING = 200_000;
const discriminator = Buffer.from(IDL.accounts.find((a) => a.name.toLowerCase() === "portfolio")?.discriminator ?? []);

/** The SVM as the bot's chain: `portfolios` filters known addresses by the discriminator,
 * as getProgramAccounts does; every landed liquidation's CU is recorded. */
function svmChain(sb: Sandbox, known: PublicKey[]): Chain {
  return {
    async portfolios() {
      const out: { address: PublicKey; data: Uint8Array }[] = [];
      for (const address of known) {
        const data = await sb.accountData(address);
        if (data && Buffer.from(data.subarray(0, 8)).equals(discriminator)) out.push({ address, data });
      }
      return out;
    },
    account: (address) => sb.accountData(address),
    async simulate(ixs: TransactionInstruction[], signers: Keypair[]) {
      return sb.simulateFull(ixs, signers);
    },
    async send(ixs: TransactionInstruction[], signers: Keypair[]) {
      const landed = sb.send(ixs, signers);
      recordCu("liquidate_positions", "bot, 1-position target (TS)", landed.computeUnits, LIQUIDATE_CEILING);
      return `${landed.computeUnits} CU`;
    },
  };
}

async function buyPerp(s: Setup, taker: Trader, lots: bigint) {
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, PERP_INSTRUMENT, lots, SOL, taker, s.b))], [taker.owner, s.b.owner]);
}

async function maintenance(s: Setup, t: Trader): Promise<number> {
  const h = await getPortfolioHealth(client, t.portfolio, await health(s, t), (ixs) => s.sb.simulate(ixs));
  return h.maintenanceHealth.toNumber();
}

async function scene() {
  const s = await setup();
  // Two thin books and one well-funded one, each 10 SOL long at 150.
  const thin1 = await s.trader(400_000_000n);
  const thin2 = await s.trader(390_000_000n);
  const safe = await s.trader(3_000_000_000n);
  const liquidator = await s.trader(100_000_000_000n);
  for (const t of [thin1, thin2, safe]) await buyPerp(s, t, 1_000n);
  // SOL 150 → 126.
  s.publish(126_000_000n);
  const lines: string[] = [];
  const bot = (dryRun: boolean) =>
    new LiquidatorBot(client, svmChain(s.sb, [thin1, thin2, safe, liquidator, s.a, s.b].map((t) => t.portfolio)), {
      liquidator: liquidator.owner,
      portfolio: liquidator.portfolio,
      quote: { quoteMint: s.usdc, quoteVault: vaultPda(client.programId, client.exchange, s.usdc), tokenProgram: SPL },
      underlyingOracle: () => s.oracle,
      pullAccount: () => {
        throw new Error("no pull collateral in this venue");
      },
      dryRun,
      log: (line) => lines.push(line),
    });
  return { s, thin1, thin2, safe, liquidator, lines, bot };
}

test("after a crash the bot liquidates exactly the underwater portfolios", async () => {
  const { s, thin1, thin2, safe, liquidator, lines, bot } = await scene();
  assert.ok((await maintenance(s, thin1)) < 0 && (await maintenance(s, thin2)) < 0);
  assert.ok((await maintenance(s, safe)) > 0);
  const safeBefore = await s.sb.accountData(safe.portfolio);

  const actions = await bot(false).run();
  assert.equal(actions, 2, lines.join("\n"));
  for (const t of [thin1, thin2]) {
    const h = await maintenance(s, t);
    assert.ok(h >= 0, `restored: ${h}`);
    assert.equal(client.decodePortfolio((await s.sb.accountData(t.portfolio))!).liquidationState, 0);
  }
  assert.deepEqual(await s.sb.accountData(safe.portfolio), safeBefore, "the healthy book is untouched");
  assert.ok((await maintenance(s, liquidator)) > 0);
  assert.ok(lines.some((l) => l.startsWith("pick positions u0 perp")), lines.join("\n"));
  assert.ok(lines.some((l) => l.startsWith("done: 2 action(s)")));
});

test("a dry run decides and logs but sends nothing", async () => {
  const { s, thin1, thin2, lines, bot } = await scene();
  const before = [await s.sb.accountData(thin1.portfolio), await s.sb.accountData(thin2.portfolio)];
  assert.equal(await bot(true).run(), 2);
  assert.deepEqual([await s.sb.accountData(thin1.portfolio), await s.sb.accountData(thin2.portfolio)], before);
  assert.equal(lines.filter((l) => l.startsWith("dry run: would send liquidation")).length, 2, lines.join("\n"));
});

test("liquidation rejections carry their IDL names", async () => {
  const { s, thin1, safe, liquidator } = await scene();
  const params = async (target: Trader, maxLots: bigint, signer = liquidator) => ({
    quoteMint: s.usdc,
    quoteVault: vaultPda(client.programId, client.exchange, s.usdc),
    tokenProgram: SPL,
    liquidatorSigner: signer.owner.publicKey,
    liquidator: liquidator.portfolio,
    target: target.portfolio,
    underlying: 0,
    instrument: PERP_INSTRUMENT,
    maxLots,
    oracle: s.oracle,
    targetHealth: await health(s, target, 0),
    liquidatorHealth: await health(s, liquidator, 0),
  });
  const fails = async (p: Awaited<ReturnType<typeof params>>, signer: Trader) =>
    s.sb.sendExpectingFailure([...marginBudgetIxs(), await liquidatePositionsIx(client, p)], [signer.owner]).errorName;
  assert.equal(await fails(await params(safe, 10n), liquidator), "NotLiquidatable");
  assert.equal(await fails(await params(thin1, 0n), liquidator), "InvalidLiquidationSize");
  assert.equal(await fails(await params(thin1, 10n, safe), safe), "NotLiquidator");
  const landed = s.sb.send([...marginBudgetIxs(), await liquidatePositionsIx(client, await params(thin1, 10n))], [liquidator.owner]);
  recordCu("liquidate_positions", "10 lots of a 1-position target (TS)", landed.computeUnits, LIQUIDATE_CEILING);
  assert.equal(client.decodePortfolio((await s.sb.accountData(thin1.portfolio))!).liquidationState, 1, "still being liquidated");
});

test("the bot resolves a bankrupt portfolio's leftover collateral into the insurance fund", async () => {
  const s = await setup();
  // Wrapped SOL listed as collateral (pull oracle at 150, weights 0 / 90%).
  const wsol = s.sb.createMintWith(9, SPL);
  const feed = Buffer.alloc(32, 0x62);
  const wsolOracle = sponsoredFeedAccount(feed);
  s.sb.putPullOracle(wsolOracle, feed, SOL, SOL / 10_000n, -6);
  const tier = { above: new BN(0), initialWeightBps: 0, maintenanceWeightBps: 0, padding: [0, 0, 0, 0] };
  const haircut = {
    initialAssetWeightBps: 0,
    maintenanceAssetWeightBps: 9_000,
    initialLiabilityWeightBps: 12_000,
    maintenanceLiabilityWeightBps: 11_000,
    tierCount: 0,
    padding: [0, 0, 0, 0, 0, 0, 0],
    tiers: [tier, tier, tier, tier],
  };
  const list = await client.listCollateralIx({
    payer: s.sb.payer.publicKey,
    governance: s.governance.publicKey,
    mint: wsol,
    tokenProgram: SPL,
    oracle: oracleConfig(feed, OracleKind.PythPull),
    haircut,
    depositCap: 10n ** 15n,
  });
  s.sb.send([list], [s.governance]);
  // A 10 SOL long on 380 USDC, then one native unit of wrapped SOL from its owner; SOL 150 → 90.
  const thin = await s.trader(380_000_000n);
  const liquidator = await s.trader(100_000_000_000n);
  await buyPerp(s, thin, 1_000n);
  const source = s.sb.createTokenAccount(wsol, thin.owner.publicKey, 1n);
  const dust = await client.depositIx({ depositor: thin.owner.publicKey, portfolio: thin.portfolio, mint: wsol, source, tokenProgram: SPL, amount: 1n, quote: false });
  s.sb.send([dust], [thin.owner]);
  // The fund takes collateral in kind only when it pays the whole quote liability.
  s.sb.addTokens(insuranceVaultPda(client.programId, client.exchange), 1_000_000_000n);
  s.publish(90_000_000n);

  const lines: string[] = [];
  const known = [thin, liquidator, s.a, s.b].map((t) => t.portfolio);
  const chain: Chain = {
    ...svmChain(s.sb, known),
    async send(ixs: TransactionInstruction[], signers: Keypair[]) {
      const landed = s.sb.send(ixs, signers);
      if (landed.logs.some((l) => l.includes("Instruction: ResolveBankruptcy"))) {
        recordCu("resolve_bankruptcy", "bot, 1 leftover collateral taken over (TS)", landed.computeUnits, 60_000);
      }
      return `${landed.computeUnits} CU`;
    },
  };
  const bot = new LiquidatorBot(client, chain, {
    liquidator: liquidator.owner,
    portfolio: liquidator.portfolio,
    quote: { quoteMint: s.usdc, quoteVault: vaultPda(client.programId, client.exchange, s.usdc), tokenProgram: SPL },
    underlyingOracle: () => s.oracle,
    pullAccount: (hex) => {
      if (hex !== feed.toString("hex")) throw new Error(`unknown feed ${hex}`);
      return wsolOracle;
    },
    dryRun: false,
    log: (line) => lines.push(line),
  });
  await bot.run();
  const p = client.decodePortfolio((await s.sb.accountData(thin.portfolio))!);
  assert.deepEqual(
    p.balances.filter((b) => b.amount !== 0n),
    [],
    `nothing left: ${JSON.stringify(p.balances, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n${lines.join("\n")}`,
  );
  assert.ok(lines.some((l) => l.includes("with leftover collateral")), lines.join("\n"));
  assert.equal(s.sb.tokenAmount(collateralInsurancePda(client.programId, client.exchange, wsol)), 1n, "the dust is the insurance fund's");
  assert.equal(s.sb.tokenAmount(vaultPda(client.programId, client.exchange, wsol)), 0n);
});
