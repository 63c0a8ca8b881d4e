// Collateral linked to an underlying, from TypeScript on the compiled .so: a positive wBTC
// balance linked to BTC is an exposure in BTC's grid, so BTC's `Market` account and oracle
// are health accounts even without a BTC position (`health_underlyings`), which the client's
// `linkedUnderlyings` + `underlyingAccounts(..., linked)` supply; the linked balance never
// counts for more than its standalone haircut unhedged, and nets against a short BTC perp.
import { test } from "node:test";
import assert from "node:assert/strict";

import { PublicKey } from "@solana/web3.js";
import BN from "bn.js";

import {
  ALL,
  PERP_INSTRUMENT,
  collateralLink,
  createMarketIx,
  decodePositions,
  diffCollateralParams,
  errorCode,
  getPortfolioHealth,
  linkedUnderlyings,
  liquidatePositionsIx,
  marginBudgetIxs,
  oracleAccounts,
  planCollateralChange,
  riskParamsOf,
  sponsoredFeedAccount,
  tradeIx,
  underlyingAccounts,
  unlinked,
  vaultPda,
  type PortfolioHealth,
} from "../app/src/index.js";
import { adaptiveUnderlying, governedExchange, listWrappedBtc, marketParams } from "./fixtures.js";
import { Sandbox, healthNumbers, type HealthNumbers } from "./harness.js";
import { DAY, SPL, client, type Trader } from "./venue.js";

/** BTC at 60,000 USDC and wBTC a touch below (a wrapper's discount), quote native units per
 * whole unit at exponent −6; confidence 1 bp of the price (as venue.ts publishes). */
const BTC = 60_000_000_000n;
const WBTC = 59_940_000_000n;
const conf = (price: bigint) => price / 10_000n;
const units = (price: bigint) => Number(price) / 1e6;
const WBTC_INITIAL_BPS = 2_500;
const WBTC_MAINTENANCE_BPS = 9_000;
/** The link's basis haircuts. The initial one is the least a link may start at beside a 25%
 * initial weight: one step (25%) below the standalone haircut it replaces, 75%
 * (`BasisHaircutStepTooLarge` below that). */
const BASIS_INITIAL_BPS = 5_000;
const BASIS_MAINTENANCE_BPS = 300;
/** wBTC native units (8 decimals): one whole token. */
const ONE_WBTC = 100_000_000n;
/** Market lots: 4 decimals, so 10,000 lots are one BTC. */
const LOT_DECIMALS = 4;
const ONE_BTC_LOTS = 10_000n;

/**
 * An exchange with BTC listed as underlying 0 through the timelock (static shocks) and its
 * market, and wrapped BTC listed as collateral 1, then — in one timelocked proposal —
 * loosened to a 25% initial weight and linked 1:1 to BTC (basis 50% / 3%).
 */
