//! Marks (src/marks.rs): health from cached per-series marks is sound against full
//! revaluation at the current spot and time for every drift and age the policy allows, never
//! above the exact engine's health, equal to it for perps, and refused when stale.
mod common;

use common::{fx, random_position, Rng, DAY, NOW};
use proptest::prelude::*;
use xmargin_risk::bs::OptionKind;
use xmargin_risk::collateral::Level;
use xmargin_risk::full;
use xmargin_risk::fx::Fx;
use xmargin_risk::grid::ScenarioParams;
use xmargin_risk::margin::{health, MarginParams};
use xmargin_risk::marks::{
    compute_marks, marked_books, marked_health, MarkedPosition, MarkedUnderlying, MarksPolicy,
};
use xmargin_risk::portfolio::{books, Market};
use xmargin_risk::{InstrumentKind, Position, RiskError, UnderlyingMarket};

const PARAMS: MarginParams = MarginParams::REFERENCE;

fn market(spot: f64, vol: f64, scenario: ScenarioParams) -> UnderlyingMarket {
    UnderlyingMarket { index: 0, spot: fx(spot), conf: Fx::ZERO, vol: fx(vol), scenario }
}

fn policy(drift: f64, age: i64) -> MarksPolicy {
    MarksPolicy::new(fx(drift), age)
}

/// Engine positions → marked positions, options marked at `at` as of `t0`. Perps carry no
/// entry (the program counts their basis as cash).
fn marked(book: &[Position], at: &UnderlyingMarket, t0: i64, policy: &MarksPolicy) -> Vec<MarkedPosition> {
    book.iter()
        .map(|p| {
            let marks = match p.instrument.kind {
                InstrumentKind::Perp => None,
                kind => {
                    let kind = if kind == InstrumentKind::Call { OptionKind::Call } else { OptionKind::Put };
                    Some(
                        compute_marks(
                            kind,
                            p.instrument.strike,
                            p.instrument.expiry,
                            at,
                            t0,
                            &PARAMS,
                            policy,
                        )
                        .expect("marks"),
                    )
                }
            };
            let strike_expiry = marks.is_some().then_some((p.instrument.strike, p.instrument.expiry));
            MarkedPosition { underlying: p.instrument.underlying, size: p.size, marks, strike_expiry }
        })
        .collect()
}

fn without_entry(book: &[Position]) -> Vec<Position> {
    book.iter().map(|p| Position { entry_price: Fx::ZERO, ..*p }).collect()
}

fn random_book(rng: &mut Rng, spot: f64) -> Vec<Position> {
    let n = 1 + rng.below(6) as usize;
    let mut out: Vec<Position> = Vec::new();
    while out.len() < n {
        let p = random_position(rng, 0, spot);
        // One slot per instrument, as in the program.
        if !out.iter().any(|q| q.instrument == p.instrument) {
            out.push(p);
        }
    }
    without_entry(&out)
}

/// Full-revaluation health (no collateral): true value now − worst scenario loss (grid
/// points and weighted extreme moves) at the level's shocks.
fn full_health(book: &[Position], now_market: &UnderlyingMarket, now: i64, level: Level) -> f64 {
    let (s, vol) = (now_market.spot.to_num::<f64>(), now_market.vol.to_num::<f64>());
    let value: f64 = book.iter().map(|p| full::position_value(p, s, vol, now)).sum();
    let scale = if level == Level::Initial { PARAMS.initial_scale } else { Fx::ONE };
    let params = now_market.scenario.scaled(scale).expect("scaled");
    let refs: Vec<&Position> = book.iter().collect();
    value - full::worst_loss(&refs, now_market, now, &params)
}

