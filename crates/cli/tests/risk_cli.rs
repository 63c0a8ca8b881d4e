//! `xmargin risk` end to end: the reference books, the ratios the README states, and bad
//! input rejected with the field named and a non-zero exit.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn xmargin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xmargin")).args(args).env_remove("RUST_BACKTRACE").output().unwrap()
}

fn books_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/books")
}

fn margin_json(book: &str) -> Value {
    let path = books_dir().join(book);
    let out = xmargin(&["risk", "margin", path.to_str().unwrap(), "--json", "--full"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (book, PM / naive-cross requirement ratio, PM / isolated collateral-needed ratio), as
/// stated in the README.
const REFERENCE_RATIOS: [(&str, f64, f64); 6] = [
    ("delta_hedged_long_straddle.json", 0.732, 0.452),
    ("covered_call.json", 0.698, 0.717),
    ("short_strangle.json", 0.853, 0.863),
    ("calendar_spread.json", 0.496, 0.442),
    ("perp_basis_vs_spot.json", 1.0, 1.0),
    ("btc_long_eth_short.json", 1.0, 1.0),
];

#[test]
fn reference_books_match_the_readme_and_full_revaluation() {
    for (book, req_ratio, coll_ratio) in REFERENCE_RATIOS {
        let v = margin_json(book);
        let c = &v["comparison"];
        let got_req = c["pm_over_naive_cross"]["requirement"].as_f64().unwrap();
        let got_coll = c["pm_over_isolated"]["collateral_needed"].as_f64().unwrap();
        assert!(
            (got_req - req_ratio).abs() < 0.0005,
            "{book}: PM/naive requirement {got_req} vs README {req_ratio}"
        );
        assert!(
            (got_coll - coll_ratio).abs() < 0.0005,
            "{book}: PM/isolated collateral {got_coll} vs README {coll_ratio}"
        );
        let pm = c["portfolio"]["collateral_needed"].as_f64().unwrap();
        let naive = c["naive_cross"]["collateral_needed"].as_f64().unwrap();
        let iso = c["isolated"]["collateral_needed"].as_f64().unwrap();
        assert!(pm <= naive + 1e-6 && naive <= iso + 1e-6, "{book}: {pm} {naive} {iso}");
        for u in v["underlyings"].as_array().unwrap() {
            for level in ["maintenance", "initial"] {
                let req = u[level]["requirement"].as_f64().unwrap();
                let full = u["full_revaluation"][level].as_f64().unwrap();
                assert!(req + 1e-6 >= full, "{book} {level}: requirement {req} < full revaluation {full}");
            }
        }
    }
}

#[test]
fn text_report_shows_grid_and_comparison() {
    let path = books_dir().join("short_strangle.json");
    let out = xmargin(&["risk", "margin", path.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    for needle in ["maintenance grid", "vol \\ px", "+15.0%", "PM / naive cross", "PM / isolated", "health"] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn greeks_json_matches_the_engine() {
    let out = xmargin(&[
        "risk",
        "greeks",
        "--kind",
        "put",
        "--spot",
        "100",
        "--strike",
        "100",
        "--vol",
        "0.2",
        "--expiry-secs",
        "31536000",
        "--json",
    ]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // ATM, r = 0, σ√T = 0.2: price = S·(2N(0.1) − 1) = 7.965567...
    assert!((v["price"].as_f64().unwrap() - 7.965_567_455_405_804).abs() < 1e-9);
    assert!((v["delta"].as_f64().unwrap() - (-0.460_172_162_722_971)).abs() < 1e-9);
}

fn rejected(args: &[&str], needle: &str) {
    let out = xmargin(args);
    assert!(!out.status.success(), "{args:?} was accepted");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "{args:?}: expected {needle:?} in {err}");
}

fn with_book(json: &str, needle: &str) {
    let dir = std::env::temp_dir().join(format!("xmargin-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{:x}.json", json.len() * 31 + needle.len()));
    std::fs::write(&path, json).unwrap();
    rejected(&["risk", "margin", path.to_str().unwrap()], needle);
}

const U: &str = r#""underlyings": [{"name": "BTC", "price": 60000, "vol": 0.6}]"#;

#[test]
fn bad_input_names_the_field() {
    rejected(
        &[
            "risk",
            "greeks",
            "--kind",
            "straddle",
            "--spot",
            "1",
            "--strike",
            "1",
            "--vol",
            "0.5",
            "--expiry-secs",
            "9",
        ],
        "--kind",
    );
    rejected(
        &[
            "risk",
            "greeks",
            "--kind",
            "call",
            "--spot",
            "1",
            "--strike",
            "1",
            "--vol",
            "-0.5",
            "--expiry-secs",
            "9",
        ],
        "--vol",
    );
    rejected(&["risk", "margin", "/nonexistent/book.json"], "reading /nonexistent/book.json");
    with_book(
        &format!(
            r#"{{{U}, "positions": [{{"underlying": "BTC", "kind": "cal", "size": 1, "strike": 1, "expiry_days": 1}}]}}"#
        ),
        "positions[0].kind",
    );
    with_book(r#"{"underlyings": [{"name": "BTC", "price": 60000, "vol": -0.6}]}"#, "underlyings[0].vol");
    with_book(r#"{"underlyings": [{"name": "BTC", "vol": 0.6}]}"#, "underlyings[0].price: missing price");
    with_book(
        &format!(r#"{{{U}, "positions": [{{"underlying": "ETH", "kind": "perp", "size": 1}}]}}"#),
        "positions[0].underlying",
    );
    with_book(
        &format!(
            r#"{{{U}, "positions": [{{"underlying": "BTC", "kind": "call", "size": 1, "expiry_days": 3}}]}}"#
        ),
        "positions[0].strike",
    );
    with_book(
        &format!(r#"{{{U}, "positions": [{{"underlying": "BTC", "kind": "put", "size": 1, "strike": 5}}]}}"#),
        "positions[0].expiry",
    );
    with_book(r#"{"underlyings": [ {"name": "BTC", "#, "malformed portfolio JSON");
    with_book(
        &format!(
            r#"{{{U}, "collateral": [{{"name": "USDC", "price": 1, "balance": 5, "haircut": {{"initial_asset_weight": 1.2, "maintenance_asset_weight": 1, "initial_liability_weight": 1, "maintenance_liability_weight": 1}}}}]}}"#
        ),
        "collateral[0].haircut",
    );
    with_book(&format!(r#"{{{U}, "margin": {{"initial_scale": 0.5}}}}"#), "margin.initial_scale");
}
