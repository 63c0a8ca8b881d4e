//! Bad debt under partial liquidation: a book opened at an hour with collateral equal to its
//! maintenance margin (the thinnest account the model lets exist) is followed bar by bar
//! over the liquidation horizon. At each bar's close, when its maintenance health (from
//! marks, as on-chain) is negative, a liquidator takes over the least number of lots that
//! restores the buffer (`xmargin_risk::liquidation`, the program's sizing), position by
//! position, at the mark less the discount. Bad debt is equity below zero: at a bar's worst
//! intrabar price (no liquidation inside a bar — pessimistic) or after liquidation could not
//! restore it.
use anyhow::{anyhow, Result};
use xmargin_risk::bs::OptionKind;
use xmargin_risk::collateral::{Balance, CollateralMarket, HaircutSchedule, Level};
use xmargin_risk::full::position_value;
use xmargin_risk::fx::Checked;
use xmargin_risk::grid::ScenarioParams;
use xmargin_risk::liquidation::{discount_per_unit, liquidation_size, LiquidationTerms};
use xmargin_risk::margin::health_from;
use xmargin_risk::marks::{compute_marks, marked_books, MarkedPosition, MarkedUnderlying, MarksPolicy};
use xmargin_risk::{Fx, InstrumentKind, MarginParams, Position, RiskError, UnderlyingMarket};

use super::data::Bar;

const HOUR: i64 = 3600;
const PARAMS: MarginParams = MarginParams::REFERENCE;
/// Liquidation terms of the simulation: 1% of notional per unit, at most 10% of an option's
/// value; restore maintenance health to 5% of the requirement; lots of 0.001 units.
const DISCOUNT_RATE: f64 = 0.01;
const OPTION_DISCOUNT_CAP: f64 = 0.10;
const BUFFER: f64 = 0.05;
const LOT: f64 = 0.001;
/// Liquidation calls per bar (each takes one position).
const CALLS_PER_BAR: usize = 8;

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

/// The account: quote cash (perp cost bases included) and positions (perps without entry).
struct Account {
    cash: f64,
    positions: Vec<Position>,
}

impl Account {
    fn equity(&self, price: f64, vol: f64, now: i64) -> f64 {
        self.cash + self.positions.iter().map(|p| position_value(p, price, vol, now)).sum::<f64>()
    }
}

fn underlying(m: &BarMarket) -> MarkedUnderlying {
    MarkedUnderlying {
        market: UnderlyingMarket {
            index: 0,
            spot: fx(m.bar.close),
            conf: Fx::ZERO,
            vol: fx(m.vol),
            scenario: m.scenario,
        },
        // Marks are recomputed at every close: no drift, no age.
        policy: MarksPolicy { max_drift: MarksPolicy::MIN_DRIFT, max_age: MarksPolicy::MIN_AGE },
        stable_price: Fx::ZERO,
    }
}

fn marked(positions: &[Position], u: &MarkedUnderlying, now: i64) -> Result<Vec<MarkedPosition>> {
    positions
        .iter()
        .map(|p| {
            let marks = match p.instrument.kind {
                InstrumentKind::Perp => None,
                kind => {
                    let kind = if kind == InstrumentKind::Call { OptionKind::Call } else { OptionKind::Put };
                    let m = compute_marks(
                        kind,
                        p.instrument.strike,
                        p.instrument.expiry,
                        &u.market,
                        now,
                        &PARAMS,
                        &u.policy,
                    );
                    Some(m.map_err(err)?)
                }
            };
            Ok(MarkedPosition { underlying: 0, size: p.size, marks, strike_expiry: None })
        })
        .collect()
}

fn quote() -> [CollateralMarket; 1] {
    [CollateralMarket {
        index: 0,
        price: Fx::ONE,
        conf: Fx::ZERO,
        schedule: HaircutSchedule::flat(Fx::ONE, Fx::ONE, Fx::ONE, Fx::ONE),
        link: None,
    }]
}

