//! The multi-range convexity bounds (`convexity::shortfall_bounds`, `overstatement_bounds`,
//! what a crank computes per series for four ranges at once) against the one-range code they
//! replaced, kept here verbatim as the reference: the same bits for every range, and an error
//! exactly when the reference errs for some range.
mod common;

use proptest::prelude::*;
use xmargin_risk::bs::{greeks, intrinsic, OptionKind};
use xmargin_risk::convexity::{overstatement_bounds, shortfall_bounds, Range};
use xmargin_risk::fx::{Checked, Fx, HALF, INV_SQRT_2PI, ZERO};
use xmargin_risk::portfolio::ShortOption;
use xmargin_risk::Result;

mod reference {
    use super::*;

    /// Below this σ√T the Lagrange bound is not used (expired options: gamma is 0).
    const MIN_STD_DEV: Fx = Fx::lit("0.000001");

    /// Value bound of the shortfall at p: intrinsic(S') + φ(0)·K·σ√T − V − expansion(p).
    fn value_shortfall(o: &ShortOption, spot: Fx, p: Fx) -> Result<Fx> {
        let d_spot = spot.mul_c(p)?;
        let expansion = o.delta.mul_c(d_spot)?.add_c(o.gamma.mul_c(d_spot)?.mul_c(d_spot)?.mul_c(HALF)?)?;
        intrinsic(o.kind, spot.add_c(d_spot)?, o.strike)?
            .add_c(o.bounds.time_value_cap)?
            .sub_c(o.price)?
            .sub_c(expansion)
    }

    /// Lagrange bound of the shortfall at p: ½·(Γmax − Γ)·dS², Γmax = φ(0)/(min(S, S')·σ√T).
    fn lagrange_shortfall(o: &ShortOption, spot: Fx, p: Fx) -> Result<Fx> {
        let d_spot = spot.mul_c(p)?;
        let gamma_max = INV_SQRT_2PI.div_c(spot.min(spot.add_c(d_spot)?).mul_c(o.std_dev)?)?;
        gamma_max.sub_c(o.gamma)?.mul_c(d_spot)?.mul_c(d_spot)?.mul_c(HALF)
    }

    /// Points of [−range, range] where a piecewise quadratic of p with a kink at the strike can
    /// peak: the ends, the kink, and (`with_vertices`) the vertices of both pieces of the value
    /// bound. A fixed array, not a `Vec`: the on-chain allocator never frees, and this runs for
    /// every option at every level.
    fn candidates(o: &ShortOption, range: Fx, with_vertices: bool) -> Result<[Option<Fx>; 5]> {
        let mut points = [Some(range), Some(range.neg_c()?), None, None, None];
        let inside = |p: Fx| (p.abs() <= range).then_some(p);
        points[2] = inside(o.bounds.strike_shock);
        if with_vertices && o.gamma > ZERO {
            points[3] = inside(o.bounds.vertex_shocks[0]);
            points[4] = inside(o.bounds.vertex_shocks[1]);
        }
        Ok(points)
    }

    /// Upper bound, over every price shock p in [−range, range], of how much more one short
    /// option unit can lose than the expansion says (quote units, ≥ 0). The smaller of the
    /// suprema of two valid bounds:
    ///
    /// - Lagrange: V(S') = V + Δ·dS + ½·Γ(ξ)·dS² for some ξ between S and S', and for r = 0
    ///   Γ(ξ) ≤ φ(0)/(ξ·σ√T) ≤ φ(0)/(min(S, S')·σ√T); the excess is ½·(Γmax − Γ)·dS², which
    ///   grows with |p| (so its supremum is at ±range);
    /// - value: V(S') ≤ intrinsic(S') + φ(0)·K·σ√T (time value peaks at the strike, where it is
    ///   at most φ(0)·K·σ√T); a concave quadratic on each side of the strike, so its supremum
    ///   is at the ends, the strike or a piece's vertex.
    ///
    /// Suprema over the interval keep the add-on monotone in the range. Cheap on purpose (no
    /// exp/ln): it reuses the Greeks already computed.
    pub fn reference_shortfall_bound(o: &ShortOption, spot: Fx, range: Fx) -> Result<Fx> {
        let mut value_sup = Fx::MIN;
        for p in candidates(o, range, true)?.into_iter().flatten() {
            value_sup = value_sup.max(value_shortfall(o, spot, p)?);
        }
        let bound = if o.std_dev > MIN_STD_DEV {
            let lagrange_sup =
                lagrange_shortfall(o, spot, range)?.max(lagrange_shortfall(o, spot, range.neg_c()?)?);
            lagrange_sup.min(value_sup)
        } else {
            value_sup
        };
        Ok(bound.max(ZERO))
    }

