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
//! Collateral linked to an underlying enters that underlying's grid as a linear exposure
//! (`links.rs`); governed offset groups credit correlated underlyings (`offsets.rs`):
//!
//! ```text
//! requirement(level) = Σ_u R_u(level) − Σ_groups ρ_g·(Σ_{u∈g} R_u − R_joint,g)
//! ```
use alloc::vec::Vec;

use crate::collateral::{Balance, CollateralMarket, Level};
use crate::error::{Result, RiskError};
use crate::fx::{Checked, Fx, ONE, ZERO};
use crate::grid::{requirement_parts, JointLeg, LevelShocks, RequirementBreakdown, ScenarioParams};
use crate::links::{collateral_totals, linked_exposures, weighted_collateral, LinkedUnderlying};
use crate::offsets::{total_credit, OffsetPart, OffsetTable};
use crate::portfolio::{books, Market, NetExposure, Position, UnderlyingBook};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarginParams {
    /// Factor (≥ 1) applied to the maintenance grid's price and vol shocks for the initial
    /// requirement.
    pub initial_scale: Fx,
    /// Correlation offset groups (none: every underlying margined alone).
    pub offsets: OffsetTable,
    /// The quote depeg add-on per unit of gross notional at maintenance (`depeg.rs`:
    /// `QuotePeg::charge` of the quote's current price); 0 = none.
    pub quote_depeg_charge: Fx,
}

impl MarginParams {
    /// Reference: the initial grid's shocks are 1.5× the maintenance grid's; no offsets.
    pub const REFERENCE: MarginParams =
        MarginParams { initial_scale: Fx::lit("1.5"), offsets: OffsetTable::NONE, quote_depeg_charge: ZERO };

    /// The same parameters with `offsets`.
    pub fn with_offsets(self, offsets: OffsetTable) -> MarginParams {
        MarginParams { offsets, ..self }
    }

    /// The same parameters with a quote depeg charge.
    pub fn with_quote_depeg(self, quote_depeg_charge: Fx) -> MarginParams {
        MarginParams { quote_depeg_charge, ..self }
    }

    pub fn validate(&self) -> Result<()> {
        if self.initial_scale < ONE || self.quote_depeg_charge < ZERO || self.quote_depeg_charge > ONE {
            return Err(RiskError::InvalidMarginParams);
        }
        self.offsets.validate()
    }

    /// The grid of `level` for a maintenance grid `scenario`, with the quote depeg charge.
    pub fn level_params(&self, scenario: &ScenarioParams, level: Level) -> Result<ScenarioParams> {
        Ok(self.level_shocks(scenario, level)?.params(scenario))
    }

    /// The shocks of [`Self::level_params`] alone (the rest is `scenario` unchanged):
    /// `ScenarioParams::scaled` at the initial level.
    pub fn level_shocks(&self, scenario: &ScenarioParams, level: Level) -> Result<LevelShocks> {
        let maintenance =
            LevelShocks { quote_depeg_charge: self.quote_depeg_charge, ..LevelShocks::of(scenario) };
        match level {
            Level::Maintenance => Ok(maintenance),
            Level::Initial => maintenance.scaled(self.initial_scale),
        }
    }
}

/// Per-underlying result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnderlyingReport {
    /// Positions' and linked collateral's netted exposure.
    pub exposure: NetExposure,
    /// Underlying units of linked collateral included in `exposure.delta`.
    pub linked_units: Fx,
    pub initial: RequirementBreakdown,
    pub maintenance: RequirementBreakdown,
}

/// A portfolio's totals at both levels: what an on-chain check reads (the program computes
/// only these, `marks::marked_totals`: assembling the per-underlying breakdown costs compute
/// for fields no instruction reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarginTotals {
    /// Σ balance × price + Σ position values (quote units).
    pub equity: Fx,
    /// Σ balance × price.
    pub collateral_value: Fx,
    pub weighted_collateral_initial: Fx,
    pub weighted_collateral_maintenance: Fx,
    /// Σ position mark values.
    pub positions_value: Fx,
    /// After offset credits.
    pub initial_requirement: Fx,
    pub maintenance_requirement: Fx,
    /// Offset credits (quote units) already subtracted from the requirements.
    pub initial_offset_credit: Fx,
    pub maintenance_offset_credit: Fx,
    pub initial_health: Fx,
    pub maintenance_health: Fx,
}

