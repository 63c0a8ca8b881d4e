//! Hour-by-hour replay of one underlying's price path: margin per book and model at each
//! hour, against the worst loss over the following liquidation horizon.
use anyhow::{anyhow, Result};
use xmargin_risk::full::{bs, position_value};
use xmargin_risk::grid::ScenarioParams;
use xmargin_risk::margin::requirements;
use xmargin_risk::vol::{update, VolParams, VolState};
use xmargin_risk::{Fx, Instrument, InstrumentKind, MarginParams, Market, Position, UnderlyingMarket};

use super::data::Bar;
use super::liquidate::{follow, BarMarket};
use super::stats::{Tally, PRE_WINDOW_SECS};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// The reference books, rebuilt at the current price every hour (one unit of underlying
/// per leg; options 30-day unless stated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
pub enum Book {
    LongPerp,
    ShortPerp,
    ShortStrangle,
    HedgedStraddle,
    CoveredCall,
    Calendar,
}

pub const BOOKS: [Book; 6] = [
    Book::LongPerp,
    Book::ShortPerp,
    Book::ShortStrangle,
    Book::HedgedStraddle,
    Book::CoveredCall,
    Book::Calendar,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Model {
    /// The reference grid: ±15% price shocks.
    Static,
    /// The reference grid with the largest price shock from the volatility estimator.
    Adaptive,
    /// Static grid, every position margined alone and the requirements summed.
    Isolated,
}

pub const MODELS: [Model; 3] = [Model::Static, Model::Adaptive, Model::Isolated];

fn fx(x: f64) -> Fx {
    Fx::from_num(x)
}

fn perp(size: f64, entry: f64) -> Position {
    Position {
        instrument: Instrument { underlying: 0, kind: InstrumentKind::Perp, strike: Fx::ZERO, expiry: 0 },
        size: fx(size),
        entry_price: fx(entry),
    }
}

fn option(kind: InstrumentKind, strike: f64, expiry: i64, size: f64) -> Position {
    Position {
        instrument: Instrument { underlying: 0, kind, strike: fx(strike.round()), expiry },
        size: fx(size),
        entry_price: Fx::ZERO,
    }
}

/// The book's positions at spot `s`, time `now`, implied vol `vol`; and its notional.
pub fn positions(book: Book, s: f64, now: i64, vol: f64) -> (Vec<Position>, f64) {
    let m30 = now + 30 * DAY;
    let (call, put) = (InstrumentKind::Call, InstrumentKind::Put);
    match book {
        Book::LongPerp => (vec![perp(1.0, s)], s),
        Book::ShortPerp => (vec![perp(-1.0, s)], s),
        Book::ShortStrangle => {
            (vec![option(call, s * 1.15, m30, -1.0), option(put, s * 0.85, m30, -1.0)], 2.0 * s)
        }
        Book::HedgedStraddle => {
            let t = 30.0 / 365.0;
            let k = s.round();
            let delta = bs(true, s, k, vol, t).1 + bs(false, s, k, vol, t).1;
            (
                vec![option(call, s, m30, 1.0), option(put, s, m30, 1.0), perp(-delta, s)],
                (2.0 + delta.abs()) * s,
            )
        }
        Book::CoveredCall => (vec![perp(1.0, s), option(call, s * 1.10, m30, -1.0)], 2.0 * s),
        Book::Calendar => {
            (vec![option(call, s, now + 7 * DAY, -1.0), option(call, s, now + 60 * DAY, 1.0)], 2.0 * s)
        }
    }
}

/// The maintenance grid of `model` when the estimator's shock is `shock`.
pub(crate) fn scenario(model: Model, shock: Fx) -> ScenarioParams {
    let mut scenario = ScenarioParams::REFERENCE;
    if model == Model::Adaptive {
        scenario.max_price_shock = shock;
    }
    scenario
}

/// Maintenance requirement of `positions` under `model`.
pub fn margin(model: Model, positions: &[Position], s: f64, vol: f64, now: i64, shock: Fx) -> Result<f64> {
    let scenario = scenario(model, shock);
    let u = [UnderlyingMarket { index: 0, spot: fx(s), conf: Fx::ZERO, vol: fx(vol), scenario }];
    let market = Market { now, underlyings: &u };
    let err = |e| anyhow!("risk engine: {e}");
    let params = MarginParams::REFERENCE;
    if model == Model::Isolated {
        let mut total = 0.0;
        for p in positions {
            total += requirements(std::slice::from_ref(p), &market, &params).map_err(err)?.1.to_num::<f64>();
        }
        return Ok(total);
    }
    Ok(requirements(positions, &market, &params).map_err(err)?.1.to_num())
}

/// Worst loss of the book over the bars in (now, now + horizon]: every bar's high and low,
/// options fully revalued at the remaining time, implied vol unchanged.
pub fn horizon_loss(positions: &[Position], s: f64, vol: f64, now: i64, future: &[Bar]) -> f64 {
    let value = |price: f64, t: i64| positions.iter().map(|p| position_value(p, price, vol, t)).sum::<f64>();
    let start = value(s, now);
    let mut worst: f64 = 0.0;
    for bar in future {
        let t = bar.time + HOUR;
        for price in [bar.low, bar.high] {
            worst = worst.max(start - value(price, t));
        }
    }
    worst
}

/// Implied vol used to value options: the estimator's long σ, bounded to [30%, 200%].
pub fn implied_vol(state: &VolState) -> Result<f64> {
    Ok(state.sigma_long().map_err(|e| anyhow!("{e}"))?.to_num::<f64>().clamp(0.3, 2.0))
}

/// Tallies per model, and every observation.
pub type Replay = (Vec<(Model, Tally)>, Vec<Point>);

/// One observation: for chart and JSON output.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Point {
    pub time: i64,
    pub price: f64,
    pub book: Book,
    pub model: Model,
    pub margin: f64,
    pub loss: f64,
    pub notional: f64,
}

