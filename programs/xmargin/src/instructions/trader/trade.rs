//! `trade`: a bilateral fill (block trade / RFQ) of one instrument, signed by both sides'
//! owners or delegates. The taker buys `size_lots` (sells when negative) from the maker at
//! `price`; both portfolios get offsetting positions, so every instrument's sizes sum to zero.
//!
//! Checks: trading not paused, distinct portfolios, authorised signers, size and tick, the
//! instrument listed and (options) not expired, the price within the band around the oracle
//! (perps) or the Black-Scholes model price ± a band of spot (options), reduce-only and
//! open-interest caps. Effects: perps settle funding, then realize PnL pro rata on reduction;
//! options move the premium; both sides pay fees, which accrue in the market and move to the
//! insurance vault with the permissionless `sweep_fees`.
//!
//! Write locks: the two portfolios and the traded market only (the registry is read; the
//! change of Σ positive quote balances is the market's `positive_quote_delta`), so trades in
//! different markets run in parallel (docs/scaling.md).
//!
//! Health gate, per side (`check_health`): initial health ≥ 0 afterwards is enough (for a
//! portfolio being liquidated: back at the liquidation buffer, which ends that state).
//! Otherwise the trade may not lower the portfolio's health — value minus requirement, so
//! the cash the fill cost counts — at either level (initial and maintenance, same prices),
//! and a portfolio left below maintenance health may only fill at the venue's mark or better
//! (within one tick): an unhealthy portfolio cannot hand its equity to a counterparty (a
//! colluding second portfolio) at the edge of the band and leave the loss to the insurance
//! fund. A trade that reduces risk at a fair price always passes, the last lot included.
//! Failures log both healths before and after (`msg!`).
//!
//! Delegates: a side signed by the portfolio's delegate (not its owner) must fill within the
//! owner's `delegate_max_slippage_bps` of the mark (`DelegateSlippageExceeded`), so a
//! delegate cannot move the owner's equity to its own portfolio through band-edge fills.
//!
//! Who chooses what: the signers choose the price (anywhere in the band), the size and the
//! counterparty; the oracle is the configured feed account (no choice); the health accounts
//! are checked one by one against the portfolio's balances and positions.
//!
//! Remaining accounts: the taker's health accounts (`health.rs` order, leaving out the traded
//! underlying, whose market and oracle are named accounts), then the maker's;
//! `taker_health_accounts` says where the split is.
use anchor_lang::prelude::*;
use xmargin_risk::bs::price as model_price_of;
use xmargin_risk::collateral::Level;
use xmargin_risk::fx::{to_native_floor, years_from_seconds};
use xmargin_risk::prices::within_band;
use xmargin_risk::trading::{fee, only_reduces, open_interest_after};
use xmargin_risk::{Fx, UnderlyingMarket};

use super::trade_health::traded_health_change;
use crate::error::XmarginError;
use crate::events::TradeFilled;
use crate::health::{
    health_inputs_shared, stable_price, totals_above_buffer, underlying_market, OracleMode, Provided,
    SharedReads,
};
use crate::instructions::liquidator::set_liquidation_state;
use crate::instructions::positions::{
    apply_fill, credit_quote, engine, may_trade, position_slot, PortfolioSnapshot, PositiveQuote,
};
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{
    option_kind, pause, Exchange, HaircutRegistry, LiquidationParams, Market, Portfolio, BPS,
    OPTION_FEE_CAP_BPS, PERP_INSTRUMENT,
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeArgs {
    /// Option series index in the market, or `PERP_INSTRUMENT` (255).
    pub instrument: u8,
    /// Lots the taker buys (negative: sells); the maker takes the other side.
    pub size_lots: i64,
    /// Quote native units per underlying unit; a positive multiple of the market's tick.
    pub price: u64,
    /// How many remaining accounts belong to the taker's health check (the rest: the maker's).
    pub taker_health_accounts: u8,
}

#[derive(Accounts)]
pub struct Trade<'info> {
    /// The taker portfolio's owner or delegate.
    pub taker_signer: Signer<'info>,
    /// The maker portfolio's owner or delegate.
    pub maker_signer: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(mut, constraint = taker.load_checked()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub taker: AccountLoader<'info, Portfolio>,
    #[account(mut, constraint = maker.load_checked()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub maker: AccountLoader<'info, Portfolio>,
    #[account(
        mut,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &[market.load_checked()?.underlying]],
        bump = market.load_checked()?.bump,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the oracle guard checks it against the underlying's oracle configuration.
    pub oracle: UncheckedAccount<'info>,
}

