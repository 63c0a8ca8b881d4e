//! Portfolio health: turns the registry, the portfolio and the oracle accounts into plain
//! structs and asks `crates/risk`. No math here.
//!
//! Oracle accounts are passed as remaining accounts, **one per balance slot with a non-zero
//! stored amount whose asset has an oracle (every asset but the quote), in slot order**. A missing,
//! extra or misordered account is `OracleAccountsMismatch`; an account that is not the
//! configured oracle fails with the oracle guard's error.
//!
//! Prices are conservative: an asset at min(spot, EMA) − conf, a liability at
//! max(spot, EMA) + conf (equity uses min/max(spot, EMA) too, without the confidence).
//!
//! Soft oracle failures (stale, confidence too wide, not trading, not fully verified,
//! non-positive price) value an asset balance at 0, so a withdrawal that keeps the portfolio
//! healthy without that asset still goes through; a liability in such an asset cannot be
//! valued conservatively and fails the computation. Hard failures (wrong owner, account or
//! feed, malformed data, bad exponent) always fail it.
use anchor_lang::prelude::*;
use xmargin_risk::collateral::{Balance, CollateralMarket, HaircutSchedule, Level, Tier};
use xmargin_risk::fx::{from_mantissa, from_native, Checked, Fx};
use xmargin_risk::margin::health;
use xmargin_risk::{margin, MarginParams, MarginReport, Market, RiskError};

use crate::error::XmarginError;
use crate::oracle::{kind, read_price};
use crate::state::{CollateralConfig, HaircutRegistry, Portfolio, MAX_TIERS};

pub fn risk_error(e: RiskError) -> Error {
    let code = match e {
        RiskError::Overflow | RiskError::DivisionByZero | RiskError::MathDomain => XmarginError::RiskMath,
        RiskError::NonPositivePrice | RiskError::InvalidConfidence | RiskError::VolatilityOutOfRange => {
            XmarginError::RiskInvalidMarketData
        }
        RiskError::InvalidScenarioParams
        | RiskError::InvalidHaircutSchedule
        | RiskError::InvalidMarginParams
        | RiskError::InvalidInstrument => XmarginError::RiskInvalidParameters,
        RiskError::UnknownUnderlying(_) | RiskError::UnknownCollateral(_) => {
            XmarginError::RiskUnknownReference
        }
        RiskError::TimeNotIncreasing => XmarginError::RiskTimeNotIncreasing,
    };
    error!(code)
}

/// A basis-point parameter as a fraction (10_000 bps = 1), the one conversion every
/// governed bps field goes through.
pub fn bps(value: impl Into<i64>) -> Result<Fx> {
    Fx::from_num(value.into()).div_i(i64::from(crate::state::BPS)).map_err(risk_error)
}

/// The schedule the engine needs for a balance of `amount`: asset weights and the tiers
/// below its size for an asset, liability weights for a liability. Weights the balance
/// cannot use are left at neutral values (each conversion is a 128-bit division).
fn schedule(c: &CollateralConfig, amount: i64) -> Result<HaircutSchedule> {
    let h = &c.haircut;
    if amount < 0 {
        let liability = |w| bps(w);
        return Ok(HaircutSchedule::flat(
            Fx::ZERO,
            Fx::ZERO,
            liability(h.initial_liability_weight_bps)?,
            liability(h.maintenance_liability_weight_bps)?,
        ));
    }
    let mut s = HaircutSchedule::flat(
        bps(h.initial_asset_weight_bps)?,
        bps(h.maintenance_asset_weight_bps)?,
        Fx::ONE,
        Fx::ONE,
    );
    let count = usize::from(h.tier_count).min(MAX_TIERS);
    let mut used = 0u8;
    for (dst, src) in s.tiers.iter_mut().zip(&h.tiers[..count]) {
        if src.above >= amount.unsigned_abs() {
            break;
        }
        *dst = Tier {
            above: from_native(i128::from(src.above), c.decimals).map_err(risk_error)?,
            initial_weight: bps(src.initial_weight_bps)?,
            maintenance_weight: bps(src.maintenance_weight_bps)?,
        };
        used = used.saturating_add(1);
    }
    s.tier_count = used;
    Ok(s)
}

