//! Marks: each option series' value, Greeks and convexity bounds, computed once at a
//! reference spot S0 (by a crank) and reused by every health computation until the spot
//! drifts or the marks age past a policy. This is what makes on-chain portfolio margin cheap:
//! a health check multiplies cached per-unit numbers by sizes instead of running
//! Black-Scholes and the convexity bounds for every position.
//!
//! **Shifting to the current spot.** A series marked at S0 has the expansion
//! V(S') ≈ V + Δ·x + ½Γ·x² + vega·v + vanna·v·x + ½volga·v², x = S' − S0. With a = S − S0
//! and x = a + S·p this is, exactly, an expansion at the current spot S with
//!
//! ```text
//! value' = V + Δ·a + ½Γ·a²    Δ' = Δ + Γ·a    vega' = vega + vanna·a    (Γ, vanna, volga unchanged)
//! ```
//!
//! so series marked at different spots net into one exposure at S, and the grid (grid.rs) is
//! evaluated on it unchanged.
//!
//! **What covers the error.** The convexity bounds of each series are computed at S0 over
//! the widened range R' = R·(1 + D) + D (capped at `MAX_SHOCK`), where R is the grid (±P) or
//! extreme (±m·P) range of the level and D the policy's largest drift |S − S0|/S0: every
//! scenario spot S·(1 + p), |p| ≤ R, is within S0·(1 ± R'). The bounds are suprema over the
//! interval, so they cover the current value's own error too (p = 0): `Addons::value_error`.
//! Time: marks are valued at their computation time t0. A short option is worth less (to its
//! holder: owes less) later, so t0 is conservative; a long option loses at most
//! K·φ(0)·σ·(√T0 − √(T0 − age)) of time value (r = 0: ∂V/∂T = K·φ(d2)·σ/(2√T)), which is
//! added to its bounds for the policy's largest age.
//!
//! **When marks may be used** (`SeriesMarks::check`): computed (t0 ≠ 0), not older than the
//! largest age, the same implied vol, the current largest price shock and extreme multiple
//! not above those the bounds were computed for, |S − S0| ≤ D·S0. Otherwise a specific error:
//! the caller refreshes the marks (a permissionless crank) and retries.
use alloc::vec::Vec;

use crate::bs::{greeks, OptionGreeks, OptionKind};
use crate::collateral::{Balance, CollateralMarket, Level};
use crate::error::{Result, RiskError};
use crate::fx::{years_from_seconds, Checked, Fx, HALF, INV_SQRT_2PI, ONE, ZERO};
use crate::grid::{
    extreme_range, overstatement_bound, requirement_with_addons, shortfall_bound, Addons,
    RequirementBreakdown, ScenarioParams, MAX_SHOCK,
};
use crate::margin::{health_from, report_from, MarginParams, MarginReport, UnderlyingReport};
use crate::math::sqrt;
use crate::portfolio::{signed_mul, BoundTerms, NetExposure, ShortOption, UnderlyingMarket};

/// Margin levels, in the order of `SeriesMarks::bounds`' first index.
pub const LEVELS: [Level; 2] = [Level::Maintenance, Level::Initial];
/// Bound ranges: the grid's ±P, then the extreme move's ±m·P.
pub const RANGES: usize = 2;
/// Bound sides: a net short unit (shortfall bound), then a net long unit (overstatement
/// bound plus the time-decay allowance).
pub const SIDES: usize = 2;

/// How far marks may be from the present. Fixed per market when it is created (marks
/// computed under one policy are only valid under it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarksPolicy {
    /// Largest |S − S0| / S0, a fraction in [0.001, 0.25].
    pub max_drift: Fx,
    /// Largest age of marks, seconds, in [60, 7 days].
    pub max_age: i64,
}

impl MarksPolicy {
    pub const MIN_DRIFT: Fx = Fx::lit("0.001");
    pub const MAX_DRIFT: Fx = Fx::lit("0.25");
    pub const MIN_AGE: i64 = 60;
    pub const MAX_AGE: i64 = 7 * 24 * 3600;

