//! `withdraw` (owner only): moves tokens out of the vault. Afterwards the portfolio's initial
//! health, computed by `crates/risk` with all its collateral (and positions), must be ≥ 0;
//! for a portfolio being liquidated, its maintenance health must also be back at the
//! liquidation buffer (the withdrawal then ends the liquidation state).
//!
//! Remaining accounts: the oracle of every balance with a non-zero stored amount, except the
//! quote asset's, in balance-slot order, then `[market, oracle]` of every underlying with a
//! position, by ascending index (see `health.rs`).
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{transfer_checked, Mint, TokenAccount, TokenInterface, TransferChecked};

use super::collateral_accounts::{listed_collateral, positive_part_change};
use crate::error::XmarginError;
use crate::events::{CollateralMoved, LiquidationStateChanged};
use crate::health::{back_above_buffer, health_inputs, own_totals, OracleMode};
use crate::instructions::positions::{apply_quote_losses, PositiveQuote, QUOTE_INDEX};
use crate::seeds::{EXCHANGE_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{liquidation_state, pause, Exchange, HaircutRegistry, Portfolio, QuoteLedger};
use xmargin_risk::collateral::Level;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct WithdrawArgs {
    /// Native token units.
    pub amount: u64,
}

#[derive(Accounts)]
pub struct Withdraw<'info> {
    pub owner: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    /// The quote asset's ledger, for the quote asset only (`QuoteLedgerMismatch`): a
    /// non-quote deposit or withdrawal writes no account shared beyond its asset's vault.
    #[account(mut, address = exchange.load_checked()?.quote_ledger @ XmarginError::QuoteLedgerMismatch)]
    pub quote_ledger: Option<AccountLoader<'info, QuoteLedger>>,
    #[account(
        mut,
        has_one = owner @ XmarginError::NotPortfolioOwner,
        constraint = portfolio.load_checked()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch
    )]
    pub portfolio: AccountLoader<'info, Portfolio>,
    #[account(mint::token_program = token_program)]
    pub mint: InterfaceAccount<'info, Mint>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub destination: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Withdraw<'_> {
    pub fn validate(&self, args: &WithdrawArgs) -> Result<()> {
        require!(
            !self.exchange.load_checked()?.is_paused(pause::WITHDRAWALS),
            XmarginError::WithdrawalsPaused
        );
        require!(args.amount > 0, XmarginError::ZeroAmount);
        let registry = self.registry.load_checked()?;
        let index =
            listed_collateral(&registry, &self.mint.key(), &self.vault.key(), &self.token_program.key())?;
        require!((index == QUOTE_INDEX) == self.quote_ledger.is_some(), XmarginError::QuoteLedgerMismatch);
        let portfolio = self.portfolio.load_checked()?;
        let balance = portfolio.balance(index).map_or(0, |b| b.amount);
        require!(balance > 0 && args.amount <= balance.unsigned_abs(), XmarginError::InsufficientBalance);
        Ok(())
    }

    pub fn handler<'info>(ctx: Context<'info, Withdraw<'info>>, args: WithdrawArgs) -> Result<()> {
        let a = &ctx.accounts;
        let mint = a.mint.key();
        apply_quote_losses(&mut *a.portfolio.load_mut_checked()?, &*a.registry.load_checked()?)?;
        let (collateral, before, after, cleared) = {
            let registry = a.registry.load_checked()?;
            let portfolio = a.portfolio.load_checked()?;
            let index = registry.collateral_index(&mint).ok_or(XmarginError::CollateralNotListed)?;
            let collateral = u8::try_from(index).map_err(|_| XmarginError::CollateralNotListed)?;
            let before = portfolio.balance(collateral).map_or(0, |b| b.amount);
            // amount ≤ balance ≤ i64::MAX (validated), so the cast and subtraction are exact.
            let after = before.checked_sub(args.amount as i64).ok_or(XmarginError::InsufficientBalance)?;
            // After socialized losses the balance may be below the amount validated.
            require!(after >= 0, XmarginError::InsufficientBalance);
            let clock = Clock::get()?;
            let inputs = health_inputs(
                &portfolio,
                &registry,
                ctx.remaining_accounts,
                &clock,
                Some((collateral, after)),
                None,
                OracleMode::Lenient,
            )?;
            // A portfolio being liquidated withdraws only once back at the buffer (and leaves
            // that state); otherwise initial health ≥ 0 is enough.
            let cleared = portfolio.is_being_liquidated();
            if cleared {
                let exchange = a.exchange.load_checked()?;
                let back = back_above_buffer(&inputs, &exchange.liquidation, exchange.quote_decimals)?;
                require!(back, XmarginError::PortfolioInLiquidation);
            } else {
                let health = inputs.health(Level::Initial)?;
                if health < 0 {
                    // What the trader will ask: by how much. Before and after, with the
                    // requirement (the same before and after: only collateral moves).
                    let before = own_totals(&portfolio, &registry, ctx.remaining_accounts, &clock)?;
                    msg!(
                        "withdrawing {} of collateral {}: initial health {} -> {} (requirement {})",
                        args.amount,
                        collateral,
                        before.initial_health,
                        health,
                        before.initial_requirement
                    );
                    return err!(XmarginError::InsufficientHealth);
                }
            }
            (collateral, before, after, cleared)
        };
        let bump = a.exchange.load_checked()?.bump;
        transfer_checked(
            CpiContext::new_with_signer(
                a.token_program.key(),
                TransferChecked {
                    from: a.vault.to_account_info(),
                    mint: a.mint.to_account_info(),
                    to: a.destination.to_account_info(),
                    authority: a.exchange.to_account_info(),
                },
                &[&[EXCHANGE_SEED, &[bump]]],
            ),
            args.amount,
            a.mint.decimals,
        )?;
        let mut portfolio = a.portfolio.load_mut_checked()?;
        if cleared {
            portfolio.liquidation_state = liquidation_state::NORMAL;
            emit!(LiquidationStateChanged { portfolio: a.portfolio.key(), being_liquidated: false });
        }
        let slot = portfolio.balance_mut_or_insert(collateral).ok_or(XmarginError::TooManyBalances)?;
        slot.amount = after;
        if let Some(ledger) = &a.quote_ledger {
            let (_, removed) = positive_part_change(before, after);
            PositiveQuote(&mut ledger.load_mut_checked()?.positive_quote_delta).record(0, removed)?;
        }
        let vault_after = a.vault.amount.saturating_sub(args.amount);
        emit!(CollateralMoved {
            portfolio: a.portfolio.key(),
            mint,
            collateral,
            amount: after.saturating_sub(before),
            balance_before: before,
            balance_after: after,
            vault_balance_after: vault_after,
        });
        Ok(())
    }
}
