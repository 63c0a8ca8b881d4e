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
//! the widened range [−R_down, R_up] (`widened`), where R is the grid (±P) or largest tail
//! (±multiple·P) range of the level (below 1: the grid's P is, the tail's is capped at
//! `MAX_SHOCK`) and D the policy's largest drift
//! |S − S0|/S0: every scenario spot S·(1 + p), |p| ≤ R, lies in S0·[(1 − D)(1 − R),
//! (1 + D)(1 + R)], so R_up = R·(1 + D) + D (not capped: a capped upper end left the spots
//! between 1.99·S0 and 1.99·S unbounded once a drifted grid reached the cap) and R_down =
//! R·(1 − D) + D < 1, taken no smaller than the former symmetric range R·(1 + D) + D capped at
//! `MAX_SHOCK`, so no bound is below what it was. The bounds are suprema over the interval,
//! so they cover the current value's own error too (p = 0): `Addons::value_error`.
//! Time: marks are valued at their computation time t0. A short option is worth less (to its
//! holder: owes less) later, so t0 is conservative; a long option loses at most
//! K·φ(0)·σ·(√T0 − √(T0 − age)) of time value (r = 0: ∂V/∂T = K·φ(d2)·σ/(2√T)), which is
//! added to its bounds for the policy's largest age.
//!
//! **When marks may be used** (`SeriesMarks::check`): computed (t0 ≠ 0), for an initial
//! scale at least the one in force (the policy's `initial_scale`: the initial bounds cover
//! that level's grid, so a raise refuses marks computed before it, a lowering keeps them),
//! not older than the largest age, the same implied vol and vol scaling, the current largest price shock and
//! largest tail multiple not above those the bounds were computed for, |S − S0| ≤ D·S0. Otherwise a specific error:
//! the caller refreshes the marks (a permissionless crank) and retries.
use alloc::vec::Vec;

use crate::bs::{greeks_and_std_dev, OptionGreeks, OptionKind};
use crate::collateral::{Balance, CollateralMarket, Level};
use crate::convexity::{convexity_bounds, Range};
use crate::error::{Result, RiskError};
use crate::fx::{half, years_from_seconds, Checked, Fx, INV_SQRT_2PI, ONE, ZERO};
use crate::grid::{
    requirement_bounded_terms, tail_range, Addons, BookTerms, JointLeg, RequirementBreakdown, ScenarioParams,
    MAX_SHOCK,
};
use crate::links::{linked_exposures, LinkedUnderlying};
use crate::margin::{
    health_from_linked, report_from, totals_from, MarginParams, MarginReport, MarginTotals, Requirements,
    UnderlyingReport,
};
use crate::math::sqrt;
use crate::offsets::{total_credit, OffsetPart};
use crate::portfolio::{
    shock_scaled, signed_mul, BoundTerms, NetExposure, PositionRisk, ShortOption, UnderlyingMarket,
};
use crate::scenarios::VolScaling;

/// Margin levels, in the order of `SeriesMarks::bounds`' first index.
pub const LEVELS: [Level; 2] = [Level::Maintenance, Level::Initial];
/// Bound ranges: the grid's ±P, then the largest tail move's ±multiple·P.
pub const RANGES: usize = 2;
/// Bound sides: a net short unit (shortfall bound), then a net long unit (overstatement
/// bound plus the time-decay allowance).
pub const SIDES: usize = 2;

/// How far marks may be from the present. The drift and age are fixed per market when it is
/// created (marks computed under one policy are only valid under it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarksPolicy {
    /// Largest |S − S0| / S0, a fraction in [0.001, 0.25].
    pub max_drift: Fx,
    /// Largest age of marks, seconds, in [60, 7 days].
    pub max_age: i64,
    /// The initial-margin scale in force (`MarginParams::initial_scale`): marks whose initial
    /// bounds were computed for a smaller one are refused (`MarksParamsChanged`).
    pub initial_scale: Fx,
}

impl MarksPolicy {
    /// A policy under the reference initial scale (`MarginParams::REFERENCE`).
    pub const fn new(max_drift: Fx, max_age: i64) -> MarksPolicy {
        MarksPolicy { max_drift, max_age, initial_scale: MarginParams::REFERENCE.initial_scale }
    }

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
    /// Maintenance largest price shock P and largest tail multiple the bounds cover.
    pub max_price_shock: Fx,
    pub tail_multiple: Fx,
    /// The expiry scaling the vol Greeks were scaled by (`SeriesMarks::greeks`).
    pub vol_scaling: VolScaling,
    /// The initial-margin scale the initial-level bounds cover (`MarginParams::initial_scale`).
    pub initial_scale: Fx,
}

/// One option series' marks: per-unit value and Greeks at the basis — vega, vanna and volga
/// per unit of the underlying's base vol shock (`portfolio::shock_scaled`, with the scale at
/// the end of the marks' life: the shortest time to expiry they may be used at, so each series
/// is shocked at least its own expiry-scaled shock) — and per-unit convexity bounds
/// `bounds[level][range][side]` (quote units per underlying unit of size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesMarks {
    pub basis: MarksBasis,
    pub greeks: OptionGreeks,
    pub bounds: [[[Fx; SIDES]; RANGES]; 2],
}

