//! `deposit`: moves tokens of a listed collateral from the depositor into the vault and
//! credits the portfolio.
//!
//! Anyone may pay the quote asset into any portfolio (it only lowers a deficit and needs no
//! oracle), and top up a non-quote balance the portfolio already holds. Only the owner may
//! deposit a non-quote asset the portfolio holds none of (no balance slot, or a zero
//! balance): such a deposit adds that asset's oracle to every later health check of the
//! portfolio, and its dust would be left for a bankruptcy resolution to take over, so a
//! third party could otherwise burden anyone's portfolio for one native unit per listed
//! asset (`DepositWouldOpenBalance`).
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{transfer_checked, Mint, TokenAccount, TokenInterface, TransferChecked};

use super::collateral_accounts::{listed_collateral, positive_part_change};
use crate::error::XmarginError;
use crate::events::CollateralMoved;
use crate::instructions::positions::{PositiveQuote, QUOTE_INDEX};
use crate::seeds::{EXCHANGE_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{pause, Exchange, HaircutRegistry, Portfolio, QuoteLedger};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepositArgs {
    /// Native token units.
    pub amount: u64,
}

#[derive(Accounts)]
pub struct Deposit<'info> {
    pub depositor: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    /// The quote asset's ledger, for the quote asset only (`QuoteLedgerMismatch`): a
    /// non-quote deposit or withdrawal writes no account shared beyond its asset's vault.
    #[account(mut, address = exchange.load_checked()?.quote_ledger @ XmarginError::QuoteLedgerMismatch)]
    pub quote_ledger: Option<AccountLoader<'info, QuoteLedger>>,
    #[account(mut, constraint = portfolio.load_checked()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub portfolio: AccountLoader<'info, Portfolio>,
    #[account(mint::token_program = token_program)]
    pub mint: InterfaceAccount<'info, Mint>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    #[account(mut, token::mint = mint, token::authority = depositor, token::token_program = token_program)]
    pub source: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Deposit<'_> {
    pub fn validate(&self, args: &DepositArgs) -> Result<()> {
        require!(!self.exchange.load_checked()?.is_paused(pause::DEPOSITS), XmarginError::DepositsPaused);
        require!(args.amount > 0, XmarginError::ZeroAmount);
        require!(i64::try_from(args.amount).is_ok(), XmarginError::AmountTooLarge);
        let registry = self.registry.load_checked()?;
        let index =
            listed_collateral(&registry, &self.mint.key(), &self.vault.key(), &self.token_program.key())?;
        let config = &registry.collaterals[usize::from(index)];
        require!(config.reduce_only == 0, XmarginError::CollateralReduceOnly);
        let portfolio = self.portfolio.load_checked()?;
        let before = portfolio.balance(index).map_or(0, |b| b.amount);
        require!(
            index == QUOTE_INDEX || before != 0 || self.depositor.key() == portfolio.owner,
            XmarginError::DepositWouldOpenBalance
        );
        let after = before.checked_add(args.amount as i64).ok_or(XmarginError::AmountTooLarge)?;
        require!((index == QUOTE_INDEX) == self.quote_ledger.is_some(), XmarginError::QuoteLedgerMismatch);
        // The cap applies to the tokens in the vault (no deposit writes a venue-wide total), and
        // only to what a deposit adds to positive balances: repaying a quote liability is never
        // capped (it only lowers a deficit; a full vault must not keep a borrower from curing).
        let (added, _) = positive_part_change(before, after);
        let total = self.vault.amount.checked_add(added).ok_or(XmarginError::DepositCapExceeded)?;
        require!(added == 0 || total <= config.deposit_cap, XmarginError::DepositCapExceeded);
        let has_slot = portfolio.balance(index).is_some() || portfolio.balances.iter().any(|b| b.active == 0);
        require!(has_slot, XmarginError::TooManyBalances);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: DepositArgs) -> Result<()> {
        let a = &ctx.accounts;
        transfer_checked(
            CpiContext::new(
                a.token_program.key(),
                TransferChecked {
                    from: a.source.to_account_info(),
                    mint: a.mint.to_account_info(),
                    to: a.vault.to_account_info(),
                    authority: a.depositor.to_account_info(),
                },
            ),
            args.amount,
            a.mint.decimals,
        )?;
        let registry = a.registry.load_checked()?;
        let mut portfolio = a.portfolio.load_mut_checked()?;
        crate::instructions::positions::apply_quote_losses(&mut portfolio, &registry)?;
        let index = registry.collateral_index(&a.mint.key()).ok_or(XmarginError::CollateralNotListed)?;
        let collateral = u8::try_from(index).map_err(|_| XmarginError::CollateralNotListed)?;
        let slot = portfolio.balance_mut_or_insert(collateral).ok_or(XmarginError::TooManyBalances)?;
        let before = slot.amount;
        slot.amount = before.checked_add(args.amount as i64).ok_or(XmarginError::AmountTooLarge)?;
        let after = slot.amount;
        if let Some(ledger) = &a.quote_ledger {
            let (added, _) = positive_part_change(before, after);
            PositiveQuote(&mut ledger.load_mut_checked()?.positive_quote_delta).record(added, 0)?;
        }
        let vault_after = a.vault.amount.checked_add(args.amount).ok_or(XmarginError::AmountTooLarge)?;
        emit!(CollateralMoved {
            portfolio: a.portfolio.key(),
            mint: a.mint.key(),
            collateral,
            amount: args.amount as i64,
            balance_before: before,
            balance_after: after,
            vault_balance_after: vault_after,
        });
        Ok(())
    }
}
