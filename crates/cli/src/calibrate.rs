//! `xmargin calibrate`: the offset and link parameters the price data supports, as the table
//! governance would propose (the reference calibration in `xmargin_risk::reference` cites it).
//!
//! **Offset credits ρ, per pair.** Hourly log-return correlations (the perpetuals' files over
//! their whole sample, each crash window, and 30-day rolling windows: their minimum and 5%
//! quantile), and the backtest criterion: the largest ρ on a 0.05 grid such that, for every
//! ρ' ≤ ρ, the β-matched pair books of `backtest --books` (both directions, static and
//! adaptive grids) have, on every crash window, no more bad-debt accounts and no more
//! breaches than with ρ = 0. The proposed ρ is that (the minimum over windows, directions
//! and grids). A cross-check from the correlations alone is printed beside it: a matched
//! pair's requirement is (1 − ρ)·2R for a leg's R, while its spread's volatility is
//! √(2(1 − c)) of a leg's, so ρ ≤ 1 − √((1 − c)/2) keeps the pair's margin in proportion to
//! its spread risk at correlation c (taken at the 5% quantile of 30-day correlations).
//!
//! **Basis haircut, per underlying.** The perp/spot basis b = spot/perp − 1 where both exist:
//! SOL hourly (spot and perp files), BTC and ETH at 4 hours (the 4-hour spot closes against
//! the perpetual's hourly close at the same instant; their hourly spot file covers only
//! 2024-08, when there is no perpetual file). A linked carry (long spot, short perp) loses
//! ((s₀ − p₀) − (s₁ − p₁)) / s₀ when the basis falls; the worst of that within 4 hours and
//! within the liquidation horizon is what the maintenance basis haircut must cover (a
//! linked carry cannot be partially liquidated: closing either leg alone adds an unhedged
//! exposure, so its margin must cover the whole horizon). Proposed: the horizon's worst,
//! × 1.25, rounded up to 0.5%; initial: maintenance × 1.5 (the grid's initial scale),
//! rounded up to 0.5%. Closes only: highs and lows of two products within an hour (or four)
//! are not simultaneous.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use xmargin_risk::vol::VolParams;

use crate::backtest::books::{
    align, correlation_beta, join, joint_returns, pair_beta, pair_credits, replay_book, Aligned, Book,
    BookKind, Prices, PAIRS,
};
use crate::backtest::data::{format_time, Bar};
use crate::backtest::liquidate::Credits;
use crate::backtest::replay::Model;
use crate::backtest::{windows, CRASH_WINDOWS};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// The ρ grid step.
const STEP: f64 = 0.05;
/// Rolling-correlation window, its least number of returns, and the sampling step.
const ROLLING_DAYS: i64 = 30;
const ROLLING_MIN_RETURNS: usize = 648; // 90% of 30 days of hours
const QUANTILE: f64 = 0.05;
/// Basis haircut: margin over the worst move, rounding, initial scale.
const BASIS_MARGIN: f64 = 1.25;
const BASIS_ROUND: f64 = 0.005;
const INITIAL_SCALE: f64 = 1.5;

pub struct Args {
    pub data: PathBuf,
    pub json: bool,
    /// Estimator parameters (the adaptive grid and the liquidation horizon).
    pub vol: VolParams,
}

/// One window's correlation of a pair (`None`: a leg has no data there).
#[derive(Debug, serde::Serialize)]
pub struct WindowCorrelation {
    pub window: String,
    pub correlation: Option<f64>,
    pub returns: usize,
    pub note: String,
}

