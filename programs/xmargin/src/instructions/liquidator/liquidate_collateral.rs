//! `liquidate_collateral` (permissionless; signed by the owner or delegate of the
//! liquidator's portfolio): the liquidator repays part of an underwater portfolio's quote
//! liability and receives one of its collateral assets at the oracle price less the
//! liquidation discount.
//!
//! Allowed when liquidations are not paused, the target's maintenance health is negative
//! and its quote cash is a liability (its quote balance plus its perps' cost bases and
//! funding, as health counts it). The amount is the risk engine's: the least that
//! brings maintenance health back to the buffer, at most `max_amount`, the target's balance,
//! and what repays the whole liability; when the buffer is out of reach, all it may, provided
//! health strictly improves. One discount rate for every asset, on the collateral's value
//! only (not the sum of an asset and a liability rate), so a liquidator gains nothing by
//! picking the riskiest collateral. The repayment is rounded up (in the target's favour);
//! the liquidator pays the insurance share of the discount (all of it when the target's
//! equity is negative; accrued in the quote ledger and moved to the insurance vault by
//! `sweep_fees`) and must keep initial health ≥ 0. Writes the target, the liquidator and the
//! quote ledger only.
//!
//! Remaining accounts: the target's health accounts (`health.rs` order, before the call),
//! then the liquidator's (after the call: the received collateral's oracle in its balance
//! slot's place); `target_health_accounts` says where the split is.
use anchor_lang::prelude::*;
use xmargin_risk::collateral::Level;
use xmargin_risk::fx::{from_mantissa, to_native_ceil, to_native_floor};
use xmargin_risk::liquidation::{CollateralLiquidationPlan, CollateralLiquidationTerms};

use super::{check_liquidator, discount_share_bps, fee_split, set_liquidation_state};
use crate::error::XmarginError;
use crate::events::CollateralLiquidated;
use crate::health::{health_inputs_shared, liquidation_buffer, OracleMode, SharedReads};
use crate::instructions::positions::{credit_quote, engine, PositiveQuote, QUOTE_INDEX};
use crate::oracle::read_price;
use crate::seeds::{EXCHANGE_SEED, REGISTRY_SEED};
use crate::state::units::bps;
use crate::state::LoadChecked;
use crate::state::{Exchange, HaircutRegistry, Portfolio, QuoteLedger};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidateCollateralArgs {
    /// Index of the collateral taken (not the quote asset).
    pub collateral: u8,
    /// The most native units of it the liquidator takes (≥ 1).
    pub max_amount: u64,
    /// How many remaining accounts belong to the target's health (the rest: the liquidator's).
    pub target_health_accounts: u8,
}

#[derive(Accounts)]
pub struct LiquidateCollateral<'info> {
    /// Owner or delegate of the liquidator portfolio.
    pub liquidator_signer: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    /// The quote asset's ledger: the repayment's change of Σ positive quote balances and the
    /// insurance share (accrued, moved by `sweep_fees`).
    #[account(mut, address = exchange.load_checked()?.quote_ledger @ XmarginError::QuoteLedgerMismatch)]
    pub quote_ledger: AccountLoader<'info, QuoteLedger>,
    #[account(mut, constraint = liquidator.load_checked()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub liquidator: AccountLoader<'info, Portfolio>,
    #[account(mut, constraint = target.load_checked()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub target: AccountLoader<'info, Portfolio>,
    /// CHECK: the oracle guard checks it against the collateral's oracle configuration.
    pub oracle: UncheckedAccount<'info>,
}

