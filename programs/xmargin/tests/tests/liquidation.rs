//! Liquidation on the compiled .so: partial position liquidation sized by the risk engine
//! (minimal within one lot, capped by the liquidator, never beyond what restores the buffer),
//! the fee split and conservation of quote tokens, the liquidation state, every rejection
//! (each its own error, nothing changed), collateral liquidation, bankruptcy with the
//! insurance fund and with a socialized loss, and compute units.
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::state::{liquidation_state, pause, Portfolio, PERP_INSTRUMENT};
use xmargin_risk::liquidation::{discount_per_unit, LiquidationTerms};
use xmargin_sandbox::ix::fx_bits_to_f64;
use xmargin_sandbox::venue::{Trader, Venue};
use xmargin_sandbox::{cu, program_error_code, Pubkey, TxFailure};

/// SOL at $150.
const SOL: i64 = 150_000_000;
/// 100,000 USDC.
const RICH: u64 = 100_000_000_000;
const LIQUIDATE_CEILING: u64 = 200_000;

fn assert_error(failure: &TxFailure, expected: XmarginError) {
    assert_eq!(
        failure.custom_code(),
        Some(program_error_code(expected)),
        "expected {expected:?}, got {failure}"
    );
}

fn quote_balance(p: &Portfolio) -> i64 {
    p.balances.iter().find(|b| b.active == 1 && b.collateral == 0).map_or(0, |b| b.amount)
}

fn perp_size(p: &Portfolio) -> i64 {
    p.positions.iter().find(|s| s.active == 1 && s.series == PERP_INSTRUMENT).map_or(0, |s| s.size)
}

fn snapshot(v: &Venue, keys: &[Pubkey]) -> Vec<Vec<u8>> {
    keys.iter().map(|k| v.sb.svm.get_account(k).map(|a| a.data).unwrap_or_default()).collect()
}

struct Scene {
    v: Venue,
    target: Trader,
    maker: Trader,
    liquidator: Trader,
}

/// The target buys `lots` SOL perp lots at $150 with `collateral` USDC; the maker sells; the
/// liquidator holds `RICH`. Then SOL falls to `crash`.
fn scene(collateral: u64, lots: i64, crash: i64) -> Scene {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let target = v.trader(collateral).unwrap();
    let maker = v.trader(RICH).unwrap();
    let liquidator = v.trader(RICH).unwrap();
    v.trade_perp_at_oracle(&target, &maker, 0, lots).unwrap_or_else(|f| panic!("{f}"));
    v.set_price(0, crash);
    Scene { v, target, maker, liquidator }
}

fn maintenance(v: &mut Venue, p: &Pubkey) -> f64 {
    fx_bits_to_f64(v.health(p).unwrap().0.maintenance_health)
}

#[test]
fn one_call_restores_the_buffer_and_no_further() {
    // 10 SOL long with 400 USDC; SOL 150 → 126.
    let Scene { mut v, target, maker: _, liquidator } = scene(400_000_000, 1_000, 126_000_000);
    let (view, _) = v.health(&target.portfolio).unwrap();
    let before = fx_bits_to_f64(view.maintenance_health);
    let requirement = fx_bits_to_f64(view.maintenance_requirement);
    assert!(before < 0.0, "underwater: {before}");
    // The trades' fees go to insurance first, so that what the liquidation adds shows alone.
    v.sweep_all_fees().unwrap();
    let (vault0, insurance0) = v.vault_balances();
    let landed = v
        .liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, u64::MAX)
        .unwrap_or_else(|f| panic!("{f}"));
    cu::record("liquidate_positions", "perp, 1-position target", landed.compute_units, LIQUIDATE_CEILING);
    let (t, l) = (v.sb.portfolio(&target.portfolio).unwrap(), v.portfolio(&liquidator));
    let taken = 1_000 - perp_size(&t);
    assert!(taken > 0 && taken < 1_000, "partial: {taken} lots of 1000");
    assert_eq!(perp_size(&l), taken, "the liquidator holds what the target gave");
    assert_eq!(t.liquidation_state, liquidation_state::NORMAL, "buffer restored");
    // Restored to the buffer (5% of the requirement before), and one lot less would not do:
    // each lot releases at most requirement/1000 and costs the discount.
    let after = maintenance(&mut v, &target.portfolio);
    let buffer = 0.05 * requirement;
    assert!(after >= buffer * 0.999 && after > before, "{after} vs buffer {buffer}");
    let per_lot = requirement / 1_000.0;
    assert!(after - buffer <= per_lot + 0.01, "overshoot {} > one lot {per_lot}", after - buffer);
    // The liquidator stays initial-healthy.
    assert!(fx_bits_to_f64(v.health(&liquidator.portfolio).unwrap().0.initial_health) >= 0.0);
    // Fee split: the discount is 1% of the notional at 126; 20% goes to insurance.
    let discount = taken as f64 / 100.0 * 126.0 * 0.01;
    // The insurance share accrued in the market; swept, it is in the insurance vault.
    assert!(v.fees_accrued() > 0);
    v.sweep_all_fees().unwrap();
    let (vault1, insurance1) = v.vault_balances();
    let to_insurance = insurance1 - insurance0;
    // (The discount per unit is 1% of the Fx spot: the last native unit may round down.)
    let expected = ((discount * 1e6).floor() as i64) * 2_000 / 10_000;
    assert!((to_insurance as i64 - expected).abs() <= 1, "{to_insurance} vs {expected}");
    // Conservation: tokens only moved between the two vaults.
    assert_eq!(vault0 + insurance0, vault1 + insurance1);
    // A second call finds nothing to do.
    let f = v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, u64::MAX).unwrap_err();
    assert_error(&f, XmarginError::NotLiquidatable);
}