/// One step of the ρ search: how many bad-debt accounts and breaches it adds to ρ = 0,
/// summed over windows, directions and grids, and the first place it does.
#[derive(Debug, serde::Serialize)]
pub struct RhoStep {
    pub rho: f64,
    pub extra_bad_debt: usize,
    pub extra_breaches: usize,
    /// Mean maintenance margin, % of gross notional, over every observation (static grid).
    pub mean_margin_static_pct: f64,
    pub first_failure: Option<String>,
    /// Every (window, book, grid) where it does.
    pub failures: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct PairCalibration {
    pub pair: String,
    pub correlation_whole: f64,
    pub returns_whole: usize,
    pub windows: Vec<WindowCorrelation>,
    pub rolling_30d_min: f64,
    pub rolling_30d_min_at: String,
    pub rolling_30d_q05: f64,
    /// 1 − √((1 − q05)/2), rounded down to the grid (the cross-check).
    pub rho_correlation: f64,
    /// Largest ρ with no extra bad debt (breaches allowed).
    pub rho_no_extra_bad_debt: f64,
    /// Largest ρ with no extra bad debt and no extra breach: the backtest criterion.
    pub rho_backtest: f64,
    pub proposed: f64,
    pub why: String,
    pub steps: Vec<RhoStep>,
}

#[derive(Debug, serde::Serialize)]
pub struct BasisCalibration {
    pub underlying: String,
    /// Files and resolution compared; `None` fields: no overlap of spot and perp data.
    pub source: String,
    pub observations: usize,
    pub worst_level: Option<f64>,
    pub worst_level_at: Option<String>,
    /// Worst carry loss (fraction of spot) within 4 hours and within the horizon.
    pub worst_loss_4h: Option<f64>,
    pub worst_loss_horizon: Option<f64>,
    pub worst_loss_horizon_at: Option<String>,
    /// 99.9% quantile of the horizon's carry loss over every start.
    pub q999_loss_horizon: Option<f64>,
    pub proposed_maintenance: Option<f64>,
    pub proposed_initial: Option<f64>,
}

#[derive(Debug, serde::Serialize)]
pub struct ProposedGroup {
    pub members: Vec<String>,
    pub rho: f64,
}

#[derive(Debug, serde::Serialize)]
pub struct Calibration {
    pub horizon_hours: i64,
    pub pairs: Vec<PairCalibration>,
    pub basis: Vec<BasisCalibration>,
    /// Disjoint groups: pairs by proposed ρ, highest first, each taken when neither member
    /// is in a group yet and its ρ is positive.
    pub offset_groups: Vec<ProposedGroup>,
    /// Pairs without both hourly files, not calibrated.
    pub skipped_pairs: Vec<String>,
    /// Link basis haircut (initial, maintenance) for BTC and ETH (the larger of the two).
    pub link_basis_btc_eth: Option<(f64, f64)>,
    pub seconds: f64,
}

fn floor_grid(x: f64) -> f64 {
    ((x / STEP) + 1e-9).floor().max(0.0) * STEP
}

fn round_up(x: f64, step: f64) -> f64 {
    ((x / step) - 1e-9).ceil() * step
}

fn rolling(r: &[(i64, f64, f64)]) -> (f64, i64, f64) {
    // Prefix sums of x, y, x², y², xy.
    let mut p = vec![[0.0f64; 5]; r.len() + 1];
    for (i, (_, x, y)) in r.iter().enumerate() {
        let q = p[i];
        p[i + 1] = [q[0] + x, q[1] + y, q[2] + x * x, q[3] + y * y, q[4] + x * y];
    }
    let mut values: Vec<(f64, i64)> = Vec::new();
    let Some(first) = r.first() else { return (f64::NAN, 0, f64::NAN) };
    let mut end_t = first.0 + ROLLING_DAYS * DAY;
    let last = r.last().map_or(0, |x| x.0);
    while end_t <= last {
        let hi = r.partition_point(|x| x.0 <= end_t);
        let lo = r.partition_point(|x| x.0 <= end_t - ROLLING_DAYS * DAY);
        let n = hi - lo;
        if n >= ROLLING_MIN_RETURNS {
            let s: Vec<f64> = (0..5).map(|k| p[hi][k] - p[lo][k]).collect();
            let nf = n as f64;
            let cov = s[4] - s[0] * s[1] / nf;
            let vx = s[2] - s[0] * s[0] / nf;
            let vy = s[3] - s[1] * s[1] / nf;
            values.push((cov / (vx * vy).sqrt(), end_t));
        }
        end_t += DAY;
    }
    if values.is_empty() {
        return (f64::NAN, 0, f64::NAN);
    }
    let min = values.iter().copied().fold((f64::INFINITY, 0), |a, b| if b.0 < a.0 { b } else { a });
    let mut sorted: Vec<f64> = values.iter().map(|v| v.0).collect();
    sorted.sort_by(f64::total_cmp);
    let q = sorted.get(((sorted.len() as f64) * QUANTILE) as usize).copied().unwrap_or(f64::NAN);
    (min.0, min.1, q)
}

/// Per (direction, window) of a pair: the book, its aligned prices and β.
struct Case {
    book: Book,
    window: String,
    start: i64,
    end: i64,
    aligned: Aligned,
    beta: f64,
}

fn pair_calibration(
    prices: &mut Prices,
    a: &str,
    b: &str,
    windows: &[(String, i64, i64)],
    params: &VolParams,
) -> Result<PairCalibration> {
    let models = [Model::Static, Model::Adaptive];
    // Whole-sample and rolling correlations: the perpetuals' hourly files.
    let name = |u: &str| format!("{}_usd_1h.csv", u.to_lowercase());
    let (whole, n_whole, roll) = match (prices.file(a, &name(a)), prices.file(b, &name(b))) {
        (Some(x), Some(y)) => {
            let (times, rows) = join(&[x, y], i64::MIN, i64::MAX);
            let r = joint_returns(&times, &rows[0], &rows[1], HOUR);
            (correlation_beta(&r).0, r.len(), rolling(&r))
        }
        _ => unreachable!("pairs without both hourly files are skipped by the caller"),
    };
    let mut window_corr = Vec::new();
    let mut cases = Vec::new();
    for (w, start, end) in windows {
        let book =
            |l: &str, s: &str| Book { kind: BookKind::Pair, underlyings: vec![l.to_string(), s.to_string()] };
        match align(prices, &book(a, b), *start, *end, params.horizon_secs) {
            Err(reason) => window_corr.push(WindowCorrelation {
                window: w.clone(),
                correlation: None,
                returns: 0,
                note: reason,
            }),
            Ok(al) => {
                let (times, rows) = join(&[&al.under[0], &al.under[1]], *start, *end);
                let r = joint_returns(&times, &rows[0], &rows[1], HOUR);
                window_corr.push(WindowCorrelation {
                    window: w.clone(),
                    correlation: Some(correlation_beta(&r).0),
                    returns: r.len(),
                    note: al.files.clone(),
                });
                for (l, s) in [(a, b), (b, a)] {
                    let bk = book(l, s);
                    let aligned =
                        align(prices, &bk, *start, *end, params.horizon_secs).map_err(anyhow::Error::msg)?;
                    let beta = pair_beta(prices, l, s, *start)?.0;
                    cases.push(Case { book: bk, window: w.clone(), start: *start, end: *end, aligned, beta });
                }
            }
        }
    }
    // ρ = 0: the reference counts.
    // Per case, per grid: (bad-debt accounts, breaches, mean margin, observations).
    type Counts = Vec<Vec<(usize, usize, f64, usize)>>;
    let run = |rho: f64| -> Result<Counts> {
        let credits: Credits = pair_credits(rho)?;
        cases
            .iter()
            .map(|c| {
                let t = replay_book(
                    &c.book,
                    &c.aligned,
                    c.beta,
                    (c.start, c.end),
                    params,
                    &models,
                    std::slice::from_ref(&credits),
                )?;
                Ok(t.iter()
                    .map(|per_model| {
                        let s = per_model[0].summary();
                        (s.bad_debt_accounts.unwrap_or(0), s.breaches, s.mean_margin_pct, s.observations)
                    })
                    .collect())
            })
            .collect()
    };
    let base = run(0.0)?;
    let mut steps = Vec::new();
    let (mut rho_debt, mut rho_strict) = (None, None);
    let mut k = 0;
    loop {
        let rho = k as f64 * STEP;
        let counts = if k == 0 { base.clone() } else { run(rho)? };
        let (mut extra_debt, mut extra_breaches) = (0usize, 0usize);
        let mut failures: Vec<String> = Vec::new();
        let (mut margin_sum, mut n) = (0.0, 0usize);
        for (ci, c) in cases.iter().enumerate() {
            for (mi, model) in models.iter().enumerate() {
                let (d, br, m, obs) = counts[ci][mi];
                let (d0, br0, _, _) = base[ci][mi];
                let (xd, xb) = (d.saturating_sub(d0), br.saturating_sub(br0));
                extra_debt += xd;
                extra_breaches += xb;
                if xd > 0 || xb > 0 {
                    failures.push(format!(
                        "{} {} {}: {} breaches (ρ 0: {br0}), {} bad-debt accounts (ρ 0: {d0})",
                        c.window,
                        c.book.name(),
                        format!("{model:?}").to_lowercase(),
                        br,
                        d
                    ));
                }
                if *model == Model::Static {
                    margin_sum += m * obs as f64;
                    n += obs;
                }
            }
        }
        steps.push(RhoStep {
            rho,
            extra_bad_debt: extra_debt,
            extra_breaches,
            mean_margin_static_pct: margin_sum / n.max(1) as f64 * 100.0,
            first_failure: failures.first().cloned(),
            failures,
        });
        if extra_debt > 0 && rho_debt.is_none() {
            rho_debt = Some(rho - STEP);
        }
        if (extra_debt > 0 || extra_breaches > 0) && rho_strict.is_none() {
            rho_strict = Some(rho - STEP);
        }
        // Up to the first step that adds bad debt (both criteria have failed by then).
        if rho_debt.is_some() || k == (1.0 / STEP).round() as usize {
            break;
        }
        k += 1;
    }
    // No crash window with data for both: nothing supports a credit.
    let vacuous = cases.is_empty();
    let rho_debt = if vacuous { 0.0 } else { rho_debt.unwrap_or(1.0).max(0.0) };
    let rho_strict = if vacuous { 0.0 } else { rho_strict.unwrap_or(1.0).max(0.0) };
    let rho_corr = floor_grid(1.0 - ((1.0 - roll.2).max(0.0) / 2.0).sqrt());
    let binding = steps
        .iter()
        .find(|s| s.first_failure.is_some())
        .and_then(|s| s.first_failure.as_ref().map(|f| format!("at ρ {:.2}: {f}", s.rho)));
    let why = match binding {
        _ if vacuous => "no crash window has data for both underlyings: no credit".into(),
        Some(b) => format!("the largest ρ adding no breach or bad debt on any crash window; {b}"),
        None => "no ρ up to 1 adds a breach or bad debt on the crash windows".into(),
    };
    Ok(PairCalibration {
        pair: format!("{a}/{b}"),
        correlation_whole: whole,
        returns_whole: n_whole,
        windows: window_corr,
        rolling_30d_min: roll.0,
        rolling_30d_min_at: format_time(roll.1),
        rolling_30d_q05: roll.2,
        rho_correlation: rho_corr,
        rho_no_extra_bad_debt: rho_debt,
        rho_backtest: rho_strict,
        proposed: rho_strict,
        why,
        steps,
    })
}

/// Spot and perp closes of one underlying at common instants.
struct BasisSeries {
    /// Files and resolution.
    source: String,
    times: Vec<i64>,
    spot: Vec<f64>,
    perp: Vec<f64>,
}

/// [`BasisSeries`] of `u`: hourly spot and perp files, else the 4-hour spot file against the
/// perpetual's close at the same instant; `None` without a perpetual file or a spot file.
fn basis_series(prices: &mut Prices, u: &str) -> Result<Option<BasisSeries>> {
    let l = u.to_lowercase();
    let (perp_name, spot_name) = (format!("{l}_usd_1h.csv"), format!("{l}_usd_1h_spot.csv"));
    let Some(perp) = prices.file(u, &perp_name).map(|b| b.to_vec()) else { return Ok(None) };
    let closes = |rows: &[Vec<Bar>], k: usize| rows[k].iter().map(|b| b.close).collect::<Vec<f64>>();
    if let Some(spot) = prices.file(u, &spot_name) {
        let (times, rows) = join(&[spot, &perp], i64::MIN, i64::MAX);
        let source = format!("{spot_name} vs {perp_name}, hourly closes");
        return Ok(Some(BasisSeries { source, times, spot: closes(&rows, 0), perp: closes(&rows, 1) }));
    }
    let four = format!("{l}_usd_4h_spot.csv");
    let Some(spot) = prices.four_hour(u)? else { return Ok(None) };
    // The perpetual's close at the 4-hour bar's close: its hourly bar opening 3 h later.
    let shifted: Vec<Bar> = perp.iter().map(|b| Bar { time: b.time - 3 * HOUR, ..*b }).collect();
    let (times, rows) = join(&[spot, &shifted], i64::MIN, i64::MAX);
    let source = format!("{four} vs {perp_name}, 4-hour closes");
    Ok(Some(BasisSeries { source, times, spot: closes(&rows, 0), perp: closes(&rows, 1) }))
}

fn basis_calibration(prices: &mut Prices, u: &str, horizon: i64) -> Result<BasisCalibration> {
    let Some(BasisSeries { source, times, spot: s, perp: p }) = basis_series(prices, u)? else {
        return Ok(BasisCalibration {
            underlying: u.into(),
            source: "no overlap of spot and perpetual data".into(),
            observations: 0,
            worst_level: None,
            worst_level_at: None,
            worst_loss_4h: None,
            worst_loss_horizon: None,
            worst_loss_horizon_at: None,
            q999_loss_horizon: None,
            proposed_maintenance: None,
            proposed_initial: None,
        });
    };
    let (mut level, mut level_at) = (0.0f64, 0i64);
    let (mut w4, mut wh, mut wh_at) = (0.0f64, 0.0f64, 0i64);
    let mut per_start = Vec::with_capacity(times.len());
    for i in 0..times.len() {
        let b = (s[i] / p[i] - 1.0).abs();
        if b > level {
            (level, level_at) = (b, times[i]);
        }
        let mut worst = 0.0f64;
        for j in i + 1..times.len() {
            let dt = times[j] - times[i];
            if dt > horizon {
                break;
            }
            let loss = ((s[i] - p[i]) - (s[j] - p[j])) / s[i];
            worst = worst.max(loss);
            if dt <= 4 * HOUR {
                w4 = w4.max(loss);
            }
        }
        if worst > wh {
            (wh, wh_at) = (worst, times[i]);
        }
        per_start.push(worst);
    }
    per_start.sort_by(f64::total_cmp);
    let q = per_start.get(((per_start.len() as f64) * 0.999) as usize).copied().unwrap_or(0.0);
    let maintenance = round_up(wh * BASIS_MARGIN, BASIS_ROUND);
    Ok(BasisCalibration {
        underlying: u.into(),
        source,
        observations: times.len(),
        worst_level: Some(level),
        worst_level_at: Some(format_time(level_at)),
        worst_loss_4h: Some(w4),
        worst_loss_horizon: Some(wh),
        worst_loss_horizon_at: Some(format_time(wh_at)),
        q999_loss_horizon: Some(q),
        proposed_maintenance: Some(maintenance),
        proposed_initial: Some(round_up(maintenance * INITIAL_SCALE, BASIS_ROUND)),
    })
}

pub fn calibrate(args: &Args) -> Result<Calibration> {
    let started = Instant::now();
    if !args.data.is_dir() {
        bail!(
            "price data not found at {}: pass --data DIR (files named like btc_usd_1h.csv, as in shared/data/prices)",
            args.data.display()
        );
    }
    let params = args.vol;
    params.validate().map_err(|e| anyhow::anyhow!("volatility parameters: {e}"))?;
    let underlyings: Vec<String> = ["BTC", "ETH", "SOL"].iter().map(|s| s.to_string()).collect();
    let mut prices = Prices::load(&args.data, &underlyings)?;
    let windows = windows(None)?;
    debug_assert_eq!(windows.len(), CRASH_WINDOWS.len());
    let mut pairs = Vec::new();
    let mut skipped_pairs = Vec::new();
    for (a, b) in PAIRS {
        let hourly = |u: &str| format!("{}_usd_1h.csv", u.to_lowercase());
        if prices.file(a, &hourly(a)).is_none() || prices.file(b, &hourly(b)).is_none() {
            skipped_pairs.push(format!("{a}/{b}: needs {} and {}", hourly(a), hourly(b)));
            continue;
        }
        pairs.push(pair_calibration(&mut prices, a, b, &windows, &params)?);
    }
    let mut basis = Vec::new();
    for u in &underlyings {
        basis.push(basis_calibration(&mut prices, u, params.horizon_secs)?);
    }
    // Disjoint groups, highest credit first.
    let mut order: Vec<&PairCalibration> = pairs.iter().collect();
    order.sort_by(|x, y| y.proposed.total_cmp(&x.proposed));
    let mut taken: Vec<String> = Vec::new();
    let mut offset_groups = Vec::new();
    for p in order {
        let members: Vec<String> = p.pair.split('/').map(str::to_string).collect();
        if p.proposed > 0.0 && members.iter().all(|m| !taken.contains(m)) {
            taken.extend(members.iter().cloned());
            offset_groups.push(ProposedGroup { members, rho: p.proposed });
        }
    }
    let btc_eth: Vec<&BasisCalibration> = basis.iter().filter(|b| b.underlying != "SOL").collect();
    let link_basis_btc_eth = btc_eth
        .iter()
        .map(|b| b.proposed_initial.zip(b.proposed_maintenance))
        .collect::<Option<Vec<_>>>()
        .map(|v| v.iter().fold((0.0f64, 0.0f64), |a, b| (a.0.max(b.0), a.1.max(b.1))));
    Ok(Calibration {
        horizon_hours: params.horizon_secs / HOUR,
        pairs,
        basis,
        offset_groups,
        skipped_pairs,
        link_basis_btc_eth,
        seconds: started.elapsed().as_secs_f64(),
    })
}

pub fn run(args: &Args) -> Result<()> {
    let c = calibrate(args)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&c)?);
    } else {
        print(&c);
    }
    Ok(())
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{:.2}%", x * 100.0))
}

