//! `xmargin backtest`: replays real (or any) hourly prices through the margin engine and
//! measures how often a book's maintenance margin failed to cover its loss over the next
//! liquidation horizon.
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use xmargin_risk::vol::VolParams;

pub mod books;
pub mod chart;
pub mod data;
pub mod liquidate;
pub mod replay;
pub mod stats;

use replay::{replay, Book, Model};
use stats::Summary;

/// The crash windows listed in ../shared/data/prices/SOURCES.md (inclusive dates).
pub const CRASH_WINDOWS: [(&str, &str, &str); 6] = [
    ("2020-03 COVID", "2020-03-11", "2020-03-14"),
    ("2021-05", "2021-05-18", "2021-05-20"),
    ("2022-05 LUNA", "2022-05-07", "2022-05-14"),
    ("2022-06", "2022-06-12", "2022-06-19"),
    ("2022-11 FTX", "2022-11-07", "2022-11-12"),
    ("2024-08", "2024-08-04", "2024-08-06"),
];

/// Days of prices fed to the estimator before a window starts.
pub const WARMUP_DAYS: i64 = 30;

pub struct Args {
    pub data: PathBuf,
    pub underlyings: Vec<String>,
    /// `YYYY-MM-DD..YYYY-MM-DD` (inclusive); all crash windows when empty.
    pub window: Option<String>,
    /// A CSV to use instead of the data directory's files (single underlying).
    pub csv: Option<PathBuf>,
    pub json: bool,
    /// docs/backtest.md's Markdown tables instead of the text tables.
    pub markdown: bool,
    /// Write an SVG chart of `chart_book` for the first underlying over the first window.
    pub chart: Option<PathBuf>,
    pub chart_book: Book,
    /// Estimator and adaptive-shock parameters (default `VolParams::REFERENCE`).
    pub vol: VolParams,
    /// Replay the multi-asset books that use the engine's credits (`books.rs`), without and
    /// with them, instead of the single-underlying books.
    pub books: bool,
    /// With `books`: the pairs' offset credit ρ instead of the reference groups'.
    pub offset_rho: Option<f64>,
}

#[derive(Debug, serde::Serialize)]
pub struct WindowResult {
    pub window: String,
    pub underlying: String,
    pub file: String,
    pub model: Model,
    #[serde(flatten)]
    pub summary: Summary,
    /// The window hour by hour for `chart_book` under this model (what the web page draws):
    /// close, margin and the realised loss over the horizon, in % of notional.
    pub series: Vec<SeriesPoint>,
}

/// One hour of a window (`--json`).
#[derive(Debug, serde::Serialize)]
pub struct SeriesPoint {
    pub time: i64,
    pub price: f64,
    pub margin_pct: f64,
    /// max(loss, 0), as the chart draws it.
    pub loss_pct: f64,
}

fn series(points: &[replay::Point], book: Book, model: Model) -> Vec<SeriesPoint> {
    points
        .iter()
        .filter(|p| p.book == book && p.model == model && p.notional > 0.0)
        .map(|p| SeriesPoint {
            time: p.time,
            price: p.price,
            margin_pct: p.margin / p.notional * 100.0,
            loss_pct: p.loss.max(0.0) / p.notional * 100.0,
        })
        .collect()
}

fn parse_window(s: &str) -> Result<(String, i64, i64)> {
    let (a, b) = s
        .split_once("..")
        .with_context(|| format!("--window {s:?}: expected START..END, e.g. 2022-11-07..2022-11-12"))?;
    let start = data::parse_time(a).with_context(|| format!("--window start {a:?}"))?;
    let end = data::parse_time(b).with_context(|| format!("--window end {b:?}"))? + 86_400;
    if end <= start {
        bail!("--window {s:?}: the end is before the start");
    }
    Ok((s.to_string(), start, end))
}

/// `--window A..B`, or every crash window: (name, start, end exclusive), unix seconds.
pub fn windows(window: Option<&str>) -> Result<Vec<(String, i64, i64)>> {
    match window {
        Some(w) => Ok(vec![parse_window(w)?]),
        None => CRASH_WINDOWS
            .iter()
            .map(|(name, a, b)| Ok((name.to_string(), data::parse_time(a)?, data::parse_time(b)? + 86_400)))
            .collect(),
    }
}

/// The hourly files for an underlying, most complete first.
pub fn candidates(dir: &Path, underlying: &str) -> Vec<PathBuf> {
    let u = underlying.to_lowercase();
    [format!("{u}_usd_1h.csv"), format!("{u}_usd_1h_spot.csv"), format!("{u}_usd_1h_spot_2024-08.csv")]
        .into_iter()
        .map(|f| dir.join(f))
        .filter(|p| p.exists())
        .collect()
}

/// An underlying's price files and their bars, in [`candidates`] order.
pub type Loaded = Vec<(PathBuf, Vec<data::Bar>)>;

