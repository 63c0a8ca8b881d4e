//! Collateral valuation (tiers, liabilities, confidence) and the health computation.
mod common;

use common::*;
use xmargin_risk::collateral::{weighted_value, Balance, CollateralMarket, HaircutSchedule, Level, Tier};
use xmargin_risk::fx::Fx;
use xmargin_risk::grid::ScenarioParams;
use xmargin_risk::{margin, InstrumentKind, MarginParams, Market, RiskError};

fn sol(conf: f64) -> CollateralMarket {
    let mut schedule = HaircutSchedule::flat(fx(0.8), fx(0.9), fx(1.2), fx(1.1));
    schedule.tiers[0] = Tier { above: fx(1_000.0), initial_weight: fx(0.6), maintenance_weight: fx(0.7) };
    schedule.tiers[1] = Tier { above: fx(10_000.0), initial_weight: fx(0.3), maintenance_weight: fx(0.4) };
    schedule.tier_count = 2;
    CollateralMarket { index: 1, price: fx(100.0), conf: fx(conf), schedule, link: None }
}

fn value(balance: f64, m: &CollateralMarket, level: Level) -> f64 {
    weighted_value(fx(balance), m, level).unwrap().to_num()
}

#[test]
fn tiers_apply_like_brackets() {
    let m = sol(0.0);
    // 500 units, all in the base tier: 500 × 100 × 0.8.
    assert!((value(500.0, &m, Level::Initial) - 40_000.0).abs() < 1e-6);
    // 5,000 units: 1,000 at 0.8 + 4,000 at 0.6.
    assert!((value(5_000.0, &m, Level::Initial) - (80_000.0 + 240_000.0)).abs() < 1e-6);
    // 20,000 units: 1,000 at 0.9 + 9,000 at 0.7 + 10,000 at 0.4 (maintenance).
    let want = 100.0 * (1_000.0 * 0.9 + 9_000.0 * 0.7 + 10_000.0 * 0.4);
    assert!((value(20_000.0, &m, Level::Maintenance) - want).abs() < 1e-6);
}

#[test]
fn weighted_value_is_continuous_and_increasing_in_the_balance() {
    let m = sol(0.0);
    let mut prev = 0.0;
    for i in 1..=400 {
        let b = f64::from(i) * 50.0;
        let v = value(b, &m, Level::Initial);
        assert!(v > prev, "value must grow with the balance at {b}");
        assert!(v - prev <= 50.0 * 100.0 * 0.8 + 1e-6, "no jump at a tier boundary ({b})");
        prev = v;
    }
}

#[test]
fn confidence_is_used_against_the_holder() {
    let m = sol(2.0);
    // Asset at price − conf, liability at price + conf times the liability weight.
    assert!((value(100.0, &m, Level::Maintenance) - 100.0 * 98.0 * 0.9).abs() < 1e-6);
    assert!((value(-100.0, &m, Level::Initial) - (-100.0 * 102.0 * 1.2)).abs() < 1e-6);
    assert!((value(-100.0, &m, Level::Maintenance) - (-100.0 * 102.0 * 1.1)).abs() < 1e-6);
}

#[test]
fn invalid_schedules_are_rejected() {
    let ok = HaircutSchedule::flat(fx(0.8), fx(0.9), fx(1.2), fx(1.1));
    assert!(ok.validate().is_ok());
    let cases = [
        HaircutSchedule::flat(fx(0.95), fx(0.9), fx(1.2), fx(1.1)), // initial above maintenance
        HaircutSchedule::flat(fx(0.8), fx(1.1), fx(1.2), fx(1.1)),  // weight above 1
        HaircutSchedule::flat(fx(0.8), fx(0.9), fx(1.2), fx(0.9)),  // liability weight below 1
        HaircutSchedule::flat(fx(0.8), fx(0.9), fx(1.0), fx(1.1)),  // initial liability below maintenance
    ];
    for s in cases {
        assert_eq!(s.validate(), Err(RiskError::InvalidHaircutSchedule));
    }
    let mut rising = ok;
    rising.tiers[0] = Tier { above: fx(10.0), initial_weight: fx(0.85), maintenance_weight: fx(0.9) };
    rising.tier_count = 1;
    assert_eq!(rising.validate(), Err(RiskError::InvalidHaircutSchedule), "tier weight above base");
}

