//! The realized-volatility estimator and adaptive shocks: decay on a constant price, an
//! immediate rise after a jump, the decay limit, and agreement with an f64 reference.
mod common;

use common::{fx, Rng};
use xmargin_risk::fx::Fx;
use xmargin_risk::vol::{update, VolParams, VolState};

const HOUR: i64 = 3600;
const T0: i64 = 1_700_000_000;

fn f(x: Fx) -> f64 {
    x.to_num()
}

fn start(vol: f64) -> VolState {
    start_with(vol, &VolParams::REFERENCE)
}

fn start_with(vol: f64, p: &VolParams) -> VolState {
    update(&VolState::new(fx(vol), p).unwrap(), fx(100.0), T0, p).unwrap()
}

#[test]
fn constant_price_decays_estimates_and_shock_to_the_floor() {
    let p = VolParams::REFERENCE;
    let mut s = start(0.8);
    let first_shock = f(s.shock);
    for h in 1..=24 * 60 {
        s = update(&s, fx(100.0), T0 + h * HOUR, &p).unwrap();
    }
    assert!(f(s.sigma_short().unwrap()) < 1e-6, "short σ {}", f(s.sigma_short().unwrap()));
    // σ_long = 0.8 · 2^(−60 days / (2 × 7 days)): the variance halves every half-life.
    let want = 0.8 * 2f64.powf(-60.0 / 14.0);
    assert!(
        (f(s.sigma_long().unwrap()) - want).abs() < 1e-6,
        "long σ {} vs {want}",
        f(s.sigma_long().unwrap())
    );
    assert_eq!(s.shock, p.floor, "after 60 quiet days the shock is at its floor (from {first_shock})");
}

#[test]
fn a_ten_percent_jump_raises_the_shock_at_once() {
    // A one-day horizon with k = 3 and a 5% floor (the reference of earlier versions): the
    // jump moves the quantile term well above the floor. (At the reference 4-hour horizon the
    // 21% floor still binds after one 10% hour.)
    let p = VolParams {
        k: fx(3.0),
        horizon_secs: 86_400,
        floor: fx(0.05),
        stressed_shock: Fx::ZERO,
        stressed_weight: Fx::ZERO,
        ..VolParams::REFERENCE
    };
    let mut s = start_with(0.3, &p);
    for h in 1..=48 {
        s = update(&s, fx(100.0), T0 + h * HOUR, &p).unwrap();
    }
    let before = f(s.shock);
    let after = update(&s, fx(110.0), T0 + 49 * HOUR, &p).unwrap();
    // One hour, r = ln 1.1: r²/Δt ≈ 79.6 (σ ≈ 892%); α_short = 1 − 2^(−1/12) ≈ 0.056.
    assert!(f(after.shock) > before * 2.0, "shock {before} -> {}", f(after.shock));
    assert!(f(after.sigma_short().unwrap()) > 1.5);
}

#[test]
fn the_shock_never_falls_faster_than_the_decay_limit() {
    let p = VolParams::REFERENCE;
    let d = f(p.max_decay_per_day);
    let mut rng = Rng::new(7);
    let mut s = start(0.6);
    let mut price = 100.0;
    let mut t = T0;
    for _ in 0..5_000 {
        let step = HOUR * (1 + rng.below(6) as i64);
        t += step;
        // Mostly calm, sometimes a large move.
        let sigma = if rng.below(50) == 0 { 0.08 } else { 0.004 };
        price *= (sigma * (rng.uniform(-1.0, 1.0) * 1.73)).exp();
        let next = update(&s, fx(price), t, &p).unwrap();
        let allowed = f(s.shock) * (1.0 - d).powf(step as f64 / 86_400.0);
        assert!(f(next.shock) >= allowed - 1e-9, "fell from {} to {} in {step} s", f(s.shock), f(next.shock));
        assert!(next.shock >= p.floor && next.shock <= p.cap);
        s = next;
    }
}

#[test]
fn fixed_point_matches_an_f64_reference() {
    let p = VolParams::REFERENCE;
    let (hs, hl) = (p.half_life_short_secs as f64, p.half_life_long_secs as f64);
    let mut rng = Rng::new(11);
    let mut s = start(0.5);
    let (mut vs, mut vl) = (0.25f64, 0.25f64);
    let (mut price, mut t) = (100.0f64, T0);
    let mut worst: f64 = 0.0;
    for _ in 0..2_000 {
        let step = HOUR;
        let next_price = (price * (0.01 * rng.uniform(-1.7, 1.7)).exp() * 1e6).round() / 1e6;
        let r = (next_price / price).ln();
        let obs = r * r / (step as f64 / 31_536_000.0);
        vs += (1.0 - 0.5f64.powf(step as f64 / hs)) * (obs - vs);
        vl += (1.0 - 0.5f64.powf(step as f64 / hl)) * (obs - vl);
        t += step;
        s = update(&s, fx(next_price), t, &p).unwrap();
        price = next_price;
        worst = worst
            .max((f(s.var_short) - vs).abs() / vs.max(1e-6))
            .max((f(s.var_long) - vl).abs() / vl.max(1e-6));
    }
    println!("max relative difference of the variances vs f64 over 2,000 updates: {worst:.2e}");
    assert!(worst < 1e-6, "{worst}");
}

#[test]
fn bad_observations_are_rejected() {
    let p = VolParams::REFERENCE;
    let s = start(0.5);
    assert!(update(&s, fx(100.0), T0, &p).is_err(), "time must move forward");
    assert!(update(&s, fx(0.0), T0 + HOUR, &p).is_err(), "price must be positive");
    assert!(VolParams { floor: fx(0.7), ..p }.validate().is_err(), "floor above cap");
}
