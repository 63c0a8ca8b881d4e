//! `xmargin backtest --books` and `xmargin calibrate`: the engine's capital-efficiency
//! credits (linked collateral, correlation offsets, conversions) on the crash windows of
//! ../shared/data/prices when present (each such test says it is skipped otherwise), and
//! on synthetic correlated paths always.
mod common;

use common::Rng;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use xmargin_cli::backtest::data::format_time;
use xmargin_risk::reference::{LINK_BASIS_HAIRCUT, OFFSET_GROUPS};

/// How much more margin (fraction of notional, mean over a window) a covered call on linked
/// spot may lock than the same book unlinked: the tail table's crash row charges the linked
/// spot's crash loss in the grid (measured: up to 0.45 points).
const COVERED_CALL_LINK_ALLOWANCE: f64 = 0.01;

fn xmargin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xmargin")).args(args).env_remove("RUST_BACKTRACE").output().unwrap()
}

fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn shared_prices() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/prices");
    dir.is_dir().then_some(dir)
}

/// Two hourly geometric Brownian motions (annual vols `sigma`, correlation `rho`) from
/// `start` for `hours`, written as `btc_usd_1h.csv` and `eth_usd_1h.csv` in `dir`.
fn correlated_files(dir: &Path, sigma: [f64; 2], rho: f64, start: i64, hours: usize, seed: u64) {
    let mut rng = Rng(seed);
    let dt = 1.0 / (365.0 * 24.0 * 4.0);
    let mut price = [60_000.0f64, 3_000.0];
    let mut out = [String::new(), String::new()];
    for o in &mut out {
        o.push_str("timestamp_utc,open,high,low,close,volume\n");
    }
    for h in 0..hours {
        let open = price;
        let (mut high, mut low) = (price, price);
        for _ in 0..4 {
            let (z1, z2) = (rng.normal(), rng.normal());
            let z = [z1, rho * z1 + (1.0 - rho * rho).sqrt() * z2];
            for k in 0..2 {
                price[k] *= (-0.5 * sigma[k] * sigma[k] * dt + sigma[k] * dt.sqrt() * z[k]).exp();
                high[k] = high[k].max(price[k]);
                low[k] = low[k].min(price[k]);
            }
        }
        let time = format_time(start + h as i64 * 3600).replace(' ', "T");
        for k in 0..2 {
            out[k].push_str(&format!(
                "{time}:00Z,{:.6},{:.6},{:.6},{:.6},1\n",
                open[k], high[k], low[k], price[k]
            ));
        }
    }
    for (name, text) in ["btc_usd_1h.csv", "eth_usd_1h.csv"].iter().zip(out) {
        std::fs::File::create(dir.join(name)).unwrap().write_all(text.as_bytes()).unwrap();
    }
}

fn pct(v: &Value, side: &str, field: &str) -> f64 {
    v[side][field].as_f64().unwrap()
}

fn count(v: &Value, side: &str, field: &str) -> u64 {
    v[side][field].as_u64().unwrap()
}

/// Synthetic BTC and ETH (σ 60% and 75%, correlation 0.9) from 2022-09-25 to 2022-11-20:
/// the FTX window of the crash list has data, no other window does.
fn synthetic_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xmargin-credits-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    correlated_files(&dir, [0.6, 0.75], 0.9, 1_664_064_000, 56 * 24, 11);
    dir
}