#[test]
fn the_program_sizes_exactly_as_the_engine() {
    // The engine's plan from the same inputs gives the same lots.
    let Scene { mut v, target, maker: _, liquidator } = scene(400_000_000, 1_000, 126_000_000);
    let view = v.health(&target.portfolio).unwrap().0;
    let positions = v.engine_positions(&target);
    let marked: Vec<_> = positions
        .iter()
        .map(|p| xmargin_risk::marks::MarkedPosition {
            underlying: 0,
            size: p.size,
            marks: None,
            strike_expiry: None,
        })
        .collect();
    let m = v.engine_market(0);
    let u = [xmargin_risk::marks::MarkedUnderlying {
        market: m,
        policy: xmargin_risk::marks::MarksPolicy::new(
            xmargin_risk::marks::MarksPolicy::MIN_DRIFT,
            xmargin_risk::marks::MarksPolicy::MIN_AGE,
        ),
        stable_price: xmargin_risk::Fx::ZERO,
    }];
    let cash = quote_balance(&v.portfolio(&target)) + v.portfolio(&target).positions[0].quote_basis;
    let balances = [xmargin_risk::collateral::Balance {
        collateral: 0,
        amount: xmargin_risk::Fx::from_num(cash) / xmargin_risk::Fx::from_num(1_000_000),
    }];
    let quote = [xmargin_risk::collateral::CollateralMarket {
        index: 0,
        price: xmargin_risk::Fx::ONE,
        conf: xmargin_risk::Fx::ZERO,
        schedule: xmargin_risk::collateral::HaircutSchedule::flat(
            xmargin_risk::Fx::ONE,
            xmargin_risk::Fx::ONE,
            xmargin_risk::Fx::ONE,
            xmargin_risk::Fx::ONE,
        ),
        link: None,
    }];
    let f = xmargin_risk::Fx::from_num;
    let discount = discount_per_unit(false, m.spot, m.spot, f(0.01), f(0.1)).unwrap();
    let terms = LiquidationTerms {
        discount,
        buffer: f(0.000_001),
        buffer_fraction: f(0.05),
        lot: f(0.01),
        max_lots: i64::MAX,
        quote: 0,
    };
    let plan = xmargin_risk::liquidation::liquidation_size(
        &marked,
        0,
        &balances,
        &quote,
        &u,
        v.sb.now().0,
        &xmargin_risk::MarginParams::REFERENCE,
        terms,
    )
    .unwrap();
    assert!((fx_bits_to_f64(view.maintenance_health) - plan.health_before.to_num::<f64>()).abs() < 1e-3);
    v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, u64::MAX).unwrap();
    assert_eq!(1_000 - perp_size(&v.portfolio(&target)), plan.lots);
}

