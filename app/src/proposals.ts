// Governance changes of every kind the program has, as an operator builds them: the current
// parameters read from the chain, edits by field path (`haircut.initialAssetWeightBps=2500`,
// `tail.0.weightBps=3000`) parsed by the field's IDL type — a value that is not a number, has
// a sign the field cannot hold, or does not fit is refused naming the field — a field-by-field
// diff, the program's own checks run in simulation before anything is offered for signing
// (step bounds, caps, tables: the program is the one authority on them), the time each
// change becomes executable, and the pending changes with their diffs.
import { PublicKey, TransactionInstruction, TransactionMessage, VersionedTransaction } from "@solana/web3.js";
import BN from "bn.js";

import { budgetIxs, chainNow, type Chain } from "./chain.js";
import { camelize, type RiskChangeArg } from "./state.js";
import type { XmarginClient } from "./client.js";
import { decodeRiskChange } from "./decode.js";
import { camelCase, idlType, isPadding, structFields, type RawField, type RawType } from "./idl_types.js";
import { bpsToPercent, Fx, ValueError } from "./values.js";

/** The change kinds of `propose_risk_change`, as the CLI names them. */
export const CHANGE_KINDS = ["collateral", "list-underlying", "underlying", "liquidation", "offset-group", "quote-peg", "margin-scale"] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** The IDL type each kind edits, and the `RiskChangeArgs` variant and field carrying it. */
/** `stored`: the `RiskChange` account's field holding the proposed value (and `…Before`,
 * the value it replaces, recorded at proposal). */
const KINDS: Record<ChangeKind, { type: string; variant: string; field: string; indexed: boolean; stored: string }> = {
  collateral: { type: "CollateralRiskParams", variant: "collateral", field: "params", indexed: true, stored: "collateral" },
  "list-underlying": { type: "UnderlyingConfig", variant: "listUnderlying", field: "config", indexed: false, stored: "underlying" },
  underlying: { type: "UnderlyingConfig", variant: "underlying", field: "config", indexed: true, stored: "underlying" },
  liquidation: { type: "LiquidationParams", variant: "liquidation", field: "params", indexed: false, stored: "liquidation" },
  "offset-group": { type: "OffsetGroupConfig", variant: "offsetGroup", field: "group", indexed: true, stored: "offsetGroup" },
  "quote-peg": { type: "QuotePegParams", variant: "quotePeg", field: "params", indexed: false, stored: "quotePeg" },
  "margin-scale": { type: "MarginScaleParams", variant: "marginScale", field: "params", indexed: false, stored: "marginScale" },
};

/** `RiskChange.kind` codes (programs/xmargin/src/state/risk_change.rs `change_kind`). */
const KIND_BY_CODE: Record<string, ChangeKind> = {
  collateral: "collateral",
  listUnderlying: "list-underlying",
  underlying: "underlying",
  liquidation: "liquidation",
  offsetGroup: "offset-group",
  quotePeg: "quote-peg",
  marginScale: "margin-scale",
};

const RANGES: Record<string, [bigint, bigint]> = {
  u8: [0n, 255n],
  u16: [0n, 65_535n],
  u32: [0n, 4_294_967_295n],
  u64: [0n, (1n << 64n) - 1n],
  i8: [-128n, 127n],
  i16: [-32_768n, 32_767n],
  i32: [-(1n << 31n), (1n << 31n) - 1n],
  i64: [-(1n << 63n), (1n << 63n) - 1n],
};

