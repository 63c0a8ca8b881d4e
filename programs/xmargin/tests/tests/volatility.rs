//! `update_volatility` on the compiled .so: the stored estimator state is bit-identical to
//! the same price sequence replayed through crates/risk on the host (what `xmargin
//! backtest` runs), the adaptive shock drives the grid, and the crank's limits hold.
use solana_keypair::Keypair;
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::instructions::RiskChangeArgs;
use xmargin::oracle::{kind, OracleConfig};
use xmargin_risk::fx::from_mantissa;
use xmargin_risk::vol::{update, VolState};
use xmargin_sandbox::{cu, program_error_code, Sandbox, DEFAULT_TIMELOCK_SECS};

const FEED: [u8; 32] = [0x42; 32];

fn listed() -> (Sandbox, solana_keypair::Keypair, xmargin_sandbox::Pubkey) {
    let (mut sb, fx) = Sandbox::with_exchange().unwrap_or_else(|e| panic!("{e}"));
    let oracle_cfg = OracleConfig {
        source: FEED,
        feed_account: xmargin_sandbox::oracles::sponsored_feed_account(FEED),
        kind: kind::PYTH_PULL,
        max_staleness_secs: 60,
        max_conf_bps: 200,
        ..OracleConfig::default()
    };
    let config = xmargin_sandbox::fixtures::underlying(oracle_cfg, true);
    let (ix, id) =
        sb.propose_risk_change_ix(fx.governance.pubkey(), RiskChangeArgs::ListUnderlying { config });
    sb.send(&[ix], &[&fx.governance]).unwrap_or_else(|f| panic!("{f}"));
    sb.warp(DEFAULT_TIMELOCK_SECS);
    let ix = sb.execute_risk_change_ix(id);
    sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("{f}"));
    // The estimator lives in the underlying's market (started at the implied vol there).
    let ix = sb.create_market_ix(fx.governance.pubkey(), xmargin_sandbox::venue::market_args(0));
    sb.send(&[ix], &[&fx.governance]).unwrap_or_else(|f| panic!("{f}"));
    let oracle = xmargin_sandbox::oracles::sponsored_feed_account(FEED);
    (sb, fx.governance, oracle)
}

/// The estimator's state as underlying 0's market holds it.
fn estimator(sb: &Sandbox) -> VolState {
    sb.market(0).expect("market").volatility.get()
}

#[test]
fn program_and_host_replay_store_identical_values() {
    let (mut sb, _, oracle) = listed();
    let config = sb.registry().unwrap().underlyings[0];
    let params = config.vol_params().unwrap();
    let mut host: VolState = estimator(&sb);
    // Starts at the implied vol (60%)², up to the bps → fixed-point rounding.
    let start = (host.var_short - xmargin_risk::Fx::from_num(0.36)).abs();
    assert!(start < xmargin_risk::Fx::from_num(1e-9), "initial variance off by {start}");
    // Two quiet days, a 12% drop, then a rebound: 60 hourly updates.
    let mut price: i64 = 15_000_000;
    for step in 0..60 {
        sb.warp(3600);
        price = match step {
            48 => price * 88 / 100,
            49..=52 => price * 101 / 100,
            _ => price + if step % 2 == 0 { 3_000 } else { -2_000 },
        };
        let q = sb.quote(price, 1_000, -5);
        sb.put_pull_oracle(oracle, FEED, &q, true);
        let ix = sb.update_volatility_ix(0, oracle);
        let landed = sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("step {step}: {f}"));
        if step == 0 {
            cu::record("update_volatility", "first observation", landed.compute_units, 40_000);
        }
        if step == 48 {
            cu::record("update_volatility", "a 12% move", landed.compute_units, 40_000);
        }
        host = update(&host, from_mantissa(price, -5).unwrap(), sb.now().0, &params).unwrap();
        assert_eq!(estimator(&sb), host, "step {step}");
    }
    let stored = sb.registry().unwrap().underlyings[0];
    // The drop raised the shock above its quiet level, and the grid uses it; the registry
    // (read by every health check) was never written by the crank.
    let shock = estimator(&sb).shock;
    assert!(shock > params.floor);
    assert_eq!(stored.scenario(shock).unwrap().max_price_shock, shock);
    assert_eq!(stored.retired_estimator, [0; 72]);
}

