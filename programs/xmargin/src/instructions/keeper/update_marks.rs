//! `update_marks` (anyone): computes the marks of the selected option series at the guarded
//! oracle spot and the registry's implied vol and scenario grid — per-unit value, Greeks and
//! convexity bounds (`crates/risk/src/marks.rs`) — and stores them in the market. Every
//! health computation values options from these marks, so keepers send it when the spot
//! drifts or the marks age; a client whose trade fails with a `Marks*` error sends it first.
//!
//! Each selected series is marked together with its counterparts: the market's other listed
//! series of the same strike and expiry (the call of a put, the put of a call). The engine
//! nets the convexity add-on of a call and a put of one strike and expiry only while their
//! marks share a basis (`computed_at`, spot, vol, grid); marking one leg of a conversion alone
//! would split that basis and raise the holder's requirement by the whole un-netted add-on,
//! which anyone could do right before liquidating it. Marking the pair in one instruction
//! gives both the same basis, so no mask — an attacker's or a keeper's batch — splits a pair.
//! The event's `series_mask` is the extended mask (what was marked).
//!
//! Cost: one Black-Scholes evaluation and eight bounds per marked series (~42k CU each,
//! counterparts included), which is why it is not done inside every health computation.
//! Keepers batch at most 16 series per transaction, counting counterparts (a mask closed
//! under counterparts, e.g. the sandbox's `Venue::mark`, is marked as given).
use anchor_lang::prelude::*;
use xmargin_risk::fx::from_native;
use xmargin_risk::marks::Marking;
use xmargin_risk::Fx;
use xmargin_risk::MarginParams;

use crate::error::risk_error;
use crate::error::XmarginError;
use crate::events::MarksUpdated;
use crate::health::{current_basis, underlying_market};
use crate::marks::{marking_market, InitialScale};
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{option_kind, Exchange, HaircutRegistry, Market, OptionSeries};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateMarksArgs {
    /// Bit i set: mark series i (and its counterparts: the listed series of the same strike
    /// and expiry and the other kind). Non-empty; every bit a listed series.
    pub series_mask: u32,
}

/// `mask` extended with the counterparts of its series among `listed` (the market's listed
/// series, at most `MAX_SERIES` = 32): every series of the strike and expiry of a selected one
/// and the other kind (a listing is unique per kind, strike and expiry). Bits beyond `listed`
/// are kept as they are (the caller validates them).
pub fn with_counterparts(listed: &[OptionSeries], mask: u32) -> u32 {
    let mut out = mask;
    for (i, s) in listed.iter().enumerate() {
        if (mask >> i) & 1 == 0 {
            continue;
        }
        for (j, t) in listed.iter().enumerate() {
            if t.kind != s.kind && t.strike == s.strike && t.expiry == s.expiry {
                out |= 1 << j;
            }
        }
    }
    out
}

#[derive(Accounts)]
pub struct UpdateMarks<'info> {
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

impl UpdateMarks<'_> {
    pub fn validate(&self, args: &UpdateMarksArgs) -> Result<()> {
        let listed = self.market.load_checked()?.series_count;
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
        let registry = ctx.accounts.registry.load_checked()?;
        let mut m = ctx.accounts.market.load_mut_checked()?;
        let underlying = m.underlying;
        let quote_decimals = registry.collaterals[0].decimals;
        let (current, _) = underlying_market(&registry, &m, &ctx.accounts.oracle, &clock)?;
        // The market the marks are computed at: its largest shock rounded up to what they
        // record (`basis.shock_ppm`).
        let (at, _) = marking_market(&current)?;
        let scale = InitialScale::of(&registry)?;
        let basis = current_basis(&registry, &current, &scale)?;
        let policy = m.marks_policy(&scale)?;
        // The initial bounds cover the initial grid in force (the governed scale).
        let params = MarginParams { initial_scale: scale.fx, ..MarginParams::REFERENCE };
        // Validated, and the bound ranges derived, once for every series marked here.
        let marking = Marking::new(&at, now, &params, &policy).map_err(risk_error)?;
        // Validated: every bit a listed series (at most `MAX_SERIES` = 32, the mask's width).
        let mask = with_counterparts(m.listed_series(), args.series_mask);
        // The vol scale depends on the expiry only: once per expiry (an exp and a ln each).
        let mut scales: Vec<(i64, Fx)> = Vec::with_capacity(4);
        for index in 0..usize::from(m.series_count).min(m.series.len()) {
            if mask & (1u32 << index) == 0 {
                continue;
            }
            let s = m.series[index];
            let strike = from_native(i128::from(s.strike), quote_decimals).map_err(risk_error)?;
            let scale = match scales.iter().find(|(e, _)| *e == s.expiry) {
                Some((_, scale)) => *scale,
                None => {
                    let scale = marking.vol_scale(s.expiry).map_err(risk_error)?;
                    scales.push((s.expiry, scale));
                    scale
                }
            };
            let marks = marking.series(option_kind(s.kind), strike, s.expiry, scale).map_err(risk_error)?;
            m.marks[index].store(&marks, &basis)?;
        }
        emit!(MarksUpdated {
            market: ctx.accounts.market.key(),
            underlying,
            series_mask: mask,
            spot: at.spot.to_bits(),
            computed_at: now,
            implied_vol_bps: basis.implied_vol_bps,
            max_price_shock_ppm: basis.shock_ppm,
        });
        Ok(())
    }
}
