//! The engine's one number type: `Fx` = `I80F48`, a signed binary fixed-point number with
//! 80 integer bits and 48 fractional bits.
//!
//! - resolution 2^-48 ≈ 3.55e-15; range ±2^79 ≈ ±6.04e23;
//! - every quantity in the engine is an `Fx` in natural units: prices in quote units per
//!   underlying unit (e.g. 60000 USD/BTC), sizes in underlying units (1 = one BTC), volatility
//!   as a fraction per √year (0.6 = 60 vol points), time in years, shocks as fractions
//!   (0.15 = 15%), weights as fractions (0.9);
//! - multiplication is a widening multiply and a shift, no decimal division, which keeps it
//!   cheap on sBPF;
//! - every operation is checked: overflow and division by zero are `RiskError`s, never a
//!   wrap or a panic (use the `Checked` methods, not the operators).
use crate::error::{Result, RiskError};

pub use fixed::types::I80F48 as Fx;

/// Fractional bits of `Fx`.
pub const FRAC_BITS: u32 = 48;
/// Raw magnitudes below this can be shifted left by `FRAC_BITS` inside an i128.
const FAST_DIV_LIMIT: u128 = 1 << (127 - FRAC_BITS);

pub const ZERO: Fx = Fx::ZERO;
pub const ONE: Fx = Fx::ONE;
pub const TWO: Fx = Fx::lit("2");
pub const HALF: Fx = Fx::lit("0.5");
/// ln 2.
pub const LN_2: Fx = Fx::lit("0.693147180559945309417232121458176568");
/// 1 / √(2π).
pub const INV_SQRT_2PI: Fx = Fx::lit("0.398942280401432677939946059934381868");
/// Seconds per year: 365 days (the engine's day-count convention).
pub const SECONDS_PER_YEAR: i64 = 365 * 24 * 3600;

/// Checked arithmetic returning `RiskError` instead of `None`.
pub trait Checked: Sized {
    fn add_c(self, rhs: Self) -> Result<Self>;
    fn sub_c(self, rhs: Self) -> Result<Self>;
    fn mul_c(self, rhs: Self) -> Result<Self>;
    fn div_c(self, rhs: Self) -> Result<Self>;
    fn mul_i(self, rhs: i64) -> Result<Self>;
    fn div_i(self, rhs: i64) -> Result<Self>;
    fn neg_c(self) -> Result<Self>;
    fn abs_c(self) -> Result<Self>;
}

