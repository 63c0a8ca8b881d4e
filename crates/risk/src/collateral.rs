//! Collateral valuation with haircut schedules.
//!
//! A positive balance (asset) is valued at `price − conf` times its asset weight; a large
//! balance is valued in tiers, like income-tax brackets: the part of the balance above each
//! tier's threshold gets that tier's (lower) weight, so the value is continuous and never
//! decreases as the balance grows. A negative balance (liability) is valued at
//! `price + conf` times its liability weight (≥ 1).
use crate::error::{Result, RiskError};
use crate::fx::{Checked, Fx, ONE, ZERO};

pub const MAX_TIERS: usize = 4;

/// Weights above a balance threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tier {
    /// Token units above which these weights apply.
    pub above: Fx,
    pub initial_weight: Fx,
    pub maintenance_weight: Fx,
}

/// How many of a schedule's size tiers a balance of `amount` (native units) reaches: the
/// leading tiers whose threshold (`thresholds`, native units, increasing) is below it. A tier
/// applies only above its threshold, so the tiers a balance does not reach never change its
/// weight: a schedule given only the reached ones values that balance the same (the program
/// converts only those).
pub fn tiers_reached(amount: u64, thresholds: impl IntoIterator<Item = u64>) -> usize {
    thresholds.into_iter().take_while(|above| *above < amount).count()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HaircutSchedule {
    /// Asset weights below the first tier, in [0, 1]; initial ≤ maintenance.
    pub initial_asset_weight: Fx,
    pub maintenance_asset_weight: Fx,
    /// Liability weights, ≥ 1; initial ≥ maintenance.
    pub initial_liability_weight: Fx,
    pub maintenance_liability_weight: Fx,
    /// Size tiers, `tier_count` of them used, thresholds increasing, weights not increasing.
    pub tiers: [Tier; MAX_TIERS],
    pub tier_count: u8,
}

impl HaircutSchedule {
    /// A schedule with no size tiers.
    pub fn flat(initial: Fx, maintenance: Fx, initial_liability: Fx, maintenance_liability: Fx) -> Self {
        HaircutSchedule {
            initial_asset_weight: initial,
            maintenance_asset_weight: maintenance,
            initial_liability_weight: initial_liability,
            maintenance_liability_weight: maintenance_liability,
            tiers: [Tier::default(); MAX_TIERS],
            tier_count: 0,
        }
    }

    pub fn tiers(&self) -> &[Tier] {
        &self.tiers[..usize::from(self.tier_count).min(MAX_TIERS)]
    }

    pub fn validate(&self) -> Result<()> {
        let unit = |w: Fx| w >= ZERO && w <= ONE;
        let mut ok = usize::from(self.tier_count) <= MAX_TIERS
            && unit(self.initial_asset_weight)
            && unit(self.maintenance_asset_weight)
            && self.initial_asset_weight <= self.maintenance_asset_weight
            && self.maintenance_liability_weight >= ONE
            && self.initial_liability_weight >= self.maintenance_liability_weight;
        let (mut prev_above, mut prev_init, mut prev_maint) =
            (ZERO, self.initial_asset_weight, self.maintenance_asset_weight);
        for tier in self.tiers() {
            ok &= tier.above > prev_above
                && tier.initial_weight <= prev_init
                && tier.maintenance_weight <= prev_maint
                && tier.initial_weight <= tier.maintenance_weight
                && tier.initial_weight >= ZERO;
            (prev_above, prev_init, prev_maint) = (tier.above, tier.initial_weight, tier.maintenance_weight);
        }
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidHaircutSchedule)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Initial,
    Maintenance,
}

/// A collateral asset linked to an underlying (wrapped BTC ↔ BTC, an LST ↔ SOL): a positive
/// balance of it is a long linear exposure of `ratio` underlying units per token in that
/// underlying's scenario grid, so it nets against the underlying's derivatives, and its
/// standalone haircut is replaced by the basis haircut (see `links.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollateralLink {
    /// Underlying index the balance moves with.
    pub underlying: u16,
    /// Underlying units per token (> 0, ≤ 10): 1 for a wrapped asset.
    pub ratio: Fx,
    /// Basis/liquidity haircuts, fractions of value in [0, 1], initial ≥ maintenance: what
    /// covers the token's price leaving the underlying's (a depeg, a discount to redeem) and
    /// selling it in a liquidation.
    pub basis_initial: Fx,
    pub basis_maintenance: Fx,
}