impl LiquidateCollateral<'_> {
    pub fn validate(&self, args: &LiquidateCollateralArgs) -> Result<()> {
        check_liquidator(&self.exchange, &self.liquidator, &self.target, &self.liquidator_signer.key())?;
        require!(args.max_amount >= 1, XmarginError::InvalidLiquidationSize);
        let listed = usize::from(args.collateral) < self.registry.load_checked()?.listed_collaterals().len();
        require!(listed && args.collateral != QUOTE_INDEX, XmarginError::InvalidLiquidationCollateral);
        let held = self.target.load_checked()?.balance(args.collateral).is_some_and(|b| b.amount > 0);
        require!(held, XmarginError::NothingToLiquidate);
        Ok(())
    }

    pub fn handler<'info>(
        ctx: Context<'info, LiquidateCollateral<'info>>,
        args: LiquidateCollateralArgs,
    ) -> Result<()> {
        let a = &ctx.accounts;
        let clock = Clock::get()?;
        let split = usize::from(args.target_health_accounts);
        require!(split <= ctx.remaining_accounts.len(), XmarginError::InvalidHealthAccountSplit);
        let (target_accounts, liquidator_accounts) = ctx.remaining_accounts.split_at(split);
        let quote_decimals = a.exchange.load_checked()?.quote_decimals;
        let params = a.exchange.load_checked()?.liquidation;

        // The oracle, scenario and collateral reads of the target's health, reused for the liquidator's.
        let mut reads = SharedReads::default();
        let (plan, price, share_bps) = {
            let registry = a.registry.load_checked()?;
            let config = &registry.collaterals[usize::from(args.collateral)];
            let p = read_price(&a.oracle, &config.oracle, &clock)?;
            let price = engine(from_mantissa(p.price, p.expo))?;
            // Someone else's portfolio: any oracle failure is an error, never a zero valuation.
            let target = a.target.load_checked()?;
            let inputs = health_inputs_shared(
                &target,
                &registry,
                target_accounts,
                &clock,
                None,
                OracleMode::Strict,
                &mut reads,
            )?;
            let (buffer, buffer_fraction) = liquidation_buffer(&params, quote_decimals)?;
            let terms = CollateralLiquidationTerms {
                asset: u16::from(args.collateral),
                quote: u16::from(QUOTE_INDEX),
                price,
                discount_rate: bps(params.discount_bps)?,
                buffer,
                buffer_fraction,
                decimals: config.decimals,
                max_lots: i64::try_from(args.max_amount).unwrap_or(i64::MAX),
            };
            let plan = inputs.collateral_liquidation_size(terms)?;
            let share = discount_share_bps(&params, plan.equity_before);
            (plan, price, share)
        };

        let moved = transfer(a, &args, &plan, quote_decimals, share_bps)?;
        {
            let inputs = health_inputs_shared(
                &*a.liquidator.load_checked()?,
                &*a.registry.load_checked()?,
                liquidator_accounts,
                &clock,
                None,
                OracleMode::Liquidator,
                &mut reads,
            )?;
            require!(inputs.health(Level::Initial)? >= 0, XmarginError::LiquidatorInsufficientHealth);
        }
        set_liquidation_state(&a.target, !plan.restores_buffer)?;

        emit!(CollateralLiquidated {
            target: a.target.key(),
            liquidator: a.liquidator.key(),
            collateral: args.collateral,
            amount: moved.amount,
            repaid: moved.repaid,
            price: engine(to_native_floor(price, quote_decimals))?,
            discount: moved.discount,
            liquidator_fee: moved.liquidator_fee,
            insurance_fee: moved.insurance_fee,
            health_before: plan.health_before.to_bits(),
            health_after: plan.health_after.to_bits(),
            buffer: plan.buffer.to_bits(),
            restores_buffer: plan.restores_buffer,
        });
        Ok(())
    }
}

/// Native amounts moved: collateral, quote repaid, discount and the insurance share.
struct Moved {
    amount: u64,
    repaid: u64,
    discount: u64,
    liquidator_fee: u64,
    insurance_fee: u64,
}

/// The collateral moves from the target to the liquidator (Σ positive balances unchanged);
/// the repayment from the liquidator's quote balance to the target's; the liquidator is
/// charged the insurance share.
fn transfer(
    a: &LiquidateCollateral<'_>,
    args: &LiquidateCollateralArgs,
    plan: &CollateralLiquidationPlan,
    quote_decimals: u8,
    insurance_share_bps: u16,
) -> Result<Moved> {
    let registry = a.registry.load_checked()?;
    let mut target = a.target.load_mut_checked()?;
    let mut liquidator = a.liquidator.load_mut_checked()?;
    let amount = u64::try_from(plan.lots).map_err(|_| XmarginError::AmountTooLarge)?;
    let signed = i64::try_from(amount).map_err(|_| XmarginError::AmountTooLarge)?;
    // The repayment, rounded up (the target's favour). The engine caps it at the target's
    // quote liability as health counts it (its balance plus its perps' cost bases).
    let repaid = engine(to_native_ceil(plan.repay, quote_decimals))?;
    let (discount, liquidator_fee, insurance_fee) =
        fee_split(plan.discount, quote_decimals, insurance_share_bps)?;

    let t = target.balance_mut_or_insert(args.collateral).ok_or(XmarginError::TooManyBalances)?;
    t.amount = t.amount.checked_sub(signed).filter(|x| *x >= 0).ok_or(XmarginError::InsufficientBalance)?;
    let l = liquidator.balance_mut_or_insert(args.collateral).ok_or(XmarginError::TooManyBalances)?;
    l.amount = l.amount.checked_add(signed).ok_or(XmarginError::AmountTooLarge)?;
    let repaid_signed = i64::try_from(repaid).map_err(|_| XmarginError::AmountTooLarge)?;
    let mut ledger = a.quote_ledger.load_mut_checked()?;
    let mut sink = PositiveQuote(&mut ledger.positive_quote_delta);
    credit_quote(&mut target, &registry, &mut sink, repaid_signed)?;
    let paid = repaid.checked_add(insurance_fee).ok_or(XmarginError::AmountTooLarge)?;
    credit_quote(
        &mut liquidator,
        &registry,
        &mut sink,
        0i64.checked_sub_unsigned(paid).ok_or(XmarginError::AmountTooLarge)?,
    )?;
    // The insurance share stays in the quote vault, owed to insurance, until `sweep_fees`.
    ledger.fees_accrued =
        ledger.fees_accrued.checked_add(insurance_fee).ok_or(XmarginError::AmountTooLarge)?;
    Ok(Moved { amount, repaid, discount, liquidator_fee, insurance_fee })
}
