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
//! max( worst over p ∈ [−P, P] and v ∈ {−v_down, 0, +v_up} of loss(p, v)
//!        + convexity add-on (net options' higher-order error bounds at ±P),     grid
//!      w · worst over p ∈ [−m·P, m·P] of loss(p, 0),                          extreme move
//!      c · S · net short option units )                                       short-option minimum
//! + |Δ| · conf                                                                 oracle confidence
//! ```
//!
//! The worst price loss is found exactly on the interval (its end points, and the vertex of
//! the parabola when Γ > 0), so it is never below the loss at any grid point and only grows
//! with P. The grid points themselves (`scenario_table`) are what the CLI displays.
//! Cost per underlying is constant: O(positions + scenarios) overall.
//!
//! Where the expansion is weak — a short option whose strike the move crosses gains gamma
//! as it goes (third and higher order), and long options' gains are overstated at large
//! moves — the convexity add-on bounds the error per net option position (see
//! `shortfall_bound`, `overstatement_bound`); the extreme-move scenario (CME SPAN's "3× the
//! price scan range, 35% of the loss") and the short-option minimum (SPAN's "short option
//! minimum") remain as floors. `tests/expansion_vs_full.rs` measures the residual against
//! full revaluation.
use alloc::vec::Vec;

use crate::bs::{intrinsic, OptionKind};
use crate::error::{Result, RiskError};
use crate::fx::INV_SQRT_2PI;
use crate::fx::{Checked, Fx, HALF, ONE, ZERO};
use crate::portfolio::{NetExposure, ShortOption, UnderlyingBook};

/// Scenario-grid parameters of one underlying (maintenance level; the initial grid scales
/// the shocks by `MarginParams::initial_scale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScenarioParams {
    /// Largest price shock P, as a fraction of spot (0.15 = ±15%). In (0, 1).
    pub max_price_shock: Fx,
    /// Grid points per side: the grid is 0, ±P/n, ±2P/n, ..., ±P (2n+1 points, n ≥ 3).
    pub price_steps: u8,
    /// Implied-vol shock up (absolute: 0.25 = +25 vol points). ≥ 0.
    pub vol_shock_up: Fx,
    /// Implied-vol shock down (absolute, applied as −). ≥ 0.
    pub vol_shock_down: Fx,
    /// Extreme move multiple m of P (≥ 1; 3 in CME SPAN).
    pub extreme_multiple: Fx,
    /// Weight w of the extreme-move loss, in [0, 1] (0.35 in CME SPAN).
    pub extreme_weight: Fx,
    /// Short-option minimum c, as a fraction of spot per net short option unit. ≥ 0.
    pub short_option_charge: Fx,
}

impl ScenarioParams {
    /// Reference parameters for examples and tests (governance sets real ones per
    /// underlying): ±15% in 3% steps (11 points), extreme move 3×P at
    /// 35% weight (CME SPAN's extreme-move scenarios), short-option minimum 1% of spot;
    /// vol +15 / −10 points.
    pub const REFERENCE: ScenarioParams = ScenarioParams {
        max_price_shock: Fx::lit("0.15"),
        price_steps: 5,
        vol_shock_up: Fx::lit("0.15"),
        vol_shock_down: Fx::lit("0.10"),
        extreme_multiple: Fx::lit("3"),
        extreme_weight: Fx::lit("0.35"),
        short_option_charge: Fx::lit("0.01"),
    };

    pub fn validate(&self) -> Result<()> {
        let ok = self.max_price_shock > ZERO
            && self.max_price_shock < ONE
            && self.price_steps >= 3
            && self.vol_shock_up >= ZERO
            && self.vol_shock_down >= ZERO
            && self.extreme_multiple >= ONE
            && self.extreme_weight >= ZERO
            && self.extreme_weight <= ONE
            && self.short_option_charge >= ZERO
            && self.short_option_charge <= ONE;
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidScenarioParams)
        }
    }

    /// The same grid with price and vol shocks multiplied by `scale` (≥ 1): the initial grid.
    pub fn scaled(&self, scale: Fx) -> Result<ScenarioParams> {
        Ok(ScenarioParams {
            max_price_shock: self.max_price_shock.mul_c(scale)?.min(Fx::lit("0.99")),
            vol_shock_up: self.vol_shock_up.mul_c(scale)?,
            vol_shock_down: self.vol_shock_down.mul_c(scale)?,
            ..*self
        })
    }
}