/** `text` as a value of IDL type `t` (the shape Anchor's encoder takes); the error names `path`. */
function parseLeaf(t: RawType, text: string, path: string): unknown {
  if (typeof t === "string") {
    const range = RANGES[t];
    if (range) {
      if (!/^-?\d+$/.test(text.trim())) throw new ValueError(path, `expected an integer (${t}), got ${JSON.stringify(text)}`);
      const v = BigInt(text);
      if (v < range[0] || v > range[1]) throw new ValueError(path, `must be in ${range[0]}..=${range[1]} (${t}), got ${v}`);
      return t === "u64" || t === "i64" ? new BN(v.toString()) : Number(v);
    }
    if (t === "bool") {
      if (text !== "true" && text !== "false") throw new ValueError(path, `expected true or false, got ${JSON.stringify(text)}`);
      return text === "true";
    }
    if (t === "pubkey") {
      try {
        return new PublicKey(text);
      } catch {
        throw new ValueError(path, `not a base58 public key: ${JSON.stringify(text)}`);
      }
    }
  }
  if (typeof t === "object" && "array" in t && t.array[0] === "u8") {
    const n = t.array[1];
    if (!new RegExp(`^[0-9a-fA-F]{${2 * n}}$`).test(text)) throw new ValueError(path, `expected ${n} bytes as ${2 * n} hex digits`);
    return Array.from(Buffer.from(text, "hex"));
  }
  throw new ValueError(path, "is not a single value: edit its fields (e.g. path.field=value)");
}

/** The IDL type of the field at `path` within type `typeName`, and the field names there. */
function walk(typeName: string, path: string[]): RawType {
  let t: RawType = { defined: { name: typeName } };
  const seen: string[] = [];
  for (const part of path) {
    if (typeof t === "object" && "array" in t) {
      const [element, length]: [RawType, number] = t.array;
      const i = Number(part);
      if (!Number.isInteger(i) || i < 0 || i >= length) throw new ValueError([...seen, part].join("."), `expected an index in 0..${length - 1}`);
      t = element;
    } else if (typeof t === "object" && "defined" in t) {
      const fields: RawField[] = structFields(t.defined.name).filter((f) => !isPadding(f.name));
      const field: RawField | undefined = fields.find((f) => camelCase(f.name) === part);
      if (!field) throw new ValueError([...seen, part].join(".") || part, `unknown field; ${t.defined.name} has ${fields.map((f) => camelCase(f.name)).join(", ")}`);
      t = field.type;
    } else {
      throw new ValueError([...seen, part].join("."), "is a single value, not a structure");
    }
    seen.push(part);
  }
  return t;
}

/** A deep copy that keeps BN and PublicKey (structuredClone would drop their prototypes). */
function copy<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => copy(x) as unknown) as T;
  if (v instanceof BN) return v.clone() as T;
  if (v instanceof PublicKey) return v;
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)])) as T;
  return v;
}

/** `current` (a value of IDL type `typeName`, as Anchor's encoder takes it) with `edits`
 * (`path=value`) applied; every value parsed by its field's type. */
export function applyEdits<T>(typeName: string, current: T, edits: readonly string[]): T {
  const next = copy(current) as Record<string, unknown>;
  for (const edit of edits) {
    const eq = edit.indexOf("=");
    if (eq <= 0) throw new ValueError(edit, "expected path=value");
    const path = edit.slice(0, eq).split(".");
    const value = parseLeaf(walk(typeName, path), edit.slice(eq + 1), path.join("."));
    let at: Record<string, unknown> = next;
    for (const part of path.slice(0, -1)) at = at[part] as Record<string, unknown>;
    at[path[path.length - 1]!] = value;
  }
  return next as T;
}

/** One changed field. */
export interface FieldChange {
  path: string;
  old: string;
  next: string;
}

/** A leaf as an operator reads it: integers as decimals (bps also as a percentage), keys in
 * base58, byte arrays in hex, exact numbers exactly. */
