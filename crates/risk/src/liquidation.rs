//! Partial liquidation sizing: how much of one position a liquidator takes over so that the
//! target's maintenance health comes back to a buffer, and no more.
//!
//! **The transfer.** The liquidator takes `q` units of the target's position at its mark
//! (perp: the spot; option: its marked value shifted to the spot) less a discount `d` per
//! unit in the liquidator's favour. The target's equity changes by −q·d: its position value
//! falls by sign·q·v and its quote balance rises by sign·q·v − q·d. Its requirement changes
//! from R(0) to R(q), the requirement of the underlying's book with the position reduced by
//! q. Other underlyings are untouched, so they are computed once — except those offset
//! against it (its offset group, `offsets.rs`), whose requirement moves with it. Linked
//! collateral (`links.rs`) stays in its underlying's book throughout.
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
use crate::fx::{from_native, Checked, Fx, ZERO};
use crate::links::{checked_weighted_value, linked_exposures, LinkedUnderlying};

/// A linked collateral exposure: (underlying, units).
type LinkedExposure = (u16, Fx);
use crate::margin::{health_from_linked, MarginParams};
use crate::marks::{
    books_requirement, marked_books_at, marked_books_where, marked_linked_underlyings, MarkedPosition,
    MarkedUnderlying,
};

/// What a liquidation may do (all quote amounts in quote units, sizes in underlying units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiquidationTerms {
    /// Discount per unit conceded by the target (≥ 0), see `discount_per_unit`.
    pub discount: Fx,
    /// The least maintenance health to restore (the buffer above zero, > 0).
    pub buffer: Fx,
    /// The buffer as a fraction of the maintenance requirement before the call (≥ 0): the
    /// health restored is max(`buffer`, `buffer_fraction` × requirement).
    pub buffer_fraction: Fx,
    /// One lot (> 0): sizes move in whole lots.
    pub lot: Fx,
    /// The most lots the liquidator accepts (≥ 1).
    pub max_lots: i64,
    /// Collateral index of the quote asset (the transfer's cash lands there).
    pub quote: u16,
}

/// Linked collateral taken over together with a position (`hedged_liquidation_size`): per lot
/// of the position, `units_per_lot` of collateral `asset` move to the liquidator, who pays
/// `price` per unit (quote units, the collateral discount already taken off) into the
/// target's quote balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HedgeTerms {
    pub asset: u16,
    /// Collateral units per lot of the position (> 0).
    pub units_per_lot: Fx,
    /// Quote units paid per unit of collateral (> 0).
    pub price: Fx,
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
    /// Maintenance requirement before, and the buffer it gave (quote units).
    pub requirement_before: Fx,
    pub buffer: Fx,
    /// Whether `health_after` reaches the buffer (false: the whole position, or the
    /// liquidator's maximum, was not enough, but health still strictly improved).
    pub restores_buffer: bool,
    /// Requirement evaluations of the one underlying the search used (the cost driver).
    pub evaluations: u32,
    /// The target's equity before (quote units: collateral at market value, positions at
    /// their marks).
    pub equity_before: Fx,
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

/// A discount in quote native units split into (the liquidator's part, the insurance
/// vault's part): the insurance share `share_bps` of it rounded down, the liquidator the rest.
pub fn split_discount(total: u64, share_bps: u16) -> Result<(u64, u64)> {
    let insurance = u128::from(total)
        .checked_mul(u128::from(share_bps))
        .and_then(|x| x.checked_div(10_000))
        .ok_or(RiskError::Overflow)?;
    let insurance = u64::try_from(insurance).map_err(|_| RiskError::Overflow)?;
    Ok((total.checked_sub(insurance).ok_or(RiskError::Overflow)?, insurance))
}

/// The insurance fund's share of a liquidation discount, bps: the governed share, or all of
/// it when the target's equity is negative. A discount conceded by an insolvent portfolio is
/// paid by the insurance fund (and beyond it the depositors), so no liquidator — the owner's
/// own second portfolio included — may earn it: it returns to the fund that pays it.
pub fn insurance_share_bps(governed_bps: u16, target_equity: Fx) -> u16 {
    if target_equity < ZERO {
        10_000
    } else {
        governed_bps
    }
}

