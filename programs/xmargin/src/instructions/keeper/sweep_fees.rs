//! `sweep_fees` (anyone): moves what is owed to insurance from the quote vault to the
//! insurance vault and zeroes the records: a market's accrued fees and position-liquidation
//! shares (`Market::fees_accrued`, when a market is given) and the collateral liquidations'
//! shares (`QuoteLedger::fees_accrued`).
//!
//! Trades and liquidations only add to those records (the tokens stay in the quote vault), so
//! they write no vault: this crank is the one place that writes the two vaults for them,
//! whenever a keeper chooses (docs/scaling.md). The amounts are the accounts' own
//! records, the destination the exchange's insurance vault: the caller chooses only when.
//! At most the quote vault's balance moves (`take_owed`); nothing to sweep is
//! `NothingToSweep`. The market's shard of Σ positive quote balances is folded into the
//! ledger's on the way (the sum is unchanged). `resolve_bankruptcy` sweeps every market
//! first, so a deficit is never socialized while the fund is owed fees.
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::FeesSwept;
// Glob: a nested `#[derive(Accounts)]` needs its generated items (`QuoteVaultsBumps`, ...).
use crate::instructions::quote_vaults::*;
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{Exchange, HaircutRegistry, Market, QuoteLedger};

#[derive(Accounts)]
pub struct SweepFees<'info> {
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(
        mut,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &[market.load_checked()?.underlying]],
        bump = market.load_checked()?.bump,
    )]
    pub market: Option<AccountLoader<'info, Market>>,
    #[account(mut, address = exchange.load_checked()?.quote_ledger @ XmarginError::QuoteLedgerMismatch)]
    pub quote_ledger: AccountLoader<'info, QuoteLedger>,
    #[account(constraint = vaults.check(&exchange, &registry)?)]
    pub vaults: QuoteVaults<'info>,
}

/// Takes what is owed to insurance from `records` (accrued amounts, quote native units), in
/// order, at most `available` (the quote vault's balance: when quote balances net negative —
/// traders backed by other collateral — the vault may hold less than the fees charged, and
/// the rest stays on record until it does). Returns the amount taken.
pub fn take_owed(available: u64, records: &mut [&mut u64]) -> u64 {
    let mut left = available;
    for record in records.iter_mut() {
        let take = (**record).min(left);
        **record = record.saturating_sub(take);
        left = left.saturating_sub(take);
    }
    available.saturating_sub(left)
}

impl SweepFees<'_> {
    pub fn validate(&self) -> Result<()> {
        let market = match &self.market {
            Some(m) => m.load_checked()?.fees_accrued,
            None => 0,
        };
        let owed = market > 0 || self.quote_ledger.load_checked()?.fees_accrued > 0;
        require!(owed && self.vaults.quote_vault.amount > 0, XmarginError::NothingToSweep);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &ctx.accounts;
        let mut ledger = a.quote_ledger.load_mut_checked()?;
        let (market, market_amount, ledger_amount) = match &a.market {
            Some(loader) => {
                let mut m = loader.load_mut_checked()?;
                let (before_m, before_l) = (m.fees_accrued, ledger.fees_accrued);
                take_owed(a.vaults.quote_vault.amount, &mut [&mut m.fees_accrued, &mut ledger.fees_accrued]);
                // The market's shard of Σ positive quote balances moves to the ledger (the sum
                // is unchanged), so that no shard drifts without bound between bankruptcies.
                let shard = core::mem::take(&mut m.positive_quote_delta);
                ledger.positive_quote_delta =
                    ledger.positive_quote_delta.checked_add(shard).ok_or(XmarginError::AmountTooLarge)?;
                (
                    Some(loader.key()),
                    before_m.saturating_sub(m.fees_accrued),
                    before_l.saturating_sub(ledger.fees_accrued),
                )
            }
            None => {
                let before = ledger.fees_accrued;
                take_owed(a.vaults.quote_vault.amount, &mut [&mut ledger.fees_accrued]);
                (None, 0, before.saturating_sub(ledger.fees_accrued))
            }
        };
        drop(ledger);
        let amount = market_amount.checked_add(ledger_amount).ok_or(XmarginError::AmountTooLarge)?;
        a.vaults.pay_insurance(&a.exchange, amount)?;
        emit!(FeesSwept {
            market,
            market_amount,
            ledger_amount,
            amount,
            insurance_balance_before: a.vaults.insurance_vault.amount,
            insurance_balance_after: a.vaults.insurance_vault.amount.saturating_add(amount),
        });
        Ok(())
    }
}
