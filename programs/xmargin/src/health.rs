//! Portfolio health: turns the registry, the portfolio and the oracle accounts into plain
//! structs and asks `crates/risk`. No math here.
//!
//! Oracle accounts are passed as remaining accounts, **one per balance slot with a non-zero
//! stored amount whose asset has an oracle (every asset but the quote), in slot order**. A missing,
//! extra or misordered account is `OracleAccountsMismatch`; an account that is not the
//! configured oracle fails with the oracle guard's error.
//!
//! Positions follow: after the collateral oracles, **for every underlying with an active
//! position or linked to by an asset with a positive stored balance (a linked balance is an
//! exposure in that underlying's grid), by ascending underlying index, its `Market` account
//! then its oracle**
//! (`MarketAccountsMismatch` when missing or not that underlying's market). Any oracle
//! failure on an underlying with positions fails the computation: positions cannot be valued
//! without a live price. A perp counts as size × spot plus its basis and pending funding
//! (quote cash); an option from its series' marks (`crates/risk/src/marks.rs`: value,
//! Greeks and convexity bounds cached by `update_marks`, shifted to the current spot), or at
//! its payoff once its settlement price is recorded. Stale marks fail the computation with
//! the reason (`MarksTooOld`, `MarksSpotDrift`, ...): send `update_marks` and retry.
//!
//! Prices are conservative: an asset at min(spot, EMA) − conf, a liability at
//! max(spot, EMA) + conf (equity uses min/max(spot, EMA) too, without the confidence).
//!
//! Soft oracle failures (stale, confidence too wide, not trading, not fully verified,
//! non-positive price) value an asset balance at 0 when the portfolio's own trader acts
//! (`OracleMode::Lenient`: a withdrawal that keeps the portfolio healthy without that asset
//! still goes through); a liability in such an asset cannot be valued conservatively and
//! fails the computation. Hard failures (wrong owner, account or feed, malformed data, bad
//! exponent) always fail it. An action of a third party on someone else's portfolio
//! (liquidation, bankruptcy resolution) uses `OracleMode::Strict`: every failure is hard, so
//! no caller can make a portfolio look poorer by passing a failing oracle.
//!
//! Positions' gains count at the conservative side of (spot, EMA) for the initial level (the
//! engine's stable-price charge, `xmargin_risk::marks::stable_price_charge`), as collateral
//! does: a spot print above the EMA does not raise what gates withdrawals and new risk.
use anchor_lang::prelude::*;
use xmargin_risk::bs::intrinsic;
use xmargin_risk::collateral::{
    tiers_reached, Balance, CollateralLink, CollateralMarket, HaircutSchedule, Level, Tier,
};
use xmargin_risk::fx::{from_mantissa, from_native, from_uint, Checked, Fx};
use xmargin_risk::liquidation::{
    CollateralLiquidationPlan, CollateralLiquidationTerms, LiquidationPlan, LiquidationTerms,
};
use xmargin_risk::marks::{
    marked_health, marked_totals, settled_marks, MarkedPosition, MarkedUnderlying, SeriesMarks,
};
use xmargin_risk::offsets::{OffsetGroup, OffsetTable};
use xmargin_risk::prices::conservative_price;
use xmargin_risk::trading::pending_funding;
use xmargin_risk::{MarginParams, MarginTotals, UnderlyingMarket};

use crate::error::{risk_error, XmarginError};
use crate::marks::{CurrentBasis, InitialScale};
use crate::oracle::{kind, read_price, read_price_unlogged, OraclePrice};
use crate::state::units::bps;
use crate::state::LoadChecked;
use crate::state::{
    option_kind, CollateralConfig, HaircutRegistry, LiquidationParams, Market as MarketAccount, Portfolio,
    PositionSlot, PositionsByUnderlying, MAX_OFFSET_GROUPS, MAX_POSITIONS, MAX_TIERS, PERP_INSTRUMENT,
};