/// Loads `files` (one underlying's, most complete first).
pub fn load_files(files: Vec<PathBuf>) -> Result<Loaded> {
    files.into_iter().map(|p| data::load(&p).map(|b| (p, b))).collect()
}

/// The bars a window replays, from `WARMUP_DAYS` before `start` on, and their file: the first
/// file with bars from inside the window's first day to a day past its end (a file may start
/// mid-window: BTC's hourly data starts 2020-03-11 12:00). `None`: no file covers it.
pub fn window_bars(loaded: &Loaded, start: i64, end: i64) -> Option<(&Path, &[data::Bar])> {
    let (path, bars) = loaded.iter().find(|(_, b)| {
        b.first().is_some_and(|f| f.time < start + 86_400)
            && b.last().is_some_and(|l| l.time >= end + 86_400 - 3600)
    })?;
    let from = bars.partition_point(|b| b.time < start - WARMUP_DAYS * 86_400);
    Some((path.as_path(), &bars[from..]))
}

pub fn run(args: &Args) -> Result<()> {
    if args.csv.is_none() && !args.data.is_dir() {
        bail!(
            "price data not found at {}: pass --data DIR (files named like btc_usd_1h.csv, as in shared/data/prices) or --csv FILE",
            args.data.display()
        );
    }
    let windows = windows(args.window.as_deref())?;
    let params = args.vol;
    params
        .validate()
        .map_err(|e| anyhow::anyhow!("volatility parameters: {e} (need 0 < floor ≤ cap < 1, k > 0, decay in [0, 1), half-lives short ≤ long)"))?;
    if args.books {
        if args.csv.is_some() || args.chart.is_some() {
            bail!("--books replays several price files of --data DIR: it takes neither --csv nor --chart");
        }
        if args.offset_rho.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
            bail!("--offset-rho must be in [0, 1]");
        }
        let report = books::run_books(&args.data, &args.underlyings, &windows, &params, args.offset_rho)?;
        if report.books.is_empty() {
            bail!(
                "no price file in {} covers the requested window(s) for the books over {:?}",
                args.data.display(),
                args.underlyings
            );
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            books::print_books(&report, params.horizon_secs / 3600);
        }
        return Ok(());
    }
    let mut results = Vec::new();
    let mut chart: Option<String> = None;
    for underlying in &args.underlyings {
        let files = match &args.csv {
            Some(p) => vec![p.clone()],
            None => candidates(&args.data, underlying),
        };
        let loaded = load_files(files)?;
        for (name, start, end) in &windows {
            let Some((path, bars)) = window_bars(&loaded, *start, *end) else {
                continue;
            };
            let (tallies, points) = replay(bars, *start, *end, &params)?;
            if args.chart.is_some() && chart.is_none() {
                chart = Some(chart::render(
                    &points,
                    args.chart_book,
                    &format!("{underlying} {name}"),
                    params.horizon_secs / 3600,
                )?);
            }
            for (model, tally) in tallies {
                results.push(WindowResult {
                    window: name.clone(),
                    underlying: underlying.clone(),
                    file: path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
                    model,
                    summary: tally.summary(),
                    series: if args.json { series(&points, args.chart_book, model) } else { Vec::new() },
                });
            }
        }
    }
    if results.is_empty() {
        bail!(
            "no price file in {} covers the requested window(s) for {:?}",
            args.data.display(),
            args.underlyings
        );
    }
    if let (Some(path), Some(svg)) = (&args.chart, &chart) {
        std::fs::write(path, svg).with_context(|| format!("writing the chart to {}", path.display()))?;
        eprintln!("chart written to {}", path.display());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else if args.markdown {
        print_markdown(&results, params.horizon_secs / 3600);
    } else {
        print_table(&results, params.horizon_secs / 3600);
    }
    Ok(())
}