async function venue() {
  const sb = new Sandbox();
  const { governance, guardian, usdc, exchange, registry } = await governedExchange(sb, client, DAY);
  const execute = async (id: bigint) => sb.send([await client.executeRiskChangeIx(id, sb.payer.publicKey)]);

  // BTC listed as an underlying through the timelock.
  const btcFeed = Buffer.alloc(32, 0x62);
  const btcOracle = sponsoredFeedAccount(btcFeed);
  const listId = (await exchange()).nextRiskChangeId;
  const listing = { listUnderlying: { config: adaptiveUnderlying(btcFeed, 0) } };
  sb.send([await client.proposeRiskChangeIx({ payer: sb.payer.publicKey, governance: governance.publicKey, id: listId, change: listing })], [governance]);
  sb.warp(DAY);
  await execute(listId);

  // Wrapped BTC listed as collateral 1 (no initial weight, as every listing starts).
  const wbtcFeed = Buffer.alloc(32, 0x63);
  const wbtcOracle = sponsoredFeedAccount(wbtcFeed);
  const wbtc = await listWrappedBtc(sb, client, governance, wbtcFeed, WBTC_MAINTENANCE_BPS);

  // Loosen to 25% and link to BTC: both loosen, so through the timelock.
  const link = collateralLink({ underlying: 0, basisInitialBps: BASIS_INITIAL_BPS, basisMaintenanceBps: BASIS_MAINTENANCE_BPS });
  const { old, next } = planCollateralChange(await registry(), 1, { initialWeightBps: WBTC_INITIAL_BPS, link });
  assert.deepEqual(diffCollateralParams(old, next), [
    "initial asset weight: 0.00% -> 25.00%   LOOSENS (timelock)",
    "link: none -> underlying 0, 1.000000 units per token, basis 50.00% / 3.00%   LOOSENS (timelock)",
  ]);
  const linkId = (await exchange()).nextRiskChangeId;
  sb.send([await client.proposeCollateralChangeIx({ payer: sb.payer.publicKey, governance: governance.publicKey, id: linkId, index: 1, params: next })], [governance]);
  sb.warp(DAY);
  await execute(linkId);
  const linked = (await registry()).collaterals[1];
  assert.equal(linked?.link.active, 1);
  assert.equal(linked?.link.underlying, 0);

  // Prices published after the clock moved (60 s staleness), then BTC's market.
  const publish = (btc = BTC, wrapped = WBTC) => {
    sb.putPullOracle(btcOracle, btcFeed, btc, conf(btc), -6);
    sb.putPullOracle(wbtcOracle, wbtcFeed, wrapped, conf(wrapped), -6);
  };
  publish();
  const market = await createMarketIx(client, sb.payer.publicKey, governance.publicKey, marketParams(LOT_DECIMALS, 1_000_000n));
  sb.send([market], [governance]);

  const openPortfolio = async () => {
    const owner = sb.fundedKeypair();
    sb.send([await client.openPortfolioIx(sb.payer.publicKey, owner.publicKey)], [owner]);
    return { owner, portfolio: client.portfolio(owner.publicKey) };
  };
  const deposit = async (t: Trader, mint: PublicKey, amount: bigint) => {
    const source = sb.createTokenAccount(mint, t.owner.publicKey, amount);
    sb.send([await client.depositIx({ depositor: t.owner.publicKey, portfolio: t.portfolio, mint, source, tokenProgram: SPL, amount, quote: mint.equals(usdc) })], [t.owner]);
  };
  return { sb, governance, guardian, usdc, wbtc, btcOracle, wbtcOracle, registry, publish, openPortfolio, deposit };
}

type Venue = Awaited<ReturnType<typeof venue>>;

async function portfolioState(v: Venue, t: Trader) {
  const data = await v.sb.accountData(t.portfolio);
  assert.ok(data);
  return { state: client.decodePortfolio(data), positions: decodePositions(client, data) };
}

/** The collateral oracles of `t` (pull feeds at their sponsored accounts), in slot order. */
async function collateralOracles(v: Venue, t: Trader): Promise<PublicKey[]> {
  const { state } = await portfolioState(v, t);
  return oracleAccounts(state, await v.registry(), (hex) => sponsoredFeedAccount(Buffer.from(hex, "hex")));
}

/** The full health-account list of `t`: collateral oracles, then `[market, oracle]` per
 * underlying with a position or a linked balance. */
async function healthAccounts(v: Venue, t: Trader): Promise<PublicKey[]> {
  const { state, positions } = await portfolioState(v, t);
  const linked = linkedUnderlyings(state, await v.registry());
  return [...(await collateralOracles(v, t)), ...underlyingAccounts(client, positions, () => v.btcOracle, undefined, linked)];
}

async function refresh(v: Venue, t: Trader, accounts: PublicKey[]): Promise<HealthNumbers> {
  return healthNumbers(await getPortfolioHealth(client, t.portfolio, accounts, (ixs) => v.sb.simulate([...marginBudgetIxs(), ...ixs])));
}

/** `refresh_health` expected to fail: its custom error code and the IDL name (xmargin's) or
 * "custom N" (Anchor's own). */
