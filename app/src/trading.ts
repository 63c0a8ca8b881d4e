// Trading: instruction builders for markets, option series, fills, funding and expiry, the
// health-account lists the program expects, and `quoteTrade`, which returns a portfolio's
// margin before and after a prospective fill from the program's own computation (a
// simulated transaction: the trade followed by `refresh_health`). No risk math here.
import { ComputeBudgetProgram, PublicKey, TransactionInstruction } from "@solana/web3.js";
import BN from "bn.js";

import type { XmarginClient } from "./client.js";
import { decodeHealthView, oracleAccountOf, oracleAccounts, type PortfolioHealth, type Simulate } from "./health.js";
import { marketPda } from "./pda.js";
import { camelize, type PortfolioState, type RegistryState } from "./state.js";

/** `instrument` value of the perpetual (option series are 0..31). */
export const PERP_INSTRUMENT = 255;
export const InstrumentKind = { Perp: 0, Call: 1, Put: 2 } as const;

/** Largest compute budget and heap frame: margin checks of large books need both. */
export function marginBudgetIxs(): TransactionInstruction[] {
  return [
    ComputeBudgetProgram.setComputeUnitLimit({ units: 1_400_000 }),
    ComputeBudgetProgram.requestHeapFrame({ bytes: 256 * 1024 }),
  ];
}

/** A position slot as decoded from a portfolio account. */
export interface PositionState {
  underlying: number;
  kind: number;
  series: number;
  sizeLots: bigint;
  quoteBasis: bigint;
  strike: bigint;
  expiry: bigint;
}

/** Decodes the active positions of a portfolio account. */
export function decodePositions(client: XmarginClient, data: Uint8Array): PositionState[] {
  // The raw coder keeps Rust's snake_case names (see state.ts): camelize first.
  const raw = camelize<{
    positions: { underlying: number; kind: number; active: number; series: number; size: BN; quoteBasis: BN; strike: BN; expiry: BN }[];
  }>(client.decodeAccount("Portfolio", data));
  return raw.positions
    .filter((p) => p.active === 1)
    .map((p) => ({
      underlying: p.underlying,
      kind: p.kind,
      series: p.series,
      sizeLots: BigInt(p.size.toString()),
      quoteBasis: BigInt(p.quoteBasis.toString()),
      strike: BigInt(p.strike.toString()),
      expiry: BigInt(p.expiry.toString()),
    }));
}

/**
 * The health accounts after the collateral oracles: `[market, oracle]` per underlying with a
 * position, ascending, leaving out `exclude` (the traded underlying of a `trade`).
 */
/** Where a portfolio's oracle accounts differ from the registry's configuration (an operator's
 * overrides): an underlying's oracle account, a pull feed's account by feed id (hex). */
export interface OracleOverrides {
  underlyingOracle?: (underlying: number) => PublicKey | undefined;
  pullAccount?: (feedIdHex: string) => PublicKey | undefined;
}

/** An underlying's oracle account: the override, else the registry's (an error when the
 * underlying is not listed). */
export function underlyingOracleOf(u: number, registry: RegistryState, overrides: OracleOverrides = {}): PublicKey {
  const given = overrides.underlyingOracle?.(u);
  if (given) return given;
  const config = registry.underlyings[u];
  if (!config) throw new Error(`underlying ${u} is not listed in the registry`);
  return oracleAccountOf(config.oracle);
}

/**
 * A portfolio's health accounts, as `refresh_health` and `withdraw` take them: its collateral
 * oracles, then the market and oracle of every underlying it holds or is linked to (`exclude`:
 * one the instruction passes itself, e.g. the traded or liquidated one).
 */
export function portfolioHealthAccounts(
  client: XmarginClient,
  p: { state: PortfolioState; positions: PositionState[] },
  registry: RegistryState,
  overrides: OracleOverrides = {},
  exclude?: number,
): PublicKey[] {
  return [
    ...oracleAccounts(p.state, registry, overrides.pullAccount),
    ...underlyingAccounts(client, p.positions, (u) => underlyingOracleOf(u, registry, overrides), exclude, linkedUnderlyings(p.state, registry)),
  ];
}

