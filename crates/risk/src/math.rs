//! Fixed-point transcendental functions on `Fx`, with their stated maximum errors
//! (measured against f64 / libm over the used domain in `tests/math_accuracy.rs`):
//!
//! | function | domain | max abs. error |
//! |---|---|---|
//! | `exp(x)` | x ≤ 54 (larger overflows `Fx`) | 5e-14 · max(1, e^x) (measured 6.6e-15) |
//! | `ln(x)` | x > 0 | 1e-13 (measured 1.8e-14) |
//! | `sqrt(x)` | x ≥ 0 | 1e-14 · max(1, √x) (measured 3.6e-15) |
//! | `norm_pdf(x)` | all x | 1e-14 (measured 5.4e-15) |
//! | `norm_cdf(x)` | all x | 1e-13 (measured 4.9e-15) |
//!
//! Costs are fixed per call (no input-dependent loops beyond a bounded series), which keeps
//! the on-chain compute budget predictable.
use crate::error::{Result, RiskError};
use crate::fx::{half, Checked, Fx, INV_SQRT_2PI, LN_2, ONE, TWO, ZERO};

const FRAC_BITS: u32 = 48;
/// Above this, e^x exceeds the range of `Fx` (2^79 ≈ e^54.76).
const EXP_MAX_ARG: Fx = Fx::lit("54");
/// Below this, m·e^x is under the resolution of `Fx` for every representable m
/// (|m| < 2^79 ≈ e^54.8, resolution 2^-48 ≈ e^-33.3).
const EXP_MIN_ARG: Fx = Fx::lit("-89");
const SQRT_2: Fx = Fx::lit("1.41421356237309504880168872420969807857");
/// 1/n! for n = 14 down to 0 (Horner order): e^r to 14th order, truncation < 1e-19 for
/// |r| ≤ ln2/2.
const EXP_COEFFICIENTS: [Fx; 15] = [
    Fx::lit("0.0000000000114707455977297247138516979787"),
    Fx::lit("0.0000000001605904383682161459939237717015"),
    Fx::lit("0.0000000020876756987868098979210090321201"),
    Fx::lit("0.0000000250521083854417187750521083854417"),
    Fx::lit("0.0000002755731922398589065255731922398589"),
    Fx::lit("0.0000027557319223985890652557319223985891"),
    Fx::lit("0.0000248015873015873015873015873015873016"),
    Fx::lit("0.0001984126984126984126984126984126984127"),
    Fx::lit("0.0013888888888888888888888888888888888889"),
    Fx::lit("0.0083333333333333333333333333333333333333"),
    Fx::lit("0.0416666666666666666666666666666666666667"),
    Fx::lit("0.1666666666666666666666666666666666666667"),
    Fx::lit("0.5000000000000000000000000000000000000000"),
    Fx::lit("1.0000000000000000000000000000000000000000"),
    Fx::lit("1.0000000000000000000000000000000000000000"),
];
/// 1/(2k+1) for k = 10 down to 0 (Horner order in z²).
const ATANH_COEFFICIENTS: [Fx; 11] = [
    Fx::lit("0.0476190476190476190476190476190476190476"),
    Fx::lit("0.0526315789473684210526315789473684210526"),
    Fx::lit("0.0588235294117647058823529411764705882353"),
    Fx::lit("0.0666666666666666666666666666666666666667"),
    Fx::lit("0.0769230769230769230769230769230769230769"),
    Fx::lit("0.0909090909090909090909090909090909090909"),
    Fx::lit("0.1111111111111111111111111111111111111111"),
    Fx::lit("0.1428571428571428571428571428571428571429"),
    Fx::lit("0.2000000000000000000000000000000000000000"),
    Fx::lit("0.3333333333333333333333333333333333333333"),
    Fx::lit("1.0000000000000000000000000000000000000000"),
];

/// ln 2 · 2^96, rounded: `k·ln2` is formed from this on the raw integers so that its error
/// stays below one `Fx` ulp for every |k| ≤ 2^31 (a 48-bit ln2 would lose ~1e-13 at k = 78).
const LN_2_Q96: i128 = 54_916_777_467_707_473_351_141_471_128;

