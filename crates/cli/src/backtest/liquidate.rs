//! Bad debt under partial liquidation: a book opened at an hour with collateral equal to its
//! maintenance margin (the thinnest account the model lets exist) is followed bar by bar
//! over the liquidation horizon. At each bar's close, when its maintenance health (from
//! marks, as on-chain) is negative, a liquidator takes over the least number of lots that
//! restores the buffer (`xmargin_risk::liquidation`, the program's sizing), position by
//! position, at the mark less the discount — or, for a book holding spot collateral against
//! a quote liability, buys the least collateral that does (`collateral_liquidation_size`).
//! Bad debt is equity below zero: at a bar's worst intrabar price (no liquidation inside a
//! bar — pessimistic) or after liquidation could not restore it.
//!
//! A book may span several underlyings (a pair) and hold spot collateral, linked to its
//! underlying or not ([`Credits`]); its intrabar extremes are taken co-moving: every
//! series at its low, every series at its high, and the closes (mixing one leg's low with
//! the other's high would measure each leg's intrabar range, not the spread).
use anyhow::{anyhow, Result};
use xmargin_risk::bs::OptionKind;
use xmargin_risk::collateral::{Balance, CollateralLink, CollateralMarket, HaircutSchedule, Level};
use xmargin_risk::full::position_value;
use xmargin_risk::fx::from_native;
use xmargin_risk::grid::ScenarioParams;
use xmargin_risk::liquidation::{
    collateral_liquidation_size, discount_per_unit, liquidation_size, CollateralLiquidationTerms,
    LiquidationTerms,
};
use xmargin_risk::marks::{
    compute_marks, marked_health, marked_margin, MarkedPosition, MarkedUnderlying, MarksPolicy,
};
use xmargin_risk::offsets::OffsetTable;
use xmargin_risk::{Fx, InstrumentKind, MarginParams, MarginReport, Position, RiskError, UnderlyingMarket};

use super::data::Bar;

const HOUR: i64 = 3600;
/// Liquidation terms of the simulation: 1% of notional per unit, at most 10% of an option's
/// value (collateral: 1% of its value); restore maintenance health to 5% of the requirement;
/// lots of 0.001 units.
const DISCOUNT_RATE: f64 = 0.01;
const OPTION_DISCOUNT_CAP: f64 = 0.10;
const BUFFER: f64 = 0.05;
const LOT: f64 = 0.001;
/// Decimals of a spot collateral asset: one native unit is one `LOT`.
const SPOT_DECIMALS: u8 = 3;
/// Liquidation calls per bar (each takes one position or one collateral asset).
const CALLS_PER_BAR: usize = 8;
/// Collateral index of the quote asset; spot asset of underlying i is `1 + i`.
const QUOTE: u16 = 0;

/// Standalone haircut schedule of every spot collateral asset (the reference books' BTC:
/// 80% initial, 90% maintenance; liability 1.25 / 1.1).
pub const SPOT_SCHEDULE: HaircutSchedule = HaircutSchedule {
    initial_asset_weight: Fx::lit("0.8"),
    maintenance_asset_weight: Fx::lit("0.9"),
    initial_liability_weight: Fx::lit("1.25"),
    maintenance_liability_weight: Fx::lit("1.1"),
    tiers: [xmargin_risk::collateral::Tier {
        above: Fx::ZERO,
        initial_weight: Fx::ZERO,
        maintenance_weight: Fx::ZERO,
    }; xmargin_risk::collateral::MAX_TIERS],
    tier_count: 0,
};

fn fx(x: f64) -> Fx {
    Fx::from_num(x)
}

fn err(e: RiskError) -> anyhow::Error {
    anyhow!("risk engine: {e}")
}

/// The market at one bar: its close, the implied vol and the grid (the model's shock).
#[derive(Debug, Clone, Copy)]
pub struct BarMarket {
    pub bar: Bar,
    pub vol: f64,
    pub scenario: ScenarioParams,
}

