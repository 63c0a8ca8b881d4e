//! The trading market of one listed underlying: its perpetual, its option series, and the
//! perpetual's funding state. One zero-copy account per underlying
//! (`[MARKET_SEED, exchange, underlying]`), created by governance after the underlying itself
//! went through the timelock.
//!
//! Units: sizes in **lots** (1 lot = 10^−`lot_decimals` underlying units); prices and strikes
//! in **quote native units per underlying unit**, always a multiple of `tick`; `tick` is a
//! multiple of 10^`lot_decimals`, so every notional (lots × price / 10^`lot_decimals`) is an
//! exact integer number of quote native units and fills, premiums and settlements are exactly
//! zero-sum.
use anchor_lang::prelude::*;
use xmargin_risk::trading::{funding_index_at, FundingPremium};
use xmargin_risk::vol::VolState;
use xmargin_risk::Fx;

use super::StoredFx;
use crate::error::risk_error;

/// 2: size-weighted funding premium and a per-second funding slope replace the fill TWAP.
/// 3: fees accrue in the market (`fees_accrued`, `sweep_fees`) and the market keeps its share
/// of Σ positive quote balances (`positive_quote_delta`), both in former reserved bytes.
/// 4: each series' convexity bounds are stored in 64 bits (`SeriesMarksState::bounds`, rounded
/// up), which frees 2 KiB within the 10 KiB a CPI may allocate; each series records the
/// initial scale its bounds cover (`initial_scale_bps`); the volatility estimator moved
/// here from the registry (`volatility`), the rest is room for later fields (`reserved`);
/// `migrate_market` converts a version-3 market in place.
pub const MARKET_VERSION: u8 = 4;
pub const MAX_SERIES: usize = 32;
/// `TradeArgs::instrument` value naming the perpetual (option series are 0..MAX_SERIES).
pub const PERP_INSTRUMENT: u8 = u8::MAX;
/// Largest `lot_decimals`: 10^9 lots per unit.
pub const MAX_LOT_DECIMALS: u8 = 9;

/// `OptionSeries::kind` and `PositionSlot::kind`.
pub mod instrument_kind {
    pub const PERP: u8 = 0;
    pub const CALL: u8 = 1;
    pub const PUT: u8 = 2;
}

/// The engine's option kind of an `instrument_kind` byte (anything but CALL is a put: only
/// CALL and PUT are ever stored for options).
pub fn option_kind(kind: u8) -> xmargin_risk::bs::OptionKind {
    if kind == instrument_kind::CALL {
        xmargin_risk::bs::OptionKind::Call
    } else {
        xmargin_risk::bs::OptionKind::Put
    }
}

/// One listed European option series (cash-settled in the quote asset at expiry).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OptionSeries {
    /// Quote native units per underlying unit; a multiple of `Market::tick`.
    pub strike: u64,
    /// Unix seconds, at the market's expiry time of day.
    pub expiry: i64,
    /// Σ long sizes, lots.
    pub open_interest: u64,
    /// Largest open interest, lots.
    pub oi_cap: u64,
    /// Recorded settlement price (quote native per unit, rounded to the tick); 0 = none yet.
    pub settlement_price: u64,
    /// `instrument_kind::CALL` or `PUT`.
    pub kind: u8,
    /// 1: trades may only shrink positions (guardian or governance).
    pub reduce_only: u8,
    pub _padding: [u8; 6],
}