#[test]
fn a_capped_liquidator_gets_what_it_asked_and_the_state_blocks_risk() {
    let Scene { mut v, target, maker, liquidator } = scene(400_000_000, 1_000, 126_000_000);
    v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, 10).unwrap();
    let t = v.portfolio(&target);
    assert_eq!(perp_size(&t), 990, "exactly the 10 lots asked for");
    assert_eq!(t.liquidation_state, liquidation_state::BEING_LIQUIDATED);
    assert!(maintenance(&mut v, &target.portfolio) < 0.0);
    // Being liquidated: no withdrawal, no trade that adds risk; reducing risk is fine.
    assert_error(&v.withdraw(&target, 1).unwrap_err(), XmarginError::PortfolioInLiquidation);
    assert_error(
        &v.trade_perp_at_oracle(&target, &maker, 0, 10).unwrap_err(),
        XmarginError::TakerInsufficientHealth,
    );
    v.trade_perp_at_oracle(&target, &maker, 0, -10).unwrap_or_else(|f| panic!("{f}"));
    // A deposit that restores the buffer lets a withdrawal through, which ends the state.
    v.deposit(&target, 1_000_000_000).unwrap();
    v.withdraw(&target, 1).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(v.portfolio(&target).liquidation_state, liquidation_state::NORMAL);
}

#[test]
fn rejections_change_nothing() {
    let Scene { mut v, target, maker, liquidator } = scene(400_000_000, 1_000, 126_000_000);
    v.mark_all();
    let keys = [target.portfolio, liquidator.portfolio, maker.portfolio];
    let before = snapshot(&v, &keys);
    // A healthy portfolio cannot be liquidated.
    let f = v.liquidate_positions(&liquidator, &maker.portfolio, 0, PERP_INSTRUMENT, 10).unwrap_err();
    assert_error(&f, XmarginError::NotLiquidatable);
    // Signer must own (or be delegate of) the liquidator portfolio.
    let mut ix = v.liquidate_positions_ix(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, 10);
    ix.accounts[0].pubkey = maker.owner.pubkey();
    let f = v.sb.send(&[ix], &[&maker.owner]).unwrap_err();
    assert_error(&f, XmarginError::NotLiquidator);
    // Zero size, self-liquidation, an instrument not held.
    let f = v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, 0).unwrap_err();
    assert_error(&f, XmarginError::InvalidLiquidationSize);
    let f = v.liquidate_positions(&target, &target.portfolio, 0, PERP_INSTRUMENT, 10).unwrap_err();
    assert_error(&f, XmarginError::LiquidatorIsTarget);
    let f = v.liquidate_positions(&liquidator, &target.portfolio, 0, 3, 10).unwrap_err();
    assert_error(&f, XmarginError::NothingToLiquidate);
    // A liquidator too small to carry the position.
    let poor = v.trader(1_000_000).unwrap();
    let f = v.liquidate_positions(&poor, &target.portfolio, 0, PERP_INSTRUMENT, u64::MAX).unwrap_err();
    assert_error(&f, XmarginError::LiquidatorInsufficientHealth);
    // Paused.
    let guardian = v.fx.guardian.insecure_clone();
    let ix = v.sb.set_pause_ix(guardian.pubkey(), pause::LIQUIDATIONS);
    v.sb.send(&[ix], &[&guardian]).unwrap();
    let f = v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, 10).unwrap_err();
    assert_error(&f, XmarginError::LiquidationsPaused);
    assert_eq!(snapshot(&v, &keys), before, "rejections wrote nothing");
}

