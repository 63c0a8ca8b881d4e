//! `initialize_exchange`: creates the `Exchange` singleton and its insurance vault.
//!
//! Only the program's upgrade authority can call it (it proves who deployed the program),
//! so nobody can front-run the deployment and install their own governance key.
use anchor_lang::prelude::*;
use anchor_lang::Discriminator;
use anchor_spl::token::{self, InitializeAccount3, Mint, Token, TokenAccount};

use crate::error::XmarginError;
use crate::events::ExchangeInitialized;
use crate::oracle::{kind, OracleConfig};
use crate::seeds::{EXCHANGE_SEED, INSURANCE_VAULT_SEED, QUOTE_LEDGER_SEED, REGISTRY_SEED, VAULT_SEED};
use crate::state::{
    CollateralConfig, CollateralLink, Exchange, Haircut, HaircutRegistry, QuoteLedger, BPS,
    MAX_TIMELOCK_DELAY_SECS, MAX_WEIGHT_STEP_BPS, MIN_TIMELOCK_DELAY_SECS, QUOTE_LEDGER_VERSION,
    REGISTRY_VERSION,
};
use crate::utils::{create_pda_account, create_token_account, create_zero_copy_account};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct InitializeExchangeArgs {
    /// Authority for loosening (timelocked) risk changes and listings.
    pub governance: Pubkey,
    /// Tighten-only authority (pauses, lower weights), applied at once.
    pub guardian: Pubkey,
    /// Seconds between a loosening proposal and its execution, in
    /// `[MIN_TIMELOCK_DELAY_SECS, MAX_TIMELOCK_DELAY_SECS]`.
    pub timelock_delay_secs: i64,
    /// Deposit cap of the quote asset (collateral 0), native units.
    pub quote_deposit_cap: u64,
    /// Largest move of a weight per timelocked change, bps in 1..=MAX_WEIGHT_STEP_BPS.
    pub max_weight_step_bps: u16,
}

#[derive(Accounts)]
pub struct InitializeExchange<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub upgrade_authority: Signer<'info>,
    #[account(
        constraint = program.programdata_address()? == Some(program_data.key())
            @ XmarginError::ProgramDataMismatch
    )]
    pub program: Program<'info, crate::program::Xmargin>,
    #[account(
        constraint = program_data.upgrade_authority_address == Some(upgrade_authority.key())
            @ XmarginError::NotUpgradeAuthority
    )]
    pub program_data: Account<'info, ProgramData>,
    /// CHECK: the exchange PDA, created by this instruction (seeds checked here, emptiness
    /// in `validate`, so a second call gets `ExchangeAlreadyInitialized`).
    #[account(mut, seeds = [EXCHANGE_SEED], bump)]
    pub exchange: UncheckedAccount<'info>,
    /// CHECK: the insurance vault PDA, created by this instruction as a token account of
    /// `quote_mint` whose authority is the exchange PDA.
    #[account(mut, seeds = [INSURANCE_VAULT_SEED, exchange.key().as_ref()], bump)]
    pub insurance_vault: UncheckedAccount<'info>,
    /// CHECK: the haircut registry PDA, created by this instruction.
    #[account(mut, seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump)]
    pub registry: UncheckedAccount<'info>,
    /// CHECK: the quote asset's ledger PDA (its shard of Σ positive quote balances), created
    /// by this instruction.
    #[account(mut, seeds = [QUOTE_LEDGER_SEED, exchange.key().as_ref()], bump)]
    pub quote_ledger: UncheckedAccount<'info>,
    /// CHECK: the quote asset's collateral vault PDA, created by this instruction.
    #[account(mut, seeds = [VAULT_SEED, exchange.key().as_ref(), quote_mint.key().as_ref()], bump)]
    pub quote_vault: UncheckedAccount<'info>,
    pub quote_mint: Account<'info, Mint>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl InitializeExchange<'_> {
    pub fn validate(&self, args: &InitializeExchangeArgs) -> Result<()> {
        let exchange = self.exchange.to_account_info();
        require!(
            exchange.data_is_empty() && exchange.owner == &System::id(),
            XmarginError::ExchangeAlreadyInitialized
        );
        require!(args.quote_deposit_cap > 0, XmarginError::InvalidDepositCap);
        require!(
            (1..=MAX_WEIGHT_STEP_BPS).contains(&args.max_weight_step_bps),
            XmarginError::InvalidWeightStep
        );
        require!(
            args.governance != Pubkey::default()
                && args.guardian != Pubkey::default()
                && args.governance != args.guardian,
            XmarginError::InvalidAuthorities
        );
        require!(
            (MIN_TIMELOCK_DELAY_SECS..=MAX_TIMELOCK_DELAY_SECS).contains(&args.timelock_delay_secs),
            XmarginError::TimelockDelayOutOfRange
        );
        Ok(())
    }
}