pub fn print(c: &Calibration) {
    println!("offset credits ρ per pair: hourly log-return correlations and the backtest criterion (β-matched pair books both ways, static and adaptive grids, {} h horizon)", c.horizon_hours);
    let names: Vec<&str> = CRASH_WINDOWS.iter().map(|w| w.0).collect();
    print!("{:<8} {:>6}", "pair", "whole");
    for n in &names {
        print!(" {:>13}", n);
    }
    println!(
        " {:>19} {:>7} {:>7} {:>9} {:>10} {:>9}",
        "30d min (day)", "30d q5%", "ρ corr", "ρ no-debt", "ρ backtest", "proposed"
    );
    for p in &c.pairs {
        print!("{:<8} {:>6.3}", p.pair, p.correlation_whole);
        for w in &p.windows {
            print!(" {:>13}", w.correlation.map_or("no data".into(), |x| format!("{x:.3}")));
        }
        println!(
            " {:>6.3} ({}) {:>7.3} {:>7.2} {:>9.2} {:>10.2} {:>9.2}",
            p.rolling_30d_min,
            &p.rolling_30d_min_at[..10],
            p.rolling_30d_q05,
            p.rho_correlation,
            p.rho_no_extra_bad_debt,
            p.rho_backtest,
            p.proposed
        );
    }
    for s in &c.skipped_pairs {
        println!("  skipped {s}");
    }
    for p in &c.pairs {
        println!("  {} proposed ρ {:.2}: {}", p.pair, p.proposed, p.why);
        for s in &p.steps {
            println!(
                "    ρ {:.2}: +{} bad-debt accounts, +{} breaches vs ρ 0; mean static margin {:.2}% of gross",
                s.rho, s.extra_bad_debt, s.extra_breaches, s.mean_margin_static_pct
            );
        }
    }
    println!();
    println!("link basis haircut per underlying: carry loss ((s0 − p0) − (s1 − p1))/s0 of long spot / short perp, closes");
    println!(
        "{:<4} {:>7} {:>18} {:>8} {:>8} {:>18} {:>8} {:>12} {:>9}  source",
        "und.", "obs.", "worst |b| (at)", "4 h", "horizon", "(start)", "q99.9%", "maintenance", "initial"
    );
    for b in &c.basis {
        println!(
            "{:<4} {:>7} {:>8} {:>9} {:>8} {:>8} {:>18} {:>8} {:>12} {:>9}  {}",
            b.underlying,
            b.observations,
            pct(b.worst_level),
            b.worst_level_at.as_deref().map_or("", |s| &s[..10]),
            pct(b.worst_loss_4h),
            pct(b.worst_loss_horizon),
            b.worst_loss_horizon_at.as_deref().unwrap_or(""),
            pct(b.q999_loss_horizon),
            pct(b.proposed_maintenance),
            pct(b.proposed_initial),
            b.source
        );
    }
    println!();
    println!("proposed reference (disjoint groups; an underlying in at most one):");
    for g in &c.offset_groups {
        println!("  offset group {{{}}}: ρ {:.2}", g.members.join(", "), g.rho);
    }
    let grouped: Vec<&String> = c.offset_groups.iter().flat_map(|g| g.members.iter()).collect();
    for p in &c.pairs {
        if !c.offset_groups.iter().any(|g| g.members.join("/") == p.pair) {
            let shares = p.pair.split('/').any(|m| grouped.iter().any(|g| g.as_str() == m));
            println!(
                "  {} not grouped: proposed ρ {:.2}{}",
                p.pair,
                p.proposed,
                if shares { ", shares a member with a higher-credit group" } else { "" }
            );
        }
    }
    if let Some((i, m)) = c.link_basis_btc_eth {
        println!("  link basis haircut BTC, ETH: {:.1}% initial / {:.1}% maintenance", i * 100.0, m * 100.0);
    }
    for b in c.basis.iter().filter(|b| b.underlying == "SOL") {
        println!(
            "  SOL: basis moved {} within the horizon: a haircut of {} ({} initial) would charge a carry more than its standalone haircut plus the perp's requirement; not linked",
            pct(b.worst_loss_horizon),
            pct(b.proposed_maintenance),
            pct(b.proposed_initial)
        );
    }
    println!("({:.1} s)", c.seconds);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_rounding() {
        assert_eq!(floor_grid(0.6199), 0.6000000000000001);
        assert!((floor_grid(0.65) - 0.65).abs() < 1e-12, "a grid point is kept");
        assert_eq!(floor_grid(-0.2), 0.0);
        assert!((round_up(0.0201 * 1.25, 0.005) - 0.03).abs() < 1e-12);
        assert!((round_up(0.03, 0.005) - 0.03).abs() < 1e-12, "a rounded value stays");
    }

    #[test]
    fn rolling_correlation_sees_a_regime_change() {
        // 61 days of hourly returns: y = x for 30 days, then y = −x; the rolling minimum is
        // −1 (the last window, all after the change), found at the end; the 5% quantile
        // (the second-lowest of 31 daily windows) is negative.
        let mut seed = 7u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let r: Vec<(i64, f64, f64)> = (0..61 * 24)
            .map(|h| {
                let x = next();
                (h * HOUR, x, if h < 30 * 24 { x } else { -x })
            })
            .collect();
        let (min, at, q) = rolling(&r);
        assert!((min + 1.0).abs() < 1e-9 && q < -0.5, "{min} {q}");
        assert_eq!(at, 60 * DAY);
        // Too short for one window: no value.
        assert!(rolling(&r[..100]).0.is_nan());
    }
}
