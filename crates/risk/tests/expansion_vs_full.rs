//! The delta–gamma–vega grid (with its add-ons) against full revaluation on a corpus of
//! random books: every option repriced at every scenario, in f64.
mod common;

use common::*;
use xmargin_risk::full;
use xmargin_risk::grid::requirement;
use xmargin_risk::portfolio::books;
use xmargin_risk::{MarginParams, Market};

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[test]
fn requirement_covers_full_revaluation_on_the_corpus() {
    let mut rng = Rng::new(20_240_311);
    let mut expansion_err = Vec::new(); // (expansion-only grid loss − full worst) / spot
    let mut headroom = Vec::new(); // (requirement − full worst) / spot
    let mut violations = Vec::new();
    let books_per_level = 3000;
    for scale in [MarginParams::REFERENCE.initial_scale, xmargin_risk::fx::ONE] {
        for _ in 0..books_per_level {
            let spot = 50_000.0;
            let u = underlying(0, spot, rng.uniform(0.3, 1.2), 0.0);
            let n = 1 + rng.below(8) as usize;
            let positions: Vec<_> = (0..n).map(|_| random_position(&mut rng, 0, spot)).collect();
            let market = Market { now: NOW, underlyings: std::slice::from_ref(&u) };
            let book = books(&positions, &market).unwrap().remove(0);
            let params = u.scenario.scaled(scale).unwrap();
            let engine = requirement(&book, &params).unwrap();
            let refs: Vec<_> = positions.iter().collect();
            let truth = full::worst_loss(&refs, &u, NOW, &params);
            let expansion_only = engine.grid_loss.to_num::<f64>() - engine.convexity_addon.to_num::<f64>();
            expansion_err.push((expansion_only - truth) / spot);
            let req = engine.requirement.to_num::<f64>();
            headroom.push((req - truth) / spot);
            if req < truth - 1e-6 * spot {
                violations.push(format!("{positions:?}: requirement {req:.2} < full {truth:.2}"));
            }
        }
    }
    expansion_err.sort_by(f64::total_cmp);
    headroom.sort_by(f64::total_cmp);
    println!(
        "{} books; expansion alone − full worst loss (per unit of spot): min {:.4} p1 {:.4} p50 {:.4} p99 {:.4} max {:.4}",
        expansion_err.len(),
        expansion_err[0],
        percentile(&expansion_err, 0.01),
        percentile(&expansion_err, 0.5),
        percentile(&expansion_err, 0.99),
        expansion_err[expansion_err.len() - 1]
    );
    println!(
        "requirement − full worst loss: min {:.4} p1 {:.4} p50 {:.4} p99 {:.4}; books under-covered: {}",
        headroom[0],
        percentile(&headroom, 0.01),
        percentile(&headroom, 0.5),
        percentile(&headroom, 0.99),
        violations.len()
    );
    for v in violations.iter().take(5) {
        println!("  {v}");
    }
    assert!(
        violations.is_empty(),
        "{} books where the requirement is below full revaluation",
        violations.len()
    );
}