/// Loss at price shock p and vol shock v:
/// −((Δ + vanna·v)·S·p + ½·Γ·(S·p)² + V·v + ½·volga·v²).
pub fn scenario_loss(e: &NetExposure, p: Fx, v: Fx) -> Result<Fx> {
    price_loss_at_vol(e, p, v)?.add_c(vol_loss(e, v)?)
}

/// The price-dependent part of `scenario_loss`.
fn price_loss_at_vol(e: &NetExposure, p: Fx, v: Fx) -> Result<Fx> {
    let delta = e.delta.add_c(e.vanna.mul_c(v)?)?;
    let move_ = e.spot.mul_c(p)?;
    let pnl = delta.mul_c(move_)?.add_c(e.gamma.mul_c(move_)?.mul_c(move_)?.mul_c(HALF)?)?;
    pnl.neg_c()
}

/// The vol-only part of `scenario_loss`: −(V·v + ½·volga·v²).
pub fn vol_loss(e: &NetExposure, v: Fx) -> Result<Fx> {
    e.vega.mul_c(v)?.add_c(e.volga.mul_c(v)?.mul_c(v)?.mul_c(HALF)?)?.neg_c()
}

/// Loss of the price part alone (flat vol) at shock p: −(Δ·S·p + ½·Γ·(S·p)²).
pub fn price_loss(e: &NetExposure, p: Fx) -> Result<Fx> {
    price_loss_at_vol(e, p, ZERO)
}

/// The worst price loss for p in [−range, range] at vol shock v, and the p where it occurs.
/// For fixed v the loss is a parabola in p: its end points, and its vertex when Γ > 0.
pub fn worst_price_loss_at_vol(e: &NetExposure, range: Fx, v: Fx) -> Result<(Fx, Fx)> {
    let up = price_loss_at_vol(e, range, v)?;
    let down = price_loss_at_vol(e, range.neg_c()?, v)?;
    let (mut worst, mut at) = if up >= down { (up, range) } else { (down, range.neg_c()?) };
    if e.gamma > ZERO {
        // Long gamma: the top of the parabola, p* = −(Δ + vanna·v)/(Γ·S), if inside.
        let delta = e.delta.add_c(e.vanna.mul_c(v)?)?;
        let vertex = delta.neg_c()?.div_c(e.gamma.mul_c(e.spot)?)?;
        if vertex.abs_c()? <= range {
            let at_vertex = price_loss_at_vol(e, vertex, v)?;
            if at_vertex > worst {
                worst = at_vertex;
                at = vertex;
            }
        }
    }
    Ok((worst, at))
}

/// The worst price loss at flat vol for p in [−range, range].
pub fn worst_price_loss(e: &NetExposure, range: Fx) -> Result<(Fx, Fx)> {
    worst_price_loss_at_vol(e, range, ZERO)
}

/// Below this σ√T the Lagrange bound is not used (expired options: gamma is 0).
const MIN_STD_DEV: Fx = Fx::lit("0.000001");

/// Upper bound of how much more one short option unit can lose at price shock `p` than the
/// expansion says (quote units, ≥ 0). The smaller of two valid bounds:
///
/// - Lagrange: V(S') = V + Δ·dS + ½·Γ(ξ)·dS² for some ξ between S and S', and for r = 0
///   Γ(ξ) ≤ φ(0)/(ξ·σ√T) ≤ φ(0)/(min(S, S')·σ√T); the excess is ½·(Γmax − Γ)·dS²;
/// - value: V(S') ≤ intrinsic(S') + φ(0)·K·σ√T (time value peaks at the strike, where it is
///   at most φ(0)·K·σ√T), so the excess is at most that minus V minus the expansion.
///
/// Cheap on purpose (no exp/ln): it reuses the Greeks already computed.
pub fn shortfall_bound(o: &ShortOption, spot: Fx, p: Fx) -> Result<Fx> {
    let d_spot = spot.mul_c(p)?;
    let expansion = o.delta.mul_c(d_spot)?.add_c(o.gamma.mul_c(d_spot)?.mul_c(d_spot)?.mul_c(HALF)?)?;
    let shocked = spot.add_c(d_spot)?;
    let kind = if o.kind == OptionKind::Call { OptionKind::Call } else { OptionKind::Put };
    let value_bound = intrinsic(kind, shocked, o.strike)?
        .add_c(INV_SQRT_2PI.mul_c(o.strike)?.mul_c(o.std_dev)?)?
        .sub_c(o.price)?
        .sub_c(expansion)?;
    let bound = if o.std_dev > MIN_STD_DEV {
        let gamma_max = INV_SQRT_2PI.div_c(spot.min(shocked).mul_c(o.std_dev)?)?;
        let lagrange = gamma_max.sub_c(o.gamma)?.mul_c(d_spot)?.mul_c(d_spot)?.mul_c(HALF)?;
        lagrange.min(value_bound)
    } else {
        value_bound
    };
    Ok(bound.max(ZERO))
}

