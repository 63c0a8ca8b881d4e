//! The scenario grid: losses of a netted exposure under price × implied-vol shocks,
//! from the delta–gamma–vega expansion, plus the add-ons that guard it.
//!
//! For an underlying with spot S and netted Δ, Γ, vega V, vanna and volga, a price shock p
//! (fraction) and an implied-vol shock v (absolute, in vol units) lose, to second order,
//!
//! ```text
//! loss(p, v) = −((Δ + vanna·v)·S·p + ½·Γ·(S·p)² + V·v + ½·volga·v²)
//! ```
//!
//! The requirement of the underlying is
//!
//! ```text
//! max( worst over the rectangle p ∈ [−P, P], v ∈ [−v_down, +v_up] of loss(p, v)
//!        + convexity add-on (net options' higher-order error bounds at ±P),     grid
//!      max over tail rows (p_r = multiple·P, v_r, w_r) of
//!        w_r · (worst over p on the row's path of loss(p, v_r) + add-on at the
//!               largest tail move),                                              tail table
//!      c · S · net short option units )                                       short-option minimum
//! + |Δ| · conf                                                                 oracle confidence
//! ```
//!
//! Shocks are capped at 99% (`MAX_SHOCK`). The worst loss is found exactly on the
//! continuous rectangle (`worst_grid_loss`), so it is
//! never below the loss at any grid point and only grows with the shocks. The grid points
//! themselves (`scenario_table`) are what the CLI displays.
//! Cost per underlying is constant: O(positions + scenarios) overall.
//!
//! Where the expansion is weak — a short option whose strike the move crosses gains gamma
//! as it goes (third and higher order), and long options' gains are overstated at large
//! moves — the convexity add-on bounds the error per net option position (see
//! `shortfall_bound`, `overstatement_bound`); the tail table (`scenarios.rs`; its reference
//! keeps CME SPAN's "3× the price scan range, 35% of the loss") and the short-option minimum
//! (SPAN's "short option minimum") remain as floors. Vol Greeks are per unit of the base vol
//! shock, each series' scaled by its time to expiry (`scenarios::VolScaling`). `tests/expansion_vs_full.rs` measures the residual against
//! full revaluation.
use alloc::vec::Vec;

pub use crate::convexity::{overstatement_bound, shortfall_bound};
use crate::error::{Result, RiskError};
use crate::fx::{half, Checked, Fx, ONE, TWO, ZERO};
use crate::portfolio::{NetExposure, ShortOption, UnderlyingBook};
use crate::scenarios::{TailRow, TailTable, VolScaling};

/// Scenario-grid parameters of one underlying (maintenance level; the initial grid scales
/// the shocks by `MarginParams::initial_scale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScenarioParams {
    /// Largest price shock P, as a fraction of spot (0.15 = ±15%). In (0, 1).
    pub max_price_shock: Fx,
    /// Grid points per side: the grid is 0, ±P/n, ±2P/n, ..., ±P (2n+1 points, n ≥ 3).
    pub price_steps: u8,
    /// Implied-vol shock up (absolute: 0.25 = +25 vol points) of a series at the reference
    /// time to expiry (`vol_scaling`). ≥ 0.
    pub vol_shock_up: Fx,
    /// Implied-vol shock down (absolute, applied as −), same convention. ≥ 0.
    pub vol_shock_down: Fx,
    /// Tail scenarios (`scenarios.rs`): price moves in multiples of P, vol moves, weights.
    pub tail: TailTable,
    /// Short-option minimum c, as a fraction of spot per net short option unit. ≥ 0.
    pub short_option_charge: Fx,
    /// How each series' vol shocks scale with its time to expiry (`scenarios.rs`).
    pub vol_scaling: VolScaling,
    /// Quote depeg add-on per unit of gross notional (`depeg.rs`), in [0, 1]. Not governed
    /// per underlying: `MarginParams::level_params` fills it from the quote's current depeg
    /// (0 in stored parameters and at or above the threshold).
    pub quote_depeg_charge: Fx,
}

impl ScenarioParams {
    /// Reference parameters for examples and tests (governance sets real ones per
    /// underlying): ±15% in 3% steps (11 points), the tail table `REFERENCE_TAIL`,
    /// short-option minimum 1% of spot; vol +15 / −10 points at 30 days, scaled by
    /// (30 / max(days, 1))^0.3 (Derive's exponent for short-dated options).
    pub const REFERENCE: ScenarioParams = ScenarioParams {
        max_price_shock: Fx::lit("0.15"),
        price_steps: 5,
        vol_shock_up: Fx::lit("0.15"),
        vol_shock_down: Fx::lit("0.10"),
        tail: REFERENCE_TAIL,
        short_option_charge: Fx::lit("0.01"),
        vol_scaling: VolScaling::of(Fx::lit("30"), ONE, Fx::lit("0.3")),
        quote_depeg_charge: ZERO,
    };

