//! `xmargin calibrate sweep`: the adaptive shock's reference calibration chosen from the data
//! (issue 15, item 4).
//!
//! The price files are loaded once; every point of a grid over the liquidation horizon, k,
//! floor, cap, the short/long half-lives and the stressed weight is replayed through the
//! backtest's own code path (`backtest::replay::replay_models`: the adaptive model alone, the
//! 6 single-underlying books, every crash window with data — 17 (window, underlying) pairs),
//! so a rerun after an engine change regenerates the numbers. Work is split in (point,
//! window) jobs over `--threads` threads. Per point:
//!
//! - **windows ≥ 99%**: windows whose adaptive coverage (share of the window's hours × books
//!   where maintenance margin ≥ the worst loss over the next horizon) is at least 99%;
//! - **worst coverage**: the lowest window coverage, and its window;
//! - **mean margin**: the mean over the windows of each window's mean adaptive margin (the
//!   backtest table's `mean margin` column: margin / notional averaged over the window's hours
//!   and 6 books), each window weighing the same; the mean over all observations is in the
//!   JSON (`mean_margin_pct_observations`);
//! - **procyclicality** (`backtest::stats::Procyclicality`, each already the worst over the 6
//!   books): the worst over the windows of the largest 1-day increase (ratio and points of
//!   notional), of the largest 5-day increase and of the peak-to-trough ratio; and how many
//!   windows report a 1-day increase at all;
//! - **bad debt**: accounts opened at maintenance margin that end with bad debt under partial
//!   liquidation (`backtest::liquidate`), summed over the windows, and the worst as % of
//!   notional. That replay is 4/5 of the work and no objective of the frontier or the choice,
//!   so it runs in a second pass, for the frontier points and the chosen one only (`null` for
//!   the others; `--bad-debt-all`: every point). The second pass recomputes everything else
//!   too and must find the same figures (checked).
//!
//! **Stressed shock S_st** (EMIR RTS 153/2013 art. 28(1)(b): at least 25% weight on stressed
//! observations). For a point with a stressed weight, S_st = k·σ_st·√horizon, rounded up to
//! a basis point and at most the point's cap, where σ_st is the 99% quantile
//! (`--stressed-quantile`; 1 = the largest) of max(σ_short, σ_long) over every hourly close
//! of the perpetual files `{btc,eth,sol}_usd_1h.csv` pooled (2020-03 to 2024-06, ≈ 96,000
//! closes), the estimator (`xmargin_risk::vol::update`, seeded at 60% as in the backtest)
//! run with that point's half-lives: the quantile term the estimator itself reaches in the
//! data's most stressed 1% of hours (≈ 40 days: the crash windows). Not the largest: that is
//! one hour's wick (σ_short 987% at SOL 2021-05-19 14:00 with a 12-hour half-life) and puts
//! S_st at the cap for every point. One number for the three underlyings (the reference is
//! one `VolParams`); in-sample, like the whole sweep.
//!
//! **Frontier.** A point is on the Pareto frontier when no other point is at least as good
//! on all four of: windows ≥ 99% (more), worst coverage (higher), mean margin (lower), and
//! the worst largest 1-day increase in points of notional (lower; a window without one counts
//! as infinitely bad) — and strictly better on one. Points rather than the ratio: a ratio
//! falls by raising the margin it is measured from, while points are the cash a book's owner
//! must find within a day.
//!
//! **Choice.** The targets: windows ≥ 99% ≥ 15, worst coverage ≥ 97%, mean margin ≤ 19.8% of
//! notional, a 1-day increase reported for every window. Among the points meeting all of
//! them with a horizon the liquidation engine can meet (at least `--min-horizon-hours`,
//! docs/backtest.md), the reference is the one with the smallest worst 1-day increase (points), ties to
//! the lower mean margin: the targets bound coverage and cost, procyclicality is what is left
//! to minimize. Such a point is on the frontier (a point dominating it would meet the targets
//! too and be no worse on the 1-day increase). When none meets them, the frontier point
//! closest to them is reported: the least sum of shortfalls, each in its own unit (windows
//! short of 15, percentage points of coverage below 97%, percentage points of margin above
//! 19.8%, windows without a 1-day increase).
//!
//! **Refinement.** Unless `--no-refine`, the grid's first choice is refined: k ± 0.5 and the
//! floor ± 1 and 2 points of spot around it (its horizon, cap, half-lives and stressed weight
//! kept, S_st recomputed for each k) are replayed too, the frontier marked again over all
//! points and the choice made again (those points are flagged `refined`).
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use xmargin_risk::vol::{update, VolParams, VolState};
use xmargin_risk::Fx;

use crate::backtest::data::{format_time, Bar};
use crate::backtest::replay::{replay_models, Model, BOOKS};
use crate::backtest::stats::Summary;
use crate::backtest::{candidates, load_files, window_bars, windows, Loaded};
use crate::vol_flags::VolFlags;

const HOUR: i64 = 3600;
const YEAR_SECS: f64 = 365.0 * 86_400.0;
/// The estimator's seed (the backtest's: `replay.rs`).
const SEED_VOL: f64 = 0.6;

/// The targets of issue 15, item 4.
pub const COVERAGE_LEVEL: f64 = 0.99;
pub const TARGET_WINDOWS_AT_99: usize = 15;
pub const TARGET_WORST_COVERAGE: f64 = 0.97;
pub const TARGET_MEAN_MARGIN: f64 = 0.198;

/// The sweep's grid. Every combination is a point (those `VolParams::validate` refuses, e.g.
/// a floor above the cap, are left out).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Grid {
    pub horizons_hours: Vec<i64>,
    pub k: Vec<f64>,
    pub floors: Vec<f64>,
    pub caps: Vec<f64>,
    /// (short, long) half-lives, hours.
    pub half_lives_hours: Vec<(i64, i64)>,
    pub stressed_weights: Vec<f64>,
    /// Largest fall of the shock per day (one value: the reference's 10% unless given).
    pub max_decay: f64,
}

