//! `liquidate_positions` (permissionless; signed by the owner or delegate of the liquidator's
//! portfolio): the liquidator takes over part of one of an underwater portfolio's positions
//! at the mark less the liquidation discount.
//!
//! Allowed when liquidations are not paused and the target's maintenance health is
//! negative. An option is liquidated only before its expiry (afterwards it waits for its
//! settlement, `settle_expired`) and at marks computed in the same second (`update_marks`
//! for the series first, in the same transaction), so the liquidator cannot choose stale
//! marks whose time value has decayed. A delegate of the liquidator portfolio may sign: the
//! portfolio then takes over risk at the fresh mark less the discount, a price at least as
//! good as the mark, which the delegate slippage bound of `trade` allows. The size is the risk engine's (`crates/risk/src/liquidation.rs`): the least
//! number of lots that brings the target's maintenance health back to the buffer, at most
//! `max_lots`; when even that cannot, all it may, provided the target's health strictly
//! improves (`LiquidationWouldNotImprove` otherwise — pick another position, e.g. not the
//! hedge leg of a spread). The transfer price is rounded to the lot grid in the target's
//! favour, so its health is at least the engine's. The discount is split: the insurance
//! share is paid by the liquidator (accrued in the market, moved to the insurance vault by
//! `sweep_fees`), the rest is its fee. When the target's equity is negative, the whole
//! discount goes to insurance (a deficit's
//! discount is the fund's money: no liquidator, the owner's second portfolio included, earns
//! it). Afterwards
//! the liquidator's initial health must be ≥ 0. The target stays in the liquidation state
//! until a liquidation restores the buffer.
//!
//! Write locks: the target, the liquidator and the market only.
//!
//! Remaining accounts: the target's health accounts (`health.rs` order, leaving out the
//! liquidated underlying, whose market and oracle are named accounts), then the liquidator's
//! (after the transfer; same rule); `target_health_accounts` says where the split is.
use anchor_lang::prelude::*;
use xmargin_risk::collateral::Level;
use xmargin_risk::fx::{from_native, Checked};
use xmargin_risk::liquidation::{
    discount_per_unit, position_mark, HedgeTerms, LiquidationPlan, LiquidationTerms,
};
use xmargin_risk::trading::open_interest_after;
use xmargin_risk::Fx;

use super::{check_liquidator, discount_share_bps, fee_split, price_in_favour, set_liquidation_state};
use crate::error::XmarginError;
use crate::events::PositionsLiquidated;
use crate::health::{
    health_inputs_shared, liquidation_buffer, stable_price, underlying_market, OracleMode, Provided,
    SharedReads,
};
use crate::instructions::positions::{apply_fill, credit_quote, engine, position_slot, PositiveQuote};
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::units::bps;
use crate::state::LoadChecked;
use crate::state::{Exchange, HaircutRegistry, Market, Portfolio, PERP_INSTRUMENT};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidatePositionsArgs {
    /// Option series index in the market, or `PERP_INSTRUMENT` (255).
    pub instrument: u8,
    /// The most lots the liquidator takes over (≥ 1).
    pub max_lots: u64,
    /// How many remaining accounts belong to the target's health (the rest: the liquidator's).
    pub target_health_accounts: u8,
    /// A linked collateral (index) taken over with a short perp, the matching units per lot:
    /// how a cash-and-carry is unwound, both legs together (module docs). `None`: the
    /// position alone.
    pub hedge_collateral: Option<u8>,
}

#[derive(Accounts)]
pub struct LiquidatePositions<'info> {
    /// Owner or delegate of the liquidator portfolio.
    pub liquidator_signer: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(mut, constraint = liquidator.load_checked()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub liquidator: AccountLoader<'info, Portfolio>,
    #[account(mut, constraint = target.load_checked()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub target: AccountLoader<'info, Portfolio>,
    #[account(
        mut,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &[market.load_checked()?.underlying]],
        bump = market.load_checked()?.bump,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the oracle guard checks it against the underlying's oracle configuration.
    pub oracle: UncheckedAccount<'info>,
}