#[account(zero_copy)]
#[repr(C)]
pub struct Market {
    /// `MARKET_VERSION`.
    pub version: u8,
    /// Bump of `[MARKET_SEED, exchange, underlying]`.
    pub bump: u8,
    /// Index of the underlying in the registry.
    pub underlying: u8,
    pub series_count: u8,
    /// 1 lot = 10^−lot_decimals underlying units.
    pub lot_decimals: u8,
    /// 1: perp trades may only shrink positions.
    pub perp_reduce_only: u8,
    pub _padding0: [u8; 2],
    pub exchange: Pubkey,
    /// Price increment, quote native units per underlying unit.
    pub tick: u64,
    /// Smallest trade, lots.
    pub min_size_lots: u64,
    /// Perp open interest (Σ long sizes) and its cap, lots.
    pub perp_open_interest: u64,
    pub perp_oi_cap: u64,
    /// Perp fills must be within this fraction of the oracle price, bps.
    pub perp_band_bps: u16,
    /// Option fills must be within this fraction of **spot** of the model price, bps.
    pub option_band_bps: u16,
    /// Fees on the underlying notional (size × spot), bps; option fees are capped at
    /// `OPTION_FEE_CAP_BPS` of the premium.
    pub taker_fee_bps: u16,
    pub maker_fee_bps: u16,
    /// Largest funding premium per interval, bps of the oracle price.
    pub max_funding_rate_bps: u16,
    /// Marks policy (`xmargin_risk::marks`), fixed at creation: largest spot drift from a
    /// series' reference spot, bps, and largest age of its marks, seconds.
    pub max_mark_drift_bps: u16,
    pub max_mark_age_secs: u32,
    /// Seconds between two `update_funding` calls (and the period a premium applies to).
    pub funding_interval_secs: u32,
    /// Option expiries are `expiry_time_of_day_secs` after a UTC midnight (28_800: 08:00).
    pub expiry_time_of_day_secs: u32,
    /// The settlement price must be recorded within this many seconds after expiry.
    pub settlement_window_secs: u32,
    /// Longest time to expiry of a new series, days.
    pub max_expiry_days: u16,
    pub _padding2: [u8; 2],
    /// Unix seconds of the last funding update (creation time at first): the time
    /// `funding_index` was accrued to and the start of the current funding period.
    pub last_funding_time: i64,
    /// Cumulative funding per long underlying unit at `last_funding_time`, quote units. Read
    /// it only through `funding_index_at`: the index at time t is
    /// `funding_index + funding_slope × (t − last_funding_time)`, and a long of n units pays
    /// n × (index now − index at its last settlement).
    pub funding_index: StoredFx,
    /// Funding rate decided at the last update, fraction of the oracle price per interval
    /// (for display: `funding_slope` is what accrues).
    pub last_funding_rate: StoredFx,
    /// Slope of the funding index since `last_funding_time`, quote units per underlying unit
    /// per second: `last_funding_rate` × oracle TWAP / `funding_interval_secs`.
    pub funding_slope: StoredFx,
    /// Σ premium × |lots| of the current period's perp fills, fraction × lots;
    /// each fill's premium is (price − oracle spot) / oracle spot, clamped to ±max rate.
    pub fill_premium_lots: StoredFx,
    /// Σ |lots| of the current period's perp fills, lots.
    pub fill_lots: u64,
    pub series: [OptionSeries; MAX_SERIES],
    /// Each series' marks (`update_marks`), same index as `series`.
    pub marks: [SeriesMarksState; MAX_SERIES],
    /// Fees and liquidations' insurance shares charged in this market and not yet moved to
    /// the insurance vault (`sweep_fees`), quote native units. They stay in the quote vault
    /// until swept: a trade writes no venue-wide account (docs/scaling.md).
    pub fees_accrued: u64,
    /// This market's share of Σ positive quote balances (quote native units, signed): the
    /// change its fills, liquidations, funding and settlements made to that sum since it was
    /// last folded into the quote ledger (`sweep_fees`, `resolve_bankruptcy`). Σ over the
    /// markets plus the `QuoteLedger`'s is the sum a socialized loss is spread over, kept
    /// without an account every trade would write.
    pub positive_quote_delta: i64,
    /// The underlying's realized-volatility estimator (version 4; in the registry before, so
    /// that `update_volatility` wrote the venue-wide registry).
    pub volatility: VolatilityState,
    /// Room for later fields (zero): ~2 KiB, freed by version 4's 64-bit bounds.
    pub reserved: [u8; MARKET_RESERVED],
}

/// `Market::reserved` bytes: the account stays exactly 10 KiB.
pub const MARKET_RESERVED: usize = 48 + MAX_SERIES * (64 - 8) - 72;

/// The underlying's realized-volatility estimator (`xmargin_risk::vol`; its parameters are the
/// registry's `UnderlyingConfig`), written by `update_volatility`; started at the implied vol
/// when the market is created. The same 72-byte layout as the registry's retired copy.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct VolatilityState {
    /// Unix seconds of the last observation; 0 = none yet.
    pub last_time: i64,
    /// The last observed price, quote units per underlying unit.
    pub last_price: StoredFx,
    /// Annualized variances (σ² per year) of the short and long averages.
    pub var_short: StoredFx,
    pub var_long: StoredFx,
    /// The adaptive price shock, a fraction of spot: the grid's largest price shock when the
    /// underlying is adaptive (`UnderlyingConfig::scenario`).
    pub shock: StoredFx,
}

const _: () = assert!(core::mem::size_of::<VolatilityState>() == 72);

impl VolatilityState {
    pub fn get(&self) -> VolState {
        VolState {
            last_price: self.last_price.get(),
            last_time: self.last_time,
            var_short: self.var_short.get(),
            var_long: self.var_long.get(),
            shock: self.shock.get(),
        }
    }

    pub fn set(&mut self, s: &VolState) {
        self.last_price.set(s.last_price);
        self.last_time = s.last_time;
        self.var_short.set(s.var_short);
        self.var_long.set(s.var_long);
        self.shock.set(s.shock);
    }
}

