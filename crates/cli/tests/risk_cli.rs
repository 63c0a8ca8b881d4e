//! `xmargin risk` end to end: the reference books, the ratios docs/risk-model.md states, and bad
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

/// (book, PM / naive-cross requirement ratio, PM / isolated collateral-needed ratio) of the
/// portfolio without offsets (no links, no offset groups), as stated in docs/risk-model.md. They
/// do not depend on the reference link and offset calibration; the portfolio with its
/// offset groups is never above them (equal when no group applies).
const REFERENCE_RATIOS: [(&str, f64, f64); 7] = [
    ("delta_hedged_long_straddle.json", 0.732, 0.452),
    ("covered_call.json", 0.698, 0.717),
    ("short_strangle.json", 0.801, 0.814),
    ("calendar_spread.json", 0.499, 0.445),
    ("perp_basis_vs_spot.json", 1.0, 1.0),
    ("cash_and_carry.json", 1.0, 1.0),
    ("btc_long_eth_short.json", 1.0, 1.0),
];

#[test]
fn reference_books_match_the_readme_and_full_revaluation() {
    for (book, req_ratio, coll_ratio) in REFERENCE_RATIOS {
        let v = margin_json(book);
        let c = &v["comparison"];
        let plain = &c["portfolio_without_offsets"];
        let got_req = num(plain, "/requirement") / num(c, "/naive_cross/requirement");
        let got_coll = num(plain, "/collateral_needed") / num(c, "/isolated/collateral_needed");
        assert!(
            (got_req - req_ratio).abs() < 0.0005,
            "{book}: PM (without offsets) / naive requirement {got_req} vs docs {req_ratio}"
        );
        assert!(
            (got_coll - coll_ratio).abs() < 0.0005,
            "{book}: PM (without offsets) / isolated collateral {got_coll} vs docs {coll_ratio}"
        );
        let pm_req = num(c, "/pm_over_naive_cross/requirement");
        let pm_coll = num(c, "/pm_over_isolated/collateral_needed");
        if v["offsets"]["groups"].as_array().unwrap().is_empty() {
            // The same requirement computed twice (portfolio and without offsets): equal up to
            // the f64 division of the ratio.
            let same = (pm_req - got_req).abs() < 1e-12 && (pm_coll - got_coll).abs() < 1e-12;
            assert!(
                same,
                "{book}: no offset group, yet PM differs: {pm_req} {pm_coll} vs {got_req} {got_coll}"
            );
        } else {
            assert!(pm_req <= got_req + 1e-9 && pm_coll <= got_coll + 1e-9, "{book}: offsets raised PM");
        }
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

/// Writes `json` to a temporary book file (named by its content, so tests running in
/// parallel never share one) and returns its path.
fn temp_book(json: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let dir = std::env::temp_dir().join(format!("xmargin-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    json.hash(&mut h);
    let path = dir.join(format!("{:016x}.json", h.finish()));
    std::fs::write(&path, json).unwrap();
    path
}

fn with_book(json: &str, needle: &str) {
    let path = temp_book(json);
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
    // The risk model's inputs (issue 15): tail rows, the expiry scaling, the quote's price.
    const G: &str = r#""max_price_shock": 0.15, "price_steps": 5, "vol_shock_up": 0.15, "vol_shock_down": 0.1, "short_option_charge": 0.01"#;
    let grid = |extra: &str| {
        format!(
            r#"{{"underlyings": [{{"name": "BTC", "price": 60000, "vol": 0.6, "grid": {{{G}, {extra}}}}}]}}"#
        )
    };
    with_book(
        &grid(r#""tail": [{"price_multiple": -3, "weight": 0.35}, {"price_multiple": 0, "weight": 0.2}]"#),
        "underlyings[0].grid.tail[1]",
    );
    with_book(&grid(r#""tail": [{"price_multiple": -3, "weight": 1.5}]"#), "underlyings[0].grid.tail[0]");
    with_book(
        &grid(r#""tail": [{"price_multiple": -3, "weight": 0.3, "both_ways": true}]"#),
        "underlyings[0].grid.tail[0]",
    );
    with_book(
        &grid(r#""tail": [{"price_multiple": -3, "weight": 0.3, "vol": 0.2}]"#),
        "malformed portfolio JSON",
    );
    with_book(
        &grid(r#""vol_scaling": {"reference_days": 30, "floor_days": 60, "exponent": 0.3}"#),
        "underlyings[0].grid.vol_scaling",
    );
    with_book(
        &grid(r#""vol_scaling": {"reference_days": 30, "floor_days": 1, "exponent": 1.5}"#),
        "underlyings[0].grid.vol_scaling",
    );
    with_book(&format!(r#"{{{U}, "margin": {{"quote": {{"price": 0}}}}}}"#), "margin.quote.price");
    with_book(&format!(r#"{{{U}, "margin": {{"quote": {{"price": 0.95, "factor": 30}}}}}}"#), "margin.quote");
}

/// A depegged quote (0.95, the reference 0.99 × 2) charges 2 × 0.04 of the gross notional more
/// at maintenance (× 1.5 at initial), and nothing at par.
#[test]
fn a_depegged_quote_raises_the_cli_requirement() {
    let book = |quote: &str| {
        format!(
            r#"{{{U}, "positions": [{{"underlying": "BTC", "kind": "perp", "size": 1}}, {{"underlying": "BTC", "kind": "put", "strike": 54000, "expiry_days": 30, "size": -2}}]{quote}}}"#
        )
    };
    let par = margin_json_of(&book(""));
    let at_par = margin_json_of(&book(r#", "margin": {"quote": {"price": 1.0}}"#));
    let depeg = margin_json_of(&book(r#", "margin": {"quote": {"price": 0.95}}"#));
    let m = |v: &Value| num(v, "/underlyings/0/maintenance/requirement");
    let i = |v: &Value| num(v, "/underlyings/0/initial/requirement");
    assert_eq!((m(&at_par), i(&at_par)), (m(&par), i(&par)));
    let addon = 2.0 * 0.04 * 3.0 * 60_000.0;
    assert!((m(&depeg) - m(&par) - addon).abs() < 1e-6, "{} → {}", m(&par), m(&depeg));
    assert!((i(&depeg) - i(&par) - 1.5 * addon).abs() < 1e-6, "{} → {}", i(&par), i(&depeg));
    assert!((num(&depeg, "/underlyings/0/maintenance/depeg_addon") - addon).abs() < 1e-6);
}

fn num(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer).and_then(Value::as_f64).unwrap_or_else(|| panic!("no number at {pointer} in {v}"))
}

/// `equity − initial health` of the book with its credits (links, offsets) and without.
fn locked(v: &Value) -> (f64, f64) {
    (num(v, "/comparison/portfolio/locked"), num(v, "/comparison/portfolio_without_offsets/locked"))
}

/// A reference book with `offsets` replaced, as JSON text.
fn book_with_offsets(book: &str, offsets: Value) -> String {
    let text = std::fs::read_to_string(books_dir().join(book)).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["offsets"] = offsets;
    v.to_string()
}

fn margin_json_of(json: &str) -> Value {
    let path = temp_book(json);
    let out = xmargin(&["risk", "margin", path.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Issue 14's target: the cash-and-carry (1 BTC linked collateral, short 1 BTC perp) locks
/// at most 25% of what its unlinked twin (`perp_basis_vs_spot.json`) locks.
#[test]
fn cash_and_carry_locks_a_quarter_of_its_unlinked_twin_at_most() {
    let cc = margin_json("cash_and_carry.json");
    let twin = margin_json("perp_basis_vs_spot.json");
    let (with, without) = locked(&cc);
    let (twin_locked, twin_without) = locked(&twin);
    println!(
        "cash-and-carry locked: {with:.2} linked, {without:.2} unlinked (twin {twin_locked:.2}), ratio {:.3}",
        with / without
    );
    // The twin has no link and no offset group: both of its columns are the unlinked book,
    // and the cash-and-carry without its link is exactly the twin.
    assert_eq!(twin_locked, twin_without);
    assert_eq!(without, twin_locked);
    assert!((twin_locked - 26_229.0).abs() < 1.0, "twin locks {twin_locked}, the issue measured 26,229");
    assert!(with <= 0.25 * twin_locked, "cash-and-carry locks {with}, more than 25% of {twin_locked}");
    let btc = &cc["underlyings"][0];
    assert_eq!(btc["linked_units"].as_f64(), Some(1.0));
    assert_eq!(cc["collateral"][1]["link"]["underlying"], "BTC");
    assert!(num(&cc, "/collateral/1/weighted/initial") > num(&twin, "/collateral/1/weighted/initial"));
}

/// Issue 14's target for the BTC/ETH pair: locked ≤ 40% of 28,420 with the reference credit
/// ρ, if ρ is large enough for it; otherwise lower than without the offset (or equal, when the
/// reference calibration has no BTC/ETH group). In every case exactly the formula
/// R = Σ R_u − ρ·(Σ R_u − R_joint), R_joint measured with ρ = 1; checked for an explicit
/// ρ = 0.6 in the book as well.
#[test]
fn btc_eth_pair_locks_less_with_the_reference_offset() {
    let book = "btc_long_eth_short.json";
    let v = margin_json(book);
    let (with, without) = locked(&v);
    let rho = xmargin_risk::reference::OFFSET_GROUPS
        .iter()
        .find(|(names, _)| names.contains(&"BTC") && names.contains(&"ETH"))
        .map_or(0.0, |(_, credit)| credit.to_num::<f64>());
    let group = |credit: f64| serde_json::json!([{"underlyings": ["BTC", "ETH"], "credit": credit}]);
    let joint = locked(&margin_json_of(&book_with_offsets(book, group(1.0)))).0;
    let target = 0.40 * without;
    let rho_needed = (without - target) / (without - joint);
    println!(
        "BTC/ETH pair locked: {with:.2} with the reference offset (ρ = {rho:.4}), {without:.2} without, ratio {:.4}; \
         joint (ρ = 1) {joint:.2}; the 40% target ({target:.2}) needs ρ ≥ {rho_needed:.4}",
        with / without
    );
    assert!((without - 28_420.0).abs() < 1.0, "without offsets {without}, the issue measured 28,420");
    let formula = |rho: f64| without - rho * (without - joint);
    assert!(
        (with - formula(rho)).abs() < 0.01,
        "{with} is not Σ R_u − ρ·(Σ R_u − R_joint) = {without} − {rho}·({without} − {joint})"
    );
    let explicit = margin_json_of(&book_with_offsets(book, group(0.6)));
    let with_explicit = locked(&explicit).0;
    println!("  with ρ = 0.6 given in the book: locked {with_explicit:.2} ({:.4})", with_explicit / without);
    assert!((with_explicit - formula(0.6)).abs() < 0.01, "ρ = 0.6: {with_explicit} vs {}", formula(0.6));
    assert!(with_explicit < without);
    assert_eq!(v["offsets"]["source"], "reference");
    if rho >= rho_needed {
        assert!(with <= target, "{with} > 40% of {without}");
    } else if rho > 0.0 {
        println!(
            "  the reference ρ = {rho:.4} does not reach the 40% target (locks {:.1}%)",
            100.0 * with / without
        );
        assert!(with < without, "the offset does not lower the pair's requirement: {with} vs {without}");
    } else {
        println!("  the reference calibration has no BTC/ETH offset group: no credit (locks 100%)");
        assert_eq!(with, without);
    }
    if rho > 0.0 {
        assert!(num(&v, "/offset_credit/initial") > 0.0 && num(&v, "/offset_credit/maintenance") > 0.0);
        assert_eq!(v["offsets"]["groups"][0]["underlyings"], serde_json::json!(["BTC", "ETH"]));
    }
}

/// Links, offsets and conversions never raise a reference book's requirement or what it locks.
#[test]
fn every_example_book_needs_no_more_with_the_credits() {
    let mut books: Vec<String> = std::fs::read_dir(books_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    books.sort();
    assert!(books.len() >= 7, "{books:?}");
    println!(
        "{:<34} {:>12} {:>12} {:>12} {:>12}",
        "book", "req with", "req without", "locked with", "locked without"
    );
    for book in &books {
        let v = margin_json(book);
        let (with, without) = locked(&v);
        let req = num(&v, "/requirement/initial");
        let req_without = num(&v, "/comparison/portfolio_without_offsets/requirement");
        println!("{book:<34} {req:>12.2} {req_without:>12.2} {with:>12.2} {without:>12.2}");
        assert!(
            req <= req_without + 1e-6,
            "{book}: initial requirement {req} > {req_without} without the credits"
        );
        assert!(
            num(&v, "/comparison/portfolio/requirement") <= req_without + 1e-6,
            "{book}: positions' requirement higher with offsets"
        );
        assert!(with <= without + 1e-6, "{book}: locks {with} > {without} without the credits");
        assert!(
            num(&v, "/health/initial") + 1e-6
                >= num(&v, "/comparison/portfolio_without_offsets/health/initial"),
            "{book}: initial health lower with the credits"
        );
    }
}

/// `"offsets": []` switches the reference groups off: the numbers are exactly the
/// no-offset ones.
#[test]
fn empty_offsets_reproduce_the_numbers_without_offsets() {
    let book = "btc_long_eth_short.json";
    let reference = margin_json(book);
    let none = margin_json_of(&book_with_offsets(book, serde_json::json!([])));
    assert_eq!(none["offsets"]["source"], "book");
    assert_eq!(none["offsets"]["groups"], serde_json::json!([]));
    assert_eq!(num(&none, "/offset_credit/initial"), 0.0);
    assert_eq!(num(&none, "/offset_credit/maintenance"), 0.0);
    assert_eq!(none["comparison"]["portfolio"], reference["comparison"]["portfolio_without_offsets"]);
    assert_eq!(none["comparison"]["portfolio"], none["comparison"]["portfolio_without_offsets"]);
    let plain = &reference["comparison"]["portfolio_without_offsets"];
    assert_eq!(none["requirement"]["initial"], plain["requirement"]);
    assert_eq!(none["health"], plain["health"]);
    // And a ρ = 0 group is the same as none.
    let zero = margin_json_of(&book_with_offsets(
        book,
        serde_json::json!([{"underlyings": ["BTC", "ETH"], "credit": 0}]),
    ));
    assert_eq!(zero["comparison"]["portfolio"], plain.clone());
    assert_eq!(zero["requirement"], none["requirement"]);
}

const U5: &str = r#""underlyings": [{"name": "BTC", "price": 60000, "vol": 0.6}, {"name": "ETH", "price": 3000, "vol": 0.75},
    {"name": "SOL", "price": 150, "vol": 0.9}, {"name": "AVAX", "price": 30, "vol": 1.0}, {"name": "DOGE", "price": 0.3, "vol": 1.2}]"#;

/// A book with one WBTC collateral entry carrying `extra` fields.
fn linked_book(extra: &str) -> String {
    format!(
        r#"{{{U}, "collateral": [{{"name": "WBTC", "price": 60000, "balance": 1, {extra}
            "haircut": {{"initial_asset_weight": 0.8, "maintenance_asset_weight": 0.9,
                         "initial_liability_weight": 1.25, "maintenance_liability_weight": 1.1}}}}]}}"#
    )
}

fn offsets_book(offsets: &str) -> String {
    format!(r#"{{{U5}, "offsets": {offsets}}}"#)
}

#[test]
fn bad_links_and_offsets_name_the_field() {
    // Links.
    with_book(
        &linked_book(r#""underlying": "ETH","#),
        "collateral[0].underlying: unknown underlying \"ETH\"",
    );
    with_book(&linked_book(r#""underlying": "BTC", "ratio": 0,"#), "collateral[0].ratio: must be in (0, 10]");
    with_book(&linked_book(r#""underlying": "BTC", "ratio": -1,"#), "collateral[0].ratio");
    with_book(
        &linked_book(r#""underlying": "BTC", "ratio": 10.5,"#),
        "collateral[0].ratio: must be in (0, 10]",
    );
    with_book(&linked_book(r#""ratio": 1,"#), "collateral[0].ratio: only for a linked asset");
    with_book(
        &linked_book(r#""basis_haircut": 0.02,"#),
        "collateral[0].basis_haircut: only for a linked asset",
    );
    with_book(
        &linked_book(r#""underlying": "BTC", "basis_haircut": 1.5,"#),
        "collateral[0].basis_haircut: must be in [0, 1]",
    );
    with_book(
        &linked_book(r#""underlying": "BTC", "basis_haircut": -0.01,"#),
        "collateral[0].basis_haircut: must be in [0, 1]",
    );
    with_book(
        &linked_book(r#""underlying": "BTC", "basis_haircut": {"initial": 0.01, "maintenance": 0.02},"#),
        "collateral[0].basis_haircut: initial (0.01) must be >= maintenance (0.02)",
    );
    with_book(
        &linked_book(r#""underlying": "BTC", "basis_haircut": {"initial": 1.2, "maintenance": 0.02},"#),
        "collateral[0].basis_haircut.initial: must be in [0, 1]",
    );
    with_book(
        &linked_book(r#""underlying": "BTC", "basis_haircut": {"initial": 0.02},"#),
        "collateral[0].basis_haircut.maintenance: missing",
    );
    with_book(
        &linked_book(
            r#""underlying": "BTC", "basis_haircut": {"initial": 0.02, "maintenance": 0.01, "extra": 0},"#,
        ),
        "collateral[0].basis_haircut: unknown field \"extra\"",
    );
    with_book(
        &linked_book(r#""underlying": "BTC", "basis_haircut": "2%","#),
        "collateral[0].basis_haircut: expected a number",
    );
    with_book(&linked_book(r#""underlying": "BTC", "basis": 0.02,"#), "unknown field `basis`");
    // Offsets.
    with_book(
        &offsets_book(r#"[{"underlyings": ["BTC", "XRP"], "credit": 0.5}]"#),
        "offsets[0].underlyings[1]: unknown underlying \"XRP\"",
    );
    with_book(
        &offsets_book(r#"[{"underlyings": ["BTC"], "credit": 0.5}]"#),
        "offsets[0].underlyings: a group needs 2 to 4 underlyings, got 1",
    );
    with_book(
        &offsets_book(r#"[{"underlyings": ["BTC", "ETH", "SOL", "AVAX", "DOGE"], "credit": 0.5}]"#),
        "offsets[0].underlyings: a group needs 2 to 4 underlyings, got 5",
    );
    with_book(
        &offsets_book(r#"[{"underlyings": ["BTC", "BTC"], "credit": 0.5}]"#),
        "offsets[0].underlyings[1]: \"BTC\" listed twice",
    );
    with_book(
        &offsets_book(
            r#"[{"underlyings": ["BTC", "ETH"], "credit": 0.5}, {"underlyings": ["SOL", "ETH"], "credit": 0.2}]"#,
        ),
        "offsets[1].underlyings[1]: \"ETH\" is already in offsets[0]",
    );
    with_book(
        &offsets_book(r#"[{"underlyings": ["BTC", "ETH"], "credit": 1.5}]"#),
        "offsets[0].credit: must be in [0, 1]",
    );
    with_book(
        &offsets_book(r#"[{"underlyings": ["BTC", "ETH"], "credit": -0.1}]"#),
        "offsets[0].credit: must be in [0, 1]",
    );
    with_book(&offsets_book(r#"[{"underlyings": ["BTC", "ETH"], "rho": 0.5}]"#), "unknown field `rho`");
    let five = [r#"{"underlyings": ["BTC", "ETH"], "credit": 0.1}"#; 5].join(", ");
    with_book(&offsets_book(&format!("[{five}]")), "offsets: at most 4 groups, got 5");
}

/// A linked balance with no derivative on its underlying is never charged less than its
/// standalone haircut, and an explicit basis haircut is used.
#[test]
fn unhedged_link_is_never_looser_and_basis_is_read() {
    let plain = margin_json_of(&linked_book(""));
    let linked = margin_json_of(&linked_book(
        r#""underlying": "BTC", "ratio": 1, "basis_haircut": {"initial": 0.05, "maintenance": 0.03},"#,
    ));
    for level in ["initial", "maintenance"] {
        let h_plain = num(&plain, &format!("/health/{level}"));
        let h_linked = num(&linked, &format!("/health/{level}"));
        assert!(
            h_linked <= h_plain + 1e-6,
            "{level}: unhedged linked health {h_linked} > standalone {h_plain}"
        );
    }
    assert!((num(&linked, "/collateral/0/link/basis_haircut/initial") - 0.05).abs() < 1e-12);
    assert!((num(&linked, "/collateral/0/link/basis_haircut/maintenance") - 0.03).abs() < 1e-12);
    assert_eq!(num(&linked, "/underlyings/0/linked_units"), 1.0);
    assert!(plain["collateral"][0]["link"].is_null());
}

#[test]
fn text_report_shows_links_offsets_and_locked() {
    for (book, needles) in [
        (
            "cash_and_carry.json",
            &["linked collateral 1.000000 units", "linked to BTC", "portfolio without offsets", "locked"][..],
        ),
        (
            "btc_long_eth_short.json",
            &["offset credit", "BTC+ETH ρ 0.6 (from the book)", "PM / PM without offsets"][..],
        ),
    ] {
        let path = if book.starts_with("btc") {
            temp_book(&book_with_offsets(
                book,
                serde_json::json!([{"underlyings": ["BTC", "ETH"], "credit": 0.6}]),
            ))
        } else {
            books_dir().join(book)
        };
        let out = xmargin(&["risk", "margin", path.to_str().unwrap()]);
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        for needle in needles {
            assert!(text.contains(needle), "{book}: missing {needle:?} in\n{text}");
        }
    }
}

/// `--expiry-days` is `--expiry-secs` in days (fractions allowed); bad counts name the flag.
#[test]
fn greeks_take_days_or_seconds() {
    let args = |expiry: &[&'static str]| {
        let mut a =
            vec!["risk", "greeks", "--kind", "call", "--spot", "100", "--strike", "105", "--vol", "0.5"];
        a.extend_from_slice(expiry);
        a
    };
    let greeks = |expiry: &[&'static str]| {
        let mut a = args(expiry);
        a.push("--json");
        let out = xmargin(&a);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let by_secs = greeks(&["--expiry-secs", "2592000"]);
    assert_eq!(greeks(&["--expiry-days", "30"]), by_secs);
    assert_eq!(greeks(&["--expiry-days", "0.5"])["expiry_secs"], 43_200);
    for bad in ["-1", "NaN", "inf"] {
        rejected(&args(&["--expiry-days", bad]), "--expiry-days");
    }
    rejected(&args(&["--expiry-days", "1", "--expiry-secs", "9"]), "cannot be used with");
    rejected(&args(&[]), "--expiry-secs");
}

/// Several books at once: each report under its file's name, or a JSON array of `{file,
/// report}` whose reports equal the one-book runs; the first bad file stops the run, named.
#[test]
fn margin_takes_several_books() {
    let books: Vec<PathBuf> = ["short_strangle.json", "delta_hedged_long_straddle.json"]
        .iter()
        .map(|b| books_dir().join(b))
        .collect();
    let paths: Vec<&str> = books.iter().map(|p| p.to_str().unwrap()).collect();
    let out = xmargin(&[&["risk", "margin", "--json"][..], &paths[..]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = all.as_array().expect("an array for several books");
    assert_eq!(all.len(), 2);
    for (entry, path) in all.iter().zip(&paths) {
        assert_eq!(entry["file"], *path);
        let one = xmargin(&["risk", "margin", "--json", path]);
        let one: Value = serde_json::from_slice(&one.stdout).unwrap();
        assert_eq!(entry["report"]["totals"], one["totals"], "{path}");
    }
    let text = xmargin(&[&["risk", "margin"][..], &paths[..]].concat());
    let text = String::from_utf8_lossy(&text.stdout);
    for path in &paths {
        assert!(text.contains(&format!("== {path} ==")), "{text}");
    }
    rejected(
        &[&["risk", "margin"][..], &[paths[0], "/nonexistent/book.json"][..]].concat(),
        "reading /nonexistent/book.json",
    );
}