    /// The parameters of earlier versions: the single extreme move (±3·P at 35%, flat vol)
    /// and flat vol shocks. The engine reproduces their numbers bit for bit.
    pub const LEGACY: ScenarioParams = ScenarioParams {
        tail: TailTable::SPAN_EXTREME,
        vol_scaling: VolScaling::FLAT,
        ..ScenarioParams::REFERENCE
    };

    pub fn validate(&self) -> Result<()> {
        let ok = self.max_price_shock > ZERO
            && self.max_price_shock < ONE
            && self.price_steps >= 3
            && self.vol_shock_up >= ZERO
            && self.vol_shock_down >= ZERO
            && self.short_option_charge >= ZERO
            && self.short_option_charge <= ONE
            && self.quote_depeg_charge >= ZERO
            && self.quote_depeg_charge <= ONE;
        if !ok {
            return Err(RiskError::InvalidScenarioParams);
        }
        self.tail.validate()?;
        self.vol_scaling.validate()
    }

    /// The same grid with price and vol shocks multiplied by `scale` (≥ 1): the initial grid.
    /// Tail price moves are multiples of P, so they scale with it; a tail row's vol move
    /// stays (each row's path at initial then contains its path at maintenance, so no row
    /// charges less at initial — a larger vol move with a capped price move need not).
    pub fn scaled(&self, scale: Fx) -> Result<ScenarioParams> {
        Ok(LevelShocks::of(self).scaled(scale)?.params(self))
    }

    /// The price move of a tail row: multiple × P, capped at ±`MAX_SHOCK` (a row both ways:
    /// the positive end).
    pub fn tail_move(&self, row: &TailRow) -> Result<Fx> {
        tail_move(self.max_price_shock, row)
    }
}

/// multiple × `p_max`, capped at ±`MAX_SHOCK` (`ScenarioParams::tail_move`).
fn tail_move(p_max: Fx, row: &TailRow) -> Result<Fx> {
    let multiple = row.price_multiple();
    let magnitude = p_max.mul_c(multiple.abs())?.min(MAX_SHOCK);
    if multiple < ZERO {
        magnitude.neg_c()
    } else {
        Ok(magnitude)
    }
}

/// The reference tail table (maintenance; `xmargin backtest` replays it): the old extreme
/// move ±3·P at 35% (CME SPAN), the same fall with implied vol up 25 points at 35% (a crash
/// comes with a vol spike: March 2020's −40% hour), and the same rise with vol up 25 points
/// at 20% (a squeeze; Paradex's SCAN weighs its up moves less). Moves stay within ±3·P: the
/// add-on that corrects the expansion of long options grows with the largest move (about as
/// its square), and larger multiples charged long-gamma books for moves the adaptive P
/// already scales into (3·P at the 21% floor is a 63% move).
pub const REFERENCE_TAIL: TailTable = TailTable::from_rows([
    TailRow::both_ways(Fx::lit("3"), ZERO, Fx::lit("0.35")),
    TailRow::new(Fx::lit("-3"), Fx::lit("0.25"), Fx::lit("0.35")),
    TailRow::new(Fx::lit("3"), Fx::lit("0.25"), Fx::lit("0.20")),
]);

/// Loss at price shock p and vol shock v:
/// −((Δ + vanna·v)·S·p + ½·Γ·(S·p)² + V·v + ½·volga·v²).
pub fn scenario_loss(e: &NetExposure, p: Fx, v: Fx) -> Result<Fx> {
    Quadratic::of(e)?.loss(p, v)
}

/// The loss as a quadratic in the shocks, loss = −(a·p + b·p² + c·v + d·v² + f·p·v), with
/// a = Δ·S, b = ½Γ·S², c = vega, d = ½volga, f = vanna·S. Computing the coefficients once
/// and evaluating each candidate in Horner form (4 multiplications instead of 9) is what
/// keeps the grid affordable on-chain, where it runs for every underlying at every level.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Quadratic {
    pub(crate) a: Fx,
    pub(crate) b: Fx,
    pub(crate) c: Fx,
    pub(crate) d: Fx,
    pub(crate) f: Fx,
}

impl Quadratic {
    pub(crate) fn of(e: &NetExposure) -> Result<Quadratic> {
        Ok(Quadratic {
            a: e.delta.mul_c(e.spot)?,
            b: half(e.gamma.mul_c(e.spot)?.mul_c(e.spot)?),
            c: e.vega,
            d: half(e.volga),
            f: e.vanna.mul_c(e.spot)?,
        })
    }

    /// −(p·(a + b·p + f·v) + v·(c + d·v)).
    fn loss(&self, p: Fx, v: Fx) -> Result<Fx> {
        let price = p.mul_c(self.a.add_c(self.b.mul_c(p)?)?.add_c(self.f.mul_c(v)?)?)?;
        let vol = v.mul_c(self.c.add_c(self.d.mul_c(v)?)?)?;
        price.add_c(vol)?.neg_c()
    }