    pub fn validate(&self) -> Result<()> {
        let ok = self.max_drift >= Self::MIN_DRIFT
            && self.max_drift <= Self::MAX_DRIFT
            && (Self::MIN_AGE..=Self::MAX_AGE).contains(&self.max_age);
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidMarksPolicy)
        }
    }
}

/// What the marks were computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarksBasis {
    /// Unix seconds; 0 = never marked.
    pub computed_at: i64,
    /// Reference spot S0 (quote per unit).
    pub spot: Fx,
    /// Implied vol used (fraction per √year).
    pub vol: Fx,
    /// Maintenance largest price shock P and extreme multiple m the bounds cover.
    pub max_price_shock: Fx,
    pub extreme_multiple: Fx,
}

/// One option series' marks: per-unit value and Greeks at the basis, and per-unit convexity
/// bounds `bounds[level][range][side]` (quote units per underlying unit of size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesMarks {
    pub basis: MarksBasis,
    pub greeks: OptionGreeks,
    pub bounds: [[[Fx; SIDES]; RANGES]; 2],
}

/// A range widened for a drift D: R·(1 + D) + D, capped at `MAX_SHOCK`.
fn widened(range: Fx, drift: Fx) -> Result<Fx> {
    Ok(range.mul_c(ONE.add_c(drift)?)?.add_c(drift)?.min(MAX_SHOCK))
}

/// The grid of a level: the maintenance grid, or the initial one (shocks scaled).
pub fn level_params(
    scenario: &ScenarioParams,
    params: &MarginParams,
    level: Level,
) -> Result<ScenarioParams> {
    match level {
        Level::Maintenance => Ok(*scenario),
        Level::Initial => scenario.scaled(params.initial_scale),
    }
}

/// Marks of one series at `market`'s spot and vol, as of `now`. The bounds cover
/// `market.scenario`'s shocks (the caller may round them up first) under `policy`.
pub fn compute_marks(
    kind: OptionKind,
    strike: Fx,
    expiry: i64,
    market: &UnderlyingMarket,
    now: i64,
    params: &MarginParams,
    policy: &MarksPolicy,
) -> Result<SeriesMarks> {
    market.validate()?;
    params.validate()?;
    policy.validate()?;
    if now <= 0 {
        return Err(RiskError::TimeNotIncreasing);
    }
    let spot = market.spot;
    let seconds = expiry.saturating_sub(now).max(0);
    let t = years_from_seconds(seconds)?;
    let g = greeks(kind, spot, strike, market.vol, t)?;
    let root_t = sqrt(t)?;
    let std_dev = market.vol.mul_c(root_t)?;
    let unit = ShortOption {
        kind,
        units: ONE,
        strike,
        price: g.price,
        delta: g.delta,
        gamma: g.gamma,
        std_dev,
        bounds: BoundTerms::new(kind, spot, strike, g.delta, g.gamma, std_dev)?,
    };
    // K·φ(0)·σ·(√T0 − √(T0 − age)): the most time value a long unit loses within the age.
    let root_later = sqrt(years_from_seconds(seconds.saturating_sub(policy.max_age).max(0))?)?;
    let decay = INV_SQRT_2PI.mul_c(strike)?.mul_c(market.vol)?.mul_c(root_t.sub_c(root_later)?)?;
    let mut bounds = [[[ZERO; SIDES]; RANGES]; 2];
    for (level, out) in LEVELS.iter().zip(bounds.iter_mut()) {
        let p = level_params(&market.scenario, params, *level)?;
        let ranges = [p.max_price_shock, extreme_range(&p)?];
        for (range, sides) in ranges.into_iter().zip(out.iter_mut()) {
            let r = widened(range, policy.max_drift)?;
            sides[0] = shortfall_bound(&unit, spot, r)?;
            sides[1] = overstatement_bound(&unit, spot, r)?.add_c(decay)?;
        }
    }
    Ok(SeriesMarks {
        basis: MarksBasis {
            computed_at: now,
            spot,
            vol: market.vol,
            max_price_shock: market.scenario.max_price_shock,
            extreme_multiple: market.scenario.extreme_multiple,
        },
        greeks: g,
        bounds,
    })
}