/// A book's market at one bar: each underlying's (index i = position i), and the price bar
/// of each spot collateral asset (asset i is underlying i's spot; may be shorter).
#[derive(Debug, Clone)]
pub struct BookMarket {
    pub underlyings: Vec<BarMarket>,
    pub spot: Vec<Bar>,
}

/// Which of the engine's capital-efficiency credits a margin computation uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Credits {
    /// Correlation offset groups (local underlying indices).
    pub offsets: OffsetTable,
    /// Per underlying: its spot collateral linked with this basis haircut (initial,
    /// maintenance), or valued alone (`None`).
    pub links: Vec<Option<(Fx, Fx)>>,
    /// Calls and puts of one strike and expiry net their convexity add-ons.
    pub net_series: bool,
}

impl Credits {
    /// None of them: the engine before the credits.
    pub fn none() -> Credits {
        Credits { offsets: OffsetTable::NONE, links: Vec::new(), net_series: false }
    }

    fn params(&self) -> MarginParams {
        MarginParams::REFERENCE.with_offsets(self.offsets)
    }
}

/// What a book holds: positions (underlying index = position in the book's market) and
/// spot collateral units per underlying.
#[derive(Debug, Clone, Default)]
pub struct Holding {
    pub positions: Vec<Position>,
    pub spot: Vec<f64>,
}

/// The account: quote cash (perp cost bases included; negative: a liability), spot
/// collateral and positions (perps without entry).
struct Account {
    cash: f64,
    spot: Vec<f64>,
    positions: Vec<Position>,
}

/// A price of every series of a bar: its low, high or close.
#[derive(Debug, Clone, Copy)]
pub enum Corner {
    Low,
    High,
    Close,
}

fn at(bar: &Bar, c: Corner) -> f64 {
    match c {
        Corner::Low => bar.low,
        Corner::High => bar.high,
        Corner::Close => bar.close,
    }
}

/// Value of `holding` (spot collateral and positions; perps against their entry) with every
/// series at corner `c` of `m`'s bars, each underlying's implied vol from `m`.
pub fn value(holding: &Holding, m: &BookMarket, c: Corner, now: i64) -> f64 {
    positions_and_spot_value(&holding.positions, &holding.spot, m, c, now)
}

fn positions_and_spot_value(
    positions: &[Position],
    spot: &[f64],
    m: &BookMarket,
    c: Corner,
    now: i64,
) -> f64 {
    let spot: f64 = spot.iter().zip(&m.spot).map(|(units, bar)| units * at(bar, c)).sum();
    let positions: f64 = positions
        .iter()
        .map(|p| {
            let u = &m.underlyings[usize::from(p.instrument.underlying)];
            position_value(p, at(&u.bar, c), u.vol, now)
        })
        .sum();
    spot + positions
}

impl Account {
    fn equity(&self, m: &BookMarket, c: Corner, now: i64) -> f64 {
        self.cash + positions_and_spot_value(&self.positions, &self.spot, m, c, now)
    }
}

fn underlying(i: usize, m: &BarMarket) -> MarkedUnderlying {
    MarkedUnderlying {
        market: UnderlyingMarket {
            index: i as u16,
            spot: fx(m.bar.close),
            conf: Fx::ZERO,
            vol: fx(m.vol),
            scenario: m.scenario,
        },
        // Marks are recomputed at every close: no drift, no age.
        policy: MarksPolicy::new(MarksPolicy::MIN_DRIFT, MarksPolicy::MIN_AGE),
        stable_price: Fx::ZERO,
    }
}

fn underlyings(m: &BookMarket) -> Vec<MarkedUnderlying> {
    m.underlyings.iter().enumerate().map(|(i, u)| underlying(i, u)).collect()
}

