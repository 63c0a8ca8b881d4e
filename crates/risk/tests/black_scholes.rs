//! Black-Scholes (r = 0) against textbook values and against an f64 reference over the
//! accuracy domain: S/K ∈ [0.2, 5], σ ∈ [0.05, 3], T ∈ [1 hour, 2 years].
use xmargin_risk::bs::{greeks, price, OptionKind};
use xmargin_risk::full::bs as bs_f64;
use xmargin_risk::fx::Fx;

fn fx(x: f64) -> Fx {
    Fx::from_num(x)
}
fn f(x: Fx) -> f64 {
    x.to_num::<f64>()
}

// Textbook cases carry a rate r; with the forward F = S·e^(rT) the zero-rate model gives the
// undiscounted Black (1976) value, so price = e^(−rT) · engine(F), delta = engine delta,
// gamma and vega map by F/S. Expected values are the sources' printed (rounded) figures.

/// Hull, *Options, Futures, and Other Derivatives*, 9th ed., Example 15.6:
/// S0 = 42, K = 40, r = 10%, σ = 20%, T = 0.5 → c = 4.76, p = 0.81.
#[test]
fn hull_example_15_6_prices() {
    let (s, k, r, vol, t): (f64, f64, f64, f64, f64) = (42.0, 40.0, 0.10, 0.20, 0.5);
    let fwd = s * (r * t).exp();
    let disc = (-r * t).exp();
    let call = f(greeks(OptionKind::Call, fx(fwd), fx(k), fx(vol), fx(t)).unwrap().price) * disc;
    let put = f(greeks(OptionKind::Put, fx(fwd), fx(k), fx(vol), fx(t)).unwrap().price) * disc;
    assert!((call - 4.76).abs() < 0.005, "call {call}");
    assert!((put - 0.81).abs() < 0.005, "put {put}");
}

/// Hull, 9th ed., Examples 19.1 / 19.4 / 19.6 (one option): S0 = 49, K = 50, r = 5%,
/// σ = 20%, T = 20 weeks = 0.3846 → delta = 0.522, gamma = 0.066, vega = 12.1 (per 1.00 vol).
#[test]
fn hull_chapter_19_greeks() {
    let (s, k, r, vol, t): (f64, f64, f64, f64, f64) = (49.0, 50.0, 0.05, 0.20, 0.3846);
    let fwd = s * (r * t).exp();
    let g = greeks(OptionKind::Call, fx(fwd), fx(k), fx(vol), fx(t)).unwrap();
    assert!((f(g.delta) - 0.522).abs() < 0.0005, "delta {}", f(g.delta));
    assert!((f(g.gamma) * fwd / s - 0.066).abs() < 0.0005, "gamma {}", f(g.gamma) * fwd / s);
    assert!((f(g.vega) * s / fwd - 12.1).abs() < 0.05, "vega {}", f(g.vega) * s / fwd);
}

/// Haug, *The Complete Guide to Option Pricing Formulas*, 2nd ed., Black-76 example:
/// F = 19, K = 19, T = 0.75, r = 10%, σ = 28% → c = p = 1.7011.
#[test]
fn haug_black_76_example() {
    let disc = (-0.10f64 * 0.75).exp();
    for kind in [OptionKind::Call, OptionKind::Put] {
        let v = f(greeks(kind, fx(19.0), fx(19.0), fx(0.28), fx(0.75)).unwrap().price) * disc;
        assert!((v - 1.7011).abs() < 0.00005, "{kind:?} {v}");
    }
}

/// Deterministic points covering the domain (log-spaced moneyness, vols, times).
fn domain() -> impl Iterator<Item = (f64, f64, f64)> {
    let moneyness: Vec<f64> = (0..=40).map(|i| 0.2 * 25f64.powf(i as f64 / 40.0)).collect();
    let vols: Vec<f64> = (0..=12).map(|i| 0.05 * 60f64.powf(i as f64 / 12.0)).collect();
    let hour: f64 = 1.0 / (365.0 * 24.0);
    let times: Vec<f64> = (0..=12).map(|i| hour * (2.0 / hour).powf(i as f64 / 12.0)).collect();
    moneyness.into_iter().flat_map(move |m| {
        vols.clone().into_iter().flat_map({
            let times = times.clone();
            move |v| times.clone().into_iter().map(move |t| (m, v, t))
        })
    })
}