/// A series' marks as stored (`xmargin_risk::marks::SeriesMarks`): values (`StoredFx`) in
/// quote units per underlying unit (price), underlying units per
/// unit (delta), per quote unit of price (gamma), quote units per 1.00 of vol (vega, volga
/// per vol²), underlying units per 1.00 of vol (vanna).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeriesMarksState {
    /// Unix seconds of the computation; 0 = never marked.
    pub computed_at: i64,
    /// Implied vol the marks used, bps (as in the registry).
    pub implied_vol_bps: u32,
    /// Maintenance largest price shock the bounds cover, parts per million (rounded up).
    pub max_price_shock_ppm: u32,
    /// Largest tail price multiple the bounds cover, hundredths.
    pub tail_multiple_hundredths: u16,
    /// The expiry scaling the vol Greeks were scaled by (the registry's reference days,
    /// floor hours, exponent bps): marks computed under another are refused.
    pub vol_scaling_reference_days: u16,
    pub vol_scaling_floor_hours: u16,
    pub vol_scaling_exponent_bps: u16,
    /// Reference spot S0, quote units per underlying unit.
    pub spot: StoredFx,
    /// Price, delta, gamma of one unit at S0; vega, vanna, volga per unit of the
    /// underlying's base vol shock (scaled by the series' expiry scale, `xmargin_risk::marks`).
    pub greeks: [StoredFx; 6],
    /// Per-unit convexity bounds `[level: maintenance, initial][range: grid, largest tail][side:
    /// short, long]`, quote units per underlying unit × 2^24, rounded up
    /// (`xmargin_risk::stored_bounds`).
    pub bounds: [[[u64; 2]; 2]; 2],
    /// The initial-margin scale the initial bounds cover, bps (the registry's when marked):
    /// refused under a larger one (`MarksPolicy::initial_scale`).
    pub initial_scale_bps: u16,
    pub _padding: [u8; 6],
}

const _: () = assert!(core::mem::size_of::<OptionSeries>() == 48);
const _: () = assert!(core::mem::size_of::<SeriesMarksState>() == 208);
const _: () = assert!(
    core::mem::size_of::<Market>()
        == 8 + 32 + 4 * 8 + 16 + 16 + 8 + 4 * 16 + 8 + MAX_SERIES * (48 + 208) + 16 + 72 + MARKET_RESERVED
);
// Created by CPI in `create_market`: must stay within the 10 KiB a CPI may allocate. Version
// 3 had the same size (`migrate_market` rewrites it in place).
const _: () = assert!(Market::SPACE == 10_240);

/// Version 3's layout, for `migrate_market`: byte offsets in the account (discriminator
/// included) of the marks, of `fees_accrued` and `positive_quote_delta`, and a series' marks
/// size (its first `V3_MARKS_HEAD` bytes are laid out as version 4's; then eight 16-byte `Fx`
/// bounds).
pub mod market_v3 {
    use super::MAX_SERIES;
    pub const MARKS: usize = 8 + 184 + MAX_SERIES * 48;
    pub const MARKS_SIZE: usize = 264;
    pub const MARKS_HEAD: usize = 136;
    pub const FEES_ACCRUED: usize = MARKS + MAX_SERIES * MARKS_SIZE;
    pub const POSITIVE_QUOTE_DELTA: usize = FEES_ACCRUED + 8;
    pub const RESERVED_AT: usize = POSITIVE_QUOTE_DELTA + 8;
    const _: () = assert!(RESERVED_AT + 48 == super::Market::SPACE);
}

/// Deribit's cap on option fees: 12.5% of the option's price.
pub const OPTION_FEE_CAP_BPS: u64 = 1_250;

impl Market {
    pub const SPACE: usize = 8 + core::mem::size_of::<Market>();

    pub fn listed_series(&self) -> &[OptionSeries] {
        &self.series[..usize::from(self.series_count).min(MAX_SERIES)]
    }

    /// The funding index at `now` (unix seconds), quote units per underlying unit: the stored
    /// index plus the slope over the time since the last funding update.
    pub fn funding_index_at(&self, now: i64) -> Result<Fx> {
        funding_index_at(self.funding_index.get(), self.funding_slope(), self.last_funding_time, now)
            .map_err(risk_error)
    }

    /// Quote units per underlying unit per second.
    pub fn funding_slope(&self) -> Fx {
        self.funding_slope.get()
    }

    /// The size-weighted fill premium of the current funding period.
    pub fn funding_premium(&self) -> FundingPremium {
        FundingPremium { premium_lots: self.fill_premium_lots.get(), fill_lots: self.fill_lots }
    }

    pub fn set_funding_premium(&mut self, f: &FundingPremium) {
        self.fill_premium_lots.set(f.premium_lots);
        self.fill_lots = f.fill_lots;
    }

    /// The series at `index`, if listed.
    pub fn option_series(&self, index: u8) -> Option<&OptionSeries> {
        self.listed_series().get(usize::from(index))
    }

    /// 10^lot_decimals: lots per underlying unit.
    pub fn lots_per_unit(&self) -> u64 {
        10u64.pow(u32::from(self.lot_decimals.min(MAX_LOT_DECIMALS)))
    }
}