/// The shocks around S0 that a range R at a spot drifted by up to D reaches (module docs):
/// up R·(1 + D) + D, down max(R·(1 − D) + D, min(R·(1 + D) + D, `MAX_SHOCK`)).
pub fn widened(range: Fx, drift: Fx) -> Result<Range> {
    let up = range.mul_c(ONE.add_c(drift)?)?.add_c(drift)?;
    let exact_down = range.mul_c(ONE.sub_c(drift)?)?.add_c(drift)?;
    Ok(Range { down: exact_down.max(up.min(MAX_SHOCK)), up })
}

/// The grid of a level: the maintenance grid, or the initial one (shocks scaled).
pub fn level_params(
    scenario: &ScenarioParams,
    params: &MarginParams,
    level: Level,
) -> Result<ScenarioParams> {
    params.level_params(scenario, level)
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
    let marking = Marking::new(market, now, params, policy)?;
    marking.series(kind, strike, expiry, marking.vol_scale(expiry)?)
}

/// The expiry scale of the vol Greeks a series expiring at `expiry` is marked with at `now`:
/// the scale at the end of the marks' life (`SeriesMarks`). The same for every series of one
/// expiry, so a crank marking several computes it once per expiry.
pub fn marks_vol_scale(market: &UnderlyingMarket, expiry: i64, now: i64, policy: &MarksPolicy) -> Result<Fx> {
    let seconds = expiry.saturating_sub(now).max(0);
    market.scenario.vol_scaling.scale(seconds.saturating_sub(policy.max_age))
}

/// One crank pass over a market's series: the inputs validated once, and what every series
/// shares — the four ranges its bounds cover (`[level][range]`: each level's grid and largest
/// tail range, widened for the policy's drift) and the basis. Validating and deriving these
/// per series was ~8k compute units of each series' ~42k in a batch (measured on sBPF).
#[derive(Debug, Clone, Copy)]
pub struct Marking {
    market: UnderlyingMarket,
    policy: MarksPolicy,
    now: i64,
    ranges: [Range; 2 * RANGES],
    basis: MarksBasis,
}

impl Marking {
    /// Validates `market`, `params` and `policy` and derives the shared ranges.
    pub fn new(
        market: &UnderlyingMarket,
        now: i64,
        params: &MarginParams,
        policy: &MarksPolicy,
    ) -> Result<Marking> {
        market.validate()?;
        params.validate()?;
        policy.validate()?;
        if now <= 0 {
            return Err(RiskError::TimeNotIncreasing);
        }
        let mut ranges = [Range::symmetric(ZERO); 2 * RANGES];
        for (level, out) in LEVELS.iter().zip(ranges.chunks_mut(RANGES)) {
            let p = level_params(&market.scenario, params, *level)?;
            for (range, r) in [p.max_price_shock, tail_range(&p)?].into_iter().zip(out.iter_mut()) {
                *r = widened(range, policy.max_drift)?;
            }
        }
        let basis = MarksBasis {
            computed_at: now,
            spot: market.spot,
            vol: market.vol,
            max_price_shock: market.scenario.max_price_shock,
            tail_multiple: market.scenario.tail.largest_multiple(),
            vol_scaling: market.scenario.vol_scaling,
            initial_scale: params.initial_scale,
        };
        Ok(Marking { market: *market, policy: *policy, now, ranges, basis })
    }

    /// [`marks_vol_scale`] of a series expiring at `expiry`.
    pub fn vol_scale(&self, expiry: i64) -> Result<Fx> {
        marks_vol_scale(&self.market, expiry, self.now, &self.policy)
    }

    /// The marks of one series, with its expiry's vol scale `scale` ([`Self::vol_scale`]).
    pub fn series(&self, kind: OptionKind, strike: Fx, expiry: i64, scale: Fx) -> Result<SeriesMarks> {
        let (market, spot) = (&self.market, self.market.spot);
        let seconds = expiry.saturating_sub(self.now).max(0);
        let t = years_from_seconds(seconds)?;
        // √T and σ√T as Black-Scholes computed them (t ≥ 0 here: the same as `sqrt(t)`).
        let (g, root_t, std_dev) = greeks_and_std_dev(kind, spot, strike, market.vol, t)?;
        let shocked = shock_scaled(
            PositionRisk {
                value: g.price,
                delta: g.delta,
                gamma: g.gamma,
                vega: g.vega,
                vanna: g.vanna,
                volga: g.volga,
            },
            scale,
        )?;
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
        let root_later = sqrt(years_from_seconds(seconds.saturating_sub(self.policy.max_age).max(0))?)?;
        let decay = INV_SQRT_2PI.mul_c(strike)?.mul_c(market.vol)?.mul_c(root_t.sub_c(root_later)?)?;
        // The four ranges at once: the bounds' interior points are evaluated once for all of
        // them (`convexity`).
        let (shortfall, overstatement) = convexity_bounds(&unit, spot, self.ranges)?;
        let mut bounds = [[[ZERO; SIDES]; RANGES]; 2];
        for ((sides, short), long) in bounds.iter_mut().flatten().zip(shortfall).zip(overstatement) {
            *sides = [short, long.add_c(decay)?];
        }
        Ok(SeriesMarks {
            basis: self.basis,
            greeks: OptionGreeks { vega: shocked.vega, vanna: shocked.vanna, volga: shocked.volga, ..g },
            bounds,
        })
    }
}

