//! European options under Black-Scholes with zero rates and no dividends (r = q = 0: the
//! venue settles in a stablecoin and funds nothing; forward = spot).
//!
//! Units: spot and strike in quote per underlying unit, `vol` as a fraction per √year,
//! `t_years` in years (365-day year). Greeks per one unit of underlying:
//! delta (dimensionless), gamma (per quote unit), vega (quote units per 1.00 of vol, i.e.
//! per 100 vol points).
//!
//! Limits: when σ√T < 1e-9 (at or after expiry, or zero vol) the option is worth its
//! intrinsic value, gamma and vega are 0, and delta is 1/0 for a call ITM/OTM, −1/0 for a
//! put, and ±0.5 exactly at the strike. Deep in or out of the money, d1 and d2 are clamped
//! to ±40, where N(·) is exactly 0 or 1: prices tend to intrinsic, Greeks to their limits,
//! never to an overflow.
use crate::error::{Result, RiskError};
use crate::fx::INV_SQRT_2PI;
use crate::fx::{half, Checked, Fx, HALF, ONE, ZERO};
use crate::math::{exp_parts, ln, norm_cdf, norm_cdf_given_gaussian, sqrt, ExpParts};

/// Bounds on implied volatility accepted by the engine (1% to 1000%).
pub const MIN_VOL: Fx = Fx::lit("0.01");
pub const MAX_VOL: Fx = Fx::lit("10");
/// Below this σ√T the option is priced at intrinsic value.
const MIN_STD_DEV: Fx = Fx::lit("0.000000001");
const D_CLAMP: Fx = Fx::lit("40");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    Call,
    Put,
}

/// Price and Greeks of one unit of a European option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionGreeks {
    pub price: Fx,
    pub delta: Fx,
    pub gamma: Fx,
    pub vega: Fx,
    /// ∂Δ/∂σ = ∂vega/∂S (per unit of vol).
    pub vanna: Fx,
    /// ∂vega/∂σ (quote units per vol², per unit of vol).
    pub volga: Fx,
}

pub fn intrinsic(kind: OptionKind, spot: Fx, strike: Fx) -> Result<Fx> {
    let diff = match kind {
        OptionKind::Call => spot.sub_c(strike)?,
        OptionKind::Put => strike.sub_c(spot)?,
    };
    Ok(diff.max(ZERO))
}

/// What a price and the Greeks share: √T, σ√T, d1, d2, e^(−d1²/2) and N(d1), N(d2).
struct Normals {
    sqrt_t: Fx,
    std_dev: Fx,
    d1: Fx,
    d2: Fx,
    gauss_d1: ExpParts,
    n_d1: Fx,
    n_d2: Fx,
}

/// The inputs checked and [`Normals`] computed; `Err(( √T, σ√T))` when σ√T is below
/// `MIN_STD_DEV` (the option is then worth its intrinsic value, `expired`).
fn normals(spot: Fx, strike: Fx, vol: Fx, t_years: Fx) -> Result<core::result::Result<Normals, (Fx, Fx)>> {
    if spot <= ZERO || strike <= ZERO {
        return Err(RiskError::NonPositivePrice);
    }
    if vol < MIN_VOL || vol > MAX_VOL {
        return Err(RiskError::VolatilityOutOfRange);
    }
    let t = t_years.max(ZERO);
    let sqrt_t = sqrt(t)?;
    let std_dev = vol.mul_c(sqrt_t)?;
    if std_dev < MIN_STD_DEV {
        return Ok(Err((sqrt_t, std_dev)));
    }
    let log_moneyness = ln(spot.div_c(strike)?)?;
    let d1 = log_moneyness.div_c(std_dev)?.add_c(half(std_dev))?.clamp(-D_CLAMP, D_CLAMP);
    let d2 = d1.sub_c(std_dev)?.clamp(-D_CLAMP, D_CLAMP);
    // One exponential per option: e^(−d1²/2) as mantissa·2^k, every use of it a multiply
    // and a shift. With r = 0, e^(−d2²/2) = e^(−d1²/2)·S/K exactly (d2 = d1 − σ√T), which
    // holds while d1 is not clamped; otherwise d2 gets its own exponential.
    let gauss_d1 = exp_parts(half(d1.mul_c(d1)?).neg_c()?)?;
    let n_d1 = norm_cdf_given_gaussian(d1, gauss_d1.scaled(ONE)?)?;
    let n_d2 = if d1.abs_c()? < D_CLAMP {
        norm_cdf_given_gaussian(d2, gauss_d1.scaled(spot.div_c(strike)?)?)?
    } else {
        norm_cdf(d2)?
    };
    Ok(Ok(Normals { sqrt_t, std_dev, d1, d2, gauss_d1, n_d1, n_d2 }))
}

