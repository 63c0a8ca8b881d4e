//! Fixed-point functions vs f64 / libm over their used domain. The maxima printed here are
//! the figures quoted in src/math.rs and docs/risk-model.md.
use xmargin_risk::fx::Fx;
use xmargin_risk::math::{exp, ln, norm_cdf, norm_pdf, sqrt};

fn fx(x: f64) -> Fx {
    Fx::from_num(x)
}
fn f(x: Fx) -> f64 {
    x.to_num::<f64>()
}
fn ref_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / core::f64::consts::SQRT_2)
}
fn ref_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * core::f64::consts::PI).sqrt()
}

/// Evenly spaced points in [lo, hi].
fn grid(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> {
    (0..=n).map(move |i| lo + (hi - lo) * i as f64 / n as f64)
}

#[test]
fn exp_relative_error_below_5e_14() {
    let mut worst: f64 = 0.0;
    for x in grid(-34.0, 54.0, 20_000) {
        let got = f(exp(fx(x)).unwrap());
        let want = fx(x).to_num::<f64>().exp();
        let err = (got - want).abs() / want.max(1.0);
        worst = worst.max(err);
    }
    println!("exp: max error {worst:.3e} (relative to max(1, e^x))");
    assert!(worst < 5e-14, "{worst}");
    assert_eq!(exp(fx(-40.0)).unwrap(), Fx::ZERO);
    assert!(exp(fx(55.0)).is_err());
}

#[test]
fn ln_absolute_error_below_1e_13() {
    let mut worst: f64 = 0.0;
    for x in grid(1e-6, 10.0, 20_000).chain(grid(10.0, 1e12, 20_000)) {
        let xf = fx(x);
        let err = (f(ln(xf).unwrap()) - f(xf).ln()).abs();
        worst = worst.max(err);
    }
    println!("ln: max abs error {worst:.3e}");
    assert!(worst < 1e-13, "{worst}");
    assert!(ln(Fx::ZERO).is_err());
    assert!(ln(fx(-1.0)).is_err());
}

#[test]
fn sqrt_relative_error_below_1e_14() {
    let mut worst: f64 = 0.0;
    for x in grid(0.0, 4.0, 10_000).chain(grid(4.0, 1e20, 10_000)) {
        let xf = fx(x);
        let want = f(xf).sqrt();
        let err = (f(sqrt(xf).unwrap()) - want).abs() / want.max(1.0);
        worst = worst.max(err);
    }
    println!("sqrt: max error {worst:.3e}");
    assert!(worst < 1e-14, "{worst}");
    assert!(sqrt(fx(-1.0)).is_err());
}

#[test]
fn normal_pdf_and_cdf_absolute_error_below_1e_13() {
    let (mut worst_pdf, mut worst_cdf): (f64, f64) = (0.0, 0.0);
    for x in grid(-40.0, 40.0, 40_000) {
        let xf = fx(x);
        worst_pdf = worst_pdf.max((f(norm_pdf(xf).unwrap()) - ref_pdf(f(xf))).abs());
        worst_cdf = worst_cdf.max((f(norm_cdf(xf).unwrap()) - ref_cdf(f(xf))).abs());
    }
    println!("norm_pdf: max abs error {worst_pdf:.3e}; norm_cdf: {worst_cdf:.3e}");
    assert!(worst_pdf < 1e-14, "{worst_pdf}");
    assert!(worst_cdf < 1e-13, "{worst_cdf}");
    assert_eq!(norm_cdf(fx(38.0)).unwrap(), Fx::ONE);
    assert_eq!(norm_cdf(fx(-38.0)).unwrap(), Fx::ZERO);
}