/**
 * The underlyings a positive balance of a linked asset is linked to: a linked balance is an
 * exposure in its underlying's grid, so that underlying's market and oracle are health
 * accounts even without a position (the program's `health_underlyings`).
 */
export function linkedUnderlyings(state: PortfolioState, registry: RegistryState): number[] {
  return state.balances.flatMap((b) => {
    const link = registry.collaterals[b.collateral]?.link;
    return b.amount > 0n && link && link.active === 1 ? [link.underlying] : [];
  });
}

export function underlyingAccounts(
  client: XmarginClient,
  positions: PositionState[],
  oracleOf: (underlying: number) => PublicKey,
  exclude?: number,
  linked: number[] = [],
): PublicKey[] {
  const used = [...new Set([...positions.map((p) => p.underlying), ...linked])].sort((a, b) => a - b);
  return used
    .filter((u) => u !== exclude)
    .flatMap((u) => [marketPda(client.programId, client.exchange, u), oracleOf(u)]);
}

export interface TradeParams {
  takerSigner: PublicKey;
  makerSigner: PublicKey;
  taker: PublicKey;
  maker: PublicKey;
  underlying: number;
  /** Option series index or PERP_INSTRUMENT. */
  instrument: number;
  /** Lots the taker buys (negative: sells). */
  sizeLots: bigint;
  /** Quote native units per underlying unit, a multiple of the tick. */
  price: bigint;
  oracle: PublicKey;
  /** Health accounts of each side (collateral oracles, then `underlyingAccounts` without the traded underlying). */
  takerHealth: PublicKey[];
  makerHealth: PublicKey[];
}

const ro = (pubkey: PublicKey) => ({ pubkey, isSigner: false, isWritable: false });

export async function tradeIx(client: XmarginClient, p: TradeParams): Promise<TransactionInstruction> {
  return client.program.methods
    .trade({
      instrument: p.instrument,
      sizeLots: new BN(p.sizeLots.toString()),
      price: new BN(p.price.toString()),
      takerHealthAccounts: p.takerHealth.length,
    })
    .accountsStrict({
      takerSigner: p.takerSigner,
      makerSigner: p.makerSigner,
      exchange: client.exchange,
      registry: client.registry,
      taker: p.taker,
      maker: p.maker,
      market: marketPda(client.programId, client.exchange, p.underlying),
      oracle: p.oracle,
    })
    .remainingAccounts([...p.takerHealth, ...p.makerHealth].map(ro))
    .instruction();
}

/** Market parameters (units as in the program's `CreateMarketArgs`). */
export interface CreateMarketParams {
  underlying: number;
  lotDecimals: number;
  tick: bigint;
  minSizeLots: bigint;
  perpOiCap: bigint;
  perpBandBps: number;
  optionBandBps: number;
  takerFeeBps: number;
  makerFeeBps: number;
  maxFundingRateBps: number;
  fundingIntervalSecs: number;
  expiryTimeOfDaySecs: number;
  settlementWindowSecs: number;
  maxExpiryDays: number;
  /** Marks policy: largest spot drift from a series' marks (bps) and their largest age (s). */
  maxMarkDriftBps: number;
  maxMarkAgeSecs: number;
}

export async function createMarketIx(
  client: XmarginClient,
  payer: PublicKey,
  governance: PublicKey,
  p: CreateMarketParams,
): Promise<TransactionInstruction> {
  const bn = (x: bigint) => new BN(x.toString());
  return client.program.methods
    .createMarket({ ...p, tick: bn(p.tick), minSizeLots: bn(p.minSizeLots), perpOiCap: bn(p.perpOiCap) })
    .accountsStrict({
      payer,
      governance,
      exchange: client.exchange,
      registry: client.registry,
      market: marketPda(client.programId, client.exchange, p.underlying),
      systemProgram: new PublicKey("11111111111111111111111111111111"),
    })
    .instruction();
}