/// k·ln 2 to within one ulp.
fn ln2_times(k: i64) -> Result<Fx> {
    // k · (ln2·2^96) / 2^48, with ln2·2^96 = hi·2^48 + lo. Both halves are below 2^48 and
    // |k| is at most a few hundred here, so each product fits an i64: 64-bit multiplies
    // instead of 128-bit overflow-checked ones, which are slow on sBPF.
    const HI: i64 = (LN_2_Q96 >> FRAC_BITS) as i64;
    const LO: i64 = (LN_2_Q96 & ((1i128 << FRAC_BITS) - 1)) as i64;
    let hi_part = HI.checked_mul(k).ok_or(RiskError::Overflow)?;
    let lo_part = LO.checked_mul(k).ok_or(RiskError::Overflow)?;
    let rounded = lo_part.checked_add(1i64 << (FRAC_BITS - 1)).ok_or(RiskError::Overflow)? >> FRAC_BITS;
    Ok(Fx::from_bits(i128::from(hi_part.checked_add(rounded).ok_or(RiskError::Overflow)?)))
}

/// e^x. Range reduction x = k·ln2 + r with |r| ≤ ln2/2, a 14-term Taylor series for e^r
/// (truncation < 1e-19), then a shift by k.
pub fn exp(x: Fx) -> Result<Fx> {
    exp_mul(x, ONE)
}

/// m·e^x, with m applied before the final shift by 2^k: a small result keeps the relative
/// precision of its own magnitude instead of inheriting e^x's absolute error scaled by m.
pub fn exp_mul(x: Fx, m: Fx) -> Result<Fx> {
    if m == ZERO {
        return Ok(ZERO);
    }
    exp_parts(x)?.scaled(m)
}

/// e^x split as `mantissa · 2^k` (mantissa in [0.7, 1.42]), so that several products
/// m·e^x cost one multiply and one shift each after a single series evaluation.
#[derive(Debug, Clone, Copy)]
pub struct ExpParts {
    mantissa: Fx,
    k: i32,
    /// x was below `EXP_MIN_ARG`: every product is 0.
    underflow: bool,
}

impl ExpParts {
    /// m·e^x.
    pub fn scaled(&self, m: Fx) -> Result<Fx> {
        if self.underflow || m == ZERO {
            return Ok(ZERO);
        }
        shift_by_power_of_two(self.mantissa.mul_c(m)?, self.k)
    }
}

/// The range reduction and series of `exp`, without the final scaling.
pub fn exp_parts(x: Fx) -> Result<ExpParts> {
    if x > EXP_MAX_ARG {
        return Err(RiskError::Overflow);
    }
    if x < EXP_MIN_ARG {
        return Ok(ExpParts { mantissa: ZERO, k: 0, underflow: true });
    }
    let k = round_to_int(x.div_c(LN_2)?);
    let r = x.sub_c(ln2_times(i64::from(k))?)?;
    // Horner on the Taylor coefficients 1/n!: multiplies only (a 128-bit division costs
    // hundreds of compute units on sBPF; this loop used to do fourteen of them).
    let total = horner(&EXP_COEFFICIENTS, r)?;
    Ok(ExpParts { mantissa: total, k, underflow: false })
}

/// `q` rounded to the nearest integer, ties away from zero (`Fx::round`), for |q| < 2^31:
/// on the raw bits, without the library's generic rounding and conversion.
fn round_to_int(q: Fx) -> i32 {
    const HALF_BITS: i128 = 1 << (FRAC_BITS - 1);
    let bits = q.to_bits();
    let magnitude = (bits.unsigned_abs().saturating_add(HALF_BITS.unsigned_abs())) >> FRAC_BITS;
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // |q| < 2^31
    let k = magnitude as i32;
    if bits < 0 {
        k.wrapping_neg()
    } else {
        k
    }
}