fn is_soft(e: &Error) -> bool {
    let soft = [
        XmarginError::OracleStale,
        XmarginError::OracleConfidenceTooWide,
        XmarginError::OracleNotTrading,
        XmarginError::OracleNotFullyVerified,
        XmarginError::OracleNonPositivePrice,
    ];
    let offset = anchor_lang::error::ERROR_CODE_OFFSET;
    matches!(e, Error::AnchorError(a) if soft.iter().any(|s| a.error_code_number.checked_sub(offset) == Some(*s as u32)))
}

/// The oracle price used for a balance: min(spot, EMA) for an asset, max(spot, EMA) for a
/// liability (spot alone when the oracle has no EMA).
pub fn conservative_price(spot: i64, ema: Option<i64>, amount: i64) -> i64 {
    match ema {
        Some(ema) if ema > 0 && amount > 0 => spot.min(ema),
        Some(ema) if ema > 0 && amount < 0 => spot.max(ema),
        _ => spot,
    }
}

/// The engine's inputs for a portfolio: collateral markets and balances.
pub struct HealthInputs {
    pub markets: Vec<CollateralMarket>,
    pub balances: Vec<Balance>,
}

impl HealthInputs {
    /// The full margin report (equity, both levels).
    pub fn report(&self, now: i64) -> Result<MarginReport> {
        let market = Market { now, underlyings: &[] };
        margin(&[], &self.balances, &self.markets, &market, &MarginParams::REFERENCE).map_err(risk_error)
    }

    /// Health at one level only (cheaper).
    pub fn health(&self, now: i64, level: Level) -> Result<Fx> {
        let market = Market { now, underlyings: &[] };
        health(&[], &self.balances, &self.markets, &market, &MarginParams::REFERENCE, level)
            .map_err(risk_error)
    }
}

/// The engine's inputs for the portfolio, with `override_balance` (collateral index, native
/// amount) replacing that asset's stored balance (a withdrawal's outcome, before it is
/// written).
pub fn health_inputs(
    portfolio: &Portfolio,
    registry: &HaircutRegistry,
    oracles: &[AccountInfo],
    clock: &Clock,
    override_balance: Option<(u8, i64)>,
) -> Result<HealthInputs> {
    require!(portfolio.positions.iter().all(|p| p.active == 0), XmarginError::PositionMarginUnavailable);
    // Sized once: the program's bump allocator never frees, so growth by doubling would
    // waste most of the 32 KiB heap on 16 balances.
    let count = portfolio.active_balances().count();
    let mut markets: Vec<CollateralMarket> = Vec::with_capacity(count);
    let mut balances: Vec<Balance> = Vec::with_capacity(count);
    let mut next_oracle = oracles.iter();
    for slot in portfolio.active_balances() {
        let amount = match override_balance {
            Some((index, amount)) if index == slot.collateral => amount,
            _ => slot.amount,
        };
        let config = registry
            .listed_collaterals()
            .get(usize::from(slot.collateral))
            .ok_or(XmarginError::RiskUnknownReference)?;
        let (price, conf) = if config.oracle.kind == kind::QUOTE {
            (Fx::ONE, Fx::ZERO)
        } else {
            if slot.amount == 0 {
                continue;
            }
            let info = next_oracle.next().ok_or(XmarginError::OracleAccountsMismatch)?;
            match read_price(info, &config.oracle, clock) {
                Ok(p) => (
                    // The EMA bounds how fast a pushed spot can change borrowing power: an
                    // asset counts at min(spot, EMA), a liability at max(spot, EMA).
                    from_mantissa(conservative_price(p.price, p.ema_price, amount), p.expo)
                        .map_err(risk_error)?,
                    from_mantissa(i64::try_from(p.conf).map_err(|_| XmarginError::RiskMath)?, p.expo)
                        .map_err(risk_error)?,
                ),
                // An asset behind a soft-failing oracle counts for nothing.
                Err(e) if is_soft(&e) && amount >= 0 => continue,
                Err(e) => return Err(e),
            }
        };
        if amount == 0 {
            continue;
        }
        let index = u16::from(slot.collateral);
        markets.push(CollateralMarket { index, price, conf, schedule: schedule(config, amount)? });
        balances.push(Balance {
            collateral: index,
            amount: from_native(i128::from(amount), config.decimals).map_err(risk_error)?,
        });
    }
    require!(next_oracle.next().is_none(), XmarginError::OracleAccountsMismatch);
    Ok(HealthInputs { markets, balances })
}