impl SeriesMarks {
    /// Whether these marks may value a position on `market` at `now` (see the module docs).
    pub fn check(&self, market: &UnderlyingMarket, now: i64, policy: &MarksPolicy) -> Result<()> {
        self.check_basis(market, now, policy)?;
        check_drift(self.basis.spot, market.spot, policy)
    }

    /// Every condition of `check` except the spot drift (checked once per reference spot).
    fn check_basis(&self, market: &UnderlyingMarket, now: i64, policy: &MarksPolicy) -> Result<()> {
        let b = &self.basis;
        if b.computed_at == 0 {
            return Err(RiskError::MarksMissing);
        }
        let age = now.checked_sub(b.computed_at).ok_or(RiskError::Overflow)?;
        if !(0..=policy.max_age).contains(&age) {
            return Err(RiskError::MarksTooOld);
        }
        if market.vol != b.vol
            || market.scenario.max_price_shock > b.max_price_shock
            || market.scenario.extreme_multiple > b.extreme_multiple
        {
            return Err(RiskError::MarksParamsChanged);
        }
        Ok(())
    }
}

/// |S − S0| ≤ D·S0.
fn check_drift(reference: Fx, spot: Fx, policy: &MarksPolicy) -> Result<()> {
    if spot.sub_c(reference)?.abs_c()? > reference.mul_c(policy.max_drift)? {
        return Err(RiskError::MarksSpotDrift);
    }
    Ok(())
}

/// Size-weighted Greeks of the options of one underlying marked at one reference spot S0
/// (in practice: all of them, one crank pass marks every series at once). The shift to the
/// current spot is linear in the Greeks, so it is applied once to the sums instead of to each
/// series: Σs·V' = Σs·V + a·Σs·Δ + ½a²·Σs·Γ, Σs·Δ' = Σs·Δ + a·Σs·Γ, Σs·vega' = Σs·vega +
/// a·Σs·vanna.
#[derive(Debug, Clone, Copy)]
struct MarkedGroup {
    reference: Fx,
    value: Fx,
    delta: Fx,
    gamma: Fx,
    vega: Fx,
    vanna: Fx,
}

impl MarkedGroup {
    /// Adds the group's sums, shifted to the exposure's spot, to `e` (gamma, vanna and volga
    /// are added per position). Products are sign-magnitude (`signed_mul`), so a book and
    /// its mirror still net to exactly zero.
    fn shift_into(&self, e: &mut NetExposure, policy: &MarksPolicy) -> Result<()> {
        check_drift(self.reference, e.spot, policy)?;
        let a = e.spot.sub_c(self.reference)?;
        let half_a2 = a.mul_c(a)?.mul_c(HALF)?;
        let times_a = |x: Fx| -> Result<Fx> {
            let m = signed_mul(x, a.abs_c()?)?;
            if a < ZERO {
                m.neg_c()
            } else {
                Ok(m)
            }
        };
        let value = self.value.add_c(times_a(self.delta)?)?.add_c(signed_mul(self.gamma, half_a2)?)?;
        e.value = e.value.add_c(value)?;
        e.delta = e.delta.add_c(self.delta.add_c(times_a(self.gamma)?)?)?;
        e.vega = e.vega.add_c(self.vega.add_c(times_a(self.vanna)?)?)?;
        Ok(())
    }
}

/// An underlying's current market data and its marks policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkedUnderlying {
    pub market: UnderlyingMarket,
    pub policy: MarksPolicy,
    /// The oracle's EMA ("stable") price, quote units per underlying unit; zero: none. Gains
    /// of the book since the EMA count only at the EMA for the initial level (see
    /// [`stable_price_charge`]).
    pub stable_price: Fx,
}

impl MarkedUnderlying {
    /// An underlying without a stable price (no charge).
    pub fn new(market: UnderlyingMarket, policy: MarksPolicy) -> Self {
        MarkedUnderlying { market, policy, stable_price: ZERO }
    }
}