#[test]
fn health_is_weighted_collateral_plus_values_minus_requirement() {
    let btc = underlying(0, 60_000.0, 0.6, 30.0);
    let usdc = CollateralMarket {
        index: 0,
        price: Fx::ONE,
        conf: Fx::ZERO,
        schedule: HaircutSchedule::flat(Fx::ONE, Fx::ONE, Fx::ONE, Fx::ONE),
        link: None,
    };
    let collateral = [usdc, sol(0.5)];
    let balances =
        [Balance { collateral: 0, amount: fx(50_000.0) }, Balance { collateral: 1, amount: fx(-20.0) }];
    let positions = [perp(0, 1.0, 58_000.0), option(0, InstrumentKind::Call, 65_000.0, 30.0, -1.0)];
    let market = Market { now: NOW, underlyings: std::slice::from_ref(&btc) };
    let r = margin(&positions, &balances, &collateral, &market, &MarginParams::REFERENCE).unwrap();
    let f = |x: Fx| x.to_num::<f64>();
    assert!((f(r.collateral_value) - (50_000.0 - 2_000.0)).abs() < 1e-6);
    assert!((f(r.equity) - (f(r.collateral_value) + f(r.positions_value))).abs() < 1e-6);
    for (health, weighted, req) in [
        (r.initial_health, r.weighted_collateral_initial, r.initial_requirement),
        (r.maintenance_health, r.weighted_collateral_maintenance, r.maintenance_requirement),
    ] {
        assert!((f(health) - (f(weighted) + f(r.positions_value) - f(req))).abs() < 1e-6);
    }
    assert!(r.initial_requirement > r.maintenance_requirement);
    let p = MarginParams::REFERENCE;
    for (level, want) in [(Level::Initial, r.initial_health), (Level::Maintenance, r.maintenance_health)] {
        assert_eq!(
            xmargin_risk::margin::health(&positions, &balances, &collateral, &market, &p, level).unwrap(),
            want
        );
    }
    assert!(r.initial_health < r.maintenance_health);
    // The perp is 2,000 in the money; the short call is worth minus its model price.
    let t = xmargin_risk::fx::years_from_seconds(30 * DAY).unwrap();
    let call =
        xmargin_risk::bs::greeks(xmargin_risk::bs::OptionKind::Call, fx(60_000.0), fx(65_000.0), fx(0.6), t)
            .unwrap();
    assert!((f(r.positions_value) - (2_000.0 - f(call.price))).abs() < 1e-6);
}

#[test]
fn unknown_references_and_bad_market_data_are_specific_errors() {
    let btc = underlying(0, 60_000.0, 0.6, 30.0);
    let market = Market { now: NOW, underlyings: std::slice::from_ref(&btc) };
    let p = MarginParams::REFERENCE;
    assert_eq!(
        margin(&[perp(7, 1.0, 1.0)], &[], &[], &market, &p).err(),
        Some(RiskError::UnknownUnderlying(7))
    );
    let orphan = [Balance { collateral: 3, amount: Fx::ONE }];
    assert_eq!(margin(&[], &orphan, &[], &market, &p).err(), Some(RiskError::UnknownCollateral(3)));
    let mut bad = btc;
    bad.conf = bad.spot;
    let m = Market { now: NOW, underlyings: std::slice::from_ref(&bad) };
    assert_eq!(margin(&[perp(0, 1.0, 1.0)], &[], &[], &m, &p).err(), Some(RiskError::InvalidConfidence));
    let mut bad = btc;
    bad.scenario = ScenarioParams { price_steps: 2, ..ScenarioParams::REFERENCE };
    let m = Market { now: NOW, underlyings: std::slice::from_ref(&bad) };
    assert_eq!(margin(&[perp(0, 1.0, 1.0)], &[], &[], &m, &p).err(), Some(RiskError::InvalidScenarioParams));
    let low = MarginParams { initial_scale: fx(0.9), ..MarginParams::REFERENCE };
    assert_eq!(margin(&[], &[], &[], &market, &low).err(), Some(RiskError::InvalidMarginParams));
    let huge = [perp(0, 1e20, 1.0)]; // 1e20 × 60,000 is beyond ±6e23
    assert_eq!(margin(&huge, &[], &[], &market, &p).err(), Some(RiskError::Overflow));
}
