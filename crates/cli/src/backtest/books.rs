//! `xmargin backtest --books`: multi-asset books that use the engine's capital-efficiency
//! credits (collateral linked to its underlying, correlation offsets across underlyings,
//! conversions netted per strike and expiry), replayed hour by hour over the crash windows
//! **with and without the credits**, side by side per book.
//!
//! Every hour of a window each book is rebuilt at the current prices (100,000 USD on its
//! first leg) and margined from marks as on-chain; its margin is the capital it locks at
//! maintenance (equity − maintenance health: the requirement plus the collateral's
//! haircuts). A breach is a loss over the next horizon above that margin; bad debt comes
//! from the liquidation replay (`liquidate.rs`: the account opened at zero maintenance
//! health, quote cash making up the difference — a liability against spot collateral —
//! partially liquidated at every close).
//!
//! Prices: each underlying from its first hourly file covering the window (the perpetual's,
//! else spot's, as the single-underlying backtest); spot collateral from a spot hourly file
//! when one covers the window (the real perp/spot basis), else from the underlying's own
//! file (no basis: said in the `prices` column). A book's series are joined on timestamps;
//! a window where one of its underlyings has no file is skipped, and listed.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use xmargin_risk::offsets::{OffsetGroup, OffsetTable};
use xmargin_risk::reference::{LINK_BASIS_HAIRCUT, OFFSET_GROUPS};
use xmargin_risk::vol::{update, VolParams, VolState};
use xmargin_risk::{Fx, Instrument, InstrumentKind, Position};

use super::data::{self, Bar};
use super::liquidate::{follow_book, locked, value, BarMarket, BookMarket, Corner, Credits, Holding};
use super::replay::{implied_vol, scenario, Model};
use super::stats::{Summary, Tally, PRE_WINDOW_SECS};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// Quote notional of a book's first leg (sizes in whole lots of 0.001 stay meaningful for
/// every underlying).
pub const NOTIONAL: f64 = 100_000.0;
/// Days of prices fed to the estimator before a window starts (as `mod.rs`).
const WARMUP_DAYS: i64 = 30;
/// Hourly joint returns needed before a window to estimate a pair's β from them; otherwise
/// the 4-hour spot files over `BETA_4H_DAYS` are used.
const BETA_MIN_HOURS: usize = 7 * 24;
const BETA_4H_DAYS: i64 = 90;

/// The spot collateral basis haircut (initial, maintenance) a link of `underlying` gets in
/// the reference calibration, or `None`: not linked.
///
/// BTC and ETH: `reference::LINK_BASIS_HAIRCUT`. SOL: not linked — `xmargin calibrate`
/// finds the SOL perpetual/spot basis moving 24% (closes) within one day in the FTX week
/// and 12% in May 2021, so a haircut that covers it (30% with the margin) charges a
/// carry more than the standalone haircut plus the perp's requirement: a link would only
/// cost. Governance sets the haircut per link; this is the reference's choice.
pub fn reference_link(underlying: &str) -> Option<(Fx, Fx)> {
    match underlying {
        "BTC" | "ETH" => Some(LINK_BASIS_HAIRCUT),
        _ => None,
    }
}

/// The book shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum BookKind {
    /// Spot collateral (linked) and a short perp of the same size.
    CashAndCarry,
    /// Long the first underlying's perp, short the second's, β-matched in notional.
    Pair,
    /// Spot collateral (linked) and a short 30-day 110% call of the same size.
    CoveredCallSpot,
    /// Long call and short put of one 30-day at-the-money strike, short perp: a forward
    /// against the perp.
    Conversion,
}

/// One book: its shape and underlyings (a pair: long, short).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    pub kind: BookKind,
    pub underlyings: Vec<String>,
}