/// The totals and the per-underlying breakdown (the CLI, the backtest, the tests). Reads
/// the totals' fields directly (`report.equity`, by `Deref`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginReport {
    pub totals: MarginTotals,
    pub underlyings: Vec<UnderlyingReport>,
}

impl core::ops::Deref for MarginReport {
    type Target = MarginTotals;

    fn deref(&self) -> &MarginTotals {
        &self.totals
    }
}

/// Requirements of a set of positions and linked exposures, both levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirements {
    /// After offset credits (quote units).
    pub initial: Fx,
    pub maintenance: Fx,
    pub initial_credit: Fx,
    pub maintenance_credit: Fx,
    pub underlyings: Vec<UnderlyingReport>,
}

/// Requirements of a set of positions (no collateral): (initial, maintenance, per underlying),
/// offset credits of `params` subtracted.
pub fn requirements(
    positions: &[Position],
    market: &Market<'_>,
    params: &MarginParams,
) -> Result<(Fx, Fx, Vec<UnderlyingReport>)> {
    let r = requirements_linked(positions, &[], market, params)?;
    Ok((r.initial, r.maintenance, r.underlyings))
}

/// Adds linked exposures `(underlying, units)` to `books` (a book is created for an
/// underlying without positions); returns the linked units per book.
pub(crate) fn add_links(
    books: &mut Vec<UnderlyingBook>,
    links: &[(u16, Fx)],
    market: &Market<'_>,
) -> Result<Vec<Fx>> {
    let mut linked: Vec<Fx> = alloc::vec![ZERO; books.len()];
    for (underlying, units) in links {
        let slot = match books.iter().position(|b| b.exposure.underlying == *underlying) {
            Some(i) => i,
            None => {
                let u = market.underlying(*underlying)?;
                u.validate()?;
                books.push(UnderlyingBook { exposure: NetExposure::empty(u), short_options: Vec::new() });
                linked.push(ZERO);
                books.len().saturating_sub(1)
            }
        };
        books[slot].exposure.delta = books[slot].exposure.delta.add_c(*units)?;
        linked[slot] = linked[slot].add_c(*units)?;
    }
    Ok(linked)
}

/// Requirements of positions plus linked exposures, with offsets (model valuation).
pub fn requirements_linked(
    positions: &[Position],
    links: &[(u16, Fx)],
    market: &Market<'_>,
    params: &MarginParams,
) -> Result<Requirements> {
    params.validate()?;
    let mut books = books(positions, market)?;
    let linked = add_links(&mut books, links, market)?;
    let mut reports = Vec::with_capacity(books.len());
    let mut parts: [Vec<OffsetPart>; 2] = [Vec::new(), Vec::new()];
    let (mut initial, mut maintenance) = (ZERO, ZERO);
    for (book, linked_units) in books.iter().zip(linked) {
        let scenario = book.exposure.scenario;
        let level = |lvl: Level, out: &mut Vec<OffsetPart>| -> Result<RequirementBreakdown> {
            let p = params.level_params(&scenario, lvl)?;
            let (r, addons) = requirement_parts(book, &p)?;
            if params.offsets.group_of(book.exposure.underlying).is_some() {
                let leg = JointLeg::new(&book.exposure, &p, addons, &r)?;
                out.push(OffsetPart {
                    underlying: book.exposure.underlying,
                    requirement: r.requirement,
                    leg,
                });
            }
            Ok(r)
        };
        let [pm, pi] = &mut parts;
        let maint = level(Level::Maintenance, pm)?;
        let init = level(Level::Initial, pi)?;
        initial = initial.add_c(init.requirement)?;
        maintenance = maintenance.add_c(maint.requirement)?;
        reports.push(UnderlyingReport {
            exposure: book.exposure,
            linked_units,
            initial: init,
            maintenance: maint,
        });
    }
    reports.sort_by_key(|r| {
        market.underlyings.iter().position(|u| u.index == r.exposure.underlying).unwrap_or(usize::MAX)
    });
    let maintenance_credit = total_credit(&params.offsets, &parts[0])?;
    let initial_credit = total_credit(&params.offsets, &parts[1])?;
    Ok(Requirements {
        initial: initial.sub_c(initial_credit)?,
        maintenance: maintenance.sub_c(maintenance_credit)?,
        initial_credit,
        maintenance_credit,
        underlyings: reports,
    })
}