impl Checked for Fx {
    #[inline]
    fn add_c(self, rhs: Fx) -> Result<Fx> {
        self.checked_add(rhs).ok_or(RiskError::Overflow)
    }
    #[inline]
    fn sub_c(self, rhs: Fx) -> Result<Fx> {
        self.checked_sub(rhs).ok_or(RiskError::Overflow)
    }
    #[inline]
    fn mul_c(self, rhs: Fx) -> Result<Fx> {
        // Fast path: both raw values fit an i64, so the product fits an i128 (|p| ≤ 2^126)
        // and a plain 128-bit multiply plus an arithmetic shift (rounding toward −∞, as
        // `fixed` does) replaces the general 256-bit product, several times cheaper on sBPF.
        // Kept this small so that it inlines (the wide cases are out of line: inlined, they
        // made every product ~60% dearer, measured).
        if let (Some(a), Some(b)) = (narrow(self), narrow(rhs)) {
            // Cannot wrap: |a|, |b| ≤ 2^63.
            let product = i128::from(a).wrapping_mul(i128::from(b));
            return Ok(Fx::from_bits(product >> FRAC_BITS));
        }
        mul_wide(self, rhs)
    }
    #[inline]
    fn div_c(self, rhs: Fx) -> Result<Fx> {
        if rhs == ZERO {
            return Err(RiskError::DivisionByZero);
        }
        // Fast path (|self| < 2^31, i.e. almost always): self·2^48 fits in an i128, and its
        // quotient by 64-bit divisions costs ~60 to ~150 compute units on sBPF where the
        // general 256-by-128-bit division costs over a thousand. Both truncate toward zero.
        let a = self.to_bits();
        if a.unsigned_abs() < FAST_DIV_LIMIT {
            // The magnitudes divided by 64-bit divisions (`div_u128`), the sign put back:
            // the same truncated quotient as `i128` division; |q| ≤ |a|·2^48 < 2^127.
            let b = rhs.to_bits();
            let q = div_u128(a.unsigned_abs() << FRAC_BITS, b.unsigned_abs());
            let q = i128::try_from(q).map_err(|_| RiskError::Overflow)?;
            return Ok(Fx::from_bits(if (a < 0) != (b < 0) { q.wrapping_neg() } else { q }));
        }
        self.checked_div(rhs).ok_or(RiskError::Overflow)
    }
    #[inline]
    fn mul_i(self, rhs: i64) -> Result<Fx> {
        // Fast path: the raw value fits an i64, so the exact product fits an i128 (|p| <
        // 2^126): one native multiply instead of the library's overflow-checked 128-bit one.
        if let Some(a) = narrow(self) {
            return Ok(Fx::from_bits(i128::from(a).wrapping_mul(i128::from(rhs))));
        }
        self.checked_mul_int(i128::from(rhs)).ok_or(RiskError::Overflow)
    }
    #[inline]
    fn div_i(self, rhs: i64) -> Result<Fx> {
        if rhs == 0 {
            return Err(RiskError::DivisionByZero);
        }
        // A divisor below 2^32 (every constant divisor: 10^k, basis points, seconds): the
        // same truncated quotient by 64-bit divisions (`div_small`), not a 128-bit one.
        if let Ok(d) = u32::try_from(rhs) {
            let (q, _) = div_small(self.to_bits().unsigned_abs(), d);
            let q = i128::try_from(q).map_err(|_| RiskError::Overflow)?;
            return Ok(Fx::from_bits(if self < ZERO { q.wrapping_neg() } else { q }));
        }
        self.checked_div_int(i128::from(rhs)).ok_or(RiskError::Overflow)
    }
    #[inline]
    fn neg_c(self) -> Result<Fx> {
        self.checked_neg().ok_or(RiskError::Overflow)
    }
    #[inline]
    fn abs_c(self) -> Result<Fx> {
        self.checked_abs().ok_or(RiskError::Overflow)
    }
}

/// `x` as an `i64` when it fits one (the high word is the low word's sign): what every
/// 64-bit fast path tests. The same answer as `i64::try_from`, which LLVM compiles for sBPF
/// to a 128-bit range check of ~30 instructions with spills; this compares the high word
/// with the low word's sign bit in a few native ones (measured: health −7%, trade and
/// liquidation −8%).
#[inline(always)]
pub fn narrow_bits(x: i128) -> Option<i64> {
    #[allow(clippy::cast_possible_truncation)]
    let (low, high) = (x as u64, (x >> 64) as u64);
    // high + (low's sign bit) wraps to 0 exactly when high is 0 with the bit clear or
    // all ones with it set.
    #[allow(clippy::cast_possible_wrap)]
    (high.wrapping_add(low >> 63) == 0).then_some(low as i64)
}

/// [`narrow_bits`] of `x`'s raw bits.
#[inline(always)]
pub fn narrow(x: Fx) -> Option<i64> {
    narrow_bits(x.to_bits())
}

/// x·y, exactly (a native widening multiply: ~60 compute units on sBPF; four 32×32-bit
/// partial products by hand measured slower).
#[inline]
pub fn wide_mul(x: u64, y: u64) -> u128 {
    u128::from(x).wrapping_mul(u128::from(y))
}

