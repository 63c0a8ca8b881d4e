//! Comparators on the same positions and grid, so capital efficiency is a measured number.
//!
//! - **portfolio margin (PM)**: Greeks netted per underlying, one grid per underlying;
//! - **naive cross**: every position margined alone (its own one-position grid), the
//!   requirements summed; collateral and position values pooled;
//! - **isolated**: every position margined alone in its own account: a position's own value
//!   counts only toward its own requirement.
//!
//! "Collateral needed" is the collateral (valued after haircuts) a trader must hold for
//! initial health ≥ 0: PM `max(0, R − Σ values)`, naive cross `max(0, Σ Rᵢ − Σ values)`,
//! isolated `Σ max(0, Rᵢ − valueᵢ)`. Since the grid requirement is subadditive,
//! PM ≤ naive cross ≤ isolated.
use crate::error::Result;
use crate::fx::{Checked, Fx, ZERO};
use crate::margin::{requirements, MarginParams};
use crate::portfolio::{position_risk, Market, Position};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelRequirement {
    /// Initial requirement (quote units).
    pub requirement: Fx,
    /// Collateral needed for initial health ≥ 0 (quote units).
    pub collateral_needed: Fx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    pub portfolio: ModelRequirement,
    pub naive_cross: ModelRequirement,
    pub isolated: ModelRequirement,
}

pub fn compare(positions: &[Position], market: &Market<'_>, params: &MarginParams) -> Result<Comparison> {
    let (pm, _, reports) = requirements(positions, market, params)?;
    let total_value = crate::fx::sum(reports.iter().map(|r| r.exposure.value))?;
    let mut sum_alone = ZERO;
    let mut isolated_needed = ZERO;
    for position in positions {
        let (alone, _, _) = requirements(core::slice::from_ref(position), market, params)?;
        let u = market.underlying(position.instrument.underlying)?;
        let value = position_risk(position, u, market.now)?.value;
        sum_alone = sum_alone.add_c(alone)?;
        isolated_needed = isolated_needed.add_c(alone.sub_c(value)?.max(ZERO))?;
    }
    Ok(Comparison {
        portfolio: ModelRequirement { requirement: pm, collateral_needed: pm.sub_c(total_value)?.max(ZERO) },
        naive_cross: ModelRequirement {
            requirement: sum_alone,
            collateral_needed: sum_alone.sub_c(total_value)?.max(ZERO),
        },
        isolated: ModelRequirement { requirement: sum_alone, collateral_needed: isolated_needed },
    })
}