/// The linked-valuation data of every underlying of `market`.
pub fn linked_underlyings(market: &Market<'_>, params: &MarginParams) -> Result<Vec<LinkedUnderlying>> {
    market.underlyings.iter().map(|u| LinkedUnderlying::of(u, params)).collect()
}

/// Health at one level only (`weighted collateral + position values − requirement`).
pub fn health(
    positions: &[Position],
    balances: &[Balance],
    collateral: &[CollateralMarket],
    market: &Market<'_>,
    params: &MarginParams,
    level: Level,
) -> Result<Fx> {
    let links = linked_exposures(balances, collateral)?;
    let r = requirements_linked(positions, &links, market, params)?;
    let requirement = if level == Level::Initial { r.initial } else { r.maintenance };
    let positions_value = crate::fx::sum(r.underlyings.iter().map(|u| u.exposure.value))?;
    let linked = linked_underlyings(market, params)?;
    health_from_linked(positions_value, requirement, balances, collateral, &linked, level)
}

/// Health at `level` of positions worth `positions_value` needing `requirement`, with these
/// balances: weighted collateral + value − requirement. Linked balances are valued as links
/// (`links.rs`) against `linked`: the requirement must include their exposure.
pub fn health_from_linked(
    positions_value: Fx,
    requirement: Fx,
    balances: &[Balance],
    collateral: &[CollateralMarket],
    linked: &[LinkedUnderlying],
    level: Level,
) -> Result<Fx> {
    let weighted = weighted_collateral(balances, collateral, linked, level)?;
    positions_value.sub_c(requirement)?.add_c(weighted)
}

/// The full margin computation of a portfolio.
pub fn margin(
    positions: &[Position],
    balances: &[Balance],
    collateral: &[CollateralMarket],
    market: &Market<'_>,
    params: &MarginParams,
) -> Result<MarginReport> {
    let links = linked_exposures(balances, collateral)?;
    let r = requirements_linked(positions, &links, market, params)?;
    let linked = linked_underlyings(market, params)?;
    report_from(r, balances, collateral, &linked)
}

/// The margin report of requirements and balances.
pub fn report_from(
    r: Requirements,
    balances: &[Balance],
    collateral: &[CollateralMarket],
    linked: &[LinkedUnderlying],
) -> Result<MarginReport> {
    let positions_value = crate::fx::sum(r.underlyings.iter().map(|u| u.exposure.value))?;
    let t = totals_from(
        positions_value,
        [r.maintenance, r.initial],
        [r.maintenance_credit, r.initial_credit],
        balances,
        collateral,
        linked,
    )?;
    Ok(MarginReport { totals: t, underlyings: r.underlyings })
}

/// The totals of positions worth `positions_value` needing `requirements` after offset
/// `credits` (both `[maintenance, initial]`, quote units), with these balances (linked ones
/// valued against `linked`, whose exposure the requirements include).
pub fn totals_from(
    positions_value: Fx,
    requirements: [Fx; 2],
    credits: [Fx; 2],
    balances: &[Balance],
    collateral: &[CollateralMarket],
    linked: &[LinkedUnderlying],
) -> Result<MarginTotals> {
    let totals = collateral_totals(balances, collateral, linked)?;
    let [maintenance, initial] = requirements;
    let [maintenance_credit, initial_credit] = credits;
    Ok(MarginTotals {
        equity: totals.market_value.add_c(positions_value)?,
        collateral_value: totals.market_value,
        weighted_collateral_initial: totals.initial,
        weighted_collateral_maintenance: totals.maintenance,
        positions_value,
        initial_requirement: initial,
        maintenance_requirement: maintenance,
        initial_offset_credit: initial_credit,
        maintenance_offset_credit: maintenance_credit,
        initial_health: totals.initial.add_c(positions_value)?.sub_c(initial)?,
        maintenance_health: totals.maintenance.add_c(positions_value)?.sub_c(maintenance)?,
    })
}
