// The collateral side from TypeScript, on the compiled .so: listing, timelocked loosening
// (with the governance diff), guardian limits, deposits and withdrawals across three assets
// with the vault invariant, health from the program's return data, and rejections.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Keypair, PublicKey } from "@solana/web3.js";
import BN from "bn.js";

import {
  OracleKind,
  XmarginClient,
  createMarketIx,
  diffCollateralParams,
  getPortfolioHealth,
  marketPda,
  oracleAccounts,
  planCollateralChange,
  riskParamsOf,
  sponsoredFeedAccount,
  vaultPda,
  volatilityOf,
  type UnderlyingConfigArg,
  type HaircutArg,
  type OracleConfigArg,
} from "../app/src/index.js";
import { adaptiveUnderlying, exchangeParams, flatHaircut, marketParams, oracleConfig } from "./fixtures.js";
import { Sandbox, healthNumbers, recordCu } from "./harness.js";

const client = new XmarginClient();
const SPL = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
const TOKEN_2022 = new PublicKey("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
const DAY = 86_400;
// Same ceilings as programs/xmargin/tests/tests/collateral.rs.
const DEPOSIT_CEILING = 40_000;
const WITHDRAW_CEILING = 80_000;


/** A listing's haircut: no initial weight (as every listing starts), `maintenance` bps. */
function haircut(maintenance: number): HaircutArg {
  return flatHaircut(0, maintenance);
}

interface Venue {
  sb: Sandbox;
  governance: Keypair;
  guardian: Keypair;
  usdc: PublicKey;
  sol: PublicKey;
  eth: PublicKey;
  solFeed: Buffer;
  solOracle: PublicKey;
  ethOracle: PublicKey;
}

async function venue(): Promise<Venue> {
  const sb = new Sandbox();
  const governance = sb.fundedKeypair();
  const guardian = sb.fundedKeypair();
  const usdc = sb.createMint(6);
  sb.send(
    [
      await client.initializeExchangeIx(
        exchangeParams({ payer: sb.payer.publicKey, upgradeAuthority: sb.upgradeAuthority.publicKey, quoteMint: usdc, governance, guardian }, DAY),
      ),
    ],
    [sb.upgradeAuthority],
  );
  const sol = sb.createMintWith(9, SPL);
  const eth = sb.createMintWith(8, TOKEN_2022);
  const solFeed = Buffer.alloc(32, 0x50);
  const solOracle = sponsoredFeedAccount(solFeed);
  const ethOracle = Keypair.generate().publicKey;
  const pyth = Keypair.generate().publicKey;
  sb.putPullOracle(solOracle, solFeed, 15_000n, 5n, -2);
  sb.putLegacyOracle(ethOracle, pyth, 300_000n, 100n, -2);
  const listings: [PublicKey, PublicKey, OracleConfigArg, number][] = [
    [sol, SPL, oracleConfig(solFeed, OracleKind.PythPull), 9_000],
    [eth, TOKEN_2022, oracleConfig(ethOracle.toBuffer(), OracleKind.PythLegacy, pyth), 8_500],
  ];
  for (const [mint, tokenProgram, oracle, maintenance] of listings) {
    const ix = await client.listCollateralIx({
      payer: sb.payer.publicKey,
      governance: governance.publicKey,
      mint,
      tokenProgram,
      oracle,
      haircut: haircut(maintenance),
      depositCap: 10n ** 15n,
    });
    sb.send([ix], [governance]);
  }
  return { sb, governance, guardian, usdc, sol, eth, solFeed, solOracle, ethOracle };
}

async function registry(sb: Sandbox) {
  const data = await sb.accountData(client.registry);
  assert.ok(data, "registry exists");
  return client.decodeRegistry(data);
}

async function exchange(sb: Sandbox) {
  const ex = await client.fetchExchange((k) => sb.accountData(k));
  assert.ok(ex);
  return ex;
}

/** Proposes `initial` bps for collateral `index`, waits out the timelock and executes. */
async function loosen(v: Venue, index: number, initial: number): Promise<string[]> {
  const { old, next } = planCollateralChange(await registry(v.sb), index, { initialWeightBps: initial });
  const diff = diffCollateralParams(old, next);
  const id = (await exchange(v.sb)).nextRiskChangeId;
  const propose = await client.proposeCollateralChangeIx({
    payer: v.sb.payer.publicKey,
    governance: v.governance.publicKey,
    id,
    index,
    params: next,
  });
  v.sb.send([propose], [v.governance]);
  const early = v.sb.sendExpectingFailure([await client.executeRiskChangeIx(id, v.sb.payer.publicKey)]);
  assert.equal(early.errorName, "TimelockNotExpired");
  v.sb.warp(DAY);
  v.sb.send([await client.executeRiskChangeIx(id, v.sb.payer.publicKey)]);
  return diff;
}

async function portfolioState(sb: Sandbox, portfolio: PublicKey) {
  const data = await sb.accountData(portfolio);
  assert.ok(data);
  return client.decodePortfolio(data);
}

test("governance loosens through the timelock, with a readable diff; the guardian cannot loosen", async () => {
  const v = await venue();
  const diff = await loosen(v, 1, 2_500);
  assert.deepEqual(diff, ["initial asset weight: 0.00% -> 25.00%   LOOSENS (timelock)"]);
  assert.equal((await registry(v.sb)).collaterals[1]?.haircut.initialAssetWeightBps, 2_500);

  const current = (await registry(v.sb)).collaterals[1];
  assert.ok(current);
  const looser = riskParamsOf(current);
  looser.haircut = { ...looser.haircut, initialAssetWeightBps: 3_000 };
  const failure = v.sb.sendExpectingFailure([await client.tightenRiskIx(v.guardian.publicKey, 1, looser)], [v.guardian]);
  assert.equal(failure.errorName, "GuardianCannotLoosen");
  const tighter = riskParamsOf(current);
  tighter.haircut = { ...tighter.haircut, initialAssetWeightBps: 1_000 };
  v.sb.send([await client.tightenRiskIx(v.guardian.publicKey, 1, tighter)], [v.guardian]);
  assert.equal((await registry(v.sb)).collaterals[1]?.haircut.initialAssetWeightBps, 1_000);

  const tooFar = planCollateralChange(await registry(v.sb), 1, { initialWeightBps: 5_000 });
  const id = (await exchange(v.sb)).nextRiskChangeId;
  const ix = await client.proposeCollateralChangeIx({ payer: v.sb.payer.publicKey, governance: v.governance.publicKey, id, index: 1, params: tooFar.next });
  assert.equal(v.sb.sendExpectingFailure([ix], [v.governance]).errorName, "WeightStepTooLarge");
});


test("an underlying lists through the timelock and its volatility crank runs", async () => {
  const v = await venue();
  const feed = Buffer.alloc(32, 0x42);
  const id = (await exchange(v.sb)).nextRiskChangeId;
  const change = { listUnderlying: { config: adaptiveUnderlying(feed) } };
  const ix = await client.proposeRiskChangeIx({ payer: v.sb.payer.publicKey, governance: v.governance.publicKey, id, change });
  v.sb.send([ix], [v.governance]);
  assert.equal((await registry(v.sb)).underlyingCount, 0);
  v.sb.warp(DAY);
  v.sb.send([await client.executeRiskChangeIx(id, v.sb.payer.publicKey)]);
  const listed = await registry(v.sb);
  assert.equal(listed.underlyingCount, 1);
  // The estimator lives in the underlying's market: creating it seeds the estimator at the
  // implied vol, variance 0.6² = 0.36.
  v.sb.send([await createMarketIx(client, v.sb.payer.publicKey, v.governance.publicKey, marketParams(2, 100n))], [v.governance]);
  const estimator = async () => {
    const data = await v.sb.accountData(marketPda(client.programId, client.exchange, 0));
    assert.ok(data, "market exists");
    return volatilityOf(client.decodeAccount("Market", data));
  };
  assert.ok(Math.abs((await estimator()).varShort - 0.36) < 1e-9);

  // Anyone may crank; the first observation only records the price.
  const oracle = sponsoredFeedAccount(feed);
  v.sb.putPullOracle(oracle, feed, 15_000n, 5n, -2);
  const first = v.sb.send([await client.updateVolatilityIx(0, oracle)]);
  recordCu("update_volatility", "first observation (TS)", first.computeUnits, 40_000);
  // Too soon: rejected, nothing written.
  v.sb.warp(60);
  v.sb.putPullOracle(oracle, feed, 15_000n, 5n, -2);
  assert.equal(v.sb.sendExpectingFailure([await client.updateVolatilityIx(0, oracle)]).errorName, "VolatilityUpdateTooSoon");
  // An hour later a 15% drop raises the shock above the quiet floor.
  v.sb.warp(3600);
  v.sb.putPullOracle(oracle, feed, 12_750n, 5n, -2);
  const before = await estimator();
  const registryBefore = await v.sb.accountData(client.registry);
  v.sb.send([await client.updateVolatilityIx(0, oracle)]);
  const after = await estimator();
  assert.deepEqual(await v.sb.accountData(client.registry), registryBefore, "the crank writes the market only");
  assert.ok(after.lastTime > before.lastTime);
  assert.ok(after.varShort > before.varShort, `short variance ${before.varShort} -> ${after.varShort}`);
  assert.ok(after.shock > 0.05, `shock ${after.shock}`);
});

test("deposits and withdrawals across three assets keep the vaults whole; health comes from the program", async () => {
  const v = await venue();
  for (const idx of [1, 2]) await loosen(v, idx, 2_500);
  for (const idx of [1, 2]) await loosen(v, idx, 5_000);
  // Oracles published again after the clock moved.
  v.sb.putPullOracle(v.solOracle, v.solFeed, 15_000n, 5n, -2);
  const ethPyth = new PublicKey(v.sb.getAccount(v.ethOracle)!.programAddress);
  v.sb.putLegacyOracle(v.ethOracle, ethPyth, 300_000n, 100n, -2);

  const owner = v.sb.fundedKeypair();
  v.sb.send([await client.openPortfolioIx(v.sb.payer.publicKey, owner.publicKey)], [owner]);
  const portfolio = client.portfolio(owner.publicKey);
  const assets: [PublicKey, PublicKey, bigint][] = [
    [v.usdc, SPL, 10_000_000_000n],
    [v.sol, SPL, 20_000_000_000n],
    [v.eth, TOKEN_2022, 150_000_000n],
  ];
  const sources = assets.map(([mint, , amount]) => v.sb.createTokenAccount(mint, owner.publicKey, amount));
  for (const [i, [mint, tokenProgram, amount]] of assets.entries()) {
    const ix = await client.depositIx({ depositor: owner.publicKey, portfolio, mint, source: sources[i]!, tokenProgram, amount, quote: mint.equals(v.usdc) });
    const landed = v.sb.send([ix], [owner]);
    recordCu("deposit", `asset ${i}`, landed.computeUnits, DEPOSIT_CEILING);
  }
  const invariant = async (): Promise<void> => {
    const p = await portfolioState(v.sb, portfolio);
    for (const [i, [mint]] of assets.entries()) {
      const balance = p.balances.find((b) => b.collateral === i)?.amount ?? 0n;
      assert.equal(balance, v.sb.tokenAmount(vaultPda(client.programId, client.exchange, mint)), `asset ${i}`);
    }
  };
  await invariant();

  const oracles = oracleAccounts(await portfolioState(v.sb, portfolio), await registry(v.sb), () => v.solOracle);
  assert.deepEqual(oracles.map((o) => o.toBase58()), [v.solOracle.toBase58(), v.ethOracle.toBase58()]);
  const health = healthNumbers(await getPortfolioHealth(client, portfolio, oracles, (ixs) => v.sb.simulate(ixs)));
  // 10,000 + 20 × 150 + 1.5 × 3,000 at mid; initial: assets at price − conf × 50%.
  assert.ok(Math.abs(health.equity - 17_500) < 1e-6, `equity ${health.equity}`);
  assert.ok(Math.abs(health.initialHealth - (10_000 + 20 * 149.95 * 0.5 + 1.5 * 2_999 * 0.5)) < 1e-6);
  assert.ok(Math.abs(health.maintenanceHealth - (10_000 + 20 * 149.95 * 0.9 + 1.5 * 2_999 * 0.85)) < 1e-6);

  const destination = v.sb.createTokenAccount(v.sol, owner.publicKey, 0n);
  const withdraw = await client.withdrawIx({ owner: owner.publicKey, portfolio, mint: v.sol, destination, tokenProgram: SPL, amount: 5_000_000_000n, oracles, quote: false });
  const landed = v.sb.send([withdraw], [owner]);
  recordCu("withdraw", "SPL asset, 3 balances, 2 oracles", landed.computeUnits, WITHDRAW_CEILING);
  assert.equal(v.sb.tokenAmount(destination), 5_000_000_000n);
  await invariant();

  // A delegate can trade (later) but never withdraw.
  const delegate = v.sb.fundedKeypair();
  v.sb.send([await client.setDelegateIx(owner.publicKey, portfolio, delegate.publicKey)], [owner]);
  const stolen = await client.withdrawIx({ owner: delegate.publicKey, portfolio, mint: v.usdc, destination: sources[0]!, tokenProgram: SPL, amount: 1n, oracles, quote: true });
  assert.equal(v.sb.sendExpectingFailure([stolen], [delegate]).errorName, "NotPortfolioOwner");

  // A stale SOL price does not block withdrawing USDC (SOL then counts for nothing).
  v.sb.warp(120);
  const usdcOut = await client.withdrawIx({ owner: owner.publicKey, portfolio, mint: v.usdc, destination: sources[0]!, tokenProgram: SPL, amount: 1_000_000_000n, oracles, quote: true });
  v.sb.send([usdcOut], [owner]);
  await invariant();

  // With a USDC liability (as a trading loss would leave), SOL's value is needed: refused.
  v.sb.patchData(portfolio, (d) => {
    const slot = 8 + 8 + 3 * 32; // first balance slot: amount i64, collateral u8, active u8
    for (let s = slot; s < slot + 16 * 16; s += 16) {
      if (d[s + 9] === 1 && d[s + 8] === 0) d.writeBigInt64LE(-100_000_000n, s);
    }
  });
  const needsSol = await client.withdrawIx({ owner: owner.publicKey, portfolio, mint: v.eth, destination: v.sb.createTokenAccount(v.eth, owner.publicKey, 0n), tokenProgram: TOKEN_2022, amount: 150_000_000n, oracles, quote: false });
  assert.equal(v.sb.sendExpectingFailure([needsSol], [owner]).errorName, "InsufficientHealth");
});

test("bad accounts are refused by name: wrong vault, unlisted mint, someone else's portfolio", async () => {
  const v = await venue();
  const owner = v.sb.fundedKeypair();
  v.sb.send([await client.openPortfolioIx(v.sb.payer.publicKey, owner.publicKey)], [owner]);
  const portfolio = client.portfolio(owner.publicKey);
  const usdc = v.sb.createTokenAccount(v.usdc, owner.publicKey, 1_000n);
  const ix = await client.depositIx({ depositor: owner.publicKey, portfolio, mint: v.usdc, source: usdc, tokenProgram: SPL, amount: 10n, quote: true });
  // (keys: depositor, exchange, registry, quote ledger, portfolio, mint, vault, ...)
  ix.keys[6]!.pubkey = v.sb.createTokenAccount(v.usdc, v.sb.payer.publicKey, 0n);
  assert.equal(v.sb.sendExpectingFailure([ix], [owner]).errorName, "VaultMismatch");
  const fake = v.sb.createMintWith(6, SPL);
  const fakeSource = v.sb.createTokenAccount(fake, owner.publicKey, 1_000n);
  const fakeIx = await client.depositIx({ depositor: owner.publicKey, portfolio, mint: fake, source: fakeSource, tokenProgram: SPL, amount: 10n, quote: false });
  fakeIx.keys[6]!.pubkey = vaultPda(client.programId, client.exchange, v.usdc);
  assert.equal(v.sb.sendExpectingFailure([fakeIx], [owner]).errorName, "CollateralNotListed");
  assert.equal(v.sb.sendExpectingFailure([await client.depositIx({ depositor: owner.publicKey, portfolio, mint: v.usdc, source: usdc, tokenProgram: SPL, amount: 0n, quote: true })], [owner]).errorName, "ZeroAmount");
  const other = v.sb.fundedKeypair();
  const close = await client.closePortfolioIx(other.publicKey, portfolio);
  assert.equal(v.sb.sendExpectingFailure([close], [other]).errorName, "NotPortfolioOwner");
  assert.equal(v.sb.tokenAmount(usdc), 1_000n);
});