/// The schedule the engine needs for a balance of `amount`: asset weights and the tiers
/// below its size for an asset, liability weights for a liability. Weights the balance
/// cannot use are left at neutral values (each conversion is a 128-bit division), except
/// for the quote asset (`both_sides`), whose balance a liquidation moves across zero.
fn schedule(c: &CollateralConfig, amount: i64, both_sides: bool) -> Result<HaircutSchedule> {
    let h = &c.haircut;
    if both_sides {
        let mut s = schedule(c, amount.max(0), false)?;
        s.initial_liability_weight = bps(h.initial_liability_weight_bps)?;
        s.maintenance_liability_weight = bps(h.maintenance_liability_weight_bps)?;
        return Ok(s);
    }
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
    let used = tiers_reached(amount.unsigned_abs(), h.tiers[..count].iter().map(|t| t.above));
    for (dst, src) in s.tiers.iter_mut().zip(&h.tiers[..used]) {
        *dst = Tier {
            above: from_native(i128::from(src.above), c.decimals).map_err(risk_error)?,
            initial_weight: bps(src.initial_weight_bps)?,
            maintenance_weight: bps(src.maintenance_weight_bps)?,
        };
    }
    s.tier_count = u8::try_from(used).unwrap_or(u8::MAX);
    Ok(s)
}

/// How a health computation treats a soft oracle failure of a collateral asset, and a stale
/// quote peg price (`quote_depeg_charge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OracleMode {
    /// The portfolio's own trader acts: the asset counts for nothing (can only lower health);
    /// a stale or never-recorded peg price refuses the action (`QuotePegStale`: a keeper, or
    /// the trader in the same transaction, records a fresh one first).
    Lenient,
    /// A liquidator's own portfolio, checked after it took a position or collateral: as
    /// `Lenient` for collateral; a stale peg price counts at its last recorded value (none if
    /// never recorded), so an outage of the quote's feed cannot halt liquidations.
    Liquidator,
    /// A third party acts on the portfolio: any oracle failure fails the computation; a stale
    /// peg price adds nothing (nobody is liquidated on a stale peg).
    Strict,
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

/// The engine's inputs for a portfolio: collateral markets and balances, underlyings and
/// positions valued from their series' marks.
pub struct HealthInputs {
    pub markets: Vec<CollateralMarket>,
    pub balances: Vec<Balance>,
    pub underlyings: Vec<MarkedUnderlying>,
    pub positions: Vec<MarkedPosition>,
    /// Each position's instrument: (underlying, series or `PERP_INSTRUMENT`).
    pub instruments: Vec<(u16, u8)>,
    pub now: i64,
    /// The registry's margin parameters (offset groups).
    pub params: MarginParams,
}

impl HealthInputs {
    /// The margin totals (equity, both levels; no per-underlying breakdown).
    pub fn totals(&self) -> Result<MarginTotals> {
        marked_totals(
            &self.positions,
            &self.balances,
            &self.markets,
            &self.underlyings,
            self.now,
            &self.params,
        )
        .map_err(risk_error)
    }

    /// Health at one level only (cheaper: one requirement per underlying).
    pub fn health(&self, level: Level) -> Result<Fx> {
        marked_health(
            &self.positions,
            &self.balances,
            &self.markets,
            &self.underlyings,
            self.now,
            &self.params,
            level,
        )
        .map_err(risk_error)
    }

    /// The least liquidation of position `index` restoring the buffer, with linked collateral
    /// `hedge` moving with it if any (`crates/risk`).
    pub fn liquidation_size(
        &self,
        index: usize,
        terms: LiquidationTerms,
        hedge: Option<xmargin_risk::liquidation::HedgeTerms>,
    ) -> Result<LiquidationPlan> {
        xmargin_risk::liquidation::hedged_liquidation_size(
            &self.positions,
            index,
            &self.balances,
            &self.markets,
            &self.underlyings,
            self.now,
            &self.params,
            terms,
            hedge,
        )
        .map_err(risk_error)
    }

