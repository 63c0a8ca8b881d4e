//! `sweep_fees` (anyone): moves a market's accrued fees and liquidation insurance shares
//! (`Market::fees_accrued`) from the quote vault to the insurance vault and zeroes them.
//!
//! Trades and liquidations only add to `fees_accrued` (the tokens stay in the quote vault),
//! so they write no vault: this crank is the one place that writes the two vaults for them,
//! once per market whenever a keeper chooses (README, "Scaling on Solana"). The amount is
//! the market's own record, the destination the exchange's insurance vault: the caller
//! chooses only when. Nothing to sweep is `NothingToSweep`.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::XmarginError;
use crate::events::FeesSwept;
use crate::instructions::positions::transfer_quote;
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::{Exchange, HaircutRegistry, Market};

#[derive(Accounts)]
pub struct SweepFees<'info> {
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(
        mut,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &[market.load()?.underlying]],
        bump = market.load()?.bump,
    )]
    pub market: AccountLoader<'info, Market>,
    #[account(mut, address = registry.load()?.collaterals[0].vault @ XmarginError::VaultMismatch)]
    pub quote_vault: InterfaceAccount<'info, TokenAccount>,
    #[account(mut, address = exchange.load()?.insurance_vault @ XmarginError::InsuranceVaultMismatch)]
    pub insurance_vault: InterfaceAccount<'info, TokenAccount>,
    #[account(address = exchange.load()?.quote_mint @ XmarginError::CollateralNotListed)]
    pub quote_mint: InterfaceAccount<'info, Mint>,
    #[account(address = registry.load()?.collaterals[0].token_program @ XmarginError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl SweepFees<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.market.load()?.fees_accrued > 0, XmarginError::NothingToSweep);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &ctx.accounts;
        let (amount, underlying) = {
            let mut m = a.market.load_mut()?;
            let amount = m.fees_accrued;
            m.fees_accrued = 0;
            (amount, m.underlying)
        };
        transfer_quote(
            &a.exchange,
            &a.token_program,
            &a.quote_mint,
            &a.quote_vault,
            &a.insurance_vault,
            amount,
        )?;
        emit!(FeesSwept {
            market: a.market.key(),
            underlying,
            amount,
            insurance_balance_before: a.insurance_vault.amount,
            insurance_balance_after: a.insurance_vault.amount.saturating_add(amount),
        });
        Ok(())
    }
}
