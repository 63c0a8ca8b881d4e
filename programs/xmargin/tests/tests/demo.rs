//! The demo's trading part on the compiled program: it runs to the end and what it prints
//! holds — the straddle is delta-hedged, and each book needs far less initial margin in one
//! portfolio than leg by leg, by the engine and on-chain.
use xmargin_cli::demo_trading;

#[test]
fn trading_demo_shows_the_netting_benefit() {
    let summary = demo_trading::run().unwrap_or_else(|e| panic!("demo: {e}"));
    assert!(summary.hedged_delta.abs() < 0.01, "hedged delta {}", summary.hedged_delta);
    assert_eq!(summary.books.len(), 2);
    for (engine, on_chain) in &summary.books {
        let pm = engine.portfolio.requirement.to_num::<f64>();
        let isolated = engine.isolated.requirement.to_num::<f64>();
        assert!(pm > 0.0 && pm < 0.25 * isolated, "engine: portfolio {pm} vs isolated {isolated}");
        // On-chain the marks' drift and age headroom is added, and still a third of isolated.
        assert!(on_chain.portfolio >= pm, "on-chain {} below the exact engine {pm}", on_chain.portfolio);
        assert!(
            on_chain.portfolio < on_chain.isolated / 3.0,
            "on-chain: portfolio {} vs isolated {}",
            on_chain.portfolio,
            on_chain.isolated
        );
    }
}

#[test]
fn liquidation_demo_liquidates_in_partial_steps_to_the_buffer() {
    use xmargin_cli::demo_liquidation::{run, CrashArgs};
    let s = run(&CrashArgs { window: None, data: "../shared/data/prices".into() })
        .unwrap_or_else(|e| panic!("demo: {e}"));
    assert!(s.calls >= 3, "{} calls", s.calls);
    assert!(s.lots_taken > 0 && s.lots_taken < 1_000, "partial: {} lots of 1000", s.lots_taken);
    for (i, ((after, buffer), restored)) in s.health_after.iter().zip(&s.buffers).zip(&s.restored).enumerate()
    {
        assert!(*restored && after >= buffer, "call {i}: {after} vs buffer {buffer}");
    }
    assert!(s.insurance_fees > 0 && s.liquidator_fees > 3 * s.insurance_fees);
    assert_eq!(s.bankruptcies, 0);
}

#[test]
fn a_real_crash_window_replays_when_the_data_is_there() {
    use xmargin_cli::demo_liquidation::{run, CrashArgs};
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/data/prices");
    if !data.join("sol_usd_1h.csv").exists() {
        eprintln!("skipped: no ../shared/data/prices beside the repository");
        return;
    }
    let s = run(&CrashArgs { window: Some("2022-11-08..2022-11-09".into()), data })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(s.calls >= 3 && s.bankruptcies == 0, "{s:?}");
    let missing =
        run(&CrashArgs { window: Some("2022-11-08..2022-11-09".into()), data: "/nonexistent".into() });
    assert!(missing.unwrap_err().to_string().contains("no SOL hourly prices"));
}
