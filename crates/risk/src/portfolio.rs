//! Positions, market data, and per-underlying netting of Greeks.
//!
//! Netting is linear: each position contributes `size × greek` to its underlying's totals,
//! so the cost is one Black-Scholes evaluation per option position, whatever the number of
//! scenarios evaluated afterwards.
use alloc::vec::Vec;

use crate::bs::{self, OptionKind};
use crate::error::{Result, RiskError};
use crate::fx::{years_from_seconds, Checked, Fx, FRAC_BITS, INV_SQRT_2PI, ONE, ZERO};
use crate::grid::ScenarioParams;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstrumentKind {
    /// Linear perpetual: value `size × (spot − entry_price)`, delta 1 per unit.
    Perp,
    Call,
    Put,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instrument {
    /// Index of the underlying in the market data.
    pub underlying: u16,
    pub kind: InstrumentKind,
    /// Strike (quote per underlying unit); options only.
    pub strike: Fx,
    /// Expiry, unix seconds; options only.
    pub expiry: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub instrument: Instrument,
    /// Signed size in underlying units (negative = short).
    pub size: Fx,
    /// Perps: average entry price (quote per unit). Options: unused by the engine (the
    /// premium already moved through the quote balance).
    pub entry_price: Fx,
}

/// Market data and risk parameters of one underlying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnderlyingMarket {
    pub index: u16,
    /// Oracle price (quote per unit).
    pub spot: Fx,
    /// Oracle confidence (same unit as `spot`).
    pub conf: Fx,
    /// Implied volatility used to value options (fraction per √year; flat across strikes).
    pub vol: Fx,
    /// Maintenance scenario grid.
    pub scenario: ScenarioParams,
}

impl UnderlyingMarket {
    pub fn validate(&self) -> Result<()> {
        if self.spot <= ZERO {
            return Err(RiskError::NonPositivePrice);
        }
        if self.conf < ZERO || self.conf >= self.spot {
            return Err(RiskError::InvalidConfidence);
        }
        if self.vol < bs::MIN_VOL || self.vol > bs::MAX_VOL {
            return Err(RiskError::VolatilityOutOfRange);
        }
        self.scenario.validate()
    }
}

/// The market data a margin computation needs, as of `now` (unix seconds).
#[derive(Debug, Clone, Copy)]
pub struct Market<'a> {
    pub now: i64,
    pub underlyings: &'a [UnderlyingMarket],
}

impl Market<'_> {
    pub fn underlying(&self, index: u16) -> Result<&UnderlyingMarket> {
        self.underlyings.iter().find(|u| u.index == index).ok_or(RiskError::UnknownUnderlying(index))
    }
}

/// Value and Greeks of one position (size included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionRisk {
    /// Mark value in quote units: perps `size × (spot − entry)`, options `size × model price`.
    pub value: Fx,
    /// Underlying units.
    pub delta: Fx,
    /// Underlying units per quote unit of price move.
    pub gamma: Fx,
    /// Quote units per 1.00 change of implied vol.
    pub vega: Fx,
    /// ∂delta/∂vol (underlying units per 1.00 of vol).
    pub vanna: Fx,
    /// ∂vega/∂vol (quote units per 1.00 of vol, squared).
    pub volga: Fx,
}

/// What the convexity add-on (grid.rs) needs of one option instrument's net position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortOption {
    pub kind: OptionKind,
    /// Net units short (positive) or long (negative) of this instrument.
    pub units: Fx,
    pub strike: Fx,
    /// Per-unit price, delta, gamma at the current spot.
    pub price: Fx,
    pub delta: Fx,
    pub gamma: Fx,
    /// σ√T.
    pub std_dev: Fx,
    /// Quantities of the convexity bounds that do not depend on the shock range, computed
    /// once here rather than at every range and margin level (each is a division or two).
    pub bounds: BoundTerms,
}