impl LiquidatePositions<'_> {
    pub fn validate(&self, args: &LiquidatePositionsArgs) -> Result<()> {
        check_liquidator(&self.exchange, &self.liquidator, &self.target, &self.liquidator_signer.key())?;
        require!(args.max_lots >= 1, XmarginError::InvalidLiquidationSize);
        let m = self.market.load_checked()?;
        let underlying = u16::from(m.underlying);
        let held = self.target.load_checked()?.position_index(underlying, args.instrument).is_some();
        require!(held, XmarginError::NothingToLiquidate);
        if let Some(c) = args.hedge_collateral {
            let target = self.target.load_checked()?;
            let registry = self.registry.load_checked()?;
            let link = registry.listed_collaterals().get(usize::from(c)).map(|x| x.link);
            let short = target
                .position_index(underlying, args.instrument)
                .is_some_and(|i| target.positions[i].size < 0);
            let ok = args.instrument == PERP_INSTRUMENT
                && short
                && link.is_some_and(|l| l.linked_underlying() == Some(underlying))
                && target.balance(c).is_some_and(|b| b.amount > 0);
            require!(ok, XmarginError::InvalidHedgeCollateral);
        }
        if args.instrument != PERP_INSTRUMENT {
            // An option is transferred at its mark: the liquidator may not pick stale marks
            // (time value that has decayed, or survives past expiry) over fresh ones.
            let now = Clock::get()?.unix_timestamp;
            let series = m.option_series(args.instrument).ok_or(XmarginError::UnknownInstrument)?;
            require!(now < series.expiry, XmarginError::OptionExpired);
            let marks = m.marks.get(usize::from(args.instrument)).ok_or(XmarginError::UnknownInstrument)?;
            require!(marks.computed_at == now, XmarginError::LiquidationMarksNotFresh);
        }
        Ok(())
    }

    pub fn handler<'info>(
        ctx: Context<'info, LiquidatePositions<'info>>,
        args: LiquidatePositionsArgs,
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
        // The plan, from the target's health before.
        let (data, stable, plan, discount, share_bps, hedge) = {
            let registry = a.registry.load_checked()?;
            let m = a.market.load_checked()?;
            let (data, raw) = underlying_market(&registry, &m, &a.oracle, &clock)?;
            let stable = stable_price(&raw)?;
            // Someone else's portfolio: any oracle failure is an error, never a zero valuation.
            let inputs = health_inputs_shared(
                &*a.target.load_checked()?,
                &registry,
                target_accounts,
                &clock,
                Some(Provided { market: data, stable_price: stable, account: &m }),
                OracleMode::Strict,
                &mut reads,
            )?;
            let key = (data.index, args.instrument);
            let index =
                inputs.instruments.iter().position(|k| *k == key).ok_or(XmarginError::NothingToLiquidate)?;
            let mark = engine(position_mark(&inputs.positions[index], &inputs.underlyings, inputs.now))?;
            let discount = engine(discount_per_unit(
                args.instrument != PERP_INSTRUMENT,
                data.spot,
                mark,
                bps(params.discount_bps)?,
                bps(params.option_discount_cap_bps)?,
            ))?;
            let (buffer, buffer_fraction) = liquidation_buffer(&params, quote_decimals)?;
            let terms = LiquidationTerms {
                discount,
                buffer,
                buffer_fraction,
                lot: engine(from_native(1, m.lot_decimals))?,
                max_lots: i64::try_from(args.max_lots).unwrap_or(i64::MAX),
                quote: 0,
            };
            let hedge = match args.hedge_collateral {
                Some(c) => {
                    Some(hedge_terms(&registry, &inputs, c, m.lot_decimals, bps(params.discount_bps)?)?)
                }
                None => None,
            };
            let plan = inputs.liquidation_size(index, terms, hedge.map(|(h, _)| h))?;
            let share = discount_share_bps(&params, plan.equity_before);
            (data, stable, plan, discount, share, hedge)
        };

        let fill = transfer(a, &args, &plan, discount, quote_decimals, share_bps)?;
        let hedge_moved = match hedge {
            Some((h, native_per_lot)) => move_hedge(a, h, native_per_lot, plan.lots, quote_decimals)?,
            None => (0, 0),
        };
        let (liquidator_fee, insurance_fee) = (fill.liquidator_fee, fill.insurance_fee);

        // The liquidator must be able to carry what it took.
        {
            let m = a.market.load_checked()?;
            let inputs = health_inputs_shared(
                &*a.liquidator.load_checked()?,
                &*a.registry.load_checked()?,
                liquidator_accounts,
                &clock,
                Some(Provided { market: data, stable_price: stable, account: &m }),
                OracleMode::Liquidator,
                &mut reads,
            )?;
            require!(inputs.health(Level::Initial)? >= 0, XmarginError::LiquidatorInsufficientHealth);
        }
        set_liquidation_state(&a.target, !plan.restores_buffer)?;

        emit!(PositionsLiquidated {
            target: a.target.key(),
            liquidator: a.liquidator.key(),
            underlying: a.market.load_checked()?.underlying,
            instrument: args.instrument,
            target_size_before: fill.target_before,
            target_size_after: fill.target_after,
            liquidator_size_before: fill.liquidator_before,
            liquidator_size_after: fill.liquidator_after,
            mark_price: fill.mark_price,
            transfer_price: fill.price,
            discount: fill.discount,
            liquidator_fee,
            insurance_fee,
            health_before: plan.health_before.to_bits(),
            health_after: plan.health_after.to_bits(),
            buffer: plan.buffer.to_bits(),
            restores_buffer: plan.restores_buffer,
            hedge_collateral: args.hedge_collateral,
            hedge_amount: hedge_moved.0,
            hedge_payment: hedge_moved.1,
        });
        Ok(())
    }
}

