// Portfolio health as the program computes it: `refresh_health` is simulated and its return
// data decoded. No risk math is re-implemented here.
import { PublicKey, TransactionInstruction } from "@solana/web3.js";
import BN from "bn.js";

import type { XmarginClient } from "./client.js";
import type { PortfolioState, RegistryState } from "./state.js";

/** Oracle kinds (`OracleConfig.kind`). */
export const OracleKind = { Quote: 0, PythPull: 1, PythLegacy: 2 } as const;

export interface PortfolioHealth {
  /** Quote units. */
  equity: number;
  initialHealth: number;
  maintenanceHealth: number;
  initialRequirement: number;
  maintenanceRequirement: number;
  /** Correlation offset credits already subtracted from the requirements. */
  initialOffsetCredit: number;
  maintenanceOffsetCredit: number;
}

/** Runs instructions without landing them and returns the program's return data. */
export type Simulate = (instructions: TransactionInstruction[]) => Promise<Uint8Array>;

/**
 * The oracle accounts `withdraw` and `refresh_health` expect: one per balance with a
 * non-zero amount whose asset has an oracle, in slot order. A legacy asset's account is its
 * configured address; a pull feed's price-update account is wherever it was posted, so the
 * caller maps feed ids (hex) to accounts.
 */
export function oracleAccounts(
  portfolio: PortfolioState,
  registry: RegistryState,
  pullAccount: (feedIdHex: string) => PublicKey,
): PublicKey[] {
  const out: PublicKey[] = [];
  for (const b of portfolio.balances) {
    const c = registry.collaterals[b.collateral];
    if (!c || b.amount === 0n || c.oracle.kind === OracleKind.Quote) continue;
    const source = Buffer.from(c.oracle.source);
    out.push(c.oracle.kind === OracleKind.PythLegacy ? new PublicKey(source) : pullAccount(source.toString("hex")));
  }
  return out;
}

const TWO_POW_48 = 2 ** 48;

/** An I80F48 value (raw bits) in quote units. */
export function fxBitsToNumber(bits: BN): number {
  return Number(BigInt(bits.toString())) / TWO_POW_48;
}

/** Simulates `refresh_health` and decodes its return data. */
export async function getPortfolioHealth(
  client: XmarginClient,
  portfolio: PublicKey,
  oracles: PublicKey[],
  simulate: Simulate,
): Promise<PortfolioHealth> {
  const data = await simulate([await client.refreshHealthIx(portfolio, oracles)]);
  const view = client.program.coder.types.decode("healthView", Buffer.from(data)) as Record<string, BN>;
  const field = (snake: string, camel: string): number => fxBitsToNumber((view[camel] ?? view[snake]) as BN);
  return {
    equity: field("equity", "equity"),
    initialHealth: field("initial_health", "initialHealth"),
    maintenanceHealth: field("maintenance_health", "maintenanceHealth"),
    initialRequirement: field("initial_requirement", "initialRequirement"),
    maintenanceRequirement: field("maintenance_requirement", "maintenanceRequirement"),
    initialOffsetCredit: field("initial_offset_credit", "initialOffsetCredit"),
    maintenanceOffsetCredit: field("maintenance_offset_credit", "maintenanceOffsetCredit"),
  };
}
