//! `update_marks` (anyone): computes the marks of the selected option series at the guarded
//! oracle spot and the registry's implied vol and scenario grid — per-unit value, Greeks and
//! convexity bounds (`crates/risk/src/marks.rs`) — and stores them in the market. Every
//! health computation values options from these marks, so keepers send it when the spot
//! drifts or the marks age; a client whose trade fails with a `Marks*` error sends it first.
//! Cost: one Black-Scholes evaluation and eight bounds per series (~35k CU), which is why it
//! is not done inside every health computation.
use anchor_lang::prelude::*;
use xmargin_risk::fx::from_native;
use xmargin_risk::marks::compute_marks;
use xmargin_risk::MarginParams;

use crate::error::XmarginError;
use crate::events::MarksUpdated;
use crate::health::{risk_error, underlying_market};
use crate::marks::{bits, marking_market};
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::{option_kind, Exchange, HaircutRegistry, Market};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateMarksArgs {
    /// Bit i set: mark series i. Non-empty; every bit a listed series.
    pub series_mask: u32,
}

#[derive(Accounts)]
pub struct UpdateMarks<'info> {
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

impl UpdateMarks<'_> {
    pub fn validate(&self, args: &UpdateMarksArgs) -> Result<()> {
        let listed = self.market.load()?.series_count;
        let all = 1u64.checked_shl(u32::from(listed)).map_or(u64::MAX, |b| b.saturating_sub(1));
        require!(
            args.series_mask != 0 && u64::from(args.series_mask) & !all == 0,
            XmarginError::InvalidSeriesMask
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: UpdateMarksArgs) -> Result<()> {
        let clock = Clock::get()?;
        let now = clock.unix_timestamp;
        let registry = ctx.accounts.registry.load()?;
        let mut m = ctx.accounts.market.load_mut()?;
        let underlying = m.underlying;
        let config = &registry.underlyings[usize::from(underlying)];
        let quote_decimals = registry.collaterals[0].decimals;
        let (current, _) = underlying_market(&registry, u16::from(underlying), &ctx.accounts.oracle, &clock)?;
        let (at, shock_ppm) = marking_market(&current)?;
        let policy = m.marks_policy()?;
        for index in 0..m.series.len() {
            if args.series_mask & (1u32 << index) == 0 {
                continue;
            }
            let s = m.series[index];
            let strike = from_native(i128::from(s.strike), quote_decimals).map_err(risk_error)?;
            let marks = compute_marks(
                option_kind(s.kind),
                strike,
                s.expiry,
                &at,
                now,
                &MarginParams::REFERENCE,
                &policy,
            )
            .map_err(risk_error)?;
            m.marks[index].store(&marks, config.implied_vol_bps, shock_ppm, config.extreme_multiple_tenths);
        }
        emit!(MarksUpdated {
            market: ctx.accounts.market.key(),
            underlying,
            series_mask: args.series_mask,
            spot: i128::from_le_bytes(bits(at.spot)),
            computed_at: now,
            implied_vol_bps: config.implied_vol_bps,
            max_price_shock_ppm: shock_ppm,
        });
        Ok(())
    }
}