#[test]
fn the_crank_is_rate_limited_and_guarded() {
    let (mut sb, _, oracle) = listed();
    sb.warp(3600);
    let q = sb.quote(15_000_000, 1_000, -5);
    sb.put_pull_oracle(oracle, FEED, &q, true);
    sb.send(&[sb.update_volatility_ix(0, oracle)], &[]).unwrap_or_else(|f| panic!("{f}"));
    let after_first = estimator(&sb);
    sb.warp(1800);
    let q = sb.quote(15_100_000, 1_000, -5);
    sb.put_pull_oracle(oracle, FEED, &q, true);
    let f = sb.send(&[sb.update_volatility_ix(0, oracle)], &[]).unwrap_err();
    assert_eq!(f.custom_code(), Some(program_error_code(XmarginError::VolatilityUpdateTooSoon)), "{f}");
    // An hour later but with a two-minute-old price: the oracle guard refuses it.
    sb.warp(1800);
    let f = sb.send(&[sb.update_volatility_ix(0, oracle)], &[]).unwrap_err();
    assert_eq!(f.custom_code(), Some(program_error_code(XmarginError::OracleStale)), "{f}");
    // A genuine update of this feed posted at another account is not read: the crank's
    // caller cannot choose the price.
    let other = Keypair::new().pubkey();
    let q = sb.quote(15_100_000, 1_000, -5);
    sb.put_pull_oracle(other, FEED, &q, true);
    let f = sb.send(&[sb.update_volatility_ix(0, other)], &[]).unwrap_err();
    assert_eq!(f.custom_code(), Some(program_error_code(XmarginError::OracleWrongAccount)), "{f}");
    // Another feed's update in this feed's account is not this underlying's.
    sb.put_pull_oracle(oracle, [0x43; 32], &q, true);
    let f = sb.send(&[sb.update_volatility_ix(0, oracle)], &[]).unwrap_err();
    assert_eq!(f.custom_code(), Some(program_error_code(XmarginError::OracleWrongFeed)), "{f}");
    // An underlying without a market has no estimator to update.
    let f = sb.send(&[sb.update_volatility_ix(3, oracle)], &[]).unwrap_err();
    assert_eq!(
        f.custom_code(),
        Some(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram as u32),
        "{f}"
    );
    // Every rejection left the estimator exactly as the last accepted update wrote it.
    assert_eq!(estimator(&sb), after_first);
}

#[test]
fn governance_edits_parameters_and_keeps_the_estimate() {
    let (mut sb, governance, oracle) = listed();
    sb.warp(3600);
    let q = sb.quote(15_000_000, 1_000, -5);
    sb.put_pull_oracle(oracle, FEED, &q, true);
    sb.send(&[sb.update_volatility_ix(0, oracle)], &[]).unwrap_or_else(|f| panic!("{f}"));
    let current = sb.registry().unwrap().underlyings[0];
    let propose = |sb: &mut Sandbox, config| {
        let (ix, id) =
            sb.propose_risk_change_ix(governance.pubkey(), RiskChangeArgs::Underlying { index: 0, config });
        sb.send(&[ix], &[&governance]).map(|_| id)
    };
    // A floor above the cap is not a valid estimator: refused at proposal.
    let bad = xmargin::state::UnderlyingConfig { vol_floor_bps: 7_000, ..current };
    let f = propose(&mut sb, bad).unwrap_err();
    assert_eq!(f.custom_code(), Some(program_error_code(XmarginError::InvalidUnderlyingConfig)), "{f}");
    // k from 3 to 3.3 is more than the 2,500 bps step allows in one change.
    let jump = xmargin::state::UnderlyingConfig { vol_k_bps: 30_000 + 2_501, ..current };
    let f = propose(&mut sb, jump).unwrap_err();
    assert_eq!(f.custom_code(), Some(program_error_code(XmarginError::WeightStepTooLarge)), "{f}");
    // A step-sized edit goes through the timelock. The proposal carries a copy of the state
    // at proposal time; the crank moves on meanwhile, and execution keeps the live state.
    let edit = xmargin::state::UnderlyingConfig { vol_k_bps: 32_000, vol_floor_bps: 1_000, ..current };
    let id = propose(&mut sb, edit).unwrap_or_else(|f| panic!("{f}"));
    sb.warp(DEFAULT_TIMELOCK_SECS);
    let q = sb.quote(14_000_000, 1_000, -5);
    sb.put_pull_oracle(oracle, FEED, &q, true);
    sb.send(&[sb.update_volatility_ix(0, oracle)], &[]).unwrap_or_else(|f| panic!("{f}"));
    let live = estimator(&sb);
    assert_ne!(live.last_time, 0);
    sb.send(&[sb.execute_risk_change_ix(id)], &[]).unwrap_or_else(|f| panic!("{f}"));
    let after = sb.registry().unwrap().underlyings[0];
    assert_eq!((after.vol_k_bps, after.vol_floor_bps), (32_000, 1_000));
    assert_eq!(estimator(&sb), live);
}
