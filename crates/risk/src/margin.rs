//! Portfolio margin: equity, requirements and health at the initial and maintenance levels.
//!
//! ```text
//! health(level) = Σ weighted collateral(level) + Σ position values − requirement(level)
//! requirement(level) = Σ over underlyings of the grid requirement (grid.rs), with the
//!                      initial grid's shocks scaled by `initial_scale` ≥ 1
//! equity = Σ balance × price + Σ position values
//! ```
//!
//! Initial health gates new risk and withdrawals; maintenance health gates liquidation.
//! Requirements do not offset across underlyings (no cross-underlying correlation credit).
use alloc::vec::Vec;

use crate::collateral::{market_value, weighted_value, Balance, CollateralMarket, Level};
use crate::error::{Result, RiskError};
use crate::fx::{Checked, Fx, ONE, ZERO};
use crate::grid::{requirement, RequirementBreakdown};
use crate::portfolio::{books, Market, NetExposure, Position};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarginParams {
    /// Factor (≥ 1) applied to the maintenance grid's price and vol shocks for the initial
    /// requirement.
    pub initial_scale: Fx,
}

impl MarginParams {
    /// Reference: the initial grid's shocks are 1.5× the maintenance grid's.
    pub const REFERENCE: MarginParams = MarginParams { initial_scale: Fx::lit("1.5") };

    pub fn validate(&self) -> Result<()> {
        if self.initial_scale >= ONE {
            Ok(())
        } else {
            Err(RiskError::InvalidMarginParams)
        }
    }
}

/// Per-underlying result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnderlyingReport {
    pub exposure: NetExposure,
    pub initial: RequirementBreakdown,
    pub maintenance: RequirementBreakdown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginReport {
    /// Σ balance × price + Σ position values (quote units).
    pub equity: Fx,
    /// Σ balance × price.
    pub collateral_value: Fx,
    pub weighted_collateral_initial: Fx,
    pub weighted_collateral_maintenance: Fx,
    /// Σ position mark values.
    pub positions_value: Fx,
    pub initial_requirement: Fx,
    pub maintenance_requirement: Fx,
    pub initial_health: Fx,
    pub maintenance_health: Fx,
    pub underlyings: Vec<UnderlyingReport>,
}

/// Requirements of a set of positions (no collateral): (initial, maintenance, per underlying).
pub fn requirements(
    positions: &[Position],
    market: &Market<'_>,
    params: &MarginParams,
) -> Result<(Fx, Fx, Vec<UnderlyingReport>)> {
    params.validate()?;
    let mut initial = ZERO;
    let mut maintenance = ZERO;
    let books = books(positions, market)?;
    let mut reports = Vec::with_capacity(books.len());
    for book in books {
        let scenario = book.exposure.scenario;
        let maint = requirement(&book, &scenario)?;
        let init = requirement(&book, &scenario.scaled(params.initial_scale)?)?;
        initial = initial.add_c(init.requirement)?;
        maintenance = maintenance.add_c(maint.requirement)?;
        reports.push(UnderlyingReport { exposure: book.exposure, initial: init, maintenance: maint });
    }
    Ok((initial, maintenance, reports))
}

/// The validated market data of a balance's asset.
fn market_of<'a>(collateral: &'a [CollateralMarket], balance: &Balance) -> Result<&'a CollateralMarket> {
    let m = collateral
        .iter()
        .find(|c| c.index == balance.collateral)
        .ok_or(RiskError::UnknownCollateral(balance.collateral))?;
    m.validate()?;
    Ok(m)
}

/// Health at one level only (`weighted collateral + position values − requirement`): what a
/// withdrawal (initial) or a liquidation check (maintenance) needs, at about half the cost of
/// [`margin`].
pub fn health(
    positions: &[Position],
    balances: &[Balance],
    collateral: &[CollateralMarket],
    market: &Market<'_>,
    params: &MarginParams,
    level: Level,
) -> Result<Fx> {
    let (initial_requirement, maintenance_requirement, underlyings) =
        requirements(positions, market, params)?;
    let requirement = if level == Level::Initial { initial_requirement } else { maintenance_requirement };
    let positions_value = crate::fx::sum(underlyings.iter().map(|u| u.exposure.value))?;
    health_from(positions_value, requirement, balances, collateral, level)
}

/// Health at `level` of positions worth `positions_value` needing `requirement`, with these
/// balances: weighted collateral + value − requirement.
pub fn health_from(
    positions_value: Fx,
    requirement: Fx,
    balances: &[Balance],
    collateral: &[CollateralMarket],
    level: Level,
) -> Result<Fx> {
    let mut total = positions_value.sub_c(requirement)?;
    for balance in balances {
        let m = market_of(collateral, balance)?;
        total = total.add_c(weighted_value(balance.amount, m, level)?)?;
    }
    Ok(total)
}

/// The full margin computation of a portfolio.
pub fn margin(
    positions: &[Position],
    balances: &[Balance],
    collateral: &[CollateralMarket],
    market: &Market<'_>,
    params: &MarginParams,
) -> Result<MarginReport> {
    let (initial_requirement, maintenance_requirement, underlyings) =
        requirements(positions, market, params)?;
    report_from(initial_requirement, maintenance_requirement, underlyings, balances, collateral)
}

/// The margin report of per-underlying results and balances.
pub fn report_from(
    initial_requirement: Fx,
    maintenance_requirement: Fx,
    underlyings: Vec<UnderlyingReport>,
    balances: &[Balance],
    collateral: &[CollateralMarket],
) -> Result<MarginReport> {
    let positions_value = crate::fx::sum(underlyings.iter().map(|u| u.exposure.value))?;
    let mut collateral_value = ZERO;
    let mut weighted_initial = ZERO;
    let mut weighted_maintenance = ZERO;
    for balance in balances {
        let m = market_of(collateral, balance)?;
        collateral_value = collateral_value.add_c(market_value(balance.amount, m)?)?;
        weighted_initial = weighted_initial.add_c(weighted_value(balance.amount, m, Level::Initial)?)?;
        weighted_maintenance =
            weighted_maintenance.add_c(weighted_value(balance.amount, m, Level::Maintenance)?)?;
    }
    Ok(MarginReport {
        equity: collateral_value.add_c(positions_value)?,
        collateral_value,
        weighted_collateral_initial: weighted_initial,
        weighted_collateral_maintenance: weighted_maintenance,
        positions_value,
        initial_requirement,
        maintenance_requirement,
        initial_health: weighted_initial.add_c(positions_value)?.sub_c(initial_requirement)?,
        maintenance_health: weighted_maintenance.add_c(positions_value)?.sub_c(maintenance_requirement)?,
        underlyings,
    })
}
