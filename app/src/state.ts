// Decoded account types, with numeric fields as plain numbers / bigints for display.
import { PublicKey } from "@solana/web3.js";

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
}

/** Names of the set pause flags, e.g. ["Trading"]. */
export function pausedActions(flags: number): string[] {
  return Object.entries(PauseFlag)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name);
}