    /// The least collateral sale restoring the buffer (`crates/risk`).
    pub fn collateral_liquidation_size(
        &self,
        terms: CollateralLiquidationTerms,
    ) -> Result<CollateralLiquidationPlan> {
        xmargin_risk::liquidation::collateral_liquidation_size(
            &self.positions,
            &self.balances,
            &self.markets,
            &self.underlyings,
            self.now,
            &self.params,
            terms,
        )
        .map_err(risk_error)
    }
}

/// The least maintenance health a liquidation restores, and the one a portfolio being
/// liquidated must reach before it may withdraw or add risk again: `buffer_bps` of the
/// maintenance requirement, at least one quote native unit. Returns (floor, fraction).
pub fn liquidation_buffer(params: &LiquidationParams, quote_decimals: u8) -> Result<(Fx, Fx)> {
    Ok((from_native(1, quote_decimals).map_err(risk_error)?, bps(params.buffer_bps)?))
}

/// Whether a portfolio being liquidated is back: initial health ≥ 0 and maintenance health at
/// the buffer.
pub fn back_above_buffer(
    inputs: &HealthInputs,
    params: &LiquidationParams,
    quote_decimals: u8,
) -> Result<bool> {
    totals_above_buffer(&inputs.totals()?, params, quote_decimals)
}

/// [`back_above_buffer`] of totals already computed.
pub fn totals_above_buffer(
    totals: &MarginTotals,
    params: &LiquidationParams,
    quote_decimals: u8,
) -> Result<bool> {
    let (floor, fraction) = liquidation_buffer(params, quote_decimals)?;
    xmargin_risk::liquidation::back_above_buffer(totals, floor, fraction).map_err(risk_error)
}

/// The margin totals of a portfolio as it is, for its own trader (`OracleMode::Lenient`; the
/// remaining accounts in this module's order): what `refresh_health` returns and a refused
/// withdrawal logs.
pub fn own_totals<'info>(
    portfolio: &Portfolio,
    registry: &HaircutRegistry,
    accounts: &'info [AccountInfo<'info>],
    clock: &Clock,
) -> Result<MarginTotals> {
    health_inputs(portfolio, registry, accounts, clock, None, None, OracleMode::Lenient)?.totals()
}

/// The margin parameters of every on-chain computation.
const PARAMS: MarginParams = MarginParams::REFERENCE;

/// An underlying whose market account the caller already holds (the traded one in `trade`):
/// its accounts are then not expected among the remaining accounts.
#[derive(Clone, Copy)]
pub struct Provided<'a> {
    pub market: UnderlyingMarket,
    /// Its oracle's EMA price (quote units; zero: none).
    pub stable_price: Fx,
    pub account: &'a MarketAccount,
}

/// One underlying's validated market data, as computed for a portfolio's health.
struct SharedUnderlying {
    market_key: Pubkey,
    oracle_key: Pubkey,
    underlying: MarkedUnderlying,
    basis: CurrentBasis,
}

/// Oracle, scenario and marks-policy reads already made in this instruction, for the next
/// portfolio's health: `trade` and the liquidations value two portfolios that usually hold
/// the same underlyings, and reading an oracle, converting the registry's scenario and the market's marks policy cost
/// ~3k compute units per underlying. An entry is reused only for the same market *and*
/// oracle account (both validated when it was made: the oracle is the registry's configured
/// feed, the market the exchange's for that underlying); the clock and the registry do not
/// change within an instruction, and nothing cached depends on a field the instruction
/// writes (positions, open interest, fees). Any other pair is read and validated afresh.
///
/// Collateral oracle reads are kept the same way, by collateral index and account: a
/// successful guarded read of the configured feed (`read_price`) is the same for every
/// portfolio in the instruction; what depends on the balance (the conservative side of spot
/// and EMA, the haircut tier) is still computed per portfolio, and a failed read is not
/// kept (each portfolio's mode decides what a failure means).
#[derive(Default)]
pub struct SharedReads {
    entries: Vec<SharedUnderlying>,
    collateral_prices: Vec<(u8, Pubkey, OraclePrice)>,
}

