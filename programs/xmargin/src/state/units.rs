//! Stored integer units (bps, hundredths, ppm, the expiry scaling's key) as the engine's
//! numbers: the one conversion of each, shared by the state's own methods, health and the
//! instructions.
use anchor_lang::prelude::*;
use xmargin_risk::fx::{from_int, from_native, from_uint, Checked, Fx};
use xmargin_risk::scenarios::VolScaling;

use super::BPS;
use crate::error::{risk_error, XmarginError};

/// A basis-point parameter as a fraction (10_000 bps = 1), the one conversion every
/// governed bps field goes through.
pub fn bps(value: impl Into<i64>) -> Result<Fx> {
    let value: i64 = value.into();
    // Every governed bps field is below 2^16 in magnitude: its `Fx` bits (× 2^48) fit a u64,
    // and the quotient is one native division (the same truncated bits as `div_i`, which
    // converts and divides in 128 bits). Health converts ~20 of these per underlying.
    let magnitude = value.unsigned_abs();
    if magnitude < 1 << 16 {
        let bits = (magnitude << xmargin_risk::fx::FRAC_BITS).checked_div(u64::from(BPS)).unwrap_or(0);
        let bits = i128::from(bits);
        return Ok(Fx::from_bits(if value < 0 { bits.wrapping_neg() } else { bits }));
    }
    from_int(value).div_i(i64::from(BPS)).map_err(risk_error)
}

/// Parts per million as a fraction (a series' recorded largest price shock).
pub fn ppm(value: u32) -> Result<Fx> {
    from_native(i128::from(value), 6).map_err(risk_error)
}

/// Hundredths as a multiple (tail price multiples in the registry and in marks).
pub fn hundredths(value: impl Into<i64>) -> Result<Fx> {
    let value: i64 = value.into();
    with_sign(from_uint(value.unsigned_abs()).div_i(100).map_err(risk_error)?, value < 0)
}

/// A signed bps value as a fraction (`bps` for a field that may be negative).
pub fn signed_bps(value: i16) -> Result<Fx> {
    with_sign(bps(value.unsigned_abs())?, value < 0)
}

/// `magnitude`, negated when `negative`: signed conversions divide the magnitude unsigned
/// (sBPF has no signed division) and put the sign back.
fn with_sign(magnitude: Fx, negative: bool) -> Result<Fx> {
    if negative {
        magnitude.neg_c().map_err(risk_error)
    } else {
        Ok(magnitude)
    }
}

/// The engine's expiry scaling of a stored (reference days, floor hours, exponent bps),
/// validated when `checked` (the registry's; a series' record is only compared).
pub fn vol_scaling(key: [u16; 3], checked: bool) -> Result<VolScaling> {
    let scaling = VolScaling::from_stored(key[0], key[1], key[2]).map_err(risk_error)?;
    if checked {
        scaling.validate().map_err(|_| error!(XmarginError::InvalidUnderlyingConfig))?;
    }
    Ok(scaling)
}