    /// The p ∈ [−range, range] where the loss at vol shock v peaks inside the range: the top
    /// of the parabola, p* = −(a + f·v)/(2b), when long gamma (b > 0).
    fn price_vertex(&self, v: Fx, range: Fx) -> Result<Option<Fx>> {
        if self.b <= ZERO {
            return Ok(None);
        }
        let slope = if v == ZERO { self.a } else { self.a.add_c(self.f.mul_c(v)?)? };
        let p = slope.neg_c()?.div_c(self.b.mul_c(TWO)?)?;
        Ok((p.abs_c()? <= range).then_some(p))
    }
}

/// The vol-only part of `scenario_loss`: −(V·v + ½·volga·v²).
pub fn vol_loss(e: &NetExposure, v: Fx) -> Result<Fx> {
    e.vega.mul_c(v)?.add_c(half(e.volga.mul_c(v)?.mul_c(v)?))?.neg_c()
}

/// Largest price shock evaluated, grid or extreme: a fall of 100% or more has no meaning
/// (the spot would not be positive).
pub const MAX_SHOCK: Fx = Fx::lit("0.99");

/// The largest tail range: the largest |multiple| of the tail table × P, capped at
/// `MAX_SHOCK` (0 without rows). The tail's convexity add-on covers ±this range.
pub fn tail_range(params: &ScenarioParams) -> Result<Fx> {
    Ok(params.max_price_shock.mul_c(params.tail.largest_multiple())?.min(MAX_SHOCK))
}

/// The worst expansion loss over a tail row's path at the row's vol v: every price between
/// the spot and the move (one way: [0, move], both ways: [−move, move]) — the ends and the
/// parabola's top between them (both ways, the spot is inside the segment, so it is never
/// the supremum alone). The initial level scales P, so its path contains the maintenance
/// one at the same vol: a tail row never charges less at initial.
fn tail_row_loss(q: &Quadratic, params: &ScenarioParams, row: &TailRow) -> Result<Fx> {
    let end = params.tail_move(row)?;
    // At the row's vol v the loss is −(p·(slope + b·p) + vol part), slope = a + f·v and vol
    // part = v·(c + d·v) computed once. Without vol exposure (a perp book) the vol move
    // changes nothing: v = 0 gives the flat-vol products exactly (slope = a, vol part 0).
    let v = if q.c == ZERO && q.d == ZERO && q.f == ZERO { ZERO } else { row.vol_move() };
    let (slope, vol_part) = if v == ZERO {
        (q.a, ZERO)
    } else {
        (q.a.add_c(q.f.mul_c(v)?)?, v.mul_c(q.c.add_c(q.d.mul_c(v)?)?)?)
    };
    let at = |p: Fx| -> Result<Fx> { p.mul_c(slope.add_c(q.b.mul_c(p)?)?)?.add_c(vol_part)?.neg_c() };
    // The top of the parabola when long gamma: −slope/(2b).
    let vertex = if q.b > ZERO { Some(slope.neg_c()?.div_c(q.b.mul_c(TWO)?)?) } else { None };
    let (lo, hi) = if row.both_ways { (end.neg_c()?, end) } else { (end.min(ZERO), end.max(ZERO)) };
    let mut worst = at(lo)?.max(at(hi)?);
    if let Some(p) = vertex.filter(|p| *p >= lo && *p <= hi) {
        worst = worst.max(at(p)?);
    }
    Ok(worst)
}

/// The weighted loss of one tail row: w·(path loss + tail add-on) + (1 − w)·value error.
fn weighted_tail_loss(raw: Fx, row: &TailRow, addons: &Addons) -> Result<Fx> {
    let unweighted = ONE.sub_c(row.weight())?.mul_c(addons.value_error)?;
    raw.add_c(addons.extreme)?.mul_c(row.weight())?.add_c(unweighted)
}

/// [`weighted_tail_loss`] with one product instead of two, for the bounded (marks) path:
/// w·(path loss + tail add-on − value error) + value error, plus one unit of the last place
/// when the value error is not zero. Never below `weighted_tail_loss` (which floors both of
/// its products; this floors one, and the unit covers it), above it by at most two units of
/// the last place, 2^−47 quote units (`bounded_weighting_is_within_two_units`); equal when
/// the value error is zero.
fn weighted_tail_loss_bounded(raw: Fx, row: &TailRow, addons: &Addons) -> Result<Fx> {
    let e = addons.value_error;
    let weighted = raw.add_c(addons.extreme)?.sub_c(e)?.mul_c(row.weight())?.add_c(e)?;
    if e == ZERO {
        Ok(weighted)
    } else {
        weighted.add_c(Fx::DELTA)
    }
}

/// The worst weighted tail-row loss (0 without rows).
fn tail_loss(q: &Quadratic, params: &ScenarioParams, addons: &Addons) -> Result<Fx> {
    let mut worst: Option<Fx> = None;
    for row in params.tail.rows() {
        let loss = weighted_tail_loss(tail_row_loss(q, params, row)?, row, addons)?;
        worst = Some(worst.map_or(loss, |w| w.max(loss)));
    }
    Ok(worst.unwrap_or(ZERO))
}

