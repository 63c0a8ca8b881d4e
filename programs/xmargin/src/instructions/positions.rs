//! Position and quote-cash bookkeeping shared by `trade`, `settle_expired` and the funding
//! settlement: every change of a quote balance goes through `credit_quote`, which also keeps
//! the quote asset's Σ positive balances (`total_deposits`) exact.
use anchor_lang::prelude::*;
use xmargin_risk::Fx;

use crate::error::XmarginError;
use crate::health::{perp_cash, risk_error};
use crate::instructions::trader::positive_part_change;
use crate::state::{HaircutRegistry, Market, Portfolio, PositionSlot, PERP_INSTRUMENT};

/// Index of the quote asset in the registry.
pub const QUOTE_INDEX: u8 = 0;

/// Adds `amount` (quote native units, signed) to the portfolio's quote balance. Returns the
/// balance before and after.
pub fn credit_quote(
    portfolio: &mut Portfolio,
    registry: &mut HaircutRegistry,
    amount: i64,
) -> Result<(i64, i64)> {
    let slot = portfolio.balance_mut_or_insert(QUOTE_INDEX).ok_or(XmarginError::TooManyBalances)?;
    let before = slot.amount;
    let after = before.checked_add(amount).ok_or(XmarginError::AmountTooLarge)?;
    slot.amount = after;
    let (added, removed) = positive_part_change(before, after);
    let config = &mut registry.collaterals[usize::from(QUOTE_INDEX)];
    config.total_deposits = config.total_deposits.saturating_add(added).saturating_sub(removed);
    Ok((before, after))
}

/// The slot of `(underlying, instrument)`, taking a free slot initialised from the market when
/// the portfolio has none yet.
pub fn position_slot(portfolio: &mut Portfolio, market: &Market, instrument: u8) -> Result<usize> {
    let underlying = u16::from(market.underlying);
    if let Some(i) = portfolio.position_index(underlying, instrument) {
        return Ok(i);
    }
    let i = portfolio.positions.iter().position(|p| p.active == 0).ok_or(XmarginError::TooManyPositions)?;
    let mut slot = PositionSlot {
        underlying,
        active: 1,
        series: instrument,
        lot_decimals: market.lot_decimals,
        ..PositionSlot::default()
    };
    if instrument == PERP_INSTRUMENT {
        slot.funding_snapshot = market.funding_index;
    } else {
        let s = market.option_series(instrument).ok_or(XmarginError::UnknownInstrument)?;
        slot.kind = s.kind;
        slot.strike = s.strike;
        slot.expiry = s.expiry;
    }
    portfolio.positions[i] = slot;
    Ok(i)
}

/// Settles a perp slot's funding into the quote balance and moves its snapshot to `index`.
/// Returns the amount credited (negative: paid).
pub fn settle_funding(
    portfolio: &mut Portfolio,
    registry: &mut HaircutRegistry,
    slot: usize,
    index: Fx,
    quote_decimals: u8,
) -> Result<i64> {
    let p = portfolio.positions[slot];
    // perp_cash = basis + funding: the funding alone is the difference.
    let funding =
        perp_cash(&p, index, quote_decimals)?.checked_sub(p.quote_basis).ok_or(XmarginError::RiskMath)?;
    portfolio.positions[slot].funding_snapshot = index.to_bits().to_le_bytes();
    if funding != 0 {
        credit_quote(portfolio, registry, funding)?;
    }
    Ok(funding)
}

/// Frees a slot whose size reached zero.
pub fn free_if_flat(portfolio: &mut Portfolio, slot: usize) {
    if portfolio.positions[slot].size == 0 {
        portfolio.positions[slot] = PositionSlot::default();
    }
}

/// A risk-engine error as a program error (re-exported for instruction files).
pub fn engine<T>(r: xmargin_risk::Result<T>) -> Result<T> {
    r.map_err(risk_error)
}