/// Range-independent terms of the convexity bounds (grid.rs), at the book's spot S.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundTerms {
    /// K/S − 1: the price shock at which the spot reaches the strike.
    pub strike_shock: Fx,
    /// The shocks where each piece of the value bound peaks, (slope − Δ)/(Γ·S), for the
    /// out-of-the-money slope 0 and the in-the-money slope ±1; zero (and unused) when Γ = 0.
    pub vertex_shocks: [Fx; 2],
    /// φ(0)·K·σ√T: the most time value the option can have at any spot.
    pub time_value_cap: Fx,
}

impl BoundTerms {
    pub fn new(
        kind: OptionKind,
        spot: Fx,
        strike: Fx,
        delta: Fx,
        gamma: Fx,
        std_dev: Fx,
    ) -> Result<BoundTerms> {
        let vertex_shocks = if gamma > ZERO {
            let curvature = gamma.mul_c(spot)?;
            let itm_slope = if kind == OptionKind::Call { ONE } else { ONE.neg_c()? };
            [ZERO.sub_c(delta)?.div_c(curvature)?, itm_slope.sub_c(delta)?.div_c(curvature)?]
        } else {
            [ZERO; 2]
        };
        Ok(BoundTerms {
            strike_shock: strike.div_c(spot)?.sub_c(ONE)?,
            vertex_shocks,
            time_value_cap: INV_SQRT_2PI.mul_c(strike)?.mul_c(std_dev)?,
        })
    }
}

/// The netted exposure of all positions on one underlying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetExposure {
    pub underlying: u16,
    pub spot: Fx,
    pub conf: Fx,
    pub delta: Fx,
    pub gamma: Fx,
    /// Vega, vanna and volga per unit of the underlying's base vol shock: each option's
    /// own Greek times its expiry scale s (s² for volga; `shock_scaled`), so one vol shock v
    /// of the grid moves every series by its own s·v.
    pub vega: Fx,
    pub vanna: Fx,
    pub volga: Fx,
    /// Σ |position size| (underlying units): what the quote depeg add-on applies to.
    pub gross_units: Fx,
    /// Σ position values (quote units).
    pub value: Fx,
    /// max(0, short option units − long option units): what the short-option minimum
    /// charge applies to.
    pub net_short_options: Fx,
    pub scenario: ScenarioParams,
}

impl NetExposure {
    /// No position yet on `u`: its market data and zero Greeks.
    pub fn empty(u: &UnderlyingMarket) -> NetExposure {
        NetExposure {
            underlying: u.index,
            spot: u.spot,
            conf: u.conf,
            delta: ZERO,
            gamma: ZERO,
            vega: ZERO,
            vanna: ZERO,
            volga: ZERO,
            gross_units: ZERO,
            value: ZERO,
            net_short_options: ZERO,
            scenario: u.scenario,
        }
    }
}

/// An underlying's netted exposure plus its short options (for the convexity add-on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnderlyingBook {
    pub exposure: NetExposure,
    pub short_options: Vec<ShortOption>,
}

/// `size × x` computed as ±(|size| × x): fixed-point multiplication rounds toward −∞, so
/// this keeps a long and an equal short contribution exact negatives of each other.
pub(crate) fn signed_mul(size: Fx, x: Fx) -> Result<Fx> {
    // Fast path (sizes and per-unit Greeks almost always): both raw values fit an i64, so
    // |size|·x fits an i128 (< 2^126) and the floored product is one 64×64-bit multiply and
    // a shift — the same bits as `abs_c` then `mul_c`, without their checks (netting runs
    // this six times per option position).
    if let (Some(s), Some(v)) = (crate::fx::narrow(size), crate::fx::narrow(x)) {
        let magnitude = i128::from(s.unsigned_abs()).wrapping_mul(i128::from(v)) >> FRAC_BITS;
        return Ok(Fx::from_bits(if s < 0 { magnitude.wrapping_neg() } else { magnitude }));
    }
    let magnitude = size.abs_c()?.mul_c(x)?;
    if size < ZERO {
        magnitude.neg_c()
    } else {
        Ok(magnitude)
    }
}