/// Σ over net option positions of units × the bound over [−range, range]: shortfall bounds
/// for net short options, overstatement bounds for net long ones.
pub fn convexity_addon(options: &[ShortOption], spot: Fx, range: Fx) -> Result<Fx> {
    let mut total = ZERO;
    for o in options {
        let bound = if o.units < ZERO {
            overstatement_bound(o, spot, range)?
        } else {
            shortfall_bound(o, spot, range)?
        };
        total = total.add_c(o.units.abs_c()?.mul_c(bound)?)?;
    }
    Ok(total)
}

/// The worst expansion loss over the continuous rectangle p ∈ [−P, P], v ∈ [−down, up], and
/// where it occurs. The loss is a quadratic in (p, v), so the maximum is at a corner, at the
/// vertex of an edge, or at the interior critical point when the loss is concave: nine
/// candidates, each evaluated exactly. A supremum over the rectangle is never below any grid
/// cell and never decreases when the rectangle grows.
pub fn worst_grid_loss(e: &NetExposure, params: &ScenarioParams) -> Result<(Fx, Fx, Fx)> {
    worst_on_rectangle(&Quadratic::of(e)?, params)
}

fn worst_on_rectangle(q: &Quadratic, params: &ScenarioParams) -> Result<(Fx, Fx, Fx)> {
    let (p_max, v_lo, v_hi) = (params.max_price_shock, params.vol_shock_down.neg_c()?, params.vol_shock_up);
    let Quadratic { a, b, c, d, f } = *q;
    let mut worst = (ZERO, ZERO, ZERO);
    let mut consider = |p: Fx, v: Fx| -> Result<()> {
        let loss = q.loss(p, v)?;
        if loss > worst.0 {
            worst = (loss, p, v);
        }
        Ok(())
    };
    for p in [p_max.neg_c()?, p_max] {
        for v in [v_lo, v_hi] {
            consider(p, v)?;
        }
        if d > ZERO {
            // Along p fixed: top of −(d·v² + (c + f·p)·v) at v = −(c + f·p)/(2d).
            let v = c.add_c(f.mul_c(p)?)?.neg_c()?.div_c(d.mul_c(TWO)?)?;
            if v >= v_lo && v <= v_hi {
                consider(p, v)?;
            }
        }
    }
    for v in [v_lo, ZERO, v_hi] {
        if let Some(p) = q.price_vertex(v, p_max)? {
            consider(p, v)?;
        }
    }
    // Interior: ∇ = 0 ⇔ [2b f; f 2d]·(p, v) = −(a, c); a maximum when b > 0 and 4bd > f².
    if b > ZERO && d > ZERO {
        let det = b.mul_c(d)?.mul_i(4)?.sub_c(f.mul_c(f)?)?;
        if det > ZERO {
            let p = f.mul_c(c)?.sub_c(a.mul_c(d)?.mul_c(TWO)?)?.div_c(det)?;
            let v = f.mul_c(a)?.sub_c(c.mul_c(b)?.mul_c(TWO)?)?.div_c(det)?;
            if p.abs() <= p_max && v >= v_lo && v <= v_hi {
                consider(p, v)?;
            }
        }
    }
    Ok(worst)
}

/// How an underlying's requirement was reached (all in quote units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequirementBreakdown {
    /// Worst loss over the price × vol grid (expansion + convexity add-on).
    pub grid_loss: Fx,
    /// The convexity add-on of the net short options at ±P, included in `grid_loss`.
    pub convexity_addon: Fx,
    /// Price shock (fraction) and vol shock (vol units) of that worst loss.
    pub worst_price_shock: Fx,
    pub worst_vol_shock: Fx,
    /// Worst weighted tail-row loss (`scenarios.rs`).
    pub tail_loss: Fx,
    /// Short-option minimum charge.
    pub short_option_charge: Fx,
    /// |Δ|·conf.
    pub confidence_addon: Fx,
    /// Quote depeg contingency: charge × spot × gross units (`depeg.rs`).
    pub depeg_addon: Fx,
    /// max(grid, tail, short-option) + confidence + depeg add-ons; never negative.
    pub requirement: Fx,
}

/// The requirement of one underlying's book under `params` (already scaled for initial).
pub fn requirement(book: &UnderlyingBook, params: &ScenarioParams) -> Result<RequirementBreakdown> {
    Ok(requirement_parts(book, params)?.0)
}

/// The requirement of one underlying's book and the convexity add-ons it used.
pub fn requirement_parts(
    book: &UnderlyingBook,
    params: &ScenarioParams,
) -> Result<(RequirementBreakdown, Addons)> {
    let e = &book.exposure;
    let addon = convexity_addon(&book.short_options, e.spot, params.max_price_shock)?;
    let extreme_addon = convexity_addon(&book.short_options, e.spot, tail_range(params)?)?;
    let addons = Addons { grid: addon, extreme: extreme_addon, value_error: ZERO };
    Ok((requirement_with_addons(e, params, addons)?, addons))
}