function show(path: string, v: unknown): string {
  if (v instanceof Fx || v instanceof PublicKey || v instanceof BN || typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return Buffer.from(v as number[]).toString("hex");
  if (typeof v === "number" && /Bps$/.test(path)) return `${v} (${bpsToPercent(v)})`;
  return String(v);
}

/** Every field of type `typeName` that differs between `old` and `next` (padding left out). */
export function fieldDiff(typeName: string, old: unknown, next: unknown, prefix = ""): FieldChange[] {
  const out: FieldChange[] = [];
  const visit = (t: RawType, a: unknown, b: unknown, path: string) => {
    if (typeof t === "object" && "defined" in t && idlType(t.defined.name)?.type.kind === "struct") {
      for (const f of structFields(t.defined.name)) {
        if (isPadding(f.name)) continue;
        const k = camelCase(f.name);
        visit(f.type, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      }
    } else if (typeof t === "object" && "array" in t && t.array[0] !== "u8") {
      for (let i = 0; i < t.array[1]; i++) visit(t.array[0], (a as unknown[])[i], (b as unknown[])[i], `${path}.${i}`);
    } else if (show(path, a) !== show(path, b)) {
      out.push({ path, old: show(path, a), next: show(path, b) });
    }
  };
  visit({ defined: { name: typeName } }, old, next, prefix);
  return out;
}

/** The current parameters a change of `kind` edits, from the registry and the exchange. */
export async function currentParams(client: XmarginClient, chain: Pick<Chain, "account">, kind: ChangeKind, index?: number): Promise<unknown> {
  const spec = KINDS[kind];
  if (spec.indexed && index === undefined) throw new ValueError("--index", `required for a ${kind} change`);
  const registryData = await chain.account(client.registry);
  if (!registryData) throw new Error("the registry account does not exist: is --program-id right for this cluster?");
  const registry = client.decodeRegistry(registryData);
  const at = <T>(list: T[], what: string): T => {
    const v = list[index ?? -1];
    if (v === undefined) throw new ValueError("--index", `${what} ${index} does not exist (${list.length} are listed)`);
    return v;
  };
  switch (kind) {
    case "collateral": {
      const c = at(registry.collaterals, "collateral");
      return { haircut: c.haircut, oracle: c.oracle, depositCap: c.depositCap, reduceOnly: c.reduceOnly, padding: new Array<number>(7).fill(0), link: c.link };
    }
    case "underlying":
      return at(registry.underlyings, "underlying");
    case "list-underlying":
      // A new listing starts from a copy of an existing underlying's configuration when one is
      // given (--index), or from the first listed one.
      return copy(registry.underlyings[index ?? 0] ?? zeroOf("UnderlyingConfig"));
    case "offset-group":
      return at(registry.offsetGroups, "offset group");
    case "quote-peg":
      return registry.quotePeg.params;
    case "margin-scale":
      return registry.marginScale;
    case "liquidation": {
      const data = await chain.account(client.exchange);
      if (!data) throw new Error("the exchange account does not exist");
      return camelize<{ liquidation: unknown }>(client.decodeAccount("Exchange", data)).liquidation;
    }
  }
}

/** The all-zero value of an IDL type (a listing with no underlying to copy). */
function zeroOf(typeName: string): unknown {
  const zero = (t: RawType): unknown => {
    if (typeof t === "string") return t === "u64" || t === "i64" ? new BN(0) : t === "pubkey" ? PublicKey.default : t === "bool" ? false : 0;
    if ("array" in t) return Array.from({ length: t.array[1] }, () => zero(t.array[0]));
    if ("defined" in t) {
      return Object.fromEntries(structFields(t.defined.name).map((f) => [camelCase(f.name), zero(f.type)]));
    }
    return null;
  };
  return zero({ defined: { name: typeName } });
}

/** `propose_risk_change`'s argument for `kind`. */
export function changeArg(kind: ChangeKind, index: number | undefined, params: unknown): RiskChangeArg {
  const spec = KINDS[kind];
  const body: Record<string, unknown> = { [spec.field]: params };
  if (spec.indexed) body.index = index;
  return { [spec.variant]: body } as unknown as RiskChangeArg;
}

/** A proposal, planned: its instruction, what it changes, and when it becomes executable. */
export interface Proposal {
  kind: ChangeKind;
  index?: number;
  id: bigint;
  ix: TransactionInstruction;
  changes: FieldChange[];
  /** Unix seconds: now + the exchange's timelock. */
  executableAt: bigint;
  /** The program's verdict in simulation: undefined when it accepts the proposal. */
  refused?: string;
}

/** Plans a change of `kind` with `edits`, checked by the program in simulation. */
export async function planProposal(
  client: XmarginClient,
  chain: Chain,
  p: { kind: ChangeKind; index?: number; edits: readonly string[]; governance: PublicKey; payer: PublicKey },
): Promise<Proposal> {
  const spec = KINDS[p.kind];
  const old = await currentParams(client, chain, p.kind, p.index);
  const next = applyEdits(spec.type, old, p.edits);
  // A new listing changes every field from nothing (its template's values included).
  const changes = fieldDiff(spec.type, p.kind === "list-underlying" ? zeroOf(spec.type) : old, next);
  const exchangeData = await chain.account(client.exchange);
  if (!exchangeData) throw new Error("the exchange account does not exist");
  const exchange = client.decodeExchange(exchangeData);
  const ix = await client.proposeRiskChangeIx({
    payer: p.payer,
    governance: p.governance,
    id: exchange.nextRiskChangeId,
    change: changeArg(p.kind, p.index, next),
  });
  const sim = await chain.simulate([...budgetIxs(1_400_000, 0, 0), ix], []);
  const now = await chainNow(chain);
  return {
    kind: p.kind,
    index: p.index,
    id: exchange.nextRiskChangeId,
    ix,
    changes,
    executableAt: now + exchange.timelockDelaySecs,
    refused: sim.ok ? undefined : `${sim.error ?? "failed"}${sim.parsed?.message ? `: ${sim.parsed.message}` : ""}`,
  };
}

/** A pending change, as `list` shows it. */
export interface PendingChange {
  id: bigint;
  address: PublicKey;
  kind: ChangeKind;
  target: number;
  proposedAt: bigint;
  executableAt: bigint;
  /** Who paid the account's rent (refunded to it on execution or cancellation). */
  payer: PublicKey;
  /** What it changes against the parameters recorded when it was proposed. */
  changes: FieldChange[];
}

/** Every pending change (a `RiskChange` account), oldest first, with its diff. */
export async function pendingChanges(client: XmarginClient, chain: Pick<Chain, "programAccounts">): Promise<PendingChange[]> {
  const out: PendingChange[] = [];
  for (const { address, data } of await chain.programAccounts("riskChange")) {
    // The encoder's shapes (BN, byte arrays) for the diff; the typed decoder for the rest.
    const raw = camelize<Record<string, unknown>>(client.decodeAccount("RiskChange", data));
    const decoded = decodeRiskChange(data);
    const kind = KIND_BY_CODE[decoded.kind];
    if (!kind) continue;
    const spec = KINDS[kind];
    out.push({
      id: decoded.id,
      address,
      kind,
      target: decoded.target,
      proposedAt: decoded.proposedAt,
      executableAt: decoded.executableAt,
      payer: decoded.payer,
      changes: fieldDiff(spec.type, raw[`${spec.stored}Before`], raw[spec.stored]),
    });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** "in 3h 12m", "now" (executable), for an operator. */
export function untilText(at: bigint, now: bigint): string {
  if (at <= now) return "executable now";
  // Whole minutes, rounded up (never "in 0m" while still locked).
  const minutes = Math.ceil(Number(at - now) / 60);
  const d = Math.floor(minutes / 1_440);
  const h = Math.floor((minutes % 1_440) / 60);
  const m = minutes % 60;
  return `in ${d > 0 ? `${d}d ` : ""}${h}h ${m}m`;
}

/** A transaction for another signer (a multisig): the message, unsigned, base64 — what
 * Squads' "import transaction" and `solana ... --sign-only` flows take. */
export function exportUnsigned(ixs: TransactionInstruction[], feePayer: PublicKey, recentBlockhash: string): string {
  const message = new TransactionMessage({ payerKey: feePayer, recentBlockhash, instructions: ixs }).compileToV0Message();
  return Buffer.from(new VersionedTransaction(message).serialize()).toString("base64");
}