impl SeriesMarks {
    /// Never marked (`computed_at` 0: refused as `MarksMissing`), every number zero: a value
    /// to overwrite field by field (a loader writing each field in place avoids building the
    /// ~360-byte marks on the stack and copying them, which sBPF pays per word).
    pub const UNMARKED: SeriesMarks = SeriesMarks {
        basis: MarksBasis {
            computed_at: 0,
            spot: ZERO,
            vol: ZERO,
            max_price_shock: ZERO,
            tail_multiple: ZERO,
            vol_scaling: VolScaling::FLAT,
            initial_scale: ZERO,
        },
        greeks: OptionGreeks { price: ZERO, delta: ZERO, gamma: ZERO, vega: ZERO, vanna: ZERO, volga: ZERO },
        bounds: [[[ZERO; SIDES]; RANGES]; 2],
    };

    /// Whether these marks may value a position on `market` at `now` (see the module docs).
    pub fn check(&self, market: &UnderlyingMarket, now: i64, policy: &MarksPolicy) -> Result<()> {
        self.check_basis(market, market.scenario.tail.largest_multiple(), now, policy)?;
        check_drift(self.basis.spot, market.spot, policy)
    }

    /// Every condition of `check` except the spot drift (checked once per reference spot);
    /// `tail_multiple` is `market`'s largest tail multiple (computed once per underlying).
    fn check_basis(
        &self,
        market: &UnderlyingMarket,
        tail_multiple: Fx,
        now: i64,
        policy: &MarksPolicy,
    ) -> Result<()> {
        let b = &self.basis;
        if b.computed_at == 0 {
            return Err(RiskError::MarksMissing);
        }
        let age = now.checked_sub(b.computed_at).ok_or(RiskError::Overflow)?;
        if !(0..=policy.max_age).contains(&age) {
            return Err(RiskError::MarksTooOld);
        }
        if market.vol != b.vol
            || policy.initial_scale > b.initial_scale
            || market.scenario.max_price_shock > b.max_price_shock
            || tail_multiple > b.tail_multiple
            || market.scenario.vol_scaling != b.vol_scaling
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
    /// Σ size × (value, Δ, Γ, vega, vanna, volga), in `OptionGreeks` order ([`GREEKS`]).
    sums: [Fx; GREEKS],
}

/// The per-unit numbers of a series that netting sums: value and five Greeks.
const GREEKS: usize = 6;

/// The numbers of `g` netting sums, in [`MarkedGroup::sums`] order.
#[inline(always)]
fn greek_array(g: &OptionGreeks) -> [Fx; GREEKS] {
    [g.price, g.delta, g.gamma, g.vega, g.vanna, g.volga]
}

impl MarkedGroup {
    /// Adds `size` × each of `g`'s numbers to the sums: the same floored sign-magnitude
    /// products as `signed_mul`, with the size's sign and fast-path check taken once per
    /// position instead of once per product (netting runs this for every option).
    #[inline(always)]
    fn accumulate(&mut self, size: Fx, g: &OptionGreeks) -> Result<()> {
        let greeks = greek_array(g);
        let Some(s) = crate::fx::narrow(size) else {
            for (sum, x) in self.sums.iter_mut().zip(greeks) {
                *sum = sum.add_c(signed_mul(size, x)?)?;
            }
            return Ok(());
        };
        let (magnitude, negative) = (i128::from(s.unsigned_abs()), s < 0);
        for (sum, x) in self.sums.iter_mut().zip(greeks) {
            let product = match crate::fx::narrow(x) {
                // |s|·|x| < 2^126: cannot wrap.
                Some(x) => {
                    let m = magnitude.wrapping_mul(i128::from(x)) >> crate::fx::FRAC_BITS;
                    if negative {
                        m.wrapping_neg()
                    } else {
                        m
                    }
                }
                None => signed_mul(size, x)?.to_bits(),
            };
            *sum = Fx::from_bits(sum.to_bits().checked_add(product).ok_or(RiskError::Overflow)?);
        }
        Ok(())
    }