/// Convexity add-ons of an underlying's net options, per unit of the book (quote units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addons {
    /// Bound of the expansion's error over the grid's price range ±P.
    pub grid: Fx,
    /// The same over the largest tail range (`tail_range`).
    pub extreme: Fx,
    /// Bound of the error of the book's current value itself (0 when options are valued at
    /// the current spot; the grid add-on when they are valued from marks at another spot,
    /// `marks.rs`). A tail row's loss is weighted by w < 1, so the part of it that is
    /// the value's own error must count in full: it adds (1 − w) × this.
    pub value_error: Fx,
}

/// The requirement of a netted exposure whose convexity add-ons are already known: computed
/// here from the net options (`requirement`) or read from per-series marks (`marks.rs`).
pub fn requirement_with_addons(
    e: &NetExposure,
    params: &ScenarioParams,
    addons: Addons,
) -> Result<RequirementBreakdown> {
    let q = Quadratic::of(e)?;
    let worst = worst_on_rectangle(&q, params)?;
    let tail_loss = tail_loss(&q, params, &addons)?;
    let fixed = FixedCharges::of(e, params.short_option_charge)?;
    assemble(e, &fixed, params.quote_depeg_charge, addons, worst, tail_loss)
}

/// The shocks that differ between margin levels (`MarginParams::level_shocks`): the rest of
/// a level's grid is the maintenance `ScenarioParams`. Passed instead of a whole scaled copy
/// of the parameters (256 bytes, copied per underlying and level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelShocks {
    pub max_price_shock: Fx,
    pub vol_shock_up: Fx,
    pub vol_shock_down: Fx,
    pub quote_depeg_charge: Fx,
}

impl LevelShocks {
    /// The shocks of `params` as they are.
    pub fn of(params: &ScenarioParams) -> LevelShocks {
        LevelShocks {
            max_price_shock: params.max_price_shock,
            vol_shock_up: params.vol_shock_up,
            vol_shock_down: params.vol_shock_down,
            quote_depeg_charge: params.quote_depeg_charge,
        }
    }

    /// Price and vol shocks multiplied by `scale` (`ScenarioParams::scaled`).
    pub fn scaled(&self, scale: Fx) -> Result<LevelShocks> {
        Ok(LevelShocks {
            max_price_shock: self.max_price_shock.mul_c(scale)?.min(MAX_SHOCK),
            vol_shock_up: self.vol_shock_up.mul_c(scale)?,
            vol_shock_down: self.vol_shock_down.mul_c(scale)?,
            // Zero without a depeg contingency (the usual case): one product saved per book.
            quote_depeg_charge: if self.quote_depeg_charge == ZERO {
                ZERO
            } else {
                self.quote_depeg_charge.mul_c(scale)?.min(ONE)
            },
        })
    }

    /// `base` with these shocks (the level's whole grid).
    pub fn params(&self, base: &ScenarioParams) -> ScenarioParams {
        ScenarioParams {
            max_price_shock: self.max_price_shock,
            vol_shock_up: self.vol_shock_up,
            vol_shock_down: self.vol_shock_down,
            quote_depeg_charge: self.quote_depeg_charge,
            ..*base
        }
    }
}

/// The charges of a book that are the same at every margin level: the short-option minimum
/// (its fraction is not scaled) and the confidence add-on.
#[derive(Debug, Clone, Copy)]
struct FixedCharges {
    short_option_charge: Fx,
    confidence_addon: Fx,
}

impl FixedCharges {
    fn of(e: &NetExposure, short_option_fraction: Fx) -> Result<FixedCharges> {
        // Zero without net short options (0 × anything is exactly 0): two 128-bit products
        // saved per book that is net long options or has none.
        let short_option_charge = if e.net_short_options == ZERO {
            ZERO
        } else {
            e.net_short_options.mul_c(e.spot)?.mul_c(short_option_fraction)?
        };
        Ok(FixedCharges { short_option_charge, confidence_addon: e.delta.abs_c()?.mul_c(e.conf)? })
    }
}

/// What a book's requirement needs at every level, computed once per book: its loss
/// quadratic in 64-bit form (`grid64.rs`; `None` outside its bounds: the exact path then
/// recomputes it) and its level-independent charges. Health evaluates two levels per
/// underlying.
#[derive(Debug, Clone, Copy)]
pub struct BookTerms {
    scaled: Option<crate::grid64::Scaled>,
    fixed: FixedCharges,
}

impl BookTerms {
    /// The terms of `e` under a grid whose short-option minimum is `short_option_fraction`.
    pub fn of(e: &NetExposure, short_option_fraction: Fx) -> Result<BookTerms> {
        let q = Quadratic::of(e)?;
        Ok(BookTerms {
            scaled: crate::grid64::Scaled::of(&q),
            fixed: FixedCharges::of(e, short_option_fraction)?,
        })
    }
}