/// Replays `[start, end)`: the estimator is fed every bar from `bars[0]` on (warm-up), and
/// each hour of the window with a full horizon ahead is evaluated. Returns tallies per model
/// and the observations.
pub fn replay(bars: &[Bar], start: i64, end: i64, params: &VolParams) -> Result<Replay> {
    replay_books(bars, start, end, params, &BOOKS)
}

/// [`replay`] restricted to `books`.
pub fn replay_books(
    bars: &[Bar],
    start: i64,
    end: i64,
    params: &VolParams,
    books: &[Book],
) -> Result<Replay> {
    replay_models(bars, start, end, params, books, &MODELS, true)
}

/// [`replay_books`] restricted to `models` (the calibration sweep replays the adaptive model
/// alone: the same computation per model, a third of the work), and without the bad-debt
/// replay (`liquidate.rs`, most of the work) unless `bad_debt`: the tallies' bad debt is then
/// `None`, every other figure the same.
pub fn replay_models(
    bars: &[Bar],
    start: i64,
    end: i64,
    params: &VolParams,
    books: &[Book],
    models: &[Model],
    bad_debt: bool,
) -> Result<Replay> {
    let horizon = params.horizon_secs;
    // The estimator over every bar first: implied vol and adaptive shock at each close.
    let mut state = VolState::new(fx(0.6), params).map_err(|e| anyhow!("{e}"))?;
    let mut estimates: Vec<(f64, Fx)> = Vec::with_capacity(bars.len());
    for bar in bars {
        state = update(&state, fx(bar.close), bar.time + HOUR, params).map_err(|e| anyhow!("{e}"))?;
        estimates.push((implied_vol(&state)?, state.shock));
    }
    let mut tallies: Vec<(Model, Tally)> = models.iter().map(|m| (*m, Tally::default())).collect();
    let mut points = Vec::new();
    for (i, bar) in bars.iter().enumerate() {
        let now = bar.time + HOUR; // the bar's close
        let (vol, shock) = estimates[i];
        if bar.time >= start - PRE_WINDOW_SECS && bar.time < start {
            // Before the window: margins only, for the procyclicality metrics.
            for (b, &book) in books.iter().enumerate() {
                let (pos, notional) = positions(book, bar.close, now, vol);
                for (model, tally) in tallies.iter_mut() {
                    let m = margin(*model, &pos, bar.close, vol, now, shock)?;
                    tally.record(b, now, m, notional, false);
                }
            }
        }
        if bar.time < start || bar.time >= end {
            continue;
        }
        let ahead = bars[i + 1..].iter().take_while(|b| b.time + HOUR <= now + horizon).count();
        let future = &bars[i + 1..i + 1 + ahead];
        if future.last().is_none_or(|b| b.time + HOUR < now + horizon) {
            continue; // not a full horizon of data ahead
        }
        for (b, &book) in books.iter().enumerate() {
            let (pos, notional) = positions(book, bar.close, now, vol);
            let loss = horizon_loss(&pos, bar.close, vol, now, future);
            for (model, tally) in tallies.iter_mut() {
                let m = margin(*model, &pos, bar.close, vol, now, shock)?;
                // Bad debt under partial liquidation, for the portfolio-margin models.
                let debt = if *model == Model::Isolated || !bad_debt {
                    None
                } else {
                    let at = |j: usize| BarMarket {
                        bar: bars[j],
                        vol: estimates[j].0,
                        scenario: scenario(*model, estimates[j].1),
                    };
                    let path: Vec<BarMarket> = (i + 1..i + 1 + ahead).map(at).collect();
                    Some(follow(&pos, m, &at(i), &path)?.bad_debt)
                };
                tally.add(m, loss, notional, debt);
                tally.record(b, now, m, notional, true);
                points.push(Point {
                    time: now,
                    price: bar.close,
                    book,
                    model: *model,
                    margin: m,
                    loss,
                    notional,
                });
            }
        }
    }
    Ok((tallies, points))
}
