//! Events: one per state change. Numeric fields state their unit.
use anchor_lang::prelude::*;

/// Emitted once, when the exchange singleton is created.
#[event]
pub struct ExchangeInitialized {
    pub exchange: Pubkey,
    pub governance: Pubkey,
    pub guardian: Pubkey,
    pub quote_mint: Pubkey,
    pub insurance_vault: Pubkey,
    /// Seconds a loosening risk change waits between proposal and execution.
    pub timelock_delay_secs: i64,
    /// Unix time (seconds) of the creation, from the Clock sysvar.
    pub created_at: i64,
}

/// Emitted by `set_pause`; flags are bits of `state::pause`.
#[event]
pub struct PauseFlagsChanged {
    pub authority: Pubkey,
    pub old_pause_flags: u8,
    pub new_pause_flags: u8,
}

/// Emitted by `list_collateral`. Weights in basis points, cap in native units.
#[event]
pub struct CollateralListed {
    pub mint: Pubkey,
    pub index: u8,
    pub vault: Pubkey,
    pub oracle_kind: u8,
    pub maintenance_asset_weight_bps: u16,
    pub deposit_cap: u64,
}

#[event]
pub struct PortfolioOpened {
    pub portfolio: Pubkey,
    pub owner: Pubkey,
    pub index: u16,
}

#[event]
pub struct DelegateChanged {
    pub portfolio: Pubkey,
    pub old_delegate: Pubkey,
    pub new_delegate: Pubkey,
}

#[event]
pub struct PortfolioClosed {
    pub portfolio: Pubkey,
    pub owner: Pubkey,
}

/// Emitted by `deposit` and `withdraw`. Amounts and balances in the asset's native units
/// (balances signed: negative = owed).
#[event]
pub struct CollateralMoved {
    pub portfolio: Pubkey,
    pub mint: Pubkey,
    pub collateral: u8,
    /// Positive for a deposit, negative for a withdrawal.
    pub amount: i64,
    pub balance_before: i64,
    pub balance_after: i64,
    pub total_deposits_after: u64,
}

/// Emitted by `refresh_health` (also its return data). Quote units as I80F48 bits
/// (divide by 2^48).
#[event]
pub struct HealthReport {
    pub portfolio: Pubkey,
    pub equity: i128,
    pub initial_health: i128,
    pub maintenance_health: i128,
    pub initial_requirement: i128,
    pub maintenance_requirement: i128,
}