fn marked(
    positions: &[Position],
    us: &[MarkedUnderlying],
    now: i64,
    credits: &Credits,
) -> Result<Vec<MarkedPosition>> {
    let params = credits.params();
    positions
        .iter()
        .map(|p| {
            let i = p.instrument.underlying;
            let u = us.get(usize::from(i)).ok_or_else(|| anyhow!("position on unknown underlying {i}"))?;
            let (marks, strike_expiry) = match p.instrument.kind {
                InstrumentKind::Perp => (None, None),
                kind => {
                    let kind = if kind == InstrumentKind::Call { OptionKind::Call } else { OptionKind::Put };
                    let m = compute_marks(
                        kind,
                        p.instrument.strike,
                        p.instrument.expiry,
                        &u.market,
                        now,
                        &params,
                        &u.policy,
                    );
                    let key = credits.net_series.then_some((p.instrument.strike, p.instrument.expiry));
                    (Some(m.map_err(err)?), key)
                }
            };
            Ok(MarkedPosition { underlying: i, size: p.size, marks, strike_expiry })
        })
        .collect()
}

/// The quote asset and each spot asset (linked per `credits`).
fn collateral(m: &BookMarket, credits: &Credits) -> Vec<CollateralMarket> {
    let quote = CollateralMarket {
        index: QUOTE,
        price: Fx::ONE,
        conf: Fx::ZERO,
        schedule: HaircutSchedule::flat(Fx::ONE, Fx::ONE, Fx::ONE, Fx::ONE),
        link: None,
    };
    let spot = m.spot.iter().enumerate().map(|(i, bar)| CollateralMarket {
        index: 1 + i as u16,
        price: fx(bar.close),
        conf: Fx::ZERO,
        schedule: SPOT_SCHEDULE,
        link: credits.links.get(i).copied().flatten().map(|(basis_initial, basis_maintenance)| {
            CollateralLink { underlying: i as u16, ratio: Fx::ONE, basis_initial, basis_maintenance }
        }),
    });
    std::iter::once(quote).chain(spot).collect()
}

fn balances(cash: f64, spot: &[f64]) -> Vec<Balance> {
    let spot = spot
        .iter()
        .enumerate()
        .filter(|(_, u)| **u != 0.0)
        .map(|(i, u)| Balance { collateral: 1 + i as u16, amount: fx(*u) });
    std::iter::once(Balance { collateral: QUOTE, amount: fx(cash) }).chain(spot).collect()
}

/// The engine's report of `holding` with `cash` at `m`'s closes (marks as on-chain).
pub fn report(holding: &Holding, cash: f64, m: &BookMarket, credits: &Credits) -> Result<MarginReport> {
    let now = m.underlyings.first().map_or(0, |u| u.bar.time) + HOUR;
    let us = underlyings(m);
    let marked = marked(&holding.positions, &us, now, credits)?;
    marked_margin(
        &marked,
        &balances(cash, &holding.spot),
        &collateral(m, credits),
        &us,
        now,
        &credits.params(),
    )
    .map_err(err)
}

/// The capital a book locks at maintenance: equity − maintenance health (the requirement
/// plus the collateral's haircuts; the quote cash is weighted 1 and does not matter).
pub fn locked(holding: &Holding, m: &BookMarket, credits: &Credits) -> Result<f64> {
    let r = report(holding, 0.0, m, credits)?;
    Ok((r.equity - r.maintenance_health).to_num())
}

/// One liquidation the liquidator may perform.
enum Plan {
    Position { index: usize, lots: i64, mark: Fx, discount: Fx },
    Collateral { index: usize, lots: i64, repay: Fx, discount: Fx },
}

