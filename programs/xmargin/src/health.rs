//! Portfolio health: turns the registry, the portfolio and the oracle accounts into plain
//! structs and asks `crates/risk`. No math here.
//!
//! Oracle accounts are passed as remaining accounts, **one per balance slot with a non-zero
//! stored amount whose asset has an oracle (every asset but the quote), in slot order**. A missing,
//! extra or misordered account is `OracleAccountsMismatch`; an account that is not the
//! configured oracle fails with the oracle guard's error.
//!
//! Positions follow: after the collateral oracles, **for every underlying with an active
//! position, by ascending underlying index, its `Market` account then its oracle**
//! (`MarketAccountsMismatch` when missing or not that underlying's market). Any oracle
//! failure on an underlying with positions fails the computation: positions cannot be valued
//! without a live price. A perp counts as size × spot plus its basis and pending funding
//! (quote cash); options at the Black-Scholes price at the underlying's implied vol.
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
use xmargin_risk::margin::{health, requirements};
use xmargin_risk::trading::pending_funding;
use xmargin_risk::{
    margin, Instrument, InstrumentKind, MarginParams, MarginReport, Market, Position, RiskError,
    UnderlyingMarket,
};

use crate::error::XmarginError;
use crate::oracle::{kind, read_price, OraclePrice};
use crate::state::{
    instrument_kind, CollateralConfig, HaircutRegistry, Market as MarketAccount, Portfolio, PositionSlot,
    MAX_POSITIONS, MAX_TIERS,
};

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

/// The engine's inputs for a portfolio: collateral markets and balances, underlyings and
/// positions.
pub struct HealthInputs {
    pub markets: Vec<CollateralMarket>,
    pub balances: Vec<Balance>,
    pub underlyings: Vec<UnderlyingMarket>,
    pub positions: Vec<Position>,
    pub now: i64,
}

impl HealthInputs {
    fn market(&self) -> Market<'_> {
        Market { now: self.now, underlyings: &self.underlyings }
    }

    /// The full margin report (equity, both levels).
    pub fn report(&self) -> Result<MarginReport> {
        margin(&self.positions, &self.balances, &self.markets, &self.market(), &MarginParams::REFERENCE)
            .map_err(risk_error)
    }

    /// Health at one level only (cheaper).
    pub fn health(&self, level: Level) -> Result<Fx> {
        health(
            &self.positions,
            &self.balances,
            &self.markets,
            &self.market(),
            &MarginParams::REFERENCE,
            level,
        )
        .map_err(risk_error)
    }

    /// The maintenance requirement of `positions` at these prices (e.g. the positions before
    /// a trade).
    pub fn maintenance_requirement(&self, positions: &[Position]) -> Result<Fx> {
        let (_, maintenance, _) =
            requirements(positions, &self.market(), &MarginParams::REFERENCE).map_err(risk_error)?;
        Ok(maintenance)
    }
}

/// An underlying's market data and funding index, already read by the caller (the traded
/// underlying in `trade`): its accounts are then not expected among the remaining accounts.
pub struct UnderlyingData {
    pub market: UnderlyingMarket,
    pub funding_index: Fx,
}

/// The guarded oracle price of an underlying as engine market data.
pub fn underlying_market(
    registry: &HaircutRegistry,
    underlying: u16,
    oracle: &AccountInfo,
    clock: &Clock,
) -> Result<(UnderlyingMarket, OraclePrice)> {
    let config = registry
        .underlyings
        .get(usize::from(underlying))
        .filter(|_| underlying < u16::from(registry.underlying_count))
        .ok_or(XmarginError::UnknownInstrument)?;
    let p = read_price(oracle, &config.oracle, clock)?;
    let conf = i64::try_from(p.conf).map_err(|_| XmarginError::RiskMath)?;
    let market = UnderlyingMarket {
        index: underlying,
        spot: from_mantissa(p.price, p.expo).map_err(risk_error)?,
        conf: from_mantissa(conf, p.expo).map_err(risk_error)?,
        vol: bps(config.implied_vol_bps)?,
        scenario: config.scenario()?,
    };
    Ok((market, p))
}

/// The engine's position for a slot: sizes in underlying units, strikes in quote units. A
/// perp enters at price 0, its basis (and pending funding) counting as quote cash instead.
pub fn engine_position(slot: &PositionSlot, quote_decimals: u8) -> Result<Position> {
    let kind = match slot.kind {
        instrument_kind::PERP => InstrumentKind::Perp,
        instrument_kind::CALL => InstrumentKind::Call,
        _ => InstrumentKind::Put,
    };
    let perp = kind == InstrumentKind::Perp;
    Ok(Position {
        instrument: Instrument {
            underlying: slot.underlying,
            kind,
            strike: if perp {
                Fx::ZERO
            } else {
                from_native(i128::from(slot.strike), quote_decimals).map_err(risk_error)?
            },
            expiry: if perp { 0 } else { slot.expiry },
        },
        size: from_native(i128::from(slot.size), slot.lot_decimals).map_err(risk_error)?,
        entry_price: Fx::ZERO,
    })
}