/// One point of the grid, in the units of the `--vol-*` flags.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Calibration {
    pub horizon_hours: i64,
    pub k: f64,
    pub floor: f64,
    pub cap: f64,
    pub half_life_short_hours: i64,
    pub half_life_long_hours: i64,
    pub max_decay: f64,
    pub stressed_weight: f64,
    /// S_st (fraction of spot; 0 without a stressed weight).
    pub stressed_shock: f64,
}

impl Calibration {
    /// The same flags `xmargin backtest` takes, so both map to `VolParams` one way.
    pub fn flags(&self) -> VolFlags {
        VolFlags {
            vol_k: self.k,
            vol_floor: self.floor,
            vol_cap: self.cap,
            vol_max_decay: self.max_decay,
            vol_half_life_short_hours: self.half_life_short_hours,
            vol_horizon_hours: self.horizon_hours,
            vol_half_life_long_hours: self.half_life_long_hours,
            vol_stressed_shock: self.stressed_shock,
            vol_stressed_weight: self.stressed_weight,
        }
    }

    pub fn params(&self) -> VolParams {
        self.flags().params()
    }

    /// `p` in these units (exact for fractions and multipliers below 32: `Fx` has 48
    /// fractional bits, an f64 53).
    pub fn of(p: &VolParams) -> Calibration {
        Calibration {
            horizon_hours: p.horizon_secs / HOUR,
            k: p.k.to_num(),
            floor: p.floor.to_num(),
            cap: p.cap.to_num(),
            half_life_short_hours: p.half_life_short_secs / HOUR,
            half_life_long_hours: p.half_life_long_secs / HOUR,
            max_decay: p.max_decay_per_day.to_num(),
            stressed_weight: p.stressed_weight.to_num(),
            stressed_shock: p.stressed_shock.to_num(),
        }
    }

    /// The `xmargin backtest` flags that replay this point.
    pub fn command_line(&self) -> String {
        format!(
            "--vol-horizon-hours {} --vol-k {} --vol-floor {} --vol-cap {} --vol-half-life-short-hours {} --vol-half-life-long-hours {} --vol-max-decay {} --vol-stressed-weight {} --vol-stressed-shock {}",
            self.horizon_hours,
            self.k,
            self.floor,
            self.cap,
            self.half_life_short_hours,
            self.half_life_long_hours,
            self.max_decay,
            self.stressed_weight,
            self.stressed_shock
        )
    }
}

pub struct Args {
    pub data: PathBuf,
    pub json: bool,
    /// Worker threads (each replays whole points).
    pub threads: usize,
    pub grid: Grid,
    /// The shortest liquidation horizon the liquidation engine can meet (docs/backtest.md): the
    /// reference is chosen among points with a horizon at least this.
    pub min_horizon_hours: i64,
    /// Refine around the first choice (module docs).
    pub refine: bool,
    /// Print every point, not only the frontier.
    pub all: bool,
    /// The quantile of the data's σ that defines S_st (module docs; 1 = the largest).
    pub stressed_quantile: f64,
    /// Replay the bad debt of every point, not only of the frontier and the chosen one.
    pub bad_debt_all: bool,
    /// docs/backtest.md's Markdown tables instead of the text tables.
    pub markdown: bool,
}

/// One (window, underlying) of a point: the backtest's adaptive line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WindowLine {
    pub window: String,
    pub underlying: String,
    pub file: String,
    #[serde(flatten)]
    pub summary: Summary,
}

/// The results of one point over every window.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PointResult {
    #[serde(flatten)]
    pub calibration: Calibration,
    pub windows: usize,
    /// Windows with coverage ≥ 99%.
    pub windows_at_99: usize,
    pub worst_coverage: f64,
    pub worst_window: String,
    /// Mean over the windows of each window's mean margin (fraction of notional).
    pub mean_margin_pct: f64,
    /// Mean margin over every observation of every window.
    pub mean_margin_pct_observations: f64,
    /// Bad-debt accounts over the windows and the worst (fraction of notional); `None`: not
    /// replayed for this point (module docs).
    pub bad_debt_accounts: Option<usize>,
    pub worst_bad_debt_pct: Option<f64>,
    /// Each the worst (largest) over the windows.
    pub max_1d_increase_ratio: Option<f64>,
    pub max_1d_increase_pct: Option<f64>,
    pub max_5d_increase_ratio: Option<f64>,
    pub max_5d_increase_pct: Option<f64>,
    pub peak_to_trough: Option<f64>,
    /// Windows reporting a largest 1-day increase.
    pub windows_with_1d_increase: usize,
    pub meets_targets: bool,
    /// Sum of the shortfalls from the targets (0 when met; module docs).
    pub target_distance: f64,
    pub frontier: bool,
    /// A point of the refinement around the first choice (not of the grid).
    pub refined: bool,
    pub per_window: Vec<WindowLine>,
}

/// The stressed σ for a pair of half-lives: S_st = k·σ·√horizon (module docs).
#[derive(Debug, Clone, serde::Serialize)]
pub struct StressedSigma {
    pub half_life_short_hours: i64,
    pub half_life_long_hours: i64,
    /// The quantile taken (1: the largest) over `closes` hourly closes, and its σ.
    pub quantile: f64,
    pub sigma: f64,
    pub closes: usize,
    /// The largest σ, for comparison, and where (underlying and close time).
    pub sigma_max: f64,
    pub sigma_max_at: String,
}

#[derive(Debug, serde::Serialize)]
pub struct Targets {
    pub windows_at_99: usize,
    pub worst_coverage: f64,
    pub mean_margin_pct: f64,
    pub one_day_increase_every_window: bool,
    pub min_horizon_hours: i64,
}