/// Liquidates at `m`'s close until maintenance health is not negative or nothing can
/// help. Returns the discounts paid.
fn liquidate(account: &mut Account, m: &BookMarket, credits: &Credits) -> Result<f64> {
    let now = m.underlyings[0].bar.time + HOUR;
    let us = underlyings(m);
    let params = credits.params();
    let collateral = collateral(m, credits);
    let mut paid = 0.0;
    for _ in 0..CALLS_PER_BAR {
        let marked = marked(&account.positions, &us, now, credits)?;
        let balances = balances(account.cash, &account.spot);
        // Maintenance health alone first (the common case: nothing to do), the report only
        // when a liquidation needs its requirement.
        let health = marked_health(&marked, &balances, &collateral, &us, now, &params, Level::Maintenance)
            .map_err(err)?;
        if health >= Fx::ZERO {
            break;
        }
        let r = marked_margin(&marked, &balances, &collateral, &us, now, &params).map_err(err)?;
        let buffer = fx((BUFFER * r.maintenance_requirement.to_num::<f64>()).max(1e-6));
        // The liquidator's pick: the position or collateral whose plan leaves the best health.
        let mut best: Option<(Plan, Fx)> = None;
        let mut consider = |plan: Plan, after: Fx| {
            if best.as_ref().is_none_or(|b| after > b.1) {
                best = Some((plan, after));
            }
        };
        for (i, p) in marked.iter().enumerate() {
            let close = fx(m.underlyings[usize::from(p.underlying)].bar.close);
            let mark = p.marks.map_or(close, |k| k.greeks.price);
            let discount =
                discount_per_unit(p.marks.is_some(), close, mark, fx(DISCOUNT_RATE), fx(OPTION_DISCOUNT_CAP))
                    .map_err(err)?;
            let terms = LiquidationTerms {
                discount,
                buffer,
                buffer_fraction: Fx::ZERO,
                lot: fx(LOT),
                max_lots: i64::MAX,
                quote: QUOTE,
            };
            match liquidation_size(&marked, i, &balances, &collateral, &us, now, &params, terms) {
                Ok(plan) => consider(
                    Plan::Position { index: i, lots: plan.lots, mark: plan.mark, discount },
                    plan.health_after,
                ),
                Err(RiskError::LiquidationWouldNotImprove | RiskError::NothingToLiquidate) => {}
                Err(e) => return Err(err(e)),
            }
        }
        if account.cash < 0.0 {
            for (i, units) in account.spot.iter().enumerate() {
                if *units <= 0.0 {
                    continue;
                }
                let terms = CollateralLiquidationTerms {
                    asset: 1 + i as u16,
                    quote: QUOTE,
                    price: fx(m.spot[i].close),
                    discount_rate: fx(DISCOUNT_RATE),
                    buffer,
                    buffer_fraction: Fx::ZERO,
                    decimals: SPOT_DECIMALS,
                    max_lots: i64::MAX,
                };
                match collateral_liquidation_size(&marked, &balances, &collateral, &us, now, &params, terms) {
                    Ok(plan) => consider(
                        Plan::Collateral {
                            index: i,
                            lots: plan.lots,
                            repay: plan.repay,
                            discount: plan.discount,
                        },
                        plan.health_after,
                    ),
                    Err(RiskError::LiquidationWouldNotImprove | RiskError::NothingToLiquidate) => {}
                    Err(e) => return Err(err(e)),
                }
            }
        }
        match best {
            None => break,
            Some((Plan::Position { index: i, lots, mark, discount }, _)) => {
                let held = account.positions[i].size.abs().to_num::<f64>();
                let units = (lots as f64 * LOT).min(held);
                let sign = account.positions[i].size.to_num::<f64>().signum();
                account.cash += sign * units * mark.to_num::<f64>() - units * discount.to_num::<f64>();
                paid += units * discount.to_num::<f64>();
                let size = account.positions[i].size.to_num::<f64>() - sign * units;
                if lots as f64 * LOT >= held - LOT / 2.0 {
                    account.positions.remove(i);
                } else {
                    account.positions[i].size = fx(size);
                }
            }
            Some((Plan::Collateral { index: i, lots, repay, discount }, _)) => {
                let units = from_native(i128::from(lots), SPOT_DECIMALS).map_err(err)?.to_num::<f64>();
                account.spot[i] = (account.spot[i] - units).max(0.0);
                account.cash += repay.to_num::<f64>();
                paid += discount.to_num::<f64>();
            }
        }
    }
    Ok(paid)
}

