// Decoded account types, with numeric fields as plain numbers / bigints for display.
import type { IdlTypes } from "@anchor-lang/core";
import { PublicKey } from "@solana/web3.js";
import BN from "bn.js";

import type { Xmargin } from "./idl/xmargin.js";
import { camelCase } from "./idl_types.js";
import { Fx } from "./values.js";

/** Bits of `Exchange.pauseFlags` (programs/xmargin/src/state/exchange.rs `pause`). */
export const PauseFlag = {
  Deposits: 1 << 0,
  Withdrawals: 1 << 1,
  Trading: 1 << 2,
  Liquidations: 1 << 3,
} as const;
export const PAUSE_ALL = PauseFlag.Deposits | PauseFlag.Withdrawals | PauseFlag.Trading | PauseFlag.Liquidations;
/** A pause flag's name ("Deposits", "Withdrawals", "Trading", "Liquidations"). */
export type PauseFlagName = keyof typeof PauseFlag;

export interface ExchangeState {
  version: number;
  bump: number;
  insuranceVaultBump: number;
  pauseFlags: number;
  quoteDecimals: number;
  governance: PublicKey;
  guardian: PublicKey;
  quoteMint: PublicKey;
  insuranceVault: PublicKey;
  /** Seconds between a loosening proposal and its execution. */
  timelockDelaySecs: bigint;
  /** Unix seconds. */
  createdAt: bigint;
  nextRiskChangeId: bigint;
  maxWeightStepBps: number;
  /** Bit u: the market of underlying u exists. */
  marketMask: number;
}

/** Names of the set pause flags, e.g. ["Trading"]. */
export function pausedActions(flags: number): PauseFlagName[] {
  return (Object.entries(PauseFlag) as [PauseFlagName, number][])
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name);
}


type Types = IdlTypes<Xmargin>;
/** Argument shapes, straight from the IDL (camelCase fields, BN for 64-bit integers). */
export type OracleConfigArg = Types["oracleConfig"];
export type HaircutArg = Types["haircut"];
export type CollateralRiskParamsArg = Types["collateralRiskParams"];
/** A collateral's link to an underlying (`active` 0: not linked, every field 0). */
export type CollateralLinkArg = Types["collateralLink"];
/** A correlation offset group (`memberMask` 0: unused, every field 0). */
export type OffsetGroupConfigArg = Types["offsetGroupConfig"];
/** `propose_risk_change`'s argument: `{ collateral: {...} }`, `{ listUnderlying: {...} }`,
 * `{ underlying: {...} }`, `{ liquidation: {...} }` or `{ offsetGroup: {...} }`. */
export type RiskChangeArg = Types["riskChangeArgs"];
export type UnderlyingConfigArg = Types["underlyingConfig"];
/** A listed collateral, decoded (same field names as the IDL type). */
export type CollateralState = Types["collateralConfig"];

export interface RegistryState {
  collaterals: CollateralState[];
  underlyingCount: number;
  /** Listed underlyings (active slots only); their volatility estimators are in their markets
   * (`volatilityOf`). */
  underlyings: UnderlyingConfigArg[];
  /** Every offset-group slot (`MAX_OFFSET_GROUPS`), unused ones all zero. */
  offsetGroups: OffsetGroupConfigArg[];
  /** The quote's depeg contingency: governed `params` (threshold 0: none) and the last
   * recorded price (`priceE9`, 10^−9 USD per quote unit; `priceTime` 0: never). */
  quotePeg: QuotePegState;
  /** The governed initial-margin scale, bps of the maintenance grid (`initialScaleBps` 0: never
   * set, the reference 15_000 = 1.5×). */
  marginScale: MarginScaleParamsArg;
}

/** The governed initial-margin scale (`propose_risk_change` `{ marginScale: { params } }`). */
export type MarginScaleParamsArg = Types["marginScaleParams"];
/** The reference initial scale a registry that never set it uses (`REFERENCE_INITIAL_SCALE_BPS`). */
export const REFERENCE_INITIAL_SCALE_BPS = 15_000;
/** Bounds of a governed initial scale, bps (`MIN_INITIAL_SCALE_BPS`, `MAX_INITIAL_SCALE_BPS`). */
export const MIN_INITIAL_SCALE_BPS = 10_000;
export const MAX_INITIAL_SCALE_BPS = 30_000;

/** The initial scale in force, bps (0 reads as the reference). */
export function effectiveInitialScaleBps(p: MarginScaleParamsArg): number {
  return p.initialScaleBps === 0 ? REFERENCE_INITIAL_SCALE_BPS : p.initialScaleBps;
}

/** A margin-scale change of `bps`, validated as the program does (`InvalidInitialScale`). */
export function marginScale(bps: number): MarginScaleParamsArg {
  if (!Number.isInteger(bps) || bps < MIN_INITIAL_SCALE_BPS || bps > MAX_INITIAL_SCALE_BPS) {
    throw new Error(`initial scale must be an integer in ${MIN_INITIAL_SCALE_BPS}..=${MAX_INITIAL_SCALE_BPS} bps, got ${bps}`);
  }
  return { initialScaleBps: bps, padding: [0, 0, 0, 0, 0, 0] };
}

/** The quote's governed depeg contingency (`propose_risk_change` `{ quotePeg: { params } }`). */
export type QuotePegParamsArg = Types["quotePegParams"];
export type QuotePegState = Types["quotePegConfig"];
/** `tighten_scenario`'s argument: `{ underlying: { index, config } }`, `{ quotePeg: { params } }`
 * or `{ marginScale: { params } }`. */
