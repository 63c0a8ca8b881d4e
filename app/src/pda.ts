// Program-derived addresses, from the same seeds as programs/xmargin/src/seeds.rs.
import { PublicKey } from "@solana/web3.js";

export const EXCHANGE_SEED = Buffer.from("exchange");
export const INSURANCE_VAULT_SEED = Buffer.from("insurance_vault");
export const BPF_LOADER_UPGRADEABLE = new PublicKey("BPFLoaderUpgradeab1e11111111111111111111111");
export const TOKEN_PROGRAM_ID = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

export const MARKET_SEED = Buffer.from("market");

export function exchangePda(programId: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([EXCHANGE_SEED], programId)[0];
}

export function insuranceVaultPda(programId: PublicKey, exchange: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([INSURANCE_VAULT_SEED, exchange.toBuffer()], programId)[0];
}

/** Pyth's push-oracle program, which keeps the sponsored price-feed accounts updated. */
export const PYTH_PUSH_ORACLE = new PublicKey("pythWSnswVUd12oZpeFP8e9CVaEqJg25g1Vtc2biRsT");

/** The sponsored price-feed account of a Pyth feed id (shard 0): the only account a pull
 * oracle is read from (`OracleConfig.feedAccount`). */
export function sponsoredFeedAccount(feedId: Buffer, shard = 0): PublicKey {
  const shardBytes = Buffer.alloc(2);
  shardBytes.writeUInt16LE(shard, 0);
  return PublicKey.findProgramAddressSync([shardBytes, feedId], PYTH_PUSH_ORACLE)[0];
}

export const ASSOCIATED_TOKEN_PROGRAM_ID = new PublicKey("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/** The associated token account of `owner` for `mint` under `tokenProgram` (where wallets
 * keep their tokens). */
export function associatedTokenAccount(owner: PublicKey, mint: PublicKey, tokenProgram: PublicKey = TOKEN_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([owner.toBuffer(), tokenProgram.toBuffer(), mint.toBuffer()], ASSOCIATED_TOKEN_PROGRAM_ID)[0];
}

/** The upgradeable loader's ProgramData account of `programId`. */
export function programDataPda(programId: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([programId.toBuffer()], BPF_LOADER_UPGRADEABLE)[0];
}

export const REGISTRY_SEED = Buffer.from("registry");
export const VAULT_SEED = Buffer.from("vault");
export const PORTFOLIO_SEED = Buffer.from("portfolio");

export const QUOTE_LEDGER_SEED = Buffer.from("quote_ledger");
/** The quote asset's ledger: its shard of Σ positive quote balances (quote deposits, withdrawals). */
export function quoteLedgerPda(programId: PublicKey, exchange: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([QUOTE_LEDGER_SEED, exchange.toBuffer()], programId)[0];
}

export function registryPda(programId: PublicKey, exchange: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([REGISTRY_SEED, exchange.toBuffer()], programId)[0];
}

export const INSURANCE_SEED = Buffer.from("insurance");

/** The insurance account of a non-quote collateral `mint` (created by `list_collateral`;
 * receives the leftover collateral `resolve_bankruptcy` takes over). */
export function collateralInsurancePda(programId: PublicKey, exchange: PublicKey, mint: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([INSURANCE_SEED, exchange.toBuffer(), mint.toBuffer()], programId)[0];
}

/** The collateral vault of `mint`. */
export function vaultPda(programId: PublicKey, exchange: PublicKey, mint: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([VAULT_SEED, exchange.toBuffer(), mint.toBuffer()], programId)[0];
}

/** The owner's portfolio number `index` (u16, little-endian in the seeds). */
export function portfolioPda(programId: PublicKey, owner: PublicKey, index: number): PublicKey {
  const idx = Buffer.alloc(2);
  idx.writeUInt16LE(index);
  return PublicKey.findProgramAddressSync([PORTFOLIO_SEED, owner.toBuffer(), idx], programId)[0];
}

export const RISK_CHANGE_SEED = Buffer.from("risk_change");

/** The timelocked risk change number `id` (u64, little-endian in the seeds). */
export function riskChangePda(programId: PublicKey, exchange: PublicKey, id: bigint): PublicKey {
  const idBytes = Buffer.alloc(8);
  idBytes.writeBigUInt64LE(id);
  return PublicKey.findProgramAddressSync([RISK_CHANGE_SEED, exchange.toBuffer(), idBytes], programId)[0];
}

/** The market of underlying `underlying`: `[MARKET_SEED, exchange, underlying]`. */
export function marketPda(programId: PublicKey, exchange: PublicKey, underlying: number): PublicKey {
  return PublicKey.findProgramAddressSync([MARKET_SEED, exchange.toBuffer(), Buffer.from([underlying])], programId)[0];
}