/** `migrate_market` (governance): converts underlying `underlying`'s market from layout version 3
 * to the current one in place (`MarketNotMigratable` for any other version; docs/architecture.md, "Account
 * versions and migrations"). */
export async function migrateMarketIx(client: XmarginClient, governance: PublicKey, underlying: number): Promise<TransactionInstruction> {
  return client.program.methods
    .migrateMarket({ underlying })
    .accountsStrict({
      governance,
      exchange: client.exchange,
      registry: client.registry,
      market: marketPda(client.programId, client.exchange, underlying),
    })
    .instruction();
}

export async function listOptionSeriesIx(
  client: XmarginClient,
  governance: PublicKey,
  underlying: number,
  p: { kind: number; strike: bigint; expiry: bigint; oiCap: bigint },
): Promise<TransactionInstruction> {
  return client.program.methods
    .listOptionSeries({
      kind: p.kind,
      strike: new BN(p.strike.toString()),
      expiry: new BN(p.expiry.toString()),
      oiCap: new BN(p.oiCap.toString()),
    })
    .accountsStrict({
      governance,
      exchange: client.exchange,
      market: marketPda(client.programId, client.exchange, underlying),
    })
    .instruction();
}

/** The accounts of the market keeper instructions (marks, funding, settlement price). */
function keeperAccounts(client: XmarginClient, underlying: number, oracle: PublicKey) {
  return {
    exchange: client.exchange,
    registry: client.registry,
    market: marketPda(client.programId, client.exchange, underlying),
    oracle,
  };
}

/**
 * `update_marks`: recomputes the marks (value, Greeks, convexity bounds) of the series in
 * `seriesMask` (bit i = series i) at the oracle spot, each with its counterparts (the listed
 * series of the same strike and expiry and the other kind, so a conversion's legs always
 * share a basis). Health computations value options from marks and fail with `MarksMissing` /
 * `MarksTooOld` / `MarksSpotDrift` / `MarksParamsChanged` when they are stale: send this
 * first (~42k CU per marked series, counterparts included; batch with `marksBatches`).
 */
export async function updateMarksIx(
  client: XmarginClient,
  underlying: number,
  seriesMask: number,
  oracle: PublicKey,
): Promise<TransactionInstruction> {
  return client.program.methods
    .updateMarks({ seriesMask })
    .accountsStrict(keeperAccounts(client, underlying, oracle))
    .instruction();
}

/**
 * The mask of series `from..from + count`. `update_marks` also marks their counterparts, so
 * a mask of 16 series may mark up to 32: to batch a market's series, use `marksBatches`.
 */
export function seriesMask(from: number, count: number): number {
  let mask = 0;
  for (let i = from; i < from + count && i < 32; i++) mask = (mask | (1 << i)) >>> 0;
  return mask;
}

/** Series marked per `update_marks` transaction (~42k CU each), counterparts included. */
export const MARKS_PER_TX = 16;

/**
 * `update_marks` masks covering every series of `listed` (a market's listed series, in index
 * order) that `include` selects (default: all), each marking at most `perTx` series once
 * `update_marks` adds the counterparts: a series and its counterparts (same strike and
 * expiry) always share a mask.
 */
export function marksBatches(
  listed: { strike: bigint; expiry: bigint }[],
  perTx = MARKS_PER_TX,
  include: (index: number) => boolean = () => true,
): number[] {
  const bits = (m: number) => {
    let n = 0;
    for (let x = m >>> 0; x !== 0; x = (x & (x - 1)) >>> 0) n++;
    return n;
  };
  const batches: number[] = [];
  let mask = 0;
  let done = 0;
  for (let i = 0; i < listed.length && i < 32; i++) {
    if ((done & (1 << i)) !== 0 || !include(i)) continue;
    const s = listed[i]!;
    let group = 0;
    for (let j = 0; j < listed.length && j < 32; j++) {
      const t = listed[j]!;
      if (t.strike === s.strike && t.expiry === s.expiry) group = (group | (1 << j)) >>> 0;
    }
    done = (done | group) >>> 0;
    if (mask !== 0 && bits(mask | group) > perTx) {
      batches.push(mask);
      mask = 0;
    }
    mask = (mask | group) >>> 0;
  }
  if (mask !== 0) batches.push(mask);
  return batches;
}

