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
