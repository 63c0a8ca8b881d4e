//! `update_funding` (anyone, at most once per funding interval): closes the perp's funding
//! period and decides the rate of the next one (formulas and units:
//! `crates/risk/src/trading.rs`):
//!
//! 1. accrues the index to now at the slope decided by the previous update, so every position
//!    pays for exactly the time it was held;
//! 2. the period's rate = Σ premium × |lots| of its perp fills / max(Σ |lots|, open interest),
//!    each premium (fill price − guarded spot) / spot capped at the market's maximum rate: a
//!    fill moves the rate in proportion to its size, and a period without fills gives 0
//!    (nothing carries over);
//! 3. the new slope = rate × oracle TWAP (Pyth's EMA price) / interval applies from now on;
//!    the period's fill accumulators restart at zero.
//!
//! Positions settle against the index lazily, whenever they are traded; every reader takes
//! the index at the current time (`Market::funding_index_at`).
use anchor_lang::prelude::*;
use xmargin_risk::fx::{from_mantissa, to_native_floor};
use xmargin_risk::trading::{funding_slope, FundingPremium};

use crate::error::XmarginError;
use crate::events::FundingUpdated;
use crate::instructions::positions::engine;
use crate::oracle::read_price;
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::units::bps;
use crate::state::LoadChecked;
use crate::state::{Exchange, HaircutRegistry, Market};

#[derive(Accounts)]
pub struct UpdateFunding<'info> {
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(
        mut,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &[market.load_checked()?.underlying]],
        bump = market.load_checked()?.bump,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the oracle guard checks it against the underlying's oracle configuration.
    pub oracle: UncheckedAccount<'info>,
}

impl UpdateFunding<'_> {
    pub fn validate(&self) -> Result<()> {
        let m = self.market.load_checked()?;
        let elapsed = Clock::get()?.unix_timestamp.saturating_sub(m.last_funding_time);
        require!(elapsed >= i64::from(m.funding_interval_secs), XmarginError::FundingTooSoon);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let clock = Clock::get()?;
        let now = clock.unix_timestamp;
        let registry = ctx.accounts.registry.load_checked()?;
        let mut m = ctx.accounts.market.load_mut_checked()?;
        let config = &registry.underlyings[usize::from(m.underlying)];
        let quote_decimals = registry.collaterals[0].decimals;
        let p = read_price(&ctx.accounts.oracle, &config.oracle, &clock)?;
        let oracle_twap = engine(from_mantissa(p.ema_price.filter(|e| *e > 0).unwrap_or(p.price), p.expo))?;
        // 1. Accrue at the slope of the period that ends now.
        let before = m.funding_index_at(m.last_funding_time)?;
        let after = m.funding_index_at(now)?;
        let slope_before = m.funding_slope();
        // 2. The period's size-weighted premium.
        let premium = m.funding_premium();
        let open_interest = m.perp_open_interest;
        let rate = engine(premium.rate(open_interest, bps(m.max_funding_rate_bps)?))?;
        // 3. The slope from now on.
        let slope = engine(funding_slope(rate, oracle_twap, i64::from(m.funding_interval_secs)))?;
        let elapsed = now.saturating_sub(m.last_funding_time);
        m.funding_index.set(after);
        m.funding_slope.set(slope);
        m.last_funding_rate.set(rate);
        m.set_funding_premium(&FundingPremium::default());
        m.last_funding_time = now;
        emit!(FundingUpdated {
            market: ctx.accounts.market.key(),
            underlying: m.underlying,
            premium_lots: premium.premium_lots.to_bits(),
            fill_lots: premium.fill_lots,
            open_interest,
            weight: premium.weight(open_interest),
            oracle_twap: engine(to_native_floor(oracle_twap, quote_decimals))?,
            rate: rate.to_bits(),
            elapsed_secs: elapsed,
            index_before: before.to_bits(),
            index_after: after.to_bits(),
            slope_before: slope_before.to_bits(),
            slope_after: slope.to_bits(),
        });
        Ok(())
    }
}