/// The initial-level charge that values a book's gains at the conservative side of (spot,
/// EMA): `max(0, Δ × (spot − EMA))`, quote units, for net delta Δ (underlying units). A long
/// book counts at min(spot, EMA), a short one at max(spot, EMA), as collateral does, so a
/// spot print above the EMA cannot raise what gates withdrawals and new risk at once. Linear
/// in Δ: exact for perps; for options the gap is second order (½Γ(spot − EMA)²) and within
/// the grid's price shocks. Zero without a stable price.
pub fn stable_price_charge(delta: Fx, spot: Fx, stable_price: Fx) -> Result<Fx> {
    if stable_price <= ZERO {
        return Ok(ZERO);
    }
    Ok(delta.mul_c(spot.sub_c(stable_price)?)?.max(ZERO))
}

/// A position valued from marks: a perp (`marks: None`) or an option series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkedPosition {
    pub underlying: u16,
    /// Signed size, underlying units.
    pub size: Fx,
    pub marks: Option<SeriesMarks>,
}

/// An underlying's netted exposure at the current spot and its add-ons per level
/// (`[level][range]`, quote units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkedBook {
    pub exposure: NetExposure,
    pub addons: [[Fx; RANGES]; 2],
    /// The underlying's stable (EMA) price; zero: none.
    pub stable_price: Fx,
}

impl MarkedBook {
    /// The requirement at `level`; the initial level includes the stable-price charge.
    pub fn requirement(&self, params: &MarginParams, level: Level) -> Result<RequirementBreakdown> {
        let index = usize::from(level == Level::Initial);
        let p = level_params(&self.exposure.scenario, params, level)?;
        let [grid, extreme] = self.addons[index];
        let mut r = requirement_with_addons(&self.exposure, &p, Addons { grid, extreme, value_error: grid })?;
        if level == Level::Initial {
            let e = &self.exposure;
            let charge = stable_price_charge(e.delta, e.spot, self.stable_price)?;
            r.requirement = r.requirement.add_c(charge)?;
        }
        Ok(r)
    }
}

fn new_book(u: &MarkedUnderlying) -> Result<MarkedBook> {
    u.market.validate()?;
    u.policy.validate()?;
    Ok(MarkedBook {
        exposure: NetExposure::empty(&u.market),
        addons: [[ZERO; RANGES]; 2],
        stable_price: u.stable_price,
    })
}

/// Adds one position to its book (an option's value, delta and vega to its reference spot's
/// group in `groups`); returns the signed option units it adds (0 for a perp).
fn add_position(
    book: &mut MarkedBook,
    groups: &mut Vec<MarkedGroup>,
    p: &MarkedPosition,
    u: &MarkedUnderlying,
    now: i64,
) -> Result<Fx> {
    let e = &mut book.exposure;
    let Some(marks) = &p.marks else {
        e.delta = e.delta.add_c(p.size)?;
        e.value = e.value.add_c(signed_mul(p.size, e.spot)?)?;
        return Ok(ZERO);
    };
    marks.check_basis(&u.market, now, &u.policy)?;
    let g = &marks.greeks;
    let reference = marks.basis.spot;
    let group = match groups.iter_mut().find(|x| x.reference == reference) {
        Some(x) => x,
        None => {
            groups.push(MarkedGroup {
                reference,
                value: ZERO,
                delta: ZERO,
                gamma: ZERO,
                vega: ZERO,
                vanna: ZERO,
            });
            groups.last_mut().ok_or(RiskError::Overflow)?
        }
    };
    group.value = group.value.add_c(signed_mul(p.size, g.price)?)?;
    group.delta = group.delta.add_c(signed_mul(p.size, g.delta)?)?;
    let gamma = signed_mul(p.size, g.gamma)?;
    group.gamma = group.gamma.add_c(gamma)?;
    e.gamma = e.gamma.add_c(gamma)?;
    group.vega = group.vega.add_c(signed_mul(p.size, g.vega)?)?;
    let vanna = signed_mul(p.size, g.vanna)?;
    group.vanna = group.vanna.add_c(vanna)?;
    e.vanna = e.vanna.add_c(vanna)?;
    e.volga = e.volga.add_c(signed_mul(p.size, g.volga)?)?;
    let side = usize::from(p.size > ZERO);
    let units = p.size.abs_c()?;
    for (addons, bounds) in book.addons.iter_mut().zip(&marks.bounds) {
        for (addon, sides) in addons.iter_mut().zip(bounds) {
            *addon = addon.add_c(units.mul_c(sides[side])?)?;
        }
    }
    Ok(p.size)
}