impl SharedReads {
    fn collateral_price(&self, index: u8, oracle: &Pubkey) -> Option<OraclePrice> {
        self.collateral_prices.iter().find(|(i, key, _)| *i == index && key == oracle).map(|(_, _, p)| *p)
    }

    fn find(&self, index: u16, market: &Pubkey, oracle: &Pubkey) -> Option<&SharedUnderlying> {
        self.entries.iter().find(|e| {
            e.underlying.market.index == index && e.market_key == *market && e.oracle_key == *oracle
        })
    }
}

/// The stable (EMA) price of a guarded oracle read, quote units per unit; zero without one.
pub fn stable_price(p: &OraclePrice) -> Result<Fx> {
    xmargin_risk::prices::stable_price(p.ema_price, p.expo).map_err(risk_error)
}

/// The guarded oracle price of `market`'s underlying as engine market data (its adaptive
/// shock from the market's estimator).
#[inline(always)]
pub fn underlying_market(
    registry: &HaircutRegistry,
    market: &MarketAccount,
    oracle: &AccountInfo,
    clock: &Clock,
) -> Result<(UnderlyingMarket, OraclePrice)> {
    let underlying = u16::from(market.underlying);
    let config = registry
        .underlyings
        .get(usize::from(underlying))
        .filter(|_| underlying < u16::from(registry.underlying_count))
        .ok_or(XmarginError::UnknownInstrument)?;
    let p = read_price(oracle, &config.oracle, clock)?;
    let conf = i64::try_from(p.conf).map_err(|_| XmarginError::RiskMath)?;
    let spot = from_mantissa(p.price, p.expo).map_err(risk_error)?;
    let market = UnderlyingMarket {
        index: underlying,
        spot,
        conf: from_mantissa(conf, p.expo).map_err(risk_error)?,
        vol: bps(config.implied_vol_bps)?,
        scenario: config.scenario(market.volatility.shock.get())?,
    };
    Ok((market, p))
}

/// Pushes the engine's position for a slot of `market` onto `positions` and returns it: size
/// in underlying units; an option valued from its series' marks, or at its payoff once its
/// settlement price is recorded. Written in place (a perp first, then an option's strike,
/// expiry and marks into it) rather than built and then moved into the vector. On an error
/// the vector holds a partial entry; every caller then fails the instruction.
// Inlined into each caller (health's inputs and `trade`'s short path), as
// `SeriesMarksState::load`: out of line, the position returned by value and copied cost health
// ~8k compute units for 24 options (measured).
#[inline(always)]
pub fn push_marked_position<'v>(
    positions: &'v mut Vec<MarkedPosition>,
    slot: &PositionSlot,
    market: &MarketAccount,
    data: &UnderlyingMarket,
    basis: &CurrentBasis,
    quote_decimals: u8,
    now: i64,
) -> Result<&'v MarkedPosition> {
    let size = from_native(i128::from(slot.size), slot.lot_decimals).map_err(risk_error)?;
    positions.push(MarkedPosition::perp(slot.underlying, size));
    let position = positions.last_mut().ok_or(XmarginError::RiskMath)?;
    if !slot.is_perp() {
        let index = usize::from(slot.series);
        let series = market.series.get(index).ok_or(XmarginError::UnknownInstrument)?;
        // Only compared for equality: the native strike as an integer (no 128-bit division
        // per option, which a quote-unit conversion would cost).
        position.strike_expiry = Some((from_uint(series.strike), series.expiry));
        if series.settlement_price != 0 {
            let price = |native: u64| from_native(i128::from(native), quote_decimals).map_err(risk_error);
            let payoff =
                intrinsic(option_kind(series.kind), price(series.settlement_price)?, price(series.strike)?)
                    .map_err(risk_error)?;
            position.marks = Some(settled_marks(payoff, data, now));
        } else {
            let stored = market.marks.get(index).ok_or(XmarginError::UnknownInstrument)?;
            stored.load_into(position.marks.insert(SeriesMarks::UNMARKED), basis)?;
        }
    }
    Ok(position)
}

