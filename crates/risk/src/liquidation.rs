//! Partial liquidation sizing: how much of one position a liquidator takes over so that the
//! target's maintenance health comes back to a buffer, and no more.
//!
//! **The transfer.** The liquidator takes `q` units of the target's position at its mark
//! (perp: the spot; option: its marked value shifted to the spot) less a discount `d` per
//! unit in the liquidator's favour. The target's equity changes by −q·d: its position value
//! falls by sign·q·v and its quote balance rises by sign·q·v − q·d. Its requirement changes
//! from R(0) to R(q), the requirement of the underlying's book with the position reduced by
//! q. Other underlyings are untouched, so they are computed once.
//!
//! **Why the search is short and exact.** For a fixed scenario the loss is linear in the
//! sizes; the grid loss is a supremum of such losses, the convexity add-ons are |size| times
//! a per-unit bound (short side ≥ 0, long side ≥ 0), the short-option charge and the
//! confidence add-on are positive parts and absolute values of linear functions: R(q) is
//! convex in q. Cash enters health with weight w_a ≤ 1 when positive and w_l ≥ 1 when
//! negative: concave in the cash. So maintenance health h(q) is **concave** in q, and
//! {q : h(q) ≥ B} is an interval. With a failing lower end `lo` and a succeeding upper end
//! `hi`, every guess in between moves one of them, and the answer is `hi` once hi − lo = 1
//! lot: the least number of lots that restores the buffer. Guesses use the shape: the chord
//! between the ends lies below a concave h, so its crossing of B succeeds (a new `hi`); the
//! secant over the last lot below `hi`, extended to the left, lies above h, so its crossing
//! fails (a new `lo`). Each guess costs one requirement of one underlying, never a full
//! health computation; a guess that would not halve the interval is replaced by the
//! midpoint, so at most ~2·log2(lots) evaluations (typically 3 to 5).
use alloc::vec::Vec;

use crate::collateral::{Balance, CollateralMarket, Level};
use crate::error::{Result, RiskError};
use crate::fx::{Checked, Fx, ZERO};
use crate::margin::{health_from, MarginParams};
use crate::marks::{marked_books, MarkedPosition, MarkedUnderlying};

/// What a liquidation may do (all quote amounts in quote units, sizes in underlying units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiquidationTerms {
    /// Discount per unit conceded by the target (≥ 0), see `discount_per_unit`.
    pub discount: Fx,
    /// The maintenance health to restore (the buffer above zero, > 0).
    pub buffer: Fx,
    /// One lot (> 0): sizes move in whole lots.
    pub lot: Fx,
    /// The most lots the liquidator accepts (≥ 1).
    pub max_lots: i64,
    /// Collateral index of the quote asset (the transfer's cash lands there).
    pub quote: u16,
}

/// The liquidation one call performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiquidationPlan {
    /// Lots taken over (≥ 1), in the direction that reduces the target's position.
    pub lots: i64,
    /// Mark per unit (quote units): the transfer price is mark ∓ discount.
    pub mark: Fx,
    /// Target's maintenance health before and after.
    pub health_before: Fx,
    pub health_after: Fx,
    /// Whether `health_after` reaches the buffer (false: the whole position, or the
    /// liquidator's maximum, was not enough, but health still strictly improved).
    pub restores_buffer: bool,
    /// Requirement evaluations of the one underlying the search used (the cost driver).
    pub evaluations: u32,
}

/// Discount per unit: `rate` × spot, for an option at most `option_cap` × its value — a fee on
/// notional alone would exceed a cheap option's whole price (venues cap option fees at a
/// fraction of the premium for the same reason; e.g. Deribit's option fee cap of 12.5% of
/// the option's price). One rate for every instrument, so no choice of position pays more.
pub fn discount_per_unit(is_option: bool, spot: Fx, mark: Fx, rate: Fx, option_cap: Fx) -> Result<Fx> {
    let notional = spot.mul_c(rate)?;
    if is_option {
        Ok(notional.min(mark.abs_c()?.mul_c(option_cap)?))
    } else {
        Ok(notional)
    }
}

