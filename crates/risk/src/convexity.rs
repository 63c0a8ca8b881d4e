//! Convexity bounds: how far one option unit's value can stray from its second-order
//! expansion over a price-shock interval [−range, range] (quote units per unit, ≥ 0). The
//! grid (grid.rs) charges them as add-ons, and a crank computes them per series for four
//! ranges at once (`marks::compute_marks`: two levels × the grid's and the largest tail's
//! range), which is what [`shortfall_bounds`] and [`overstatement_bounds`] are for: each
//! bound is a supremum over the interval's ends and a few interior points (the strike, the
//! vertices) that do not depend on the range, so the interior points are evaluated once for
//! every range instead of once per range. The result for each range is the same, bit for
//! bit, as the one-range form (`tests/convexity.rs` keeps the original one-range code as the
//! reference).
use crate::bs::intrinsic;
use crate::error::{Result, RiskError};
use crate::fx::INV_SQRT_2PI;
use crate::fx::{half, Checked, Fx, ONE, ZERO};
use crate::portfolio::ShortOption;

/// A price-shock interval [−down, up] (fractions of the spot, both ≥ 0). A crank's ranges are
/// asymmetric: the scenario spots around a drifted spot reach further above the reference
/// spot than below it, and above they are not capped (`marks::widened`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub down: Fx,
    pub up: Fx,
}

impl Range {
    /// [−r, r].
    pub const fn symmetric(r: Fx) -> Range {
        Range { down: r, up: r }
    }

    /// Both ends non-negative, and the lower one above −100%: no scenario spot at or below
    /// zero, where the bounds mean nothing (`InvalidScenarioParams`).
    fn validate(&self) -> Result<()> {
        if self.down < ZERO || self.up < ZERO || self.down >= ONE {
            return Err(RiskError::InvalidScenarioParams);
        }
        Ok(())
    }

    fn contains(&self, p: Fx) -> bool {
        self.down.checked_neg().is_some_and(|low| p >= low) && p <= self.up
    }
}

/// Below this σ√T the Lagrange bound is not used (expired options: gamma is 0).
const MIN_STD_DEV: Fx = Fx::lit("0.000001");

/// Value bound of the shortfall at p: intrinsic(S') + φ(0)·K·σ√T − V − expansion(p).
fn value_shortfall(o: &ShortOption, spot: Fx, p: Fx) -> Result<Fx> {
    End::at(o, spot, p)?.value_shortfall(o)
}

/// Lagrange bound of the shortfall at p: ½·(Γmax − Γ)·dS², Γmax = φ(0)/(min(S, S')·σ√T).
/// `above`: Γmax for the spots at or above S, φ(0)/(S·σ√T), the same for every p ≥ 0 (the
/// minimum is S itself there), so a crank divides once for its four ranges' upper ends.
fn lagrange_shortfall(o: &ShortOption, spot: Fx, p: Fx, above: Option<Fx>) -> Result<Fx> {
    lagrange_at(o, spot, spot.mul_c(p)?, above)
}

/// [`lagrange_shortfall`] at the price move dS = `d_spot`.
fn lagrange_at(o: &ShortOption, spot: Fx, d_spot: Fx, above: Option<Fx>) -> Result<Fx> {
    let lower = spot.min(spot.add_c(d_spot)?);
    let gamma_max = match above {
        Some(g) if lower == spot => g,
        _ => INV_SQRT_2PI.div_c(lower.mul_c(o.std_dev)?)?,
    };
    Ok(half(gamma_max.sub_c(o.gamma)?.mul_c(d_spot)?.mul_c(d_spot)?))
}

/// The floor gap at p: expansion(p) − intrinsic(S') + V (`overstatement_bounds`).
fn floor_gap(o: &ShortOption, spot: Fx, p: Fx) -> Result<Fx> {
    End::at(o, spot, p)?.floor_gap(o)
}

/// An interior point of a supremum and the function's value there, counted for a range
/// that contains p.
type Interior = Option<(Fx, Fx)>;

/// `f` at `p` when some range contains p (a point outside every range is not evaluated, as
/// the one-range form never evaluates it: far vertices may overflow).
fn interior_at<const N: usize>(p: Fx, ranges: &[Range; N], f: impl Fn(Fx) -> Result<Fx>) -> Result<Interior> {
    if ranges.iter().any(|r| r.contains(p)) {
        Ok(Some((p, f(p)?)))
    } else {
        Ok(None)
    }
}

