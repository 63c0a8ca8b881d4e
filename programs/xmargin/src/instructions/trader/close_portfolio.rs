//! `close_portfolio` (owner): closes an empty portfolio and returns its rent to the owner.
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::PortfolioClosed;
use crate::state::LoadChecked;
use crate::state::Portfolio;

#[derive(Accounts)]
pub struct ClosePortfolio<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ XmarginError::NotPortfolioOwner, close = owner)]
    pub portfolio: AccountLoader<'info, Portfolio>,
}

impl ClosePortfolio<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.portfolio.load_checked()?.is_empty(), XmarginError::PortfolioNotEmpty);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        emit!(PortfolioClosed { portfolio: ctx.accounts.portfolio.key(), owner: ctx.accounts.owner.key() });
        Ok(())
    }
}