pub fn position_risk(position: &Position, market: &UnderlyingMarket, now: i64) -> Result<PositionRisk> {
    Ok(position_details(position, market, now)?.0)
}

/// The position's risk and, for an option, its per-unit add-on data.
fn position_details(
    position: &Position,
    market: &UnderlyingMarket,
    now: i64,
) -> Result<(PositionRisk, Option<ShortOption>)> {
    let size = position.size;
    let kind = match position.instrument.kind {
        InstrumentKind::Perp => {
            if position.entry_price < ZERO {
                return Err(RiskError::InvalidInstrument);
            }
            let risk = PositionRisk {
                value: signed_mul(size, market.spot.sub_c(position.entry_price)?)?,
                delta: size,
                gamma: ZERO,
                vega: ZERO,
                vanna: ZERO,
                volga: ZERO,
            };
            return Ok((risk, None));
        }
        InstrumentKind::Call => OptionKind::Call,
        InstrumentKind::Put => OptionKind::Put,
    };
    if position.instrument.strike <= ZERO {
        return Err(RiskError::InvalidInstrument);
    }
    let seconds = position.instrument.expiry.saturating_sub(now).max(0);
    let t = years_from_seconds(seconds)?;
    let g = bs::greeks(kind, market.spot, position.instrument.strike, market.vol, t)?;
    let risk = PositionRisk {
        value: signed_mul(size, g.price)?,
        delta: signed_mul(size, g.delta)?,
        gamma: signed_mul(size, g.gamma)?,
        vega: signed_mul(size, g.vega)?,
        vanna: signed_mul(size, g.vanna)?,
        volga: signed_mul(size, g.volga)?,
    };
    let strike = position.instrument.strike;
    let std_dev = market.vol.mul_c(crate::math::sqrt(t)?)?;
    let unit = ShortOption {
        kind,
        units: size.abs_c()?,
        strike,
        price: g.price,
        delta: g.delta,
        gamma: g.gamma,
        std_dev,
        bounds: BoundTerms::new(kind, market.spot, strike, g.delta, g.gamma, std_dev)?,
    };
    Ok((risk, Some(unit)))
}

/// The vol Greeks of an option per unit of its underlying's base vol shock, for a series
/// whose shocks scale by `s` (`scenarios::VolScaling`): vega·s, vanna·s, volga·s² (its loss
/// at a shock s·v is then the expansion at v). Sign-magnitude products, so a position and
/// its mirror stay exact negatives; s = 1 changes nothing.
pub fn shock_scaled(mut risk: PositionRisk, s: Fx) -> Result<PositionRisk> {
    if s == ONE {
        return Ok(risk);
    }
    risk.vega = signed_mul(risk.vega, s)?;
    risk.vanna = signed_mul(risk.vanna, s)?;
    risk.volga = signed_mul(risk.volga, s.mul_c(s)?)?;
    Ok(risk)
}

/// Nets the positions per underlying, in the order of `market.underlyings`; underlyings
/// with no position are omitted.
pub fn net_exposures(positions: &[Position], market: &Market<'_>) -> Result<Vec<NetExposure>> {
    Ok(books(positions, market)?.into_iter().map(|b| b.exposure).collect())
}

