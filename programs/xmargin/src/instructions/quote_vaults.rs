//! [`QuoteVaults`]: the quote vault and the insurance vault, with the mint and token program
//! that move quote between them — the account block every instruction that pays into or out
//! of the insurance fund takes (`sweep_fees`, `resolve_bankruptcy`), checked in one place.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{transfer_checked, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::error::XmarginError;
use crate::seeds::EXCHANGE_SEED;
use crate::state::{Exchange, HaircutRegistry, LoadChecked};

/// Nested in an instruction's accounts as
/// `#[account(constraint = vaults.check(&exchange, &registry)?)] pub vaults: QuoteVaults<'info>`
/// (the check needs the exchange and the registry, which are the parent's accounts). On the
/// wire and in the IDL these are four accounts in this order, under `vaults`.
#[derive(Accounts)]
pub struct QuoteVaults<'info> {
    /// The quote asset's vault (`HaircutRegistry::collaterals[0].vault`): `VaultMismatch`.
    #[account(mut)]
    pub quote_vault: InterfaceAccount<'info, TokenAccount>,
    /// The exchange's insurance vault (`Exchange::insurance_vault`): `InsuranceVaultMismatch`.
    #[account(mut)]
    pub insurance_vault: InterfaceAccount<'info, TokenAccount>,
    /// The exchange's quote mint: `CollateralNotListed`.
    pub quote_mint: InterfaceAccount<'info, Mint>,
    /// The quote asset's token program: `TokenProgramMismatch`.
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> QuoteVaults<'info> {
    /// `Ok(true)` when these are `exchange`'s quote vault, insurance vault, quote mint and the
    /// quote's token program; each mismatch its own error (the `bool` lets it stand as an
    /// Anchor `constraint`).
    pub fn check(
        &self,
        exchange: &AccountLoader<'info, Exchange>,
        registry: &AccountLoader<'info, HaircutRegistry>,
    ) -> Result<bool> {
        let (exchange, registry) = (exchange.load_checked()?, registry.load_checked()?);
        let quote = registry.collaterals.first().ok_or(XmarginError::CollateralNotListed)?;
        require_keys_eq!(self.quote_vault.key(), quote.vault, XmarginError::VaultMismatch);
        require_keys_eq!(
            self.insurance_vault.key(),
            exchange.insurance_vault,
            XmarginError::InsuranceVaultMismatch
        );
        require_keys_eq!(self.quote_mint.key(), exchange.quote_mint, XmarginError::CollateralNotListed);
        require_keys_eq!(self.token_program.key(), quote.token_program, XmarginError::TokenProgramMismatch);
        Ok(true)
    }

    /// Moves `amount` quote native units from the quote vault to the insurance vault.
    pub fn pay_insurance(&self, exchange: &AccountLoader<'info, Exchange>, amount: u64) -> Result<()> {
        self.transfer(exchange, &self.quote_vault, &self.insurance_vault, amount)
    }

    /// Moves `amount` quote native units from the insurance vault to the quote vault.
    pub fn draw_insurance(&self, exchange: &AccountLoader<'info, Exchange>, amount: u64) -> Result<()> {
        self.transfer(exchange, &self.insurance_vault, &self.quote_vault, amount)
    }

    /// Re-reads both vaults' balances after a transfer.
    pub fn reload(&mut self) -> Result<()> {
        self.quote_vault.reload()?;
        self.insurance_vault.reload()
    }

    fn transfer(
        &self,
        exchange: &AccountLoader<'info, Exchange>,
        from: &InterfaceAccount<'info, TokenAccount>,
        to: &InterfaceAccount<'info, TokenAccount>,
        amount: u64,
    ) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let bump = exchange.load_checked()?.bump;
        transfer_checked(
            CpiContext::new_with_signer(
                self.token_program.key(),
                TransferChecked {
                    from: from.to_account_info(),
                    mint: self.quote_mint.to_account_info(),
                    to: to.to_account_info(),
                    authority: exchange.to_account_info(),
                },
                &[&[EXCHANGE_SEED, &[bump]]],
            ),
            amount,
            self.quote_mint.decimals,
        )
    }
}
