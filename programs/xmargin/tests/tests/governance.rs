//! Governance on the compiled .so: timelocked loosening with per-change bounds, the
//! guardian's tighten-only changes, cancellation, underlying listing, authority rotation.
use solana_keypair::Keypair;
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::instructions::{role, ListCollateralArgs, RiskChangeArgs, TightenRiskArgs};
use xmargin::oracle::{kind, OracleConfig};
use xmargin::state::{CollateralRiskParams, Haircut, UnderlyingConfig};
use xmargin_sandbox::{
    cu, pda, program_error_code, ExchangeFixture, Pubkey, Sandbox, TxFailure, DEFAULT_TIMELOCK_SECS,
};

const SPL_TOKEN: Pubkey = Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
const CEILING: u64 = 40_000;

fn assert_error(failure: &TxFailure, expected: XmarginError) {
    assert_eq!(
        failure.custom_code(),
        Some(program_error_code(expected)),
        "expected {expected:?}, got {failure}"
    );
}

fn oracle() -> OracleConfig {
    OracleConfig {
        source: [3; 32],
        feed_account: xmargin_sandbox::oracles::sponsored_feed_account([3; 32]),
        kind: kind::PYTH_PULL,
        max_staleness_secs: 60,
        max_conf_bps: 200,
        ..OracleConfig::default()
    }
}

fn haircut(initial: u16, maintenance: u16) -> Haircut {
    Haircut {
        initial_asset_weight_bps: initial,
        maintenance_asset_weight_bps: maintenance,
        initial_liability_weight_bps: 12_000,
        maintenance_liability_weight_bps: 11_000,
        ..Haircut::default()
    }
}

/// An exchange with one listed asset (index 1) at initial weight 0, maintenance 0.9.
fn setup() -> (Sandbox, ExchangeFixture) {
    let (mut sb, fx) = Sandbox::with_exchange().unwrap_or_else(|e| panic!("{e}"));
    let mint = sb.create_mint_with(9, SPL_TOKEN);
    let args = ListCollateralArgs { oracle: oracle(), haircut: haircut(0, 9_000), deposit_cap: 1_000 };
    let ix = sb.list_collateral_ix(fx.governance.pubkey(), mint, args);
    sb.send(&[ix], &[&fx.governance]).unwrap_or_else(|f| panic!("{f}"));
    (sb, fx)
}

fn params(sb: &Sandbox, index: usize) -> CollateralRiskParams {
    CollateralRiskParams::of(&sb.registry().unwrap().collaterals[index])
}

fn propose(sb: &mut Sandbox, governance: &Keypair, args: RiskChangeArgs) -> Result<u64, TxFailure> {
    let (ix, id) = sb.propose_risk_change_ix(governance.pubkey(), args);
    let landed = sb.send(&[ix], &[governance])?;
    cu::record("propose_risk_change", "collateral or underlying change", landed.compute_units, CEILING);
    Ok(id)
}

fn execute(sb: &mut Sandbox, id: u64) -> Result<(), TxFailure> {
    let ix = sb.execute_risk_change_ix(id);
    let landed = sb.send(&[ix], &[])?;
    cu::record("execute_risk_change", "after the timelock", landed.compute_units, CEILING);
    Ok(())
}

/// Proposes asset 1's initial weight at `initial` (everything else unchanged).
fn propose_initial(sb: &mut Sandbox, governance: &Keypair, initial: u16) -> Result<u64, TxFailure> {
    let params = with_initial(sb, initial);
    propose(sb, governance, RiskChangeArgs::Collateral { index: 1, params })
}

fn with_initial(sb: &Sandbox, initial: u16) -> CollateralRiskParams {
    let mut p = params(sb, 1);
    p.haircut.initial_asset_weight_bps = initial;
    p
}

#[test]
fn loosening_waits_for_the_timelock() {
    let (mut sb, fx) = setup();
    let new = with_initial(&sb, 2_500);
    let id = propose(&mut sb, &fx.governance, RiskChangeArgs::Collateral { index: 1, params: new }).unwrap();
    assert_error(&execute(&mut sb, id).unwrap_err(), XmarginError::TimelockNotExpired);
    sb.warp(DEFAULT_TIMELOCK_SECS - 10);
    assert_error(&execute(&mut sb, id).unwrap_err(), XmarginError::TimelockNotExpired);
    sb.warp(10);
    execute(&mut sb, id).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(params(&sb, 1), new);
    assert!(
        sb.svm.get_account(&pda::risk_change(&pda::exchange(), id)).is_none_or(|a| a.lamports == 0),
        "closed"
    );
    assert!(execute(&mut sb, id).is_err(), "a proposal executes once");
}

