// Types of scripts/write-locks.mjs (plain JS, run by node without a compiler), for the tests.

export type Scope = "venue" | "market" | "asset" | "portfolio" | "other";

export type IdlSeed = { kind: string; path?: string; value?: number[]; account?: string };
export type IdlAccount = {
  name: string;
  writable?: boolean;
  signer?: boolean;
  address?: string;
  pda?: { seeds: IdlSeed[]; program?: unknown };
};
export type Idl = { instructions: { name: string; accounts: IdlAccount[] }[] };
export type Measurement = { instruction: string; scenario: string; cu: number; ceiling?: number };

export type WriteLocks = { instruction: string; writable: { name: string; scope: Scope }[]; venue_wide: string[] };
export type Rates = { per_market: number | null; venue_wide: Record<string, number | null> };
export type Throughput = { per_block: Rates; per_second: Rates };

export const ACCOUNT_CU_LIMIT: number;
export const BLOCK_CU_LIMIT: number;
export const BLOCKS_PER_SECOND: number;
export const MARKET_COUNTS: number[];
export const HOT_INSTRUCTIONS: string[];
export const OPTIONAL_HOT_INSTRUCTIONS: string[];
export const CU_SCENARIOS: Record<string, RegExp>;
export const SCOPE_BY_NAME: Record<string, Scope>;
export const VENUE_WRITE_ALLOWLIST: Record<string, string[]>;

export function classifyAccount(account: IdlAccount): Scope;
export function writeLocks(idl: Idl): WriteLocks[];
export function throughputCu(instruction: string, measurements: Measurement[]): { cu: number | null; scenario: string | null };
export function throughput(cu: number | null, scopes: Scope[], marketCounts?: number[]): Throughput;
export function writeLockReport(idl: Idl, measurements: Measurement[]): (WriteLocks & { cu: number | null; scenario: string | null } & Throughput)[];