/// Everything the search evaluates, with the untouched underlyings summed once.
struct Target<'a> {
    /// Positions on the target's underlying and on those offset against it.
    positions: Vec<MarkedPosition>,
    /// Linked collateral exposures on those underlyings.
    links: Vec<(u16, Fx)>,
    index: usize,
    size: Fx,
    held_lots: i64,
    mark: Fx,
    balances: &'a [Balance],
    /// Per balance (in `balances`' order), its weighted value at maintenance when no guess
    /// changes it (all but the first quote balance and the first balance of the hedge's
    /// asset, the ones `with_added` changes), filled at the first guess: weighting a balance
    /// costs ~270 compute units on sBPF, and the search makes several guesses. Every guess
    /// still sums all balances in their order, so health, its errors and its overflow are
    /// those of weighting every balance each time (`weighted_collateral`).
    fixed_weights: Vec<Option<Fx>>,
    collateral: &'a [CollateralMarket],
    underlyings: &'a [MarkedUnderlying],
    linked: Vec<LinkedUnderlying>,
    now: i64,
    params: &'a MarginParams,
    rest_value: Fx,
    rest_requirement: Fx,
    terms: LiquidationTerms,
    /// Linked collateral moving with the position, if any.
    hedge: Option<HedgeTerms>,
    /// The target's underlying and those offset against it (whose linked exposures move).
    joint: Vec<u16>,
    /// The requirement and positions' value of the last evaluation.
    requirement: Fx,
    value: Fx,
}

impl Target<'_> {
    /// Maintenance health with `lots` taken over.
    fn health(&mut self, lots: i64) -> Result<Fx> {
        // All of it: exactly the size (lots of a decimal size are not exact in binary).
        let units = if lots == self.held_lots { self.size.abs_c()? } else { self.terms.lot.mul_i(lots)? };
        let sign_units = if self.size < ZERO { units.neg_c()? } else { units };
        self.positions[self.index].size = self.size.sub_c(sign_units)?;
        // The target receives sign·q·mark − q·discount in cash.
        let cash = sign_units.mul_c(self.mark)?.sub_c(units.mul_c(self.terms.discount)?)?;
        // With a hedge, the collateral leaves, its price comes in, and its exposure leaves its
        // underlying's book: the joint books are built once, with the links after the sale.
        let (balances, hedge_links) = match self.hedge {
            None => (with_added(self.balances, self.terms.quote, cash, None)?, None),
            Some(hedge) => {
                let sold = hedge.units_per_lot.mul_i(lots)?;
                let cash = cash.add_c(sold.mul_c(hedge.price)?)?;
                let moved = Some((hedge.asset, sold.neg_c()?));
                let balances = with_added(self.balances, self.terms.quote, cash, moved)?;
                let joint = &self.joint;
                let links: Vec<LinkedExposure> = linked_exposures(&balances, self.collateral)?
                    .into_iter()
                    .filter(|(u, _)| joint.contains(u))
                    .collect();
                (balances, Some(links))
            }
        };
        let links = hedge_links.as_deref().unwrap_or(&self.links);
        let books =
            marked_books_at(&self.positions, links, self.underlyings, self.now, Some(Level::Maintenance))?;
        let (value, requirement, _) = books_requirement(&books, self.params, Level::Maintenance)?;
        let value = value.add_c(self.rest_value)?;
        let requirement = requirement.add_c(self.rest_requirement)?;
        self.requirement = requirement;
        self.value = value;
        self.health_with(value, requirement, &balances)
    }

    /// `health_from_linked` at maintenance of `balances` (`self.balances` after a guess,
    /// `with_added`: the same order, anything new at the end), each unchanged balance's
    /// weighted value computed once (`fixed_weights`).
    fn health_with(&mut self, value: Fx, requirement: Fx, balances: &[Balance]) -> Result<Fx> {
        let level = Level::Maintenance;
        let first = self.fixed_weights.is_empty();
        let changed = |i: usize| {
            let is_first = |c: u16| self.balances.iter().position(|b| b.collateral == c) == Some(i);
            is_first(self.terms.quote) || self.hedge.is_some_and(|h| is_first(h.asset))
        };
        let mut weighted = ZERO;
        let mut cache = Vec::new();
        for (i, b) in balances.iter().enumerate() {
            let w = match self.fixed_weights.get(i) {
                Some(Some(w)) => *w,
                _ => checked_weighted_value(b, self.collateral, &self.linked, level)?,
            };
            if first && i < self.balances.len() {
                cache.push(if changed(i) { None } else { Some(w) });
            }
            weighted = weighted.add_c(w)?;
        }
        if first {
            self.fixed_weights = cache;
        }
        value.sub_c(requirement)?.add_c(weighted)
    }
}

