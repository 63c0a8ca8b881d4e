//! PDA seeds. Every program-derived address is built from these constants only.

/// `Exchange` singleton: `[EXCHANGE_SEED]`.
pub const EXCHANGE_SEED: &[u8] = b"exchange";
/// Insurance vault (quote-mint token account owned by the exchange PDA):
/// `[INSURANCE_VAULT_SEED, exchange]`.
pub const INSURANCE_VAULT_SEED: &[u8] = b"insurance_vault";