/// The engine's terms of a hedged liquidation with collateral `c` (validated linked to the
/// perp's underlying), and the collateral's native units per lot of the perp:
/// ⌊10^decimals / (ratio × 10^lot_decimals)⌋ (the hedge rounds down, leaving the target a
/// hair more collateral), paid at the health's conservative price less the collateral
/// discount.
fn hedge_terms(
    registry: &HaircutRegistry,
    inputs: &crate::health::HealthInputs,
    c: u8,
    lot_decimals: u8,
    discount_rate: Fx,
) -> Result<(HedgeTerms, u64)> {
    let config = &registry.collaterals[usize::from(c)];
    let ratio = u128::from(config.link.ratio_e9);
    let scale = 10u128.checked_pow(u32::from(config.decimals)).ok_or(XmarginError::AmountTooLarge)?;
    let lot = 10u128.checked_pow(u32::from(lot_decimals)).ok_or(XmarginError::AmountTooLarge)?;
    let denominator = ratio.checked_mul(lot).ok_or(XmarginError::AmountTooLarge)?;
    let native_per_lot = scale
        .checked_mul(1_000_000_000)
        .and_then(|x| x.checked_div(denominator))
        .and_then(|x| u64::try_from(x).ok())
        .filter(|x| *x > 0)
        .ok_or(XmarginError::InvalidHedgeCollateral)?;
    let market = inputs
        .markets
        .iter()
        .find(|m| m.index == u16::from(c))
        .ok_or(XmarginError::InvalidHedgeCollateral)?;
    let price = engine(market.price.mul_c(engine(Fx::ONE.sub_c(discount_rate))?))?;
    let units_per_lot = engine(from_native(i128::from(native_per_lot), config.decimals))?;
    Ok((HedgeTerms { asset: u16::from(c), units_per_lot, price }, native_per_lot))
}

/// Moves the hedge: `lots` × `native_per_lot` of the collateral from the target to the
/// liquidator (both in the exchange's vault: a transfer of balances), paid in quote by the
/// liquidator, rounded up (the target's favour, so its health is at least the engine's).
/// Returns (collateral native units, quote native units).
fn move_hedge(
    a: &LiquidatePositions<'_>,
    hedge: HedgeTerms,
    native_per_lot: u64,
    lots: i64,
    quote_decimals: u8,
) -> Result<(u64, u64)> {
    let registry = a.registry.load_checked()?;
    let mut m = a.market.load_mut_checked()?;
    let mut target = a.target.load_mut_checked()?;
    let mut liquidator = a.liquidator.load_mut_checked()?;
    let c = u8::try_from(hedge.asset).map_err(|_| XmarginError::InvalidHedgeCollateral)?;
    let lots = u64::try_from(lots).map_err(|_| XmarginError::AmountTooLarge)?;
    let amount = native_per_lot.checked_mul(lots).ok_or(XmarginError::AmountTooLarge)?;
    let units =
        engine(hedge.units_per_lot.mul_i(i64::try_from(lots).map_err(|_| XmarginError::AmountTooLarge)?))?;
    let scale = 10i64.checked_pow(u32::from(quote_decimals)).ok_or(XmarginError::AmountTooLarge)?;
    let payment: u64 = engine(engine(units.mul_c(hedge.price))?.mul_i(scale))?.ceil().to_num();
    let from = target.balance_mut_or_insert(c).ok_or(XmarginError::TooManyBalances)?;
    from.amount = from
        .amount
        .checked_sub_unsigned(amount)
        .filter(|x| *x >= 0)
        .ok_or(XmarginError::InvalidHedgeCollateral)?;
    let to = liquidator.balance_mut_or_insert(c).ok_or(XmarginError::TooManyBalances)?;
    to.amount = to.amount.checked_add_unsigned(amount).ok_or(XmarginError::AmountTooLarge)?;
    let signed = i64::try_from(payment).map_err(|_| XmarginError::AmountTooLarge)?;
    let mut sink = PositiveQuote(&mut m.positive_quote_delta);
    credit_quote(&mut target, &registry, &mut sink, signed)?;
    credit_quote(
        &mut liquidator,
        &registry,
        &mut sink,
        signed.checked_neg().ok_or(XmarginError::AmountTooLarge)?,
    )?;
    Ok((amount, payment))
}

