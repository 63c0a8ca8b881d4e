//! Parameter builders shared by the tests and the demo.
use xmargin::state::{Haircut, WeightTier, MAX_TIERS};

/// A haircut schedule: asset weights (bps), liability weights 1.2 / 1.1, and up to four
/// tiers given as (threshold in native units, initial bps, maintenance bps).
pub fn haircut(initial: u16, maintenance: u16, tiers: &[(u64, u16, u16)]) -> Haircut {
    assert!(tiers.len() <= MAX_TIERS, "at most {MAX_TIERS} tiers");
    let mut h = Haircut {
        initial_asset_weight_bps: initial,
        maintenance_asset_weight_bps: maintenance,
        initial_liability_weight_bps: 12_000,
        maintenance_liability_weight_bps: 11_000,
        tier_count: u8::try_from(tiers.len()).unwrap_or(0),
        ..Haircut::default()
    };
    for (slot, (above, i, m)) in h.tiers.iter_mut().zip(tiers) {
        *slot = WeightTier {
            above: *above,
            initial_weight_bps: *i,
            maintenance_weight_bps: *m,
            _padding: [0; 4],
        };
    }
    h
}