/// The linked-valuation data a health computation with `links` needs (none without links).
fn linked_data(
    links: &[(u16, Fx)],
    underlyings: &[MarkedUnderlying],
    params: &MarginParams,
) -> Result<Vec<LinkedUnderlying>> {
    if links.is_empty() {
        Ok(Vec::new())
    } else {
        marked_linked_underlyings(underlyings, params)
    }
}

/// `balances` with `cash` added to collateral `quote` and, optionally, `(asset, amount)` added
/// to another.
fn with_added(balances: &[Balance], quote: u16, cash: Fx, other: Option<(u16, Fx)>) -> Result<Vec<Balance>> {
    let mut out: Vec<Balance> = balances.to_vec();
    for (collateral, amount) in core::iter::once((quote, cash)).chain(other) {
        match out.iter_mut().find(|b| b.collateral == collateral) {
            Some(b) => b.amount = b.amount.add_c(amount)?,
            None => out.push(Balance { collateral, amount }),
        }
    }
    Ok(out)
}

/// A position's mark per unit as the engine values it: the spot for a perp, the marked value
/// shifted to the spot for an option (`marks::unit_value`: the same bits as netting a book of
/// that unit alone, without building one).
pub fn position_mark(position: &MarkedPosition, underlyings: &[MarkedUnderlying], now: i64) -> Result<Fx> {
    crate::marks::unit_value(position, underlyings, now)
}

/// The outcome of a search: lots, health after, evaluations.
struct Found {
    lots: i64,
    health: Fx,
    evaluations: u32,
}

/// The least `q` in 1..=`max` with `h(q) ≥ b` for a concave `h` with `h(0) = before < b`
/// (see the module documentation), or `max` when `h(max) < b` but `h(max) > before`;
/// `LiquidationWouldNotImprove` otherwise.
fn least_restoring(max: i64, before: Fx, b: Fx, mut h: impl FnMut(i64) -> Result<Fx>) -> Result<Found> {
    let mut evaluations = 1u32;
    let mut eval = |q: i64, n: &mut u32| {
        *n = n.saturating_add(1);
        h(q)
    };
    let at_max = eval(max, &mut evaluations)?;
    if at_max < b {
        return if at_max > before {
            Ok(Found { lots: max, health: at_max, evaluations })
        } else {
            Err(RiskError::LiquidationWouldNotImprove)
        };
    }
    let (mut lo, mut h_lo, mut hi, mut h_hi) = (0i64, before, max, at_max);
    let (mut use_secant, mut bisect) = (false, false);
    while hi.saturating_sub(lo) > 1 {
        let length = hi.saturating_sub(lo);
        let guess = if bisect {
            None
        } else if use_secant {
            // The secant over the lot below `hi`, extended leftwards, lies above h.
            let below = hi.saturating_sub(1);
            let h_below = eval(below, &mut evaluations)?;
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
        let hg = eval(g, &mut evaluations)?;
        if hg >= b {
            (hi, h_hi) = (g, hg);
        } else {
            (lo, h_lo) = (g, hg);
        }
        // A step that did not halve the interval is followed by a bisection.
        bisect = !bisect && hi.saturating_sub(lo) > length / 2;
    }
    Ok(Found { lots: hi, health: h_hi, evaluations })
}

/// The buffer of a call: max(`buffer`, `fraction` × requirement), the least maintenance
/// health a liquidation restores (`LiquidationTerms`).
pub fn buffer_for(buffer: Fx, fraction: Fx, requirement: Fx) -> Result<Fx> {
    Ok(buffer.max(fraction.mul_c(requirement)?))
}

/// Whether a portfolio being liquidated is back: initial health ≥ 0 and maintenance health
/// at its buffer ([`buffer_for`] of its maintenance requirement) — when it may withdraw or
/// add risk again.
pub fn back_above_buffer(report: &crate::MarginTotals, buffer: Fx, fraction: Fx) -> Result<bool> {
    let buffer = buffer_for(buffer, fraction, report.maintenance_requirement)?;
    Ok(report.initial_health >= ZERO && report.maintenance_health >= buffer)
}

/// The least number of lots of `positions[index]` whose transfer brings the target's
/// maintenance health to the buffer (see `LiquidationTerms`), or, when even the whole
/// position — capped at the liquidator's maximum — cannot, all of it, provided health
/// strictly improves.
///
/// Errors: `NotLiquidatable` when maintenance health is not negative; `NothingToLiquidate`
/// for a missing or empty position; `LiquidationWouldNotImprove` when taking the allowed size
/// leaves health no better (the liquidator should pick another position, e.g. not the hedge
/// leg of a spread); `InvalidLiquidationTerms` for a negative discount or buffer fraction,
/// a non-positive buffer or lot, or no lots allowed.
///
/// **Books that only net with their credits.** A cash-and-carry (linked spot, short perp)
/// cannot be unwound one leg at a time on health with its credit: taking either leg
/// unhedges the other, which raises the requirement by more than the leg frees, so both
/// return `LiquidationWouldNotImprove` and such a book, once under water, stays hedged until
/// its basis moves (docs/risk-model.md, "Liquidation stays exact"). Sizing such a step on health without
/// the credits was tried and reverted: it takes the whole hedge leg to cure a deficit of a
/// few dollars and leaves a leveraged unhedged book, which the crash backtest turned into
/// bad debt. Offset groups are capped at ρ ≤ ½ on-chain for the same reason: above it,
/// taking one leg of an offsetting pair raises the group's requirement.
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
    hedged_liquidation_size(positions, index, balances, collateral, underlyings, now, params, terms, None)
}