#[test]
fn accuracy_targets_over_the_domain() {
    // Price error ≤ 1e-6·S, delta ≤ 1e-6; gamma and vega relative ≤ 1e-5 where the true
    // value is ≥ 1e-9 (≈ 2.8e5 ulps of Fx). Below that, five significant digits do not fit
    // in 48 fractional bits, and the target is an absolute error ≤ 1e-14 instead (which
    // `rel` scales to the same 1e-5 bound).
    let spot = 100.0;
    let (mut worst_price, mut worst_delta, mut worst_gamma, mut worst_vega) = (0f64, 0f64, 0f64, 0f64);
    let mut points = 0;
    for (m, vol, t) in domain() {
        let strike = spot / m;
        for kind in [OptionKind::Call, OptionKind::Put] {
            let got = greeks(kind, fx(spot), fx(strike), fx(vol), fx(t)).unwrap();
            let (p, d, g, v) = bs_f64(kind == OptionKind::Call, spot, strike, vol, t);
            worst_price = worst_price.max((f(got.price) - p).abs() / spot);
            worst_delta = worst_delta.max((f(got.delta) - d).abs());
            let rel = |got: f64, want: f64| (got - want).abs() / want.max(1e-9);
            worst_gamma = worst_gamma.max(rel(f(got.gamma), g));
            worst_vega = worst_vega.max(rel(f(got.vega), v));
            points += 1;
        }
    }
    println!(
        "{points} evaluations: price/S {worst_price:.2e}, delta {worst_delta:.2e}, gamma rel {worst_gamma:.2e}, vega rel {worst_vega:.2e}"
    );
    assert!(worst_price <= 1e-6, "price {worst_price}");
    assert!(worst_delta <= 1e-6, "delta {worst_delta}");
    assert!(worst_gamma <= 1e-5, "gamma {worst_gamma}");
    assert!(worst_vega <= 1e-5, "vega {worst_vega}");
}

#[test]
fn put_call_relations_with_zero_rates() {
    for (m, vol, t) in domain().step_by(7) {
        let (s, k) = (100.0, 100.0 / m);
        let c = greeks(OptionKind::Call, fx(s), fx(k), fx(vol), fx(t)).unwrap();
        let p = greeks(OptionKind::Put, fx(s), fx(k), fx(vol), fx(t)).unwrap();
        assert_eq!(c.delta - p.delta, Fx::ONE, "Δcall − Δput = 1 at m={m} σ={vol} T={t}");
        assert_eq!(c.gamma, p.gamma);
        assert_eq!(c.vega, p.vega);
        // Parity C − P = S − K (r = 0), up to the floor at zero on deep prices.
        let parity = f(c.price) - f(p.price) - (s - k);
        assert!(parity.abs() < 1e-9 * s, "parity {parity}");
    }
}

#[test]
fn limits_at_expiry_and_extremes() {
    let s = fx(100.0);
    // Expired / zero time: intrinsic, Greeks at their limits.
    let itm = greeks(OptionKind::Call, s, fx(90.0), fx(0.5), Fx::ZERO).unwrap();
    assert_eq!((itm.price, itm.delta, itm.gamma, itm.vega), (fx(10.0), Fx::ONE, Fx::ZERO, Fx::ZERO));
    let otm_put = greeks(OptionKind::Put, s, fx(90.0), fx(0.5), Fx::ZERO).unwrap();
    assert_eq!((otm_put.price, otm_put.delta), (Fx::ZERO, Fx::ZERO));
    let atm = greeks(OptionKind::Put, s, s, fx(0.5), Fx::ZERO).unwrap();
    assert_eq!(atm.delta, fx(-0.5));
    // A second before expiry, far from the strike: finite, at the limits.
    let second = fx(1.0 / (365.0 * 86400.0));
    let deep = greeks(OptionKind::Call, s, fx(1.0), fx(0.05), second).unwrap();
    assert_eq!(deep.delta, Fx::ONE);
    assert!((f(deep.price) - 99.0).abs() < 1e-9);
    let far_otm = greeks(OptionKind::Call, s, fx(10_000.0), fx(0.5), fx(0.1)).unwrap();
    assert_eq!((far_otm.price, far_otm.delta, far_otm.gamma), (Fx::ZERO, Fx::ZERO, Fx::ZERO));
    // Bad inputs are errors, not garbage.
    assert!(greeks(OptionKind::Call, Fx::ZERO, s, fx(0.5), fx(1.0)).is_err());
    assert!(greeks(OptionKind::Call, s, s, fx(-0.5), fx(1.0)).is_err());
    assert!(greeks(OptionKind::Call, s, s, fx(20.0), fx(1.0)).is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    /// `price` is `greeks(..).price` bit for bit wherever the Greeks are computed, expiry and
    /// the clamped tails included, and fails with the Greeks' error on invalid inputs (it may
    /// succeed where only a Greek overflows: the price alone is then still valid).
    #[test]
    fn price_alone_is_the_greeks_price(
        call in proptest::bool::ANY,
        spot in 0.0f64..200_000.0,
        moneyness in 0.001f64..1000.0,
        vol in 0.0f64..12.0,
        t in 0.0f64..5.0,
        expired in 0u8..8,
    ) {
        let kind = if call { OptionKind::Call } else { OptionKind::Put };
        let t = if expired == 0 { 0.0 } else { t };
        let (s, k) = (fx(spot), fx(spot * moneyness));
        match (greeks(kind, s, k, fx(vol), fx(t)), price(kind, s, k, fx(vol), fx(t))) {
            (Ok(g), p) => proptest::prop_assert_eq!(p, Ok(g.price)),
            (Err(e), Err(p)) => proptest::prop_assert_eq!(p, e),
            (Err(_), Ok(_)) => {}
        }
    }
}