/// The reference grid without the grid's vol shocks: the property below is about the price
/// dimension, drift and time, which is what marks add (the grid's vol dimension is the
/// expansion's own, measured in expansion_vs_full.rs). Tail rows keep their vol moves: every
/// row of the reference table (0), of the old single extreme move (1), or of a crash table
/// with larger moves and vol spikes (2).
fn with_tail(choice: usize) -> ScenarioParams {
    use xmargin_risk::scenarios::{TailRow, TailTable};
    let row = |m: f64, v: f64, w: f64| TailRow::new(fx(m), fx(v), fx(w));
    let tail = match choice {
        0 => ScenarioParams::REFERENCE.tail,
        1 => ScenarioParams::LEGACY.tail,
        _ => TailTable::new(&[
            row(-8.0, 0.5, 0.1),
            row(-4.0, 0.3, 0.3),
            row(6.0, 0.2, 0.08),
            TailRow::both_ways(fx(2.0), fx(-0.1), fx(0.5)),
        ])
        .expect("crash table"),
    };
    ScenarioParams { vol_shock_up: Fx::ZERO, vol_shock_down: Fx::ZERO, tail, ..ScenarioParams::REFERENCE }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// For any drift within D and any age within the largest age, marked health never
    /// exceeds the full-revaluation health at the current spot and time.
    #[test]
    fn sound_against_full_revaluation(
        seed in 1u64..u64::MAX,
        spot_choice in 0usize..3,
        vol in 0.2f64..1.5,
        drift in 0.001f64..0.10,
        drift_used in -1.0f64..1.0,
        max_age in 60i64..(2 * DAY),
        age_used in 0.0f64..1.0,
        tail in 0usize..3,
    ) {
        let spot = [20.0, 150.0, 60_000.0][spot_choice];
        let mut rng = Rng::new(seed);
        let book = random_book(&mut rng, spot);
        let policy = policy(drift, max_age);
        let at = market(spot, vol, with_tail(tail));
        let positions = marked(&book, &at, NOW, &policy);
        let now = NOW + (age_used * max_age as f64) as i64;
        let now_market = market(spot * (1.0 + 0.999 * drift * drift_used), vol, with_tail(tail));
        let u = MarkedUnderlying { market: now_market, policy, stable_price: Fx::ZERO };
        let notional: f64 = book.iter().map(|p| p.size.to_num::<f64>().abs() * spot).sum();
        for level in [Level::Maintenance, Level::Initial] {
            let m = marked_health(&positions, &[], &[], &[u], now, &PARAMS, level).expect("marked");
            let f = full_health(&book, &now_market, now, level);
            prop_assert!(m.to_num::<f64>() <= f + 1e-7 * notional + 1e-6, "{level:?}: marked {m} > full {f}");
        }
    }
}

/// Marked at the current spot and time, health is never above the exact engine's (the
/// bounds cover a drift and an age the exact engine does not need); the cost is measured.
#[test]
fn never_above_the_exact_engine_and_close_to_it() {
    let mut rng = Rng::new(7);
    let policy = policy(0.03, 3600);
    let (mut exact_total, mut marked_total) = (0.0, 0.0);
    for _ in 0..200 {
        let spot = 150.0;
        let book = random_book(&mut rng, spot);
        let at = market(spot, 0.8, ScenarioParams::REFERENCE);
        let positions = marked(&book, &at, NOW, &policy);
        let u = MarkedUnderlying { market: at, policy, stable_price: Fx::ZERO };
        let m = marked_health(&positions, &[], &[], &[u], NOW, &PARAMS, Level::Initial).expect("marked");
        let e = health(&book, &[], &[], &Market { now: NOW, underlyings: &[at] }, &PARAMS, Level::Initial)
            .expect("exact");
        assert!(m <= e, "marked {m} above exact {e}");
        exact_total += e.to_num::<f64>();
        marked_total += m.to_num::<f64>();
    }
    // Requirements, not healths, are what cost capital: report the ratio of the totals.
    println!("initial health, 200 books: exact {exact_total:.2}, marked {marked_total:.2}");
}