/// Everything the search evaluates, with the untouched underlyings summed once.
struct Target<'a> {
    positions: Vec<MarkedPosition>,
    index: usize,
    size: Fx,
    held_lots: i64,
    mark: Fx,
    balances: &'a [Balance],
    collateral: &'a [CollateralMarket],
    underlyings: &'a [MarkedUnderlying],
    now: i64,
    params: &'a MarginParams,
    rest_value: Fx,
    rest_requirement: Fx,
    terms: LiquidationTerms,
    evaluations: u32,
}

impl Target<'_> {
    /// Maintenance health with `lots` taken over.
    fn health(&mut self, lots: i64) -> Result<Fx> {
        self.evaluations = self.evaluations.saturating_add(1);
        // All of it: exactly the size (lots of a decimal size are not exact in binary).
        let units = if lots == self.held_lots { self.size.abs_c()? } else { self.terms.lot.mul_i(lots)? };
        let sign_units = if self.size < ZERO { units.neg_c()? } else { units };
        self.positions[self.index].size = self.size.sub_c(sign_units)?;
        let mut value = self.rest_value;
        let mut requirement = self.rest_requirement;
        for book in marked_books(&self.positions, self.underlyings, self.now)? {
            value = value.add_c(book.exposure.value)?;
            requirement =
                requirement.add_c(book.requirement(self.params, Level::Maintenance)?.requirement)?;
        }
        // The target receives sign·q·mark − q·discount in cash.
        let cash = sign_units.mul_c(self.mark)?.sub_c(units.mul_c(self.terms.discount)?)?;
        let mut balances: Vec<Balance> = self.balances.to_vec();
        match balances.iter_mut().find(|b| b.collateral == self.terms.quote) {
            Some(b) => b.amount = b.amount.add_c(cash)?,
            None => balances.push(Balance { collateral: self.terms.quote, amount: cash }),
        }
        health_from(value, requirement, &balances, self.collateral, Level::Maintenance)
    }
}

