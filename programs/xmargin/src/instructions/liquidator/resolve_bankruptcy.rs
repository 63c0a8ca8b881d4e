//! `resolve_bankruptcy` (permissionless): closes the deficit of a portfolio with no positions
//! and no collateral left but a quote liability (negative equity).
//!
//! The insurance vault pays what it can into the quote vault. Any remainder is socialized
//! over every positive quote balance: the registry's `quote_loss_index` is multiplied by
//! (1 − remainder / Σ positive quote balances) and Σ is lowered by the remainder, so no
//! loop over accounts is needed; each portfolio's balance takes the haircut when it is next
//! read or written (`positions::apply_quote_losses`). Always emits `BankruptcyResolved`.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use xmargin_risk::socialized::index_after_loss;

use super::set_liquidation_state;
use crate::error::XmarginError;
use crate::events::BankruptcyResolved;
use crate::instructions::positions::{apply_quote_losses, credit_quote, engine, transfer_quote, QUOTE_INDEX};
use crate::seeds::{EXCHANGE_SEED, REGISTRY_SEED};
use crate::state::{Exchange, HaircutRegistry, Portfolio};

#[derive(Accounts)]
pub struct ResolveBankruptcy<'info> {
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(mut, constraint = portfolio.load()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub portfolio: AccountLoader<'info, Portfolio>,
    #[account(mut, address = registry.load()?.collaterals[0].vault @ XmarginError::VaultMismatch)]
    pub quote_vault: InterfaceAccount<'info, TokenAccount>,
    #[account(mut, address = exchange.load()?.insurance_vault @ XmarginError::InsuranceVaultMismatch)]
    pub insurance_vault: InterfaceAccount<'info, TokenAccount>,
    #[account(address = exchange.load()?.quote_mint @ XmarginError::CollateralNotListed)]
    pub quote_mint: InterfaceAccount<'info, Mint>,
    #[account(address = registry.load()?.collaterals[0].token_program @ XmarginError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl ResolveBankruptcy<'_> {
    pub fn validate(&self) -> Result<()> {
        let p = self.portfolio.load()?;
        require!(p.active_positions().next().is_none(), XmarginError::BankruptcyPositionsRemain);
        let collateral_left = p.active_balances().any(|b| b.collateral != QUOTE_INDEX && b.amount != 0);
        require!(!collateral_left, XmarginError::BankruptcyCollateralRemains);
        require!(p.balance(QUOTE_INDEX).is_some_and(|b| b.amount < 0), XmarginError::NotBankrupt);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &ctx.accounts;
        let deficit = {
            let registry = a.registry.load()?;
            let mut p = a.portfolio.load_mut()?;
            apply_quote_losses(&mut p, &registry)?;
            p.balance(QUOTE_INDEX).map_or(0, |b| b.amount.min(0).unsigned_abs())
        };
        let insurance_paid = deficit.min(a.insurance_vault.amount);
        transfer_quote(
            &a.exchange,
            &a.token_program,
            &a.quote_mint,
            &a.insurance_vault,
            &a.quote_vault,
            insurance_paid,
        )?;
        let socialized = deficit.saturating_sub(insurance_paid);

        let mut registry = a.registry.load_mut()?;
        let total_before = registry.collaterals[usize::from(QUOTE_INDEX)].total_deposits;
        let index_before = registry.quote_loss_index();
        let mut index_after = index_before;
        if socialized > 0 {
            require!(socialized < total_before, XmarginError::LossExceedsDeposits);
            index_after = engine(index_after_loss(index_before, total_before, socialized))?;
            registry.quote_loss_index = index_after.to_bits().to_le_bytes();
            registry.collaterals[usize::from(QUOTE_INDEX)].total_deposits =
                total_before.saturating_sub(socialized);
        }
        let total_after = registry.collaterals[usize::from(QUOTE_INDEX)].total_deposits;
        {
            let mut p = a.portfolio.load_mut()?;
            let signed = i64::try_from(deficit).map_err(|_| XmarginError::AmountTooLarge)?;
            credit_quote(&mut p, &mut registry, signed)?;
            p.quote_loss_snapshot = index_after.to_bits().to_le_bytes();
        }
        drop(registry);
        set_liquidation_state(&a.portfolio, false)?;
        emit!(BankruptcyResolved {
            portfolio: a.portfolio.key(),
            deficit,
            insurance_paid,
            socialized,
            insurance_balance_after: a.insurance_vault.amount.saturating_sub(insurance_paid),
            total_quote_deposits_before: total_before,
            total_quote_deposits_after: total_after,
            loss_index_before: index_before.to_bits(),
            loss_index_after: index_after.to_bits(),
        });
        Ok(())
    }
}