    /// Adds the group's sums, shifted to the exposure's spot, to `e`. Products are
    /// sign-magnitude (`signed_mul`), so a book and its mirror still net to exactly zero.
    // Inlined into both callers (netting, `unit_value`): with a second caller LLVM kept it out
    // of line, which cost health ~0.4k and trade ~0.9k compute units (measured).
    #[inline(always)]
    fn shift_into(&self, e: &mut NetExposure, policy: &MarksPolicy) -> Result<()> {
        check_drift(self.reference, e.spot, policy)?;
        let [value, delta, gamma, vega, vanna, volga] = self.sums;
        let a = e.spot.sub_c(self.reference)?;
        if a == ZERO {
            // Marked at the current spot: nothing to shift (every product below is zero).
            e.value = e.value.add_c(value)?;
            e.delta = e.delta.add_c(delta)?;
            e.vega = e.vega.add_c(vega)?;
            e.gamma = e.gamma.add_c(gamma)?;
            e.vanna = e.vanna.add_c(vanna)?;
            e.volga = e.volga.add_c(volga)?;
            return Ok(());
        }
        let magnitude = a.abs_c()?;
        let half_a2 = half(magnitude.mul_c(magnitude)?);
        let times_a = |x: Fx| -> Result<Fx> {
            let m = signed_mul(x, magnitude)?;
            if a < ZERO {
                m.neg_c()
            } else {
                Ok(m)
            }
        };
        let value = value.add_c(times_a(delta)?)?.add_c(signed_mul(gamma, half_a2)?)?;
        e.value = e.value.add_c(value)?;
        e.delta = e.delta.add_c(delta.add_c(times_a(gamma)?)?)?;
        e.vega = e.vega.add_c(vega.add_c(times_a(vanna)?)?)?;
        e.gamma = e.gamma.add_c(gamma)?;
        e.vanna = e.vanna.add_c(vanna)?;
        e.volga = e.volga.add_c(volga)?;
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
    /// An option's strike and expiry (only compared for equality: any one unit for all
    /// positions, the program uses the strike in quote native units): a call and a put with
    /// the same ones, marked on the same basis, net their convexity add-ons (put-call parity;
    /// see `portfolio::books`). `None`: the series' add-ons count alone.
    pub strike_expiry: Option<(Fx, i64)>,
}

impl MarkedPosition {
    /// A perpetual of `size` on `underlying`.
    pub fn perp(underlying: u16, size: Fx) -> MarkedPosition {
        MarkedPosition { underlying, size, marks: None, strike_expiry: None }
    }
}

/// An underlying's netted exposure at the current spot and its add-ons per level
/// (`[level][range]`, quote units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkedBook {
    pub exposure: NetExposure,
    /// Zero at a level the book was not built for (`built`).
    pub addons: [[Fx; RANGES]; 2],
    /// The underlying's stable (EMA) price; zero: none.
    pub stable_price: Fx,
    /// The levels (`LEVELS` order) whose add-ons were summed: both, or only the one an
    /// instruction needs (`marked_books_at`); a requirement at another is refused
    /// (`LevelNotBuilt`), never computed without its add-ons.
    built: [bool; 2],
}

impl MarkedBook {
    /// The requirement at `level`; the initial level includes the stable-price charge.
    pub fn requirement(&self, params: &MarginParams, level: Level) -> Result<RequirementBreakdown> {
        let mut r = self.scenario_requirement(params, level)?;
        r.requirement = r.requirement.add_c(self.stable_charge(level)?)?;
        Ok(r)
    }

    /// The add-ons of `level` (the value error is the grid add-on: marks are shifted);
    /// `LevelNotBuilt` when the book was built for the other level only.
    fn level_addons(&self, level: Level) -> Result<Addons> {
        let i = level_index(level);
        if !self.built[i] {
            return Err(RiskError::LevelNotBuilt);
        }
        let [grid, extreme] = self.addons[i];
        Ok(Addons { grid, extreme, value_error: grid })
    }

    /// The scenario requirement at `level`, without the stable-price charge.
    pub fn scenario_requirement(&self, params: &MarginParams, level: Level) -> Result<RequirementBreakdown> {
        self.scenario_requirement_with(&self.terms()?, params, level)
    }

    /// What [`Self::scenario_requirement_with`] needs at every level (computed once per book).
    pub fn terms(&self) -> Result<BookTerms> {
        BookTerms::of(&self.exposure, self.exposure.scenario.short_option_charge)
    }

    /// [`Self::scenario_requirement`] with the book's `terms` ([`Self::terms`]) given.
    pub fn scenario_requirement_with(
        &self,
        terms: &BookTerms,
        params: &MarginParams,
        level: Level,
    ) -> Result<RequirementBreakdown> {
        let scenario = &self.exposure.scenario;
        let shocks = params.level_shocks(scenario, level)?;
        requirement_bounded_terms(&self.exposure, terms, scenario, &shocks, self.level_addons(level)?)
    }

    /// The stable-price charge (initial level only; zero at maintenance).
    pub fn stable_charge(&self, level: Level) -> Result<Fx> {
        let e = &self.exposure;
        match level {
            Level::Initial => stable_price_charge(e.delta, e.spot, self.stable_price),
            Level::Maintenance => Ok(ZERO),
        }
    }