#[derive(Debug, serde::Serialize)]
pub struct SweepReport {
    pub data: String,
    pub grid: Grid,
    pub targets: Targets,
    pub stressed: Vec<StressedSigma>,
    pub points: Vec<PointResult>,
    /// Index in `points` of the chosen reference, and why.
    pub chosen: usize,
    pub chosen_meets_targets: bool,
    pub chosen_why: String,
    pub seconds: f64,
}

/// The crash windows' price files, loaded once: the single-underlying backtest's
/// (`backtest::candidates`, the first file covering each window).
pub struct CrashData {
    pub dir: PathBuf,
    underlyings: Vec<(String, Loaded)>,
    windows: Vec<(String, i64, i64)>,
}

/// A (window, underlying) with data: its bars from the warm-up on.
struct Case<'a> {
    window: &'a str,
    underlying: &'a str,
    file: String,
    bars: &'a [Bar],
    start: i64,
    end: i64,
}

impl CrashData {
    /// BTC, ETH and SOL over every crash window.
    pub fn load(dir: &Path) -> Result<CrashData> {
        if !dir.is_dir() {
            bail!(
                "price data not found at {}: pass --data DIR (files named like btc_usd_1h.csv, as in shared/data/prices)",
                dir.display()
            );
        }
        let underlyings = ["BTC", "ETH", "SOL"]
            .iter()
            .map(|u| Ok((u.to_string(), load_files(candidates(dir, u))?)))
            .collect::<Result<_>>()?;
        let data = CrashData { dir: dir.to_path_buf(), underlyings, windows: windows(None)? };
        if data.cases().is_empty() {
            bail!("no price file in {} covers a crash window", dir.display());
        }
        Ok(data)
    }

    /// Every (window, underlying) with data, in the backtest table's order.
    fn cases(&self) -> Vec<Case<'_>> {
        let mut cases = Vec::new();
        for (u, files) in &self.underlyings {
            for (name, start, end) in &self.windows {
                if let Some((path, bars)) = window_bars(files, *start, *end) {
                    cases.push(Case {
                        window: name,
                        underlying: u,
                        file: path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
                        bars,
                        start: *start,
                        end: *end,
                    });
                }
            }
        }
        cases
    }

    /// The stressed σ with these half-lives: the `quantile` of the estimator's
    /// max(σ_short, σ_long) over every close of the perpetual files (S_st = k·σ_st·√horizon,
    /// module docs).
    pub fn stressed_sigma(&self, short_h: i64, long_h: i64, quantile: f64) -> Result<StressedSigma> {
        let files: Vec<(String, &Loaded)> = self.underlyings.iter().map(|(u, l)| (u.clone(), l)).collect();
        stressed_sigma(&files, short_h, long_h, quantile)
    }
}

/// Replays every point over every case of `data`, `threads` (point, case) pairs at a time;
/// with the bad-debt replay when `bad_debt`.
pub fn evaluate(
    data: &CrashData,
    points: &[Calibration],
    threads: usize,
    bad_debt: bool,
) -> Result<Vec<PointResult>> {
    let began = Instant::now();
    let cases = data.cases();
    let jobs = points.len() * cases.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<WindowLine>>>> = Mutex::new((0..jobs).map(|_| None).collect());
    let failed = std::sync::atomic::AtomicBool::new(false);
    let progress = points.len() > 1;
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, jobs.max(1)) {
            s.spawn(|| loop {
                let j = next.fetch_add(1, Ordering::Relaxed);
                if j >= jobs || failed.load(Ordering::Relaxed) {
                    break;
                }
                let (c, case) = (&points[j / cases.len()], &cases[j % cases.len()]);
                let line = replay_case(c, case, bad_debt);
                failed.fetch_or(line.is_err(), Ordering::Relaxed);
                if let Ok(mut v) = results.lock() {
                    v[j] = Some(line);
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if progress && n.is_multiple_of(cases.len() * 10) {
                    eprintln!(
                        "sweep: {}/{} points{}, {:.0} s",
                        n / cases.len(),
                        points.len(),
                        if bad_debt { " (with bad debt)" } else { "" },
                        began.elapsed().as_secs_f64()
                    );
                }
            });
        }
    });
    let results = results.into_inner().map_err(|_| anyhow!("a sweep thread panicked"))?;
    let mut lines = Vec::with_capacity(jobs);
    for r in results {
        match r {
            Some(r) => lines.push(r?),
            None => bail!("the sweep stopped early"),
        }
    }
    let mut out = Vec::with_capacity(points.len());
    let mut lines = lines.into_iter();
    for c in points {
        out.push(aggregate(*c, lines.by_ref().take(cases.len()).collect()));
    }
    Ok(out)
}

/// One (window, underlying) of one point: the backtest's replay, the adaptive model alone.
fn replay_case(c: &Calibration, case: &Case, bad_debt: bool) -> Result<WindowLine> {
    let params = c.params();
    let (tallies, _) =
        replay_models(case.bars, case.start, case.end, &params, &BOOKS, &[Model::Adaptive], bad_debt)
            .with_context(|| format!("{} {}", case.window, case.underlying))?;
    Ok(WindowLine {
        window: case.window.to_string(),
        underlying: case.underlying.to_string(),
        file: case.file.clone(),
        summary: tallies.first().map(|t| t.1.summary()).unwrap_or_default(),
    })
}

