//! Position and quote-cash bookkeeping shared by `trade`, `settle_expired` and the funding
//! settlement: every change of a quote balance goes through `credit_quote`, which also keeps
//! Σ positive quote balances exact — in shards (`PositiveQuote`): the quote ledger's
//! (`QuoteLedger`) for quote deposits, withdrawals and the collateral instructions, each market's
//! `positive_quote_delta` for what happens in that market, so a trade writes no venue-wide
//! account. `resolve_bankruptcy` sums the shards and folds them into the quote ledger's.
use anchor_lang::prelude::*;
use xmargin_risk::socialized::balance_after_losses;
use xmargin_risk::trading::{apply_perp_fill, notional, PerpPosition};
use xmargin_risk::Fx;

use crate::error::risk_error;
use crate::error::XmarginError;
use crate::health::perp_cash;
use crate::instructions::trader::positive_part_change;
use crate::state::{HaircutRegistry, Market, Portfolio, PositionSlot, PERP_INSTRUMENT};

/// Whether `signer` may trade (or liquidate) for the portfolio: its owner or its delegate.
pub fn may_trade(p: &Portfolio, signer: &Pubkey) -> bool {
    p.owner == *signer || (p.delegate != Pubkey::default() && p.delegate == *signer)
}

/// Index of the quote asset in the registry.
pub const QUOTE_INDEX: u8 = 0;

/// Where a change of Σ positive quote balances is recorded (see the module documentation): a
/// signed shard — the quote ledger's `positive_quote_delta`, a market's, or a local sum added to
/// one afterwards. Profits made in a market and withdrawn leave the market's shard positive
/// and the ledger's negative: only the sum of the shards is Σ ≥ 0.
pub struct PositiveQuote<'a>(pub &'a mut i64);

impl PositiveQuote<'_> {
    /// Records a change of Σ positive quote balances: `added` − `removed`.
    pub fn record(&mut self, added: u64, removed: u64) -> Result<()> {
        let change = i64::try_from(i128::from(added).saturating_sub(i128::from(removed)))
            .map_err(|_| XmarginError::AmountTooLarge)?;
        *self.0 = self.0.checked_add(change).ok_or(XmarginError::AmountTooLarge)?;
        Ok(())
    }
}

/// Writes the socialized losses into the portfolio's stored quote balance and moves its
/// snapshot to the registry's index. Called before any quote balance is read for a write;
/// the shards of Σ positive quote balances already count the loss (`resolve_bankruptcy`
/// lowered their sum).
pub fn apply_quote_losses(portfolio: &mut Portfolio, registry: &HaircutRegistry) -> Result<()> {
    let index = registry.quote_loss_index();
    let snapshot = portfolio.quote_loss_snapshot.get_or_one();
    if index == snapshot {
        return Ok(());
    }
    if let Some(i) = portfolio.balances.iter().position(|b| b.active == 1 && b.collateral == QUOTE_INDEX) {
        let stored = portfolio.balances[i].amount;
        portfolio.balances[i].amount = engine(balance_after_losses(stored, index, snapshot))?;
    }
    portfolio.quote_loss_snapshot.set(index);
    Ok(())
}

/// Adds `amount` (quote native units, signed) to the portfolio's quote balance, after
/// applying socialized losses (the registry's index), and records the change of Σ positive
/// quote balances in `sink`. Returns the balance before and after.
pub fn credit_quote(
    portfolio: &mut Portfolio,
    registry: &HaircutRegistry,
    sink: &mut PositiveQuote<'_>,
    amount: i64,
) -> Result<(i64, i64)> {
    apply_quote_losses(portfolio, registry)?;
    let slot = portfolio.balance_mut_or_insert(QUOTE_INDEX).ok_or(XmarginError::TooManyBalances)?;
    let before = slot.amount;
    let after = before.checked_add(amount).ok_or(XmarginError::AmountTooLarge)?;
    slot.amount = after;
    let (added, removed) = positive_part_change(before, after);
    sink.record(added, removed)?;
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
        let index = market.funding_index_at(Clock::get()?.unix_timestamp)?;
        slot.funding_snapshot.set(index);
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
    registry: &HaircutRegistry,
    sink: &mut PositiveQuote<'_>,
    slot: usize,
    index: Fx,
    quote_decimals: u8,
) -> Result<i64> {
    let p = portfolio.positions[slot];
    // perp_cash = basis + funding: the funding alone is the difference.
    let funding =
        perp_cash(&p, index, quote_decimals)?.checked_sub(p.quote_basis).ok_or(XmarginError::RiskMath)?;
    portfolio.positions[slot].funding_snapshot.set(index);
    if funding != 0 {
        credit_quote(portfolio, registry, sink, funding)?;
    }
    Ok(funding)
}

/// What a fill did to one side: its size before and after (lots) and the quote cash it
/// credited (perps: settled funding plus realized PnL; options: minus the premium).
pub struct SideFill {
    pub size_before: i64,
    pub size_after: i64,
    pub cash: i64,
}

/// One side of a fill of `lots` (signed, this portfolio's side) at `price` (quote native
/// units per underlying unit) in slot `slot` of `market`'s instrument: a perp settles
/// funding, then realizes PnL pro rata on reduction; an option moves the premium. The slot is
/// freed when flat. Shared by `trade` and `liquidate_positions`.
pub fn apply_fill(
    p: &mut Portfolio,
    registry: &HaircutRegistry,
    sink: &mut PositiveQuote<'_>,
    market: &Market,
    slot: usize,
    lots: i64,
    price: u64,
) -> Result<SideFill> {
    let quote_decimals = registry.collaterals[usize::from(QUOTE_INDEX)].decimals;
    let lots_per_unit = market.lots_per_unit();
    let old = p.positions[slot];
    let cash = if old.is_perp() {
        let index = market.funding_index_at(Clock::get()?.unix_timestamp)?;
        let funding = settle_funding(p, registry, sink, slot, index, quote_decimals)?;
        let pos = PerpPosition { size: old.size, basis: old.quote_basis };
        let (new, realized) = engine(apply_perp_fill(pos, lots, price, lots_per_unit))?;
        p.positions[slot].size = new.size;
        p.positions[slot].quote_basis = new.basis;
        credit_quote(p, registry, sink, realized)?;
        funding.checked_add(realized).ok_or(XmarginError::AmountTooLarge)?
    } else {
        let premium = engine(notional(lots, price, lots_per_unit))?;
        p.positions[slot].size = old.size.checked_add(lots).ok_or(XmarginError::AmountTooLarge)?;
        let cash = premium.checked_neg().ok_or(XmarginError::AmountTooLarge)?;
        credit_quote(p, registry, sink, cash)?;
        cash
    };
    let size_after = p.positions[slot].size;
    free_if_flat(p, slot);
    Ok(SideFill { size_before: old.size, size_after, cash })
}

/// A copy of a portfolio's state on the heap (8-byte aligned, as the account's fields need),
/// to value the portfolio as it was before an instruction changed it.
pub struct PortfolioSnapshot(Vec<u64>);

impl PortfolioSnapshot {
    pub fn of(p: &Portfolio) -> Self {
        let bytes = bytemuck::bytes_of(p);
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        PortfolioSnapshot(words)
    }

    pub fn get(&self) -> &Portfolio {
        bytemuck::from_bytes(&bytemuck::cast_slice::<u64, u8>(&self.0)[..core::mem::size_of::<Portfolio>()])
    }
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
