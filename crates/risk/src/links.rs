//! Collateral linked to an underlying: spot collateral that nets against its underlying's
//! derivatives (Derive's "risk-cancelling" collateral, OKX's spot–derivatives offset).
//!
//! A positive balance B of an asset linked to underlying u with `ratio` c is, for margin:
//!
//! - **a position**: a long linear exposure of B·c underlying units in u's scenario grid, so
//!   it moves with every price shock and nets against u's perps and options (the
//!   cash-and-carry's short perp offsets it exactly);
//! - **collateral valued without its price haircut**: its weighted value is
//!
//! ```text
//! min( B·(price − conf)·(1 − basis),
//!      standalone weighted value(B) + B·c·(S_u·shock_u + conf_u) )
//! ```
//!
//!   where `basis` is the governed basis/liquidity haircut (the token leaving the
//!   underlying's price, selling it in a liquidation) and shock_u = max(P, w·m·P) is what the
//!   grid charges one unit of unhedged linear exposure per unit of spot (`grid::linear_shock`).
//!
//! **Never looser for an unhedged balance.** With no derivative on u, the grid charges the
//! linked exposure at least B·c·(S_u·shock_u + conf_u) (the worst of ±P and the weighted
//! extreme move, plus the confidence add-on), so health with the link is at most
//! weighted(B) + that − that = the standalone health: the second term of the min caps the
//! linked value exactly there. When the grid's shock exceeds the standalone haircut (the
//! reference: BTC weight 0.9 against a 15.75% shock at maintenance) an unhedged linked
//! balance is charged more than before — linking makes spot a position; governance links an
//! asset knowing that.
//!
//! Liabilities are not linked (a borrowed linked asset keeps its liability weight). Both
//! terms of the min are concave in B (tiered weights fall with size) and the requirement is
//! convex in the exposure, so health stays concave in every balance and size.
use alloc::vec::Vec;

use crate::collateral::{market_of, weighted_value, Balance, CollateralLink, CollateralMarket, Level};
use crate::error::{Result, RiskError};
use crate::fx::{Checked, Fx, ONE, ZERO};
use crate::grid::{linear_shock, ScenarioParams};
use crate::margin::MarginParams;
use crate::portfolio::UnderlyingMarket;

/// What valuing a linked balance needs of its underlying, per level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkedUnderlying {
    pub index: u16,
    /// Spot and confidence of the underlying (quote per unit).
    pub spot: Fx,
    pub conf: Fx,
    /// `grid::linear_shock` at [maintenance, initial].
    pub shock: [Fx; 2],
}

impl LinkedUnderlying {
    pub fn of(u: &UnderlyingMarket, params: &MarginParams) -> Result<LinkedUnderlying> {
        let initial: ScenarioParams = u.scenario.scaled(params.initial_scale)?;
        Ok(LinkedUnderlying {
            index: u.index,
            spot: u.spot,
            conf: u.conf,
            shock: [linear_shock(&u.scenario)?, linear_shock(&initial)?],
        })
    }

    fn shock(&self, level: Level) -> Fx {
        self.shock[usize::from(level == Level::Initial)]
    }
}

/// The link a balance uses: its asset's link when the balance is positive.
pub fn active_link(balance: &Balance, market: &CollateralMarket) -> Option<CollateralLink> {
    market.link.filter(|_| balance.amount > ZERO)
}

/// Linked exposures of `balances`: (underlying, B·ratio) for each positive balance of a
/// linked asset, in balance order.
pub fn linked_exposures(balances: &[Balance], collateral: &[CollateralMarket]) -> Result<Vec<(u16, Fx)>> {
    let mut out = Vec::new();
    for b in balances {
        if b.amount <= ZERO {
            continue;
        }
        let m = market_of(collateral, b)?;
        if let Some(link) = &m.link {
            link.validate()?;
            out.push((link.underlying, b.amount.mul_c(link.ratio)?));
        }
    }
    Ok(out)
}

/// Weighted value of a balance at `level` (see the module documentation for a linked one).
/// `linked` has the underlyings whose grids include the linked exposures; a linked balance
/// whose underlying is missing there is `UnknownUnderlying` (it would be valued without its
/// haircut while its exposure is not in any grid).
pub fn balance_weighted_value(
    balance: &Balance,
    market: &CollateralMarket,
    linked: &[LinkedUnderlying],
    level: Level,
) -> Result<Fx> {
    let standalone = weighted_value(balance.amount, market, level)?;
    let Some(link) = active_link(balance, market) else {
        return Ok(standalone);
    };
    let u = linked
        .iter()
        .find(|u| u.index == link.underlying)
        .ok_or(RiskError::UnknownUnderlying(link.underlying))?;
    let full =
        balance.amount.mul_c(market.price.sub_c(market.conf)?)?.mul_c(ONE.sub_c(link.basis(level))?)?;
    let unhedged_charge =
        balance.amount.mul_c(link.ratio)?.mul_c(u.spot.mul_c(u.shock(level))?.add_c(u.conf)?)?;
    Ok(full.min(standalone.add_c(unhedged_charge)?))
}

/// Σ weighted values of `balances` at `level`.
/// Σ market values and Σ weighted values at both levels of `balances`, in one pass: each
/// balance's market found and validated once (the report needs all three; three passes
/// validated every schedule twice and searched every market three times).
pub fn collateral_totals(
    balances: &[Balance],
    collateral: &[CollateralMarket],
    linked: &[LinkedUnderlying],
) -> Result<CollateralTotals> {
    let mut totals = CollateralTotals { market_value: ZERO, initial: ZERO, maintenance: ZERO };
    for b in balances {
        let m = market_of(collateral, b)?;
        totals.market_value = totals.market_value.add_c(crate::collateral::market_value(b.amount, m)?)?;
        m.validate()?;
        totals.initial = totals.initial.add_c(balance_weighted_value(b, m, linked, Level::Initial)?)?;
        totals.maintenance =
            totals.maintenance.add_c(balance_weighted_value(b, m, linked, Level::Maintenance)?)?;
    }
    Ok(totals)
}

/// What [`collateral_totals`] returns, quote units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollateralTotals {
    /// Σ balances at market value (`total_market_value`).
    pub market_value: Fx,
    /// Σ weighted values at the initial and maintenance levels (`weighted_collateral`).
    pub initial: Fx,
    pub maintenance: Fx,
}

pub fn weighted_collateral(
    balances: &[Balance],
    collateral: &[CollateralMarket],
    linked: &[LinkedUnderlying],
    level: Level,
) -> Result<Fx> {
    let mut total = ZERO;
    for b in balances {
        total = total.add_c(checked_weighted_value(b, collateral, linked, level)?)?;
    }
    Ok(total)
}

/// One term of [`weighted_collateral`]: the balance's market found and validated, then its
/// weighted value.
pub fn checked_weighted_value(
    balance: &Balance,
    collateral: &[CollateralMarket],
    linked: &[LinkedUnderlying],
    level: Level,
) -> Result<Fx> {
    let m = market_of(collateral, balance)?;
    m.validate()?;
    balance_weighted_value(balance, m, linked, level)
}
