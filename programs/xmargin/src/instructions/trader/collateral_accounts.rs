//! Checks shared by `deposit` and `withdraw`: the mint is listed, and the vault and token
//! program are the ones the registry recorded for it (no substitution).
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::state::HaircutRegistry;

/// The collateral index of `mint`, after checking `vault` and `token_program` against the
/// registry.
pub fn listed_collateral(
    registry: &HaircutRegistry,
    mint: &Pubkey,
    vault: &Pubkey,
    token_program: &Pubkey,
) -> Result<u8> {
    let index = registry.collateral_index(mint).ok_or(XmarginError::CollateralNotListed)?;
    let config = &registry.collaterals[index];
    require_keys_eq!(*vault, config.vault, XmarginError::VaultMismatch);
    require_keys_eq!(*token_program, config.token_program, XmarginError::TokenProgramMismatch);
    u8::try_from(index).map_err(|_| error!(XmarginError::CollateralNotListed))
}

/// Σ of positive balances changes by this when a balance goes from `before` to `after`.
pub fn positive_part_change(before: i64, after: i64) -> (u64, u64) {
    let b = before.max(0).unsigned_abs();
    let a = after.max(0).unsigned_abs();
    (a.saturating_sub(b), b.saturating_sub(a))
}
