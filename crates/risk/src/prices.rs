//! Oracle prices as the program uses them, and the integer price checks of a fill: which of
//! spot and EMA values a balance, the stable (EMA) price with its fallback, the price band,
//! and the ppm rounding a series' marks record. Integer mantissas (quote units × 10^expo), as
//! the oracle gives them.
use crate::error::Result;
use crate::fx::{from_mantissa, Checked, Fx, FRAC_BITS, ZERO};
use crate::RiskError;

/// The oracle price (mantissa) a balance of `amount` is valued at: min(spot, EMA) for an
/// asset (> 0), max(spot, EMA) for a liability (< 0), spot for a zero balance or when the
/// oracle has no positive EMA. The EMA bounds how fast a pushed spot can change borrowing
/// power.
#[inline]
pub fn conservative_price(spot: i64, ema: Option<i64>, amount: i64) -> i64 {
    match ema {
        Some(ema) if ema > 0 && amount > 0 => spot.min(ema),
        Some(ema) if ema > 0 && amount < 0 => spot.max(ema),
        _ => spot,
    }
}

/// The stable price of an oracle read (its EMA, quote units per unit, at exponent `expo`),
/// or zero when the oracle gives no positive EMA: zero tells the engine there is no stable
/// price (`MarkedUnderlying::stable_price`), so only spot is used.
#[inline]
pub fn stable_price(ema: Option<i64>, expo: i32) -> Result<Fx> {
    match ema {
        Some(ema) if ema > 0 => from_mantissa(ema, expo),
        _ => Ok(ZERO),
    }
}

/// |a − b| ≤ band_bps × reference / 10_000, exactly in integers (a fill's price against the
/// oracle or model price, quote native units).
#[inline]
pub fn within_band(a: u64, b: u64, reference: u64, band_bps: u16) -> bool {
    u128::from(a.abs_diff(b)).saturating_mul(10_000)
        <= u128::from(reference).saturating_mul(u128::from(band_bps))
}

/// A fraction (a price shock) rounded **up** to parts per million: the least integer n with
/// n / 10^6 ≥ `shock` (what a series' marks record, so the recorded shock covers the one
/// used). `Overflow` for a negative shock or one above `u32::MAX` ppm.
pub fn ceil_ppm(shock: Fx) -> Result<u32> {
    let scaled = shock.mul_i(1_000_000)?.to_bits();
    let one_less = (1i128 << FRAC_BITS).saturating_sub(1);
    let ceil = scaled.checked_add(one_less).ok_or(RiskError::Overflow)? >> FRAC_BITS;
    u32::try_from(ceil).map_err(|_| RiskError::Overflow)
}