    /// The joint-scenario terms for offsets of the scenario requirement `r` at `level`.
    /// Separate from [`Self::scenario_requirement`] and computed only for a grouped
    /// underlying: they cost a few fixed-point products, and returning them with every
    /// requirement cost ~2k compute units of copying on sBPF (measured).
    pub fn joint_leg(
        &self,
        params: &MarginParams,
        level: Level,
        r: &RequirementBreakdown,
    ) -> Result<JointLeg> {
        let p = level_params(&self.exposure.scenario, params, level)?;
        JointLeg::new(&self.exposure, &p, self.level_addons(level)?, r)
    }
}

/// Σ values, the requirement at `level` after offset credits, and the credit, of `books`.
pub fn books_requirement(books: &[MarkedBook], params: &MarginParams, level: Level) -> Result<(Fx, Fx, Fx)> {
    let (mut value, mut requirement) = (ZERO, ZERO);
    let mut parts: Vec<OffsetPart> = Vec::new();
    for book in books {
        value = value.add_c(book.exposure.value)?;
        let r = book.scenario_requirement(params, level)?;
        requirement = requirement.add_c(r.requirement)?.add_c(book.stable_charge(level)?)?;
        if params.offsets.group_of(book.exposure.underlying).is_some() {
            let leg = book.joint_leg(params, level, &r)?;
            parts.push(OffsetPart { underlying: book.exposure.underlying, requirement: r.requirement, leg });
        }
    }
    let credit = total_credit(&params.offsets, &parts)?;
    Ok((value, requirement.sub_c(credit)?, credit))
}

/// Opens the book of `u` at the end of `books`: its inputs validated, its exposure empty.
/// Built in place (returning a ~500-byte book by value costs a few thousand compute units
/// of copying on sBPF).
fn open_book(books: &mut Vec<MarkedBook>, u: &MarkedUnderlying, built: [bool; 2]) -> Result<()> {
    u.market.validate()?;
    u.policy.validate()?;
    books.push(MarkedBook {
        exposure: NetExposure::empty(&u.market),
        addons: [[ZERO; RANGES]; 2],
        stable_price: u.stable_price,
        built,
    });
    Ok(())
}

/// The index of `level` in `LEVELS` (and in every `[_; 2]` per level).
fn level_index(level: Level) -> usize {
    usize::from(level == Level::Initial)
}

/// Per-unit convexity bounds `[level][range][side]`.
type Bounds = [[[Fx; SIDES]; RANGES]; 2];

/// Options of one strike and expiry marked on one basis: their net call-equivalent size and
/// the larger of their per-unit bounds (a call's and a put's are equal in exact arithmetic).
/// Borrows the first series' basis and bounds (netting keeps one per series, and copying
/// ~270 bytes each was a measurable part of it); owns the element-wise maximum only once a
/// second series joins.
struct SeriesNet<'a> {
    strike_expiry: (Fx, i64),
    basis: &'a MarksBasis,
    net: Fx,
    bounds: &'a Bounds,
    merged: Option<Bounds>,
}

impl SeriesNet<'_> {
    /// The per-unit bounds the net size is charged: the first series', or the maximum of all.
    fn bounds(&self) -> &Bounds {
        self.merged.as_ref().unwrap_or(self.bounds)
    }
}

/// Adds `units` × the bounds of `side` to the book's add-ons, at the levels it is built for.
fn add_bounds(book: &mut MarkedBook, units: Fx, side: usize, bounds: &Bounds) -> Result<()> {
    for ((addons, bounds), _) in
        book.addons.iter_mut().zip(bounds).zip(book.built).filter(|(_, built)| *built)
    {
        for (addon, sides) in addons.iter_mut().zip(bounds) {
            *addon = addon.add_c(units.mul_c(sides[side])?)?;
        }
    }
    Ok(())
}

/// Adds one position to its book (an option's value, delta and vega to its reference spot's
/// group in `groups`, its add-ons to `nets` when it has a strike and expiry); returns the
/// signed option units it adds (0 for a perp).
fn add_position<'a>(
    book: &mut MarkedBook,
    groups: &mut Vec<MarkedGroup>,
    nets: &mut Vec<SeriesNet<'a>>,
    p: &'a MarkedPosition,
    u: &MarkedUnderlying,
    tail_multiple: Fx,
    now: i64,
) -> Result<Fx> {
    let e = &mut book.exposure;
    e.gross_units = e.gross_units.add_c(p.size.abs_c()?)?;
    let Some(marks) = &p.marks else {
        e.delta = e.delta.add_c(p.size)?;
        e.value = e.value.add_c(signed_mul(p.size, e.spot)?)?;
        return Ok(ZERO);
    };
    marks.check_basis(&u.market, tail_multiple, now, &u.policy)?;
    let reference = marks.basis.spot;
    let group = match groups.iter_mut().find(|x| x.reference == reference) {
        Some(x) => x,
        None => {
            groups.push(MarkedGroup { reference, sums: [ZERO; GREEKS] });
            groups.last_mut().ok_or(RiskError::Overflow)?
        }
    };
    group.accumulate(p.size, &marks.greeks)?;
    match p.strike_expiry {
        Some(key) => match nets.iter_mut().find(|n| n.strike_expiry == key && *n.basis == marks.basis) {
            Some(n) => {
                n.net = n.net.add_c(p.size)?;
                let mut merged = *n.bounds();
                for (mine, theirs) in
                    merged.iter_mut().flatten().flatten().zip(marks.bounds.iter().flatten().flatten())
                {
                    *mine = (*mine).max(*theirs);
                }
                n.merged = Some(merged);
            }
            None => nets.push(SeriesNet {
                strike_expiry: key,
                basis: &marks.basis,
                net: p.size,
                bounds: &marks.bounds,
                merged: None,
            }),
        },
        None => add_bounds(book, p.size.abs_c()?, usize::from(p.size > ZERO), &marks.bounds)?,
    }
    Ok(p.size)
}

