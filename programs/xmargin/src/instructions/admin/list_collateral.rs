//! `list_collateral` (governance): adds a collateral asset to the registry and creates its
//! vault and its insurance account (which receives the asset when a bankruptcy resolution
//! takes over an insolvent portfolio's leftover collateral). A new listing always has initial
//! asset weight 0: it can be deposited, withdrawn and counted for maintenance, but it backs no
//! new risk until a timelocked change loosens it.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenInterface};

use crate::error::XmarginError;
use crate::events::CollateralListed;
use crate::oracle::OracleConfig;
use crate::seeds::{EXCHANGE_SEED, INSURANCE_SEED, REGISTRY_SEED, VAULT_SEED};
use crate::state::LoadChecked;
use crate::state::{CollateralConfig, CollateralLink, Exchange, Haircut, HaircutRegistry, MAX_COLLATERALS};
use crate::utils::{create_token_account, is_uninitialized};

/// Base size of an SPL mint; a Token-2022 mint with extensions is larger.
const BASE_MINT_LEN: usize = 82;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ListCollateralArgs {
    pub oracle: OracleConfig,
    /// Must have `initial_asset_weight_bps == 0` (and initial tier weights 0).
    pub haircut: Haircut,
    /// Native units.
    pub deposit_cap: u64,
}

#[derive(Accounts)]
pub struct ListCollateral<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub governance: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(mint::token_program = token_program)]
    pub mint: InterfaceAccount<'info, Mint>,
    /// CHECK: the vault PDA, created here (seeds checked).
    #[account(mut, seeds = [VAULT_SEED, exchange.key().as_ref(), mint.key().as_ref()], bump)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: the insurance account PDA, created here (seeds checked).
    #[account(mut, seeds = [INSURANCE_SEED, exchange.key().as_ref(), mint.key().as_ref()], bump)]
    pub insurance_vault: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl ListCollateral<'_> {
    pub fn validate(&self, args: &ListCollateralArgs) -> Result<()> {
        require_keys_eq!(
            self.governance.key(),
            self.exchange.load_checked()?.governance,
            XmarginError::NotGovernance
        );
        let registry = self.registry.load_checked()?;
        require!(
            registry.collateral_index(&self.mint.key()).is_none(),
            XmarginError::CollateralAlreadyListed
        );
        require!(usize::from(registry.collateral_count) < MAX_COLLATERALS, XmarginError::RegistryFull);
        require!(is_uninitialized(&self.vault), XmarginError::CollateralAlreadyListed);
        require!(is_uninitialized(&self.insurance_vault), XmarginError::CollateralAlreadyListed);
        require!(
            self.mint.to_account_info().data_len() == BASE_MINT_LEN,
            XmarginError::UnsupportedMintExtensions
        );
        args.oracle.validate()?;
        let h = &args.haircut;
        require!(h.is_valid(), XmarginError::InvalidHaircut);
        let tiers = &h.tiers[..usize::from(h.tier_count)];
        require!(
            h.initial_asset_weight_bps == 0 && tiers.iter().all(|t| t.initial_weight_bps == 0),
            XmarginError::ListingMustStartAtZeroWeight
        );
        require!(args.deposit_cap > 0, XmarginError::InvalidDepositCap);
        Ok(())
    }
}

impl ListCollateral<'_> {
    pub fn handler(ctx: Context<Self>, args: ListCollateralArgs) -> Result<()> {
        let accounts = &ctx.accounts;
        let exchange_key = accounts.exchange.key();
        let mint_key = accounts.mint.key();
        let vault_bump = ctx.bumps.vault;
        create_token_account(
            &accounts.payer.to_account_info(),
            &accounts.vault.to_account_info(),
            &accounts.mint.to_account_info(),
            &accounts.exchange.to_account_info(),
            &accounts.token_program.key(),
            &[VAULT_SEED, exchange_key.as_ref(), mint_key.as_ref(), &[vault_bump]],
        )?;
        create_token_account(
            &accounts.payer.to_account_info(),
            &accounts.insurance_vault.to_account_info(),
            &accounts.mint.to_account_info(),
            &accounts.exchange.to_account_info(),
            &accounts.token_program.key(),
            &[INSURANCE_SEED, exchange_key.as_ref(), mint_key.as_ref(), &[ctx.bumps.insurance_vault]],
        )?;
        let mut registry = accounts.registry.load_mut_checked()?;
        let index = registry.collateral_count;
        registry.collaterals[usize::from(index)] = CollateralConfig {
            mint: mint_key,
            vault: accounts.vault.key(),
            token_program: accounts.token_program.key(),
            oracle: args.oracle,
            haircut: args.haircut,
            deposit_cap: args.deposit_cap,
            total_deposits: 0,
            decimals: accounts.mint.decimals,
            vault_bump,
            reduce_only: 0,
            _padding: [0; 5],
            link: CollateralLink::default(),
            reserved: [0; 16],
        };
        registry.collateral_count = index.checked_add(1).ok_or(XmarginError::RegistryFull)?;
        emit!(CollateralListed {
            mint: mint_key,
            index,
            vault: accounts.vault.key(),
            insurance_vault: accounts.insurance_vault.key(),
            oracle_kind: args.oracle.kind,
            maintenance_asset_weight_bps: args.haircut.maintenance_asset_weight_bps,
            deposit_cap: args.deposit_cap,
        });
        Ok(())
    }
}