async function refreshError(v: Venue, t: Trader, accounts: PublicKey[]): Promise<{ code?: number; error?: string }> {
  const r = v.sb.simulateFull([...marginBudgetIxs(), await client.refreshHealthIx(t.portfolio, accounts)]);
  assert.equal(r.ok, false, "refresh_health was expected to fail");
  return { code: r.code, error: r.error };
}

/** Anchor's `AccountOwnedByWrongProgram` (an `AccountLoader` given another program's account). */
const ANCHOR_ACCOUNT_OWNED_BY_WRONG_PROGRAM = 3007;

/** The guardian removes the link at once (`tighten_risk`). */
async function unlink(v: Venue): Promise<void> {
  const current = (await v.registry()).collaterals[1];
  assert.ok(current);
  v.sb.send([await client.tightenRiskIx(v.guardian.publicKey, 1, { ...riskParamsOf(current), link: unlinked() })], [v.guardian]);
  assert.equal((await v.registry()).collaterals[1]?.link.active, 0);
}

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
/** Requirements go through the 64-bit grid (`crates/risk/src/grid64.rs`): above the exact one by a
 * margin of at most 4·10⁻⁶ of the book's largest loss coefficient (one BTC's delta notional here:
 * at most ~0.4 quote units; ~10⁻³ measured). */
const GRID64 = 1e-2;

// Standalone (unlinked) values of one wBTC: assets at price − conf, times the asset weight.
const STANDALONE_INITIAL = (units(WBTC) - units(conf(WBTC))) * (WBTC_INITIAL_BPS / 10_000);
const STANDALONE_MAINTENANCE = (units(WBTC) - units(conf(WBTC))) * (WBTC_MAINTENANCE_BPS / 10_000);
/** What BTC's grid charges one BTC of unhedged linear exposure: the worst move max(15%,
 * 35% × 3 × 15%) = 15.75% of spot (× `scale`: 1.5 at initial), plus BTC's confidence. */
const charge = (scale: number) => units(BTC) * 0.1575 * scale + units(conf(BTC));