impl Book {
    pub fn name(&self) -> String {
        let u = &self.underlyings;
        match self.kind {
            BookKind::CashAndCarry => format!("carry {}", u[0]),
            BookKind::Pair => format!("long {}/short {}", u[0], u[1]),
            BookKind::CoveredCallSpot => format!("covered call {} spot", u[0]),
            BookKind::Conversion => format!("conversion {}", u[0]),
        }
    }

    /// Whether the book holds spot collateral.
    fn holds_spot(&self) -> bool {
        matches!(self.kind, BookKind::CashAndCarry | BookKind::CoveredCallSpot)
    }

    /// The credit the book gets from `with` (a label), or `None`.
    pub fn credit(&self, with: &Credits) -> Option<String> {
        let pct = |x: Fx| x.to_num::<f64>() * 100.0;
        match self.kind {
            BookKind::CashAndCarry | BookKind::CoveredCallSpot => with
                .links
                .first()
                .copied()
                .flatten()
                .map(|(i, m)| format!("link, basis {:.1}%/{:.1}%", pct(i), pct(m))),
            BookKind::Pair => with
                .offsets
                .groups()
                .first()
                .filter(|g| g.credit > Fx::ZERO)
                .map(|g| format!("offset ρ {:.2}", g.credit.to_num::<f64>())),
            BookKind::Conversion => with.net_series.then(|| "series netting".to_string()),
        }
    }
}

/// The pairs, in the order.
pub const PAIRS: [(&str, &str); 3] = [("BTC", "ETH"), ("BTC", "SOL"), ("ETH", "SOL")];

/// Every book over `underlyings`: a carry, a covered call and a conversion per underlying;
/// each pair among them in both directions.
pub fn all_books(underlyings: &[String]) -> Vec<Book> {
    let book = |kind, u: &[&str]| Book { kind, underlyings: u.iter().map(|s| s.to_string()).collect() };
    let mut out = Vec::new();
    for u in underlyings {
        out.push(book(BookKind::CashAndCarry, &[u]));
    }
    for (a, b) in PAIRS {
        if underlyings.iter().any(|u| u == a) && underlyings.iter().any(|u| u == b) {
            out.push(book(BookKind::Pair, &[a, b]));
            out.push(book(BookKind::Pair, &[b, a]));
        }
    }
    for u in underlyings {
        out.push(book(BookKind::CoveredCallSpot, &[u]));
    }
    for u in underlyings {
        out.push(book(BookKind::Conversion, &[u]));
    }
    out
}

/// The reference calibration's credits for a book over `underlyings` (local indices).
pub fn reference_credits(underlyings: &[String]) -> Result<Credits> {
    let mut groups = Vec::new();
    for (members, rho) in OFFSET_GROUPS {
        let local: Vec<u16> = underlyings
            .iter()
            .enumerate()
            .filter(|(_, u)| members.contains(&u.as_str()))
            .map(|(i, _)| i as u16)
            .collect();
        if local.len() >= 2 {
            groups.push(OffsetGroup::new(&local, *rho).map_err(|e| anyhow!("offset group: {e}"))?);
        }
    }
    Ok(Credits {
        offsets: OffsetTable::new(&groups).map_err(|e| anyhow!("offset table: {e}"))?,
        links: underlyings.iter().map(|u| reference_link(u)).collect(),
        net_series: true,
    })
}

/// Credits of a pair with offset credit `rho` (and nothing else).
pub fn pair_credits(rho: f64) -> Result<Credits> {
    let group = OffsetGroup::new(&[0, 1], Fx::from_num(rho)).map_err(|e| anyhow!("offset group: {e}"))?;
    Ok(Credits {
        offsets: OffsetTable::new(&[group]).map_err(|e| anyhow!("offset table: {e}"))?,
        ..Credits::none()
    })
}

/// The hourly price files of a data directory, loaded once.
pub struct Prices {
    pub dir: PathBuf,
    /// (underlying, file name, bars), in `candidates` order per underlying.
    files: Vec<(String, String, Vec<Bar>)>,
    four_hour: HashMap<String, Option<Vec<Bar>>>,
}