/// Whether a fill of `lots` (this side's, + buys) at `price` is at most `tolerance` worse than
/// `mark` for this side (all quote native units per underlying unit).
fn within_adverse(price: u64, mark: u64, lots: i64, tolerance: u64) -> bool {
    if lots > 0 {
        price <= mark.saturating_add(tolerance)
    } else {
        price >= mark.saturating_sub(tolerance)
    }
}

/// `bps` of `spot`, quote native units (rounded down).
fn bps_of(spot: u64, bps: u16) -> u64 {
    let v = u128::from(spot).saturating_mul(u128::from(bps)).checked_div(u128::from(BPS)).unwrap_or(0);
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// One side of the fill: what it did to the portfolio.
struct SideResult {
    size_before: i64,
    size_after: i64,
    cash: i64,
    fee: u64,
    /// This side's lots (+ bought).
    lots: i64,
}

impl Trade<'_> {
    pub fn validate(&self, args: &TradeArgs) -> Result<()> {
        require!(!self.exchange.load_checked()?.is_paused(pause::TRADING), XmarginError::TradingPaused);
        require_keys_neq!(self.taker.key(), self.maker.key(), XmarginError::SamePortfolio);
        require!(
            may_trade(&*self.taker.load_checked()?, &self.taker_signer.key()),
            XmarginError::NotPortfolioTrader
        );
        require!(
            may_trade(&*self.maker.load_checked()?, &self.maker_signer.key()),
            XmarginError::NotPortfolioTrader
        );
        let m = self.market.load_checked()?;
        require!(
            args.size_lots != 0 && args.size_lots.unsigned_abs() >= m.min_size_lots,
            XmarginError::InvalidTradeSize
        );
        require!(args.price > 0 && args.price.is_multiple_of(m.tick), XmarginError::PriceNotOnTick);
        if args.instrument != PERP_INSTRUMENT {
            let s = m.option_series(args.instrument).ok_or(XmarginError::UnknownInstrument)?;
            require!(Clock::get()?.unix_timestamp < s.expiry, XmarginError::OptionExpired);
        }
        Ok(())
    }

    pub fn handler<'info>(ctx: Context<'info, Trade<'info>>, args: TradeArgs) -> Result<()> {
        let a = &ctx.accounts;
        let clock = Clock::get()?;
        let split = usize::from(args.taker_health_accounts);
        require!(split <= ctx.remaining_accounts.len(), XmarginError::InvalidHealthAccountSplit);
        let (taker_accounts, maker_accounts) = ctx.remaining_accounts.split_at(split);
        let quote_decimals = a.exchange.load_checked()?.quote_decimals;
        let perp = args.instrument == PERP_INSTRUMENT;

        // Prices: the guarded oracle, and for options the model price.
        let (data, stable, oracle_price, model_price) = {
            let registry = a.registry.load_checked()?;
            let m = a.market.load_checked()?;
            let (um, raw) = underlying_market(&registry, &m, &a.oracle, &clock)?;
            let spot = engine(to_native_floor(um.spot, quote_decimals))?;
            let model = if perp {
                require!(
                    within_band(args.price, spot, spot, m.perp_band_bps),
                    XmarginError::PriceOutsideBand
                );
                0
            } else {
                let s = m.option_series(args.instrument).ok_or(XmarginError::UnknownInstrument)?;
                let kind = option_kind(s.kind);
                let strike = engine(xmargin_risk::fx::from_native(i128::from(s.strike), quote_decimals))?;
                let t = engine(years_from_seconds(s.expiry.saturating_sub(clock.unix_timestamp)))?;
                let model = engine(to_native_floor(
                    engine(model_price_of(kind, um.spot, strike, um.vol, t))?,
                    quote_decimals,
                ))?;
                require!(
                    within_band(args.price, model, spot, m.option_band_bps),
                    XmarginError::PriceOutsideBand
                );
                model
            };
            (um, stable_price(&raw)?, spot, model)
        };
        // The venue's mark of the instrument: the oracle for a perp, the model for an option.
        let mark = if perp { oracle_price } else { model_price };
        let tick = a.market.load_checked()?.tick;
        for (portfolio, signer, lots) in [
            (&a.taker, a.taker_signer.key(), args.size_lots),
            (&a.maker, a.maker_signer.key(), 0i64.saturating_sub(args.size_lots)),
        ] {
            let p = portfolio.load_checked()?;
            if p.owner != signer {
                let tolerance = bps_of(oracle_price, p.delegate_max_slippage_bps).saturating_add(tick);
                if !within_adverse(args.price, mark, lots, tolerance) {
                    msg!(
                        "delegate fill of {} lots at {}: mark {}, owner's slippage {} bps + one tick",
                        lots,
                        args.price,
                        mark,
                        p.delegate_max_slippage_bps
                    );
                    return err!(XmarginError::DelegateSlippageExceeded);
                }
            }
        }
        // Both portfolios as they were, to value them before the fill at the same prices.
        let taker_before = PortfolioSnapshot::of(&*a.taker.load_checked()?);
        let maker_before = PortfolioSnapshot::of(&*a.maker.load_checked()?);

        let (taker_side, maker_side, oi_before, oi_after) = {
            let registry = a.registry.load_checked()?;
            let mut m = a.market.load_mut_checked()?;
            let mut taker = a.taker.load_mut_checked()?;
            let mut maker = a.maker.load_mut_checked()?;
            let lots_per_unit = m.lots_per_unit();
            let (oi_before, oi_cap, reduce_only) = if perp {
                (m.perp_open_interest, m.perp_oi_cap, m.perp_reduce_only)
            } else {
                let s = &m.series[usize::from(args.instrument)];
                (s.open_interest, s.oi_cap, s.reduce_only)
            };
            let t_slot = position_slot(&mut taker, &m, args.instrument)?;
            let m_slot = position_slot(&mut maker, &m, args.instrument)?;
            let (t_before, m_before) = (taker.positions[t_slot].size, maker.positions[m_slot].size);
            let t_after = t_before.checked_add(args.size_lots).ok_or(XmarginError::AmountTooLarge)?;
            let m_after = m_before.checked_sub(args.size_lots).ok_or(XmarginError::AmountTooLarge)?;
            if reduce_only == 1 {
                let reduces = only_reduces(t_before, t_after) && only_reduces(m_before, m_after);
                require!(reduces, XmarginError::InstrumentReduceOnly);
            }
            let oi_after = engine(open_interest_after(oi_before, t_before, t_after, m_before, m_after))?;
            require!(oi_after <= oi_cap || oi_after <= oi_before, XmarginError::OpenInterestCapExceeded);
            let option_cap = (!perp).then_some(OPTION_FEE_CAP_BPS);
            // The fill's change of Σ positive quote balances, added to the market below.
            let mut positive_delta = 0i64;
            let mut side = |p: &mut Portfolio, slot: usize, lots: i64, fee_bps: u16| -> Result<SideResult> {
                let mut sink = PositiveQuote(&mut positive_delta);
                let fill = apply_fill(p, &registry, &mut sink, &m, slot, lots, args.price)?;
                let fee = engine(fee(lots, oracle_price, args.price, lots_per_unit, fee_bps, option_cap))?;
                credit_quote(
                    p,
                    &registry,
                    &mut sink,
                    0i64.checked_sub_unsigned(fee).ok_or(XmarginError::AmountTooLarge)?,
                )?;
                Ok(SideResult {
                    size_before: fill.size_before,
                    size_after: fill.size_after,
                    cash: fill.cash,
                    fee,
                    lots,
                })
            };
            let taker_side = side(&mut taker, t_slot, args.size_lots, m.taker_fee_bps)?;
            let maker_side = side(&mut maker, m_slot, 0i64.saturating_sub(args.size_lots), m.maker_fee_bps)?;
            m.positive_quote_delta =
                m.positive_quote_delta.checked_add(positive_delta).ok_or(XmarginError::AmountTooLarge)?;
            // Fees stay in the quote vault, owed to insurance, until `sweep_fees`.
            let fees = taker_side.fee.checked_add(maker_side.fee).ok_or(XmarginError::AmountTooLarge)?;
            m.fees_accrued = m.fees_accrued.checked_add(fees).ok_or(XmarginError::AmountTooLarge)?;
            if perp {
                m.perp_open_interest = oi_after;
                // Funding: the fill's premium over the guarded spot, weighted by its size.
                let mut premium = m.funding_premium();
                let max_rate = crate::state::units::bps(m.max_funding_rate_bps)?;
                engine(premium.record(args.size_lots, args.price, oracle_price, max_rate))?;
                m.set_funding_premium(&premium);
            } else {
                m.series[usize::from(args.instrument)].open_interest = oi_after;
            }
            (taker_side, maker_side, oi_before, oi_after)
        };

        let underlying = a.market.load_checked()?.underlying;
        let traded = Traded {
            data,
            stable_price: stable,
            market: &a.market,
            quote_decimals,
            price: args.price,
            mark,
            tick,
            liquidation: a.exchange.load_checked()?.liquidation,
            reads: Default::default(),
        };
        let taker_back = check_health(
            &a.taker,
            taker_before.get(),
            &a.registry,
            taker_accounts,
            &clock,
            &traded,
            &taker_side,
        )
        .map_err(|e| e.unwrap_or_else(|| XmarginError::TakerInsufficientHealth.into()))?;
        let maker_back = check_health(
            &a.maker,
            maker_before.get(),
            &a.registry,
            maker_accounts,
            &clock,
            &traded,
            &maker_side,
        )
        .map_err(|e| e.unwrap_or_else(|| XmarginError::MakerInsufficientHealth.into()))?;
        for (portfolio, back) in [(&a.taker, taker_back), (&a.maker, maker_back)] {
            if back {
                set_liquidation_state(portfolio, false)?;
            }
        }

        emit!(TradeFilled {
            market: a.market.key(),
            underlying,
            instrument: args.instrument,
            taker: a.taker.key(),
            maker: a.maker.key(),
            size_lots: args.size_lots,
            price: args.price,
            oracle_price,
            model_price,
            taker_fee: taker_side.fee,
            maker_fee: maker_side.fee,
            taker_cash: taker_side.cash,
            maker_cash: maker_side.cash,
            taker_size_before: taker_side.size_before,
            taker_size_after: taker_side.size_after,
            maker_size_before: maker_side.size_before,
            maker_size_after: maker_side.size_after,
            open_interest_before: oi_before,
            open_interest_after: oi_after,
        });
        Ok(())
    }
}