/// What happened to one account over its path.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Outcome {
    /// Equity below zero (quote units, ≥ 0).
    pub bad_debt: f64,
    /// Bars at which a liquidation took place, and the discounts the account paid.
    pub liquidated_bars: usize,
    pub discounts: f64,
}

/// The outcome of `positions` (one underlying, index 0) opened at `open` with `collateral`
/// quote, followed over `path` (the bars of the horizon, each with the model's grid at that
/// hour). The single-underlying books of `replay.rs`: series margined alone.
pub fn follow(
    positions: &[Position],
    collateral: f64,
    open: &BarMarket,
    path: &[BarMarket],
) -> Result<Outcome> {
    let book = |m: &BarMarket| BookMarket { underlyings: vec![*m], spot: Vec::new() };
    let path: Vec<BookMarket> = path.iter().map(book).collect();
    let holding = Holding { positions: positions.to_vec(), spot: Vec::new() };
    follow_book(&holding, collateral, &book(open), &path, &Credits::none())
}

/// The outcome of `holding` opened at `open` with equity `collateral` (quote cash makes up
/// the difference, a liability when negative), margined with `credits`, followed over `path`.
pub fn follow_book(
    holding: &Holding,
    collateral: f64,
    open: &BookMarket,
    path: &[BookMarket],
    credits: &Credits,
) -> Result<Outcome> {
    let now = open.underlyings[0].bar.time + HOUR;
    // Perps without entry: their cost basis is in the cash, as in the program.
    let positions: Vec<Position> =
        holding.positions.iter().map(|p| Position { entry_price: Fx::ZERO, ..*p }).collect();
    let mut account = Account { cash: 0.0, spot: holding.spot.clone(), positions };
    account.cash = collateral - account.equity(open, Corner::Close, now);
    let mut out = Outcome::default();
    for m in path {
        let t = m.underlyings[0].bar.time + HOUR;
        let worst = [Corner::Low, Corner::High, Corner::Close]
            .iter()
            .map(|c| account.equity(m, *c, t))
            .fold(f64::INFINITY, f64::min);
        if worst < 0.0 {
            out.bad_debt = -worst;
            return Ok(out);
        }
        let paid = liquidate(&mut account, m, credits)?;
        if paid > 0.0 {
            out.liquidated_bars += 1;
            out.discounts += paid;
        }
        if account.positions.is_empty() && account.spot.iter().all(|u| *u <= 0.0) {
            break;
        }
    }
    Ok(out)
}
#[cfg(test)]
mod tests {
    use super::*;
    use xmargin_risk::Instrument;

    const T0: i64 = 1_700_000_000;

    fn bar(i: i64, close: f64, low: f64) -> BarMarket {
        let bar = Bar { time: T0 + i * HOUR, open: close, high: close.max(low), low, close };
        BarMarket { bar, vol: 0.6, scenario: ScenarioParams::REFERENCE }
    }

    fn perp(size: f64) -> Position {
        let instrument =
            Instrument { underlying: 0, kind: InstrumentKind::Perp, strike: Fx::ZERO, expiry: 0 };
        Position { instrument, size: fx(size), entry_price: fx(100.0) }
    }

    fn long_perp() -> Vec<Position> {
        vec![perp(1.0)]
    }

    fn book(m: BarMarket) -> BookMarket {
        BookMarket { underlyings: vec![m], spot: vec![m.bar] }
    }

    /// The maintenance requirement of one long perp at 100 (collateral of the thinnest
    /// account).
    fn maintenance() -> f64 {
        let holding = Holding { positions: long_perp(), spot: Vec::new() };
        locked(&holding, &book(bar(0, 100.0, 100.0)), &Credits::none()).unwrap()
    }