test("a linked wBTC balance without any position needs BTC's market and oracle among the health accounts", async () => {
  const v = await venue();
  const t = await v.openPortfolio();
  await v.deposit(t, v.wbtc, ONE_WBTC);
  const { state, positions } = await portfolioState(v, t);
  assert.equal(positions.length, 0, "no position at all");
  assert.deepEqual(linkedUnderlyings(state, await v.registry()), [0]);

  const oracles = await collateralOracles(v, t);
  assert.deepEqual(oracles.map((k) => k.toBase58()), [v.wbtcOracle.toBase58()]);
  const accounts = await healthAccounts(v, t);
  const btcMarket = underlyingAccounts(client, [], () => v.btcOracle, undefined, [0]);
  assert.equal(accounts.length, 3);
  assert.deepEqual(accounts.slice(1).map((k) => k.toBase58()), btcMarket.map((k) => k.toBase58()));
  assert.equal(accounts[2]?.toBase58(), v.btcOracle.toBase58());

  const h = await refresh(v, t, accounts);
  // Equity: the balance at min(spot, EMA), no confidence: 1 × 59,940.
  close(h.equity, units(WBTC), 1e-6, "equity");
  // Unhedged, the link never values the balance above its standalone haircut: the grid
  // charges the exposure at least what the cap adds back.
  assert.ok(h.initialHealth <= STANDALONE_INITIAL + 1e-6, `initial ${h.initialHealth} <= standalone ${STANDALONE_INITIAL}`);
  assert.ok(h.maintenanceHealth <= STANDALONE_MAINTENANCE + 1e-6, `maintenance ${h.maintenanceHealth} <= standalone ${STANDALONE_MAINTENANCE}`);
  // ...and the linked balance is a position: BTC's grid charges its 1 BTC of exposure the
  // worst linear move, max(15%, 35% × 3 × 15%) = 15.75% of spot (× 1.5 at initial), plus
  // BTC's confidence; the balance counts at min(B·(price − conf)·(1 − basis), standalone +
  // that charge) (crates/risk/src/links.rs). Initial: the cap binds, health = standalone.
  // Maintenance (weight 90% against a 15.75% move): the basis term binds, below standalone.
  close(h.initialRequirement, charge(1.5), GRID64, "initial requirement");
  close(h.maintenanceRequirement, charge(1), GRID64, "maintenance requirement");
  const full = (basis: number) => (units(WBTC) - units(conf(WBTC))) * (1 - basis);
  close(h.initialHealth, Math.min(full(BASIS_INITIAL_BPS / 10_000), STANDALONE_INITIAL + charge(1.5)) - charge(1.5), GRID64, "initial health");
  close(h.maintenanceHealth, Math.min(full(BASIS_MAINTENANCE_BPS / 10_000), STANDALONE_MAINTENANCE + charge(1)) - charge(1), GRID64, "maintenance health");
  assert.ok(h.maintenanceHealth < STANDALONE_MAINTENANCE - 1_000, `maintenance ${h.maintenanceHealth}`);
  assert.ok(h.initialHealth > 0 && h.maintenanceHealth > h.initialHealth, `initial ${h.initialHealth}, maintenance ${h.maintenanceHealth}`);
  // No offset group: no credit.
  assert.equal(h.initialOffsetCredit, 0);
  assert.equal(h.maintenanceOffsetCredit, 0);

  // Without the linked underlying's two accounts the program refuses: the market is missing
  // (health.rs: the accounts run out where BTC's `Market` is expected).
  assert.deepEqual(await refreshError(v, t, oracles), { code: errorCode("MarketAccountsMismatch"), error: "MarketAccountsMismatch" });
  // The oracle alone, in the market's place: Anchor's owner check on the `Market` loader.
  assert.equal((await refreshError(v, t, [...oracles, v.btcOracle])).code, ANCHOR_ACCOUNT_OWNED_BY_WRONG_PROGRAM);

  // Once the guardian unlinks, the balance is plain collateral again: the client drops the
  // underlying, the oracle-only list is right (the old one has extra accounts), and health is
  // the standalone haircut.
  await unlink(v);
  assert.deepEqual(linkedUnderlyings((await portfolioState(v, t)).state, await v.registry()), []);
  assert.deepEqual((await healthAccounts(v, t)).map((k) => k.toBase58()), oracles.map((k) => k.toBase58()));
  assert.deepEqual(await refreshError(v, t, accounts), { code: errorCode("OracleAccountsMismatch"), error: "OracleAccountsMismatch" });
  const plain = await refresh(v, t, oracles);
  close(plain.equity, units(WBTC), 1e-6, "unlinked equity");
  close(plain.initialHealth, STANDALONE_INITIAL, 1e-6, "unlinked initial");
  close(plain.maintenanceHealth, STANDALONE_MAINTENANCE, 1e-6, "unlinked maintenance");
  assert.equal(plain.initialRequirement, 0);
  assert.ok(h.initialHealth <= plain.initialHealth + 1e-6 && h.maintenanceHealth <= plain.maintenanceHealth + 1e-6);
});

