//! Positions, market data, and per-underlying netting of Greeks.
//!
//! Netting is linear: each position contributes `size × greek` to its underlying's totals,
//! so the cost is one Black-Scholes evaluation per option position, whatever the number of
//! scenarios evaluated afterwards.
use alloc::vec::Vec;

use crate::bs::{self, OptionKind};
use crate::error::{Result, RiskError};
use crate::fx::{years_from_seconds, Checked, Fx, ZERO};
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
        self.underlyings
            .iter()
            .find(|u| u.index == index)
            .ok_or(RiskError::UnknownUnderlying(index))
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
}

pub fn position_risk(
    position: &Position,
    market: &UnderlyingMarket,
    now: i64,
) -> Result<PositionRisk> {
    let size = position.size;
    match position.instrument.kind {
        InstrumentKind::Perp => {
            if position.entry_price < ZERO {
                return Err(RiskError::InvalidInstrument);
            }
            Ok(PositionRisk {
                value: size.mul_c(market.spot.sub_c(position.entry_price)?)?,
                delta: size,
                gamma: ZERO,
                vega: ZERO,
            })
        }
        InstrumentKind::Call | InstrumentKind::Put => {
            let kind = if position.instrument.kind == InstrumentKind::Call {
                OptionKind::Call
            } else {
                OptionKind::Put
            };
            if position.instrument.strike <= ZERO {
                return Err(RiskError::InvalidInstrument);
            }
            let seconds = position.instrument.expiry.saturating_sub(now).max(0);
            let t = years_from_seconds(seconds)?;
            let g = bs::greeks(kind, market.spot, position.instrument.strike, market.vol, t)?;
            Ok(PositionRisk {
                value: size.mul_c(g.price)?,
                delta: size.mul_c(g.delta)?,
                gamma: size.mul_c(g.gamma)?,
                vega: size.mul_c(g.vega)?,
            })
        }
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
    pub vega: Fx,
    /// Σ position values (quote units).
    pub value: Fx,
    /// max(0, short option units − long option units): what the short-option minimum
    /// charge applies to.
    pub net_short_options: Fx,
    pub scenario: ScenarioParams,
}

/// Nets the positions per underlying, in the order of `market.underlyings`; underlyings
/// with no position are omitted.
pub fn net_exposures(positions: &[Position], market: &Market<'_>) -> Result<Vec<NetExposure>> {
    let mut out: Vec<NetExposure> = Vec::new();
    let mut option_balance: Vec<Fx> = Vec::new();
    for position in positions {
        let u = market.underlying(position.instrument.underlying)?;
        let risk = position_risk(position, u, market.now)?;
        let slot = match out.iter().position(|e| e.underlying == u.index) {
            Some(i) => i,
            None => {
                u.validate()?;
                out.push(NetExposure {
                    underlying: u.index,
                    spot: u.spot,
                    conf: u.conf,
                    delta: ZERO,
                    gamma: ZERO,
                    vega: ZERO,
                    value: ZERO,
                    net_short_options: ZERO,
                    scenario: u.scenario,
                });
                option_balance.push(ZERO);
                out.len().saturating_sub(1)
            }
        };
        let e = &mut out[slot];
        e.delta = e.delta.add_c(risk.delta)?;
        e.gamma = e.gamma.add_c(risk.gamma)?;
        e.vega = e.vega.add_c(risk.vega)?;
        e.value = e.value.add_c(risk.value)?;
        if position.instrument.kind != InstrumentKind::Perp {
            option_balance[slot] = option_balance[slot].add_c(position.size)?;
        }
    }
    for (e, balance) in out.iter_mut().zip(option_balance) {
        e.net_short_options = balance.neg_c()?.max(ZERO);
    }
    // Keep the market's order (stable output for tables and tests).
    out.sort_by_key(|e| {
        market
            .underlyings
            .iter()
            .position(|u| u.index == e.underlying)
            .unwrap_or(usize::MAX)
    });
    Ok(out)
}