/// The registry's current marking basis of an underlying (`data`: its market data).
pub fn current_basis(
    registry: &HaircutRegistry,
    data: &UnderlyingMarket,
    scale: &InitialScale,
) -> Result<CurrentBasis> {
    let config = registry.underlyings.get(usize::from(data.index)).ok_or(XmarginError::UnknownInstrument)?;
    CurrentBasis::new(
        config.implied_vol_bps,
        config.largest_tail_hundredths(),
        config.vol_scaling_key(),
        scale,
        data,
    )
}

/// A quote balance of `portfolio` with the socialized losses not yet written into it
/// already counted (quote native units).
pub fn quote_after_losses(portfolio: &Portfolio, registry: &HaircutRegistry, amount: i64) -> Result<i64> {
    let snapshot = portfolio.quote_loss_snapshot.get_or_one();
    xmargin_risk::socialized::balance_after_losses(amount, registry.quote_loss_index(), snapshot)
        .map_err(risk_error)
}

/// A perp slot's unrealized cash: basis plus funding owed since its snapshot (quote native).
pub fn perp_cash(slot: &PositionSlot, funding_index: Fx, quote_decimals: u8) -> Result<i64> {
    let size = from_native(i128::from(slot.size), slot.lot_decimals).map_err(risk_error)?;
    perp_cash_sized(slot, size, funding_index, quote_decimals)
}

/// [`perp_cash`] with the slot's size in underlying units already converted (health has it).
pub fn perp_cash_sized(slot: &PositionSlot, size: Fx, funding_index: Fx, quote_decimals: u8) -> Result<i64> {
    let funding =
        pending_funding(size, funding_index, slot.funding_snapshot(), quote_decimals).map_err(risk_error)?;
    slot.quote_basis.checked_add(funding).ok_or_else(|| error!(XmarginError::RiskMath))
}

/// The underlyings a health computation needs, ascending: those with an active position
/// (`grouped`: the portfolio's positions by underlying) and those a positive stored balance
/// of a linked asset is linked to (its exposure is in that underlying's grid,
/// `xmargin_risk::links`).
pub fn health_underlyings(
    portfolio: &Portfolio,
    grouped: &PositionsByUnderlying,
    registry: &HaircutRegistry,
    links: bool,
) -> Vec<u16> {
    let mut out: Vec<u16> = Vec::with_capacity(MAX_POSITIONS);
    // Ascending already: the groups are by underlying index.
    out.extend(grouped.underlyings());
    let held = out.len();
    let linked = portfolio.active_balances().filter(|b| links && b.amount > 0).filter_map(|b| {
        registry.listed_collaterals().get(usize::from(b.collateral))?.link.linked_underlying()
    });
    for u in linked {
        if !out.contains(&u) {
            out.push(u);
        }
    }
    if out.len() > held {
        out.sort_unstable();
    }
    out
}

/// The engine's view of a registry link (`None`: not linked).
pub fn engine_link(c: &CollateralConfig) -> Result<Option<CollateralLink>> {
    let l = &c.link;
    if !l.is_active() {
        return Ok(None);
    }
    let ratio = Fx::from_num(l.ratio_e9).div_i(1_000_000_000).map_err(risk_error)?;
    Ok(Some(CollateralLink {
        underlying: u16::from(l.underlying),
        ratio,
        basis_initial: bps(l.basis_initial_bps)?,
        basis_maintenance: bps(l.basis_maintenance_bps)?,
    }))
}