/// Per-underlying books of `positions`, in the order of `underlyings` (those without a
/// position omitted). Each side of an option's add-on applies to the net size of its strike
/// and expiry (calls and puts together, see `MarkedPosition::strike_expiry`).
pub fn marked_books(
    positions: &[MarkedPosition],
    underlyings: &[MarkedUnderlying],
    now: i64,
) -> Result<Vec<MarkedBook>> {
    marked_books_linked(positions, &[], underlyings, now)
}

/// As [`marked_books`], with linked collateral exposures `(underlying, units)` added to their
/// underlyings' deltas (a book is made for an underlying with only a linked balance).
pub fn marked_books_linked(
    positions: &[MarkedPosition],
    links: &[(u16, Fx)],
    underlyings: &[MarkedUnderlying],
    now: i64,
) -> Result<Vec<MarkedBook>> {
    marked_books_at(positions, links, underlyings, now, None)
}

/// As [`marked_books_linked`], with the add-ons of `level` only when given (`None`: both):
/// what a check at one level needs (an option's add-ons are four products per level).
/// A requirement at the other level is then refused (`LevelNotBuilt`).
pub fn marked_books_at(
    positions: &[MarkedPosition],
    links: &[(u16, Fx)],
    underlyings: &[MarkedUnderlying],
    now: i64,
    level: Option<Level>,
) -> Result<Vec<MarkedBook>> {
    marked_books_where(positions, links, underlyings, now, level, &[])
}

/// [`marked_books_at`] of the positions and links whose underlying is not in `skipped`, the
/// others ignored: the same books, errors and order as `marked_books_at` of a copy holding
/// only those (what a liquidation builds for the rest of the portfolio), without the copy of
/// every ~430-byte position.
pub fn marked_books_where(
    positions: &[MarkedPosition],
    links: &[(u16, Fx)],
    underlyings: &[MarkedUnderlying],
    now: i64,
    level: Option<Level>,
    skipped: &[u16],
) -> Result<Vec<MarkedBook>> {
    let built = match level {
        None => [true; 2],
        Some(l) => [level_index(l) == 0, level_index(l) == 1],
    };
    let mut books: Vec<MarkedBook> =
        Vec::with_capacity(underlyings.len().min(positions.len().saturating_add(links.len())));
    // Allocated once and reused per underlying (the on-chain bump allocator never frees).
    let mut nets: Vec<SeriesNet<'_>> =
        Vec::with_capacity(positions.iter().filter(|p| p.strike_expiry.is_some()).count());
    let mut groups: Vec<MarkedGroup> = Vec::new();
    for u in underlyings {
        let index = u.market.index;
        if skipped.contains(&index) {
            continue;
        }
        // The book of `u` is `books[open]` once it has a position or a link.
        let open = books.len();
        groups.clear();
        nets.clear();
        let mut units = ZERO;
        // Checked once per underlying, not per position (see `SeriesMarks::check_basis`).
        let tail_multiple = u.market.scenario.tail.largest_multiple();
        for p in positions.iter().filter(|p| p.underlying == index) {
            if books.len() == open {
                open_book(&mut books, u, built)?;
            }
            let b = books.last_mut().ok_or(RiskError::Overflow)?;
            units = units.add_c(add_position(b, &mut groups, &mut nets, p, u, tail_multiple, now)?)?;
        }
        for (_, linked) in links.iter().filter(|(i, _)| *i == index) {
            if books.len() == open {
                open_book(&mut books, u, built)?;
            }
            let b = books.last_mut().ok_or(RiskError::Overflow)?;
            b.exposure.delta = b.exposure.delta.add_c(*linked)?;
        }
        if books.len() > open {
            let b = books.last_mut().ok_or(RiskError::Overflow)?;
            for n in &nets {
                add_bounds(b, n.net.abs_c()?, usize::from(n.net > ZERO), n.bounds())?;
            }
            for g in &groups {
                g.shift_into(&mut b.exposure, &u.policy)?;
            }
            b.exposure.net_short_options = units.neg_c()?.max(ZERO);
        }
    }
    let known = |i: u16| skipped.contains(&i) || underlyings.iter().any(|u| u.market.index == i);
    if let Some(p) = positions.iter().find(|p| !known(p.underlying)) {
        return Err(RiskError::UnknownUnderlying(p.underlying));
    }
    if let Some((i, _)) = links.iter().find(|(i, _)| !known(*i)) {
        return Err(RiskError::UnknownUnderlying(*i));
    }
    Ok(books)
}