/// What the transfer did (sizes in lots; prices quote native per unit; amounts quote native).
struct Fill {
    target_before: i64,
    target_after: i64,
    liquidator_before: i64,
    liquidator_after: i64,
    mark_price: u64,
    price: u64,
    discount: u64,
    liquidator_fee: u64,
    insurance_fee: u64,
}

/// Moves `plan.lots` from the target to the liquidator at mark ∓ discount, like a trade
/// between them (perps settle funding and realize PnL; options move the premium), and charges
/// the liquidator the insurance share of the discount.
fn transfer(
    a: &LiquidatePositions<'_>,
    args: &LiquidatePositionsArgs,
    plan: &LiquidationPlan,
    discount: Fx,
    quote_decimals: u8,
    insurance_share_bps: u16,
) -> Result<Fill> {
    let registry = a.registry.load_checked()?;
    let mut m = a.market.load_mut_checked()?;
    let mut target = a.target.load_mut_checked()?;
    let mut liquidator = a.liquidator.load_mut_checked()?;
    let lots_per_unit = m.lots_per_unit();
    let perp = args.instrument == PERP_INSTRUMENT;
    let t_slot = position_slot(&mut target, &m, args.instrument)?;
    let l_slot = position_slot(&mut liquidator, &m, args.instrument)?;
    let target_before = target.positions[t_slot].size;
    let long = target_before > 0;
    // The target's side of the fill: it sells a long, buys back a short.
    let target_lots =
        if long { plan.lots.checked_neg() } else { Some(plan.lots) }.ok_or(XmarginError::AmountTooLarge)?;
    let liquidator_lots = target_lots.checked_neg().ok_or(XmarginError::AmountTooLarge)?;
    let per_unit = if long { plan.mark.sub_c(discount) } else { plan.mark.add_c(discount) };
    let price = price_in_favour(engine(per_unit)?, quote_decimals, lots_per_unit, long)?;
    let mark_price = price_in_favour(plan.mark, quote_decimals, lots_per_unit, long)?;
    let units = engine(engine(from_native(1, m.lot_decimals))?.mul_i(plan.lots))?;
    let (discount_native, liquidator_fee, insurance_fee) =
        fee_split(engine(units.mul_c(discount))?, quote_decimals, insurance_share_bps)?;

    let mut positive_delta = 0i64;
    let mut sink = PositiveQuote(&mut positive_delta);
    let target_after =
        apply_fill(&mut target, &registry, &mut sink, &m, t_slot, target_lots, price)?.size_after;
    let liquidator_fill =
        apply_fill(&mut liquidator, &registry, &mut sink, &m, l_slot, liquidator_lots, price)?;
    let (liquidator_before, liquidator_after) = (liquidator_fill.size_before, liquidator_fill.size_after);
    credit_quote(
        &mut liquidator,
        &registry,
        &mut sink,
        0i64.checked_sub_unsigned(insurance_fee).ok_or(XmarginError::AmountTooLarge)?,
    )?;
    m.positive_quote_delta =
        m.positive_quote_delta.checked_add(positive_delta).ok_or(XmarginError::AmountTooLarge)?;
    // The insurance share stays in the quote vault, owed to insurance, until `sweep_fees`.
    m.fees_accrued = m.fees_accrued.checked_add(insurance_fee).ok_or(XmarginError::AmountTooLarge)?;

    // Open interest can only fall: the liquidator's position grows by what the target's shrinks.
    let oi_before =
        if perp { m.perp_open_interest } else { m.series[usize::from(args.instrument)].open_interest };
    let oi_after = engine(open_interest_after(
        oi_before,
        target_before,
        target_after,
        liquidator_before,
        liquidator_after,
    ))?;
    if perp {
        m.perp_open_interest = oi_after;
    } else {
        m.series[usize::from(args.instrument)].open_interest = oi_after;
    }
    Ok(Fill {
        target_before,
        target_after,
        liquidator_before,
        liquidator_after,
        mark_price,
        price,
        discount: discount_native,
        liquidator_fee,
        insurance_fee,
    })
}