/// The margin parameters of a registry at `now`: the governed initial scale, the governed
/// offset groups and the quote depeg charge (`quote_depeg_charge`).
pub fn margin_params(registry: &HaircutRegistry, now: i64, mode: OracleMode) -> Result<MarginParams> {
    let mut groups: Vec<OffsetGroup> = Vec::with_capacity(MAX_OFFSET_GROUPS);
    for (_, g) in registry.offset_groups() {
        let members: Vec<u16> = (0..16u16).filter(|i| g.member_mask & (1 << i) != 0).collect();
        groups.push(OffsetGroup::new(&members, bps(g.credit_bps)?).map_err(risk_error)?);
    }
    let charge = quote_depeg_charge(registry, now, mode)?;
    let params = MarginParams { initial_scale: registry.initial_scale()?, ..PARAMS };
    Ok(params.with_offsets(OffsetTable::new(&groups).map_err(risk_error)?).with_quote_depeg(charge))
}

/// The quote depeg charge per unit of gross notional (maintenance), by the action table
/// (docs/risk-model.md): none without a contingency; at the recorded price when it is
/// fresh (within the peg oracle's staleness limit); when stale or never recorded, by `mode`:
/// the portfolio's own actions are refused (`QuotePegStale`), a liquidator's own check uses
/// the last recorded price (none if never recorded), a third party's valuation adds nothing.
pub fn quote_depeg_charge(registry: &HaircutRegistry, now: i64, mode: OracleMode) -> Result<Fx> {
    let peg = &registry.quote_peg;
    if peg.params.threshold_bps == 0 {
        return Ok(Fx::ZERO);
    }
    let recorded = peg.price_time != 0;
    let fresh =
        recorded && now.saturating_sub(peg.price_time) <= i64::from(peg.params.oracle.max_staleness_secs);
    match (fresh, mode) {
        (false, OracleMode::Strict) => Ok(Fx::ZERO),
        (false, OracleMode::Lenient) => err!(XmarginError::QuotePegStale),
        (false, OracleMode::Liquidator) if !recorded => Ok(Fx::ZERO),
        _ => {
            let price = from_native(i128::from(peg.price_e9), 9).map_err(risk_error)?;
            peg.params.peg()?.charge(price).map_err(risk_error)
        }
    }
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
    provided: Option<Provided<'_>>,
    mode: OracleMode,
) -> Result<HealthInputs> {
    inputs(portfolio, registry, accounts, clock, override_balance, provided, mode, true, None)
}

/// [`health_inputs`] of one of several portfolios valued in the same instruction: the
/// underlyings `cache` holds (read for an earlier portfolio) are not read again, and those
/// read here are added to it (`SharedReads`).
#[allow(clippy::too_many_arguments)]
pub fn health_inputs_shared<'info>(
    portfolio: &Portfolio,
    registry: &HaircutRegistry,
    accounts: &'info [AccountInfo<'info>],
    clock: &Clock,
    provided: Option<Provided<'_>>,
    mode: OracleMode,
    cache: &mut SharedReads,
) -> Result<HealthInputs> {
    inputs(portfolio, registry, accounts, clock, None, provided, mode, true, Some(cache))
}

/// The engine's inputs for valuing a portfolio's **equity** only (collateral at market
/// value, positions at their marks), strict oracles: collateral links are left out (equity
/// does not depend on them), so a portfolio without positions needs only its collateral
/// oracles — `resolve_bankruptcy`, which no linked balance may block.
pub fn equity_inputs<'info>(
    portfolio: &Portfolio,
    registry: &HaircutRegistry,
    accounts: &'info [AccountInfo<'info>],
    clock: &Clock,
) -> Result<HealthInputs> {
    inputs(portfolio, registry, accounts, clock, None, None, OracleMode::Strict, false, None)
}

