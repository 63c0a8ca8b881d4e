//! The quote asset's own mutable state: its shard of Σ positive quote balances, written by
//! quote deposits and withdrawals, `liquidate_collateral` and `resolve_bankruptcy`, and the
//! collateral liquidations' accrued insurance shares — so that
//! none of them writes the registry, which every trade and health check reads (docs/scaling.md,
//! "Scaling on Solana"). One zero-copy account, `[QUOTE_LEDGER_SEED, exchange]`, created by
//! `initialize_exchange`.
use anchor_lang::prelude::*;

/// 1: first version.
pub const QUOTE_LEDGER_VERSION: u8 = 1;

#[account(zero_copy)]
#[repr(C)]
pub struct QuoteLedger {
    /// `QUOTE_LEDGER_VERSION`.
    pub version: u8,
    /// Bump of `[QUOTE_LEDGER_SEED, exchange]`.
    pub bump: u8,
    pub _padding: [u8; 6],
    pub exchange: Pubkey,
    /// This shard of Σ positive quote balances, quote native units, signed
    /// (`positions::PositiveQuote`): the markets hold the rest (`Market::
    /// positive_quote_delta`); only the sum is Σ ≥ 0. `resolve_bankruptcy` folds the markets'
    /// shards into this one.
    pub positive_quote_delta: i64,
    /// Collateral liquidations' insurance shares not yet moved to the insurance vault
    /// (`sweep_fees`), quote native units: the tokens stay in the quote vault meanwhile.
    pub fees_accrued: u64,
    /// Reserved for future fields; zero.
    pub reserved: [u8; 56],
}

const _: () = assert!(core::mem::size_of::<QuoteLedger>() == 8 + 32 + 8 + 8 + 56);

impl QuoteLedger {
    pub const SPACE: usize = 8 + core::mem::size_of::<QuoteLedger>();
}
