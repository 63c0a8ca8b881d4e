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