/// The largest value among `interior` points inside `range`, and `ends`.
fn sup_with_interior(ends: Fx, interior: &[Interior], range: &Range) -> Fx {
    interior.iter().flatten().filter(|(p, _)| range.contains(*p)).fold(ends, |sup, (_, v)| sup.max(*v))
}

/// Upper bound, over every price shock p in [−down, up], of how much more one short option
/// unit can lose than the expansion says (quote units, ≥ 0), for each of `ranges`.
/// The smaller of the suprema of two valid bounds:
///
/// - Lagrange: V(S') = V + Δ·dS + ½·Γ(ξ)·dS² for some ξ between S and S', and for r = 0
///   Γ(ξ) ≤ φ(0)/(ξ·σ√T) ≤ φ(0)/(min(S, S')·σ√T); the excess is ½·(Γmax − Γ)·dS², which
///   grows with |p| on each side (so its supremum is at an end);
/// - value: V(S') ≤ intrinsic(S') + φ(0)·K·σ√T (time value peaks at the strike, where it is
///   at most φ(0)·K·σ√T); a concave quadratic on each side of the strike, so its supremum
///   is at the ends, the strike or a piece's vertex (the vertices only when Γ > 0).
///
/// Suprema over the interval keep the add-on monotone in the range. Cheap on purpose (no
/// exp/ln): it reuses the Greeks already computed.
pub fn shortfall_bounds<const N: usize>(o: &ShortOption, spot: Fx, ranges: [Range; N]) -> Result<[Fx; N]> {
    ranges.iter().try_for_each(Range::validate)?;
    let at = |p: Fx| interior_at(p, &ranges, |p| value_shortfall(o, spot, p));
    let mut interior: [Interior; 3] = [at(o.bounds.strike_shock)?, None, None];
    if o.gamma > ZERO {
        interior[1] = at(o.bounds.vertex_shocks[0])?;
        interior[2] = at(o.bounds.vertex_shocks[1])?;
    }
    // Γmax above the spot, for every range's upper end (`lagrange_shortfall`).
    let above = if o.std_dev > MIN_STD_DEV && N > 1 {
        Some(INV_SQRT_2PI.div_c(spot.mul_c(o.std_dev)?)?)
    } else {
        None
    };
    let mut out = [ZERO; N];
    for (bound, range) in out.iter_mut().zip(ranges) {
        let (up, down) = (range.up, range.down.neg_c()?);
        let ends = value_shortfall(o, spot, up)?.max(value_shortfall(o, spot, down)?);
        let value_sup = sup_with_interior(ends, &interior, &range);
        let sup = if o.std_dev > MIN_STD_DEV {
            let at_up = lagrange_shortfall(o, spot, up, above)?;
            let lagrange_sup = at_up.max(lagrange_shortfall(o, spot, down, above)?);
            lagrange_sup.min(value_sup)
        } else {
            value_sup
        };
        *bound = sup.max(ZERO);
    }
    Ok(out)
}

/// Upper bound, over p in [−down, up], of how much the expansion overstates one long option
/// unit's gain (quote units, ≥ 0), for each of `ranges`. An option's value is convex
/// in the spot and never below intrinsic, so V(S') ≥ max(V + Δ·dS, intrinsic(S')); the
/// overstatement is at most min(½·Γ·dS², expansion − intrinsic(S') + V), bounded here by the
/// smaller supremum (the second is convex on each side of the strike: its supremum is at the
/// ends or the strike).
pub fn overstatement_bounds<const N: usize>(
    o: &ShortOption,
    spot: Fx,
    ranges: [Range; N],
) -> Result<[Fx; N]> {
    ranges.iter().try_for_each(Range::validate)?;
    let strike = o.bounds.strike_shock;
    let interior = [interior_at(strike, &ranges, |p| floor_gap(o, spot, p))?];
    let mut out = [ZERO; N];
    for (bound, range) in out.iter_mut().zip(ranges) {
        // ½·Γ·dS² is largest at the farther end.
        let d_max = spot.mul_c(range.up.max(range.down))?;
        let gamma_sup = half(o.gamma.mul_c(d_max)?.mul_c(d_max)?);
        let ends = floor_gap(o, spot, range.up)?.max(floor_gap(o, spot, range.down.neg_c()?)?);
        let floor_sup = sup_with_interior(ends, &interior, &range);
        *bound = gamma_sup.min(floor_sup).max(ZERO);
    }
    Ok(out)
}

/// What the bounds evaluate at a price shock p: dS = S·p, the expansion Δ·dS + ½·Γ·dS² and
/// intrinsic(S + dS) (in that order); `convexity_bounds` computes them once per range end
/// for both bounds.
struct End {
    d_spot: Fx,
    expansion: Fx,
    intrinsic: Fx,
}

