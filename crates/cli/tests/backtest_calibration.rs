//! The adaptive shock's reference calibration (`VolParams::REFERENCE`, chosen by `xmargin
//! calibrate sweep`, docs/backtest.md) meets issue 15's targets on the crash windows
//! of ../shared/data/prices when present (each test says it is skipped otherwise), through
//! the sweep's own replay (the backtest's code path, adaptive model, 6 books); and the sweep
//! command's flags are strict.
use std::path::{Path, PathBuf};
use std::process::Command;

use xmargin_cli::sweep::{
    evaluate, stressed_shock, Calibration, CrashData, TARGET_MEAN_MARGIN, TARGET_WINDOWS_AT_99,
    TARGET_WORST_COVERAGE,
};
use xmargin_risk::vol::VolParams;

fn shared_prices() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/prices");
    dir.is_dir().then_some(dir)
}

fn xmargin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xmargin")).args(args).env_remove("RUST_BACKTRACE").output().unwrap()
}

#[test]
fn the_reference_calibration_meets_the_coverage_targets_on_every_crash_window() {
    let Some(dir) = shared_prices() else {
        println!("skipped: ../shared/data/prices is not present (the reference calibration is checked on the crash windows)");
        return;
    };
    let data = CrashData::load(&dir).unwrap();
    let reference = Calibration::of(&VolParams::REFERENCE);
    assert_eq!(reference.params(), VolParams::REFERENCE, "the sweep's units round-trip");
    let r = &evaluate(&data, &[reference], 2, false).unwrap()[0];
    for w in &r.per_window {
        let (s, p) = (&w.summary, &w.summary.procyclicality);
        println!(
            "{:<14} {} coverage {:.2}% mean margin {:.2}% largest 1-day increase {} ({} points of notional)",
            w.window,
            w.underlying,
            s.coverage * 100.0,
            s.mean_margin_pct * 100.0,
            p.max_1d_increase_ratio.map_or("-".into(), |x| format!("{x:.2}×")),
            p.max_1d_increase_pct.map_or("-".into(), |x| format!("{:+.2}", x * 100.0))
        );
    }
    println!(
        "reference: {}/{} windows ≥ 99%, worst {:.2}% ({}), mean margin {:.2}%",
        r.windows_at_99,
        r.windows,
        r.worst_coverage * 100.0,
        r.worst_window,
        r.mean_margin_pct * 100.0
    );
    assert_eq!(r.windows, 17, "BTC and ETH on 6 windows, SOL on 5");
    assert!(r.windows_at_99 >= TARGET_WINDOWS_AT_99, "{} windows ≥ 99%", r.windows_at_99);
    assert!(r.worst_coverage >= TARGET_WORST_COVERAGE, "{} at {:.4}", r.worst_window, r.worst_coverage);
    assert!(r.mean_margin_pct <= TARGET_MEAN_MARGIN, "mean margin {:.4}", r.mean_margin_pct);
    assert_eq!(r.windows_with_1d_increase, r.windows, "a largest 1-day increase on every window");
    assert!(r.meets_targets);
    // S_st is what the sweep's definition gives for these half-lives, k and horizon.
    if reference.stressed_weight > 0.0 {
        let s = data
            .stressed_sigma(reference.half_life_short_hours, reference.half_life_long_hours, 0.99)
            .unwrap();
        let want = stressed_shock(s.sigma, reference.k, reference.horizon_hours, reference.cap);
        assert!(
            (reference.stressed_shock - want).abs() < 1e-9,
            "REFERENCE.stressed_shock {} but the data's stressed σ {:.4} gives {want}",
            reference.stressed_shock,
            s.sigma
        );
    }
}

#[test]
fn sweep_flags_are_strict() {
    let out = xmargin(&["calibrate", "sweep", "--horizon", "4"]);
    assert!(!out.status.success(), "an unknown flag is refused");
    let out = xmargin(&["calibrate", "sweep", "--half-lives", "168/12"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SHORT ≤ LONG"));
    let out = xmargin(&["calibrate", "--json", "sweep"]);
    assert!(!out.status.success(), "calibrate's own flags do not go with the sweep");
    let out = xmargin(&["calibrate", "sweep", "--data", "/nonexistent/prices"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("price data not found at /nonexistent/prices"));
    let out = xmargin(&["calibrate", "sweep", "--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--stressed-weights"));
}

/// A tiny sweep on the real data: the JSON has every point with its per-window lines, the
/// frontier marked, and a choice.
#[test]
fn a_small_sweep_reports_points_frontier_and_choice() {
    let Some(dir) = shared_prices() else {
        println!("skipped: ../shared/data/prices is not present (the sweep replays the crash windows)");
        return;
    };
    let out = xmargin(&[
        "calibrate",
        "sweep",
        "--data",
        dir.to_str().unwrap(),
        "--horizons",
        "4",
        "--k",
        "4",
        "--floors",
        "0.1,0.2",
        "--caps",
        "0.6",
        "--half-lives",
        "12/168",
        "--stressed-weights",
        "0,0.25",
        "--no-refine",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let points = r["points"].as_array().unwrap();
    assert_eq!(points.len(), 4);
    for p in points {
        assert_eq!(p["per_window"].as_array().unwrap().len(), 17);
        assert_eq!(p["windows"], 17);
        let s = p["stressed_shock"].as_f64().unwrap();
        assert_eq!(s > 0.0, p["stressed_weight"].as_f64().unwrap() > 0.0, "S_st only with a weight");
    }
    assert!(points.iter().any(|p| p["frontier"] == true));
    let chosen = r["chosen"].as_u64().unwrap() as usize;
    assert!(chosen < points.len());
    // A higher floor never lowers the margin.
    let margin = |floor: f64, w: f64| {
        points
            .iter()
            .find(|p| p["floor"].as_f64() == Some(floor) && p["stressed_weight"].as_f64() == Some(w))
            .map(|p| p["mean_margin_pct"].as_f64().unwrap())
            .unwrap()
    };
    assert!(margin(0.2, 0.0) >= margin(0.1, 0.0));
}