/// At the marks' own spot and time the shifted exposure is the exact engine's, bit for bit
/// without vol scaling; with it, the vol Greeks are scaled for the end of the marks' life
/// (shorter time to expiry: a larger scale, by at most (T/(T − age))^p), the rest is exact.
#[test]
fn exposure_at_the_reference_spot_is_exact() {
    let mut rng = Rng::new(11);
    for _ in 0..100 {
        let book = random_book(&mut rng, 150.0);
        for scenario in [ScenarioParams::LEGACY, ScenarioParams::REFERENCE] {
            let at = market(150.0, 0.7, scenario);
            let positions = marked(&book, &at, NOW, &policy(0.02, 3600));
            let u = MarkedUnderlying { market: at, policy: policy(0.02, 3600), stable_price: Fx::ZERO };
            let m = marked_books(&positions, &[u], NOW).expect("marked")[0].exposure;
            let e = books(&book, &Market { now: NOW, underlyings: &[at] }).expect("exact")[0].exposure;
            if scenario == ScenarioParams::LEGACY {
                assert_eq!(m, e);
                continue;
            }
            assert_eq!((m.value, m.delta, m.gamma), (e.value, e.delta, e.gamma));
            // Each series' scale grows by at most (24/23)^0.3 < 1.3% within an hour (the
            // 1-day floor); volga's by its square.
            let gross = |g: fn(&xmargin_risk::portfolio::PositionRisk) -> Fx| -> f64 {
                book.iter()
                    .map(|p| {
                        g(&xmargin_risk::portfolio::position_risk(p, &at, NOW).unwrap()).to_num::<f64>().abs()
                    })
                    .sum()
            };
            let pairs = [
                (m.vega, e.vega, gross(|r| r.vega)),
                (m.vanna, e.vanna, gross(|r| r.vanna)),
                (m.volga, e.volga, gross(|r| r.volga)),
            ];
            for (marked, exact, gross) in pairs {
                let (marked, exact) = (marked.to_num::<f64>(), exact.to_num::<f64>());
                assert!(
                    (marked - exact).abs() <= gross * 30f64.powf(0.3) * 0.03 + 1e-6,
                    "{marked} vs {exact}"
                );
            }
        }
    }
}

/// Perps need no marks: at any spot, marked health equals the exact engine's (up to the
/// 64-bit grid's margin, on the safe side).
#[test]
fn perps_equal_the_exact_engine() {
    let book = without_entry(&[common::perp(0, 3.5, 0.0), common::perp(1, -2.25, 0.0)]);
    let mut a = market(150.0, 0.7, ScenarioParams::REFERENCE);
    let mut b = market(60_000.0, 0.5, ScenarioParams::REFERENCE);
    a.conf = fx(0.05);
    b.index = 1;
    let positions = marked(&book, &a, NOW, &policy(0.02, 3600));
    let us = [
        MarkedUnderlying { market: a, policy: policy(0.02, 3600), stable_price: Fx::ZERO },
        MarkedUnderlying { market: b, policy: policy(0.02, 3600), stable_price: Fx::ZERO },
    ];
    for level in [Level::Initial, Level::Maintenance] {
        let m = marked_health(&positions, &[], &[], &us, NOW + 10 * DAY, &PARAMS, level).expect("marked");
        let e =
            health(&book, &[], &[], &Market { now: NOW + 10 * DAY, underlyings: &[a, b] }, &PARAMS, level)
                .expect("exact");
        // Marked health goes through the 64-bit grid (`grid64.rs`): never above the exact
        // engine's, below it by at most its margin (~10^−8 of the book's delta notional here).
        let notional = 3.5 * 150.0 + 2.25 * 60_000.0;
        assert!(m <= e && (e - m).to_num::<f64>() <= notional * 1e-7, "{level:?}: marked {m}, exact {e}");
    }
}

