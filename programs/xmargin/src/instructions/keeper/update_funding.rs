//! `update_funding` (anyone, at most once per funding interval): closes the perp's funding
//! period. The premium of the fill-price TWAP over the oracle TWAP (Pyth's EMA price), capped
//! at the market's maximum rate, advances the cumulative funding index by
//! rate × oracle TWAP × elapsed / interval (formula and units: `crates/risk/src/trading.rs`).
//! Positions settle against the index lazily, whenever they are traded.
use anchor_lang::prelude::*;
use xmargin_risk::fx::{from_mantissa, from_native, to_native_floor, Checked};
use xmargin_risk::trading::{funding_rate, funding_step};

use crate::error::XmarginError;
use crate::events::FundingUpdated;
use crate::health::bps;
use crate::instructions::positions::engine;
use crate::oracle::read_price;
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::{Exchange, HaircutRegistry, Market};

#[derive(Accounts)]
pub struct UpdateFunding<'info> {
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(
        mut,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &[market.load()?.underlying]],
        bump = market.load()?.bump,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the oracle guard checks it against the underlying's oracle configuration.
    pub oracle: UncheckedAccount<'info>,
}

impl UpdateFunding<'_> {
    pub fn validate(&self) -> Result<()> {
        let m = self.market.load()?;
        let elapsed = Clock::get()?.unix_timestamp.saturating_sub(m.last_funding_time);
        require!(elapsed >= i64::from(m.funding_interval_secs), XmarginError::FundingTooSoon);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let clock = Clock::get()?;
        let now = clock.unix_timestamp;
        let registry = ctx.accounts.registry.load()?;
        let mut m = ctx.accounts.market.load_mut()?;
        let config = &registry.underlyings[usize::from(m.underlying)];
        let quote_decimals = registry.collaterals[0].decimals;
        let p = read_price(&ctx.accounts.oracle, &config.oracle, &clock)?;
        let oracle_twap = engine(from_mantissa(p.ema_price.filter(|e| *e > 0).unwrap_or(p.price), p.expo))?;
        let mut twap = m.fill_twap();
        let fill = engine(twap.twap(m.last_funding_time, now))?;
        let fill_fx = match fill {
            Some(f) => Some(engine(from_native(i128::from(f), quote_decimals))?),
            None => None,
        };
        let rate = engine(funding_rate(fill_fx, oracle_twap, bps(m.max_funding_rate_bps)?))?;
        let elapsed = now.saturating_sub(m.last_funding_time);
        let step = engine(funding_step(rate, oracle_twap, elapsed, i64::from(m.funding_interval_secs)))?;
        let before = m.funding_index();
        let after = engine(before.add_c(step))?;
        m.funding_index = after.to_bits().to_le_bytes();
        m.last_funding_rate = rate.to_bits().to_le_bytes();
        // A new period: the last fill price carries over from `now`.
        twap.price_seconds = 0;
        twap.seconds = 0;
        m.set_fill_twap(&twap);
        m.last_funding_time = now;
        emit!(FundingUpdated {
            market: ctx.accounts.market.key(),
            underlying: m.underlying,
            fill_twap: fill.unwrap_or(0),
            oracle_twap: engine(to_native_floor(oracle_twap, quote_decimals))?,
            rate: rate.to_bits(),
            elapsed_secs: elapsed,
            index_before: before.to_bits(),
            index_after: after.to_bits(),
        });
        Ok(())
    }
}