/// `bars` start inside the window's first day and reach a day past its end (the rule of
/// the single-underlying backtest: BTC's hourly data starts 2020-03-11 12:00).
fn covers(bars: &[Bar], start: i64, end: i64) -> bool {
    bars.first().is_some_and(|f| f.time < start + DAY)
        && bars.last().is_some_and(|l| l.time >= end + DAY - HOUR)
}

impl Prices {
    pub fn load(dir: &Path, underlyings: &[String]) -> Result<Prices> {
        let mut files = Vec::new();
        for u in underlyings {
            for path in super::candidates(dir, u) {
                let name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                let mut bars = data::load(&path)?;
                data::clip_bad_prints(&name, &mut bars)?;
                files.push((u.clone(), name, bars));
            }
        }
        Ok(Prices { dir: dir.to_path_buf(), files, four_hour: HashMap::new() })
    }

    /// The underlying's price series for the window: its first hourly file covering it.
    pub fn primary(&self, u: &str, start: i64, end: i64) -> Option<(&str, &[Bar])> {
        self.files
            .iter()
            .find(|(x, _, b)| x == u && covers(b, start, end))
            .map(|(_, f, b)| (f.as_str(), b.as_slice()))
    }

    /// A spot hourly file covering the window, if any.
    pub fn spot(&self, u: &str, start: i64, end: i64) -> Option<(&str, &[Bar])> {
        self.files
            .iter()
            .find(|(x, f, b)| x == u && f.contains("_spot") && covers(b, start, end))
            .map(|(_, f, b)| (f.as_str(), b.as_slice()))
    }

    /// A named file of the underlying (e.g. `btc_usd_1h.csv`).
    pub fn file(&self, u: &str, name: &str) -> Option<&[Bar]> {
        self.files.iter().find(|(x, f, _)| x == u && f == name).map(|(_, _, b)| b.as_slice())
    }

    /// The 4-hour spot file of `u` (`{u}_usd_4h_spot.csv`), loaded on first use.
    pub fn four_hour(&mut self, u: &str) -> Result<Option<&[Bar]>> {
        if !self.four_hour.contains_key(u) {
            let path = self.dir.join(format!("{}_usd_4h_spot.csv", u.to_lowercase()));
            let bars = if path.exists() { Some(data::load(&path)?) } else { None };
            self.four_hour.insert(u.to_string(), bars);
        }
        Ok(self.four_hour.get(u).and_then(|b| b.as_deref()))
    }
}

/// Rows of `series` at the timestamps present in all of them, with `from ≤ time < to`.
pub fn join(series: &[&[Bar]], from: i64, to: i64) -> (Vec<i64>, Vec<Vec<Bar>>) {
    let mut idx: Vec<usize> = series.iter().map(|s| s.partition_point(|b| b.time < from)).collect();
    let mut times = Vec::new();
    let mut out: Vec<Vec<Bar>> = vec![Vec::new(); series.len()];
    'outer: loop {
        // The latest time among the current heads; every series advances to it.
        let mut t = i64::MIN;
        for (s, i) in series.iter().zip(&idx) {
            match s.get(*i) {
                Some(b) if b.time < to => t = t.max(b.time),
                _ => break 'outer,
            }
        }
        let mut all = true;
        for (s, i) in series.iter().zip(idx.iter_mut()) {
            *i += s[*i..].partition_point(|b| b.time < t);
            all &= s.get(*i).is_some_and(|b| b.time == t);
        }
        if all {
            times.push(t);
            for (k, (s, i)) in series.iter().zip(idx.iter_mut()).enumerate() {
                out[k].push(s[*i]);
                *i += 1;
            }
        }
    }
    (times, out)
}

/// Log returns of two joined series at consecutive rows `step` seconds apart.
pub fn joint_returns(times: &[i64], a: &[Bar], b: &[Bar], step: i64) -> Vec<(i64, f64, f64)> {
    (1..times.len())
        .filter(|&i| times[i] - times[i - 1] == step)
        .map(|i| (times[i], (a[i].close / a[i - 1].close).ln(), (b[i].close / b[i - 1].close).ln()))
        .collect()
}

