// Typed decoders for every program account and every event, in values a person can use:
// camelCase fields as in the IDL's TypeScript type, 64- and 128-bit integers as bigint,
// stored I80F48 numbers as exact `Fx`, coded fields by name (an oracle kind "pythPull", an
// instrument "call", a liquidation state "beingLiquidated", pause flags ["Trading"]), 0/1
// flags as booleans, padding and reserved bytes left out. Driven by the IDL, so a field added
// to the program is decoded without a change here.
import anchor, { type IdlAccounts, type IdlEvents } from "@anchor-lang/core";
import { PublicKey } from "@solana/web3.js";
import type BN from "bn.js";

import type { Xmargin } from "./idl/xmargin.js";
import { RAW_IDL, camelCase, idlType, isPadding, lowerFirst, type RawField, type RawType } from "./idl_types.js";
import { pausedActions, type PauseFlagName } from "./state.js";
import { PERP_INSTRUMENT } from "./trading.js";
import { Fx, ValueError } from "./values.js";

const { BorshAccountsCoder, BorshCoder, EventParser } = anchor;

// ---- Names of coded fields (the program's constants) ----

/** `OracleConfig.kind` (programs/xmargin/src/state/oracle_config.rs `kind`). */
export const ORACLE_KINDS = ["quote", "pythPull", "pythLegacy"] as const;
/** An instrument's kind (`state::instrument_kind`: 0 perp, 1 call, 2 put). */
export const INSTRUMENT_KINDS = ["perp", "call", "put"] as const;
/** `Portfolio.liquidation_state` (`state::liquidation_state`). */
export const LIQUIDATION_STATES = ["normal", "beingLiquidated"] as const;
/** `RiskChange.kind` (`state::change_kind`, from 1). */
export const RISK_CHANGE_KINDS = [
  "none",
  "collateral",
  "listUnderlying",
  "underlying",
  "liquidation",
  "offsetGroup",
  "quotePeg",
  "marginScale",
] as const;
/** `rotate_authority`'s roles (`role::GOVERNANCE`, `role::GUARDIAN`). */
export const AUTHORITY_ROLES = ["governance", "guardian"] as const;

export type OracleKindName = (typeof ORACLE_KINDS)[number];
export type InstrumentKindName = (typeof INSTRUMENT_KINDS)[number];
export type LiquidationStateName = (typeof LIQUIDATION_STATES)[number];
export type RiskChangeKindName = (typeof RISK_CHANGE_KINDS)[number];
export type AuthorityRoleName = (typeof AUTHORITY_ROLES)[number];

/** Coded u8 fields by `RawType.raw_field` (raw IDL names), with their names by code. */
const CODED: Record<string, readonly string[]> = {
  "OracleConfig.kind": ORACLE_KINDS,
  "CollateralListed.oracle_kind": ORACLE_KINDS,
  "OptionSeries.kind": INSTRUMENT_KINDS,
  "PositionSlot.kind": INSTRUMENT_KINDS,
  "OptionSeriesListed.kind": INSTRUMENT_KINDS,
  "Portfolio.liquidation_state": LIQUIDATION_STATES,
  "RiskChange.kind": RISK_CHANGE_KINDS,
  "RiskChangeProposed.kind": RISK_CHANGE_KINDS,
  "AuthorityChanged.role": AUTHORITY_ROLES,
  "AuthorityProposed.role": AUTHORITY_ROLES,
};
/** 0/1 fields decoded as booleans (by raw field name, wherever they appear). */
const FLAGS = new Set(["active", "reduce_only", "perp_reduce_only"]);
/** Pause-flag bit sets decoded as the names of the set flags. */
const PAUSE_FIELDS = new Set(["pause_flags", "old_pause_flags", "new_pause_flags"]);

// ---- The decoded types, derived from the IDL's TypeScript type ----

type CodedKey = "kind" | "oracleKind" | "liquidationState" | "role";
type FlagKey = "active" | "reduceOnly" | "perpReduceOnly";
type PauseKey = "pauseFlags" | "oldPauseFlags" | "newPauseFlags";
type DroppedKey = `padding${string}` | "reserved";
type CodedName = OracleKindName | InstrumentKindName | LiquidationStateName | RiskChangeKindName | AuthorityRoleName;

/** An IDL-typed value as the decoders return it. */
export type Decoded<T> = T extends BN
  ? bigint
  : T extends PublicKey
    ? PublicKey
    : T extends { bits: number[] }
      ? Fx
      : T extends (infer U)[]
        ? Decoded<U>[]
        : T extends object
          ? {
              [K in keyof T as K extends DroppedKey ? never : K]: K extends CodedKey
                ? CodedName | `unknown(${number})`
                : K extends FlagKey
                  ? boolean
                  : K extends PauseKey
                    ? PauseFlagName[]
                    : K extends "instrument"
                      ? number | "perp"
                      : Decoded<T[K]>;
            }
          : T;

type Accounts = IdlAccounts<Xmargin>;
type Events = IdlEvents<Xmargin>;
/** Every program account, by its IDL name (camelCase: "market", "portfolio", ...). */
export type AccountName = keyof Accounts & string;
export type DecodedAccount<N extends AccountName> = Decoded<Accounts[N]>;
export type EventName = keyof Events & string;
/** One decoded event: its IDL name ("tradeFilled", ...) and typed data. */
export type XmarginEvent = { [N in EventName]: { name: N; data: Decoded<Events[N]> } }[EventName];