/// The stressed σ of a pair of half-lives: the `quantile` of max(σ_short, σ_long) over every
/// close of each underlying's first hourly file (the perpetual's), pooled; and the largest,
/// with where.
fn stressed_sigma(
    files: &[(String, &Loaded)],
    short_h: i64,
    long_h: i64,
    quantile: f64,
) -> Result<StressedSigma> {
    let params = VolParams {
        half_life_short_secs: short_h * HOUR,
        half_life_long_secs: long_h * HOUR,
        ..VolParams::REFERENCE
    };
    let err = |e| anyhow!("volatility estimator: {e}");
    let mut all = Vec::new();
    let (mut max, mut max_at) = (0.0, String::new());
    for (u, loaded) in files {
        let Some((_, bars)) = loaded.first() else { continue };
        let mut state = VolState::new(Fx::from_num(SEED_VOL), &params).map_err(err)?;
        for bar in bars {
            state = update(&state, Fx::from_num(bar.close), bar.time + HOUR, &params).map_err(err)?;
            let sigma =
                state.sigma_short().map_err(err)?.max(state.sigma_long().map_err(err)?).to_num::<f64>();
            all.push(sigma);
            if sigma > max {
                max = sigma;
                max_at = format!("{u} {}", format_time(bar.time + HOUR));
            }
        }
    }
    Ok(StressedSigma {
        half_life_short_hours: short_h,
        half_life_long_hours: long_h,
        quantile,
        sigma: quantile_of(&mut all, quantile),
        closes: all.len(),
        sigma_max: max,
        sigma_max_at: max_at,
    })
}

/// The `q` quantile of `x` (the ⌈q·n⌉-th smallest; 1: the largest).
pub fn quantile_of(x: &mut [f64], q: f64) -> f64 {
    x.sort_by(f64::total_cmp);
    let rank = ((q * x.len() as f64).ceil() as usize).clamp(1, x.len().max(1));
    x.get(rank - 1).copied().unwrap_or(0.0)
}

/// S_st of a point: k·σ_st·√horizon rounded up to a basis point, at most the cap.
pub fn stressed_shock(sigma_st: f64, k: f64, horizon_hours: i64, cap: f64) -> f64 {
    let raw = k * sigma_st * ((horizon_hours * HOUR) as f64 / YEAR_SECS).sqrt();
    ((raw * 10_000.0).ceil() / 10_000.0).min(cap)
}

