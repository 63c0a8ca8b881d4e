//! `cancel_risk_change` (governance): drops a pending proposal (rent to its payer).
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::RiskChangeCancelled;
use crate::seeds::EXCHANGE_SEED;
use crate::state::LoadChecked;
use crate::state::{Exchange, RiskChange};

#[derive(Accounts)]
pub struct CancelRiskChange<'info> {
    pub governance: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        close = payer,
        constraint = risk_change.load_checked()?.exchange == exchange.key() @ XmarginError::RiskChangeMismatch
    )]
    pub risk_change: AccountLoader<'info, RiskChange>,
    /// CHECK: receives the proposal's rent; must be its recorded payer.
    #[account(mut, address = risk_change.load_checked()?.payer @ XmarginError::RiskChangeMismatch)]
    pub payer: UncheckedAccount<'info>,
}

impl CancelRiskChange<'_> {
    pub fn validate(&self) -> Result<()> {
        require_keys_eq!(
            self.governance.key(),
            self.exchange.load_checked()?.governance,
            XmarginError::NotGovernance
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        emit!(RiskChangeCancelled {
            id: ctx.accounts.risk_change.load_checked()?.id,
            by: ctx.accounts.governance.key()
        });
        Ok(())
    }
}