/// [`requirement_with_addons`] with the worst losses computed in 64-bit integers
/// (`grid64.rs`): never below it, above it by at most 4·10^−6 of the book's largest loss
/// coefficient (tested; ~2.5·10^−6 seen at worst); the exact computation when an input is outside the integer path's bounds.
/// What health uses (marks path, on-chain and in the scanner).
pub fn requirement_bounded(
    e: &NetExposure,
    params: &ScenarioParams,
    addons: Addons,
) -> Result<RequirementBreakdown> {
    let terms = BookTerms::of(e, params.short_option_charge)?;
    requirement_bounded_terms(e, &terms, params, &LevelShocks::of(params), addons)
}

/// [`requirement_bounded`] of a book whose level-independent `terms` are already computed
/// (with `scenario`'s short-option minimum), at the level whose shocks are `level` (the
/// tail table is `scenario`'s: it does not change with the level).
pub fn requirement_bounded_terms(
    e: &NetExposure,
    terms: &BookTerms,
    scenario: &ScenarioParams,
    level: &LevelShocks,
    addons: Addons,
) -> Result<RequirementBreakdown> {
    crate::trace::mark("grid: start");
    let worst = terms.scaled.as_ref().and_then(|s| crate::grid64::worst(s, level, &scenario.tail));
    let Some(w) = worst else {
        return requirement_with_addons(e, &level.params(scenario), addons);
    };
    crate::trace::mark("grid: rectangle and tail");
    let tail = worst_weighted(&w.rows[..w.row_count], scenario.tail.rows(), &addons)?;
    crate::trace::mark("grid: tail weights");
    assemble(e, &terms.fixed, level.quote_depeg_charge, addons, w.grid, tail)
}

/// The worst weighted tail loss (0 without rows) from each row's unweighted loss `raw`
/// (`weighted_tail_loss_bounded`: never below the exact path's weighting).
/// Rows of one weight are weighted once, at the largest of their losses: a row's weighted
/// loss is non-decreasing in its unweighted one (floored products by a weight ≥ 0), so the
/// maximum is the same, bit for bit, with fewer 128-bit products (the reference table has
/// two rows at 35%).
fn worst_weighted(raw: &[Fx], rows: &[TailRow], addons: &Addons) -> Result<Fx> {
    let mut tail: Option<Fx> = None;
    for (i, row) in rows.iter().enumerate() {
        let weight = row.weight();
        let same = |r: &TailRow| r.weight() == weight;
        if rows[..i].iter().any(same) {
            continue; // weighted with the first row of its weight
        }
        let largest = raw.iter().zip(rows).skip(i).filter(|(_, r)| same(r)).map(|(x, _)| *x).max();
        let loss = weighted_tail_loss_bounded(largest.unwrap_or(ZERO), row, addons)?;
        tail = Some(tail.map_or(loss, |t| t.max(loss)));
    }
    Ok(tail.unwrap_or(ZERO))
}

/// The requirement from the worst grid loss (and where) and the worst weighted tail loss.
fn assemble(
    e: &NetExposure,
    fixed: &FixedCharges,
    quote_depeg_charge: Fx,
    addons: Addons,
    (expansion_worst, worst_price_shock, worst_vol_shock): (Fx, Fx, Fx),
    tail_loss: Fx,
) -> Result<RequirementBreakdown> {
    let addon = addons.grid;
    let grid_loss = expansion_worst.add_c(addon)?;
    let FixedCharges { short_option_charge, confidence_addon } = *fixed;
    let depeg_addon = if quote_depeg_charge == ZERO {
        ZERO
    } else {
        e.gross_units.mul_c(e.spot)?.mul_c(quote_depeg_charge)?
    };
    let core = grid_loss.max(tail_loss).max(short_option_charge).max(ZERO);
    Ok(RequirementBreakdown {
        grid_loss,
        convexity_addon: addon,
        worst_price_shock,
        worst_vol_shock,
        tail_loss,
        short_option_charge,
        confidence_addon,
        depeg_addon,
        requirement: core.add_c(confidence_addon)?.add_c(depeg_addon)?,
    })
}

/// One cell of the displayed grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScenarioLoss {
    pub price_shock: Fx,
    pub vol_shock: Fx,
    pub loss: Fx,
}

/// The price shocks of the grid: −P, ..., 0, ..., +P (2n+1 points).
pub fn price_shocks(params: &ScenarioParams) -> Result<Vec<Fx>> {
    let n = i64::from(params.price_steps);
    let mut out = Vec::new();
    for i in n.checked_neg().ok_or(RiskError::Overflow)?..=n {
        out.push(params.max_price_shock.mul_i(i)?.div_i(n)?);
    }
    Ok(out)
}

/// The vol shocks of the grid: −down, 0, +up.
pub fn vol_shocks(params: &ScenarioParams) -> Result<[Fx; 3]> {
    Ok([params.vol_shock_down.neg_c()?, ZERO, params.vol_shock_up])
}