/// Stale marks are refused with the reason.
#[test]
fn stale_marks_are_refused() {
    let policy = policy(0.02, 3600);
    let at = market(100.0, 0.6, ScenarioParams::REFERENCE);
    let marks = compute_marks(OptionKind::Call, fx(100.0), NOW + 30 * DAY, &at, NOW, &PARAMS, &policy)
        .expect("marks");
    let check = |m: &UnderlyingMarket, now: i64| marks.check(m, now, &policy);
    assert_eq!(check(&at, NOW + 3600), Ok(()));
    assert_eq!(check(&market(101.99, 0.6, ScenarioParams::REFERENCE), NOW), Ok(()));
    assert_eq!(check(&market(102.01, 0.6, ScenarioParams::REFERENCE), NOW), Err(RiskError::MarksSpotDrift));
    assert_eq!(check(&market(97.99, 0.6, ScenarioParams::REFERENCE), NOW), Err(RiskError::MarksSpotDrift));
    assert_eq!(check(&at, NOW + 3601), Err(RiskError::MarksTooOld));
    assert_eq!(check(&at, NOW - 1), Err(RiskError::MarksTooOld));
    assert_eq!(
        check(&market(100.0, 0.61, ScenarioParams::REFERENCE), NOW),
        Err(RiskError::MarksParamsChanged)
    );
    let wider = ScenarioParams { max_price_shock: fx(0.16), ..ScenarioParams::REFERENCE };
    assert_eq!(check(&market(100.0, 0.6, wider), NOW), Err(RiskError::MarksParamsChanged));
    let narrower = ScenarioParams { max_price_shock: fx(0.10), ..ScenarioParams::REFERENCE };
    assert_eq!(check(&market(100.0, 0.6, narrower), NOW), Ok(()));
    // Computed for the reference initial scale (1.5): refused once a larger one is in force,
    // kept under a smaller one (their wider bounds still cover).
    let scaled = |s: f64| xmargin_risk::marks::MarksPolicy { initial_scale: fx(s), ..policy };
    assert_eq!(marks.basis.initial_scale, fx(1.5));
    assert_eq!(marks.check(&at, NOW, &scaled(1.5)), Ok(()));
    assert_eq!(marks.check(&at, NOW, &scaled(1.2)), Ok(()));
    assert_eq!(marks.check(&at, NOW, &scaled(1.5001)), Err(RiskError::MarksParamsChanged));
    let never = xmargin_risk::marks::SeriesMarks {
        basis: xmargin_risk::marks::MarksBasis { computed_at: 0, ..marks.basis },
        ..marks
    };
    assert_eq!(never.check(&at, NOW, &policy), Err(RiskError::MarksMissing));
    assert_eq!(
        compute_marks(OptionKind::Call, fx(100.0), NOW, &at, NOW, &PARAMS, &MarksPolicy::new(fx(0.5), 3600)),
        Err(RiskError::InvalidMarksPolicy)
    );
}

/// A long option's bound carries its time decay over the largest age: more for a short-dated
/// at-the-money option, none for an expired one.
#[test]
fn long_bounds_carry_the_decay_allowance() {
    let at = market(100.0, 0.6, ScenarioParams::REFERENCE);
    let long_bound = |days: f64, age: i64| {
        let expiry = NOW + (days * DAY as f64) as i64;
        compute_marks(OptionKind::Call, fx(100.0), expiry, &at, NOW, &PARAMS, &policy(0.02, age))
            .expect("marks")
            .bounds[0][0][1]
    };
    assert!(long_bound(1.0, 7200) > long_bound(1.0, 60));
    assert!(long_bound(1.0, 3600) > long_bound(60.0, 3600) / fx(10.0));
    assert_eq!(long_bound(0.0, 3600), Fx::ZERO);
}

/// The stable-price charge: a long book's gain above the EMA counts only at the EMA for the
/// initial level (exactly, for a perp), nothing for a loss or a short below it, and the
/// maintenance level is unchanged.
#[test]
fn stable_price_charge_values_gains_at_the_ema() {
    use xmargin_risk::fx::Checked;
    use xmargin_risk::marks::stable_price_charge;
    let (delta, spot, ema) = (fx(10.0), fx(105.0), fx(100.0));
    assert_eq!(stable_price_charge(delta, spot, ema).unwrap(), fx(50.0));
    assert_eq!(stable_price_charge(delta.neg_c().unwrap(), spot, ema).unwrap(), Fx::ZERO);
    assert_eq!(stable_price_charge(delta.neg_c().unwrap(), fx(95.0), ema).unwrap(), fx(50.0));
    assert_eq!(stable_price_charge(delta, fx(95.0), ema).unwrap(), Fx::ZERO);
    assert_eq!(stable_price_charge(delta, spot, Fx::ZERO).unwrap(), Fx::ZERO, "no EMA: no charge");

    let market = common::underlying(0, 105.0, 0.6, 0.0);
    let policy = MarksPolicy::new(fx(0.03), 3_600);
    let perp = MarkedPosition { underlying: 0, size: fx(10.0), marks: None, strike_expiry: None };
    let with = [MarkedUnderlying { market, policy, stable_price: ema }];
    let without = [MarkedUnderlying { market, policy, stable_price: Fx::ZERO }];
    let params = MarginParams::REFERENCE;
    let req = |u: &[MarkedUnderlying], level| {
        marked_books(&[perp], u, NOW).unwrap()[0].requirement(&params, level).unwrap().requirement
    };
    assert_eq!(req(&with, Level::Initial), req(&without, Level::Initial).add_c(fx(50.0)).unwrap());
    assert_eq!(req(&with, Level::Maintenance), req(&without, Level::Maintenance));
}