#[allow(clippy::too_many_arguments)]
fn inputs<'info>(
    portfolio: &Portfolio,
    registry: &HaircutRegistry,
    accounts: &'info [AccountInfo<'info>],
    clock: &Clock,
    override_balance: Option<(u8, i64)>,
    provided: Option<Provided<'_>>,
    mode: OracleMode,
    links: bool,
    mut cache: Option<&mut SharedReads>,
) -> Result<HealthInputs> {
    // Sized once: the program's bump allocator never frees, so growth by doubling would
    // waste heap.
    let count = portfolio.active_balances().count().saturating_add(1);
    let mut markets: Vec<CollateralMarket> = Vec::with_capacity(count);
    let mut balances: Vec<Balance> = Vec::with_capacity(count);
    let mut next = accounts.iter();
    if let Some(c) = cache.as_deref_mut() {
        c.collateral_prices.reserve(count);
    }
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
            quote_amount = quote_after_losses(portfolio, registry, amount)?;
            continue;
        }
        if slot.amount == 0 {
            continue;
        }
        let info = next.next().ok_or(XmarginError::OracleAccountsMismatch)?;
        let cached = cache.as_deref().and_then(|c| c.collateral_price(slot.collateral, info.key));
        let read = match cached {
            Some(price) => Ok(price),
            None => {
                let read = read_price_unlogged(info, &config.oracle, clock);
                if let (Ok(price), Some(c)) = (&read, cache.as_deref_mut()) {
                    c.collateral_prices.push((slot.collateral, *info.key, *price));
                }
                read
            }
        };
        let (price, conf) = match read {
            Ok(p) => (
                // The EMA bounds how fast a pushed spot can change borrowing power: an
                // asset counts at min(spot, EMA), a liability at max(spot, EMA).
                from_mantissa(conservative_price(p.price, p.ema_price, amount), p.expo)
                    .map_err(risk_error)?,
                from_mantissa(i64::try_from(p.conf).map_err(|_| XmarginError::RiskMath)?, p.expo)
                    .map_err(risk_error)?,
            ),
            // An asset behind a soft-failing oracle counts for nothing, for its own trader only
            // — unless it is linked: dropping it would also drop its exposure from its
            // underlying's grid, which need not lower health.
            Err(e)
                if mode != OracleMode::Strict && is_soft(&e) && amount >= 0 && !config.link.is_active() =>
            {
                continue
            }
            Err(e) => {
                msg!("oracle of collateral {} ({}) failed", slot.collateral, info.key);
                return Err(e);
            }
        };
        if amount == 0 {
            continue;
        }
        let index = u16::from(slot.collateral);
        markets.push(CollateralMarket {
            index,
            price,
            conf,
            schedule: schedule(config, amount, false)?,
            link: if links { engine_link(config)? } else { None },
        });
        balances.push(Balance {
            collateral: index,
            amount: from_native(i128::from(amount), config.decimals).map_err(risk_error)?,
        });
    }
    xmargin_risk::trace::mark("inputs: collateral");
    let grouped = portfolio.positions_by_underlying().ok_or(XmarginError::UnknownInstrument)?;
    let used = health_underlyings(portfolio, &grouped, registry, links);
    let slots = grouped.count();
    let mut underlyings: Vec<MarkedUnderlying> = Vec::with_capacity(used.len());
    let mut positions: Vec<MarkedPosition> = Vec::with_capacity(slots);
    let mut instruments: Vec<(u16, u8)> = Vec::with_capacity(slots);
    if let Some(c) = cache.as_deref_mut() {
        c.entries.reserve(used.len());
    }
    let now = clock.unix_timestamp;
    let scale = InitialScale::of(registry)?;
    for &u in &used {
        // Adds the positions on `u`, whose underlying is already the last of `underlyings`
        // (pushed in place: a copy of the ~550-byte entry costs a few hundred compute units).
        let mut add =
            |underlying: &MarkedUnderlying, basis: &CurrentBasis, m: &MarketAccount| -> Result<()> {
                let data = &underlying.market;
                xmargin_risk::trace::mark("inputs: underlying data");
                for slot in grouped.of(portfolio, u) {
                    let p = push_marked_position(&mut positions, slot, m, data, basis, quote_decimals, now)?;
                    if slot.is_perp() {
                        let cash = perp_cash_sized(slot, p.size, m.funding_index_at(now)?, quote_decimals)?;
                        quote_amount = quote_amount.checked_add(cash).ok_or(XmarginError::RiskMath)?;
                    }
                    instruments.push((u, if slot.is_perp() { PERP_INSTRUMENT } else { slot.series }));
                }
                xmargin_risk::trace::mark("inputs: positions of one underlying");
                Ok(())
            };
        match &provided {
            Some(p) if p.market.index == u => {
                underlyings.push(MarkedUnderlying {
                    market: p.market,
                    policy: p.account.marks_policy(&scale)?,
                    stable_price: p.stable_price,
                });
                let underlying = underlyings.last().ok_or(XmarginError::RiskMath)?;
                add(underlying, &current_basis(registry, &p.market, &scale)?, p.account)?
            }
            _ => {
                let info = next.next().ok_or(XmarginError::MarketAccountsMismatch)?;
                let loader = AccountLoader::<MarketAccount>::try_from(info)?;
                let m = loader.load_checked()?;
                require!(
                    m.exchange == registry.exchange && u16::from(m.underlying) == u,
                    XmarginError::MarketAccountsMismatch
                );
                let oracle = next.next().ok_or(XmarginError::MarketAccountsMismatch)?;
                xmargin_risk::trace::mark("inputs: market account");
                // Used by reference: an entry is ~550 bytes, and each copy of it costs a few
                // hundred compute units on sBPF.
                if let Some(shared) = cache.as_deref().and_then(|c| c.find(u, info.key, oracle.key)) {
                    underlyings.push(shared.underlying);
                    let underlying = underlyings.last().ok_or(XmarginError::RiskMath)?;
                    add(underlying, &shared.basis, &m)?;
                    continue;
                }
                let (data, price) = underlying_market(registry, &m, oracle, clock).inspect_err(|_| {
                    msg!("oracle of underlying {} ({}) failed", u, oracle.key);
                })?;
                xmargin_risk::trace::mark("inputs: oracle and scenario");
                underlyings.push(MarkedUnderlying {
                    market: data,
                    policy: m.marks_policy(&scale)?,
                    stable_price: stable_price(&price)?,
                });
                let underlying = underlyings.last().ok_or(XmarginError::RiskMath)?;
                let basis = current_basis(registry, &underlying.market, &scale)?;
                add(underlying, &basis, &m)?;
                if let Some(c) = cache.as_deref_mut() {
                    c.entries.push(SharedUnderlying {
                        market_key: *info.key,
                        oracle_key: *oracle.key,
                        underlying: *underlying,
                        basis,
                    });
                }
            }
        }
    }
    xmargin_risk::trace::mark("inputs: underlyings and positions");
    require!(next.next().is_none(), XmarginError::OracleAccountsMismatch);
    // The quote market is always present: a liquidation may credit a portfolio with none.
    markets.push(CollateralMarket {
        index: 0,
        price: Fx::ONE,
        conf: Fx::ZERO,
        schedule: schedule(quote_config, quote_amount, true)?,
        link: None,
    });
    balances.push(Balance {
        collateral: 0,
        amount: from_native(i128::from(quote_amount), quote_decimals).map_err(risk_error)?,
    });
    let params = margin_params(registry, now, mode)?;
    xmargin_risk::trace::mark("inputs: quote and params");
    Ok(HealthInputs { markets, balances, underlyings, positions, instruments, now, params })
}
