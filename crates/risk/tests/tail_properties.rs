//! The requirement with a random tail table and random expiry-scaled vol shocks stays convex,
//! subadditive and positively homogeneous (proptest), and the scaling tells a short 1-day
//! option from a short 90-day one of equal vega.
mod common;

use common::*;
use proptest::prelude::*;
use xmargin_risk::grid::{vol_loss, ScenarioParams};
use xmargin_risk::margin::requirements;
use xmargin_risk::portfolio::books;
use xmargin_risk::scenarios::{TailRow, TailTable, VolScaling, MAX_TAIL_ROWS};
use xmargin_risk::{InstrumentKind, MarginParams, Market, Position, UnderlyingMarket};

fn row() -> impl Strategy<Value = TailRow> {
    tail_row(1.0..8.0, -0.3..0.6, 0.05..1.0)
}

fn scenario() -> impl Strategy<Value = ScenarioParams> {
    (proptest::collection::vec(row(), 0..=MAX_TAIL_ROWS), 0.0f64..0.6, 0.25f64..3.0).prop_map(
        |(rows, p, floor)| ScenarioParams {
            tail: TailTable::new(&rows).expect("valid rows"),
            vol_scaling: VolScaling::new(fx(30.0), fx(floor), fx(p)).unwrap(),
            ..ScenarioParams::REFERENCE
        },
    )
}

fn markets(s: ScenarioParams) -> [UnderlyingMarket; 2] {
    let mut m = two_markets();
    for u in &mut m {
        u.scenario = s;
    }
    m
}

use common::requirement_pair as req;

fn times(p: &Position, k: f64) -> Position {
    Position { size: fx(p.size.to_num::<f64>() * k), ..*p }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn subadditive(s in scenario(), a in book(), b in book()) {
        let u = markets(s);
        let (ia, ma) = req(&a, &u);
        let (ib, mb) = req(&b, &u);
        let ab: Vec<Position> = a.iter().chain(&b).copied().collect();
        let (iab, mab) = req(&ab, &u);
        prop_assert!(iab <= ia + ib + tol(ia + ib), "initial {} > {} + {}", iab, ia, ib);
        prop_assert!(mab <= ma + mb + tol(ma + mb), "maintenance {} > {} + {}", mab, ma, mb);
    }

    #[test]
    fn positively_homogeneous(s in scenario(), a in book(), k in 2i64..5) {
        let u = markets(s);
        let (i1, m1) = req(&a, &u);
        let big: Vec<Position> = a.iter().map(|p| times(p, k as f64)).collect();
        let (ik, mk) = req(&big, &u);
        let kf = k as f64;
        prop_assert!((ik - kf * i1).abs() <= tol(ik) * 10.0 + 1e-6 * kf * i1.abs(), "initial {} vs {}×{}", ik, k, i1);
        prop_assert!((mk - kf * m1).abs() <= tol(mk) * 10.0 + 1e-6 * kf * m1.abs(), "maintenance {} vs {}×{}", mk, k, m1);
    }

    /// R(λa + (1 − λ)b) ≤ λR(a) + (1 − λ)R(b): each book's sizes scaled, the books merged.
    #[test]
    fn convex(s in scenario(), a in book(), b in book(), lambda in 0.1f64..0.9) {
        let u = markets(s);
        let (ia, ma) = req(&a, &u);
        let (ib, mb) = req(&b, &u);
        let mix: Vec<Position> =
            a.iter().map(|p| times(p, lambda)).chain(b.iter().map(|p| times(p, 1.0 - lambda))).collect();
        let (im, mm) = req(&mix, &u);
        let (ib_, mb_) = (lambda * ia + (1.0 - lambda) * ib, lambda * ma + (1.0 - lambda) * mb);
        prop_assert!(im <= ib_ + tol(ib_) + 1e-6 * (ia + ib), "initial {} > {}", im, ib_);
        prop_assert!(mm <= mb_ + tol(mb_) + 1e-6 * (ma + mb), "maintenance {} > {}", mm, mb_);
    }

    #[test]
    fn initial_at_least_maintenance(s in scenario(), a in book()) {
        let (i, m) = req(&a, &markets(s));
        prop_assert!(m >= 0.0);
        prop_assert!(i + tol(i) >= m, "initial {} < maintenance {}", i, m);
    }
}

