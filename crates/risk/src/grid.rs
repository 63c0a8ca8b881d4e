//! The scenario grid: losses of a netted exposure under price × implied-vol shocks,
//! from the delta–gamma–vega expansion, plus the add-ons that guard it.
//!
//! For an underlying with spot S and netted Δ, Γ, V, a price shock p (fraction) and an
//! implied-vol shock v (absolute, in vol units) lose
//!
//! ```text
//! loss(p, v) = −(Δ·S·p + ½·Γ·(S·p)²) − V·v
//! ```
//!
//! The requirement of the underlying is
//!
//! ```text
//! max( worst over p ∈ [−P, P] and v ∈ {−v_down, 0, +v_up} of loss(p, v),     grid
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
//! Where the expansion is weak: it ignores third-order terms (a short option whose strike
//! the move crosses gains gamma as it goes) and the vol–price cross term; the extreme-move
//! scenario (CME SPAN's "3× the price scan range, 35% of the loss" by default) and the
//! short-option minimum charge (SPAN's "short option minimum") cover those; the tests
//! measure the residual against full revaluation.
use alloc::vec::Vec;

use crate::error::{Result, RiskError};
use crate::fx::{Checked, Fx, HALF, ONE, ZERO};
use crate::portfolio::NetExposure;

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

/// Loss of the price part of the expansion at shock p: −(Δ·S·p + ½·Γ·(S·p)²).
pub fn price_loss(e: &NetExposure, p: Fx) -> Result<Fx> {
    let move_ = e.spot.mul_c(p)?;
    let pnl = e
        .delta
        .mul_c(move_)?
        .add_c(e.gamma.mul_c(move_)?.mul_c(move_)?.mul_c(HALF)?)?;
    pnl.neg_c()
}

/// Loss of the vega part at vol shock v: −V·v.
pub fn vega_loss(e: &NetExposure, v: Fx) -> Result<Fx> {
    e.vega.mul_c(v)?.neg_c()
}

/// The worst price loss for p in [−range, range] and the shock where it occurs.
pub fn worst_price_loss(e: &NetExposure, range: Fx) -> Result<(Fx, Fx)> {
    let up = price_loss(e, range)?;
    let down = price_loss(e, range.neg_c()?)?;
    let (mut worst, mut at) = if up >= down {
        (up, range)
    } else {
        (down, range.neg_c()?)
    };
    if e.gamma > ZERO {
        // Long gamma: the loss is a downward parabola in p with its top at
        // p* = −Δ / (Γ·S); inside the range, that top is the worst case.
        let vertex = e.delta.neg_c()?.div_c(e.gamma.mul_c(e.spot)?)?;
        if vertex.abs_c()? <= range {
            let at_vertex = price_loss(e, vertex)?;
            if at_vertex > worst {
                worst = at_vertex;
                at = vertex;
            }
        }
    }
    Ok((worst, at))
}

/// Worst vega loss over {−down, 0, +up} and the shock where it occurs.
fn worst_vega_loss(e: &NetExposure, params: &ScenarioParams) -> Result<(Fx, Fx)> {
    let mut worst = (ZERO, ZERO);
    for v in [params.vol_shock_up, params.vol_shock_down.neg_c()?] {
        let loss = vega_loss(e, v)?;
        if loss > worst.0 {
            worst = (loss, v);
        }
    }
    Ok(worst)
}

/// How an underlying's requirement was reached (all in quote units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequirementBreakdown {
    /// Worst loss over the price × vol grid.
    pub grid_loss: Fx,
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

/// The requirement of one netted exposure under `params` (already scaled for initial).
pub fn requirement(e: &NetExposure, params: &ScenarioParams) -> Result<RequirementBreakdown> {
    let (price_part, worst_price_shock) = worst_price_loss(e, params.max_price_shock)?;
    let (vega_part, worst_vol_shock) = worst_vega_loss(e, params)?;
    // Price and vol shocks form a full cross product and the expansion has no cross term,
    // so the worst grid loss is the sum of the two worst parts.
    let grid_loss = price_part.add_c(vega_part)?;
    let extreme_range = params.max_price_shock.mul_c(params.extreme_multiple)?;
    let (extreme_raw, _) = worst_price_loss(e, extreme_range)?;
    let extreme_loss = extreme_raw.mul_c(params.extreme_weight)?;
    let short_option_charge = e
        .net_short_options
        .mul_c(e.spot)?
        .mul_c(params.short_option_charge)?;
    let confidence_addon = e.delta.abs_c()?.mul_c(e.conf)?;
    let core = grid_loss
        .max(extreme_loss)
        .max(short_option_charge)
        .max(ZERO);
    Ok(RequirementBreakdown {
        grid_loss,
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
        let vl = vega_loss(e, v)?;
        for p in &prices {
            out.push(ScenarioLoss {
                price_shock: *p,
                vol_shock: v,
                loss: price_loss(e, *p)?.add_c(vl)?,
            });
        }
    }
    Ok(out)
}