/// The least number of lots of `positions[index]` whose transfer brings the target's
/// maintenance health to `terms.buffer` (or, when even the whole position — capped at the
/// liquidator's maximum — cannot, all of it, provided health strictly improves).
///
/// Errors: `NotLiquidatable` when maintenance health is not negative; `NothingToLiquidate`
/// for a missing or empty position; `LiquidationWouldNotImprove` when taking the allowed size
/// leaves health no better (the liquidator should pick another position, e.g. not the hedge
/// leg of a spread); `InvalidLiquidationTerms` for a negative discount, non-positive buffer
/// or lot, or no lots allowed.
#[allow(clippy::too_many_arguments)]
pub fn liquidation_size(
    positions: &[MarkedPosition],
    index: usize,
    balances: &[Balance],
    collateral: &[CollateralMarket],
    underlyings: &[MarkedUnderlying],
    now: i64,
    params: &MarginParams,
    terms: LiquidationTerms,
) -> Result<LiquidationPlan> {
    if terms.discount < ZERO || terms.buffer <= ZERO || terms.lot <= ZERO || terms.max_lots < 1 {
        return Err(RiskError::InvalidLiquidationTerms);
    }
    let position = *positions.get(index).ok_or(RiskError::NothingToLiquidate)?;
    if position.size == ZERO {
        return Err(RiskError::NothingToLiquidate);
    }
    // Sizes are whole lots on-chain; rounding absorbs the binary representation of decimals.
    let held_lots = position.size.abs_c()?.div_c(terms.lot)?.round().to_num::<i64>();
    let max = held_lots.min(terms.max_lots);
    if max < 1 {
        return Err(RiskError::NothingToLiquidate);
    }
    let (mine, rest): (Vec<MarkedPosition>, Vec<MarkedPosition>) =
        positions.iter().partition(|p| p.underlying == position.underlying);
    let index = positions[..index].iter().filter(|p| p.underlying == position.underlying).count();
    let (mut rest_value, mut rest_requirement) = (ZERO, ZERO);
    for book in marked_books(&rest, underlyings, now)? {
        rest_value = rest_value.add_c(book.exposure.value)?;
        rest_requirement =
            rest_requirement.add_c(book.requirement(params, Level::Maintenance)?.requirement)?;
    }
    let unit = MarkedPosition { size: Fx::ONE, ..position };
    let mark = marked_books(&[unit], underlyings, now)?
        .first()
        .map(|b| b.exposure.value)
        .ok_or(RiskError::Overflow)?;
    let mut t = Target {
        positions: mine,
        index,
        size: position.size,
        held_lots,
        mark,
        balances,
        collateral,
        underlyings,
        now,
        params,
        rest_value,
        rest_requirement,
        terms,
        evaluations: 0,
    };
    let before = t.health(0)?;
    if before >= ZERO {
        return Err(RiskError::NotLiquidatable);
    }
    let plan = |lots, after: Fx, evaluations| LiquidationPlan {
        lots,
        mark,
        health_before: before,
        health_after: after,
        restores_buffer: after >= terms.buffer,
        evaluations,
    };
    let at_max = t.health(max)?;
    if at_max < terms.buffer {
        return if at_max > before {
            Ok(plan(max, at_max, t.evaluations))
        } else {
            Err(RiskError::LiquidationWouldNotImprove)
        };
    }
    let b = terms.buffer;
    let (mut lo, mut h_lo, mut hi, mut h_hi) = (0i64, before, max, at_max);
    let (mut use_secant, mut bisect) = (false, false);
    while hi.saturating_sub(lo) > 1 {
        let length = hi.saturating_sub(lo);
        let guess = if bisect {
            None
        } else if use_secant {
            // The secant over the lot below `hi`, extended leftwards, lies above h.
            let below = hi.saturating_sub(1);
            let h_below = t.health(below)?;
            if h_below < b {
                break;
            }
            let slope = h_hi.sub_c(h_below)?;
            (hi, h_hi) = (below, h_below);
            secant_guess(lo, hi, h_hi, slope, b)?
        } else {
            chord_guess(lo, h_lo, hi, h_hi, b)?
        };
        use_secant = !use_secant;
        if hi.saturating_sub(lo) <= 1 {
            break;
        }
        let mid = lo.saturating_add(hi.saturating_sub(lo) / 2);
        let g = guess.filter(|g| *g > lo && *g < hi).unwrap_or(mid);
        let h = t.health(g)?;
        if h >= b {
            (hi, h_hi) = (g, h);
        } else {
            (lo, h_lo) = (g, h);
        }
        // A step that did not halve the interval is followed by a bisection.
        bisect = !bisect && hi.saturating_sub(lo) > length / 2;
    }
    Ok(plan(hi, h_hi, t.evaluations))
}

/// Where the chord from (lo, h_lo) to (hi, h_hi) crosses `b`, rounded up.
fn chord_guess(lo: i64, h_lo: Fx, hi: i64, h_hi: Fx, b: Fx) -> Result<Option<i64>> {
    let rise = h_hi.sub_c(h_lo)?;
    if rise <= ZERO {
        return Ok(None);
    }
    let span = Fx::from_num(hi.saturating_sub(lo));
    let step = b.sub_c(h_lo)?.mul_c(span)?.div_c(rise)?;
    Ok(Some(lo.saturating_add(step.ceil().to_num::<i64>())))
}

/// Where a line through (hi, h_hi) with `slope` per lot crosses `b`, rounded down.
fn secant_guess(lo: i64, hi: i64, h_hi: Fx, slope: Fx, b: Fx) -> Result<Option<i64>> {
    if slope <= ZERO {
        return Ok(None);
    }
    let back = h_hi.sub_c(b)?.div_c(slope)?;
    let g = hi.saturating_sub(back.ceil().to_num::<i64>());
    Ok((g > lo).then_some(g))
}
