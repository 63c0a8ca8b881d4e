//! `trade`: a bilateral fill (block trade / RFQ) of one instrument, signed by both sides'
//! owners or delegates. The taker buys `size_lots` (sells when negative) from the maker at
//! `price`; both portfolios get offsetting positions, so every instrument's sizes sum to zero.
//!
//! Checks: trading not paused, distinct portfolios, authorised signers, size and tick, the
//! instrument listed and (options) not expired, the price within the band around the oracle
//! (perps) or the Black-Scholes model price ± a band of spot (options), reduce-only and
//! open-interest caps. Effects: perps settle funding, then realize PnL pro rata on reduction;
//! options move the premium; both sides pay fees to the insurance vault. Afterwards each
//! portfolio must have initial health ≥ 0, or a strictly lower maintenance requirement than
//! before (a risk-reducing trade is always allowed). A portfolio being liquidated may only
//! reduce risk, unless the trade brings it back to the liquidation buffer (which ends that
//! state).
//!
//! Remaining accounts: the taker's health accounts (`health.rs` order, leaving out the traded
//! underlying, whose market and oracle are named accounts), then the maker's;
//! `taker_health_accounts` says where the split is.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use xmargin_risk::bs::greeks;
use xmargin_risk::collateral::Level;
use xmargin_risk::fx::{to_native_floor, years_from_seconds};
use xmargin_risk::marks::MarkedPosition;
use xmargin_risk::trading::{fee, open_interest_after};
use xmargin_risk::UnderlyingMarket;

use crate::error::XmarginError;
use crate::events::TradeFilled;
use crate::health::{
    back_above_buffer, current_basis, health_inputs, marked_position, underlying_market, Provided,
};
use crate::instructions::liquidator::set_liquidation_state;
use crate::instructions::positions::{
    apply_fill, credit_quote, engine, may_trade, pay_insurance, position_slot, QuoteAccounts,
};
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::{
    option_kind, pause, Exchange, HaircutRegistry, LiquidationParams, Market, Portfolio, PositionSlot, BPS,
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
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(mut, constraint = taker.load()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub taker: AccountLoader<'info, Portfolio>,
    #[account(mut, constraint = maker.load()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub maker: AccountLoader<'info, Portfolio>,
    #[account(
        mut,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &[market.load()?.underlying]],
        bump = market.load()?.bump,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the oracle guard checks it against the underlying's oracle configuration.
    pub oracle: UncheckedAccount<'info>,
    #[account(mut, address = registry.load()?.collaterals[0].vault @ XmarginError::VaultMismatch)]
    pub quote_vault: InterfaceAccount<'info, TokenAccount>,
    #[account(mut, address = exchange.load()?.insurance_vault @ XmarginError::VaultMismatch)]
    pub insurance_vault: InterfaceAccount<'info, TokenAccount>,
    #[account(address = exchange.load()?.quote_mint @ XmarginError::CollateralNotListed)]
    pub quote_mint: InterfaceAccount<'info, Mint>,
    #[account(address = registry.load()?.collaterals[0].token_program @ XmarginError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

/// |a − b| ≤ band_bps × reference / 10_000, in integers.
fn within_band(a: u64, b: u64, reference: u64, band_bps: u16) -> bool {
    u128::from(a.abs_diff(b)).saturating_mul(u128::from(BPS))
        <= u128::from(reference).saturating_mul(u128::from(band_bps))
}

/// One side of the fill: what it did to the portfolio.
struct SideResult {
    size_before: i64,
    size_after: i64,
    cash: i64,
    fee: u64,
    /// The traded slot before the fill (`None`: the instrument was not held).
    old_slot: Option<PositionSlot>,
}

impl Trade<'_> {
    pub fn validate(&self, args: &TradeArgs) -> Result<()> {
        require!(!self.exchange.load()?.is_paused(pause::TRADING), XmarginError::TradingPaused);
        require_keys_neq!(self.taker.key(), self.maker.key(), XmarginError::SamePortfolio);
        require!(may_trade(&*self.taker.load()?, &self.taker_signer.key()), XmarginError::NotPortfolioTrader);
        require!(may_trade(&*self.maker.load()?, &self.maker_signer.key()), XmarginError::NotPortfolioTrader);
        let m = self.market.load()?;
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
        let quote_decimals = a.quote_mint.decimals;
        let perp = args.instrument == PERP_INSTRUMENT;

        // Prices: the guarded oracle, and for options the model price.
        let (data, oracle_price, model_price) = {
            let registry = a.registry.load()?;
            let m = a.market.load()?;
            let (um, _) = underlying_market(&registry, u16::from(m.underlying), &a.oracle, &clock)?;
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
                    engine(greeks(kind, um.spot, strike, um.vol, t))?.price,
                    quote_decimals,
                ))?;
                require!(
                    within_band(args.price, model, spot, m.option_band_bps),
                    XmarginError::PriceOutsideBand
                );
                model
            };
            (um, spot, model)
        };

        let (taker_side, maker_side, oi_before, oi_after) = {
            let mut registry = a.registry.load_mut()?;
            let mut m = a.market.load_mut()?;
            let mut taker = a.taker.load_mut()?;
            let mut maker = a.maker.load_mut()?;
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
                let grows = t_after.unsigned_abs() > t_before.unsigned_abs()
                    || m_after.unsigned_abs() > m_before.unsigned_abs();
                require!(!grows, XmarginError::InstrumentReduceOnly);
            }
            let oi_after = engine(open_interest_after(oi_before, t_before, t_after, m_before, m_after))?;
            require!(oi_after <= oi_cap || oi_after <= oi_before, XmarginError::OpenInterestCapExceeded);
            let option_cap = (!perp).then_some(OPTION_FEE_CAP_BPS);
            let mut side = |p: &mut Portfolio, slot: usize, lots: i64, fee_bps: u16| -> Result<SideResult> {
                let old = p.positions[slot];
                let old_slot = (old.size != 0).then_some(old);
                let fill = apply_fill(p, &mut registry, &m, slot, lots, args.price)?;
                let fee = engine(fee(lots, oracle_price, args.price, lots_per_unit, fee_bps, option_cap))?;
                credit_quote(
                    p,
                    &mut registry,
                    0i64.checked_sub_unsigned(fee).ok_or(XmarginError::AmountTooLarge)?,
                )?;
                Ok(SideResult {
                    size_before: fill.size_before,
                    size_after: fill.size_after,
                    cash: fill.cash,
                    fee,
                    old_slot,
                })
            };
            let taker_side = side(&mut taker, t_slot, args.size_lots, m.taker_fee_bps)?;
            let maker_side = side(&mut maker, m_slot, 0i64.saturating_sub(args.size_lots), m.maker_fee_bps)?;
            if perp {
                m.perp_open_interest = oi_after;
                let mut twap = m.fill_twap();
                engine(twap.record(args.price, m.last_funding_time, clock.unix_timestamp))?;
                m.set_fill_twap(&twap);
            } else {
                m.series[usize::from(args.instrument)].open_interest = oi_after;
            }
            (taker_side, maker_side, oi_before, oi_after)
        };

        // Fees leave the quote vault for the insurance vault.
        let fees = taker_side.fee.checked_add(maker_side.fee).ok_or(XmarginError::AmountTooLarge)?;
        pay_insurance(
            &a.exchange,
            QuoteAccounts {
                vault: &a.quote_vault,
                insurance_vault: &a.insurance_vault,
                mint: &a.quote_mint,
                token_program: &a.token_program,
            },
            fees,
        )?;

        let underlying = a.market.load()?.underlying;
        let traded = Traded { data, market: &a.market, instrument: args.instrument, quote_decimals };
        let liquidation = a.exchange.load()?.liquidation;
        let taker_back =
            check_health(&a.taker, &a.registry, taker_accounts, &clock, &traded, &taker_side, &liquidation)
                .map_err(|e| e.unwrap_or_else(|| XmarginError::TakerInsufficientHealth.into()))?;
        let maker_back =
            check_health(&a.maker, &a.registry, maker_accounts, &clock, &traded, &maker_side, &liquidation)
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

