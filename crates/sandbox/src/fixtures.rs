//! Parameter builders shared by the tests and the demo.
use xmargin::oracle::OracleConfig;
use xmargin::state::{
    CollateralLink, Haircut, OffsetGroupConfig, TailRowConfig, UnderlyingConfig, WeightTier, MAX_TIERS,
};

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

/// An underlying with the reference grid (`ScenarioParams::REFERENCE`: ±15% in 3% steps, vol
/// +15/−10 points at 30 days scaled by (30/max(days, 1))^0.3, the tail ±3·P at 35%, −3·P with
/// vol +25 points at 35%, +3·P with vol +25 points at 20%, short-option minimum 1%), 60%
/// implied vol, and the estimator of earlier versions (k = 3, 5%–60% shocks, 10%/day decay,
/// half-lives 12 h / 7 days, one-day horizon, no stressed weight, hourly updates; the
/// reference calibration, `VolParams::REFERENCE`, is what `xmargin calibrate sweep` chose).
pub fn underlying(oracle: OracleConfig, adaptive: bool) -> UnderlyingConfig {
    let row = |price_multiple_hundredths, vol_move_bps, weight_bps| TailRowConfig {
        price_multiple_hundredths,
        vol_move_bps,
        weight_bps,
    };
    UnderlyingConfig {
        oracle,
        max_price_shock_bps: 1_500,
        vol_shock_up_bps: 1_500,
        vol_shock_down_bps: 1_000,
        short_option_charge_bps: 100,
        price_steps: 5,
        tail_rows: 3,
        tail_both_ways_mask: 0b001,
        adaptive: u8::from(adaptive),
        implied_vol_bps: 6_000,
        min_implied_vol_bps: 1_000,
        max_implied_vol_bps: 30_000,
        vol_k_bps: 30_000,
        vol_floor_bps: 500,
        vol_cap_bps: 6_000,
        vol_max_decay_bps: 1_000,
        vol_stressed_shock_bps: 0,
        vol_stressed_weight_bps: 0,
        vol_scaling_reference_days: 30,
        vol_scaling_floor_hours: 24,
        vol_half_life_short_secs: 12 * 3600,
        vol_half_life_long_secs: 7 * 86_400,
        vol_horizon_secs: 86_400,
        vol_min_interval_secs: 3600,
        retired_estimator: [0; 72],
        tail: [row(300, 0, 3_500), row(-300, 2_500, 3_500), row(300, 2_500, 2_000), TailRowConfig::default()],
        vol_scaling_exponent_bps: 3_000,
        reserved: [0; 6],
    }
}

/// `underlying` with the parameters of earlier versions (`ScenarioParams::LEGACY`): the single
/// extreme move ±3·P at 35%, flat vol shocks.
pub fn legacy_underlying(oracle: OracleConfig, adaptive: bool) -> UnderlyingConfig {
    let mut u = underlying(oracle, adaptive);
    u.tail = [
        TailRowConfig { price_multiple_hundredths: 300, vol_move_bps: 0, weight_bps: 3_500 },
        TailRowConfig::default(),
        TailRowConfig::default(),
        TailRowConfig::default(),
    ];
    (u.tail_rows, u.tail_both_ways_mask, u.vol_scaling_exponent_bps) = (1, 1, 0);
    u
}

/// An active collateral link to `underlying`: basis haircuts (bps of value) at the initial
/// and maintenance level, `ratio_e9` underlying units per whole token ×1e9
/// (`xmargin::state::LINK_RATIO_ONE` = 1:1).
pub fn link(
    underlying: u8,
    basis_initial_bps: u16,
    basis_maintenance_bps: u16,
    ratio_e9: u64,
) -> CollateralLink {
    CollateralLink {
        active: 1,
        underlying,
        basis_initial_bps,
        basis_maintenance_bps,
        _padding: [0; 2],
        ratio_e9,
    }
}

/// An offset group of the given underlying indexes with credit ρ = `credit_bps`.
pub fn offset_group(members: &[u8], credit_bps: u16) -> OffsetGroupConfig {
    let member_mask = members.iter().fold(0u16, |m, i| m | 1u16.checked_shl(u32::from(*i)).unwrap_or(0));
    OffsetGroupConfig { member_mask, credit_bps, _padding: [0; 4] }
}
