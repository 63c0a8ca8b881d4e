// Decoded account types, with numeric fields as plain numbers / bigints for display.
import type { IdlTypes } from "@anchor-lang/core";
import { PublicKey } from "@solana/web3.js";

import type { Xmargin } from "./idl/xmargin.js";

/** Bits of `Exchange.pauseFlags` (programs/xmargin/src/state/exchange.rs `pause`). */
export const PauseFlag = {
  Deposits: 1 << 0,
  Withdrawals: 1 << 1,
  Trading: 1 << 2,
  Liquidations: 1 << 3,
} as const;
export const PAUSE_ALL = PauseFlag.Deposits | PauseFlag.Withdrawals | PauseFlag.Trading | PauseFlag.Liquidations;

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
}

/** Names of the set pause flags, e.g. ["Trading"]. */
export function pausedActions(flags: number): string[] {
  return Object.entries(PauseFlag)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name);
}


type Types = IdlTypes<Xmargin>;
/** Argument shapes, straight from the IDL (camelCase fields, BN for 64-bit integers). */
export type OracleConfigArg = Types["oracleConfig"];
export type HaircutArg = Types["haircut"];
export type CollateralRiskParamsArg = Types["collateralRiskParams"];
/** `propose_risk_change`'s argument: `{ collateral: {...} }`, `{ listUnderlying: {...} }` or
 * `{ underlying: {...} }`. */
export type RiskChangeArg = Types["riskChangeArgs"];
export type UnderlyingConfigArg = Types["underlyingConfig"];
/** A listed collateral, decoded (same field names as the IDL type). */
export type CollateralState = Types["collateralConfig"];

export interface RegistryState {
  collaterals: CollateralState[];
  underlyingCount: number;
  /** Listed underlyings (active slots only), with their volatility-estimator state. */
  underlyings: UnderlyingConfigArg[];
}

/**
 * Decodes an on-chain I80F48 (16 little-endian bytes, two's complement, 48 fraction bits)
 * into a float for display. The program never reads this value back: it is for dashboards.
 */
export function i80f48ToNumber(bytes: number[] | Uint8Array): number {
  let v = 0n;
  for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] ?? 0);
  if (v >= 1n << 127n) v -= 1n << 128n;
  return Number(v) / 2 ** 48;
}

/** The adaptive volatility estimate of an underlying, as fractions (0.6 = 60%). */
export function volatilityOf(u: UnderlyingConfigArg): { shock: number; varShort: number; varLong: number; lastTime: bigint } {
  return {
    shock: i80f48ToNumber(u.volShock),
    varShort: i80f48ToNumber(u.volVarShort),
    varLong: i80f48ToNumber(u.volVarLong),
    lastTime: BigInt(u.volLastTime.toString()),
  };
}

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

function camel(key: string): string {
  return key.replace(/^_+/, "").replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Recursively renames snake_case keys to the IDL's camelCase (values untouched). */
export function camelize<T>(value: unknown): T {
  if (Array.isArray(value)) return value.map((v) => camelize(v)) as T;
  if (value && typeof value === "object" && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [camel(k), camelize(v)])) as T;
  }
  return value as T;
}

export function collateralFromRaw(raw: RawCollateral): CollateralState {
  return camelize<CollateralState>(raw);
}

/** The governed parameters of a listed collateral, as `tighten_risk` / a proposal takes them. */
export function riskParamsOf(c: CollateralState): CollateralRiskParamsArg {
  return { haircut: c.haircut, oracle: c.oracle, depositCap: c.depositCap, reduceOnly: c.reduceOnly, padding: [0, 0, 0, 0, 0, 0, 0] };
}
