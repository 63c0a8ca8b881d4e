// Portfolio health as the program computes it: `refresh_health` is simulated and its return
// data decoded. No risk math is re-implemented here.
import { PublicKey, TransactionInstruction } from "@solana/web3.js";
import BN from "bn.js";

import type { XmarginClient } from "./client.js";
import type { PortfolioState, RegistryState } from "./state.js";
import { Fx, ValueError } from "./values.js";

/** Oracle kinds (`OracleConfig.kind`). */
export const OracleKind = { Quote: 0, PythPull: 1, PythLegacy: 2 } as const;

/** A portfolio's health as the program computed it (`refresh_health`'s return data): exact
 * I80F48 values in quote units (`toString()` is the exact decimal, `toDecimal(2)` rounds
 * toward −∞, `isNegative()` decides). */
export interface PortfolioHealth {
  equity: Fx;
  initialHealth: Fx;
  maintenanceHealth: Fx;
  initialRequirement: Fx;
  maintenanceRequirement: Fx;
  /** Correlation offset credits already subtracted from the requirements. */
  initialOffsetCredit: Fx;
  maintenanceOffsetCredit: Fx;
}

/** Runs instructions without landing them and returns the program's return data. */
export type Simulate = (instructions: TransactionInstruction[]) => Promise<Uint8Array>;

/** The account an oracle configuration is read from: a legacy feed's own account, or the
 * pull feed's account the program binds it to (`OracleConfig.feed_account`). Takes the
 * registry's configuration as `client.decodeRegistry` (kind by number) or `decodeAccount`
 * (kind by name) returns it. */
export function oracleAccountOf(oracle: { kind: number | string; source: ArrayLike<number>; feedAccount: PublicKey }): PublicKey {
  const legacy = oracle.kind === OracleKind.PythLegacy || oracle.kind === "pythLegacy";
  return legacy ? new PublicKey(Uint8Array.from(oracle.source)) : oracle.feedAccount;
}

/**
 * The oracle accounts `withdraw` and `refresh_health` expect: one per balance with a
 * non-zero amount whose asset has an oracle, in slot order, from the registry's
 * configuration; `pullAccount` may override a pull feed's account by feed id (hex).
 */
export function oracleAccounts(
  portfolio: PortfolioState,
  registry: RegistryState,
  pullAccount?: (feedIdHex: string) => PublicKey | undefined,
): PublicKey[] {
  const out: PublicKey[] = [];
  for (const b of portfolio.balances) {
    const c = registry.collaterals[b.collateral];
    if (!c || b.amount === 0n || c.oracle.kind === OracleKind.Quote) continue;
    const given = c.oracle.kind === OracleKind.PythLegacy ? undefined : pullAccount?.(Buffer.from(c.oracle.source).toString("hex"));
    out.push(given ?? oracleAccountOf(c.oracle));
  }
  return out;
}

/** An I80F48 value (raw bits) as the nearest float, for charts and logs only (`Fx` is exact). */
export function fxBitsToNumber(bits: BN): number {
  return Fx.fromBits(bits).toNumber();
}

const HEALTH_FIELDS = [
  ["equity", "equity"],
  ["initialHealth", "initial_health"],
  ["maintenanceHealth", "maintenance_health"],
  ["initialRequirement", "initial_requirement"],
  ["maintenanceRequirement", "maintenance_requirement"],
  ["initialOffsetCredit", "initial_offset_credit"],
  ["maintenanceOffsetCredit", "maintenance_offset_credit"],
] as const;

/** `refresh_health`'s return data (a `HealthView`), decoded exactly. */
export function decodeHealthView(client: XmarginClient, data: Uint8Array): PortfolioHealth {
  const view = client.program.coder.types.decode("healthView", Buffer.from(data)) as Record<string, BN | undefined>;
  const out: Partial<PortfolioHealth> = {};
  for (const [camel, snake] of HEALTH_FIELDS) {
    const bits = view[camel] ?? view[snake];
    if (bits === undefined) throw new ValueError(camel, "missing from refresh_health's return data");
    out[camel] = Fx.fromBits(bits);
  }
  return out as PortfolioHealth;
}

/** Simulates `refresh_health` and decodes its return data. */
export async function getPortfolioHealth(
  client: XmarginClient,
  portfolio: PublicKey,
  oracles: PublicKey[],
  simulate: Simulate,
): Promise<PortfolioHealth> {
  const data = await simulate([await client.refreshHealthIx(portfolio, oracles)]);
  return decodeHealthView(client, data);
}