/// The value of one unit of `position`'s instrument: `marked_books` of that unit alone, the
/// same bits and the same errors in the same order (each underlying of its index — one, in
/// any valid input — validated, the marks checked against it, the value shifted to its spot;
/// the first one's value), without building the books. What a liquidation transfers a
/// position at, computed twice per liquidation.
pub fn unit_value(position: &MarkedPosition, underlyings: &[MarkedUnderlying], now: i64) -> Result<Fx> {
    let mut first = None;
    for u in underlyings.iter().filter(|u| u.market.index == position.underlying) {
        u.market.validate()?;
        u.policy.validate()?;
        let value = match &position.marks {
            // A perp's value in its book: 0 + 1 × spot.
            None => ZERO.add_c(signed_mul(ONE, u.market.spot)?)?,
            Some(marks) => {
                marks.check_basis(&u.market, u.market.scenario.tail.largest_multiple(), now, &u.policy)?;
                let mut group = MarkedGroup { reference: marks.basis.spot, sums: [ZERO; GREEKS] };
                group.accumulate(ONE, &marks.greeks)?;
                let mut e = NetExposure::empty(&u.market);
                group.shift_into(&mut e, &u.policy)?;
                e.value
            }
        };
        first = first.or(Some(value));
    }
    first.ok_or(RiskError::UnknownUnderlying(position.underlying))
}

/// `params` valid, and every underlying's marks policy checking marks against the initial
/// scale the grid uses (`InvalidMarginParams` otherwise): marks computed for a smaller scale
/// must not pass under a larger grid (`MarksPolicy::initial_scale`).
pub fn validate_marked_params(underlyings: &[MarkedUnderlying], params: &MarginParams) -> Result<()> {
    params.validate()?;
    if underlyings.iter().any(|u| u.policy.initial_scale != params.initial_scale) {
        return Err(RiskError::InvalidMarginParams);
    }
    Ok(())
}

/// The linked-valuation data of `underlyings`.
pub fn marked_linked_underlyings(
    underlyings: &[MarkedUnderlying],
    params: &MarginParams,
) -> Result<Vec<LinkedUnderlying>> {
    underlyings.iter().map(|u| LinkedUnderlying::of(&u.market, params)).collect()
}

/// Health at one level: weighted collateral + Σ marked values − the requirement at `level`
/// (linked collateral in its underlying's grid, offset credits subtracted).
pub fn marked_health(
    positions: &[MarkedPosition],
    balances: &[Balance],
    collateral: &[CollateralMarket],
    underlyings: &[MarkedUnderlying],
    now: i64,
    params: &MarginParams,
    level: Level,
) -> Result<Fx> {
    let MarkedInputs { books, linked, .. } =
        marked_inputs(positions, balances, collateral, underlyings, now, params, Some(level))?;
    let (value, requirement, _) = books_requirement(&books, params, level)?;
    health_from_linked(value, requirement, balances, collateral, &linked, level)
}

/// Every book's requirements at both levels (`LEVELS` order, stable-price charge included),
/// passed to `each` with its book; returns the totals after offset credits and the credits
/// (both `LEVELS` order).
fn both_levels(
    books: &[MarkedBook],
    params: &MarginParams,
    mut each: impl FnMut(&MarkedBook, &[RequirementBreakdown; 2]) -> Result<()>,
) -> Result<([Fx; 2], [Fx; 2])> {
    let mut parts: [Vec<OffsetPart>; 2] = [Vec::new(), Vec::new()];
    let mut totals = [ZERO; 2];
    for book in books {
        let u = book.exposure.underlying;
        let grouped = params.offsets.group_of(u).is_some();
        let terms = book.terms()?;
        let mut levels = [
            book.scenario_requirement_with(&terms, params, Level::Maintenance)?,
            book.scenario_requirement_with(&terms, params, Level::Initial)?,
        ];
        for (((r, level), total), parts) in levels.iter_mut().zip(LEVELS).zip(&mut totals).zip(&mut parts) {
            if grouped {
                let leg = book.joint_leg(params, level, r)?;
                parts.push(OffsetPart { underlying: u, requirement: r.requirement, leg });
            }
            r.requirement = r.requirement.add_c(book.stable_charge(level)?)?;
            *total = total.add_c(r.requirement)?;
        }
        each(book, &levels)?;
    }
    let credits = [total_credit(&params.offsets, &parts[0])?, total_credit(&params.offsets, &parts[1])?];
    Ok(([totals[0].sub_c(credits[0])?, totals[1].sub_c(credits[1])?], credits))
}

/// What the margin computations from marks start from.
struct MarkedInputs {
    /// Per-underlying books (at the levels `marked_inputs` was asked for), linked exposures
    /// included.
    books: Vec<MarkedBook>,
    /// Linked collateral exposures `(underlying, units)`.
    links: Vec<(u16, Fx)>,
    /// The linked-valuation data (empty without links).
    linked: Vec<LinkedUnderlying>,
}