#[test]
fn bankruptcy_insurance_covers() {
    // 10 SOL long with 380 USDC; SOL 150 → 90: equity −220.
    let Scene { mut v, target, maker: _, liquidator } = scene(380_000_000, 1_000, 90_000_000);
    v.fund_insurance(10_000_000_000).unwrap();
    v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, u64::MAX).unwrap();
    let t = v.portfolio(&target);
    assert_eq!(perp_size(&t), 0, "the buffer is out of reach: all of it");
    assert_eq!(t.liquidation_state, liquidation_state::BEING_LIQUIDATED);
    let deficit = -quote_balance(&t);
    assert!(deficit > 0);
    let (vault0, insurance0) = v.vault_balances();
    // Fees owed to the fund and not swept yet: the resolution moves them to it first.
    let owed = v.fees_accrued() + v.ledger_fees_accrued();
    let ix = v.resolve_bankruptcy_ix(&target.portfolio);
    let landed = v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("{f}"));
    cu::record("resolve_bankruptcy", "insurance covers", landed.compute_units, 60_000);
    let (vault1, insurance1) = v.vault_balances();
    assert_eq!(insurance0 + owed - insurance1, deficit as u64);
    assert_eq!(vault1 + owed - vault0, deficit as u64);
    assert_eq!(v.fees_accrued() + v.ledger_fees_accrued(), 0);
    let t = v.portfolio(&target);
    assert_eq!(quote_balance(&t), 0);
    assert_eq!(t.liquidation_state, liquidation_state::NORMAL);
    assert_eq!(
        v.sb.registry().unwrap().quote_loss_index,
        xmargin::state::StoredFx::ZERO,
        "no loss socialized"
    );
    // Nothing left to resolve.
    let ix = v.resolve_bankruptcy_ix(&target.portfolio);
    assert_error(&v.sb.send(&[ix], &[]).unwrap_err(), XmarginError::NotBankrupt);
}

/// A full quote vault still takes a repayment: the cap applies only to what a deposit adds to
/// positive balances, so a borrower (or anyone paying for it) can always cure.
#[test]
fn a_full_vault_still_takes_a_repayment() {
    let Scene { mut v, target, maker, liquidator } = scene(380_000_000, 1_000, 90_000_000);
    v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, u64::MAX).unwrap();
    let deficit = -quote_balance(&v.portfolio(&target));
    assert!(deficit > 1_000_000, "set-up: a quote liability");
    let (vault, _) = v.vault_balances();
    v.sb.patch_zero_copy::<xmargin::state::HaircutRegistry>(
        &xmargin_sandbox::pda::registry(&xmargin_sandbox::pda::exchange()),
        |r| {
            r.collaterals[0].deposit_cap = vault;
        },
    );
    assert_error(&v.deposit(&maker, 1).unwrap_err(), XmarginError::DepositCapExceeded);
    v.deposit(&target, 1_000_000).unwrap_or_else(|f| panic!("a repayment is not capped: {f}"));
    assert_eq!(-quote_balance(&v.portfolio(&target)), deficit - 1_000_000);
}