export async function updateFundingIx(client: XmarginClient, underlying: number, oracle: PublicKey): Promise<TransactionInstruction> {
  return client.program.methods
    .updateFunding()
    .accountsStrict(keeperAccounts(client, underlying, oracle))
    .instruction();
}

export async function recordSettlementPriceIx(
  client: XmarginClient,
  underlying: number,
  series: number,
  oracle: PublicKey,
): Promise<TransactionInstruction> {
  return client.program.methods
    .recordSettlementPrice({ series })
    .accountsStrict(keeperAccounts(client, underlying, oracle))
    .instruction();
}

export async function settleExpiredIx(client: XmarginClient, portfolio: PublicKey, underlying: number): Promise<TransactionInstruction> {
  return client.program.methods
    .settleExpired()
    .accountsStrict({
      exchange: client.exchange,
      registry: client.registry,
      portfolio,
      market: marketPda(client.programId, client.exchange, underlying),
    })
    .instruction();
}

/** The `QuoteVaults` block (`vaults` in `sweep_fees` and `resolve_bankruptcy`): the quote
 * vault, the exchange's insurance vault, the quote mint and its token program. */
export function quoteVaults(
  client: XmarginClient,
  quote: { quoteMint: PublicKey; quoteVault: PublicKey; tokenProgram: PublicKey },
): { quoteVault: PublicKey; insuranceVault: PublicKey; quoteMint: PublicKey; tokenProgram: PublicKey } {
  return {
    quoteVault: quote.quoteVault,
    insuranceVault: client.insuranceVault,
    quoteMint: quote.quoteMint,
    tokenProgram: quote.tokenProgram,
  };
}

/** `sweep_fees`: accrued fees and liquidation insurance shares — a market's (`underlying`, or
 * none) and the quote ledger's — move from the quote vault to the insurance vault (anyone;
 * `NothingToSweep` when none accrued). */
export async function sweepFeesIx(
  client: XmarginClient,
  underlying: number | null,
  quote: { quoteMint: PublicKey; quoteVault: PublicKey; tokenProgram: PublicKey },
): Promise<TransactionInstruction> {
  return client.program.methods
    .sweepFees()
    .accountsStrict({
      exchange: client.exchange,
      registry: client.registry,
      market: underlying === null ? null : marketPda(client.programId, client.exchange, underlying),
      quoteLedger: client.quoteLedger,
      vaults: quoteVaults(client, quote),
    })
    .instruction();
}


/**
 * The taker's margin before and after a prospective trade, as the program computes it: the
 * first simulation runs `refresh_health` now, the second the trade followed by
 * `refresh_health` (its return data is the last one). `healthBefore` / `healthAfter` are the
 * taker's full health-account lists without and with the traded underlying. The simulation
 * must carry both signers' signatures, or run without signature verification (RPC
 * `simulateTransaction` with `sigVerify: false`). `keeper`: instructions to run first in both
 * simulations (e.g. `updateMarksIx` of the markets involved, so the quote never fails on
 * stale marks).
 */
export async function quoteTrade(
  client: XmarginClient,
  trade: TradeParams,
  healthBefore: PublicKey[],
  healthAfter: PublicKey[],
  simulate: Simulate,
  keeper: TransactionInstruction[] = [],
): Promise<{ before: PortfolioHealth; after: PortfolioHealth }> {
  const before = decodeHealthView(
    client,
    await simulate([...marginBudgetIxs(), ...keeper, await client.refreshHealthIx(trade.taker, healthBefore)]),
  );
  const after = decodeHealthView(
    client,
    await simulate([
      ...marginBudgetIxs(),
      ...keeper,
      await tradeIx(client, trade),
      await client.refreshHealthIx(trade.taker, healthAfter),
    ]),
  );
  return { before, after };
}
