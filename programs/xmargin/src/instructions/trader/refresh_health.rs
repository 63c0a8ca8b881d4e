//! `refresh_health` (view, anyone): computes the portfolio's equity and health with the same
//! engine as `withdraw` and returns them (return data) and logs them (event). Remaining
//! accounts as for `withdraw`.
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::HealthReport;
use crate::health::own_totals;
use crate::seeds::{EXCHANGE_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{Exchange, HaircutRegistry, Portfolio};

/// Quote units as I80F48 bits (divide by 2^48).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthView {
    pub equity: i128,
    pub initial_health: i128,
    pub maintenance_health: i128,
    pub initial_requirement: i128,
    pub maintenance_requirement: i128,
    /// Correlation offset credits already subtracted from the requirements (governed offset
    /// groups, `xmargin_risk::offsets`).
    pub initial_offset_credit: i128,
    pub maintenance_offset_credit: i128,
}

#[derive(Accounts)]
pub struct RefreshHealth<'info> {
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(constraint = portfolio.load_checked()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub portfolio: AccountLoader<'info, Portfolio>,
}

impl RefreshHealth<'_> {
    pub fn handler<'info>(ctx: Context<'info, RefreshHealth<'info>>) -> Result<HealthView> {
        xmargin_risk::trace::mark("refresh_health: accounts loaded");
        let a = &ctx.accounts;
        let (portfolio, registry) = (a.portfolio.load_checked()?, a.registry.load_checked()?);
        let clock = Clock::get()?;
        let totals = own_totals(&portfolio, &registry, ctx.remaining_accounts, &clock)?;
        xmargin_risk::trace::mark("totals");
        let view = HealthView {
            equity: totals.equity.to_bits(),
            initial_health: totals.initial_health.to_bits(),
            maintenance_health: totals.maintenance_health.to_bits(),
            initial_requirement: totals.initial_requirement.to_bits(),
            maintenance_requirement: totals.maintenance_requirement.to_bits(),
            initial_offset_credit: totals.initial_offset_credit.to_bits(),
            maintenance_offset_credit: totals.maintenance_offset_credit.to_bits(),
        };
        emit!(HealthReport {
            portfolio: a.portfolio.key(),
            equity: view.equity,
            initial_health: view.initial_health,
            maintenance_health: view.maintenance_health,
            initial_requirement: view.initial_requirement,
            maintenance_requirement: view.maintenance_requirement,
            initial_offset_credit: view.initial_offset_credit,
            maintenance_offset_credit: view.maintenance_offset_credit,
        });
        Ok(view)
    }
}