#[test]
fn bankruptcy_beyond_insurance_is_socialized_over_quote_holders() {
    let Scene { mut v, target, maker, liquidator } = scene(380_000_000, 1_000, 90_000_000);
    // Positions must go first.
    let ix = v.resolve_bankruptcy_ix(&target.portfolio);
    assert_error(&v.sb.send(&[ix], &[]).unwrap_err(), XmarginError::BankruptcyPositionsRemain);
    v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, u64::MAX).unwrap();
    let deficit = -quote_balance(&v.portfolio(&target)) as u64;
    // The trades' fees and the liquidation's insurance share are owed to the fund, not swept
    // yet: the resolution moves them first (nobody can socialize a loss the fund owes).
    let owed = v.fees_accrued() + v.ledger_fees_accrued();
    assert!(owed > 0, "set-up: fees accrued and not swept");
    let (vault0, insurance0) = v.vault_balances();
    assert!(insurance0 + owed < deficit, "fees alone do not cover it");
    // Σ positive quote balances: the registry's shard plus the markets' (folded by the
    // resolution into the registry, each market's set to 0).
    let total0 = u64::try_from(v.positive_quote_total()).unwrap();
    assert_ne!(v.market(0).positive_quote_delta, 0, "set-up: trades moved quote through the market");
    // Without every market's shard the sum would be wrong: a missing market, a read-only one
    // or another account in its place is refused, and nothing is written.
    let ix = v.resolve_bankruptcy_ix(&target.portfolio);
    let market = v.underlyings[0].market;
    let shard = |v: &Venue| (v.market(0).positive_quote_delta, v.market(0).fees_accrued);
    let before = (shard(&v), v.quote_ledger_shard(), v.vault_balances());
    let mut missing = ix.clone();
    missing.accounts.retain(|m| m.pubkey != market);
    let mut read_only = ix.clone();
    read_only.accounts.iter_mut().filter(|m| m.pubkey == market).for_each(|m| m.is_writable = false);
    let mut other = ix.clone();
    other.accounts.iter_mut().filter(|m| m.pubkey == market).for_each(|m| m.pubkey = v.underlyings[0].oracle);
    for bad in [missing, read_only, other] {
        assert_error(&v.sb.send(&[bad], &[]).unwrap_err(), XmarginError::BankruptcyMarketsMismatch);
    }
    let after = (shard(&v), v.quote_ledger_shard(), v.vault_balances());
    assert_eq!(before, after, "refusals wrote nothing");
    let landed = v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("{f}"));
    assert!(landed.logs.iter().any(|l| l.starts_with("Program data: ")), "event emitted");
    let (vault1, insurance1) = v.vault_balances();
    assert_eq!(insurance1, 0, "the fund, owed fees included, is used up first");
    assert_eq!(vault1, vault0 + insurance0);
    assert_eq!(v.fees_accrued() + v.ledger_fees_accrued(), 0, "swept by the resolution");
    let socialized = deficit - insurance0 - owed;
    let registry = v.sb.registry().unwrap();
    assert_eq!(v.quote_ledger_shard(), i64::try_from(total0 - socialized).unwrap());
    assert_eq!(v.market(0).positive_quote_delta, 0, "folded into the quote ledger");
    let index = registry.quote_loss_index().to_num::<f64>();
    let expected = (total0 - socialized) as f64 / total0 as f64;
    assert!((index - expected).abs() < 1e-12, "{index} vs {expected}");
    // The haircut reaches a holder when it is next touched: the maker's balance, applied by a
    // deposit of zero-effect size.
    let maker_before = quote_balance(&v.portfolio(&maker));
    v.deposit(&maker, 1).unwrap();
    let maker_after = quote_balance(&v.portfolio(&maker));
    let haircut = (maker_before as f64 * index).floor() as i64 + 1;
    assert!((maker_after - haircut).abs() <= 1, "{maker_after} vs {haircut}");
    // Claims never exceed the vault: Σ effective positive balances ≤ vault tokens.
    let claims: f64 = [&target, &maker, &liquidator]
        .iter()
        .map(|t| {
            let p = v.portfolio(t);
            let b = quote_balance(&p) as f64;
            if b > 0.0 {
                b * index / p.quote_loss_snapshot.get_or_one().to_num::<f64>()
            } else {
                b
            }
        })
        .sum();
    assert!(claims <= v.vault_balances().0 as f64 + 1.0, "{claims} claims vs {} vault", v.vault_balances().0);
}

fn balance_of(p: &Portfolio, collateral: u8) -> i64 {
    p.balances.iter().find(|b| b.active == 1 && b.collateral == collateral).map_or(0, |b| b.amount)
}