    #[test]
    fn flat_prices_need_no_liquidation() {
        let path: Vec<BarMarket> = (1..=24).map(|i| bar(i, 100.0, 100.0)).collect();
        // (The next f64 up: the requirement, rounded up by the 64-bit grid, need not be an f64.)
        let out = follow(&long_perp(), maintenance().next_up(), &bar(0, 100.0, 100.0), &path).unwrap();
        assert_eq!(out, Outcome::default());
    }

    #[test]
    fn a_gap_beyond_the_margin_is_bad_debt() {
        // One bar's low 50% below: the loss (50) exceeds the collateral before any close.
        let m = maintenance();
        assert!(m < 50.0);
        let out = follow(&long_perp(), m, &bar(0, 100.0, 100.0), &[bar(1, 60.0, 50.0)]).unwrap();
        assert!((out.bad_debt - (50.0 - m)).abs() < 1e-6, "{out:?}");
        assert_eq!(out.liquidated_bars, 0);
    }

    #[test]
    fn a_steady_decline_is_liquidated_in_steps_without_bad_debt() {
        // −1.5% per hour for a day: each close finds the account below maintenance, and the
        // liquidator takes what restores the buffer; equity never goes below zero.
        let path: Vec<BarMarket> = (1..=24)
            .map(|i| {
                let p = 100.0 * 0.985f64.powi(i as i32);
                bar(i, p, p)
            })
            .collect();
        let out = follow(&long_perp(), maintenance(), &bar(0, 100.0, 100.0), &path).unwrap();
        assert_eq!(out.bad_debt, 0.0);
        assert!(out.liquidated_bars >= 2, "partial, in several steps: {out:?}");
        assert!(out.discounts > 0.0 && out.discounts < 1.0, "1% of notional at most: {out:?}");
    }

    #[test]
    fn a_linked_carry_locks_its_basis_haircut_and_an_unlinked_one_its_haircut_and_perp() {
        let carry = Holding { positions: vec![perp(-1.0)], spot: vec![1.0] };
        let m = book(bar(0, 100.0, 100.0));
        let linked = Credits { links: vec![Some((fx(0.02), fx(0.01)))], ..Credits::none() };
        // Net delta zero: no requirement; the collateral loses only the 1% basis haircut.
        assert!((locked(&carry, &m, &linked).unwrap() - 1.0).abs() < 1e-9);
        // Alone: 10% haircut plus the short perp's 15.75% (the weighted extreme move), the
        // requirement through the 64-bit grid (`grid64.rs`): never below, above by at most
        // 4·10⁻⁶ of the largest loss coefficient (Δ·S = 100 here).
        let alone = locked(&carry, &m, &Credits::none()).unwrap();
        assert!((25.75 - 1e-9..=25.75 + 4e-4).contains(&alone), "{alone}");
    }

    #[test]
    fn spot_collateral_against_a_quote_liability_is_sold_in_a_decline() {
        // 1 unit of spot (90% maintenance weight) borrowed against down to zero health: a
        // steady decline is met by selling collateral to repay the liability.
        let spot = Holding { positions: Vec::new(), spot: vec![1.0] };
        let open = book(bar(0, 100.0, 100.0));
        let m = locked(&spot, &open, &Credits::none()).unwrap();
        assert!((m - 10.0).abs() < 1e-9);
        let path: Vec<BookMarket> = (1..=24)
            .map(|i| {
                let p = 100.0 * 0.985f64.powi(i as i32);
                book(bar(i, p, p))
            })
            .collect();
        let out = follow_book(&spot, m, &open, &path, &Credits::none()).unwrap();
        assert_eq!(out.bad_debt, 0.0);
        assert!(out.liquidated_bars >= 2 && out.discounts > 0.0, "{out:?}");
    }
}