/// Per-underlying books: netted exposure and short options, in the market's order.
pub fn books(positions: &[Position], market: &Market<'_>) -> Result<Vec<UnderlyingBook>> {
    // Sized up front: on-chain, the bump allocator never frees, so growth by doubling
    // would waste most of the 32 KiB heap.
    let underlyings = market.underlyings.len().min(positions.len());
    let mut books: Vec<UnderlyingBook> = Vec::with_capacity(underlyings);
    let mut option_balance: Vec<Fx> = Vec::with_capacity(underlyings);
    // Options netted per strike and expiry (slot, instrument, net call-equivalent size,
    // per-unit data): the convexity add-on applies to net quantities only.
    let mut options: Vec<(usize, Instrument, Fx, ShortOption)> = Vec::with_capacity(positions.len());
    for position in positions {
        let u = market.underlying(position.instrument.underlying)?;
        let (mut risk, short) = position_details(position, u, market.now)?;
        if position.instrument.kind != InstrumentKind::Perp {
            let seconds = position.instrument.expiry.saturating_sub(market.now);
            risk = shock_scaled(risk, u.scenario.vol_scaling.scale(seconds)?)?;
        }
        let slot = match books.iter().position(|b| b.exposure.underlying == u.index) {
            Some(i) => i,
            None => {
                u.validate()?;
                books.push(UnderlyingBook { exposure: NetExposure::empty(u), short_options: Vec::new() });
                option_balance.push(ZERO);
                books.len().saturating_sub(1)
            }
        };
        let book = &mut books[slot];
        let e = &mut book.exposure;
        e.delta = e.delta.add_c(risk.delta)?;
        e.gamma = e.gamma.add_c(risk.gamma)?;
        e.vega = e.vega.add_c(risk.vega)?;
        e.vanna = e.vanna.add_c(risk.vanna)?;
        e.volga = e.volga.add_c(risk.volga)?;
        e.value = e.value.add_c(risk.value)?;
        e.gross_units = e.gross_units.add_c(position.size.abs_c()?)?;
        if position.instrument.kind != InstrumentKind::Perp {
            option_balance[slot] = option_balance[slot].add_c(position.size)?;
        }
        if let Some(unit) = short {
            // A call and a put of one strike and expiry net (put-call parity, r = 0: C − P =
            // S − K is linear, so a put is a call plus a short forward whose expansion is
            // exact, and both have the same expansion error): a conversion, reversal or box
            // is charged its real risk, not each short leg's convexity alone.
            let same_series = |i: &Instrument| {
                i.underlying == position.instrument.underlying
                    && i.strike == position.instrument.strike
                    && i.expiry == position.instrument.expiry
            };
            match options.iter_mut().find(|o| same_series(&o.1)) {
                Some(o) => o.2 = o.2.add_c(position.size)?,
                None => options.push((slot, position.instrument, position.size, unit)),
            }
        }
    }
    for (slot, book) in books.iter_mut().enumerate() {
        // Exact capacity, for the same reason as above.
        book.short_options.reserve_exact(options.iter().filter(|o| o.0 == slot && o.2 != ZERO).count());
    }
    for (slot, _, net, unit) in options {
        if net != ZERO {
            // `units` > 0: net short; < 0: net long (see ShortOption).
            books[slot].short_options.push(ShortOption { units: net.neg_c()?, ..unit });
        }
    }
    for (book, balance) in books.iter_mut().zip(option_balance) {
        book.exposure.net_short_options = balance.neg_c()?.max(ZERO);
    }
    // Keep the market's order (stable output for tables and tests).
    books.sort_by_key(|b| {
        market.underlyings.iter().position(|u| u.index == b.exposure.underlying).unwrap_or(usize::MAX)
    });
    Ok(books)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_bits() -> impl Strategy<Value = i128> {
        prop_oneof![
            any::<i64>().prop_map(i128::from),
            Just(i128::from(i64::MIN)),
            Just(i128::from(i64::MAX)),
            (-1i128 << 70)..(1i128 << 70),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// The fast path of `signed_mul` gives the bits of ±(|size| × x) by `abs_c` and
        /// `mul_c` (the definition), or the same error.
        #[test]
        fn signed_mul_is_sign_times_magnitude(size in any_bits(), x in any_bits()) {
            let (size, x) = (Fx::from_bits(size), Fx::from_bits(x));
            let reference = size.abs_c().and_then(|m| m.mul_c(x)).and_then(|m| if size < ZERO { m.neg_c() } else { Ok(m) });
            prop_assert_eq!(signed_mul(size, x), reference);
        }
    }
}