impl CollateralLink {
    pub const MAX_RATIO: Fx = Fx::lit("10");

    pub fn validate(&self) -> Result<()> {
        let unit = |w: Fx| w >= ZERO && w <= ONE;
        let ok = self.ratio > ZERO
            && self.ratio <= Self::MAX_RATIO
            && unit(self.basis_initial)
            && unit(self.basis_maintenance)
            && self.basis_initial >= self.basis_maintenance;
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidCollateralLink)
        }
    }

    pub fn basis(&self, level: Level) -> Fx {
        match level {
            Level::Initial => self.basis_initial,
            Level::Maintenance => self.basis_maintenance,
        }
    }
}

/// Market data of one collateral asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollateralMarket {
    pub index: u16,
    /// Oracle price (quote per token) and confidence.
    pub price: Fx,
    pub conf: Fx,
    pub schedule: HaircutSchedule,
    /// The underlying this asset is linked to, if any.
    pub link: Option<CollateralLink>,
}

impl CollateralMarket {
    pub fn validate(&self) -> Result<()> {
        if self.price <= ZERO {
            return Err(RiskError::NonPositivePrice);
        }
        if self.conf < ZERO || self.conf >= self.price {
            return Err(RiskError::InvalidConfidence);
        }
        if let Some(link) = &self.link {
            link.validate()?;
        }
        self.schedule.validate()
    }
}

/// A signed token balance (token units; negative = liability).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub collateral: u16,
    pub amount: Fx,
}

/// The market of `balance`'s asset in `collateral` (`UnknownCollateral` when absent).
pub fn market_of<'a>(collateral: &'a [CollateralMarket], balance: &Balance) -> Result<&'a CollateralMarket> {
    collateral
        .iter()
        .find(|m| m.index == balance.collateral)
        .ok_or(RiskError::UnknownCollateral(balance.collateral))
}

/// Unweighted value at the oracle price (quote units).
pub fn market_value(balance: Fx, market: &CollateralMarket) -> Result<Fx> {
    balance.mul_c(market.price)
}

/// Σ of `balances` at market value (quote units).
pub fn total_market_value(balances: &[Balance], collateral: &[CollateralMarket]) -> Result<Fx> {
    let mut total = ZERO;
    for b in balances {
        total = total.add_c(market_value(b.amount, market_of(collateral, b)?)?)?;
    }
    Ok(total)
}

/// Haircut value for health (quote units): tiered asset weights at `price − conf`, or the
/// liability weight at `price + conf`.
pub fn weighted_value(balance: Fx, market: &CollateralMarket, level: Level) -> Result<Fx> {
    let s = &market.schedule;
    if balance < ZERO {
        let weight = match level {
            Level::Initial => s.initial_liability_weight,
            Level::Maintenance => s.maintenance_liability_weight,
        };
        let price = market.price.add_c(market.conf)?;
        return balance.mul_c(price)?.mul_c(weight);
    }
    let pick = |init: Fx, maint: Fx| if level == Level::Initial { init } else { maint };
    let mut weight = pick(s.initial_asset_weight, s.maintenance_asset_weight);
    let mut floor = ZERO;
    let mut weighted_units = ZERO;
    for tier in s.tiers() {
        if balance <= tier.above {
            break;
        }
        weighted_units = weighted_units.add_c(tier.above.sub_c(floor)?.mul_c(weight)?)?;
        floor = tier.above;
        weight = pick(tier.initial_weight, tier.maintenance_weight);
    }
    weighted_units = weighted_units.add_c(balance.sub_c(floor)?.mul_c(weight)?)?;
    weighted_units.mul_c(market.price.sub_c(market.conf)?)
}