/// `mul_c` beyond its fast path: one factor's raw value fits 64 bits (a quote amount times a
/// weight, a charge, a price: `mul_wide_floor`), or the library's general product.
#[inline(never)]
fn mul_wide(x: Fx, y: Fx) -> Result<Fx> {
    let (a, b) = (x.to_bits(), y.to_bits());
    let (wide, small) = if narrow_bits(b).is_some() { (a, b) } else { (b, a) };
    if let Some(n) = narrow_bits(small) {
        let negative = (wide < 0) != (n < 0);
        let bits = mul_wide_floor(wide.unsigned_abs(), n.unsigned_abs(), negative);
        return bits.map(Fx::from_bits).ok_or(RiskError::Overflow);
    }
    x.checked_mul(y).ok_or(RiskError::Overflow)
}

/// The fractional bits of a raw value.
const FRACTION: u128 = (1 << FRAC_BITS) - 1;

/// ⌊±(a·b) / 2^`FRAC_BITS`⌋ for a raw magnitude `a` (≤ 2^127) and `b` < 2^64: the floored
/// `Fx` product when one factor's raw value fits 64 bits, `None` when it overflows an `Fx`.
/// Two native wide products instead of the library's general 256-bit one (several hundred
/// compute units on sBPF): quote-unit amounts above 2^15 (losses, notionals) do not fit 64
/// raw bits, and health multiplies them by weights and charges. Exact (proptested).
fn mul_wide_floor(a: u128, b: u64, negative: bool) -> Option<i128> {
    #[allow(clippy::cast_possible_truncation)] // the two 64-bit halves of `a`
    let (high, low) = ((a >> 64) as u64, a as u64);
    let low_product = wide_mul(low, b);
    let high_product = if high == 0 { 0 } else { wide_mul(high, b) };
    // a·b = high_product·2^64 + low_product; shifted right by 48: high_product·2^16 + ...
    if high_product >> (128 - 64 + FRAC_BITS) != 0 {
        return None;
    }
    let magnitude = (high_product << (64 - FRAC_BITS)).checked_add(low_product >> FRAC_BITS)?;
    let magnitude =
        if negative && low_product & FRACTION != 0 { magnitude.checked_add(1)? } else { magnitude };
    if negative {
        // −2^127 is the one magnitude that fits only negated.
        (magnitude <= 1 << 127).then(|| 0i128.wrapping_sub_unsigned(magnitude))
    } else {
        i128::try_from(magnitude).ok()
    }
}

/// `n / d` and `n % d` for a divisor below 2^32, by 32-bit limbs: at most four native 64-bit
/// divisions (one when `n` < 2^64). sBPF has no 128-bit division; the library one costs
/// ~270 compute units, this ~40 to ~150. Exact.
pub fn div_small(n: u128, d: u32) -> (u128, u64) {
    let d = u64::from(d);
    if d == 0 {
        return (0, 0);
    }
    if let Ok(n) = u64::try_from(n) {
        return (u128::from(n.checked_div(d).unwrap_or(0)), n.checked_rem(d).unwrap_or(0));
    }
    let (mut q, mut rem) = (0u128, 0u64);
    for shift in [96u32, 64, 32, 0] {
        // rem < d < 2^32, so the partial dividend fits 64 bits and its quotient 32.
        #[allow(clippy::cast_possible_truncation)]
        let limb = (n >> shift) as u64 & 0xFFFF_FFFF;
        let part = rem << 32 | limb;
        q |= u128::from(part.checked_div(d).unwrap_or(0)) << shift;
        rem = part.checked_rem(d).unwrap_or(0);
    }
    (q, rem)
}

