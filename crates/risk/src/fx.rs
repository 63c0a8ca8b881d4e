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
        // Fast path (|self| < 2^31, i.e. almost always): self·2^48 fits in an i128, and a
        // native 128-bit division costs tens of compute units on sBPF where the general
        // 256-by-128-bit division costs over a thousand. Both truncate toward zero.
        let a = self.to_bits();
        if a.unsigned_abs() < FAST_DIV_LIMIT {
            let q = (a << FRAC_BITS).checked_div(rhs.to_bits()).ok_or(RiskError::Overflow)?;
            return Ok(Fx::from_bits(q));
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