/// `v · 2^k` on the raw bits; rounds to nearest when shifting right.
fn shift_by_power_of_two(v: Fx, k: i32) -> Result<Fx> {
    let bits = v.to_bits();
    if k >= 0 {
        let k = k.unsigned_abs();
        if k >= 127 || bits.unsigned_abs().leading_zeros() <= k {
            return Err(RiskError::Overflow);
        }
        Ok(Fx::from_bits(bits << k))
    } else {
        let s = k.unsigned_abs();
        if s >= 127 {
            return Ok(ZERO);
        }
        // s in 1..=126 here.
        let half = 1i128 << s.saturating_sub(1);
        Ok(Fx::from_bits(bits.checked_add(half).ok_or(RiskError::Overflow)? >> s))
    }
}

/// Natural logarithm. x = m·2^e with m in [1/√2, √2), then
/// ln m = 2·atanh(z), z = (m−1)/(m+1), |z| ≤ 0.1716, 11 odd terms (truncation < 1e-17).
pub fn ln(x: Fx) -> Result<Fx> {
    if x <= ZERO {
        return Err(RiskError::MathDomain);
    }
    let bits = x.to_bits().unsigned_abs();
    // bits > 0, so leading_zeros ≤ 127: the subtractions cannot underflow.
    let msb = 127u32.saturating_sub(bits.leading_zeros()); // position of the leading one
    let mut e = i64::from(msb).saturating_sub(i64::from(FRAC_BITS));
    let m_bits = if e >= 0 { bits >> e } else { bits << e.unsigned_abs() };
    let mut m = Fx::from_bits(i128::try_from(m_bits).map_err(|_| RiskError::Overflow)?);
    if m > SQRT_2 {
        m = m.div_i(2)?;
        e = e.saturating_add(1);
    }
    let z = m.sub_c(ONE)?.div_c(m.add_c(ONE)?)?;
    // atanh(z) = z·(1 + z²/3 + z⁴/5 + ...), Horner in z² on constant coefficients.
    let series = z.mul_c(horner(&ATANH_COEFFICIENTS, z.mul_c(z)?)?)?;
    ln2_times(e)?.add_c(series.mul_c(TWO)?)
}

/// Square root, exact to the last bit on the raw integer (`u128::isqrt`).
pub fn sqrt(x: Fx) -> Result<Fx> {
    if x < ZERO {
        return Err(RiskError::MathDomain);
    }
    let bits = x.to_bits().unsigned_abs();
    if bits == 0 {
        return Ok(ZERO);
    }
    // sqrt(bits · 2^48) = result bits. Shift left by the largest even s ≤ 48 that fits,
    // then scale the root by 2^((48 − s)/2).
    let room = bits.leading_zeros();
    let s = FRAC_BITS.min(room & !1);
    // s ≤ 48, so the subtraction cannot underflow.
    let root = (bits << s).isqrt() << (FRAC_BITS.saturating_sub(s) / 2);
    Ok(Fx::from_bits(i128::try_from(root).map_err(|_| RiskError::Overflow)?))
}

/// Standard normal density φ(x) = e^(−x²/2)/√(2π); 0 beyond |x| > 40.
pub fn norm_pdf(x: Fx) -> Result<Fx> {
    norm_pdf_mul(x, ONE)
}

/// m·φ(x), with the precision of `exp_mul`.
pub fn norm_pdf_mul(x: Fx, m: Fx) -> Result<Fx> {
    let ax = x.abs_c()?;
    if ax > PDF_CUTOFF {
        return Ok(ZERO);
    }
    exp_mul(half(ax.mul_c(ax)?).neg_c()?, m.mul_c(INV_SQRT_2PI)?)
}

