//! `open_portfolio`: creates the owner's portfolio number `index`.
use anchor_lang::prelude::*;
use anchor_lang::Discriminator;

use crate::error::XmarginError;
use crate::events::PortfolioOpened;
use crate::seeds::{EXCHANGE_SEED, PORTFOLIO_SEED};
use crate::state::LoadChecked;
use crate::state::{Exchange, Portfolio, PORTFOLIO_VERSION};
use crate::utils::{create_zero_copy_account, is_uninitialized};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenPortfolioArgs {
    /// The owner's portfolio number (lets one owner keep several, e.g. per strategy).
    pub index: u16,
}

#[derive(Accounts)]
#[instruction(args: OpenPortfolioArgs)]
pub struct OpenPortfolio<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub owner: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// CHECK: the portfolio PDA, created here (seeds checked).
    #[account(mut, seeds = [PORTFOLIO_SEED, owner.key().as_ref(), &args.index.to_le_bytes()], bump)]
    pub portfolio: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl OpenPortfolio<'_> {
    pub fn validate(&self, _args: &OpenPortfolioArgs) -> Result<()> {
        require!(is_uninitialized(&self.portfolio), XmarginError::PortfolioAlreadyExists);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: OpenPortfolioArgs) -> Result<()> {
        let a = &ctx.accounts;
        let info = a.portfolio.to_account_info();
        let owner = a.owner.key();
        let bump = ctx.bumps.portfolio;
        let index = args.index.to_le_bytes();
        create_zero_copy_account(
            &a.payer.to_account_info(),
            &info,
            Portfolio::SPACE,
            Portfolio::DISCRIMINATOR,
            &[PORTFOLIO_SEED, owner.as_ref(), &index, &[bump]],
        )?;
        let mut data = info.try_borrow_mut_data()?;
        let p: &mut Portfolio = bytemuck::from_bytes_mut(&mut data[8..Portfolio::SPACE]);
        p.version = PORTFOLIO_VERSION;
        p.bump = bump;
        p.index = args.index;
        p.owner = owner;
        p.exchange = a.exchange.key();
        emit!(PortfolioOpened { portfolio: info.key(), owner, index: args.index });
        Ok(())
    }
}