/// Pearson correlation and the regression slope of x on y (cov / var y).
pub fn correlation_beta(r: &[(i64, f64, f64)]) -> (f64, f64) {
    let n = r.len().max(1) as f64;
    let (mx, my) = (r.iter().map(|x| x.1).sum::<f64>() / n, r.iter().map(|x| x.2).sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (_, x, y) in r {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxy / (sxx * syy).sqrt().max(f64::MIN_POSITIVE), sxy / syy.max(f64::MIN_POSITIVE))
}

/// β of the long leg on the short leg (the minimum-variance hedge: short-leg notional per
/// unit of long notional) from data before `start`: the hourly primary files' last 30 days
/// when they hold a week of joint returns, else the 4-hour spot files' last 90 days, else 1.
/// Returns β and where it came from.
pub fn pair_beta(prices: &mut Prices, long: &str, short: &str, start: i64) -> Result<(f64, String)> {
    let hourly = |p: &Prices| -> Option<Vec<(i64, f64, f64)>> {
        let (a, b) = (p.file(long, &hourly_name(long))?, p.file(short, &hourly_name(short))?);
        let (times, rows) = join(&[a, b], start - WARMUP_DAYS * DAY, start);
        let r = joint_returns(&times, &rows[0], &rows[1], HOUR);
        (r.len() >= BETA_MIN_HOURS).then_some(r)
    };
    if let Some(r) = hourly(prices) {
        return Ok((correlation_beta(&r).1, format!("1h, {} d before", WARMUP_DAYS)));
    }
    let a = prices.four_hour(long)?.map(|b| b.to_vec());
    let b = prices.four_hour(short)?.map(|b| b.to_vec());
    if let (Some(a), Some(b)) = (a, b) {
        let (times, rows) = join(&[&a, &b], start - BETA_4H_DAYS * DAY, start);
        let r = joint_returns(&times, &rows[0], &rows[1], 4 * HOUR);
        if r.len() >= 30 {
            return Ok((correlation_beta(&r).1, format!("4h spot, {BETA_4H_DAYS} d before")));
        }
    }
    Ok((1.0, "none: β = 1".into()))
}

fn hourly_name(u: &str) -> String {
    format!("{}_usd_1h.csv", u.to_lowercase())
}

/// A book's joined prices over one window (with warm-up and a horizon past its end).
pub struct Aligned {
    pub times: Vec<i64>,
    /// Per underlying of the book.
    pub under: Vec<Vec<Bar>>,
    /// Per underlying, its spot collateral's price (books holding spot; else empty).
    pub spot: Vec<Vec<Bar>>,
    /// Which files priced what, e.g. `perp: sol_usd_1h.csv, spot: sol_usd_1h_spot.csv`.
    pub files: String,
}

/// The book's series over `[start, end)`, or why not (an underlying without a file).
pub fn align(prices: &Prices, book: &Book, start: i64, end: i64, horizon: i64) -> Result<Aligned, String> {
    let mut series: Vec<&[Bar]> = Vec::new();
    let mut names = Vec::new();
    for u in &book.underlyings {
        let (f, bars) =
            prices.primary(u, start, end).ok_or_else(|| format!("no {u} hourly file covers it"))?;
        series.push(bars);
        names.push(f.to_string());
    }
    let mut spot_names = Vec::new();
    if book.holds_spot() {
        for u in &book.underlyings {
            let (f, bars) = match prices.spot(u, start, end) {
                Some(s) => s,
                None => prices.primary(u, start, end).ok_or_else(|| format!("no {u} file"))?,
            };
            series.push(bars);
            spot_names.push(f.to_string());
        }
    }
    let k = book.underlyings.len();
    let (times, mut rows) = join(&series, start - WARMUP_DAYS * DAY, end + horizon + DAY);
    let spot = rows.split_off(k);
    let files = if book.holds_spot() {
        let same = names == spot_names;
        if same {
            format!("{} (spot = the same: no basis)", names.join(", "))
        } else {
            format!("{}; spot: {}", names.join(", "), spot_names.join(", "))
        }
    } else {
        names.join(", ")
    };
    Ok(Aligned { times, under: rows, spot, files })
}

/// Rounded to a cent (option strikes).
fn cents(x: f64) -> Fx {
    Fx::from_num((x * 100.0).round() / 100.0)
}

fn position(
    underlying: u16,
    kind: InstrumentKind,
    strike: Fx,
    expiry: i64,
    size: f64,
    entry: f64,
) -> Position {
    Position {
        instrument: Instrument { underlying, kind, strike, expiry },
        size: Fx::from_num(size),
        entry_price: Fx::from_num(entry),
    }
}

/// The book at row prices: underlying closes `s`, spot collateral closes `c`, time `now`.
/// Returns the holding and its gross notional.
pub fn holding(book: &Book, s: &[f64], c: &[f64], now: i64, beta: f64) -> (Holding, f64) {
    let (perp, call, put) = (InstrumentKind::Perp, InstrumentKind::Call, InstrumentKind::Put);
    let m30 = now + 30 * DAY;
    let n = NOTIONAL / s[0];
    match book.kind {
        BookKind::CashAndCarry => (
            Holding { positions: vec![position(0, perp, Fx::ZERO, 0, -n, s[0])], spot: vec![n] },
            n * (c[0] + s[0]),
        ),
        BookKind::Pair => {
            let short = beta * NOTIONAL / s[1];
            let positions =
                vec![position(0, perp, Fx::ZERO, 0, n, s[0]), position(1, perp, Fx::ZERO, 0, -short, s[1])];
            (Holding { positions, spot: Vec::new() }, NOTIONAL * (1.0 + beta))
        }
        BookKind::CoveredCallSpot => (
            Holding { positions: vec![position(0, call, cents(s[0] * 1.10), m30, -n, 0.0)], spot: vec![n] },
            n * (c[0] + s[0]),
        ),
        BookKind::Conversion => {
            let k = cents(s[0]);
            let positions = vec![
                position(0, call, k, m30, n, 0.0),
                position(0, put, k, m30, -n, 0.0),
                position(0, perp, Fx::ZERO, 0, -n, s[0]),
            ];
            (Holding { positions, spot: Vec::new() }, 3.0 * NOTIONAL)
        }
    }
}

/// Per-underlying estimates at every row: (implied vol, adaptive shock).
fn estimates(a: &Aligned, params: &VolParams) -> Result<Vec<Vec<(f64, Fx)>>> {
    a.under
        .iter()
        .map(|bars| {
            let mut state = VolState::new(Fx::from_num(0.6), params).map_err(|e| anyhow!("{e}"))?;
            bars.iter()
                .map(|bar| {
                    state = update(&state, Fx::from_num(bar.close), bar.time + HOUR, params)
                        .map_err(|e| anyhow!("{e}"))?;
                    Ok((implied_vol(&state)?, state.shock))
                })
                .collect()
        })
        .collect()
}

/// The book's market at row `j` under `model`.
fn market(a: &Aligned, est: &[Vec<(f64, Fx)>], j: usize, model: Model) -> BookMarket {
    BookMarket {
        underlyings: (0..a.under.len())
            .map(|u| BarMarket {
                bar: a.under[u][j],
                vol: est[u][j].0,
                scenario: scenario(model, est[u][j].1),
            })
            .collect(),
        spot: a.spot.iter().map(|s| s[j]).collect(),
    }
}

/// Replays `book` over the window `[start, end)` of `a`: every hour with a full horizon
/// ahead, under each model and each of `configs`. Tallies `[model][config]`.
pub fn replay_book(
    book: &Book,
    a: &Aligned,
    beta: f64,
    (start, end): (i64, i64),
    params: &VolParams,
    models: &[Model],
    configs: &[Credits],
) -> Result<Vec<Vec<Tally>>> {
    let est = estimates(a, params)?;
    let horizon = params.horizon_secs;
    let mut tallies: Vec<Vec<Tally>> =
        models.iter().map(|_| configs.iter().map(|_| Tally::default()).collect()).collect();
    for (i, &time) in a.times.iter().enumerate() {
        let now = time + HOUR;
        if time >= start - PRE_WINDOW_SECS && time < start {
            // Before the window: margins only, for the procyclicality metrics.
            let s: Vec<f64> = a.under.iter().map(|b| b[i].close).collect();
            let c: Vec<f64> = a.spot.iter().map(|b| b[i].close).collect();
            let (h, notional) = holding(book, &s, &c, now, beta);
            for (mi, model) in models.iter().enumerate() {
                let open = market(a, &est, i, *model);
                for (ci, credits) in configs.iter().enumerate() {
                    tallies[mi][ci].record(0, now, locked(&h, &open, credits)?, notional, false);
                }
            }
        }
        if time < start || time >= end {
            continue;
        }
        let ahead = a.times[i + 1..].iter().take_while(|t| **t + HOUR <= now + horizon).count();
        if a.times[i + 1..i + 1 + ahead].last().is_none_or(|t| t + HOUR < now + horizon) {
            continue; // not a full horizon of data ahead
        }
        let s: Vec<f64> = a.under.iter().map(|b| b[i].close).collect();
        let c: Vec<f64> = a.spot.iter().map(|b| b[i].close).collect();
        let (h, notional) = holding(book, &s, &c, now, beta);
        // Worst loss over the horizon: co-moving extremes and closes, options fully
        // revalued at the remaining time, implied vol unchanged.
        let open = market(a, &est, i, Model::Static);
        let start_value = value(&h, &open, Corner::Close, now);
        let mut loss: f64 = 0.0;
        for j in i + 1..=i + ahead {
            let m = BookMarket {
                underlyings: open
                    .underlyings
                    .iter()
                    .enumerate()
                    .map(|(u, o)| BarMarket { bar: a.under[u][j], ..*o })
                    .collect(),
                spot: a.spot.iter().map(|s| s[j]).collect(),
            };
            for corner in [Corner::Low, Corner::High, Corner::Close] {
                loss = loss.max(start_value - value(&h, &m, corner, a.times[j] + HOUR));
            }
        }
        for (mi, model) in models.iter().enumerate() {
            let open = market(a, &est, i, *model);
            let path: Vec<BookMarket> = (i + 1..=i + ahead).map(|j| market(a, &est, j, *model)).collect();
            for (ci, credits) in configs.iter().enumerate() {
                let margin = locked(&h, &open, credits)?;
                let outcome = follow_book(&h, margin, &open, &path, credits)?;
                tallies[mi][ci].add(margin, loss, notional, Some(outcome.bad_debt));
                tallies[mi][ci].record(0, now, margin, notional, true);
            }
        }
    }
    Ok(tallies)
}

/// One (window, book, model) line: without and with the credits.
#[derive(Debug, serde::Serialize)]
pub struct BookResult {
    pub window: String,
    pub book: String,
    pub kind: BookKind,
    pub underlyings: Vec<String>,
    /// Which files priced the book.
    pub prices: String,
    /// A pair's β (short notional per long notional) and its source.
    pub beta: Option<f64>,
    pub beta_source: Option<String>,
    pub model: Model,
    /// The credit the reference calibration gives the book (`None`: none applies, the two
    /// sides are the same computation).
    pub credit: Option<String>,
    pub without: Summary,
    pub with: Summary,
}

/// A (window, book) not replayed, and why.
#[derive(Debug, serde::Serialize)]
pub struct Skipped {
    pub window: String,
    pub book: String,
    pub reason: String,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct BooksReport {
    pub books: Vec<BookResult>,
    pub skipped: Vec<Skipped>,
}

/// Replays every book over every window (static and adaptive grids), without and with the
/// reference credits — or, for the pairs, with offset credit `offset_rho` instead of the
/// reference groups (a calibration governance may propose, replayed before it is).
pub fn run_books(
    dir: &Path,
    underlyings: &[String],
    windows: &[(String, i64, i64)],
    params: &VolParams,
    offset_rho: Option<f64>,
) -> Result<BooksReport> {
    let mut prices = Prices::load(dir, underlyings).with_context(|| format!("loading {}", dir.display()))?;
    let models = [Model::Static, Model::Adaptive];
    let mut report = BooksReport::default();
    for book in all_books(underlyings) {
        let with = match offset_rho {
            Some(rho) if book.kind == BookKind::Pair => pair_credits(rho)?,
            _ => reference_credits(&book.underlyings)?,
        };
        // A book the credits do not apply to (a pair outside every group, an unlinked spot
        // collateral: no conversion in it) is the same computation on both sides: once.
        let credit = book.credit(&with);
        let configs =
            if credit.is_some() { vec![Credits::none(), with.clone()] } else { vec![Credits::none()] };
        for (name, start, end) in windows {
            let a = match align(&prices, &book, *start, *end, params.horizon_secs) {
                Ok(a) => a,
                Err(reason) => {
                    report.skipped.push(Skipped { window: name.clone(), book: book.name(), reason });
                    continue;
                }
            };
            let (beta, source) = if book.kind == BookKind::Pair {
                let (b, s) = pair_beta(&mut prices, &book.underlyings[0], &book.underlyings[1], *start)?;
                (Some(b), Some(s))
            } else {
                (None, None)
            };
            let tallies =
                replay_book(&book, &a, beta.unwrap_or(1.0), (*start, *end), params, &models, &configs)?;
            for (model, t) in models.iter().zip(tallies) {
                report.books.push(BookResult {
                    window: name.clone(),
                    book: book.name(),
                    kind: book.kind,
                    underlyings: book.underlyings.clone(),
                    prices: a.files.clone(),
                    beta,
                    beta_source: source.clone(),
                    model: *model,
                    credit: credit.clone(),
                    without: t[0].summary(),
                    with: t[t.len() - 1].summary(),
                });
            }
        }
    }
    Ok(report)
}

fn debt(s: &Summary) -> String {
    match (s.bad_debt_accounts, s.worst_bad_debt_pct) {
        (Some(0), _) | (None, _) => "0".into(),
        (Some(n), Some(w)) => format!("{n} ({:.2}%)", w * 100.0),
        (Some(n), None) => n.to_string(),
    }
}

/// One grid's cell: breaches, mean margin and bad debt, without → with the credits.
fn cell(r: &BookResult) -> String {
    let (a, b) = (&r.without, &r.with);
    format!(
        "{:>3} → {:<3} {:>6.2} → {:<6.2} {:>11} → {:<11}",
        a.breaches,
        b.breaches,
        a.mean_margin_pct * 100.0,
        b.mean_margin_pct * 100.0,
        debt(a),
        debt(b)
    )
}

/// The per-book table: one line per (book, window), the static and adaptive grids side by
/// side, each without → with the credits.
pub fn print_books(report: &BooksReport, horizon_hours: i64) {
    println!(
        "books of 100,000 USD on the first leg, rebuilt hourly; per grid, without → with the credits: breaches (loss over the next {horizon_hours} h above maintenance margin), mean margin (equity − maintenance health, % of gross notional), bad-debt accounts (worst, % of notional)"
    );
    let head = format!("{:^9} {:^16} {:^25}", "breaches", "margin %", "bad debt");
    println!(
        "{:<14} {:<22} {:>4} | {:^52} | {:^52} | credit (none: both sides the same); prices",
        "window", "book", "obs.", "static", "adaptive"
    );
    println!("{:<14} {:<22} {:>4} | {head:<52} | {head:<52} |", "", "", "");
    let mut i = 0;
    while i < report.books.len() {
        let r = &report.books[i];
        let next = report.books.get(i + 1).filter(|n| n.window == r.window && n.book == r.book);
        let (st, ad) = match (r.model, next) {
            (Model::Static, Some(n)) if n.model == Model::Adaptive => (Some(r), Some(n)),
            (Model::Adaptive, _) => (None, Some(r)),
            _ => (Some(r), None),
        };
        i += if st.is_some() && ad.is_some() { 2 } else { 1 };
        let beta = r.beta.map_or(String::new(), |b| format!("; β {b:.2}"));
        println!(
            "{:<14} {:<22} {:>4} | {:<52} | {:<52} | {}; {}{}",
            r.window,
            r.book,
            r.without.observations,
            st.map_or("-".into(), cell),
            ad.map_or("-".into(), cell),
            r.credit.as_deref().unwrap_or("none (same)"),
            r.prices,
            beta
        );
    }
    for s in &report.skipped {
        println!("{:<14} {:<22} skipped: {}", s.window, s.book, s.reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(times: &[i64], price: f64) -> Vec<Bar> {
        times
            .iter()
            .map(|&t| Bar { time: t * HOUR, open: price, high: price, low: price, close: price })
            .collect()
    }

    #[test]
    fn join_keeps_common_timestamps_in_range() {
        let a = bars(&[0, 1, 2, 4, 5, 7], 1.0);
        let b = bars(&[1, 2, 3, 5, 6, 7, 8], 2.0);
        let (times, rows) = join(&[&a, &b], HOUR, 7 * HOUR);
        assert_eq!(times, vec![HOUR, 2 * HOUR, 5 * HOUR]);
        assert!(rows[0].iter().all(|x| x.close == 1.0) && rows[1].iter().all(|x| x.close == 2.0));
        // Returns only between rows an hour apart (2 → 5 is a gap).
        let r = joint_returns(&times, &rows[0], &rows[1], HOUR);
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn beta_is_the_minimum_variance_hedge() {
        // x = 2y + noise-free: correlation 1, β 2.
        let r: Vec<(i64, f64, f64)> = (0..50)
            .map(|i| (i, 2.0 * ((i * 7 % 11) as f64 - 5.0) * 1e-3, ((i * 7 % 11) as f64 - 5.0) * 1e-3))
            .collect();
        let (c, b) = correlation_beta(&r);
        assert!((c - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
    }

    #[test]
    fn books_are_sized_on_their_first_leg() {
        let pair = Book { kind: BookKind::Pair, underlyings: vec!["BTC".into(), "ETH".into()] };
        let (h, notional) = holding(&pair, &[50_000.0, 2_500.0], &[], 0, 0.8);
        assert!((h.positions[0].size.to_num::<f64>() - 2.0).abs() < 1e-9);
        assert!((h.positions[1].size.to_num::<f64>() + 32.0).abs() < 1e-9, "β × 100,000 / 2,500");
        assert!((notional - 180_000.0).abs() < 1e-9);
        let carry = Book { kind: BookKind::CashAndCarry, underlyings: vec!["BTC".into()] };
        let (h, _) = holding(&carry, &[50_000.0], &[50_100.0], 0, 1.0);
        assert_eq!(h.spot, vec![2.0]);
        assert!((h.positions[0].size.to_num::<f64>() + 2.0).abs() < 1e-9);
        // The reference credits: BTC linked, series netted; SOL not linked.
        let with = reference_credits(&["BTC".to_string()]).unwrap();
        assert_eq!(with.links, vec![Some(LINK_BASIS_HAIRCUT)]);
        assert!(carry.credit(&with).is_some());
        assert_eq!(reference_credits(&["SOL".to_string()]).unwrap().links, vec![None]);
    }
}