/// [`MarkedInputs`] of a portfolio, its parameters validated, the books built for `level`
/// only when given (`marked_books_at`).
fn marked_inputs(
    positions: &[MarkedPosition],
    balances: &[Balance],
    collateral: &[CollateralMarket],
    underlyings: &[MarkedUnderlying],
    now: i64,
    params: &MarginParams,
    level: Option<Level>,
) -> Result<MarkedInputs> {
    validate_marked_params(underlyings, params)?;
    let links = linked_exposures(balances, collateral)?;
    let books = marked_books_at(positions, &links, underlyings, now, level)?;
    let linked = if links.is_empty() { Vec::new() } else { marked_linked_underlyings(underlyings, params)? };
    Ok(MarkedInputs { books, links, linked })
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
    let MarkedInputs { books, links, linked } =
        marked_inputs(positions, balances, collateral, underlyings, now, params, None)?;
    let mut reports = Vec::with_capacity(books.len());
    let (totals, credits) = both_levels(&books, params, |book, &[maintenance, initial]| {
        let u = book.exposure.underlying;
        let linked_units = crate::fx::sum(links.iter().filter(|(i, _)| *i == u).map(|(_, x)| *x))?;
        reports.push(UnderlyingReport { exposure: book.exposure, linked_units, initial, maintenance });
        Ok(())
    })?;
    let r = Requirements {
        initial: totals[1],
        maintenance: totals[0],
        initial_credit: credits[1],
        maintenance_credit: credits[0],
        underlyings: reports,
    };
    report_from(r, balances, collateral, &linked)
}

/// [`marked_margin`]'s totals without its per-underlying breakdown (equal to
/// `marked_margin(..)?.totals`, bit for bit): what the program computes.
pub fn marked_totals(
    positions: &[MarkedPosition],
    balances: &[Balance],
    collateral: &[CollateralMarket],
    underlyings: &[MarkedUnderlying],
    now: i64,
    params: &MarginParams,
) -> Result<MarginTotals> {
    let MarkedInputs { books, linked, .. } =
        marked_inputs(positions, balances, collateral, underlyings, now, params, None)?;
    crate::trace::mark("engine: books netted");
    let (requirements, credits) = both_levels(&books, params, |_, _| Ok(()))?;
    crate::trace::mark("engine: requirements and credits");
    let value = crate::fx::sum(books.iter().map(|b| b.exposure.value))?;
    let totals = totals_from(value, requirements, credits, balances, collateral, &linked);
    crate::trace::mark("engine: collateral and totals");
    totals
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
            tail_multiple: market.scenario.tail.largest_multiple(),
            vol_scaling: market.scenario.vol_scaling,
            // No bounds (all zero) cover any initial scale.
            initial_scale: Fx::MAX,
        },
        greeks: OptionGreeks { price: value, delta: ZERO, gamma: ZERO, vega: ZERO, vanna: ZERO, volga: ZERO },
        bounds: [[[ZERO; SIDES]; RANGES]; 2],
    }
}

/// The change of a portfolio's health, at `[maintenance, initial]` (`LEVELS` order), from a
/// trade that changed only the positions of one underlying `u` and the quote cash: from
/// `u`'s positions `before` and `after` and the cash before and after (quote units), without
/// the rest of the portfolio. `None` when `u` is in an offset group (its requirement then
/// moves the group's credit, which depends on the other members).
///
/// Exact when health is separable on `u`, which the caller establishes: no collateral
/// linked to `u` held, the quote weighted at 1 (`weighted_value` is then the balance itself,
/// at both levels). Health is then Σ weighted collateral + Σ values − Σ requirements, fixed-
/// point sums without rounding, and only `u`'s terms and the quote's move. The cash is
/// `cash[i]` = ⌊x_i⌋, the floored conversion of a native amount x_i to which the full
/// computation adds the rest of the portfolio's quote amounts R before converting:
/// ⌊x_1 + R⌋ − ⌊x_0 + R⌋ ≥ ⌊x_1⌋ − ⌊x_0⌋ − 1 unit of the last place, so one unit is
/// subtracted: the result is never above the change the full computation would find.
pub fn single_underlying_change(
    before: &[MarkedPosition],
    after: &[MarkedPosition],
    cash: [Fx; 2],
    u: &MarkedUnderlying,
    now: i64,
    params: &MarginParams,
) -> Result<Option<[Fx; 2]>> {
    if params.offsets.group_of(u.market.index).is_some() {
        return Ok(None);
    }
    let underlyings = core::slice::from_ref(u);
    let states = [before, after];
    if states.iter().flat_map(|s| s.iter()).any(|p| p.underlying != u.market.index) {
        return Err(RiskError::InvalidInstrument);
    }
    validate_marked_params(underlyings, params)?;
    // Value minus requirement of `u`'s book, `[state][level]`.
    let mut net = [[ZERO; 2]; 2];
    for (n, positions) in net.iter_mut().zip(states) {
        let books = marked_books_at(positions, &[], underlyings, now, None)?;
        for (n, level) in n.iter_mut().zip(LEVELS) {
            let (value, requirement, _) = books_requirement(&books, params, level)?;
            *n = value.sub_c(requirement)?;
        }
    }
    let cash_change = cash[1].sub_c(cash[0])?;
    let mut change = [ZERO; 2];
    for ((out, was), is) in change.iter_mut().zip(net[0]).zip(net[1]) {
        *out = cash_change.add_c(is.sub_c(was)?)?.sub_c(Fx::DELTA)?;
    }
    Ok(Some(change))
}
