// The liquidator bot (app/src/liquidator.ts) on the compiled .so: after a SOL crash it
// liquidates exactly the underwater portfolios (in partial steps, each restored to the
// buffer), leaves the healthy one untouched, logs its decisions, and in a dry run sends
// nothing. The SVM stands in for the RPC node through the bot's `Chain` interface.
import { test } from "node:test";
import assert from "node:assert/strict";

import { PublicKey } from "@solana/web3.js";

import BN from "bn.js";

import {
  EngineRefusal,
  HealthEngine,
  type BotConfig,
  type BotEvent,
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
  memoryLogger,
  seriesMask,
  updateMarksIx,
  type Chain,
} from "../app/src/index.js";

const show = (lines: object[]) => lines.map((l) => JSON.stringify(l)).join("\n");
import { oracleConfig } from "./fixtures.js";
import { recordCu, svmChain, type Sandbox } from "./harness.js";
import { SOL, SPL, client, health, positions, setup, trade, type Setup, type Trader } from "./venue.js";

const LIQUIDATE_CEILING = 200_000;
const discriminator = Buffer.from(IDL.accounts.find((a) => a.name.toLowerCase() === "portfolio")?.discriminator ?? []);

/** The SVM as the bot's chain; every landed liquidation's CU is recorded. */
const liquidatorChain = (sb: Sandbox, known: PublicKey[]): Chain =>
  svmChain(sb, known, (landed) => recordCu("liquidate_positions", "bot, 1-position target (TS)", landed.computeUnits, LIQUIDATE_CEILING));

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
  const log = memoryLogger("liquidator");
  const lines = log.lines;
  const bot = (dryRun: boolean, extra: Partial<BotConfig> = {}) =>
    new LiquidatorBot(client, liquidatorChain(s.sb, [thin1, thin2, safe, liquidator, s.a, s.b].map((t) => t.portfolio)), {
      liquidator: liquidator.owner,
      portfolio: liquidator.portfolio,
      quote: { quoteMint: s.usdc, quoteVault: vaultPda(client.programId, client.exchange, s.usdc), tokenProgram: SPL },
      underlyingOracle: () => s.oracle,
      pullAccount: () => {
        throw new Error("no pull collateral in this venue");
      },
      dryRun,
      log,
      ...extra,
    });
  return { s, thin1, thin2, safe, liquidator, lines, bot };
}

test("after a crash the bot liquidates exactly the underwater portfolios, screened by the local engine", async () => {
  const { s, thin1, thin2, safe, liquidator, lines, bot } = await scene();
  assert.ok((await maintenance(s, thin1)) < 0 && (await maintenance(s, thin2)) < 0);
  assert.ok((await maintenance(s, safe)) > 0);
  const safeBefore = await s.sb.accountData(safe.portfolio);

  // Every health of the scans is the engine's: no simulation is spent on a healthy book.
  const healths = { local: 0, simulated: 0 };
  const on = (e: BotEvent) => {
    if (e.kind === "health") healths[e.method]++;
  };
  const actions = await bot(false, { engine: await HealthEngine.load(), on }).run();
  assert.equal(actions, 2, show(lines));
  assert.equal(healths.simulated, 0);
  // At least two rounds over the three books with positions (quote-only books are skipped).
  assert.ok(healths.local >= 6, `local healths: ${healths.local}`);
  for (const t of [thin1, thin2]) {
    const h = await maintenance(s, t);
    assert.ok(h >= 0, `restored: ${h}`);
    assert.equal(client.decodePortfolio((await s.sb.accountData(t.portfolio))!).liquidationState, 0);
  }
  assert.deepEqual(await s.sb.accountData(safe.portfolio), safeBefore, "the healthy book is untouched");
  assert.ok((await maintenance(s, liquidator)) > 0);
  assert.ok(lines.some((l) => l.msg === "pick" && l.label === "positions u0 perp"), show(lines));
  assert.ok(lines.some((l) => l.msg === "done" && l.actions === 2));
  // Every line is a JSON object with a time, a level and the service.
  assert.ok(lines.every((l) => typeof l.time === "string" && l.level === "info" && l.service === "liquidator"));
});

