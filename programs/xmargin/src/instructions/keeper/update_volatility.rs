//! `update_volatility` (anyone, at most once per the underlying's interval): feeds the
//! guarded oracle price to the underlying's realized-volatility estimator and stores the new
//! estimates and adaptive shock in the underlying's market (math in crates/risk/src/vol.rs;
//! the estimator's parameters are the registry's, which it only reads).
//!
//! Writes the market alone: like the other keeper cranks it serializes only with that
//! market's own trades and liquidations, never with the rest of the venue (docs/scaling.md, "Scaling
//! on Solana"). Who chooses what: the caller chooses the moment (at most once per interval)
//! and passes the oracle account, which must be the configured feed (the oracle guard).
use anchor_lang::prelude::*;
use xmargin_risk::fx::from_mantissa;
use xmargin_risk::vol::update;

use crate::error::risk_error;
use crate::error::XmarginError;
use crate::events::VolatilityUpdated;
use crate::oracle::read_price;
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{Exchange, HaircutRegistry, Market};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateVolatilityArgs {
    pub underlying: u8,
}

#[derive(Accounts)]
#[instruction(args: UpdateVolatilityArgs)]
pub struct UpdateVolatility<'info> {
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    /// The underlying's market, which holds its estimator.
    #[account(
        mut,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &[args.underlying]],
        bump = market.load_checked()?.bump
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the oracle guard checks it against the underlying's oracle configuration.
    pub oracle: UncheckedAccount<'info>,
}

impl UpdateVolatility<'_> {
    pub fn validate(&self, args: &UpdateVolatilityArgs) -> Result<()> {
        let registry = self.registry.load_checked()?;
        require!(args.underlying < registry.underlying_count, XmarginError::UnknownRiskTarget);
        let u = &registry.underlyings[usize::from(args.underlying)];
        let last = self.market.load_checked()?.volatility.last_time;
        if last != 0 {
            let elapsed = Clock::get()?.unix_timestamp.saturating_sub(last);
            require!(elapsed >= i64::from(u.vol_min_interval_secs), XmarginError::VolatilityUpdateTooSoon);
        }
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: UpdateVolatilityArgs) -> Result<()> {
        let clock = Clock::get()?;
        let registry = ctx.accounts.registry.load_checked()?;
        let u = &registry.underlyings[usize::from(args.underlying)];
        let mut market = ctx.accounts.market.load_mut_checked()?;
        let quote = read_price(&ctx.accounts.oracle, &u.oracle, &clock)?;
        let price = from_mantissa(quote.price, quote.expo).map_err(risk_error)?;
        let old = market.volatility.get();
        let new = update(&old, price, clock.unix_timestamp, &u.vol_params()?).map_err(risk_error)?;
        market.volatility.set(&new);
        emit!(VolatilityUpdated {
            underlying: args.underlying,
            price: price.to_bits(),
            var_short: new.var_short.to_bits(),
            var_long: new.var_long.to_bits(),
            old_shock: old.shock.to_bits(),
            new_shock: new.shock.to_bits(),
        });
        Ok(())
    }
}