test("a cash-and-carry (linked wBTC, short BTC perp) margins far better linked than unlinked", async () => {
  const v = await venue();
  const t = await v.openPortfolio();
  await v.deposit(t, v.wbtc, ONE_WBTC);
  const maker = await v.openPortfolio();
  await v.deposit(maker, v.usdc, 100_000_000_000n);

  // The trader sells one BTC perp at spot to the maker. The traded underlying's accounts are
  // the instruction's own, so each side's list leaves BTC out (wBTC's oracle remains).
  const before = await portfolioState(v, t);
  const linkedBefore = linkedUnderlyings(before.state, await v.registry());
  const takerHealth = [
    ...(await collateralOracles(v, t)),
    ...underlyingAccounts(client, before.positions, () => v.btcOracle, 0, linkedBefore),
  ];
  assert.deepEqual(takerHealth.map((k) => k.toBase58()), [v.wbtcOracle.toBase58()]);
  const sell = await tradeIx(client, {
    takerSigner: t.owner.publicKey,
    makerSigner: maker.owner.publicKey,
    taker: t.portfolio,
    maker: maker.portfolio,
    underlying: 0,
    instrument: PERP_INSTRUMENT,
    sizeLots: -ONE_BTC_LOTS,
    price: BTC,
    oracle: v.btcOracle,
    takerHealth,
    makerHealth: [],
  });
  v.sb.send([...marginBudgetIxs(), sell], [t.owner, maker.owner]);
  const { positions } = await portfolioState(v, t);
  assert.equal(positions.length, 1);
  assert.equal(positions[0]?.sizeLots, -ONE_BTC_LOTS);

  // The position's underlying and the link's coincide: one [market, oracle] pair.
  const accounts = await healthAccounts(v, t);
  assert.equal(accounts.length, 3);
  const linked = await refresh(v, t, accounts);
  // Equity: wBTC + the sale's cash − the short at spot − the taker fee (5 bp of 60,000).
  close(linked.equity, units(WBTC) - 30, 1e-3, "equity");
  assert.equal(linked.initialOffsetCredit, 0);
  assert.equal(linked.maintenanceOffsetCredit, 0);

  // `liquidate_positions` with `hedge_collateral` (the carry's perp with its wBTC): the quote
  // asset is no hedge (`InvalidHedgeCollateral`, from validate); wBTC is, and the healthy carry
  // is then refused as `NotLiquidatable` — the argument travels and is checked in order.
  const liquidator = await v.openPortfolio();
  await v.deposit(liquidator, v.usdc, 100_000_000_000n);
  const hedged = async (hedgeCollateral: number) =>
    v.sb.simulateFull([
      ...marginBudgetIxs(),
      await liquidatePositionsIx(client, {
        liquidatorSigner: liquidator.owner.publicKey,
        liquidator: liquidator.portfolio,
        target: t.portfolio,
        underlying: 0,
        instrument: PERP_INSTRUMENT,
        maxLots: ALL,
        oracle: v.btcOracle,
        targetHealth: await collateralOracles(v, t),
        liquidatorHealth: [v.wbtcOracle],
        hedgeCollateral,
      }),
    ], [liquidator.owner]);
  assert.equal((await hedged(0)).error, "InvalidHedgeCollateral");
  assert.equal((await hedged(1)).error, "NotLiquidatable");

  // The same book, unlinked at once by the guardian (same accounts: the position remains).
  await unlink(v);
  assert.deepEqual((await healthAccounts(v, t)).map((k) => k.toBase58()), accounts.map((k) => k.toBase58()));
  const plain = await refresh(v, t, accounts);
  close(plain.equity, linked.equity, 1e-6, "equity does not depend on the link");
  assert.equal(plain.initialOffsetCredit, 0);

  // Linked, the short perp hedges the wBTC exposure: the grid's requirement nearly vanishes
  // and the balance is worth (up to) its standalone value plus the unhedged charge it no longer
  // pays; unlinked, the short is margined alone and wBTC counts at 25%.
  assert.ok(linked.initialRequirement < plain.initialRequirement / 10, `requirement ${linked.initialRequirement} vs ${plain.initialRequirement}`);
  const gain = linked.initialHealth - plain.initialHealth;
  assert.ok(gain > 0.3 * units(BTC), `initial health ${linked.initialHealth} linked vs ${plain.initialHealth} unlinked`);
  assert.ok(linked.maintenanceHealth > plain.maintenanceHealth, `maintenance ${linked.maintenanceHealth} vs ${plain.maintenanceHealth}`);
  // In numbers (fee 30): linked, the hedged book's requirement is 0 and wBTC counts at the cap,
  // standalone + charge (the basis term, 50% of value, is higher: 29,967 against 29,164); unlinked, 25% of wBTC
  // against the short's own charge: the link is worth twice the charge, ~28,362.
  close(linked.initialRequirement, 0, 1e-6, "linked initial requirement");
  close(linked.initialHealth, STANDALONE_INITIAL + charge(1.5) - 30, 1e-3, "linked initial health");
  close(plain.initialRequirement, charge(1.5), GRID64, "unlinked initial requirement");
  close(plain.initialHealth, STANDALONE_INITIAL - charge(1.5) - 30, 1e-3, "unlinked initial health");
});