/// Upper bound of how much the expansion overstates one long option unit's gain at price
/// shock `p` (quote units, ≥ 0). An option's value is convex in the spot and never below
/// intrinsic, so V(S') ≥ max(V + Δ·dS, intrinsic(S')): the overstatement is at most the
/// expansion minus that.
pub fn overstatement_bound(o: &ShortOption, spot: Fx, p: Fx) -> Result<Fx> {
    let d_spot = spot.mul_c(p)?;
    let linear = o.delta.mul_c(d_spot)?;
    let expansion = linear.add_c(o.gamma.mul_c(d_spot)?.mul_c(d_spot)?.mul_c(HALF)?)?;
    let shocked = spot.add_c(d_spot)?;
    let floor = linear.max(intrinsic(o.kind, shocked, o.strike)?.sub_c(o.price)?);
    Ok(expansion.sub_c(floor)?.max(ZERO))
}

/// Σ over net option positions of units × the worse bound at ±range: shortfall bounds for
/// net short options, overstatement bounds for net long ones.
pub fn convexity_addon(short_options: &[ShortOption], spot: Fx, range: Fx) -> Result<Fx> {
    let mut total = ZERO;
    let down = range.neg_c()?;
    for o in short_options {
        let worst = if o.units < ZERO {
            overstatement_bound(o, spot, range)?.max(overstatement_bound(o, spot, down)?)
        } else {
            shortfall_bound(o, spot, range)?.max(shortfall_bound(o, spot, down)?)
        };
        total = total.add_c(o.units.abs_c()?.mul_c(worst)?)?;
    }
    Ok(total)
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
    /// Weighted worst loss of the extreme moves.
    pub extreme_loss: Fx,
    /// Short-option minimum charge.
    pub short_option_charge: Fx,
    /// |Δ|·conf.
    pub confidence_addon: Fx,
    /// max(grid, extreme, short-option) + confidence add-on; never negative.
    pub requirement: Fx,
}

/// The requirement of one underlying's book under `params` (already scaled for initial).
pub fn requirement(book: &UnderlyingBook, params: &ScenarioParams) -> Result<RequirementBreakdown> {
    let e = &book.exposure;
    let addon = convexity_addon(&book.short_options, e.spot, params.max_price_shock)?;
    let (mut expansion_worst, mut worst_price_shock, mut worst_vol_shock) = (ZERO, ZERO, ZERO);
    for v in vol_shocks(params)? {
        let (price_part, at) = worst_price_loss_at_vol(e, params.max_price_shock, v)?;
        let total = price_part.add_c(vol_loss(e, v)?)?;
        if total > expansion_worst {
            (expansion_worst, worst_price_shock, worst_vol_shock) = (total, at, v);
        }
    }
    let grid_loss = expansion_worst.add_c(addon)?;
    let extreme_range = params.max_price_shock.mul_c(params.extreme_multiple)?;
    let (extreme_raw, _) = worst_price_loss(e, extreme_range)?;
    let extreme_addon = convexity_addon(&book.short_options, e.spot, extreme_range)?;
    let extreme_loss = extreme_raw.add_c(extreme_addon)?.mul_c(params.extreme_weight)?;
    let short_option_charge = e.net_short_options.mul_c(e.spot)?.mul_c(params.short_option_charge)?;
    let confidence_addon = e.delta.abs_c()?.mul_c(e.conf)?;
    let core = grid_loss.max(extreme_loss).max(short_option_charge).max(ZERO);
    Ok(RequirementBreakdown {
        grid_loss,
        convexity_addon: addon,
        worst_price_shock,
        worst_vol_shock,
        extreme_loss,
        short_option_charge,
        confidence_addon,
        requirement: core.add_c(confidence_addon)?,
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