/// As [`liquidation_size`], with `hedge.units_per_lot` of linked collateral `hedge.asset`
/// moving to the liquidator with every lot of the position: how a book that only nets with
/// its link (a cash-and-carry: linked spot, short perp) is unwound, both legs together, sized
/// on health with the credit (each lot frees the basis haircut of its collateral for the two
/// discounts). At most the lots the target's balance covers. `None`: `liquidation_size`.
#[allow(clippy::too_many_arguments)]
pub fn hedged_liquidation_size(
    positions: &[MarkedPosition],
    index: usize,
    balances: &[Balance],
    collateral: &[CollateralMarket],
    underlyings: &[MarkedUnderlying],
    now: i64,
    params: &MarginParams,
    terms: LiquidationTerms,
    hedge: Option<HedgeTerms>,
) -> Result<LiquidationPlan> {
    crate::marks::validate_marked_params(underlyings, params)?;
    if terms.discount < ZERO
        || terms.buffer <= ZERO
        || terms.buffer_fraction < ZERO
        || terms.lot <= ZERO
        || terms.max_lots < 1
    {
        return Err(RiskError::InvalidLiquidationTerms);
    }
    let Some(hedge) = hedge else {
        let mut t = target(positions, index, balances, collateral, underlyings, now, params, terms, None)?;
        return plan_for(&mut t);
    };
    let linked_to =
        collateral.iter().find(|c| c.index == hedge.asset).and_then(|c| c.link).map(|l| l.underlying);
    let underlying = positions.get(index).ok_or(RiskError::NothingToLiquidate)?.underlying;
    if hedge.units_per_lot <= ZERO || hedge.price <= ZERO || linked_to != Some(underlying) {
        return Err(RiskError::InvalidLiquidationTerms);
    }
    let held = balances.iter().find(|b| b.collateral == hedge.asset).map_or(ZERO, |b| b.amount);
    let covered = held.div_c(hedge.units_per_lot)?.floor().to_num::<i64>();
    if covered < 1 {
        return Err(RiskError::NothingToLiquidate);
    }
    let terms = LiquidationTerms { max_lots: terms.max_lots.min(covered), ..terms };
    let mut t = target(positions, index, balances, collateral, underlyings, now, params, terms, Some(hedge))?;
    plan_for(&mut t)
}