/// ⌊n / d⌋ for d > 0 (0 for d = 0), exact: the `u128` quotient by native 64-bit divisions
/// (Hacker's Delight, 2nd ed., §9-4 and §9-5: a two-word dividend by a normalized one-word
/// divisor in half-word digits, and the two-word divisor from one such division, corrected
/// by one). sBPF has 64-bit division only, and the runtime's 128-bit one costs ~500
/// instructions per call; this one one (n < 2^64), ~60 (d < 2^64) or ~150.
pub fn div_u128(n: u128, d: u128) -> u128 {
    if d == 0 {
        // Not a quotient: the callers refuse a zero divisor first (`div_c`'s
        // `DivisionByZero`); a normalizing shift by 64 is not defined.
        return 0;
    }
    #[allow(clippy::cast_possible_truncation)] // the two 64-bit words of each
    let (n1, n0, d1, d0) = ((n >> 64) as u64, n as u64, (d >> 64) as u64, d as u64);
    if d1 == 0 {
        if n1 == 0 {
            return u128::from(n0.checked_div(d0).unwrap_or(0));
        }
        // n1 = q1·d0 + r with r < d0: then (r·2^64 + n0) / d0 fits 64 bits.
        let (q1, r) = (n1.checked_div(d0).unwrap_or(0), n1.checked_rem(d0).unwrap_or(0));
        return u128::from(q1) << 64 | u128::from(div_two_words(r, n0, d0));
    }
    if n < d {
        return 0;
    }
    // d ≥ 2^64: the quotient fits 64 bits. Divide n/2 by d's top 64 bits, normalized (its
    // leading bit set); undone, the estimate is the quotient or one above it (§9-5).
    let shift = d1.leading_zeros();
    #[allow(clippy::cast_possible_truncation)]
    let top = ((d << shift) >> 64) as u64;
    let half = n >> 1;
    #[allow(clippy::cast_possible_truncation)]
    let estimate = div_two_words((half >> 64) as u64, half as u64, top);
    let mut q = (u128::from(estimate) << shift) >> 63;
    q = q.saturating_sub(1);
    // q ≤ ⌊n/d⌋ now, so q·d ≤ n: neither the product nor the difference wraps.
    if n.wrapping_sub(q.wrapping_mul(d)) >= d {
        q = q.wrapping_add(1);
    }
    q
}

/// (u1·2^64 + u0) / v for u1 < v (the quotient fits 64 bits), by 32-bit digits of v
/// normalized (Hacker's Delight `divlu`): each digit estimated by a native division of the
/// top two digits, then corrected at most twice.
fn div_two_words(u1: u64, u0: u64, v: u64) -> u64 {
    const B: u64 = 1 << 32;
    const MASK: u64 = B - 1;
    let s = v.leading_zeros();
    let v = v << s;
    let (vn1, vn0) = (v >> 32, v & MASK);
    // s = 0: no bits of u0 move up (a shift by 64 is not defined).
    let un32 = if s == 0 { u1 } else { u1 << s | u0 >> 64u32.wrapping_sub(s) };
    let un10 = u0 << s;
    let (un1, un0) = (un10 >> 32, un10 & MASK);
    let digit = |top: u64, next: u64| -> u64 {
        let (mut q, mut rhat) = (top.checked_div(vn1).unwrap_or(0), top.checked_rem(vn1).unwrap_or(0));
        // q < 2^32 and rhat < 2^32 when the products are formed: both fit 64 bits.
        while q >= B || q.wrapping_mul(vn0) > (rhat << 32 | next) {
            q = q.wrapping_sub(1);
            rhat = rhat.wrapping_add(vn1);
            if rhat >= B {
                break;
            }
        }
        q
    };
    let q1 = digit(un32, un1);
    // The remainder after the first digit, < v (computed modulo 2^64, where it is exact).
    let un21 = (un32 << 32 | un1).wrapping_sub(q1.wrapping_mul(v));
    let q0 = digit(un21, un0);
    q1 << 32 | q0
}

/// ⌊n / d⌋ (toward −∞) for 0 < d < 2^32 (`div_small` on the magnitude).
fn floor_div_small(n: i128, d: u32) -> Result<i128> {
    let (q, rem) = div_small(n.unsigned_abs(), d);
    let q = i128::try_from(q).map_err(|_| RiskError::Overflow)?;
    Ok(if n >= 0 {
        q
    } else if rem == 0 {
        q.wrapping_neg()
    } else {
        q.wrapping_neg().wrapping_sub(1)
    })
}

/// An integer as an `Fx`, exactly, by a shift (|x| < 2^63 < 2^79). `Fx::from_num` gives the
/// same bits through the library's generic conversion, which costs hundreds of compute units
/// on sBPF; account fields are converted by the dozen per health check.
#[inline]
pub fn from_int(x: impl Into<i64>) -> Fx {
    Fx::from_bits(i128::from(x.into()) << FRAC_BITS)
}