// Hart (1968), double-precision algorithm 5666 for the normal CDF, in the form given by
// G. West, "Better approximations to cumulative normal functions", Wilmott (2005):
// N(−y) = e^(−y²/2)·A(y)/B(y) for y < 7.0710678, a continued fraction beyond.
const HART_A: [Fx; 7] = [
    Fx::lit("0.0352624965998911"),
    Fx::lit("0.700383064443688"),
    Fx::lit("6.37396220353165"),
    Fx::lit("33.912866078383"),
    Fx::lit("112.079291497871"),
    Fx::lit("221.213596169931"),
    Fx::lit("220.206867912376"),
];
const HART_B: [Fx; 8] = [
    Fx::lit("0.0883883476483184"),
    Fx::lit("1.75566716318264"),
    Fx::lit("16.064177579207"),
    Fx::lit("86.7807322029461"),
    Fx::lit("296.564248779674"),
    Fx::lit("637.333633378831"),
    Fx::lit("793.826512519948"),
    Fx::lit("440.413735824752"),
];
const HART_SPLIT: Fx = Fx::lit("7.07106781186547");
/// Beyond these, φ(x) and 1 − N(|x|) are below the resolution of `Fx`.
const PDF_CUTOFF: Fx = Fx::lit("40");
const CDF_CUTOFF: Fx = Fx::lit("37");
/// Last term of West's continued fraction for the tail.
const CF_TAIL: Fx = Fx::lit("0.65");
/// √(2π).
const SQRT_2PI: Fx = Fx::lit("2.506628274631000502415765284811045253");

/// Standard normal cumulative distribution N(x); exactly 0 / 1 beyond |x| > 37.
pub fn norm_cdf(x: Fx) -> Result<Fx> {
    let y = x.abs_c()?;
    if y > CDF_CUTOFF {
        return norm_cdf_given_gaussian(x, ZERO);
    }
    norm_cdf_given_gaussian(x, exp(half(y.mul_c(y)?).neg_c()?)?)
}

/// N(x) when e^(−x²/2) is already known (`gaussian`), which saves the exponential.
pub fn norm_cdf_given_gaussian(x: Fx, gaussian: Fx) -> Result<Fx> {
    let y = x.abs_c()?;
    let tail = if y > CDF_CUTOFF {
        ZERO
    } else {
        let e = gaussian;
        if y < HART_SPLIT {
            let a = horner(&HART_A, y)?;
            let b = horner(&HART_B, y)?;
            e.mul_c(a)?.div_c(b)?
        } else {
            // y + 1/(y + 2/(y + 3/(y + 4/(y + 0.65))))
            let mut cf = y.add_c(CF_TAIL)?;
            for k in (1..=4i64).rev() {
                cf = y.add_c(crate::fx::from_int(k).div_c(cf)?)?;
            }
            e.div_c(cf)?.div_c(SQRT_2PI)?
        }
    };
    if x > ZERO {
        ONE.sub_c(tail)
    } else {
        Ok(tail)
    }
}

/// c[0]·y^(n−1) + ... + c[n−1].
fn horner(coefficients: &[Fx], y: Fx) -> Result<Fx> {
    // From the leading coefficient: 0·y + c₀ is c₀, one product fewer per evaluation (the
    // same bits).
    let Some((first, rest)) = coefficients.split_first() else {
        return Ok(ZERO);
    };
    rest.iter().try_fold(*first, |acc, c| acc.mul_c(y)?.add_c(*c))
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // test inputs: small shifted integers
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// The raw-bit rounding is the library's `round` (ties away from zero) then `to_num`,
        /// over the range `exp` uses it on and beyond, ties included.
        #[test]
        fn round_to_int_is_the_librarys(
            bits in prop_oneof![
                -(1i128 << 78)..(1i128 << 78),
                (-200i128..200).prop_map(|k| k << (FRAC_BITS - 1)),
                (-200i128..200, -2i128..=2).prop_map(|(k, d)| (k << (FRAC_BITS - 1)) + d),
            ],
        ) {
            let q = Fx::from_bits(bits);
            prop_assert_eq!(round_to_int(q), q.round().to_num::<i32>());
        }

        /// Horner from the leading coefficient is the fold from zero, bit for bit and error
        /// for error, on every table the engine evaluates.
        #[test]
        fn horner_is_the_fold_from_zero(bits in any::<i128>(), small in -(1i128 << 52)..(1i128 << 52)) {
            for y in [Fx::from_bits(bits), Fx::from_bits(small)] {
                for table in [&EXP_COEFFICIENTS[..], &ATANH_COEFFICIENTS[..], &HART_A[..], &HART_B[..]] {
                    let from_zero = table.iter().try_fold(ZERO, |acc, c| acc.mul_c(y)?.add_c(*c));
                    prop_assert_eq!(horner(table, y), from_zero);
                }
            }
        }
    }
}