/// Every grid cell's loss (rows: vol shocks; within a row: price shocks ascending).
pub fn scenario_table(e: &NetExposure, params: &ScenarioParams) -> Result<Vec<ScenarioLoss>> {
    let prices = price_shocks(params)?;
    let mut out = Vec::new();
    for v in vol_shocks(params)? {
        for p in &prices {
            out.push(ScenarioLoss { price_shock: *p, vol_shock: v, loss: scenario_loss(e, *p, v)? });
        }
    }
    Ok(out)
}

/// The largest loss per unit of long linear exposure and per unit of spot, at one level:
/// the largest of P and w·|move| over the tail rows that fall (grid or weighted tail,
/// whichever binds for a delta-one book). A linked balance that offsets nothing is charged
/// at least this (plus the confidence), which `links.rs` compares with its standalone
/// haircut.
pub fn linear_shock(params: &ScenarioParams) -> Result<Fx> {
    let mut worst = params.max_price_shock;
    for row in params.tail.rows() {
        if row.both_ways || row.price_multiple() < ZERO {
            worst = worst.max(params.tail_move(row)?.abs_c()?.mul_c(row.weight())?);
        }
    }
    Ok(worst)
}

/// One underlying's part in a joint scenario of an offset group (`offsets.rs`): its loss
/// quadratic, its level's shocks, tail and add-ons, and the parts of its requirement that do
/// not net (short-option minimum, confidence and depeg add-ons).
#[derive(Debug, Clone, Copy)]
pub struct JointLeg {
    q: Quadratic,
    price_range: Fx,
    vol_down: Fx,
    vol_up: Fx,
    /// The level's tail (its moves are multiples of `price_range`).
    tail: TailTable,
    /// The leg's own worst weighted tail loss (what it counts when the group's tables differ).
    own_tail: Fx,
    addons: Addons,
    short_option_charge: Fx,
    confidence: Fx,
}

impl JointLeg {
    /// `params` is the level's grid (already scaled for initial); `breakdown` the requirement
    /// `requirement_with_addons` (or the larger `requirement_bounded`) gave for the same
    /// exposure, params and add-ons.
    pub fn new(
        e: &NetExposure,
        params: &ScenarioParams,
        addons: Addons,
        breakdown: &RequirementBreakdown,
    ) -> Result<JointLeg> {
        Ok(JointLeg {
            q: Quadratic::of(e)?,
            price_range: params.max_price_shock,
            vol_down: params.vol_shock_down,
            vol_up: params.vol_shock_up,
            tail: params.tail,
            own_tail: breakdown.tail_loss,
            addons,
            short_option_charge: breakdown.short_option_charge,
            confidence: breakdown.confidence_addon.add_c(breakdown.depeg_addon)?,
        })
    }
}

/// sup over t ∈ [−1, 1] of −(A·t + B·t² + C): the ends, and the vertex −A/(2B) when B > 0.
fn sup_on_unit(a: Fx, b: Fx, c: Fx) -> Result<Fx> {
    let at = |t: Fx| -> Result<Fx> { t.mul_c(a.add_c(b.mul_c(t)?)?)?.add_c(c)?.neg_c() };
    let mut best = at(ONE)?.max(at(ONE.neg_c()?)?);
    if b > ZERO {
        let t = a.neg_c()?.div_c(b.mul_c(TWO)?)?;
        if t.abs() <= ONE {
            best = best.max(at(t)?);
        }
    }
    Ok(best)
}

/// sup over t ∈ [0, 1] of −(A·t + B·t² + C): both ends, and the vertex when B > 0.
fn sup_on_half_unit(a: Fx, b: Fx, c: Fx) -> Result<Fx> {
    let at = |t: Fx| -> Result<Fx> { t.mul_c(a.add_c(b.mul_c(t)?)?)?.add_c(c)?.neg_c() };
    let mut best = at(ONE)?.max(c.neg_c()?);
    if b > ZERO {
        let t = a.neg_c()?.div_c(b.mul_c(TWO)?)?;
        if t >= ZERO && t <= ONE {
            best = best.max(at(t)?);
        }
    }
    Ok(best)
}

/// The joint loss of tail row `k` of legs sharing one tail table: the legs move together by
/// the same fraction t of their own row's move (t ∈ [−1, 1] both ways, else t ∈ [0, 1]),
/// each at the row's vol and weight. Each leg's part is one point of its own row's path, so
/// the joint row is at most the sum of the legs' tail losses.
fn joint_tail_row(legs: &[JointLeg], row: &TailRow) -> Result<Fx> {
    let (w, v) = (row.weight(), row.vol_move());
    let (mut a, mut b, mut c, mut fixed) = (ZERO, ZERO, ZERO, ZERO);
    for l in legs {
        let r = tail_move(l.price_range, row)?;
        let Quadratic { a: qa, b: qb, c: qc, d: qd, f: qf } = l.q;
        // Flat vol: the same products as the old extreme move's (bit for bit).
        let slope = if v == ZERO { qa } else { qa.add_c(qf.mul_c(v)?)? };
        a = a.add_c(slope.mul_c(r)?.mul_c(w)?)?;
        b = b.add_c(qb.mul_c(r)?.mul_c(r)?.mul_c(w)?)?;
        if v != ZERO {
            c = c.add_c(v.mul_c(qc.add_c(qd.mul_c(v)?)?)?.mul_c(w)?)?;
        }
        let unweighted = ONE.sub_c(w)?.mul_c(l.addons.value_error)?;
        fixed = fixed.add_c(l.addons.extreme.mul_c(w)?)?.add_c(unweighted)?;
    }
    let path = if row.both_ways { sup_on_unit(a, b, c)? } else { sup_on_half_unit(a, b, c)? };
    path.add_c(fixed)
}