/// What was traded: the underlying's market data and account, and the instrument.
struct Traded<'a, 'info> {
    data: UnderlyingMarket,
    market: &'a AccountLoader<'info, Market>,
    instrument: u8,
    quote_decimals: u8,
}

/// Initial health ≥ 0 after the trade, or a maintenance requirement strictly below the one of
/// the positions before it (same prices). A portfolio being liquidated may only reduce its
/// requirement, unless the trade leaves it back at the liquidation buffer (`Ok(true)`: it
/// leaves the liquidation state). `Err(None)`: the check failed; `Err(Some(e))`: the
/// computation did.
fn check_health<'info>(
    portfolio: &AccountLoader<'info, Portfolio>,
    registry: &AccountLoader<'info, HaircutRegistry>,
    accounts: &'info [AccountInfo<'info>],
    clock: &Clock,
    traded: &Traded<'_, 'info>,
    side: &SideResult,
    liquidation: &LiquidationParams,
) -> core::result::Result<bool, Option<Error>> {
    let being_liquidated = portfolio.load().map_err(Some)?.is_being_liquidated();
    let inner = || -> Result<(bool, bool)> {
        let m = traded.market.load()?;
        let provided = Provided { market: traded.data, account: &m };
        let inputs =
            health_inputs(&*portfolio.load()?, &*registry.load()?, accounts, clock, None, Some(provided))?;
        if being_liquidated {
            if back_above_buffer(&inputs, liquidation, traded.quote_decimals)? {
                return Ok((true, true));
            }
        } else if inputs.health(Level::Initial)? >= 0 {
            return Ok((true, false));
        }
        // Requirements do not offset across underlyings, so only the traded underlying's
        // maintenance requirement can have changed.
        let u = traded.data.index;
        let mut after: Vec<MarkedPosition> = Vec::with_capacity(inputs.positions.len());
        let mut before: Vec<MarkedPosition> = Vec::with_capacity(inputs.positions.len().saturating_add(1));
        for (p, key) in inputs.positions.iter().zip(&inputs.instruments).filter(|(_, k)| k.0 == u) {
            after.push(*p);
            if key.1 != traded.instrument {
                before.push(*p);
            }
        }
        if let Some(old) = &side.old_slot {
            let basis = current_basis(&*registry.load()?, &traded.data)?;
            before.push(marked_position(old, &m, &traded.data, &basis, traded.quote_decimals, inputs.now)?);
        }
        let reduces = inputs.requirement(u, &after, Level::Maintenance)?
            < inputs.requirement(u, &before, Level::Maintenance)?;
        Ok((reduces, false))
    };
    match inner() {
        Ok((true, back)) => Ok(back),
        Ok((false, _)) => Err(None),
        Err(e) => Err(Some(e)),
    }
}