/// Per-underlying books of `positions`, in the order of `underlyings` (those without a
/// position omitted). Each position is one instrument (the program never holds two slots of
/// the same instrument), so its bound side is its own sign.
pub fn marked_books(
    positions: &[MarkedPosition],
    underlyings: &[MarkedUnderlying],
    now: i64,
) -> Result<Vec<MarkedBook>> {
    let mut books: Vec<MarkedBook> = Vec::with_capacity(underlyings.len().min(positions.len()));
    for u in underlyings {
        let mine = positions.iter().filter(|p| p.underlying == u.market.index);
        let mut book: Option<MarkedBook> = None;
        let mut groups: Vec<MarkedGroup> = Vec::new();
        let mut units = ZERO;
        for p in mine {
            let b = match &mut book {
                Some(b) => b,
                None => book.insert(new_book(u)?),
            };
            units = units.add_c(add_position(b, &mut groups, p, u, now)?)?;
        }
        if let Some(mut b) = book {
            for g in &groups {
                g.shift_into(&mut b.exposure, &u.policy)?;
            }
            b.exposure.net_short_options = units.neg_c()?.max(ZERO);
            books.push(b);
        }
    }
    if let Some(p) = positions.iter().find(|p| !underlyings.iter().any(|u| u.market.index == p.underlying)) {
        return Err(RiskError::UnknownUnderlying(p.underlying));
    }
    Ok(books)
}

/// Health at one level: weighted collateral + Σ marked values − Σ requirements at `level`.
pub fn marked_health(
    positions: &[MarkedPosition],
    balances: &[Balance],
    collateral: &[CollateralMarket],
    underlyings: &[MarkedUnderlying],
    now: i64,
    params: &MarginParams,
    level: Level,
) -> Result<Fx> {
    params.validate()?;
    let mut value = ZERO;
    let mut requirement = ZERO;
    for book in marked_books(positions, underlyings, now)? {
        value = value.add_c(book.exposure.value)?;
        requirement = requirement.add_c(book.requirement(params, level)?.requirement)?;
    }
    health_from(value, requirement, balances, collateral, level)
}

/// The full report (both levels, per underlying) from marks.
pub fn marked_margin(
    positions: &[MarkedPosition],
    balances: &[Balance],
    collateral: &[CollateralMarket],
    underlyings: &[MarkedUnderlying],
    now: i64,
    params: &MarginParams,
) -> Result<MarginReport> {
    params.validate()?;
    let books = marked_books(positions, underlyings, now)?;
    let mut reports = Vec::with_capacity(books.len());
    let (mut initial, mut maintenance) = (ZERO, ZERO);
    for book in books {
        let report = UnderlyingReport {
            exposure: book.exposure,
            initial: book.requirement(params, Level::Initial)?,
            maintenance: book.requirement(params, Level::Maintenance)?,
        };
        initial = initial.add_c(report.initial.requirement)?;
        maintenance = maintenance.add_c(report.maintenance.requirement)?;
        reports.push(report);
    }
    report_from(initial, maintenance, reports, balances, collateral)
}

/// Marks of an expired series whose settlement price is recorded: worth `value` per unit (its
/// payoff, quote units), with no risk left, valid at `market` and `now`.
pub fn settled_marks(value: Fx, market: &UnderlyingMarket, now: i64) -> SeriesMarks {
    SeriesMarks {
        basis: MarksBasis {
            computed_at: now,
            spot: market.spot,
            vol: market.vol,
            max_price_shock: market.scenario.max_price_shock,
            extreme_multiple: market.scenario.extreme_multiple,
        },
        greeks: OptionGreeks { price: value, delta: ZERO, gamma: ZERO, vega: ZERO, vanna: ZERO, volga: ZERO },
        bounds: [[[ZERO; SIDES]; RANGES]; 2],
    }
}
