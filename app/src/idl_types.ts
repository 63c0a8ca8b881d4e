// The raw IDL's type definitions and its naming conventions, shared by the IDL-driven decoders
// (decode.ts) and the governance edits (proposals.ts): Rust's snake_case names turned into the
// camelCase the TypeScript IDL type uses, padding and reserved bytes recognized.
import idlJson from "./idl/xmargin.json" with { type: "json" };

/** A type as the raw IDL JSON writes it. */
export type RawType = string | { array: [RawType, number] } | { vec: RawType } | { option: RawType } | { defined: { name: string } };
export type RawField = { name: string; type: RawType };
export type RawTypeDef = {
  name: string;
  type: { kind: "struct"; fields?: RawField[] } | { kind: "enum"; variants: { name: string; fields?: RawField[] }[] };
};
export type RawIdl = {
  address: string;
  accounts: { name: string; discriminator: number[] }[];
  events: { name: string; discriminator: number[] }[];
  types: RawTypeDef[];
};

export const RAW_IDL = idlJson as unknown as RawIdl;
const TYPES = new Map(RAW_IDL.types.map((t) => [t.name, t]));

/** The IDL's definition of type `name`. */
export function idlType(name: string): RawTypeDef | undefined {
  return TYPES.get(name);
}

/** The fields of struct `name` (none for an enum or an unknown type). */
export function structFields(name: string): RawField[] {
  const def = TYPES.get(name)?.type;
  return def?.kind === "struct" ? (def.fields ?? []) : [];
}

/** `snake_case` (a leading `_` dropped) as the IDL type's `camelCase`: `price_e9` → `priceE9`. */
export function camelCase(key: string): string {
  return key.replace(/^_+/, "").replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `PascalCase` as `camelCase` (account, event and variant names). */
export function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** A field that only pads a layout (`_padding…`, `reserved`, `padding`). */
export function isPadding(raw: string): boolean {
  return raw.startsWith("_") || raw === "reserved" || raw === "padding";
}
