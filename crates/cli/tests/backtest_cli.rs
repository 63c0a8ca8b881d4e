//! `xmargin backtest`: a synthetic path of known volatility (coverage near its design level),
//! the real crash data when ../shared/data/prices is present, and the missing-data error.
mod common;

use common::Rng;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use xmargin_cli::backtest::data::format_time;

fn xmargin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xmargin")).args(args).env_remove("RUST_BACKTRACE").output().unwrap()
}

/// An hourly geometric Brownian motion with annual volatility `sigma`, written as OHLC bars
/// (four sub-steps per hour give each bar a high and a low).
fn gbm_csv(path: &Path, sigma: f64, hours: usize, seed: u64) {
    let mut rng = Rng(seed);
    let dt = 1.0 / (365.0 * 24.0 * 4.0);
    let mut price = 100.0f64;
    let mut out = String::from("timestamp_utc,open,high,low,close,volume\n");
    let start = 1_704_067_200i64; // 2024-01-01
    for h in 0..hours {
        let open = price;
        let (mut high, mut low) = (price, price);
        for _ in 0..4 {
            price *= (-0.5 * sigma * sigma * dt + sigma * dt.sqrt() * rng.normal()).exp();
            high = high.max(price);
            low = low.min(price);
        }
        // "YYYY-MM-DD HH:00" -> "YYYY-MM-DDTHH:00:00Z"
        let time = format_time(start + h as i64 * 3600).replace(' ', "T");
        out.push_str(&format!("{time}:00Z,{open:.6},{high:.6},{low:.6},{price:.6},1\n"));
    }
    std::fs::File::create(path).unwrap().write_all(out.as_bytes()).unwrap();
}

fn results(out: &std::process::Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

#[test]
fn coverage_on_a_known_volatility_path_is_near_design() {
    let dir = std::env::temp_dir().join(format!("xmargin-gbm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("gbm.csv");
    gbm_csv(&csv, 0.6, 24 * 150, 42);
    // Evaluate the last 100 days (50 days of warm-up for the estimator).
    let out = xmargin(&[
        "backtest",
        "--csv",
        csv.to_str().unwrap(),
        "--underlying",
        "SYN",
        "--window",
        "2024-02-20..2024-05-28",
        "--json",
    ]);
    let rows = results(&out);
    let coverage = |model: &str| {
        rows.iter().find(|r| r["model"] == model).map(|r| r["coverage"].as_f64().unwrap()).unwrap()
    };
    let obs = rows[0]["observations"].as_u64().unwrap();
    println!(
        "GBM σ = 60%, {obs} observations: static {:.4}, adaptive {:.4}, isolated {:.4}",
        coverage("Static"),
        coverage("Adaptive"),
        coverage("Isolated")
    );
    assert!(obs > 10_000);
    // Static ±15% is ~4.8 daily σ: essentially always covered. The adaptive shock is
    // k = 3 daily σ, so a day's worst excursion exceeds it about 2 × 0.135% of the time
    // (reflection principle): coverage ≥ 99% is its design level, with sampling noise.
    assert!(coverage("Static") >= 0.999);
    assert!(coverage("Adaptive") >= 0.985 && coverage("Adaptive") <= 1.0);
    // Procyclicality, the worst over the 6 books: every window is long enough for both
    // horizons; a perp's static margin is a constant fraction, so no increase is below 0.
    for r in &rows {
        for key in ["max_1d_increase_ratio", "max_5d_increase_ratio", "peak_to_trough"] {
            assert!(r[key].as_f64().unwrap() >= 1.0 - 1e-6, "{key}: {r}");
        }
        for key in ["max_1d_increase_pct", "max_5d_increase_pct"] {
            assert!(r[key].as_f64().unwrap() >= -1e-6, "{key}: {r}");
        }
    }
    let jump = |model: &str| {
        rows.iter().find(|r| r["model"] == model).map(|r| r["max_1d_increase_pct"].as_f64().unwrap()).unwrap()
    };
    println!("largest 1-day margin increase: static {:.4}, adaptive {:.4}", jump("Static"), jump("Adaptive"));
    assert!(jump("Adaptive") > jump("Static"), "the adaptive shock moves the margin more");
}

fn shared_prices() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/prices");
    dir.is_dir().then_some(dir)
}

#[test]
fn real_crash_window_replays_when_the_data_is_present() {
    let Some(dir) = shared_prices() else {
        println!("skipped: ../shared/data/prices is not present");
        return;
    };
    let out = xmargin(&[
        "backtest",
        "--data",
        dir.to_str().unwrap(),
        "--underlying",
        "BTC",
        "--window",
        "2022-11-07..2022-11-12",
        "--json",
    ]);
    let rows = results(&out);
    assert_eq!(rows.len(), 3, "one row per model");
    for r in &rows {
        let obs = r["observations"].as_u64().unwrap();
        assert_eq!(obs, 6 * 6 * 24, "6 books × 6 days × 24 hours");
        let cov = r["coverage"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&cov));
        assert!(r["mean_margin_pct"].as_f64().unwrap() > 0.01);
    }
}

#[test]
fn missing_data_is_a_clear_error() {
    let out = xmargin(&["backtest", "--data", "/nonexistent/prices"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("price data not found at /nonexistent/prices"));
    let out = xmargin(&["backtest", "--data", "/tmp", "--window", "2022-11-12..2022-11-07"]);
    assert!(!out.status.success());
    // A calibration that cannot be governed is refused before any replay.
    let out = xmargin(&["backtest", "--data", "/tmp", "--vol-floor", "0.7", "--vol-cap", "0.6"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("volatility parameters"));
}

#[test]
fn chart_draws_price_margins_and_loss_inside_the_frame() {
    let dir = std::env::temp_dir().join(format!("xmargin-chart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("gbm.csv");
    gbm_csv(&csv, 0.8, 24 * 45, 7);
    let svg_path = dir.join("chart.svg");
    let args = ["backtest", "--csv", csv.to_str().unwrap(), "--underlying", "SYN", "--json"];
    let out = xmargin(
        &[&args[..], &["--window", "2024-02-01..2024-02-10", "--chart", svg_path.to_str().unwrap()]].concat(),
    );
    let rows = results(&out);
    let hours = rows[0]["observations"].as_u64().unwrap() / 6;
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.ends_with("</svg>\n"));
    assert!(svg.contains("SYN 2024-02-01..2024-02-10 · ShortStrangle"));
    // Close price, static margin, adaptive margin, loss: one vertex per evaluated hour,
    // every vertex inside the 960-wide canvas and below the title.
    let lines: Vec<&str> = svg.lines().filter(|l| l.starts_with("<polyline")).collect();
    assert_eq!(lines.len(), 4);
    for line in lines {
        let pts = line.split("points=\"").nth(1).unwrap().trim_end_matches("\"/>");
        let xy: Vec<(f64, f64)> = pts
            .split(' ')
            .map(|p| p.split_once(',').map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap())).unwrap())
            .collect();
        assert_eq!(xy.len() as u64, hours);
        assert!(xy.windows(2).all(|w| w[0].0 < w[1].0), "time increases left to right");
        assert!(xy.iter().all(|&(x, y)| (70.0..=940.0).contains(&x) && (40.0..=580.0).contains(&y)));
    }
    // A window past the end of the data has nothing to replay or chart: a clear error, no file.
    let out = xmargin(
        &[
            &args[..],
            &["--window", "2024-02-15..2024-02-15", "--chart", dir.join("none.svg").to_str().unwrap()],
        ]
        .concat(),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no price file in") && err.contains("covers the requested window"), "{err}");
    assert!(!dir.join("none.svg").exists());
}
