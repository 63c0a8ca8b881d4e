//! The 64-bit grid (`grid64.rs`, what health uses through `requirement_bounded`) against the
//! exact one (`requirement_with_addons`): never below it, and above it by at most its
//! documented margin — 4·10^−6 of the book's largest loss coefficient here, over random
//! exposures of every sign and magnitude (dust to 10^12 quote units), random tail tables
//! and random grids, both levels.
mod common;

use common::*;
use proptest::prelude::*;
use xmargin_risk::grid::{requirement_bounded, requirement_with_addons, Addons, ScenarioParams};
use xmargin_risk::portfolio::NetExposure;
use xmargin_risk::scenarios::{TailRow, TailTable, MAX_TAIL_ROWS};
use xmargin_risk::Fx;

fn row() -> impl Strategy<Value = TailRow> {
    (0.01f64..25.0, any::<bool>(), -3.0f64..3.0, 0.01f64..1.0, any::<bool>()).prop_map(
        |(m, down, v, w, both)| {
            if both {
                TailRow::both_ways(fx(m), fx(v), fx(w))
            } else {
                TailRow::new(fx(if down { -m } else { m }), fx(v), fx(w))
            }
        },
    )
}

fn scenario() -> impl Strategy<Value = ScenarioParams> {
    (
        proptest::collection::vec(row(), 0..=MAX_TAIL_ROWS),
        0.001f64..0.99,
        0.0f64..1.5,
        0.0f64..1.5,
        1.0f64..2.0,
    )
        .prop_map(|(rows, p, up, down, scale)| {
            let base = ScenarioParams {
                tail: TailTable::new(&rows).expect("valid rows"),
                max_price_shock: fx(p),
                vol_shock_up: fx(up),
                vol_shock_down: fx(down),
                ..ScenarioParams::REFERENCE
            };
            base.scaled(fx(scale)).unwrap()
        })
}

/// A signed magnitude spread over many orders: m × 10^e.
fn magnitude() -> impl Strategy<Value = f64> {
    (-1.0f64..1.0, -6i32..9).prop_map(|(m, e)| m * 10f64.powi(e))
}

fn exposure() -> impl Strategy<Value = NetExposure> {
    (
        1.0f64..100_000.0,
        [magnitude(), magnitude(), magnitude(), magnitude(), magnitude()],
        0.0f64..1.0,
        prop::array::uniform5(any::<bool>()),
    )
        .prop_map(|(spot, [delta, gamma, vega, vanna, volga], conf, zero)| {
            let pick = |x: f64, z: bool| if z { 0.0 } else { x };
            let mut e = NetExposure::empty(&underlying(0, spot, 0.5, conf));
            e.delta = fx(pick(delta, zero[0]));
            e.gamma = fx(pick(gamma / spot, zero[1]));
            e.vega = fx(pick(vega * spot, zero[2]));
            e.vanna = fx(pick(vanna, zero[3]));
            e.volga = fx(pick(volga * spot, zero[4]));
            e
        })
}

/// The loss coefficients' largest magnitude (`grid::Quadratic`).
fn largest_coefficient(e: &NetExposure) -> f64 {
    let f = |x: Fx| x.to_num::<f64>().abs();
    let s = f(e.spot);
    [f(e.delta) * s, f(e.gamma) * s * s / 2.0, f(e.vega), f(e.volga) / 2.0, f(e.vanna) * s]
        .into_iter()
        .fold(0.0, f64::max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn never_below_the_exact_grid_and_within_its_margin(
        mut e in exposure(),
        s in scenario(),
        addon in 0.0f64..1000.0,
    ) {
        e.scenario = s;
        let addons = Addons { grid: fx(addon), extreme: fx(addon * 2.0), value_error: fx(addon) };
        // Past ~10^23 the exact grid's own products overflow: nothing to compare with.
        let exact = requirement_with_addons(&e, &s, addons);
        prop_assume!(exact.is_ok());
        let exact = exact.unwrap();
        let fast = requirement_bounded(&e, &s, addons).unwrap();
        let slack = 4e-6 * largest_coefficient(&e) + 1e-9;
        for (name, x, y) in [
            ("grid", exact.grid_loss, fast.grid_loss),
            ("tail", exact.tail_loss, fast.tail_loss),
            ("requirement", exact.requirement, fast.requirement),
        ] {
            prop_assert!(y >= x, "{name}: 64-bit {y} below exact {x}");
            let over = (y - x).to_num::<f64>();
            prop_assert!(over <= slack, "{name}: 64-bit {y} above exact {x} by {over} (slack {slack})");
        }
        prop_assert_eq!(exact.short_option_charge, fast.short_option_charge);
        prop_assert_eq!(exact.confidence_addon, fast.confidence_addon);
    }
}

#[test]
fn a_book_beyond_the_integer_bounds_is_computed_exactly() {
    // A delta notional of 10^20 quote units: past 2^30 quanta of any shift that keeps the
    // loss in an i128, so the exact path runs (the same numbers).
    let mut e = NetExposure::empty(&underlying(0, 1e6, 0.5, 0.0));
    e.delta = Fx::from_num(1e14);
    e.gamma = Fx::from_num(-1e-20);
    let s = ScenarioParams::REFERENCE;
    let addons = Addons { grid: Fx::ZERO, extreme: Fx::ZERO, value_error: Fx::ZERO };
    let exact = requirement_with_addons(&e, &s, addons).unwrap();
    let fast = requirement_bounded(&e, &s, addons).unwrap();
    assert!(fast.requirement >= exact.requirement);
}