impl Grid {
    /// Every valid combination (S_st from σ_st per half-life pair: (short, long, σ_st)).
    fn points(&self, sigma_st: &[(i64, i64, f64)]) -> Vec<Calibration> {
        let mut out = Vec::new();
        for &h in &self.horizons_hours {
            for &(hs, hl) in &self.half_lives_hours {
                let sigma = sigma_st.iter().find(|s| s.0 == hs && s.1 == hl).map_or(0.0, |s| s.2);
                for &k in &self.k {
                    for &cap in &self.caps {
                        for &floor in &self.floors {
                            for &w in &self.stressed_weights {
                                let c = Calibration {
                                    horizon_hours: h,
                                    k,
                                    floor,
                                    cap,
                                    half_life_short_hours: hs,
                                    half_life_long_hours: hl,
                                    max_decay: self.max_decay,
                                    stressed_weight: w,
                                    stressed_shock: if w > 0.0 {
                                        stressed_shock(sigma, k, h, cap)
                                    } else {
                                        0.0
                                    },
                                };
                                if c.params().validate().is_ok() {
                                    out.push(c);
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// A point's figures from its window lines (module docs).
pub fn aggregate(calibration: Calibration, lines: Vec<WindowLine>) -> PointResult {
    let n = lines.len().max(1) as f64;
    let observations: usize = lines.iter().map(|l| l.summary.observations).sum();
    let worst = lines.iter().min_by(|a, b| a.summary.coverage.total_cmp(&b.summary.coverage));
    let mut r = PointResult {
        calibration,
        windows: lines.len(),
        windows_at_99: lines.iter().filter(|l| l.summary.coverage >= COVERAGE_LEVEL).count(),
        worst_coverage: worst.map_or(0.0, |l| l.summary.coverage),
        worst_window: worst.map_or(String::new(), |l| format!("{} {}", l.underlying, l.window)),
        mean_margin_pct: lines.iter().map(|l| l.summary.mean_margin_pct).sum::<f64>() / n,
        mean_margin_pct_observations: lines
            .iter()
            .map(|l| l.summary.mean_margin_pct * l.summary.observations as f64)
            .sum::<f64>()
            / observations.max(1) as f64,
        bad_debt_accounts: lines.iter().map(|l| l.summary.bad_debt_accounts).sum(),
        worst_bad_debt_pct: lines
            .iter()
            .map(|l| l.summary.worst_bad_debt_pct)
            .try_fold(0.0, |w: f64, x| x.map(|x| w.max(x))),
        max_1d_increase_ratio: None,
        max_1d_increase_pct: None,
        max_5d_increase_ratio: None,
        max_5d_increase_pct: None,
        peak_to_trough: None,
        windows_with_1d_increase: lines
            .iter()
            .filter(|l| l.summary.procyclicality.max_1d_increase_pct.is_some())
            .count(),
        meets_targets: false,
        target_distance: 0.0,
        frontier: false,
        refined: false,
        per_window: Vec::new(),
    };
    for l in &lines {
        let p = &l.summary.procyclicality;
        r.max_1d_increase_ratio = max_opt(r.max_1d_increase_ratio, p.max_1d_increase_ratio);
        r.max_1d_increase_pct = max_opt(r.max_1d_increase_pct, p.max_1d_increase_pct);
        r.max_5d_increase_ratio = max_opt(r.max_5d_increase_ratio, p.max_5d_increase_ratio);
        r.max_5d_increase_pct = max_opt(r.max_5d_increase_pct, p.max_5d_increase_pct);
        r.peak_to_trough = max_opt(r.peak_to_trough, p.peak_to_trough);
    }
    r.target_distance = target_distance(&r);
    r.meets_targets = r.target_distance == 0.0;
    r.per_window = lines;
    r
}

/// Sum of the shortfalls from the targets, each in its own unit (module docs); 0: all met.
pub fn target_distance(r: &PointResult) -> f64 {
    TARGET_WINDOWS_AT_99.saturating_sub(r.windows_at_99) as f64
        + (100.0 * (TARGET_WORST_COVERAGE - r.worst_coverage)).max(0.0)
        + (100.0 * (r.mean_margin_pct - TARGET_MEAN_MARGIN)).max(0.0)
        + r.windows.saturating_sub(r.windows_with_1d_increase) as f64
}

/// The frontier's 1-day objective: the worst largest 1-day increase, +∞ when a window has
/// none (the target asks for one everywhere).
fn one_day(r: &PointResult) -> f64 {
    match r.max_1d_increase_pct {
        Some(x) if r.windows_with_1d_increase == r.windows => x,
        _ => f64::INFINITY,
    }
}

/// Whether `a` dominates `b` (module docs: at least as good on all four, better on one).
pub fn dominates(a: &PointResult, b: &PointResult) -> bool {
    let ge = a.windows_at_99 >= b.windows_at_99
        && a.worst_coverage >= b.worst_coverage
        && a.mean_margin_pct <= b.mean_margin_pct
        && one_day(a) <= one_day(b);
    let gt = a.windows_at_99 > b.windows_at_99
        || a.worst_coverage > b.worst_coverage
        || a.mean_margin_pct < b.mean_margin_pct
        || one_day(a) < one_day(b);
    ge && gt
}

/// Marks the frontier.
pub fn mark_frontier(points: &mut [PointResult]) {
    let flags: Vec<bool> =
        (0..points.len()).map(|i| !points.iter().any(|q| dominates(q, &points[i]))).collect();
    for (p, f) in points.iter_mut().zip(flags) {
        p.frontier = f;
    }
}

/// The reference among `points` (module docs) and why; `None` when there is no point.
pub fn choose(points: &[PointResult], min_horizon_hours: i64) -> Option<(usize, String)> {
    let eligible = |p: &PointResult| p.calibration.horizon_hours >= min_horizon_hours;
    let key = |p: &PointResult| (one_day(p), p.mean_margin_pct);
    let best_met = points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.meets_targets && eligible(p))
        .min_by(|a, b| key(a.1).partial_cmp(&key(b.1)).unwrap_or(std::cmp::Ordering::Equal));
    if let Some((i, _)) = best_met {
        let n = points.iter().filter(|p| p.meets_targets && eligible(p)).count();
        return Some((
            i,
            format!(
                "meets every target; of the {n} points that do with a horizon ≥ {min_horizon_hours} h, the smallest worst largest 1-day margin increase (points of notional), ties to the lower mean margin"
            ),
        ));
    }
    let closest = points.iter().enumerate().filter(|(_, p)| p.frontier && eligible(p)).min_by(|a, b| {
        (a.1.target_distance, key(a.1))
            .partial_cmp(&(b.1.target_distance, key(b.1)))
            .unwrap_or(std::cmp::Ordering::Equal)
    })?;
    Some((
        closest.0,
        format!(
            "NO point with a horizon ≥ {min_horizon_hours} h meets every target: the frontier point closest to them (sum of shortfalls {:.2})",
            closest.1.target_distance
        ),
    ))
}

/// The refinement around a first choice `c`: k ± 0.5 and the floor ± 1 and 2 points of spot,
/// the rest of `c` kept (S_st recomputed for each k), less the points already in `grid`.
pub fn refinement(c: &Calibration, grid: &[Calibration], sigma: &[(i64, i64, f64)]) -> Vec<Calibration> {
    let round = |x: f64| (x * 10_000.0).round() / 10_000.0;
    let sigma = sigma
        .iter()
        .find(|s| s.0 == c.half_life_short_hours && s.1 == c.half_life_long_hours)
        .map_or(0.0, |s| s.2);
    let mut out: Vec<Calibration> = Vec::new();
    for dk in [-0.5, 0.0, 0.5] {
        for df in [-0.02, -0.01, 0.0, 0.01, 0.02] {
            let k = round(c.k + dk);
            let mut p = Calibration { k, floor: round(c.floor + df), ..*c };
            if p.stressed_weight > 0.0 {
                p.stressed_shock = stressed_shock(sigma, k, p.horizon_hours, p.cap);
            }
            let known =
                |q: &Calibration| q.k == p.k && q.floor == p.floor && q.stressed_shock == p.stressed_shock;
            let same = |q: &Calibration| {
                known(q)
                    && q.horizon_hours == p.horizon_hours
                    && q.cap == p.cap
                    && q.half_life_short_hours == p.half_life_short_hours
                    && q.half_life_long_hours == p.half_life_long_hours
                    && q.stressed_weight == p.stressed_weight
                    && q.max_decay == p.max_decay
            };
            if p.params().validate().is_ok() && !grid.iter().any(same) && !out.iter().any(same) {
                out.push(p);
            }
        }
    }
    out
}

/// Loads the data once, replays every point (over `threads` threads), marks the frontier and
/// chooses the reference; then, with `refine`, replays the refinement around that choice and
/// chooses again among all points.
pub fn sweep(args: &Args) -> Result<SweepReport> {
    let began = Instant::now();
    if !(args.stressed_quantile > 0.0 && args.stressed_quantile <= 1.0) {
        bail!("--stressed-quantile must be in (0, 1]");
    }
    let data = CrashData::load(&args.data)?;
    let stressed: Vec<StressedSigma> = args
        .grid
        .half_lives_hours
        .iter()
        .map(|&(s, l)| data.stressed_sigma(s, l, args.stressed_quantile))
        .collect::<Result<_>>()?;
    let sigma: Vec<(i64, i64, f64)> =
        stressed.iter().map(|s| (s.half_life_short_hours, s.half_life_long_hours, s.sigma)).collect();
    let grid = args.grid.points(&sigma);
    if grid.is_empty() {
        bail!("the grid has no valid point (need 0 < floor ≤ cap < 1, k > 0, short half-life ≤ long)");
    }
    let mut points = evaluate(&data, &grid, args.threads, args.bad_debt_all)?;
    mark_frontier(&mut points);
    let bound = || format!("no grid point with a horizon ≥ {} h", args.min_horizon_hours);
    let (mut chosen, mut chosen_why) = choose(&points, args.min_horizon_hours).with_context(bound)?;
    if args.refine {
        let around = refinement(&points[chosen].calibration, &grid, &sigma);
        let mut refined = evaluate(&data, &around, args.threads, args.bad_debt_all)?;
        for p in &mut refined {
            p.refined = true;
        }
        points.extend(refined);
        mark_frontier(&mut points);
        (chosen, chosen_why) = choose(&points, args.min_horizon_hours).with_context(bound)?;
    }
    // Second pass: the bad debt of the frontier and the chosen point.
    let pending: Vec<usize> = (0..points.len())
        .filter(|&i| (points[i].frontier || i == chosen) && points[i].bad_debt_accounts.is_none())
        .collect();
    let calibrations: Vec<Calibration> = pending.iter().map(|&i| points[i].calibration).collect();
    for (i, with) in pending.into_iter().zip(evaluate(&data, &calibrations, args.threads, true)?) {
        let p = &mut points[i];
        let same = with.windows_at_99 == p.windows_at_99
            && with.worst_coverage == p.worst_coverage
            && with.mean_margin_pct == p.mean_margin_pct
            && with.max_1d_increase_pct == p.max_1d_increase_pct;
        if !same {
            bail!("the bad-debt pass of {:?} changed its other figures", p.calibration);
        }
        p.bad_debt_accounts = with.bad_debt_accounts;
        p.worst_bad_debt_pct = with.worst_bad_debt_pct;
        p.per_window = with.per_window;
    }
    Ok(SweepReport {
        data: args.data.display().to_string(),
        grid: args.grid.clone(),
        targets: Targets {
            windows_at_99: TARGET_WINDOWS_AT_99,
            worst_coverage: TARGET_WORST_COVERAGE,
            mean_margin_pct: TARGET_MEAN_MARGIN,
            one_day_increase_every_window: true,
            min_horizon_hours: args.min_horizon_hours,
        },
        stressed,
        chosen_meets_targets: points[chosen].meets_targets,
        points,
        chosen,
        chosen_why,
        seconds: began.elapsed().as_secs_f64(),
    })
}

pub fn run(args: &Args) -> Result<()> {
    let report = sweep(args)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if args.markdown {
        print_markdown(&report);
    } else {
        print(&report, args.all);
    }
    Ok(())
}

/// A point's figures as Markdown cells (after its calibration's).
fn markdown_cells(p: &PointResult) -> String {
    let ratio = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.2}×"));
    let points = |x: Option<f64>| x.map_or("-".into(), |x| format!("{:+.1}", x * 100.0));
    format!(
        "{}/{} | {:.2}% ({}) | {:.2}% | {} | {} / {} | {} / {} | {}",
        p.windows_at_99,
        p.windows,
        p.worst_coverage * 100.0,
        p.worst_window,
        p.mean_margin_pct * 100.0,
        p.bad_debt_accounts.map_or("-".into(), |n| n.to_string()),
        ratio(p.max_1d_increase_ratio),
        points(p.max_1d_increase_pct),
        ratio(p.max_5d_increase_ratio),
        points(p.max_5d_increase_pct),
        ratio(p.peak_to_trough)
    )
}

/// docs/backtest.md's tables: the frontier (points differing only in a floor that never binds
/// merged into one row), the points meeting every target, and the chosen point per window.
pub fn print_markdown(r: &SweepReport) {
    let head = "| horizon | k | floor | cap | half-lives | w_st (S_st) | windows ≥ 99% | worst coverage | mean margin | bad-debt accounts | largest 1-day increase × / points | 5-day × / points | peak/trough | |";
    let rule = "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";
    let same_but_floor = |a: &PointResult, b: &PointResult| {
        let (x, y) = (&a.calibration, &b.calibration);
        Calibration { floor: 0.0, stressed_shock: 0.0, ..*x }
            == Calibration { floor: 0.0, stressed_shock: 0.0, ..*y }
            && x.stressed_shock == y.stressed_shock
            && markdown_cells(a) == markdown_cells(b)
    };
    let row = |group: &[&PointResult], chosen: bool| {
        let p = group[0];
        let c = &p.calibration;
        let floors: Vec<String> = group.iter().map(|q| pct(q.calibration.floor)).collect();
        let note = [
            (chosen, "**chosen**"),
            (p.meets_targets && !chosen, "meets the targets"),
            (p.refined, "refinement"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, s)| *s)
        .collect::<Vec<_>>()
        .join(", ");
        format!(
            "| {} h | {} | {} | {} | {}/{} h | {} | {} | {} |",
            c.horizon_hours,
            c.k,
            floors.join(", "),
            pct(c.cap),
            c.half_life_short_hours,
            c.half_life_long_hours,
            if c.stressed_weight > 0.0 {
                format!("{} ({:.2}%)", c.stressed_weight, c.stressed_shock * 100.0)
            } else {
                "0".into()
            },
            markdown_cells(p),
            note
        )
    };
    let mut frontier: Vec<usize> = (0..r.points.len()).filter(|&i| r.points[i].frontier).collect();
    frontier.sort_by(|&a, &b| {
        let (p, q) = (&r.points[a], &r.points[b]);
        (p.calibration.horizon_hours, p.mean_margin_pct, p.calibration.floor)
            .partial_cmp(&(q.calibration.horizon_hours, q.mean_margin_pct, q.calibration.floor))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in frontier {
        match groups.iter_mut().find(|g| same_but_floor(&r.points[g[0]], &r.points[i])) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    println!(
        "Frontier: {} of {} points ({} rows; floors listed together give the same figures), by horizon and mean margin.",
        groups.iter().map(Vec::len).sum::<usize>(),
        r.points.len(),
        groups.len()
    );
    println!();
    println!("{head}");
    println!("{rule}");
    for g in &groups {
        let points: Vec<&PointResult> = g.iter().map(|&i| &r.points[i]).collect();
        println!("{}", row(&points, g.contains(&r.chosen)));
    }
    let mut met: Vec<usize> = (0..r.points.len()).filter(|&i| r.points[i].meets_targets).collect();
    met.sort_by(|&a, &b| r.points[a].mean_margin_pct.total_cmp(&r.points[b].mean_margin_pct));
    println!();
    println!("Points meeting every target: {}.", met.len());
    println!();
    println!("{head}");
    println!("{rule}");
    for &i in &met {
        println!("{}", row(&[&r.points[i]], i == r.chosen));
    }
    let c = &r.points[r.chosen];
    println!();
    println!("Chosen: {}. Per window (`xmargin backtest {}`):", r.chosen_why, c.calibration.command_line());
    println!();
    println!(
        "| window | underlying | coverage | mean margin | bad-debt accounts | largest 1-day increase × / points | 5-day × / points | peak/trough |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let ratio = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.2}×"));
    let points = |x: Option<f64>| x.map_or("-".into(), |x| format!("{:+.1}", x * 100.0));
    for l in &c.per_window {
        let (s, p) = (&l.summary, &l.summary.procyclicality);
        println!(
            "| {} | {} | {:.2}% | {:.2}% | {} | {} / {} | {} / {} | {} |",
            l.window,
            l.underlying,
            s.coverage * 100.0,
            s.mean_margin_pct * 100.0,
            s.bad_debt_accounts.map_or("-".into(), |n| n.to_string()),
            ratio(p.max_1d_increase_ratio),
            points(p.max_1d_increase_pct),
            ratio(p.max_5d_increase_ratio),
            points(p.max_5d_increase_pct),
            ratio(p.peak_to_trough)
        );
    }
}

/// A fraction as a percentage with one decimal when it has one (22.5%, 20%).
fn pct(x: f64) -> String {
    let p = (x * 1000.0).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

fn opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or("-".into(), f)
}

fn row(p: &PointResult, chosen: bool) -> String {
    let c = &p.calibration;
    let marks = format!(
        "{}{}{}{}",
        if chosen { "*" } else { "" },
        if p.frontier { "F" } else { "" },
        if p.meets_targets { "T" } else { "" },
        if p.refined { "R" } else { "" }
    );
    format!(
        "{:>3} {:>4} {:>6} {:>5} {:>7} {:>4.2} {:>5} {:>5} {:>7.2}% {:<18} {:>7.2}% {:>5} {:>7} {:>7} {:>7} {:>7} {:>7} {:>5}",
        c.horizon_hours,
        c.k,
        pct(c.floor),
        pct(c.cap),
        format!("{}/{}", c.half_life_short_hours, c.half_life_long_hours),
        c.stressed_weight,
        if c.stressed_weight > 0.0 { format!("{:.1}%", c.stressed_shock * 100.0) } else { "-".into() },
        format!("{}/{}", p.windows_at_99, p.windows),
        p.worst_coverage * 100.0,
        p.worst_window,
        p.mean_margin_pct * 100.0,
        p.bad_debt_accounts.map_or("-".into(), |n| n.to_string()),
        opt(p.max_1d_increase_ratio, |x| format!("{x:.2}×")),
        opt(p.max_1d_increase_pct, |x| format!("{:+.1}", x * 100.0)),
        opt(p.max_5d_increase_ratio, |x| format!("{x:.2}×")),
        opt(p.max_5d_increase_pct, |x| format!("{:+.1}", x * 100.0)),
        opt(p.peak_to_trough, |x| format!("{x:.2}×")),
        marks
    )
}

fn header() -> String {
    format!(
        "{:>3} {:>4} {:>6} {:>5} {:>7} {:>4} {:>5} {:>5} {:>8} {:<18} {:>8} {:>5} {:>7} {:>7} {:>7} {:>7} {:>7} {:>5}",
        "h",
        "k",
        "floor",
        "cap",
        "HL s/l",
        "w_st",
        "S_st",
        "≥99%",
        "worst",
        "(window)",
        "margin",
        "debt",
        "1d ×",
        "1d pts",
        "5d ×",
        "5d pts",
        "pk/tr",
        ""
    )
}

pub fn print(r: &SweepReport, all: bool) {
    let g = &r.grid;
    println!(
        "calibration sweep of the adaptive shock: {} points × {} (window, underlying), 6 books, the backtest's replay ({:.0} s)",
        r.points.len(),
        r.points.first().map_or(0, |p| p.windows),
        r.seconds
    );
    println!(
        "grid: horizon {:?} h; k {:?}; floor {:?}; cap {:?}; half-lives (short/long, h) {:?}; stressed weight {:?}; max decay {}/day",
        g.horizons_hours, g.k, g.floors, g.caps, g.half_lives_hours, g.stressed_weights, g.max_decay
    );
    for s in &r.stressed {
        println!(
            "stressed σ (half-lives {}/{} h): {:.0}%, the {} quantile of max(σ_short, σ_long) over {} hourly closes (largest {:.0}%, {}); S_st = k·σ·√horizon, rounded up to 1 bp, ≤ cap",
            s.half_life_short_hours,
            s.half_life_long_hours,
            s.sigma * 100.0,
            s.quantile,
            s.closes,
            s.sigma_max * 100.0,
            s.sigma_max_at
        );
    }
    let t = &r.targets;
    println!(
        "targets: coverage ≥ 99% on ≥ {} windows, none below {:.0}%, mean margin ≤ {:.1}% of notional, a 1-day increase on every window; horizon ≥ {} h",
        t.windows_at_99,
        t.worst_coverage * 100.0,
        t.mean_margin_pct * 100.0,
        t.min_horizon_hours
    );
    println!(
        "columns: windows ≥ 99% coverage; worst window coverage; mean margin (mean of the windows' mean margins, % notional); bad-debt accounts; worst over windows of the largest 1-day / 5-day increase (× and points of notional) and peak/trough. F = Pareto frontier (windows ≥ 99%, worst coverage, mean margin, 1-day points), T = meets the targets, R = refinement around the first choice, * = chosen"
    );
    let mut shown: Vec<usize> =
        (0..r.points.len()).filter(|&i| all || r.points[i].frontier || i == r.chosen).collect();
    shown.sort_by(|&a, &b| {
        let (p, q) = (&r.points[a], &r.points[b]);
        (p.calibration.horizon_hours, p.mean_margin_pct)
            .partial_cmp(&(q.calibration.horizon_hours, q.mean_margin_pct))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    println!();
    println!("{}", if all { "every point" } else { "the frontier" });
    println!("{}", header());
    for i in shown {
        println!("{}", row(&r.points[i], i == r.chosen));
    }
    let c = &r.points[r.chosen];
    println!();
    println!("chosen: {}", r.chosen_why);
    println!("{}", header());
    println!("{}", row(c, true));
    println!("replay it: xmargin backtest {}", c.calibration.command_line());
    println!(
        "{:<14} {:<4} {:>6} {:>9} {:>12} {:>9} {:>8} {:>9} {:>8} {:>9} {:>11}",
        "window",
        "und.",
        "obs.",
        "coverage",
        "mean margin",
        "bad debt",
        "1d ×",
        "1d pts",
        "5d ×",
        "5d pts",
        "peak/trough"
    );
    for l in &c.per_window {
        let (s, p) = (&l.summary, &l.summary.procyclicality);
        println!(
            "{:<14} {:<4} {:>6} {:>8.2}% {:>11.2}% {:>9} {:>8} {:>9} {:>8} {:>9} {:>11}",
            l.window,
            l.underlying,
            s.observations,
            s.coverage * 100.0,
            s.mean_margin_pct * 100.0,
            s.bad_debt_accounts.map_or("-".into(), |n| n.to_string()),
            opt(p.max_1d_increase_ratio, |x| format!("{x:.2}×")),
            opt(p.max_1d_increase_pct, |x| format!("{:+.2}", x * 100.0)),
            opt(p.max_5d_increase_ratio, |x| format!("{x:.2}×")),
            opt(p.max_5d_increase_pct, |x| format!("{:+.2}", x * 100.0)),
            opt(p.peak_to_trough, |x| format!("{x:.2}×"))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(windows_at_99: usize, worst: f64, margin: f64, one_day: Option<f64>) -> PointResult {
        let c = Calibration {
            horizon_hours: 4,
            k: 5.0,
            floor: 0.2,
            cap: 0.6,
            half_life_short_hours: 12,
            half_life_long_hours: 168,
            max_decay: 0.1,
            stressed_weight: 0.0,
            stressed_shock: 0.0,
        };
        let mut r = aggregate(c, Vec::new());
        r.windows = 17;
        r.windows_at_99 = windows_at_99;
        r.worst_coverage = worst;
        r.mean_margin_pct = margin;
        r.max_1d_increase_pct = one_day;
        r.windows_with_1d_increase = if one_day.is_some() { 17 } else { 0 };
        r.target_distance = target_distance(&r);
        r.meets_targets = r.target_distance == 0.0;
        r
    }

    #[test]
    fn frontier_and_choice() {
        let mut points = vec![
            result(15, 0.979, 0.198, Some(0.20)), // meets the targets
            result(15, 0.979, 0.190, Some(0.25)), // meets them, cheaper, more procyclical
            result(14, 0.979, 0.200, Some(0.30)), // dominated by the first two
            result(17, 0.995, 0.300, Some(0.10)), // covers more, costs more: frontier
            result(17, 0.995, 0.150, None),       // no 1-day increase: infinitely bad there
        ];
        mark_frontier(&mut points);
        let f: Vec<bool> = points.iter().map(|p| p.frontier).collect();
        assert_eq!(f, vec![true, true, false, true, true]);
        assert!((points[2].target_distance - 1.2).abs() < 1e-9);
        assert!((points[3].target_distance - 10.2).abs() < 1e-9 && points[4].target_distance == 17.0);
        // The least 1-day increase among those meeting the targets.
        assert_eq!(choose(&points, 4).unwrap().0, 0);
        // Below the shortest horizon the engine can meet nothing is eligible.
        assert!(choose(&points, 8).is_none());
        // Without a point meeting them: the closest frontier point.
        let mut points = vec![result(14, 0.979, 0.200, Some(0.30)), result(17, 0.995, 0.300, Some(0.10))];
        mark_frontier(&mut points);
        let (i, why) = choose(&points, 1).unwrap();
        assert_eq!(i, 0);
        assert!(why.starts_with("NO point"));
    }

    #[test]
    fn stressed_shock_scales_with_k_and_the_square_root_of_the_horizon() {
        // σ 200%, k 3, one day: 3 × 2 × √(1/365) = 0.31405 → 0.3141 (rounded up).
        assert!((stressed_shock(2.0, 3.0, 24, 0.6) - 0.3141).abs() < 1e-12);
        assert!((stressed_shock(2.0, 3.0, 6, 0.6) - 0.1571).abs() < 1e-12);
        assert_eq!(stressed_shock(5.0, 6.0, 24, 0.6), 0.6, "at most the cap");
    }

    #[test]
    fn a_point_maps_to_the_backtest_flags() {
        let c = Calibration {
            horizon_hours: 8,
            k: 4.5,
            floor: 0.15,
            cap: 0.5,
            half_life_short_hours: 6,
            half_life_long_hours: 168,
            max_decay: 0.1,
            stressed_weight: 0.25,
            stressed_shock: 0.2,
        };
        let p = c.params();
        assert_eq!(p.horizon_secs, 8 * 3600);
        assert_eq!(p.half_life_short_secs, 6 * 3600);
        assert_eq!(p.stressed_weight, Fx::from_num(0.25));
        assert!(c.command_line().contains("--vol-horizon-hours 8 --vol-k 4.5 --vol-floor 0.15"));
    }
}
