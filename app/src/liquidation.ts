// Liquidation instruction builders (`liquidate_positions`, `liquidate_collateral`,
// `resolve_bankruptcy`) and the decoding of their events from transaction logs.
import { PublicKey, TransactionInstruction } from "@solana/web3.js";
import BN from "bn.js";

import type { XmarginClient } from "./client.js";
import { oracleAccounts } from "./health.js";
import { collateralInsurancePda } from "./pda.js";
import type { ExchangeState, PortfolioState, RegistryState } from "./state.js";
import { marketPda } from "./pda.js";
import { quoteVaults } from "./trading.js";

/** The quote asset's accounts every liquidation instruction names. */
export interface QuoteAccounts {
  quoteMint: PublicKey;
  quoteVault: PublicKey;
  tokenProgram: PublicKey;
}

/** Fees and the insurance share accrue in the market (`sweepFeesIx` moves them): no vault. */
export interface LiquidatePositionsParams {
  liquidatorSigner: PublicKey;
  liquidator: PublicKey;
  target: PublicKey;
  underlying: number;
  /** Option series index or PERP_INSTRUMENT. */
  instrument: number;
  /** The most lots taken over; the program takes only what restores the target's buffer. */
  maxLots: bigint;
  oracle: PublicKey;
  /** Health accounts without the liquidated underlying: the target's, then the liquidator's. */
  targetHealth: PublicKey[];
  liquidatorHealth: PublicKey[];
  /** A linked collateral taken over with a short perp, the matching units per lot (a
   * cash-and-carry unwound both legs together); the liquidator's health accounts must then
   * hold that collateral's oracle in its slot. */
  hedgeCollateral?: number;
}

/** The insurance share accrues in the quote ledger (`sweepFeesIx` moves it): no vault. */
export interface LiquidateCollateralParams {
  liquidatorSigner: PublicKey;
  liquidator: PublicKey;
  target: PublicKey;
  collateral: number;
  /** The most native units of the collateral taken. */
  maxAmount: bigint;
  /** The collateral's oracle account. */
  oracle: PublicKey;
  /** The target's health accounts now, the liquidator's as they will be (the collateral's oracle in its slot). */
  targetHealth: PublicKey[];
  liquidatorHealth: PublicKey[];
}

const ro = (pubkey: PublicKey) => ({ pubkey, isSigner: false, isWritable: false });
/** Largest u64: "as much as the program allows". */
export const ALL = (1n << 64n) - 1n;

export async function liquidatePositionsIx(client: XmarginClient, p: LiquidatePositionsParams): Promise<TransactionInstruction> {
  return client.program.methods
    .liquidatePositions({
      instrument: p.instrument,
      maxLots: new BN(p.maxLots.toString()),
      targetHealthAccounts: p.targetHealth.length,
      hedgeCollateral: p.hedgeCollateral ?? null,
    })
    .accountsStrict({
      liquidatorSigner: p.liquidatorSigner,
      exchange: client.exchange,
      registry: client.registry,
      liquidator: p.liquidator,
      target: p.target,
      market: marketPda(client.programId, client.exchange, p.underlying),
      oracle: p.oracle,
    })
    .remainingAccounts([...p.targetHealth, ...p.liquidatorHealth].map(ro))
    .instruction();
}

export async function liquidateCollateralIx(client: XmarginClient, p: LiquidateCollateralParams): Promise<TransactionInstruction> {
  return client.program.methods
    .liquidateCollateral({
      collateral: p.collateral,
      maxAmount: new BN(p.maxAmount.toString()),
      targetHealthAccounts: p.targetHealth.length,
    })
    .accountsStrict({
      liquidatorSigner: p.liquidatorSigner,
      exchange: client.exchange,
      registry: client.registry,
      quoteLedger: client.quoteLedger,
      liquidator: p.liquidator,
      target: p.target,
      oracle: p.oracle,
    })
    .remainingAccounts([...p.targetHealth, ...p.liquidatorHealth].map(ro))
    .instruction();
}

/** The accounts of one leftover collateral `resolve_bankruptcy` takes over. */
export interface TakeoverAccounts {
  vault: PublicKey;
  /** The asset's insurance account (`collateralInsurancePda`). */
  insurance: PublicKey;
  mint: PublicKey;
  tokenProgram: PublicKey;
}

/** What `resolve_bankruptcy` needs of a portfolio's leftover non-quote collateral: the oracle of
 * each non-zero balance (slot order), then the takeover accounts of each (same order). */
export interface BankruptcyLeftover {
  oracles: PublicKey[];
  takeovers: TakeoverAccounts[];
}

/** The leftover-collateral accounts of a portfolio with no positions (empty when it holds only quote). */
export function bankruptcyLeftover(
  client: XmarginClient,
  portfolio: PortfolioState,
  registry: RegistryState,
  pullAccount?: (feedIdHex: string) => PublicKey | undefined,
): BankruptcyLeftover {
  const takeovers: TakeoverAccounts[] = [];
  for (const b of portfolio.balances) {
    const c = registry.collaterals[b.collateral];
    if (b.collateral === 0 || b.amount <= 0n || !c) continue;
    takeovers.push({
      vault: c.vault,
      insurance: collateralInsurancePda(client.programId, client.exchange, c.mint),
      mint: c.mint,
      tokenProgram: c.tokenProgram,
    });
  }
  return { oracles: oracleAccounts(portfolio, registry, pullAccount), takeovers };
}

/** The `Market` of every created market (the exchange's `marketMask`), by ascending underlying:
 * what `resolve_bankruptcy` needs last (Σ positive quote balances is kept in their shards). */
export function createdMarkets(client: XmarginClient, exchange: ExchangeState): PublicKey[] {
  const out: PublicKey[] = [];
  for (let u = 0; u < 16; u++) {
    if ((exchange.marketMask & (1 << u)) !== 0) out.push(marketPda(client.programId, client.exchange, u));
  }
  return out;
}

/** `resolve_bankruptcy`; `leftover` is required when the portfolio still holds non-quote collateral;
 * `markets` are `createdMarkets` (writable: their shards are folded into the quote ledger). */
export async function resolveBankruptcyIx(
  client: XmarginClient,
  portfolio: PublicKey,
  q: QuoteAccounts,
  markets: PublicKey[],
  leftover: BankruptcyLeftover = { oracles: [], takeovers: [] },
): Promise<TransactionInstruction> {
  const rw = (pubkey: PublicKey) => ({ pubkey, isSigner: false, isWritable: true });
  return client.program.methods
    .resolveBankruptcy()
    .accountsStrict({
      exchange: client.exchange,
      registry: client.registry,
      quoteLedger: client.quoteLedger,
      portfolio,
      vaults: quoteVaults(client, q),
    })
    .remainingAccounts([
      ...leftover.oracles.map(ro),
      ...leftover.takeovers.flatMap((t) => [rw(t.vault), rw(t.insurance), ro(t.mint), ro(t.tokenProgram)]),
      ...markets.map(rw),
    ])
    .instruction();
}
