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

/// A timelocked change was proposed. `executable_at`: unix seconds.
#[event]
pub struct RiskChangeProposed {
    pub id: u64,
    /// `state::change_kind::*`.
    pub kind: u8,
    pub target: u8,
    pub proposer: Pubkey,
    pub executable_at: i64,
}

/// A collateral's governed parameters changed (timelock execution: `change_id` = the
/// proposal id; guardian tightening: `change_id` = None).
#[event]
pub struct CollateralRiskChanged {
    pub change_id: Option<u64>,
    pub collateral: u8,
    pub old: crate::state::CollateralRiskParams,
    pub new: crate::state::CollateralRiskParams,
}

/// An underlying was listed (`old` all zero) or its parameters changed.
#[event]
pub struct UnderlyingRiskChanged {
    pub change_id: u64,
    pub underlying: u8,
    pub listed: bool,
    pub old: crate::state::UnderlyingConfig,
    pub new: crate::state::UnderlyingConfig,
}

#[event]
pub struct RiskChangeCancelled {
    pub id: u64,
    pub by: Pubkey,
}

/// `role`: 0 governance, 1 guardian.
#[event]
pub struct AuthorityProposed {
    pub role: u8,
    pub current: Pubkey,
    pub proposed: Pubkey,
}

/// Emitted by `update_volatility`. I80F48 bits (divide by 2^48): price in quote per unit,
/// annualized variances, shocks as fractions of spot.
#[event]
pub struct VolatilityUpdated {
    pub underlying: u8,
    pub price: i128,
    pub var_short: i128,
    pub var_long: i128,
    pub old_shock: i128,
    pub new_shock: i128,
}

#[event]
pub struct AuthorityChanged {
    pub role: u8,
    pub old: Pubkey,
    pub new: Pubkey,
}
