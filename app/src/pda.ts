// Program-derived addresses, from the same seeds as programs/xmargin/src/seeds.rs.
import { PublicKey } from "@solana/web3.js";

export const EXCHANGE_SEED = Buffer.from("exchange");
export const INSURANCE_VAULT_SEED = Buffer.from("insurance_vault");
export const BPF_LOADER_UPGRADEABLE = new PublicKey("BPFLoaderUpgradeab1e11111111111111111111111");
export const TOKEN_PROGRAM_ID = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

export function exchangePda(programId: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([EXCHANGE_SEED], programId)[0];
}

export function insuranceVaultPda(programId: PublicKey, exchange: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([INSURANCE_VAULT_SEED, exchange.toBuffer()], programId)[0];
}

/** The upgradeable loader's ProgramData account of `programId`. */
export function programDataPda(programId: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([programId.toBuffer()], BPF_LOADER_UPGRADEABLE)[0];
}