/// Every active position of the portfolio as engine positions.
pub fn engine_positions(portfolio: &Portfolio, quote_decimals: u8) -> Result<Vec<Position>> {
    let mut out = Vec::with_capacity(portfolio.active_positions().count());
    for slot in portfolio.active_positions() {
        out.push(engine_position(slot, quote_decimals)?);
    }
    Ok(out)
}

/// A perp slot's unrealized cash: basis plus funding owed since its snapshot (quote native).
pub fn perp_cash(slot: &PositionSlot, funding_index: Fx, quote_decimals: u8) -> Result<i64> {
    let size = from_native(i128::from(slot.size), slot.lot_decimals).map_err(risk_error)?;
    let funding =
        pending_funding(size, funding_index, slot.funding_snapshot(), quote_decimals).map_err(risk_error)?;
    slot.quote_basis.checked_add(funding).ok_or(error!(XmarginError::RiskMath))
}

/// The underlyings with an active position, ascending.
pub fn position_underlyings(portfolio: &Portfolio) -> Vec<u16> {
    let mut out: Vec<u16> = Vec::with_capacity(MAX_POSITIONS);
    for slot in portfolio.active_positions() {
        if !out.contains(&slot.underlying) {
            out.push(slot.underlying);
        }
    }
    out.sort_unstable();
    out
}

/// The engine's inputs for the portfolio, with `override_balance` (collateral index, native
/// amount) replacing that asset's stored balance (a withdrawal's outcome, before it is
/// written).
///
/// Remaining accounts, in order: the collateral oracles (see the module documentation), then
/// for every underlying with an active position, by ascending index, except `provided`'s:
/// its `Market` account and its oracle.
pub fn health_inputs<'info>(
    portfolio: &Portfolio,
    registry: &HaircutRegistry,
    accounts: &'info [AccountInfo<'info>],
    clock: &Clock,
    override_balance: Option<(u8, i64)>,
    provided: Option<&UnderlyingData>,
) -> Result<HealthInputs> {
    // Sized once: the program's bump allocator never frees, so growth by doubling would
    // waste most of the 32 KiB heap on 16 balances.
    let count = portfolio.active_balances().count().saturating_add(1);
    let mut markets: Vec<CollateralMarket> = Vec::with_capacity(count);
    let mut balances: Vec<Balance> = Vec::with_capacity(count);
    let mut next = accounts.iter();
    let quote_config = registry.collaterals.first().ok_or(XmarginError::RiskUnknownReference)?;
    let quote_decimals = quote_config.decimals;
    let mut quote_amount: i64 = 0;
    for slot in portfolio.active_balances() {
        let amount = match override_balance {
            Some((index, amount)) if index == slot.collateral => amount,
            _ => slot.amount,
        };
        let config = registry
            .listed_collaterals()
            .get(usize::from(slot.collateral))
            .ok_or(XmarginError::RiskUnknownReference)?;
        if config.oracle.kind == kind::QUOTE {
            quote_amount = amount;
            continue;
        }
        if slot.amount == 0 {
            continue;
        }
        let info = next.next().ok_or(XmarginError::OracleAccountsMismatch)?;
        let (price, conf) = match read_price(info, &config.oracle, clock) {
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
    let used = position_underlyings(portfolio);
    let mut underlyings: Vec<UnderlyingMarket> = Vec::with_capacity(used.len());
    for &u in &used {
        let funding_index = match provided {
            Some(d) if d.market.index == u => {
                underlyings.push(d.market);
                d.funding_index
            }
            _ => {
                let info = next.next().ok_or(XmarginError::MarketAccountsMismatch)?;
                let loader = AccountLoader::<MarketAccount>::try_from(info)?;
                let m = loader.load()?;
                require!(
                    m.exchange == registry.exchange && u16::from(m.underlying) == u,
                    XmarginError::MarketAccountsMismatch
                );
                let oracle = next.next().ok_or(XmarginError::MarketAccountsMismatch)?;
                underlyings.push(underlying_market(registry, u, oracle, clock)?.0);
                m.funding_index()
            }
        };
        for slot in portfolio.active_positions().filter(|p| p.underlying == u && p.is_perp()) {
            let cash = perp_cash(slot, funding_index, quote_decimals)?;
            quote_amount = quote_amount.checked_add(cash).ok_or(XmarginError::RiskMath)?;
        }
    }
    require!(next.next().is_none(), XmarginError::OracleAccountsMismatch);
    if quote_amount != 0 {
        markets.push(CollateralMarket {
            index: 0,
            price: Fx::ONE,
            conf: Fx::ZERO,
            schedule: schedule(quote_config, quote_amount)?,
        });
        balances.push(Balance {
            collateral: 0,
            amount: from_native(i128::from(quote_amount), quote_decimals).map_err(risk_error)?,
        });
    }
    Ok(HealthInputs {
        markets,
        balances,
        underlyings,
        positions: engine_positions(portfolio, quote_decimals)?,
        now: clock.unix_timestamp,
    })
}