#[test]
fn collateral_is_sold_to_repay_the_liability_at_one_discount() {
    // The target margins a 10 SOL perp long with 10 wrapped SOL (9 decimals; weights 80/90%)
    // and no quote; SOL (both the underlying and the collateral) falls 150 → 80: maintenance
    // health is negative, equity still positive (a solvent target: the usual fee split).
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let wsol = v.list_collateral_asset(9, SOL, 8_000, 9_000).unwrap();
    let target = v.trader(0).unwrap();
    let maker = v.trader(RICH).unwrap();
    let liquidator = v.trader(RICH).unwrap();
    v.deposit_collateral(&target, wsol, 10_000_000_000).unwrap();
    v.trade_perp_at_oracle(&target, &maker, 0, 1_000).unwrap_or_else(|f| panic!("{f}"));
    v.set_price(0, 80_000_000);
    v.set_collateral_price(wsol, 80_000_000);
    assert!(maintenance(&mut v, &target.portfolio) < 0.0);
    v.mark_all();
    let keys = [target.portfolio, liquidator.portfolio];
    let before = snapshot(&v, &keys);
    // The quote asset is not collateral to liquidate; the maker is healthy.
    let f = v.liquidate_collateral(&liquidator, &target.portfolio, 0, u64::MAX).unwrap_err();
    assert_error(&f, XmarginError::InvalidLiquidationCollateral);
    let f = v.liquidate_collateral(&liquidator, &maker.portfolio, wsol, u64::MAX).unwrap_err();
    assert_error(&f, XmarginError::NothingToLiquidate);
    assert_eq!(snapshot(&v, &keys), before);

    // A capped liquidator: exactly 1 SOL for 79.20 USDC (80 less 1%), 20% of the 0.80
    // discount to insurance (accrued in the quote ledger, then swept).
    v.sweep_all_fees().unwrap();
    let (vault0, insurance0) = v.vault_balances();
    let q0 = (quote_balance(&v.portfolio(&target)), quote_balance(&v.portfolio(&liquidator)));
    let landed = v
        .liquidate_collateral(&liquidator, &target.portfolio, wsol, 1_000_000_000)
        .unwrap_or_else(|f| panic!("{f}"));
    cu::record(
        "liquidate_collateral",
        "1 collateral + 1 perp target",
        landed.compute_units,
        LIQUIDATE_CEILING,
    );
    let (t, l) = (v.portfolio(&target), v.portfolio(&liquidator));
    assert_eq!(balance_of(&t, wsol), 9_000_000_000);
    assert_eq!(balance_of(&l, wsol), 1_000_000_000);
    // The repayment rounds up in the target's favour (0.99 is not exact in binary).
    let repaid = quote_balance(&t) - q0.0;
    assert!((79_200_000..=79_200_001).contains(&repaid), "{repaid}");
    assert_eq!(v.vault_balances(), (vault0, insurance0), "no token moved: the share accrued");
    let accrued = v.ledger_fees_accrued();
    assert_eq!(v.sweep_all_fees().unwrap(), accrued);
    let (vault1, insurance1) = v.vault_balances();
    let to_insurance = (insurance1 - insurance0) as i64;
    assert!((to_insurance - 160_000).abs() <= 1, "{to_insurance}");
    assert_eq!(q0.1 - quote_balance(&l), repaid + to_insurance, "the liquidator pays both");
    assert_eq!(vault0 + insurance0, vault1 + insurance1);
    assert_eq!(t.liquidation_state, liquidation_state::BEING_LIQUIDATED);
    let h1 = maintenance(&mut v, &target.portfolio);
    // Uncapped: the rest (the buffer is out of reach at a gain of 7.20 per SOL), health
    // improving each time.
    v.liquidate_collateral(&liquidator, &target.portfolio, wsol, u64::MAX).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(balance_of(&v.portfolio(&target), wsol), 0);
    assert!(maintenance(&mut v, &target.portfolio) > h1);
    // The one discount rate: the liquidator received 10 SOL for 792 USDC (+ 1.60 to insurance).
    let paid = q0.1 - quote_balance(&v.portfolio(&liquidator));
    assert!((paid - 793_600_000).abs() <= 2, "{paid}");
}

#[test]
fn liquidation_parameters_change_only_through_the_timelock() {
    use xmargin::instructions::RiskChangeArgs;
    use xmargin::state::LiquidationParams;
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let gov = v.fx.governance.insecure_clone();
    let initial = v.sb.exchange().unwrap().liquidation;
    assert_eq!(initial, LiquidationParams::INITIAL);
    let propose = |v: &mut Venue, params: LiquidationParams| {
        let (ix, id) = v.sb.propose_risk_change_ix(gov.pubkey(), RiskChangeArgs::Liquidation { params });
        v.sb.send(&[ix], &[&gov]).map(|_| id)
    };
    // Out of bounds: no discount, a buffer above 50%, a share above 100%.
    for bad in [
        LiquidationParams { discount_bps: 0, ..initial },
        LiquidationParams { buffer_bps: 5_001, ..initial },
        LiquidationParams { insurance_share_bps: 10_001, ..initial },
    ] {
        assert_error(&propose(&mut v, bad).unwrap_err(), XmarginError::InvalidLiquidationParams);
    }
    // More than one step (25 points) at once.
    let jump = LiquidationParams { insurance_share_bps: 5_000, ..initial };
    assert_error(&propose(&mut v, jump).unwrap_err(), XmarginError::WeightStepTooLarge);
    // A valid change waits for the timelock, then applies.
    let new = LiquidationParams { discount_bps: 150, insurance_share_bps: 3_000, ..initial };
    let id = propose(&mut v, new).unwrap();
    let f = v.sb.send(&[v.sb.execute_risk_change_ix(id)], &[]).unwrap_err();
    assert_error(&f, XmarginError::TimelockNotExpired);
    assert_eq!(v.sb.exchange().unwrap().liquidation, initial);
    v.warp(xmargin_sandbox::DEFAULT_TIMELOCK_SECS);
    v.sb.send(&[v.sb.execute_risk_change_ix(id)], &[]).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(v.sb.exchange().unwrap().liquidation, new);
}