/// A long call's initial tail bound covers the scenario spot furthest above the reference
/// spot once the initial grid reaches the cap: initial scale 2.2 (the tail range 3 × 15% ×
/// 2.2 ≥ 99%), the spot drifted up 25% (the largest drift a policy may allow) since the
/// marks, the scenario at +99% of it: S' = 1.25 × 1.99 × S0. The expansion overstates a
/// long at-the-money one-day call's gain there by far more than at 1.99 × S0, which is all a
/// capped symmetric range (the bounds' former widening) covered (found by review).
#[test]
fn the_initial_tail_bound_covers_a_drifted_spot_beyond_the_cap() {
    let params = MarginParams { initial_scale: fx(2.2), ..PARAMS };
    let at = market(100.0, 0.3, ScenarioParams::REFERENCE);
    let expiry = NOW + DAY;
    let drift = policy(0.25, 3600);
    let marks = compute_marks(OptionKind::Call, fx(100.0), expiry, &at, NOW, &params, &drift).expect("marks");
    let t = fx(1.0 / 365.0);
    let g = xmargin_risk::bs::greeks(OptionKind::Call, fx(100.0), fx(100.0), fx(0.3), t).expect("greeks");
    let s = 100.0 * 1.25 * 1.99;
    let x = s - 100.0;
    let value =
        xmargin_risk::bs::greeks(OptionKind::Call, fx(s), fx(100.0), fx(0.3), t).expect("greeks").price;
    let expansion =
        g.price.to_num::<f64>() + g.delta.to_num::<f64>() * x + 0.5 * g.gamma.to_num::<f64>() * x * x;
    let overstatement = expansion - value.to_num::<f64>();
    // [level: initial][range: largest tail][side: long]
    let bound = marks.bounds[1][1][1].to_num::<f64>();
    assert!(
        bound >= overstatement,
        "initial tail bound {bound} below the overstatement {overstatement} at {s}"
    );
    // The former widening, ±99% around S0, did not cover it.
    let unit = common::unit_option(OptionKind::Call, 100.0, 1.0, 0.3, 1.0).expect("unit");
    let capped = xmargin_risk::convexity::overstatement_bound(&unit, fx(100.0), fx(0.99))
        .expect("bound")
        .to_num::<f64>();
    assert!(
        capped < overstatement,
        "the case is the one that mattered: capped {capped}, overstatement {overstatement}"
    );
}

/// Books built for one level (what `trade` and the liquidations check) give that level's
/// requirement bit for bit as books built for both, and `marked_health` equals the full
/// report's health at each level; the other level is refused, never computed without its
/// convexity add-ons.
#[test]
fn one_level_books_equal_both_level_books_and_refuse_the_other() {
    use xmargin_risk::marks::{books_requirement, marked_books_at, marked_margin};
    let mut rng = Rng::new(41);
    let policy = policy(0.03, 3600);
    for _ in 0..200 {
        let spot = 150.0;
        let book = random_book(&mut rng, spot);
        let at = market(spot, 0.8, with_tail(rng.below(3) as usize));
        let positions = marked(&book, &at, NOW, &policy);
        let u = [MarkedUnderlying::new(market(spot * 1.01, 0.8, at.scenario), policy)];
        let now = NOW + 600;
        let both = marked_books_at(&positions, &[], &u, now, None).expect("both");
        let report = marked_margin(&positions, &[], &[], &u, now, &PARAMS).expect("report");
        for (level, other, health) in [
            (Level::Maintenance, Level::Initial, report.maintenance_health),
            (Level::Initial, Level::Maintenance, report.initial_health),
        ] {
            let one = marked_books_at(&positions, &[], &u, now, Some(level)).expect("one level");
            assert_eq!(
                books_requirement(&one, &PARAMS, level).expect("one"),
                books_requirement(&both, &PARAMS, level).expect("both")
            );
            assert_eq!(books_requirement(&one, &PARAMS, other).unwrap_err(), RiskError::LevelNotBuilt);
            let m = marked_health(&positions, &[], &[], &u, now, &PARAMS, level).expect("health");
            assert_eq!(m, health, "{level:?}");
        }
    }
}