/// The search state of liquidating `positions[index]` under `params` and `collateral`.
#[allow(clippy::too_many_arguments)]
fn target<'a>(
    positions: &[MarkedPosition],
    index: usize,
    balances: &'a [Balance],
    collateral: &'a [CollateralMarket],
    underlyings: &'a [MarkedUnderlying],
    now: i64,
    params: &'a MarginParams,
    terms: LiquidationTerms,
    hedge: Option<HedgeTerms>,
) -> Result<Target<'a>> {
    let position = *positions.get(index).ok_or(RiskError::NothingToLiquidate)?;
    if position.size == ZERO {
        return Err(RiskError::NothingToLiquidate);
    }
    // Sizes are whole lots on-chain; rounding absorbs the binary representation of decimals.
    let held_lots = position.size.abs_c()?.div_c(terms.lot)?.round().to_num::<i64>();
    if held_lots.min(terms.max_lots) < 1 {
        return Err(RiskError::NothingToLiquidate);
    }
    // The target's underlying and those offset against it are evaluated together.
    let group = params.offsets.group_of(position.underlying).and_then(|g| params.offsets.groups().get(g));
    let joint = |u: u16| u == position.underlying || group.is_some_and(|g| g.contains(u));
    // Only the joint positions are copied (the search changes them); the rest's books are
    // built from the portfolio's positions in place.
    let mine: Vec<MarkedPosition> = positions.iter().filter(|p| joint(p.underlying)).copied().collect();
    let index = positions[..index].iter().filter(|p| joint(p.underlying)).count();
    let joint_underlyings: Vec<u16> = match group {
        Some(g) => g.members().to_vec(),
        None => alloc::vec![position.underlying],
    };
    let all_links = linked_exposures(balances, collateral)?;
    let links: Vec<LinkedExposure> = all_links.iter().filter(|(u, _)| joint(*u)).copied().collect();
    // `joint_underlyings` are exactly those `joint` accepts.
    let rest_books = marked_books_where(
        positions,
        &all_links,
        underlyings,
        now,
        Some(Level::Maintenance),
        &joint_underlyings,
    )?;
    let (rest_value, rest_requirement, _) = books_requirement(&rest_books, params, Level::Maintenance)?;
    Ok(Target {
        positions: mine,
        links,
        index,
        size: position.size,
        held_lots,
        mark: position_mark(&position, underlyings, now)?,
        balances,
        fixed_weights: Vec::new(),
        collateral,
        underlyings,
        linked: linked_data(&all_links, underlyings, params)?,
        now,
        params,
        rest_value,
        rest_requirement,
        terms,
        hedge,
        joint: joint_underlyings,
        requirement: ZERO,
        value: ZERO,
    })
}

/// The least-lots search on a target (see `liquidation_size`).
fn plan_for(t: &mut Target<'_>) -> Result<LiquidationPlan> {
    let terms = t.terms;
    let max = t.held_lots.min(terms.max_lots);
    let before = t.health(0)?;
    if before >= ZERO {
        return Err(RiskError::NotLiquidatable);
    }
    let requirement_before = t.requirement;
    let equity_before = t.value.add_c(crate::collateral::total_market_value(t.balances, t.collateral)?)?;
    let buffer = buffer_for(terms.buffer, terms.buffer_fraction, requirement_before)?;
    let found = least_restoring(max, before, buffer, |q| t.health(q))?;
    Ok(LiquidationPlan {
        lots: found.lots,
        mark: t.mark,
        health_before: before,
        health_after: found.health,
        requirement_before,
        buffer,
        restores_buffer: found.health >= buffer,
        evaluations: found.evaluations,
        equity_before,
    })
}

/// What a collateral liquidation may do: the liquidator repays the target's quote liability
/// and receives `asset` at `price` less `discount_rate` (one rate for every asset: the fee
/// must not reward picking the riskiest collateral).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollateralLiquidationTerms {
    /// The collateral taken and the quote asset repaid (indices).
    pub asset: u16,
    pub quote: u16,
    /// Transfer price of one unit of `asset`, quote units (> 0).
    pub price: Fx,
    /// Fraction of the collateral's value conceded to the liquidator, in [0, 1).
    pub discount_rate: Fx,
    /// As in `LiquidationTerms`.
    pub buffer: Fx,
    pub buffer_fraction: Fx,
    /// Decimals of `asset`: a lot is one native unit (amounts are exact: native / 10^decimals,
    /// not a binary approximation of 10^−decimals times a count).
    pub decimals: u8,
    /// The most lots (native units) the liquidator takes (≥ 1).
    pub max_lots: i64,
}

/// A collateral liquidation: `lots` of the asset for `repay` of the liability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollateralLiquidationPlan {
    pub lots: i64,
    /// Quote repaid for those lots: lots × lot × price × (1 − discount_rate).
    pub repay: Fx,
    /// The discount conceded: lots × lot × price × discount_rate.
    pub discount: Fx,
    pub health_before: Fx,
    pub health_after: Fx,
    pub requirement_before: Fx,
    pub buffer: Fx,
    pub restores_buffer: bool,
    pub evaluations: u32,
    /// As in `LiquidationPlan`.
    pub equity_before: Fx,
}