test("an engine that refuses (here: built for another program) hides nothing: the chain is asked", async () => {
  const { thin1, thin2, lines, bot } = await scene();
  const engine = await HealthEngine.load();
  // As the engine answers for a deployment it was not built for.
  engine.refreshHealth = async () => {
    throw new EngineRefusal(6000n, "DeclaredProgramIdMismatch");
  };
  const healths = { local: 0, simulated: 0 };
  const found = await bot(true, { engine, on: (e) => void (e.kind === "health" && healths[e.method]++) }).scan();
  assert.deepEqual(found.underwater.map((p) => p.address.toBase58()).sort(), [thin1, thin2].map((t) => t.portfolio.toBase58()).sort());
  // The three books and their counterparty (s.b, short the perps): each simulated.
  assert.deepEqual(healths, { local: 0, simulated: 4 });
  assert.ok(lines.some((l) => l.msg === "local health refused: simulating" && l.error === "DeclaredProgramIdMismatch"), show(lines));
});

test("a dry run decides and logs but sends nothing", async () => {
  const { s, thin1, thin2, lines, bot } = await scene();
  const before = [await s.sb.accountData(thin1.portfolio), await s.sb.accountData(thin2.portfolio)];
  assert.equal(await bot(true).run(), 2);
  assert.deepEqual([await s.sb.accountData(thin1.portfolio), await s.sb.accountData(thin2.portfolio)], before);
  assert.equal(lines.filter((l) => l.msg === "dry run: would send" && l.action === "liquidation").length, 2, show(lines));
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

  const log = memoryLogger("liquidator");
  const lines = log.lines;
  const known = [thin, liquidator, s.a, s.b].map((t) => t.portfolio);
  const chain = svmChain(s.sb, known, (landed) => {
    if (landed.logs.some((l) => l.includes("Instruction: ResolveBankruptcy"))) {
      recordCu("resolve_bankruptcy", "bot, 1 leftover collateral taken over (TS)", landed.computeUnits, 60_000);
    }
  });
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
    log,
  });
  await bot.run();
  const p = client.decodePortfolio((await s.sb.accountData(thin.portfolio))!);
  assert.deepEqual(
    p.balances.filter((b) => b.amount !== 0n),
    [],
    `nothing left: ${JSON.stringify(p.balances, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n${show(lines)}`,
  );
  assert.ok(lines.some((l) => l.msg === "bankrupt with leftover collateral"), show(lines));
  assert.equal(s.sb.tokenAmount(collateralInsurancePda(client.programId, client.exchange, wsol)), 1n, "the dust is the insurance fund's");
  assert.equal(s.sb.tokenAmount(vaultPda(client.programId, client.exchange, wsol)), 0n);
});

test("an underwater option book is found and liquidated behind fresh marks, even when nothing cranked them", async () => {
  const s = await setup();
  s.sb.send([await updateMarksIx(client, 0, seriesMask(0, 1), s.oracle)]);
  // A thin book short 10 calls (30-day, strike 150) to the rich one.
  const thin = await s.trader(600_000_000n);
  const liquidator = await s.trader(100_000_000_000n);
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, 0, -1_000n, 10_300_000n, thin, s.b))], [thin.owner, s.b.owner]);
  // Two hours and a 33% rally later, with no keeper running: the marks are past their age.
  s.sb.warp(7_200);
  s.publish(200_000_000n);
  const refresh = await client.refreshHealthIx(thin.portfolio, await health(s, thin));
  assert.equal(s.sb.sendExpectingFailure([...marginBudgetIxs(), refresh]).errorName, "MarksTooOld");
  const log = memoryLogger("liquidator");
  const bot = new LiquidatorBot(client, liquidatorChain(s.sb, [thin.portfolio, liquidator.portfolio, s.b.portfolio]), {
    liquidator: liquidator.owner,
    portfolio: liquidator.portfolio,
    quote: { quoteMint: s.usdc, quoteVault: vaultPda(client.programId, client.exchange, s.usdc), tokenProgram: SPL },
    dryRun: false,
    log,
    // The engine finds the marks stale (it cannot refresh them): that book, and only it, is
    // simulated behind fresh marks.
    engine: await HealthEngine.load(),
    on: (e) => {
      if (e.kind === "health") healths[e.method]++;
    },
  });
  const healths = { local: 0, simulated: 0 };
  assert.equal(await bot.round(), 1, show(log.lines));
  // Both books holding the call (the thin short, s.b long) are stale: both simulated.
  assert.deepEqual(healths, { local: 0, simulated: 2 });
  assert.ok(log.lines.some((l) => l.msg === "underwater" && l.portfolio === thin.portfolio.toBase58()), show(log.lines));
  assert.ok(log.lines.some((l) => l.msg === "sent" && l.label === "positions u0 series 0"), show(log.lines));
  const after = (await positions(s, thin)).find((p) => p.series === 0);
  assert.ok(after && after.sizeLots > -1_000n, `partially closed: ${after?.sizeLots}`);
});