/// Price and delta from N(d1), N(d2).
fn price_delta(kind: OptionKind, spot: Fx, strike: Fx, n: &Normals) -> Result<(Fx, Fx)> {
    let call = spot.mul_c(n.n_d1)?.sub_c(strike.mul_c(n.n_d2)?)?.max(ZERO);
    Ok(match kind {
        OptionKind::Call => (call, n.n_d1),
        // Put-call parity with r = 0: P = C − S + K; Δput = Δcall − 1.
        OptionKind::Put => (call.sub_c(spot)?.add_c(strike)?.max(ZERO), n.n_d1.sub_c(ONE)?),
    })
}

/// The Black-Scholes price alone (r = 0): `greeks(..)?.price`, bit for bit, without the
/// Greeks' products and divisions (a trade's price band needs only this).
pub fn price(kind: OptionKind, spot: Fx, strike: Fx, vol: Fx, t_years: Fx) -> Result<Fx> {
    match normals(spot, strike, vol, t_years)? {
        Ok(n) => Ok(price_delta(kind, spot, strike, &n)?.0),
        Err(_) => Ok(expired(kind, spot, strike)?.price),
    }
}

/// Black-Scholes price, delta, gamma and vega (r = 0).
pub fn greeks(kind: OptionKind, spot: Fx, strike: Fx, vol: Fx, t_years: Fx) -> Result<OptionGreeks> {
    Ok(greeks_and_std_dev(kind, spot, strike, vol, t_years)?.0)
}

/// [`greeks`] with √T and σ√T as computed for them (max(T, 0) under the root), which a crank
/// needs again for the series' bounds: one square root less per series.
pub fn greeks_and_std_dev(
    kind: OptionKind,
    spot: Fx,
    strike: Fx,
    vol: Fx,
    t_years: Fx,
) -> Result<(OptionGreeks, Fx, Fx)> {
    let n = match normals(spot, strike, vol, t_years)? {
        Ok(n) => n,
        Err((sqrt_t, std_dev)) => return Ok((expired(kind, spot, strike)?, sqrt_t, std_dev)),
    };
    let Normals { sqrt_t, std_dev, d1, d2, gauss_d1, .. } = n;
    // Gamma = φ(d1)/(S·σ√T), vega = S·φ(d1)·√T: the factors go in before exp's final shift.
    let pdf = |m: Fx| gauss_d1.scaled(m.mul_c(INV_SQRT_2PI)?);
    let gamma = pdf(ONE.div_c(spot.mul_c(std_dev)?)?)?;
    let vega = pdf(spot.mul_c(sqrt_t)?)?;
    // Vanna = −φ(d1)·d2/σ, volga = vega·d1·d2/σ (r = 0).
    let vanna = pdf(d2.neg_c()?.div_c(vol)?)?;
    let volga = vega.mul_c(d1)?.mul_c(d2)?.div_c(vol)?;
    let (price, delta) = price_delta(kind, spot, strike, &n)?;
    Ok((OptionGreeks { price, delta, gamma, vega, vanna, volga }, sqrt_t, std_dev))
}

fn expired(kind: OptionKind, spot: Fx, strike: Fx) -> Result<OptionGreeks> {
    let call_delta = match spot.cmp(&strike) {
        core::cmp::Ordering::Greater => ONE,
        core::cmp::Ordering::Less => ZERO,
        core::cmp::Ordering::Equal => HALF,
    };
    let delta = match kind {
        OptionKind::Call => call_delta,
        OptionKind::Put => call_delta.sub_c(ONE)?,
    };
    Ok(OptionGreeks {
        price: intrinsic(kind, spot, strike)?,
        delta,
        gamma: ZERO,
        vega: ZERO,
        vanna: ZERO,
        volga: ZERO,
    })
}