impl InitializeExchange<'_> {
    pub fn handler(ctx: Context<Self>, args: InitializeExchangeArgs) -> Result<()> {
        let accounts = &ctx.accounts;
        let payer = accounts.payer.to_account_info();
        let exchange_info = accounts.exchange.to_account_info();
        let vault_info = accounts.insurance_vault.to_account_info();
        let exchange_bump = ctx.bumps.exchange;
        let vault_bump = ctx.bumps.insurance_vault;

        create_pda_account(
            &payer,
            &exchange_info,
            Exchange::SPACE,
            &crate::ID,
            &[EXCHANGE_SEED, &[exchange_bump]],
        )?;
        exchange_info.try_borrow_mut_data()?[..8].copy_from_slice(Exchange::DISCRIMINATOR);

        let exchange_key = exchange_info.key();
        create_pda_account(
            &payer,
            &vault_info,
            TokenAccount::LEN,
            &token::ID,
            &[INSURANCE_VAULT_SEED, exchange_key.as_ref(), &[vault_bump]],
        )?;
        token::initialize_account3(CpiContext::new(
            token::ID,
            InitializeAccount3 {
                account: vault_info.clone(),
                mint: accounts.quote_mint.to_account_info(),
                authority: exchange_info.clone(),
            },
        ))?;

        // Genesis listing: the quote asset is the unit of account, worth exactly 1 quote
        // unit, so it lists at weight 1 here instead of at 0 through the timelock.
        let quote_mint_info = accounts.quote_mint.to_account_info();
        let quote_vault_info = accounts.quote_vault.to_account_info();
        let quote_mint_key = quote_mint_info.key();
        let quote_vault_bump = ctx.bumps.quote_vault;
        create_token_account(
            &payer,
            &quote_vault_info,
            &quote_mint_info,
            &exchange_info,
            &token::ID,
            &[VAULT_SEED, exchange_key.as_ref(), quote_mint_key.as_ref(), &[quote_vault_bump]],
        )?;
        let registry_info = accounts.registry.to_account_info();
        let registry_bump = ctx.bumps.registry;
        create_zero_copy_account(
            &payer,
            &registry_info,
            HaircutRegistry::SPACE,
            HaircutRegistry::DISCRIMINATOR,
            &[REGISTRY_SEED, exchange_key.as_ref(), &[registry_bump]],
        )?;
        {
            let mut data = registry_info.try_borrow_mut_data()?;
            let registry: &mut HaircutRegistry =
                bytemuck::from_bytes_mut(&mut data[8..HaircutRegistry::SPACE]);
            registry.version = REGISTRY_VERSION;
            registry.bump = registry_bump;
            registry.exchange = exchange_key;
            registry.collateral_count = 1;
            registry.collaterals[0] = CollateralConfig {
                mint: quote_mint_key,
                vault: quote_vault_info.key(),
                token_program: token::ID,
                oracle: OracleConfig { kind: kind::QUOTE, ..OracleConfig::default() },
                haircut: Haircut {
                    initial_asset_weight_bps: BPS,
                    maintenance_asset_weight_bps: BPS,
                    initial_liability_weight_bps: BPS,
                    maintenance_liability_weight_bps: BPS,
                    ..Haircut::default()
                },
                deposit_cap: args.quote_deposit_cap,
                total_deposits: 0,
                decimals: accounts.quote_mint.decimals,
                vault_bump: quote_vault_bump,
                reduce_only: 0,
                _padding: [0; 5],
                link: CollateralLink::default(),
                reserved: [0; 16],
            };
        }

        let ledger_info = accounts.quote_ledger.to_account_info();
        let ledger_bump = ctx.bumps.quote_ledger;
        create_zero_copy_account(
            &payer,
            &ledger_info,
            QuoteLedger::SPACE,
            QuoteLedger::DISCRIMINATOR,
            &[QUOTE_LEDGER_SEED, exchange_key.as_ref(), &[ledger_bump]],
        )?;
        {
            let mut data = ledger_info.try_borrow_mut_data()?;
            let ledger: &mut QuoteLedger = bytemuck::from_bytes_mut(&mut data[8..QuoteLedger::SPACE]);
            ledger.version = QUOTE_LEDGER_VERSION;
            ledger.bump = ledger_bump;
            ledger.exchange = exchange_key;
        }

        let now = Clock::get()?.unix_timestamp;
        let mut data = exchange_info.try_borrow_mut_data()?;
        let exchange: &mut Exchange = bytemuck::from_bytes_mut(&mut data[8..Exchange::SPACE]);
        exchange.initialize(
            args.governance,
            args.guardian,
            accounts.quote_mint.key(),
            accounts.quote_mint.decimals,
            vault_info.key(),
            exchange_bump,
            vault_bump,
            args.timelock_delay_secs,
            now,
            args.max_weight_step_bps,
        );
        exchange.quote_ledger = ledger_info.key();

        emit!(ExchangeInitialized {
            exchange: exchange_key,
            governance: args.governance,
            guardian: args.guardian,
            quote_mint: exchange.quote_mint,
            insurance_vault: exchange.insurance_vault,
            timelock_delay_secs: args.timelock_delay_secs,
            created_at: now,
        });
        Ok(())
    }
}