/// Liquidates at `m`'s close until maintenance health is not negative or no position can
/// help. Returns the discounts paid.
fn liquidate(account: &mut Account, m: &BarMarket) -> Result<f64> {
    let now = m.bar.time + HOUR;
    let u = [underlying(m)];
    let mut paid = 0.0;
    for _ in 0..CALLS_PER_BAR {
        let marked = marked(&account.positions, &u[0], now)?;
        let balances = [Balance { collateral: 0, amount: fx(account.cash) }];
        // One netting pass: the books give both the value and the requirement.
        let (mut value, mut requirement) = (Fx::ZERO, Fx::ZERO);
        for book in marked_books(&marked, &u, now).map_err(err)? {
            value = value.add_c(book.exposure.value).map_err(err)?;
            requirement = requirement
                .add_c(book.requirement(&PARAMS, Level::Maintenance).map_err(err)?.requirement)
                .map_err(err)?;
        }
        let health = health_from(value, requirement, &balances, &quote(), Level::Maintenance).map_err(err)?;
        if health >= Fx::ZERO {
            break;
        }
        let buffer = fx((BUFFER * requirement.to_num::<f64>()).max(1e-6));
        // The liquidator's pick: the position whose plan leaves the best health.
        let mut best: Option<(usize, xmargin_risk::liquidation::LiquidationPlan, Fx)> = None;
        for (i, p) in marked.iter().enumerate() {
            let mark = p.marks.map_or(fx(m.bar.close), |k| k.greeks.price);
            let discount = discount_per_unit(
                p.marks.is_some(),
                fx(m.bar.close),
                mark,
                fx(DISCOUNT_RATE),
                fx(OPTION_DISCOUNT_CAP),
            )
            .map_err(err)?;
            let terms = LiquidationTerms {
                discount,
                buffer,
                buffer_fraction: Fx::ZERO,
                lot: fx(LOT),
                max_lots: i64::MAX,
                quote: 0,
            };
            match liquidation_size(&marked, i, &balances, &quote(), &u, now, &PARAMS, terms) {
                Ok(plan) if best.as_ref().is_none_or(|b| plan.health_after > b.1.health_after) => {
                    best = Some((i, plan, discount))
                }
                Ok(_) | Err(RiskError::LiquidationWouldNotImprove | RiskError::NothingToLiquidate) => {}
                Err(e) => return Err(err(e)),
            }
        }
        let Some((i, plan, discount)) = best else { break };
        let held = account.positions[i].size.abs().to_num::<f64>();
        let units = (plan.lots as f64 * LOT).min(held);
        let sign = account.positions[i].size.to_num::<f64>().signum();
        account.cash += sign * units * plan.mark.to_num::<f64>() - units * discount.to_num::<f64>();
        paid += units * discount.to_num::<f64>();
        let size = account.positions[i].size.to_num::<f64>() - sign * units;
        if plan.lots as f64 * LOT >= held - LOT / 2.0 {
            account.positions.remove(i);
        } else {
            account.positions[i].size = fx(size);
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

/// The outcome of `positions` opened at `open` with `collateral`, followed over `path` (the
/// bars of the horizon, each with the model's grid at that hour).
pub fn follow(
    positions: &[Position],
    collateral: f64,
    open: &BarMarket,
    path: &[BarMarket],
) -> Result<Outcome> {
    let now = open.bar.time + HOUR;
    // Perps without entry: their cost basis is in the cash, as in the program.
    let positions: Vec<Position> =
        positions.iter().map(|p| Position { entry_price: Fx::ZERO, ..*p }).collect();
    let mut account = Account { cash: 0.0, positions };
    account.cash = collateral - account.equity(open.bar.close, open.vol, now);
    let mut out = Outcome::default();
    for m in path {
        let t = m.bar.time + HOUR;
        let worst = [m.bar.low, m.bar.high, m.bar.close]
            .iter()
            .map(|price| account.equity(*price, m.vol, t))
            .fold(f64::INFINITY, f64::min);
        if worst < 0.0 {
            out.bad_debt = -worst;
            return Ok(out);
        }
        let paid = liquidate(&mut account, m)?;
        if paid > 0.0 {
            out.liquidated_bars += 1;
            out.discounts += paid;
        }
        if account.positions.is_empty() {
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

    fn long_perp() -> Vec<Position> {
        let instrument =
            Instrument { underlying: 0, kind: InstrumentKind::Perp, strike: Fx::ZERO, expiry: 0 };
        vec![Position { instrument, size: Fx::ONE, entry_price: fx(100.0) }]
    }

    /// The maintenance requirement of one long perp at 100 (collateral of the thinnest
    /// account).
    fn maintenance() -> f64 {
        let u = [underlying(&bar(0, 100.0, 100.0))];
        let marked = marked(&long_perp(), &u[0], T0 + HOUR).unwrap();
        let books = marked_books(&marked, &u, T0 + HOUR).unwrap();
        books[0].requirement(&PARAMS, Level::Maintenance).unwrap().requirement.to_num()
    }

    #[test]
    fn flat_prices_need_no_liquidation() {
        let path: Vec<BarMarket> = (1..=24).map(|i| bar(i, 100.0, 100.0)).collect();
        let out = follow(&long_perp(), maintenance(), &bar(0, 100.0, 100.0), &path).unwrap();
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
}