/// The static and adaptive lines side by side per (window, underlying), as docs/backtest.md's two
/// Markdown tables: coverage and bad debt, then procyclicality; and the bad-debt totals.
fn print_markdown(results: &[WindowResult], horizon_hours: i64) {
    let line = |w: &WindowResult, model: Model| {
        results.iter().find(|r| r.window == w.window && r.underlying == w.underlying && r.model == model)
    };
    // (static, adaptive) per (window, underlying), in the table's order.
    let pairs: Vec<(&WindowResult, Option<&WindowResult>)> =
        results.iter().filter(|r| r.model == Model::Static).map(|r| (r, line(r, Model::Adaptive))).collect();
    let coverage = |r: Option<&WindowResult>| {
        r.map_or("-".into(), |r| {
            let s = &r.summary;
            let debt = match (s.bad_debt_accounts, s.worst_bad_debt_pct) {
                (Some(0), _) | (None, _) => "0".to_string(),
                (Some(n), Some(w)) => format!("{n} ({:.1}%)", w * 100.0),
                (Some(n), None) => n.to_string(),
            };
            format!(
                "{} / {:.2}% / {:.2}% / {debt}",
                s.breaches,
                s.coverage * 100.0,
                s.mean_margin_pct * 100.0
            )
        })
    };
    println!(
        "| window | underlying | static: breaches / coverage / mean margin / bad-debt accounts (worst, % notional) | adaptive: the same |"
    );
    println!("|---|---|---|---|");
    for (w, ad) in &pairs {
        println!("| {} | {} | {} | {} |", w.window, w.underlying, coverage(Some(w)), coverage(*ad));
    }
    let total = |model: Model| {
        let rs = results.iter().filter(|r| r.model == model);
        let debt: usize = rs.clone().filter_map(|r| r.summary.bad_debt_accounts).sum();
        let n: usize = rs.map(|r| r.summary.observations).sum();
        (debt, n)
    };
    let ((sd, sn), (ad, an)) = (total(Model::Static), total(Model::Adaptive));
    println!();
    println!(
        "Loss horizon {horizon_hours} h. Over the {} windows: {sd} of {sn} static accounts and {ad} of {an} adaptive accounts end with bad debt.",
        pairs.len()
    );
    println!();
    let ratio = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.2}×"));
    let points = |x: Option<f64>| x.map_or("-".into(), |x| format!("{:+.1}", x * 100.0));
    let procyclicality = |r: Option<&WindowResult>| {
        r.map_or("-".into(), |r| {
            let p = &r.summary.procyclicality;
            format!(
                "{} / {} / {} / {} / {}",
                ratio(p.max_1d_increase_ratio),
                points(p.max_1d_increase_pct),
                ratio(p.max_5d_increase_ratio),
                points(p.max_5d_increase_pct),
                ratio(p.peak_to_trough)
            )
        })
    };
    println!(
        "| window | underlying | static: 1-day × / points, 5-day × / points, peak/trough | adaptive: the same |"
    );
    println!("|---|---|---|---|");
    for (w, ad) in &pairs {
        println!(
            "| {} | {} | {} | {} |",
            w.window,
            w.underlying,
            procyclicality(Some(w)),
            procyclicality(*ad)
        );
    }
}

fn print_table(results: &[WindowResult], horizon_hours: i64) {
    println!(
        "maintenance margin vs the worst loss over the next {horizon_hours} h (6 books, hourly); bad debt: accounts opened at maintenance margin, partially liquidated at each close"
    );
    println!(
        "{:<14} {:<4} {:<9} {:>6} {:>8} {:>9} {:>10} {:>12} {:>12} {:>9} {:>10}  file",
        "window",
        "und.",
        "model",
        "obs.",
        "breaches",
        "coverage",
        "Kupiec p",
        "worst short.",
        "mean margin",
        "bad debt",
        "worst debt"
    );
    for r in results {
        let s = &r.summary;
        println!(
            "{:<14} {:<4} {:<9} {:>6} {:>8} {:>8.2}% {:>10.4} {:>11.2}% {:>11.2}% {:>9} {:>10}  {}",
            r.window,
            r.underlying,
            format!("{:?}", r.model).to_lowercase(),
            s.observations,
            s.breaches,
            s.coverage * 100.0,
            s.kupiec_p_value,
            s.worst_shortfall_pct * 100.0,
            s.mean_margin_pct * 100.0,
            s.bad_debt_accounts.map_or("-".into(), |n| n.to_string()),
            s.worst_bad_debt_pct.map_or("-".into(), |w| format!("{:.3}%", w * 100.0)),
            r.file
        );
    }
    print_procyclicality(results);
}

/// The procyclicality metrics (`stats::Procyclicality`) per (window, underlying, model),
/// each the worst over the books, below the coverage table.
fn print_procyclicality(results: &[WindowResult]) {
    let ratio = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.2}×"));
    let points = |x: Option<f64>| x.map_or("-".into(), |x| format!("{:+.2}", x * 100.0));
    println!();
    println!(
        "procyclicality, worst over the 6 books: largest increase of a book's margin over 1 day and 5 days, as m(t)/m(t−h) and m(t)−m(t−h) in points of notional (t in the window, t−h in it or the 5 days before); peak/trough = max/min margin over the window"
    );
    println!(
        "{:<14} {:<4} {:<9} {:>8} {:>9} {:>8} {:>9} {:>11}",
        "window", "und.", "model", "1d ×", "1d pts", "5d ×", "5d pts", "peak/trough"
    );
    for r in results {
        let p = &r.summary.procyclicality;
        println!(
            "{:<14} {:<4} {:<9} {:>8} {:>9} {:>8} {:>9} {:>11}",
            r.window,
            r.underlying,
            format!("{:?}", r.model).to_lowercase(),
            ratio(p.max_1d_increase_ratio),
            points(p.max_1d_increase_pct),
            ratio(p.max_5d_increase_ratio),
            points(p.max_5d_increase_pct),
            ratio(p.peak_to_trough)
        );
    }
}