    /// Upper bound, over p in [−range, range], of how much the expansion overstates one long
    /// option unit's gain (quote units, ≥ 0). An option's value is convex in the spot and never
    /// below intrinsic, so V(S') ≥ max(V + Δ·dS, intrinsic(S')); the overstatement is at most
    /// min(½·Γ·dS², expansion − intrinsic(S') + V), bounded here by the smaller supremum (the
    /// second is convex on each side of the strike: its supremum is at the ends or the strike).
    pub fn reference_overstatement_bound(o: &ShortOption, spot: Fx, range: Fx) -> Result<Fx> {
        let d_max = spot.mul_c(range)?;
        let gamma_sup = o.gamma.mul_c(d_max)?.mul_c(d_max)?.mul_c(HALF)?;
        let mut floor_sup = Fx::MIN;
        for p in candidates(o, range, false)?.into_iter().flatten() {
            let d_spot = spot.mul_c(p)?;
            let expansion =
                o.delta.mul_c(d_spot)?.add_c(o.gamma.mul_c(d_spot)?.mul_c(d_spot)?.mul_c(HALF)?)?;
            let floor_gap =
                expansion.sub_c(intrinsic(o.kind, spot.add_c(d_spot)?, o.strike)?)?.add_c(o.price)?;
            floor_sup = floor_sup.max(floor_gap);
        }
        Ok(gamma_sup.min(floor_sup).max(ZERO))
    }
}

/// A call or a put at spot 100 (`common::unit_option`).
fn option(call: bool, moneyness: f64, vol: f64, days: f64) -> Option<ShortOption> {
    let kind = if call { OptionKind::Call } else { OptionKind::Put };
    common::unit_option(kind, 100.0, moneyness, vol, days)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]
    #[test]
    fn four_ranges_at_once_equal_one_range_at_a_time(
        call in any::<bool>(),
        spot in prop_oneof![Just(1.0f64), 20.0f64..200.0, 1_000.0f64..100_000.0],
        moneyness in 0.3f64..3.0,
        vol in 0.05f64..3.0,
        days in 0.0f64..400.0,
        ranges in prop::array::uniform4(0.0f64..0.99),
        ups in prop::array::uniform4(0.0f64..1.5),
    ) {
        let kind = if call { OptionKind::Call } else { OptionKind::Put };
        let o = common::unit_option(kind, spot, moneyness, vol, days);
        // Too many rejections fail the test: it cannot pass vacuously.
        prop_assume!(o.is_some());
        let o = o.expect("assumed");
        let spot = Fx::from_num(spot);
        let ranges = ranges.map(Fx::from_num);
        let one_by_one = |f: fn(&ShortOption, Fx, Fx) -> Result<Fx>| -> Result<[Fx; 4]> {
            let mut out = [ZERO; 4];
            for (x, r) in out.iter_mut().zip(ranges) {
                *x = f(&o, spot, r)?;
            }
            Ok(out)
        };
        let short = shortfall_bounds(&o, spot, ranges.map(Range::symmetric));
        let long = overstatement_bounds(&o, spot, ranges.map(Range::symmetric));
        match one_by_one(reference::reference_shortfall_bound) {
            Ok(expected) => prop_assert_eq!(short, Ok(expected)),
            Err(_) => prop_assert!(short.is_err()),
        }
        match one_by_one(reference::reference_overstatement_bound) {
            Ok(expected) => prop_assert_eq!(long, Ok(expected)),
            Err(_) => prop_assert!(long.is_err()),
        }
        // `convexity_bounds` (both with each range end evaluated once, what a crank stores)
        // is the two separate bounds, bit for bit, and fails exactly when one of them does:
        // on asymmetric ranges (a crank's), upper ends beyond 1 included.
        let mut asymmetric = [Range::symmetric(ZERO); 4];
        for ((r, down), up) in asymmetric.iter_mut().zip(ranges).zip(ups) {
            *r = Range { down, up: Fx::from_num(up) };
        }
        let both = xmargin_risk::convexity::convexity_bounds(&o, spot, asymmetric);
        match (shortfall_bounds(&o, spot, asymmetric), overstatement_bounds(&o, spot, asymmetric)) {
            (Ok(short), Ok(long)) => prop_assert_eq!(both, Ok((short, long))),
            _ => prop_assert!(both.is_err()),
        }
    }
}