/// The least lots of collateral `asset` whose sale to the liquidator, repaying the quote
/// liability, brings maintenance health to the buffer — at most the target's balance, the
/// liability (a liquidator repays debt, it does not buy collateral beyond it) and the
/// liquidator's maximum. The positions are fixed: their value and maintenance requirement
/// are computed once (for a linked asset, whose balance is an exposure in its underlying's
/// grid, at every guess). Health is concave in the amount (tiered asset weights fall with size,
/// the liability weight exceeds the asset weight), so the search of `liquidation_size`
/// applies unchanged.
///
/// Errors: `NotLiquidatable` (maintenance health ≥ 0), `NothingToLiquidate` (no balance of
/// `asset`, no quote liability, or less than one lot of either), `LiquidationWouldNotImprove`,
/// `InvalidLiquidationTerms`.
#[allow(clippy::too_many_arguments)]
pub fn collateral_liquidation_size(
    positions: &[MarkedPosition],
    balances: &[Balance],
    collateral: &[CollateralMarket],
    underlyings: &[MarkedUnderlying],
    now: i64,
    params: &MarginParams,
    terms: CollateralLiquidationTerms,
) -> Result<CollateralLiquidationPlan> {
    crate::marks::validate_marked_params(underlyings, params)?;
    let rate_ok = terms.discount_rate >= ZERO && terms.discount_rate < Fx::ONE;
    if !rate_ok
        || terms.price <= ZERO
        || terms.buffer <= ZERO
        || terms.buffer_fraction < ZERO
        || terms.max_lots < 1
        || terms.asset == terms.quote
    {
        return Err(RiskError::InvalidLiquidationTerms);
    }
    let amount_of = |index: u16| balances.iter().find(|b| b.collateral == index).map_or(ZERO, |b| b.amount);
    let (held, liability) = (amount_of(terms.asset), amount_of(terms.quote).neg_c()?);
    if held <= ZERO || liability <= ZERO {
        return Err(RiskError::NothingToLiquidate);
    }
    // A linked asset is an exposure in its underlying's grid: selling it moves the
    // requirement, which is then recomputed at every guess; otherwise once.
    let all_links = linked_exposures(balances, collateral)?;
    let linked = linked_data(&all_links, underlyings, params)?;
    let asset_linked = collateral.iter().any(|c| c.index == terms.asset && c.link.is_some());
    let books = marked_books_at(positions, &all_links, underlyings, now, Some(Level::Maintenance))?;
    let (value, requirement, _) = books_requirement(&books, params, Level::Maintenance)?;
    let net_price = terms.price.mul_c(Fx::ONE.sub_c(terms.discount_rate)?)?;
    let units = |lots: i64| from_native(i128::from(lots), terms.decimals);
    let scale = 10i64.checked_pow(u32::from(terms.decimals)).ok_or(RiskError::Overflow)?;
    let held_lots = held.mul_i(scale)?.round().to_num::<i64>();
    let repayable = liability.div_c(net_price)?.mul_i(scale)?.floor().to_num::<i64>();
    let max = held_lots.min(repayable).min(terms.max_lots);
    if max < 1 {
        return Err(RiskError::NothingToLiquidate);
    }
    let health = |lots: i64| -> Result<Fx> {
        let amount = units(lots)?;
        let repay = amount.mul_c(net_price)?;
        let after = with_added(balances, terms.quote, repay, Some((terms.asset, amount.neg_c()?)))?;
        let (value, requirement) = if asset_linked {
            let links = linked_exposures(&after, collateral)?;
            let books = marked_books_at(positions, &links, underlyings, now, Some(Level::Maintenance))?;
            let (v, r, _) = books_requirement(&books, params, Level::Maintenance)?;
            (v, r)
        } else {
            (value, requirement)
        };
        health_from_linked(value, requirement, &after, collateral, &linked, Level::Maintenance)
    };
    let before = health(0)?;
    if before >= ZERO {
        return Err(RiskError::NotLiquidatable);
    }
    let buffer = buffer_for(terms.buffer, terms.buffer_fraction, requirement)?;
    let equity_before = value.add_c(crate::collateral::total_market_value(balances, collateral)?)?;
    let found = least_restoring(max, before, buffer, health)?;
    let gross = units(found.lots)?.mul_c(terms.price)?;
    let repay = units(found.lots)?.mul_c(net_price)?;
    Ok(CollateralLiquidationPlan {
        lots: found.lots,
        repay,
        discount: gross.sub_c(repay)?,
        health_before: before,
        health_after: found.health,
        requirement_before: requirement,
        buffer,
        restores_buffer: found.health >= buffer,
        evaluations: found.evaluations,
        equity_before,
    })
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