#[test]
fn each_change_is_bounded() {
    let (mut sb, fx) = setup();
    let gov = &fx.governance;
    let too_far = with_initial(&sb, 2_501);
    let f = propose(&mut sb, gov, RiskChangeArgs::Collateral { index: 1, params: too_far }).unwrap_err();
    assert_error(&f, XmarginError::WeightStepTooLarge);
    let mut cap = params(&sb, 1);
    cap.deposit_cap = 2_001;
    assert_error(
        &propose(&mut sb, gov, RiskChangeArgs::Collateral { index: 1, params: cap }).unwrap_err(),
        XmarginError::CapGrowthTooLarge,
    );
    let mut bad = params(&sb, 1);
    bad.haircut.initial_asset_weight_bps = 9_500; // above maintenance (and too far)
    bad.haircut.maintenance_asset_weight_bps = 9_000;
    assert!(propose(&mut sb, gov, RiskChangeArgs::Collateral { index: 1, params: bad }).is_err());
    let mut quote = params(&sb, 0);
    quote.haircut.initial_asset_weight_bps = 9_000;
    assert_error(
        &propose(&mut sb, gov, RiskChangeArgs::Collateral { index: 0, params: quote }).unwrap_err(),
        XmarginError::QuoteAssetImmutable,
    );
    let unknown = RiskChangeArgs::Collateral { index: 9, params: params(&sb, 1) };
    assert_error(&propose(&mut sb, gov, unknown).unwrap_err(), XmarginError::UnknownRiskTarget);
    let stranger = sb.funded_keypair();
    let f = propose_initial(&mut sb, &stranger, 100).unwrap_err();
    assert_error(&f, XmarginError::NotGovernance);
}

#[test]
fn execution_rechecks_bounds_against_current_parameters() {
    let (mut sb, fx) = setup();
    let id = propose_initial(&mut sb, &fx.governance, 2_500).unwrap();
    sb.warp(DEFAULT_TIMELOCK_SECS);
    execute(&mut sb, id).unwrap();
    // Next step 2,500 → 5,000; meanwhile the guardian cuts the weight back to 0.
    let id = propose_initial(&mut sb, &fx.governance, 5_000).unwrap();
    let ix = sb.tighten_risk_ix(
        fx.guardian.pubkey(),
        TightenRiskArgs { collateral: 1, params: with_initial(&sb, 0) },
    );
    sb.send(&[ix], &[&fx.guardian]).unwrap_or_else(|f| panic!("{f}"));
    sb.warp(DEFAULT_TIMELOCK_SECS);
    // The proposal was made against 2,500: it is stale (and would also be out of bounds).
    assert_error(&execute(&mut sb, id).unwrap_err(), XmarginError::RiskChangeStale);
    assert_eq!(params(&sb, 1).haircut.initial_asset_weight_bps, 0);
}

#[test]
fn the_guardian_only_tightens_and_it_applies_at_once() {
    let (mut sb, fx) = setup();
    let g = fx.guardian.insecure_clone();
    let loosen = with_initial(&sb, 1_000);
    let ix = sb.tighten_risk_ix(g.pubkey(), TightenRiskArgs { collateral: 1, params: loosen });
    assert_error(&sb.send(&[ix], &[&g]).unwrap_err(), XmarginError::GuardianCannotLoosen);
    let mut looser_oracle = params(&sb, 1);
    looser_oracle.oracle.max_staleness_secs = 600;
    let ix = sb.tighten_risk_ix(g.pubkey(), TightenRiskArgs { collateral: 1, params: looser_oracle });
    assert_error(&sb.send(&[ix], &[&g]).unwrap_err(), XmarginError::GuardianCannotLoosen);
    let mut tighter = params(&sb, 1);
    tighter.haircut.maintenance_asset_weight_bps = 7_000;
    tighter.haircut.maintenance_liability_weight_bps = 11_500;
    tighter.deposit_cap = 10;
    tighter.reduce_only = 1;
    tighter.oracle.max_staleness_secs = 30;
    let ix = sb.tighten_risk_ix(g.pubkey(), TightenRiskArgs { collateral: 1, params: tighter });
    let landed = sb.send(&[ix], &[&g]).unwrap_or_else(|f| panic!("{f}"));
    cu::record("tighten_risk", "guardian: weights, cap, reduce-only, oracle", landed.compute_units, CEILING);
    assert_eq!(params(&sb, 1), tighter);
    // Only the guardian.
    let ix = sb.tighten_risk_ix(fx.governance.pubkey(), TightenRiskArgs { collateral: 1, params: tighter });
    assert_error(&sb.send(&[ix], &[&fx.governance]).unwrap_err(), XmarginError::NotGuardian);
}

