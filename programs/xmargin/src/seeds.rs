//! PDA seeds. Every program-derived address is built from these constants only.

/// `Exchange` singleton: `[EXCHANGE_SEED]`.
pub const EXCHANGE_SEED: &[u8] = b"exchange";
/// Insurance vault (quote-mint token account owned by the exchange PDA):
/// `[INSURANCE_VAULT_SEED, exchange]`.
pub const INSURANCE_VAULT_SEED: &[u8] = b"insurance_vault";
/// Insurance account of a non-quote collateral (token account of its mint owned by the
/// exchange PDA, created by `list_collateral`; receives the collateral a bankruptcy
/// resolution takes over): `[INSURANCE_SEED, exchange, mint]`.
pub const INSURANCE_SEED: &[u8] = b"insurance";
/// Haircut registry: `[REGISTRY_SEED, exchange]`.
pub const REGISTRY_SEED: &[u8] = b"registry";
/// Collateral vault (token account of a listed mint owned by the exchange PDA):
/// `[VAULT_SEED, exchange, mint]`.
pub const VAULT_SEED: &[u8] = b"vault";
/// Portfolio: `[PORTFOLIO_SEED, owner, index (u16 little-endian)]`.
pub const PORTFOLIO_SEED: &[u8] = b"portfolio";
/// Timelocked risk change: `[RISK_CHANGE_SEED, exchange, id (u64 little-endian)]`.
pub const RISK_CHANGE_SEED: &[u8] = b"risk_change";
/// The quote asset's ledger (its shard of Σ positive quote balances):
/// `[QUOTE_LEDGER_SEED, exchange]`.
pub const QUOTE_LEDGER_SEED: &[u8] = b"quote_ledger";
/// Trading market of an underlying: `[MARKET_SEED, exchange, underlying index (u8)]`.
pub const MARKET_SEED: &[u8] = b"market";
