//! `sweep_fees` (anyone): moves what is owed to insurance from the quote vault to the
//! insurance vault and zeroes the records: a market's accrued fees and position-liquidation
//! shares (`Market::fees_accrued`, when a market is given) and the collateral liquidations'
//! shares (`QuoteLedger::fees_accrued`).
//!
//! Trades and liquidations only add to those records (the tokens stay in the quote vault), so
//! they write no vault: this crank is the one place that writes the two vaults for them,
//! whenever a keeper chooses (README, "Scaling on Solana"). The amounts are the accounts' own
//! records, the destination the exchange's insurance vault: the caller chooses only when.
//! Nothing to sweep is `NothingToSweep`.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::XmarginError;
use crate::events::FeesSwept;
use crate::instructions::positions::transfer_quote;
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::{Exchange, HaircutRegistry, Market, QuoteLedger};

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
    pub market: Option<AccountLoader<'info, Market>>,
    #[account(mut, address = exchange.load()?.quote_ledger @ XmarginError::QuoteLedgerMismatch)]
    pub quote_ledger: AccountLoader<'info, QuoteLedger>,
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
        let market = match &self.market {
            Some(m) => m.load()?.fees_accrued,
            None => 0,
        };
        require!(market > 0 || self.quote_ledger.load()?.fees_accrued > 0, XmarginError::NothingToSweep);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &ctx.accounts;
        let (market_amount, market) = match &a.market {
            Some(loader) => {
                let mut m = loader.load_mut()?;
                let amount = m.fees_accrued;
                m.fees_accrued = 0;
                (amount, Some(loader.key()))
            }
            None => (0, None),
        };
        let ledger_amount = {
            let mut l = a.quote_ledger.load_mut()?;
            let amount = l.fees_accrued;
            l.fees_accrued = 0;
            amount
        };
        let amount = market_amount.checked_add(ledger_amount).ok_or(XmarginError::AmountTooLarge)?;
        transfer_quote(
            &a.exchange,
            &a.token_program,
            &a.quote_mint,
            &a.quote_vault,
            &a.insurance_vault,
            amount,
        )?;
        emit!(FeesSwept {
            market,
            market_amount,
            ledger_amount,
            amount,
            insurance_balance_before: a.insurance_vault.amount,
            insurance_balance_after: a.insurance_vault.amount.saturating_add(amount),
        });
        Ok(())
    }
}