#[test]
fn governance_cancels_a_pending_change() {
    let (mut sb, fx) = setup();
    let id = propose_initial(&mut sb, &fx.governance, 2_000).unwrap();
    let stranger = sb.funded_keypair();
    let ix = sb.cancel_risk_change_ix(stranger.pubkey(), id);
    assert_error(&sb.send(&[ix], &[&stranger]).unwrap_err(), XmarginError::NotGovernance);
    let ix = sb.cancel_risk_change_ix(fx.governance.pubkey(), id);
    let landed = sb.send(&[ix], &[&fx.governance]).unwrap_or_else(|f| panic!("{f}"));
    cu::record("cancel_risk_change", "pending collateral change", landed.compute_units, CEILING);
    sb.warp(DEFAULT_TIMELOCK_SECS);
    assert!(execute(&mut sb, id).is_err(), "a cancelled change cannot execute");
    assert_eq!(params(&sb, 1).haircut.initial_asset_weight_bps, 0);
}

fn underlying() -> UnderlyingConfig {
    xmargin_sandbox::fixtures::underlying(oracle(), false)
}

#[test]
fn underlyings_list_through_the_timelock() {
    let (mut sb, fx) = setup();
    let bad = UnderlyingConfig { implied_vol_bps: 50_000, ..underlying() };
    let f = propose(&mut sb, &fx.governance, RiskChangeArgs::ListUnderlying { config: bad }).unwrap_err();
    assert_error(&f, XmarginError::InvalidUnderlyingConfig);
    let id =
        propose(&mut sb, &fx.governance, RiskChangeArgs::ListUnderlying { config: underlying() }).unwrap();
    assert_eq!(sb.registry().unwrap().underlying_count, 0);
    sb.warp(DEFAULT_TIMELOCK_SECS);
    execute(&mut sb, id).unwrap_or_else(|f| panic!("{f}"));
    let r = sb.registry().unwrap();
    assert_eq!(r.underlying_count, 1);
    // Listed exactly as proposed (the estimator starts with the underlying's market).
    assert_eq!(r.underlyings[0], underlying());
    // Moving the price shock by more than the step in one change is refused.
    let loose = UnderlyingConfig { max_price_shock_bps: 1_500 + 2_501, ..underlying() };
    assert!(propose(&mut sb, &fx.governance, RiskChangeArgs::Underlying { index: 0, config: loose }).is_err());
    let next = UnderlyingConfig { max_price_shock_bps: 1_200, ..underlying() };
    let id = propose(&mut sb, &fx.governance, RiskChangeArgs::Underlying { index: 0, config: next }).unwrap();
    sb.warp(DEFAULT_TIMELOCK_SECS);
    execute(&mut sb, id).unwrap();
    assert_eq!(sb.registry().unwrap().underlyings[0].max_price_shock_bps, 1_200);
}

#[test]
fn authority_rotation_takes_two_steps() {
    let (mut sb, fx) = setup();
    let next = sb.funded_keypair();
    let stranger = sb.funded_keypair();
    let ix = sb.accept_authority_ix(next.pubkey(), role::GOVERNANCE);
    assert_error(&sb.send(&[ix], &[&next]).unwrap_err(), XmarginError::NoPendingAuthority);
    let ix = sb.propose_authority_ix(stranger.pubkey(), role::GOVERNANCE, stranger.pubkey());
    assert_error(&sb.send(&[ix], &[&stranger]).unwrap_err(), XmarginError::NotGovernance);
    let ix = sb.propose_authority_ix(fx.governance.pubkey(), role::GOVERNANCE, next.pubkey());
    let landed = sb.send(&[ix], &[&fx.governance]).unwrap();
    cu::record("propose_authority", "new governance", landed.compute_units, 10_000);
    let ix = sb.accept_authority_ix(stranger.pubkey(), role::GOVERNANCE);
    assert_error(&sb.send(&[ix], &[&stranger]).unwrap_err(), XmarginError::NotPendingAuthority);
    let ix = sb.accept_authority_ix(next.pubkey(), role::GOVERNANCE);
    let landed = sb.send(&[ix], &[&next]).unwrap();
    cu::record("accept_authority", "new governance", landed.compute_units, 10_000);
    let ex = sb.exchange().unwrap();
    assert_eq!((ex.governance, ex.pending_governance), (next.pubkey(), Pubkey::default()));
    // The old key has lost its powers; the guardian rotates the same way.
    let f = propose_initial(&mut sb, &fx.governance, 100).unwrap_err();
    assert_error(&f, XmarginError::NotGovernance);
    let ix = sb.propose_authority_ix(next.pubkey(), role::GUARDIAN, stranger.pubkey());
    sb.send(&[ix], &[&next]).unwrap();
    let ix = sb.accept_authority_ix(stranger.pubkey(), role::GUARDIAN);
    sb.send(&[ix], &[&stranger]).unwrap();
    assert_eq!(sb.exchange().unwrap().guardian, stranger.pubkey());
}