export type MarketAccount = DecodedAccount<"market">;
export type PortfolioAccount = DecodedAccount<"portfolio">;
export type ExchangeAccount = DecodedAccount<"exchange">;
export type RegistryAccount = DecodedAccount<"haircutRegistry">;
export type QuoteLedgerAccount = DecodedAccount<"quoteLedger">;
export type RiskChangeAccount = DecodedAccount<"riskChange">;

// ---- The IDL-driven conversion ----

const RAW = RAW_IDL;

function convertType(t: RawType, v: unknown, owner: string, field: string): unknown {
  if (typeof t === "string") {
    if (t === "u64" || t === "i64" || t === "u128" || t === "i128") return BigInt((v as { toString(): string }).toString());
    return v;
  }
  if ("array" in t) return (v as unknown[]).map((x) => convertType(t.array[0], x, owner, field));
  if ("vec" in t) return (v as unknown[]).map((x) => convertType(t.vec, x, owner, field));
  if ("option" in t) return v === null || v === undefined ? null : convertType(t.option, v, owner, field);
  return convertDefined(t.defined.name, v);
}

function convertField(owner: string, f: RawField, v: unknown): unknown {
  const names = CODED[`${owner}.${f.name}`];
  if (names) return names[v as number] ?? `unknown(${v as number})`;
  if (FLAGS.has(f.name)) return v !== 0;
  if (PAUSE_FIELDS.has(f.name)) return pausedActions(v as number);
  if (f.name === "instrument") return v === PERP_INSTRUMENT ? "perp" : v;
  return convertType(f.type, v, owner, f.name);
}

function convertFields(owner: string, fields: RawField[], v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (isPadding(f.name)) continue;
    out[camelCase(f.name)] = convertField(owner, f, v[f.name] ?? v[camelCase(f.name)]);
  }
  return out;
}

function convertDefined(name: string, v: unknown): unknown {
  if (name === "StoredFx") return Fx.fromStored(v as { bits: number[] });
  const def = idlType(name);
  if (!def) throw new ValueError(name, "type not in the IDL");
  if (def.type.kind === "struct") return convertFields(name, def.type.fields ?? [], v as Record<string, unknown>);
  // An enum value as Anchor decodes it: `{ Variant: { ...fields } }`.
  const [variant, inner] = Object.entries(v as Record<string, unknown>)[0] ?? [];
  const spec = def.type.variants.find((x) => x.name === variant || lowerFirst(x.name) === variant);
  if (!spec || variant === undefined) throw new ValueError(name, `unknown variant ${String(variant)}`);
  return { [lowerFirst(spec.name)]: convertFields(name, spec.fields ?? [], (inner ?? {}) as Record<string, unknown>) };
}

// ---- Accounts ----

const ACCOUNT_CODER = new BorshAccountsCoder(RAW as never);
const rawAccountName = (name: AccountName) => RAW.accounts.find((a) => lowerFirst(a.name) === name)?.name;

/** The 8-byte discriminator that starts every account of kind `name`. */
export function accountDiscriminator(name: AccountName): Uint8Array {
  const found = RAW.accounts.find((a) => lowerFirst(a.name) === name);
  if (!found) throw new ValueError(name, "not an account of the IDL");
  return Uint8Array.from(found.discriminator);
}

/** Which program account `data` holds, by its 8-byte discriminator; undefined for none. */
export function identifyAccount(data: Uint8Array): AccountName | undefined {
  const head = data.subarray(0, 8);
  const found = RAW.accounts.find((a) => a.discriminator.length === head.length && a.discriminator.every((b, i) => head[i] === b));
  return found ? (lowerFirst(found.name) as AccountName) : undefined;
}

/** A program account of kind `name`, decoded (`ValueError` when `data` is another kind). */
export function decodeAccount<N extends AccountName>(name: N, data: Uint8Array): DecodedAccount<N> {
  const raw = rawAccountName(name);
  if (!raw) throw new ValueError(name, "not an account of the IDL");
  const held = identifyAccount(data);
  if (held !== name) throw new ValueError(name, `the data holds ${held ?? "no xmargin account"}`);
  const decoded = ACCOUNT_CODER.decode(raw, Buffer.from(data)) as unknown;
  return convertDefined(raw, decoded) as DecodedAccount<N>;
}

export const decodeMarket = (data: Uint8Array): MarketAccount => decodeAccount("market", data);
export const decodePortfolioAccount = (data: Uint8Array): PortfolioAccount => decodeAccount("portfolio", data);
export const decodeExchangeAccount = (data: Uint8Array): ExchangeAccount => decodeAccount("exchange", data);
export const decodeRegistryAccount = (data: Uint8Array): RegistryAccount => decodeAccount("haircutRegistry", data);
export const decodeQuoteLedger = (data: Uint8Array): QuoteLedgerAccount => decodeAccount("quoteLedger", data);
export const decodeRiskChange = (data: Uint8Array): RiskChangeAccount => decodeAccount("riskChange", data);

// ---- Events ----

const CODER = new BorshCoder(RAW as never);

/** The events the program at `programId` emitted in a transaction's logs, in order (only its
 * own: a CPI'd program's "Program data" lines are not taken for xmargin's). */
export function decodeEvents(logs: readonly string[], programId: PublicKey = new PublicKey(RAW.address)): XmarginEvent[] {
  const parser = new EventParser(programId, CODER);
  const out: XmarginEvent[] = [];
  for (const e of parser.parseLogs([...logs])) {
    out.push({ name: lowerFirst(e.name), data: convertDefined(e.name, e.data) } as XmarginEvent);
  }
  return out;
}