export type TightenScenarioArg = Types["tightenScenarioArgs"];

/** Offset-group slots in the registry (programs/xmargin/src/state/registry.rs). */
export const MAX_OFFSET_GROUPS = 4;
/** `CollateralLink.ratioE9` of one underlying unit per token. */
export const LINK_RATIO_ONE = 1_000_000_000n;

/** The all-zero link: not linked (what `tighten_risk` takes to unlink). */
export function unlinked(): CollateralLinkArg {
  return { active: 0, underlying: 0, basisInitialBps: 0, basisMaintenanceBps: 0, padding: [0, 0], ratioE9: new BN(0) };
}

/** An active link to `underlying`: basis haircuts in bps of value, `ratioE9` underlying units
 * per whole token ×1e9 (default 1:1). */
export function collateralLink(p: {
  underlying: number;
  basisInitialBps: number;
  basisMaintenanceBps: number;
  ratioE9?: bigint;
}): CollateralLinkArg {
  return {
    active: 1,
    underlying: p.underlying,
    basisInitialBps: p.basisInitialBps,
    basisMaintenanceBps: p.basisMaintenanceBps,
    padding: [0, 0],
    ratioE9: new BN((p.ratioE9 ?? LINK_RATIO_ONE).toString()),
  };
}

/** An offset group of the given underlying indexes with correlation credit `creditBps`. */
export function offsetGroup(members: number[], creditBps: number): OffsetGroupConfigArg {
  return { memberMask: members.reduce((m, i) => m | (1 << i), 0), creditBps, padding: [0, 0, 0, 0] };
}

/** The member underlyings of a group, ascending. */
export function offsetGroupMembers(g: OffsetGroupConfigArg): number[] {
  return Array.from({ length: 16 }, (_, i) => i).filter((i) => (g.memberMask & (1 << i)) !== 0);
}

/** Whether `next` is no looser than `current` (the program's `CollateralLink::tightens`):
 * unlinked, or the same underlying and ratio with neither basis haircut lower. */
export function linkTightens(next: CollateralLinkArg, current: CollateralLinkArg): boolean {
  if (next.active !== 1) return true;
  return (
    current.active === 1 &&
    next.underlying === current.underlying &&
    new BN(next.ratioE9).eq(new BN(current.ratioE9)) &&
    next.basisInitialBps >= current.basisInitialBps &&
    next.basisMaintenanceBps >= current.basisMaintenanceBps
  );
}

/** Whether `next` is no looser than `current` (the program's `OffsetGroupConfig::tightens`,
 * what `tighten_offsets` accepts): all zero, or the same members with a credit no higher. */
export function offsetGroupTightens(next: OffsetGroupConfigArg, current: OffsetGroupConfigArg): boolean {
  const dissolved = next.memberMask === 0 && next.creditBps === 0;
  return dissolved || (next.memberMask === current.memberMask && next.creditBps <= current.creditBps);
}

/** A stored I80F48 (the program's `StoredFx`): `{ bits }`, 16 little-endian bytes. */
export type StoredFx = Types["storedFx"];

/** The all-zero `StoredFx` (0; for the socialized-loss index, 1.0). */
export function storedFxZero(): StoredFx {
  return { bits: new Array<number>(16).fill(0) };
}

/**
 * Decodes an on-chain I80F48 (a `StoredFx`, or its 16 little-endian bytes: two's complement,
 * 48 fraction bits) into a float for display. The program never reads this value back: it is
 * for dashboards.
 */
export function i80f48ToNumber(value: StoredFx | number[] | Uint8Array): number {
  return Fx.fromStored(value).toNumber();
}

/** The adaptive volatility estimate of an underlying, as fractions (0.6 = 60%). */
export function volatilityOf(market: Record<string, unknown>): { shock: number; varShort: number; varLong: number; lastTime: bigint } {
  const v = camelize<VolatilityState>(market.volatility);
  return {
    shock: i80f48ToNumber(v.shock),
    varShort: i80f48ToNumber(v.varShort),
    varLong: i80f48ToNumber(v.varLong),
    lastTime: BigInt(v.lastTime.toString()),
  };
}

/** An underlying's volatility estimator as its market stores it (`Market::volatility`). */
export type VolatilityState = Types["volatilityState"];

export interface BalanceState {
  collateral: number;
  /** Native units; negative = owed. */
  amount: bigint;
}

export interface PortfolioState {
  owner: PublicKey;
  delegate: PublicKey;
  index: number;
  liquidationState: number;
  balances: BalanceState[];
}

/** The raw account coder's output keeps Rust's snake_case names. */
export type RawCollateral = Record<string, unknown>;


/** Recursively renames snake_case keys to the IDL's camelCase (values untouched). */
export function camelize<T>(value: unknown): T {
  if (Array.isArray(value)) return value.map((v) => camelize(v)) as T;
  if (value && typeof value === "object" && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [camelCase(k), camelize(v)])) as T;
  }
  return value as T;
}

export function collateralFromRaw(raw: RawCollateral): CollateralState {
  return camelize<CollateralState>(raw);
}

/** The governed parameters of a listed collateral, as `tighten_risk` / a proposal takes them. */
export function riskParamsOf(c: CollateralState): CollateralRiskParamsArg {
  return {
    haircut: c.haircut,
    oracle: c.oracle,
    depositCap: c.depositCap,
    reduceOnly: c.reduceOnly,
    padding: [0, 0, 0, 0, 0, 0, 0],
    link: c.link,
  };
}