/// `single_underlying_change` (`trade`'s short health path) against the full health of a
/// two-underlying book with a quote balance weighted at 1, when a fill resizes, flips or
/// closes one of underlying 0's positions and moves the cash: the cash converted from native
/// units as the program does it, the full computation converting them together with the rest
/// R of the portfolio's quote amounts, stable prices and a quote depeg charge in force. The
/// change is never above the full one and below it by at most two units of the last place
/// (one given up for the rounding, one the rounding may cost); `None` for an underlying in an
/// offset group.
#[test]
fn the_single_underlying_change_is_the_full_health_change() {
    use xmargin_risk::collateral::{Balance, CollateralMarket, HaircutSchedule};
    use xmargin_risk::fx::from_native;
    use xmargin_risk::marks::single_underlying_change;
    use xmargin_risk::offsets::{OffsetGroup, OffsetTable};
    let one = Fx::ONE;
    let quote = [CollateralMarket {
        index: 0,
        price: one,
        conf: Fx::ZERO,
        schedule: HaircutSchedule::flat(one, one, one, one),
        link: None,
    }];
    let mut rng = Rng::new(43);
    let policy = policy(0.03, 3600);
    let spots = [150.0, 3000.0];
    let native = |x: i64| from_native(i128::from(x), 6).expect("native");
    for round in 0..300 {
        let params = if round % 2 == 0 { PARAMS } else { PARAMS.with_quote_depeg(fx(0.01)) };
        let ats: Vec<UnderlyingMarket> = spots
            .iter()
            .enumerate()
            .map(|(i, s)| UnderlyingMarket { index: i as u16, ..market(*s, 0.8, with_tail(i)) })
            .collect();
        let us: Vec<MarkedUnderlying> = ats
            .iter()
            .zip(spots)
            .map(|(m, s)| MarkedUnderlying {
                stable_price: fx(s * rng.uniform(0.95, 1.05)),
                ..MarkedUnderlying::new(*m, policy)
            })
            .collect();
        let mut all: Vec<MarkedPosition> = Vec::new();
        for (i, at) in ats.iter().enumerate() {
            let book: Vec<Position> = random_book(&mut rng, spots[i])
                .into_iter()
                .map(|p| Position {
                    instrument: xmargin_risk::Instrument { underlying: i as u16, ..p.instrument },
                    ..p
                })
                .collect();
            all.extend(marked(&book, at, NOW, &policy));
        }
        // The fill: one of underlying 0's positions resized (possibly across zero) or closed.
        let Some(k) = all.iter().position(|p| p.underlying == 0) else { continue };
        let mut after = all.clone();
        if rng.below(4) == 0 {
            after.remove(k);
        } else {
            after[k].size = after[k].size.saturating_sub(fx(rng.uniform(-3.0, 3.0)));
        }
        // Native quote amounts: the fill's side (x) and the rest of the portfolio's (R).
        let x = [
            rng.below(80_000_000_000) as i64 - 20_000_000_000,
            rng.below(80_000_000_000) as i64 - 20_000_000_000,
        ];
        let rest = rng.below(10_000_000_000) as i64 - 5_000_000_000;
        let health = |positions: &[MarkedPosition], x: i64, level| {
            let balance = [Balance { collateral: 0, amount: native(x + rest) }];
            marked_health(positions, &balance, &quote, &us, NOW, &params, level).expect("health")
        };
        let of_u = |positions: &[MarkedPosition]| -> Vec<MarkedPosition> {
            positions.iter().filter(|p| p.underlying == 0).copied().collect()
        };
        let cash = [native(x[0]), native(x[1])];
        let change = single_underlying_change(&of_u(&all), &of_u(&after), cash, &us[0], NOW, &params)
            .expect("change")
            .unwrap();
        for (level, got) in [Level::Maintenance, Level::Initial].into_iter().zip(change) {
            let full = health(&after, x[1], level) - health(&all, x[0], level);
            assert!(got <= full, "{level:?}: {got} above the full change {full}");
            assert!(full - got <= 2 * Fx::DELTA, "{level:?}: {got} more than two units below {full}");
        }
        let grouped = MarginParams {
            offsets: OffsetTable::new(&[OffsetGroup::new(&[0, 1], fx(0.5)).unwrap()]).unwrap(),
            ..params
        };
        assert_eq!(
            single_underlying_change(&of_u(&all), &of_u(&after), cash, &us[0], NOW, &grouped),
            Ok(None)
        );
    }
}