impl End {
    fn at(o: &ShortOption, spot: Fx, p: Fx) -> Result<End> {
        let d_spot = spot.mul_c(p)?;
        let expansion = o.delta.mul_c(d_spot)?.add_c(half(o.gamma.mul_c(d_spot)?.mul_c(d_spot)?))?;
        Ok(End { d_spot, expansion, intrinsic: intrinsic(o.kind, spot.add_c(d_spot)?, o.strike)? })
    }

    /// `value_shortfall` at this end.
    fn value_shortfall(&self, o: &ShortOption) -> Result<Fx> {
        self.intrinsic.add_c(o.bounds.time_value_cap)?.sub_c(o.price)?.sub_c(self.expansion)
    }

    /// `floor_gap` at this end.
    fn floor_gap(&self, o: &ShortOption) -> Result<Fx> {
        self.expansion.sub_c(self.intrinsic)?.add_c(o.price)
    }

    /// `lagrange_shortfall` at this end.
    fn lagrange(&self, o: &ShortOption, spot: Fx, above: Option<Fx>) -> Result<Fx> {
        lagrange_at(o, spot, self.d_spot, above)
    }
}

/// [`shortfall_bounds`] and [`overstatement_bounds`] of the same ranges together (what a
/// crank stores per series): each range end's price move, expansion and intrinsic value
/// computed once for both bounds (and the strike's once for both), ~50 fewer 128-bit
/// products per series. Each bound is the same, bit for bit, as the separate function's; an
/// input on which either of them fails fails here (the error may be the other one's).
pub fn convexity_bounds<const N: usize>(
    o: &ShortOption,
    spot: Fx,
    ranges: [Range; N],
) -> Result<([Fx; N], [Fx; N])> {
    ranges.iter().try_for_each(Range::validate)?;
    let strike = if ranges.iter().any(|r| r.contains(o.bounds.strike_shock)) {
        let end = End::at(o, spot, o.bounds.strike_shock)?;
        Some((o.bounds.strike_shock, end.value_shortfall(o)?, end.floor_gap(o)?))
    } else {
        None
    };
    let at = |p: Fx| interior_at(p, &ranges, |p| End::at(o, spot, p)?.value_shortfall(o));
    let mut interior: [Interior; 3] = [strike.map(|(p, v, _)| (p, v)), None, None];
    if o.gamma > ZERO {
        interior[1] = at(o.bounds.vertex_shocks[0])?;
        interior[2] = at(o.bounds.vertex_shocks[1])?;
    }
    let floor_interior = [strike.map(|(p, _, f)| (p, f))];
    let lagrange = o.std_dev > MIN_STD_DEV;
    let above = if lagrange && N > 1 { Some(INV_SQRT_2PI.div_c(spot.mul_c(o.std_dev)?)?) } else { None };
    let (mut short, mut long) = ([ZERO; N], [ZERO; N]);
    for ((short, long), range) in short.iter_mut().zip(long.iter_mut()).zip(ranges) {
        let (up, down) = (End::at(o, spot, range.up)?, End::at(o, spot, range.down.neg_c()?)?);
        let ends = up.value_shortfall(o)?.max(down.value_shortfall(o)?);
        let value_sup = sup_with_interior(ends, &interior, &range);
        let sup = if lagrange {
            let lagrange_sup = up.lagrange(o, spot, above)?.max(down.lagrange(o, spot, above)?);
            lagrange_sup.min(value_sup)
        } else {
            value_sup
        };
        *short = sup.max(ZERO);
        let d_max = spot.mul_c(range.up.max(range.down))?;
        let gamma_sup = half(o.gamma.mul_c(d_max)?.mul_c(d_max)?);
        let floor_ends = up.floor_gap(o)?.max(down.floor_gap(o)?);
        *long = gamma_sup.min(sup_with_interior(floor_ends, &floor_interior, &range)).max(ZERO);
    }
    Ok((short, long))
}

/// [`shortfall_bounds`] for one range [−range, range].
pub fn shortfall_bound(o: &ShortOption, spot: Fx, range: Fx) -> Result<Fx> {
    Ok(shortfall_bounds(o, spot, [Range::symmetric(range)])?[0])
}

/// [`overstatement_bounds`] for one range [−range, range].
pub fn overstatement_bound(o: &ShortOption, spot: Fx, range: Fx) -> Result<Fx> {
    Ok(overstatement_bounds(o, spot, [Range::symmetric(range)])?[0])
}