/// [`from_int`] of an unsigned 64-bit integer (< 2^64 < 2^79: exact).
#[inline]
pub fn from_uint(x: u64) -> Fx {
    Fx::from_bits(i128::from(x) << FRAC_BITS)
}

/// x·½ rounded toward −∞: exactly `x.mul_c(HALF)` (which shifts the product right, flooring)
/// by one shift instead of a multiply (~85 compute units on sBPF). Cannot overflow.
pub fn half(x: Fx) -> Fx {
    Fx::from_bits(x.to_bits() >> 1)
}

/// `Σ items`, checked.
pub fn sum<I: IntoIterator<Item = Fx>>(items: I) -> Result<Fx> {
    items.into_iter().try_fold(ZERO, |acc, x| acc.add_c(x))
}

/// A token amount in native units (e.g. 1_500_000 with 6 decimals) as an `Fx` (1.5),
/// rounded toward −∞ to the `Fx` resolution. One 128-bit division (they are slow on sBPF).
pub fn from_native(amount: i128, decimals: u8) -> Result<Fx> {
    // |amount| < 2^79 (always, for token amounts): the shift cannot overflow, and is not the
    // library's overflow-checked 128-bit multiply.
    let shifted = if amount.unsigned_abs() < 1 << 79 {
        amount << FRAC_BITS
    } else {
        amount.checked_mul(1i128 << FRAC_BITS).ok_or(RiskError::Overflow)?
    };
    // 10^decimals in native 64-bit multiplies when it fits a u32 divisor (decimals ≤ 9).
    if let Some(small) = 10u32.checked_pow(u32::from(decimals)) {
        return Ok(Fx::from_bits(floor_div_small(shifted, small)?));
    }
    let scale = 10i128.checked_pow(u32::from(decimals)).ok_or(RiskError::Overflow)?;
    Ok(Fx::from_bits(shifted.div_euclid(scale)))
}

/// A non-negative quote amount as native units (the inverse of [`from_native`]), rounded
/// toward −∞; errors when negative or beyond `u64`.
pub fn to_native_floor(x: Fx, decimals: u8) -> Result<u64> {
    let scale = 10i64.checked_pow(u32::from(decimals)).ok_or(RiskError::Overflow)?;
    let scaled = x.mul_i(scale)?;
    u64::try_from(scaled.to_bits() >> FRAC_BITS).map_err(|_| RiskError::Overflow)
}

/// A non-negative quote amount as native units, rounded toward +∞ (a payment owed *to* a
/// portfolio, rounded in its favour); errors when negative or beyond `u64`.
pub fn to_native_ceil(x: Fx, decimals: u8) -> Result<u64> {
    let floor = to_native_floor(x, decimals)?;
    if from_native(i128::from(floor), decimals)? < x {
        floor.checked_add(1).ok_or(RiskError::Overflow)
    } else {
        Ok(floor)
    }
}

/// A Pyth-style price `mantissa × 10^expo` as an `Fx`. `expo` in [-18, 18].
pub fn from_mantissa(mantissa: i64, expo: i32) -> Result<Fx> {
    if !(-18..=18).contains(&expo) {
        return Err(RiskError::Overflow);
    }
    // |mantissa| < 2^63 < 2^79: exact as an `Fx`, by a shift.
    let m = Fx::from_bits(i128::from(mantissa) << FRAC_BITS);
    // 10^|expo| ≤ 10^18 < 2^63: native 64-bit multiplies, not a 128-bit power.
    let p = 10i64.checked_pow(expo.unsigned_abs()).ok_or(RiskError::Overflow)?;
    if expo >= 0 {
        m.mul_i(p)
    } else {
        m.div_i(p)
    }
}

/// Years from seconds (365-day year).
pub fn years_from_seconds(seconds: i64) -> Result<Fx> {
    from_int(seconds).div_i(SECONDS_PER_YEAR)
}