/// A short 1-day ATM call and a short 90-day ATM call sized to the same vega: under flat vol
/// shocks (`LEGACY`) their vol-up losses are alike; under the reference scaling
/// (30/max(days, 1))^0.3 the 1-day one's is 90^0.3 ≈ 3.9 times the 90-day one's.
#[test]
fn short_dated_and_long_dated_options_of_equal_vega_are_charged_apart() {
    let spot = 60_000.0;
    let vega_of = |days: f64, scenario: ScenarioParams| -> f64 {
        let mut u = two_markets();
        u[0].scenario = scenario;
        let p = option(0, InstrumentKind::Call, spot, days, -1.0);
        let raw = xmargin_risk::portfolio::position_risk(&p, &u[0], NOW).unwrap();
        raw.vega.to_num::<f64>()
    };
    let (v1, v90) = (vega_of(1.0, ScenarioParams::LEGACY), vega_of(90.0, ScenarioParams::LEGACY));
    // Sizes of equal vega: 1 unit of the 90-day, v90/v1 units of the 1-day.
    let size_1d = v90 / v1;
    let loss = |days: f64, size: f64, scenario: ScenarioParams| -> f64 {
        let mut u = two_markets();
        u[0].scenario = scenario;
        let book = [option(0, InstrumentKind::Call, spot, days, -size)];
        let e = books(&book, &Market { now: NOW, underlyings: &u[..1] }).unwrap()[0].exposure;
        vol_loss(&e, scenario.vol_shock_up).unwrap().to_num::<f64>()
    };
    let old = (loss(1.0, size_1d, ScenarioParams::LEGACY), loss(90.0, 1.0, ScenarioParams::LEGACY));
    let new = (loss(1.0, size_1d, ScenarioParams::REFERENCE), loss(90.0, 1.0, ScenarioParams::REFERENCE));
    println!(
        "vol-up loss, 1-day vs 90-day of equal vega: flat {:.2} vs {:.2}; scaled {:.2} vs {:.2}",
        old.0, old.1, new.0, new.1
    );
    assert!((old.0 / old.1 - 1.0).abs() < 0.05, "flat shocks: alike ({old:?})");
    let ratio = new.0 / new.1;
    assert!((ratio - 90f64.powf(0.3)).abs() < 0.2, "scaled: {ratio}");
    // The requirement's vol part (the grid with a negligible price range and no tail, so the
    // vol scenarios bind) moves the same way: more for the 1-day, less for the 90-day. With
    // the reference price shocks, gamma binds for both at these sizes and the requirement is
    // the same either way.
    let vol_only = ScenarioParams {
        max_price_shock: fx(0.001),
        tail: TailTable::new(&[]).unwrap(),
        short_option_charge: fx(0.0),
        ..ScenarioParams::LEGACY
    };
    let scaled = ScenarioParams { vol_scaling: ScenarioParams::REFERENCE.vol_scaling, ..vol_only };
    let r = |days: f64, size: f64, s: ScenarioParams| {
        req(&[option(0, InstrumentKind::Call, spot, days, -size)], &markets(s)).1
    };
    let (r1_old, r1_new) = (r(1.0, size_1d, vol_only), r(1.0, size_1d, scaled));
    let (r90_old, r90_new) = (r(90.0, 1.0, vol_only), r(90.0, 1.0, scaled));
    println!("maintenance requirement, vol part: 1-day {r1_old:.2} → {r1_new:.2}; 90-day {r90_old:.2} → {r90_new:.2}");
    assert!(r1_new > r1_old && r90_new < r90_old);
}

/// The quote depeg contingency: a book with USDC at 0.95 is charged more than at 1.00, by
/// factor × depeg × gross notional at maintenance (× the initial scale at initial), and
/// nothing at or above the threshold.
#[test]
fn a_depegged_quote_raises_the_requirement() {
    use xmargin_risk::depeg::QuotePeg;
    let u = two_markets();
    let book = [
        perp(0, 2.0, 60_000.0),
        option(0, InstrumentKind::Put, 55_000.0, 30.0, -3.0),
        perp(1, -10.0, 3_000.0),
    ];
    let market = Market { now: NOW, underlyings: &u };
    let at = |q: f64| {
        let charge = QuotePeg::REFERENCE.charge(fx(q)).unwrap();
        let params = MarginParams::REFERENCE.with_quote_depeg(charge);
        let (i, m, _) = requirements(&book, &market, &params).unwrap();
        (i.to_num::<f64>(), m.to_num::<f64>())
    };
    let (par, depeg) = (at(1.0), at(0.95));
    assert_eq!(at(0.995), par, "above the threshold: nothing");
    let gross = (2.0 + 3.0) * 60_000.0 + 10.0 * 3_000.0;
    let expected = 2.0 * (0.99 - 0.95) * gross;
    assert!((depeg.1 - par.1 - expected).abs() < 1e-3, "maintenance {par:?} → {depeg:?}");
    assert!((depeg.0 - par.0 - 1.5 * expected).abs() < 1e-3, "initial {par:?} → {depeg:?}");
}
