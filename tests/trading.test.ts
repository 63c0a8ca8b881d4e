// Trading from TypeScript, on the compiled .so: a market and a series created by governance,
// marks from the keeper crank, a perp and an option fill built by the app's client, positions
// decoded from the account, `quoteTrade` agreeing with the margin the program computes after
// the real fill, and rejections by their IDL names (including stale marks, then the fix).
import { test } from "node:test";
import assert from "node:assert/strict";

import { Keypair, PublicKey } from "@solana/web3.js";

import {
  InstrumentKind,
  PERP_INSTRUMENT,
  XmarginClient,
  createMarketIx,
  decodePositions,
  getPortfolioHealth,
  listOptionSeriesIx,
  marginBudgetIxs,
  marketPda,
  quoteTrade,
  seriesMask,
  tradeIx,
  underlyingAccounts,
  updateMarksIx,
  vaultPda,
  type TradeParams,
} from "../app/src/index.js";
import { adaptiveUnderlying } from "./fixtures.js";
import { Sandbox, recordCu } from "./harness.js";

const client = new XmarginClient();
const SPL = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
const DAY = 86_400;
/** SOL at 150 USDC: oracle mantissas at exponent −6 are quote native units per SOL. */
const SOL = 150_000_000n;
const TRADE_CEILING = 200_000;

interface Trader {
  owner: Keypair;
  portfolio: PublicKey;
}

async function setup() {
  const sb = new Sandbox();
  const governance = sb.fundedKeypair();
  const usdc = sb.createMint(6);
  const init = await client.initializeExchangeIx({
    payer: sb.payer.publicKey,
    upgradeAuthority: sb.upgradeAuthority.publicKey,
    quoteMint: usdc,
    governance: governance.publicKey,
    guardian: sb.fundedKeypair().publicKey,
    timelockDelaySecs: DAY,
    quoteDepositCap: 10n ** 15n,
    maxWeightStepBps: 2_500,
  });
  sb.send([init], [sb.upgradeAuthority]);
  // SOL listed as an underlying through the timelock (static shocks), then its market.
  const feed = Buffer.alloc(32, 0x61);
  const oracle = Keypair.generate().publicKey;
  const ex = await client.fetchExchange((k) => sb.accountData(k));
  assert.ok(ex);
  const id = ex.nextRiskChangeId;
  const change = { listUnderlying: { config: adaptiveUnderlying(feed, 0) } };
  sb.send([await client.proposeRiskChangeIx({ payer: sb.payer.publicKey, governance: governance.publicKey, id, change })], [governance]);
  sb.warp(DAY);
  sb.send([await client.executeRiskChangeIx(id, sb.payer.publicKey)]);
  const publish = (price: bigint) => sb.putPullOracle(oracle, feed, price, price / 10_000n, -6);
  publish(SOL);
  const market = await createMarketIx(client, sb.payer.publicKey, governance.publicKey, {
    underlying: 0,
    lotDecimals: 2,
    tick: 10_000n,
    minSizeLots: 1n,
    perpOiCap: 10n ** 9n,
    perpBandBps: 500,
    optionBandBps: 200,
    takerFeeBps: 5,
    makerFeeBps: 2,
    maxFundingRateBps: 10,
    fundingIntervalSecs: 3_600,
    expiryTimeOfDaySecs: 8 * 3600,
    settlementWindowSecs: 3_600,
    maxExpiryDays: 365,
    maxMarkDriftBps: 300,
    maxMarkAgeSecs: 3_600,
  });
  sb.send([market], [governance]);
  // A 30-day at-the-money call, on the 08:00 UTC grid.
  const t = sb.now().unixTimestamp + BigInt(30 * DAY);
  let expiry = (t / BigInt(DAY)) * BigInt(DAY) + 8n * 3600n;
  if (expiry < t) expiry += BigInt(DAY);
  const list = await listOptionSeriesIx(client, governance.publicKey, 0, { kind: InstrumentKind.Call, strike: SOL, expiry, oiCap: 10n ** 9n });
  sb.send([list], [governance]);
  const trader = async (): Promise<Trader> => {
    const owner = sb.fundedKeypair();
    sb.send([await client.openPortfolioIx(sb.payer.publicKey, owner.publicKey)], [owner]);
    const portfolio = client.portfolio(owner.publicKey);
    const source = sb.createTokenAccount(usdc, owner.publicKey, 10_000_000_000n);
    const deposit = await client.depositIx({ depositor: owner.publicKey, portfolio, mint: usdc, source, tokenProgram: SPL, amount: 10_000_000_000n });
    sb.send([deposit], [owner]);
    return { owner, portfolio };
  };
  return { sb, usdc, oracle, publish, a: await trader(), b: await trader() };
}

type Setup = Awaited<ReturnType<typeof setup>>;

async function positions(s: Setup, t: Trader) {
  const data = await s.sb.accountData(t.portfolio);
  assert.ok(data);
  return decodePositions(client, data);
}

/** Health accounts of a portfolio (it holds only the quote asset: no collateral oracles). */
async function health(s: Setup, t: Trader, exclude?: number): Promise<PublicKey[]> {
  return underlyingAccounts(client, await positions(s, t), () => s.oracle, exclude);
}

async function trade(s: Setup, instrument: number, sizeLots: bigint, price: bigint, taker = s.a, maker = s.b): Promise<TradeParams> {
  return {
    takerSigner: taker.owner.publicKey,
    makerSigner: maker.owner.publicKey,
    taker: taker.portfolio,
    maker: maker.portfolio,
    underlying: 0,
    instrument,
    sizeLots,
    price,
    oracle: s.oracle,
    quoteMint: s.usdc,
    quoteVault: vaultPda(client.programId, client.exchange, s.usdc),
    tokenProgram: SPL,
    takerHealth: await health(s, taker, 0),
    makerHealth: await health(s, maker, 0),
  };
}

test("fills from the TS client; quoteTrade is the program's own margin after the fill", async () => {
  const s = await setup();
  const marks = await updateMarksIx(client, 0, seriesMask(0, 1), s.oracle);
  recordCu("update_marks", "one series (TS)", s.sb.send([marks]).computeUnits, 70_000);

  // The taker buys 1 SOL of the call at 10.30 USDC (model ≈ 10.3; band 2% of spot).
  const option = await trade(s, 0, 100n, 10_300_000n);
  const marketAndOracle = [marketPda(client.programId, client.exchange, 0), s.oracle];
  const simulate = (ixs: Parameters<typeof s.sb.simulate>[0]) => s.sb.simulate(ixs, [s.a.owner, s.b.owner]);
  const quote = await quoteTrade(client, option, [], marketAndOracle, simulate);
  assert.ok(Math.abs(quote.before.equity - 10_000) < 1e-9, `equity before ${quote.before.equity}`);
  assert.equal(quote.before.initialRequirement, 0);
  assert.ok(quote.after.initialRequirement > 0 && quote.after.initialHealth < quote.before.initialHealth);

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