/// The tail part of R_joint: the worst joint row when every leg has the same tail table;
/// otherwise the legs' own tail losses summed (rows of different tables are not the same
/// scenario, and netting them would let a change that only adds stress to one leg — a row
/// appended, a weight raised — lower the group's requirement).
fn joint_tail(legs: &[JointLeg]) -> Result<Fx> {
    let Some(first) = legs.first() else { return Ok(ZERO) };
    if legs.iter().any(|l| l.tail != first.tail) {
        return legs.iter().try_fold(ZERO, |sum, l| sum.add_c(l.own_tail));
    }
    let mut tail: Option<Fx> = None;
    for row in first.tail.rows() {
        let loss = joint_tail_row(legs, row)?;
        tail = Some(tail.map_or(loss, |t| t.max(loss)));
    }
    Ok(tail.unwrap_or(ZERO))
}

/// R_joint of an offset group: the requirement of the legs when their underlyings move
/// **together**, each by the same fraction t ∈ [−1, 1] of its own largest shock P_u, with
/// every underlying's implied vol moving the same way (down, flat or up by its own shock:
/// vols rise together in a crash); and in the tail, row by row when the legs share one tail
/// table (`joint_tail`). Per vol
/// direction and per row the summed loss is a quadratic in t, so its supremum is exact. The
/// convexity add-ons, short-option minima and confidence add-ons do not net: they are
/// summed.
///
/// ```text
/// R_joint = max( max over vol direction of sup_t Σ_u loss_u(t·P_u, v_u) + Σ grid add-ons,
///                max over rows k of joint tail row k,
///                Σ short-option minima, 0 ) + Σ |Δ_u|·conf_u
/// ```
///
/// Every joint scenario is one scenario of each leg's own grid or tail row, so R_joint ≤
/// Σ R_u; each term is a supremum of losses linear in the sizes (or a sum of convex add-ons
/// and of the legs' own tails), so R_joint is convex and positively homogeneous in the sizes.
pub fn joint_requirement(legs: &[JointLeg]) -> Result<Fx> {
    let mut grid = ZERO;
    for direction in 0..3 {
        let (mut a, mut b, mut c) = (ZERO, ZERO, ZERO);
        for l in legs {
            let v = match direction {
                0 => l.vol_down.neg_c()?,
                1 => ZERO,
                _ => l.vol_up,
            };
            let Quadratic { a: qa, b: qb, c: qc, d: qd, f: qf } = l.q;
            let p = l.price_range;
            a = a.add_c(qa.add_c(qf.mul_c(v)?)?.mul_c(p)?)?;
            b = b.add_c(qb.mul_c(p)?.mul_c(p)?)?;
            c = c.add_c(v.mul_c(qc.add_c(qd.mul_c(v)?)?)?)?;
        }
        grid = grid.max(sup_on_unit(a, b, c)?);
    }
    let (mut short_options, mut confidence) = (ZERO, ZERO);
    for l in legs {
        grid = grid.add_c(l.addons.grid)?;
        short_options = short_options.add_c(l.short_option_charge)?;
        confidence = confidence.add_c(l.confidence)?;
    }
    grid.max(joint_tail(legs)?).max(short_options).max(ZERO).add_c(confidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// The one-product tail weighting of the bounded path is never below the two-product
        /// one, and above it by at most two units of the last place.
        #[test]
        fn bounded_weighting_is_within_two_units(
            raw in -(1i128 << 100)..(1i128 << 100),
            extreme in 0i128..(1i128 << 100),
            value_error in prop_oneof![Just(0i128), 0i128..(1i128 << 100), 0i128..(1i128 << 40)],
            weight in 1i64..=(1i64 << 48),
        ) {
            let row = TailRow::new(ONE, ZERO, Fx::from_bits(i128::from(weight)));
            let addons = Addons { grid: ZERO, extreme: Fx::from_bits(extreme), value_error: Fx::from_bits(value_error) };
            let raw = Fx::from_bits(raw);
            let exact = weighted_tail_loss(raw, &row, &addons).unwrap().to_bits();
            let bounded = weighted_tail_loss_bounded(raw, &row, &addons).unwrap().to_bits();
            prop_assert!(bounded >= exact && bounded.wrapping_sub(exact) <= 2, "{bounded} vs {exact}");
            if value_error == 0 {
                prop_assert_eq!(bounded, exact);
            }
        }
    }
}