/// What was traded: the underlying's market data and account, the fill price and the mark.
struct Traded<'a, 'info> {
    data: UnderlyingMarket,
    /// The oracle's EMA price (quote units; zero: none).
    stable_price: Fx,
    market: &'a AccountLoader<'info, Market>,
    quote_decimals: u8,
    /// Fill price and the venue's mark (oracle or model), quote native units per unit.
    price: u64,
    mark: u64,
    tick: u64,
    liquidation: LiquidationParams,
    /// The underlyings read for the taker's health, reused for the maker's
    /// (`health::SharedReads`).
    reads: core::cell::RefCell<SharedReads>,
}

/// The side's health gate (module docs). `Ok(true)`: a portfolio being liquidated is back at
/// the buffer (it leaves that state). `Err(None)`: health fell; `Err(Some(e))`: another
/// failure (the computation, or `UnhealthyFillOffMark`).
fn check_health<'info>(
    portfolio: &AccountLoader<'info, Portfolio>,
    before: &Portfolio,
    registry: &AccountLoader<'info, HaircutRegistry>,
    accounts: &'info [AccountInfo<'info>],
    clock: &Clock,
    traded: &Traded<'_, 'info>,
    side: &SideResult,
) -> core::result::Result<bool, Option<Error>> {
    let inner = || -> Result<Option<bool>> {
        let m = traded.market.load_checked()?;
        let registry = registry.load_checked()?;
        let p = portfolio.load_checked()?;
        let provided = Provided { market: traded.data, stable_price: traded.stable_price, account: &m };
        // The short path (`trade_health`): a fill at the mark that shrinks the position and
        // raised health at both levels passes without reading the rest of the portfolio.
        let shrinks = side.size_after.unsigned_abs() < side.size_before.unsigned_abs();
        if shrinks
            && !p.is_being_liquidated()
            && within_adverse(traded.price, traded.mark, side.lots, traded.tick)
        {
            // Any failure here (stale marks of a series the fill closes, say) leaves the
            // decision to the full computation, which is authoritative.
            let change = traded_health_change(before, &p, &registry, &provided, clock.unix_timestamp);
            if let Ok(Some(c)) = change {
                if c.iter().all(|d| *d >= Fx::ZERO) {
                    return Ok(Some(false));
                }
            }
        }
        let inputs_of = |state: &Portfolio| {
            let mut cache = traded.reads.borrow_mut();
            health_inputs_shared(
                state,
                &registry,
                accounts,
                clock,
                Some(provided),
                OracleMode::Lenient,
                &mut cache,
            )
        };
        let after_inputs = inputs_of(&p)?;
        if !p.is_being_liquidated() && after_inputs.health(Level::Initial)? >= 0 {
            return Ok(Some(false));
        }
        let after = after_inputs.totals()?;
        if p.is_being_liquidated() && totals_above_buffer(&after, &traded.liquidation, traded.quote_decimals)?
        {
            return Ok(Some(true));
        }
        // Below initial health (or still being liquidated): no level's health may fall.
        let was = inputs_of(before)?.totals()?;
        let kept =
            after.initial_health >= was.initial_health && after.maintenance_health >= was.maintenance_health;
        if !kept {
            msg!(
                "{}: initial health {} -> {} (requirement {} -> {}), maintenance health {} -> {} (requirement {} -> {})",
                portfolio.key(),
                was.initial_health,
                after.initial_health,
                was.initial_requirement,
                after.initial_requirement,
                was.maintenance_health,
                after.maintenance_health,
                was.maintenance_requirement,
                after.maintenance_requirement
            );
            return Ok(None);
        }
        if after.maintenance_health < 0 && !within_adverse(traded.price, traded.mark, side.lots, traded.tick)
        {
            msg!(
                "{}: maintenance health {} after the trade; fill at {} for {} lots, mark {}",
                portfolio.key(),
                after.maintenance_health,
                traded.price,
                side.lots,
                traded.mark
            );
            return err!(XmarginError::UnhealthyFillOffMark);
        }
        Ok(Some(false))
    };
    match inner() {
        Ok(Some(back)) => Ok(back),
        Ok(None) => Err(None),
        Err(e) => Err(Some(e)),
    }
}