/// A 30-day 10% out-of-the-money call at the reference ranges (maintenance and initial, grid
/// and tail): the same bounds, all positive, growing with the range.
#[test]
fn a_reference_call() {
    let o = option(true, 1.1, 0.6, 30.0).expect("option");
    let spot = Fx::from_num(100);
    let ranges = [0.15, 0.45, 0.225, 0.675].map(Fx::from_num);
    let short = shortfall_bounds(&o, spot, ranges.map(Range::symmetric)).expect("shortfall");
    let long = overstatement_bounds(&o, spot, ranges.map(Range::symmetric)).expect("overstatement");
    for (i, r) in ranges.into_iter().enumerate() {
        assert_eq!(short[i], reference::reference_shortfall_bound(&o, spot, r).expect("reference"));
        assert_eq!(long[i], reference::reference_overstatement_bound(&o, spot, r).expect("reference"));
        assert!(short[i] > ZERO && long[i] > ZERO, "range {r}");
    }
    assert!(short[0] <= short[2] && short[2] <= short[1] && short[1] <= short[3]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]
    /// An asymmetric range [−down, up] lies between [−min, min] and [−max, max] (below 1: a
    /// symmetric range beyond it would reach negative spots), and widening its upper end
    /// (beyond 1 too: a crank's upper ends are not capped) never lowers a bound: suprema over
    /// nested intervals (10⁻⁹ relative slack for the floored products at different points).
    #[test]
    fn asymmetric_ranges_are_monotone(
        call in any::<bool>(),
        moneyness in 0.3f64..3.0,
        vol in 0.05f64..3.0,
        days in 1.0f64..400.0,
        down in 0.0f64..0.99,
        up in 0.0f64..0.99,
        further in 0.0f64..1.5,
    ) {
        let o = option(call, moneyness, vol, days);
        prop_assume!(o.is_some());
        let o = o.expect("assumed");
        let spot = Fx::from_num(100);
        let (lo, hi) = (Fx::from_num(down.min(up)), Fx::from_num(down.max(up)));
        let range = Range { down: Fx::from_num(down), up: Fx::from_num(up) };
        let wider = Range { up: Fx::from_num(up + further), ..range };
        let at_most = |a: Fx, b: Fx| a.to_num::<f64>() <= b.to_num::<f64>() * (1.0 + 1e-9) + 1e-9;
        for f in [shortfall_bounds::<1>, overstatement_bounds::<1>] {
            let (Ok([inner]), Ok([outer])) = (f(&o, spot, [Range::symmetric(lo)]), f(&o, spot, [Range::symmetric(hi)])) else {
                continue;
            };
            let [mid] = f(&o, spot, [range]).expect("within the outer range");
            prop_assert!(at_most(inner, mid), "{inner} > {mid}");
            prop_assert!(at_most(mid, outer), "{mid} > {outer}");
            let [wide] = f(&o, spot, [wider]).expect("a wider upper end");
            prop_assert!(at_most(mid, wide), "{mid} > {wide} with the upper end at {}", up + further);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]
    /// Soundness on asymmetric ranges, what a crank now computes: at every sampled spot of
    /// [−down, up] (the ends included; up beyond +100%), the short bound is at least how much
    /// the option's Black-Scholes value exceeds its expansion at S, and the long bound at
    /// least how much the expansion exceeds the value.
    #[test]
    fn asymmetric_bounds_cover_full_revaluation(
        call in any::<bool>(),
        moneyness in 0.3f64..3.0,
        vol in 0.05f64..2.0,
        days in 1.0f64..400.0,
        down in 0.0f64..0.995,
        up in 0.0f64..1.5,
    ) {
        let o = option(call, moneyness, vol, days);
        prop_assume!(o.is_some());
        let o = o.expect("assumed");
        let spot = Fx::from_num(100);
        let range = Range { down: Fx::from_num(down), up: Fx::from_num(up) };
        let [short] = shortfall_bounds(&o, spot, [range]).expect("shortfall");
        let [long] = overstatement_bounds(&o, spot, [range]).expect("overstatement");
        let (v0, d0, g0) = (o.price.to_num::<f64>(), o.delta.to_num::<f64>(), o.gamma.to_num::<f64>());
        let t = Fx::from_num(days / 365.0);
        for k in 0..=40 {
            let p = -down + (up + down) * f64::from(k) / 40.0;
            let s = 100.0 * (1.0 + p);
            let Ok(g) = greeks(o.kind, Fx::from_num(s), o.strike, Fx::from_num(vol), t) else { continue };
            let ds = 100.0 * p;
            let gap = g.price.to_num::<f64>() - (v0 + d0 * ds + 0.5 * g0 * ds * ds);
            let tol = 1e-9 * (1.0 + s + o.strike.to_num::<f64>());
            prop_assert!(short.to_num::<f64>() >= gap - tol, "short {short} < {gap} at p = {p}");
            prop_assert!(long.to_num::<f64>() >= -gap - tol, "long {long} < {} at p = {p}", -gap);
        }
    }
}

/// A range reaching −100% (spots at or below zero) is refused, not bounded by zero.
#[test]
fn a_range_down_to_minus_one_is_refused() {
    let o = option(false, 1.0, 0.6, 30.0).expect("option");
    let spot = Fx::from_num(100);
    let bad = Range { down: Fx::ONE, up: Fx::from_num(0.5) };
    assert_eq!(shortfall_bounds(&o, spot, [bad]), Err(xmargin_risk::RiskError::InvalidScenarioParams));
    assert_eq!(overstatement_bounds(&o, spot, [bad]), Err(xmargin_risk::RiskError::InvalidScenarioParams));
}