#[test]
fn books_replay_with_and_without_credits_on_synthetic_prices() {
    let dir = synthetic_dir("books");
    let base = ["backtest", "--books", "--data", dir.to_str().unwrap(), "--underlying", "BTC,ETH"];
    let window = ["--window", "2022-11-07..2022-11-12", "--json"];
    let report = json(&xmargin(&[&base[..], &window[..]].concat()));
    let rows = report["books"].as_array().unwrap();
    // 2 carries, 2 pairs, 2 covered calls, 2 conversions, each on 2 grids.
    assert_eq!(rows.len(), 16);
    assert!(report["skipped"].as_array().unwrap().is_empty());
    for r in rows {
        assert_eq!(count(r, "without", "observations"), 6 * 24, "{r}");
        // Procyclicality per book and side (the 1-day base reaches into the 5 days before);
        // the ratios are null where the margin is 0 (the netted conversion).
        for side in ["without", "with"] {
            let v = &r[side];
            assert!(v["max_1d_increase_pct"].is_f64() && v["max_5d_increase_pct"].is_f64(), "{r}");
            if pct(r, side, "mean_margin_pct") > 0.0 {
                assert!(
                    pct(r, side, "max_1d_increase_ratio") > 0.0 && pct(r, side, "peak_to_trough") >= 1.0,
                    "{r}"
                );
            } else {
                assert!(v["max_1d_increase_ratio"].is_null() && v["peak_to_trough"].is_null(), "{r}");
            }
        }
        let (without, with) = (pct(r, "without", "mean_margin_pct"), pct(r, "with", "mean_margin_pct"));
        match r["kind"].as_str().unwrap() {
            // The linked carry locks the basis haircut alone; its price series is the perp's.
            "CashAndCarry" => {
                let maintenance = LINK_BASIS_HAIRCUT.1.to_num::<f64>();
                assert!((with - maintenance / 2.0).abs() < 1e-6, "{r}");
                assert!(without > with + 0.04 && count(r, "with", "breaches") == 0, "{r}");
                assert!(r["prices"].as_str().unwrap().contains("no basis"));
            }
            // With the tail table's crash row the linked spot's crash loss counts in the grid
            // (15% of its value at P = 15%) where its standalone haircut is 10%: a covered
            // call may lock slightly more with the link (docs/risk-model.md, "Risk model").
            "CoveredCallSpot" => assert!(with < without + COVERED_CALL_LINK_ALLOWANCE, "{r}"),
            "Conversion" => assert!(with < 1e-9 && without > 0.01, "{r}"),
            // Pairs of a reference group (BTC/ETH) get the credit; the others the same
            // computation as without.
            "Pair" => {
                if r["credit"].is_null() {
                    assert!(with == without, "{r}");
                } else {
                    assert!(with < without, "{r}");
                }
                assert!(r["beta"].as_f64().unwrap() > 0.0);
            }
            k => panic!("unexpected book kind {k}"),
        }
    }
    // A governance proposal replayed: ρ 0.5 on the pairs lowers their margin.
    let report = json(&xmargin(&[&base[..], &window[..], &["--offset-rho", "0.5"]].concat()));
    let pairs: Vec<&Value> =
        report["books"].as_array().unwrap().iter().filter(|r| r["kind"] == "Pair").collect();
    assert_eq!(pairs.len(), 4);
    for r in pairs {
        assert_eq!(r["credit"], "offset ρ 0.50");
        assert!(pct(r, "with", "mean_margin_pct") < pct(r, "without", "mean_margin_pct"), "{r}");
    }
    // A window without data for an underlying is skipped and listed, not silently dropped.
    let out = xmargin(
        &[&base[..], &["--underlying", "BTC,SOL", "--window", "2022-11-07..2022-11-12", "--json"]].concat(),
    );
    let report = json(&out);
    let skipped = report["skipped"].as_array().unwrap();
    assert!(skipped
        .iter()
        .any(|s| s["book"] == "carry SOL" && s["reason"].as_str().unwrap().contains("no SOL")));
    // The table prints both sides.
    let out = xmargin(&[&base[..], &["--window", "2022-11-07..2022-11-12"]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("without → with the credits"), "{text}");
    assert!(text.contains("static") && text.contains("adaptive"));
    assert!(text.contains("carry BTC") && text.contains("long ETH/short BTC"));
}

#[test]
fn calibration_on_synthetic_prices_grants_a_credit_to_a_stable_correlation() {
    let dir = synthetic_dir("calibrate");
    let c = json(&xmargin(&["calibrate", "--data", dir.to_str().unwrap(), "--json"]));
    let pairs = c["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 1, "BTC/SOL and ETH/SOL need SOL files");
    assert_eq!(c["skipped_pairs"].as_array().unwrap().len(), 2);
    let p = &pairs[0];
    assert_eq!(p["pair"], "BTC/ETH");
    let whole = p["correlation_whole"].as_f64().unwrap();
    assert!((whole - 0.9).abs() < 0.03, "{whole}");
    let windows = p["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 6);
    assert_eq!(
        windows.iter().filter(|w| w["correlation"].is_null()).count(),
        5,
        "only the FTX window has data"
    );
    // Gaussian returns at correlation 0.9: the spread moves a fraction of a leg, so a
    // credit passes the backtest criterion; never above what adds no bad debt.
    let (strict, debt) = (p["rho_backtest"].as_f64().unwrap(), p["rho_no_extra_bad_debt"].as_f64().unwrap());
    assert!(strict >= 0.3 && strict <= debt, "{p}");
    assert_eq!(p["proposed"], p["rho_backtest"]);
    assert_eq!(c["offset_groups"][0]["members"], serde_json::json!(["BTC", "ETH"]));
    // No spot file: no basis is measured and no link proposed.
    assert!(c["link_basis_btc_eth"].is_null());
    assert!(c["basis"].as_array().unwrap().iter().all(|b| b["proposed_maintenance"].is_null()));
}

#[test]
fn missing_data_is_a_clear_error() {
    let out = xmargin(&["calibrate", "--data", "/nonexistent/prices"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("price data not found at /nonexistent/prices"));
    let out = xmargin(&["backtest", "--books", "--data", "/tmp", "--csv", "/tmp/x.csv"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--books replays several price files"));
    let out = xmargin(&["backtest", "--offset-rho", "0.5"]);
    assert!(!out.status.success(), "--offset-rho needs --books");
}

/// The backtest criterion on the real crash windows, with the reference
/// calibration: no book that uses a credit has more bad-debt accounts with it than
/// without (on any window, static or adaptive grid), a carry and a conversion — whose
/// credited risk is the basis and put–call parity — have none at all, and every credit
/// lowers the book's mean margin.
#[test]
fn reference_credits_add_no_bad_debt_on_the_crash_windows() {
    let Some(dir) = shared_prices() else {
        println!(
            "skipped: ../shared/data/prices is not present (the credit backtest needs the crash windows)"
        );
        return;
    };
    let report = json(&xmargin(&["backtest", "--books", "--data", dir.to_str().unwrap(), "--json"]));
    let rows = report["books"].as_array().unwrap();
    let credit_rows: Vec<&Value> = rows.iter().filter(|r| !r["credit"].is_null()).collect();
    // Carries and covered calls of BTC and ETH (linked), conversions of all three, on 6
    // windows (SOL: 5) and 2 grids; pairs only when the reference has offset groups.
    let pairs_with_credit = credit_rows.iter().filter(|r| r["kind"] == "Pair").count();
    assert_eq!(pairs_with_credit > 0, !OFFSET_GROUPS.is_empty());
    assert_eq!(credit_rows.len() - pairs_with_credit, (2 * 6 + 2 * 6 + 2 * 6 + 5) * 2);
    let mut still = Vec::new();
    for r in &credit_rows {
        let at = format!("{} {} {}", r["window"], r["book"], r["model"]);
        let (d0, d1) = (count(r, "without", "bad_debt_accounts"), count(r, "with", "bad_debt_accounts"));
        // A linked carry here has no basis (both legs from one file): bad debt with its link
        // comes from how it is liquidated, e.g. one leg at a time, leaving a leveraged
        // unhedged remainder (docs/backtest.md, "Capital-efficiency credits on the crash data").
        let why = "the credit creates bad debt the book without it does not have";
        assert!(d1 <= d0, "{at}: {d1} bad-debt accounts with credits, {d0} without: {why}");
        if matches!(r["kind"].as_str(), Some("CashAndCarry" | "Conversion")) {
            assert_eq!(d1, 0, "{at}: a carry or conversion with its credit ends with bad debt: {why}");
        }
        if d1 > 0 {
            still.push(format!("{at}: {d1} (without: {d0})"));
        }
        let allowance = if r["kind"] == "CoveredCallSpot" { COVERED_CALL_LINK_ALLOWANCE } else { 0.0 };
        assert!(
            pct(r, "with", "mean_margin_pct") < pct(r, "without", "mean_margin_pct") + allowance,
            "{at}: the credit does not lower the margin"
        );
    }
    // SOL has no data in March 2020: those books are listed as skipped.
    let skipped = report["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(|s| s["window"] == "2020-03 COVID" && s["book"] == "carry SOL"));
    println!("bad debt left with credits (the grid's own, fewer than without): {still:#?}");
}

/// The reference constants cite `xmargin calibrate`: they must be what it proposes.
#[test]
fn the_reference_calibration_is_what_calibrate_proposes() {
    let Some(dir) = shared_prices() else {
        println!("skipped: ../shared/data/prices is not present (calibrate needs the price files)");
        return;
    };
    let c = json(&xmargin(&["calibrate", "--data", dir.to_str().unwrap(), "--json"]));
    let proposed: Vec<(Vec<String>, f64)> = c["offset_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let members =
                g["members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_string()).collect();
            (members, g["rho"].as_f64().unwrap())
        })
        .collect();
    let reference: Vec<(Vec<String>, f64)> = OFFSET_GROUPS
        .iter()
        .map(|(members, rho)| (members.iter().map(|m| m.to_string()).collect(), rho.to_num::<f64>()))
        .collect();
    assert_eq!(proposed.len(), reference.len(), "proposed {proposed:?}, reference {reference:?}");
    for ((pm, pr), (rm, rr)) in proposed.iter().zip(&reference) {
        assert!(pm == rm && (pr - rr).abs() < 1e-9, "proposed {proposed:?}, reference {reference:?}");
    }
    let link = c["link_basis_btc_eth"].as_array().unwrap();
    let (initial, maintenance) = (link[0].as_f64().unwrap(), link[1].as_f64().unwrap());
    assert!((initial - LINK_BASIS_HAIRCUT.0.to_num::<f64>()).abs() < 1e-9, "{link:?}");
    assert!((maintenance - LINK_BASIS_HAIRCUT.1.to_num::<f64>()).abs() < 1e-9, "{link:?}");
    // What the data says: BTC/ETH correlation holds in every crash window; the SOL pairs'
    // falls to about 0.6 in the FTX week; SOL's perp/spot basis moved > 10% within the 4-hour
    // horizon (12.4%; 23.9% within a day).
    let pairs = c["pairs"].as_array().unwrap();
    let window = |pair: &str, w: &str| -> f64 {
        let p = pairs.iter().find(|p| p["pair"] == pair).unwrap();
        p["windows"].as_array().unwrap().iter().find(|x| x["window"] == w).unwrap()["correlation"]
            .as_f64()
            .unwrap()
    };
    for w in ["2020-03 COVID", "2021-05", "2022-05 LUNA", "2022-06", "2022-11 FTX", "2024-08"] {
        assert!(window("BTC/ETH", w) > 0.85, "{w}");
    }
    assert!(window("BTC/SOL", "2022-11 FTX") < 0.65 && window("ETH/SOL", "2022-11 FTX") < 0.65);
    let sol = c["basis"].as_array().unwrap().iter().find(|b| b["underlying"] == "SOL").unwrap();
    assert!(sol["worst_loss_horizon"].as_f64().unwrap() > 0.1);
}
