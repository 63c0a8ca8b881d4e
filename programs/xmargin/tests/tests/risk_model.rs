//! The risk model's governed parameters on the compiled .so (issue 15): an underlying's tail
//! table, vol-shock expiry scaling and stressed shock, the quote's depeg contingency, and the
//! initial-margin scale.
//! Loosening goes through the timelock one bounded step at a time; the guardian only adds
//! stress (`tighten_scenario`); a depegged quote raises requirements, and a stale or missing
//! peg price follows the action table (docs/risk-model.md, "Quote depeg contingency"): the portfolio's own actions
//! use the last recorded price (refused when none was ever recorded), a third party's
//! valuation none. Every refusal has its own error and leaves the registry as it was.
mod common;

use common::{assert_error, snapshot};
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::events::{
    MarginScaleChanged, QuotePegChanged, QuotePegUpdated, ScenarioTightened, UnderlyingRiskChanged,
};
use xmargin::instructions::{RiskChangeArgs, TightenScenarioArgs};
use xmargin::state::{instrument_kind, TailRowConfig, UnderlyingConfig, PERP_INSTRUMENT};
use xmargin_sandbox::ix::fx_bits_to_f64;
use xmargin_sandbox::oracles::{sponsored_feed_account, Quote};
use xmargin_sandbox::risk_model::{margin_scale, quote_peg_params, QUOTE_PEG_FEED};
use xmargin_sandbox::venue::{Trader, Venue};
use xmargin_sandbox::{cu, events, pda, Pubkey, TxFailure, TxSuccess, DEFAULT_TIMELOCK_SECS};

/// BTC at 60,000 quote per unit (6-decimal quote, native units).
const BTC: i64 = 60_000_000_000;
const GOVERNANCE_CEILING: u64 = 40_000;
/// `update_quote_peg` reads one oracle and writes one registry entry.
const PEG_CEILING: u64 = 20_000;
/// `tighten_scenario` copies one underlying's parameters (272 bytes) and logs both.
const TIGHTEN_CEILING: u64 = 20_000;

fn registry_key() -> Pubkey {
    pda::registry(&pda::exchange())
}

fn landed(result: Result<TxSuccess, TxFailure>) -> TxSuccess {
    result.unwrap_or_else(|f| panic!("{f}"))
}

fn refused(
    v: &mut Venue,
    action: impl FnOnce(&mut Venue) -> Result<TxSuccess, TxFailure>,
    expected: XmarginError,
) {
    let keys = [registry_key(), pda::exchange()];
    let before = snapshot(v, &keys);
    assert_error(&action(v).expect_err("refused"), expected);
    assert_eq!(snapshot(v, &keys), before, "a refusal ({expected:?}) changed nothing");
}

fn refused_proposal(v: &mut Venue, index: u8, config: UnderlyingConfig, expected: XmarginError) {
    refused(
        v,
        |v| v.propose(RiskChangeArgs::Underlying { index, config }).map(|_| unreachable_success()),
        expected,
    );
}

/// `propose` returns an id, not a transaction: a stand-in for the success branch the refusal
/// helpers never take.
fn unreachable_success() -> TxSuccess {
    panic!("the proposal should have been refused")
}

/// (maintenance requirement, initial requirement, maintenance health) of a portfolio.
fn requirements(v: &mut Venue, portfolio: &Pubkey) -> Result<(f64, f64, f64), TxFailure> {
    let (h, _) = v.health(portfolio)?;
    Ok((
        fx_bits_to_f64(h.maintenance_requirement),
        fx_bits_to_f64(h.initial_requirement),
        fx_bits_to_f64(h.maintenance_health),
    ))
}

/// A trader long `lots` of the BTC perp (0.01 BTC each) against a maker, with `quote` native
/// units of collateral.
fn long_btc(v: &mut Venue, quote: u64, lots: i64) -> (Trader, Trader) {
    let taker = v.trader(quote).unwrap_or_else(|f| panic!("{f}"));
    let maker = v.trader(1_000_000_000_000).unwrap_or_else(|f| panic!("{f}"));
    landed(v.trade_perp_at_oracle(&taker, &maker, 0, lots));
    (taker, maker)
}

#[test]
fn a_depegged_quote_raises_the_requirement() {
    let mut v = Venue::new(&[BTC]).unwrap_or_else(|e| panic!("{e}"));
    let (taker, _maker) = long_btc(&mut v, 20_000_000_000, 100);
    let (par_m, par_i, _) = requirements(&mut v, &taker.portfolio).unwrap_or_else(|f| panic!("{f}"));
    // The contingency waits for the timelock.
    let params = quote_peg_params(9_900, 200);
    let id = v.propose_quote_peg(params).unwrap_or_else(|f| panic!("{f}"));
    assert_error(&v.execute(id).unwrap_err(), XmarginError::TimelockNotExpired);
    v.warp(DEFAULT_TIMELOCK_SECS);
    let done = landed(v.execute(id));
    cu::record("execute_risk_change", "quote depeg contingency", done.compute_units, GOVERNANCE_CEILING);
    let event = events::<QuotePegChanged>(&done.logs).remove(0);
    assert_eq!((event.change_id, event.old, event.new), (Some(id), Default::default(), params));
    // Never recorded: the portfolio's own actions are refused until a keeper records a price.
    assert_error(&v.health(&taker.portfolio).unwrap_err(), XmarginError::QuotePegStale);
    assert_error(&v.withdraw(&taker, 1).unwrap_err(), XmarginError::QuotePegStale);
    v.post_quote_price(1_000_000);
    let done = landed(v.update_quote_peg());
    cu::record("update_quote_peg", "records the quote's USD price", done.compute_units, PEG_CEILING);
    assert_eq!(events::<QuotePegUpdated>(&done.logs).remove(0).charge_bps, 0);
    let at_par = requirements(&mut v, &taker.portfolio).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!((at_par.0, at_par.1), (par_m, par_i), "at par: no add-on");
    // USDC at 0.95 (spot and EMA; the recorded price is less the 0.01% confidence): the add-on
    // is 2 × (0.99 − q) of the 60,000 gross notional, × 1.5 at initial.
    v.post_quote_price(950_000);
    let done = landed(v.update_quote_peg());
    let updated = events::<QuotePegUpdated>(&done.logs).remove(0);
    assert_eq!(updated.new_price_e9, 949_905_000, "min(spot, EMA) − conf");
    assert_eq!(updated.charge_bps, 802, "2 × (0.99 − 0.949905), rounded up");
    let (m, i, _) = requirements(&mut v, &taker.portfolio).unwrap_or_else(|f| panic!("{f}"));
    let charge = 2.0 * (0.99 - 0.949_905);
    assert!((m - par_m - charge * 60_000.0).abs() < 1e-3, "maintenance {par_m} → {m}");
    assert!((i - par_i - 1.5 * charge * 60_000.0).abs() < 1e-3, "initial {par_i} → {i}");
    println!("USDC 1.00 → 0.95: maintenance {par_m:.2} → {m:.2}, initial {par_i:.2} → {i:.2}");
    // A price published before the recorded one cannot roll the record back.
    let (now, slot) = v.sb.now();
    let older = Quote { price: 1_000_000, conf: 100, expo: -6, publish_time: now - 30, slot };
    v.sb.put_pull_oracle(sponsored_feed_account(QUOTE_PEG_FEED), QUOTE_PEG_FEED, &older, true);
    refused(&mut v, |v| v.update_quote_peg(), XmarginError::QuotePegOlderPrice);
}

#[test]
fn a_stale_peg_follows_the_action_table() {
    let mut v = Venue::new(&[BTC]).unwrap_or_else(|e| panic!("{e}"));
    // Initial requirement ≈ 14.2k at par: 14.5k of collateral leaves maintenance health ≈ 5k,
    // less than the add-on at 0.94 (2 × 0.05 × 60,000 = 6,000).
    let (target, _maker) = long_btc(&mut v, 14_500_000_000, 100);
    let liquidator = v.trader(100_000_000_000).unwrap_or_else(|f| panic!("{f}"));
    landed(v.set_quote_peg(quote_peg_params(9_900, 200)));
    v.post_quote_price(940_000);
    landed(v.update_quote_peg());
    let (_, _, fresh) = requirements(&mut v, &target.portfolio).unwrap_or_else(|f| panic!("{f}"));
    assert!(fresh < 0.0, "fresh depeg: under water ({fresh})");
    // Stale (older than the peg oracle's 60 s): the portfolio's own actions wait for a fresh
    // record, and a liquidator may not act on the stale one (no add-on for a third party).
    v.warp(120);
    assert_error(&v.health(&target.portfolio).unwrap_err(), XmarginError::QuotePegStale);
    assert_error(&v.withdraw(&target, 1).unwrap_err(), XmarginError::QuotePegStale);
    let keys = [target.portfolio, liquidator.portfolio];
    let before = snapshot(&v, &keys);
    let f = v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, 10).unwrap_err();
    assert_error(&f, XmarginError::NotLiquidatable);
    assert_eq!(snapshot(&v, &keys), before);
    // Fresh again: the liquidation goes through.
    v.post_quote_price(940_000);
    landed(v.update_quote_peg());
    let (_, _, own) = requirements(&mut v, &target.portfolio).unwrap_or_else(|f| panic!("{f}"));
    assert!((own - fresh).abs() < 1.0, "the same depeg, the same health ({own} vs {fresh})");
    landed(v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, 10));
    // The peg's feed goes quiet and BTC falls 25%: the target is under water without any
    // add-on, and the liquidator, now holding a perp, is checked at the last recorded peg
    // price — a stale peg feed does not halt liquidations — while its own withdrawal waits.
    v.warp(120);
    v.set_price(0, BTC * 75 / 100);
    landed(v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, 10));
    assert_error(&v.withdraw(&liquidator, 1).unwrap_err(), XmarginError::QuotePegStale);
}

#[test]
fn quote_peg_governance_is_bounded_and_the_guardian_only_raises_it() {
    let mut v = Venue::new(&[BTC]).unwrap_or_else(|e| panic!("{e}"));
    refused(&mut v, |v| v.update_quote_peg(), XmarginError::QuotePegNotConfigured);
    let bad = |threshold, factor| quote_peg_params(threshold, factor);
    for (params, why) in [
        (bad(10_001, 200), "threshold above 1"),
        (bad(9_900, 2_001), "factor above 20"),
        (xmargin::state::QuotePegParams { factor_hundredths: 100, ..Default::default() }, "off but not zero"),
        (
            xmargin::state::QuotePegParams { _padding: [1, 0, 0, 0], ..quote_peg_params(9_900, 200) },
            "padding",
        ),
    ] {
        let keys = [registry_key(), pda::exchange()];
        let before = snapshot(&v, &keys);
        assert_error(&v.propose_quote_peg(params).unwrap_err(), XmarginError::InvalidQuotePeg);
        assert_eq!(snapshot(&v, &keys), before, "{why}");
    }
    landed(v.set_quote_peg(quote_peg_params(9_900, 200)));
    // Lowering goes one step at a time (the exchange's step: 2,500 bps; the factor 1×).
    for (params, expected) in [
        (quote_peg_params(7_399, 200), XmarginError::WeightStepTooLarge),
        (quote_peg_params(9_900, 99), XmarginError::WeightStepTooLarge),
    ] {
        let keys = [registry_key(), pda::exchange()];
        let before = snapshot(&v, &keys);
        assert_error(&v.propose_quote_peg(params).unwrap_err(), expected);
        assert_eq!(snapshot(&v, &keys), before);
    }
    landed(v.set_quote_peg(quote_peg_params(7_400, 100)));
    // The feed changes only while the contingency is off: another feed could read at par.
    let mut other = quote_peg_params(7_400, 100);
    other.oracle.max_staleness_secs = 30;
    refused(
        &mut v,
        |v| v.propose_quote_peg(other).map(|_| unreachable_success()),
        XmarginError::QuotePegOracleLocked,
    );
    // The guardian raises the threshold or factor at once, and never lowers them.
    let done =
        landed(v.tighten_scenario(TightenScenarioArgs::QuotePeg { params: quote_peg_params(9_900, 300) }));
    cu::record("tighten_scenario", "guardian: raise the quote peg", done.compute_units, TIGHTEN_CEILING);
    let event = events::<QuotePegChanged>(&done.logs).remove(0);
    assert_eq!(
        (event.change_id, event.old, event.new),
        (None, quote_peg_params(7_400, 100), quote_peg_params(9_900, 300))
    );
    for params in [quote_peg_params(9_800, 300), quote_peg_params(9_900, 200), Default::default()] {
        refused(
            &mut v,
            |v| v.tighten_scenario(TightenScenarioArgs::QuotePeg { params }),
            XmarginError::GuardianCannotLoosenScenario,
        );
    }
    // A pending loosening is stale once the guardian tightened.
    let id = v.propose_quote_peg(quote_peg_params(9_000, 300)).unwrap_or_else(|f| panic!("{f}"));
    landed(v.tighten_scenario(TightenScenarioArgs::QuotePeg { params: quote_peg_params(9_950, 300) }));
    v.warp(DEFAULT_TIMELOCK_SECS);
    refused(&mut v, |v| v.execute(id), XmarginError::RiskChangeStale);
}

/// A BTC call struck at 66,000 expiring in `days`, listed and marked, and a writer short 10
/// lots of it (sold to a buyer at its model price): the series and the writer.
fn short_call(v: &mut Venue, days: i64) -> (u8, Trader) {
    let expiry = v.expiry_in_days(days);
    let series =
        v.list_series(0, instrument_kind::CALL, 66_000_000_000, expiry).unwrap_or_else(|f| panic!("{f}"));
    let writer = v.trader(50_000_000_000).unwrap_or_else(|f| panic!("{f}"));
    let buyer = v.trader(50_000_000_000).unwrap_or_else(|f| panic!("{f}"));
    v.mark_all();
    let premium = v.market(0).marks[usize::from(series)].greeks[0];
    let price = v.tick_price(((fx_bits_to_f64(premium.get().to_bits()) * 1e6) as u64).max(10_000));
    landed(v.trade(&buyer, &writer, 0, series, 10, price));
    (series, writer)
}

/// `refresh_health` of `portfolio` with the marks as they are; the error, if any.
fn health_error(v: &mut Venue, portfolio: &Pubkey) -> Option<TxFailure> {
    v.health_as_is(portfolio).err()
}

#[test]
fn the_initial_scale_is_governed_and_a_raise_refuses_older_marks() {
    let mut v = Venue::new(&[BTC]).unwrap_or_else(|e| panic!("{e}"));
    let (taker, _maker) = long_btc(&mut v, 20_000_000_000, 100);
    let (series, writer) = short_call(&mut v, 30);
    let (perp_m, perp_i, _) = requirements(&mut v, &taker.portfolio).unwrap_or_else(|f| panic!("{f}"));
    let (writer_m, writer_i, _) = requirements(&mut v, &writer.portfolio).unwrap_or_else(|f| panic!("{f}"));
    // A registry that never set the scale reads as the reference 1.5×.
    assert_eq!(v.margin_scale(), margin_scale(0));
    let call = usize::from(series);
    assert_eq!(v.market(0).marks[call].initial_scale_bps, 15_000, "marks record the scale they cover");
    // Out of range, or padding: refused, nothing written (not even the proposal counter).
    let mut padded = margin_scale(15_000);
    padded._padding[0] = 1;
    for params in [margin_scale(9_999), margin_scale(30_001), margin_scale(0), padded] {
        refused(
            &mut v,
            |v| v.propose_margin_scale(params).map(|_| unreachable_success()),
            XmarginError::InvalidInitialScale,
        );
    }
    // Lowering goes one step at a time (the exchange's step, 2,500 bps), from the reference.
    refused(
        &mut v,
        |v| v.propose_margin_scale(margin_scale(12_499)).map(|_| unreachable_success()),
        XmarginError::InitialScaleStepTooLarge,
    );
    // A raise through the timelock, with both values in the event.
    let id = v.propose_margin_scale(margin_scale(20_000)).unwrap_or_else(|f| panic!("{f}"));
    v.warp(DEFAULT_TIMELOCK_SECS);
    v.mark_all();
    let done = landed(v.execute(id));
    cu::record("execute_risk_change", "initial scale 1.5x -> 2x", done.compute_units, GOVERNANCE_CEILING);
    let event = events::<MarginScaleChanged>(&done.logs).remove(0);
    assert_eq!((event.change_id, event.old, event.new), (Some(id), margin_scale(0), margin_scale(20_000)));
    assert_eq!(v.margin_scale(), margin_scale(20_000));
    // The writer's marks, fresh but computed for the 1.5× initial grid, are refused (in the
    // raise's own second too) until a crank recomputes them, at once, for 2×.
    assert_error(
        &health_error(&mut v, &writer.portfolio).expect("refused"),
        XmarginError::MarksParamsChanged,
    );
    v.mark_all();
    assert_eq!(v.market(0).marks[call].initial_scale_bps, 20_000);
    assert!(health_error(&mut v, &writer.portfolio).is_none(), "re-marked in the raise's second");
    // A perp book: maintenance as before, initial scaled 2 / 1.5 (the grid and the tail moves
    // are multiples of the shock, capped at a 95% fall nowhere near here).
    let (m, i, _) = requirements(&mut v, &taker.portfolio).unwrap_or_else(|f| panic!("{f}"));
    assert!((m - perp_m).abs() < 1e-6 * perp_m, "maintenance {perp_m} -> {m}");
    assert!(i > perp_i * 1.2 && i <= perp_i * (2.0 / 1.5) + 1.0, "initial {perp_i} -> {i}");
    // The option book re-marked: its initial requirement grows against its maintenance.
    let (m, i, _) = requirements(&mut v, &writer.portfolio).unwrap_or_else(|f| panic!("{f}"));
    assert!(i / m > writer_i / writer_m, "initial/maintenance {writer_i}/{writer_m} -> {i}/{m}");
    // The guardian only raises it, within range, at once; then marks are refused again.
    for params in [margin_scale(19_999), margin_scale(0)] {
        refused(
            &mut v,
            |v| v.tighten_scenario(TightenScenarioArgs::MarginScale { params }),
            XmarginError::GuardianCannotLoosenScenario,
        );
    }
    refused(
        &mut v,
        |v| v.tighten_scenario(TightenScenarioArgs::MarginScale { params: margin_scale(30_001) }),
        XmarginError::InvalidInitialScale,
    );
    let stranger = v.sb.funded_keypair();
    let ix = v.tighten_scenario_ix(
        stranger.pubkey(),
        TightenScenarioArgs::MarginScale { params: margin_scale(25_000) },
    );
    refused(&mut v, |v| v.sb.send(&[ix], &[&stranger]), XmarginError::NotGuardian);
    // A pending lowering, then the guardian raises: the proposal is stale.
    let lower = v.propose_margin_scale(margin_scale(18_000)).unwrap_or_else(|f| panic!("{f}"));
    v.warp(1);
    let done = landed(v.tighten_scenario(TightenScenarioArgs::MarginScale { params: margin_scale(22_000) }));
    cu::record("tighten_scenario", "guardian: raise the initial scale", done.compute_units, TIGHTEN_CEILING);
    let event = events::<MarginScaleChanged>(&done.logs).remove(0);
    assert_eq!((event.change_id, event.old, event.new), (None, margin_scale(20_000), margin_scale(22_000)));
    assert_error(
        &health_error(&mut v, &writer.portfolio).expect("refused"),
        XmarginError::MarksParamsChanged,
    );
    v.warp(DEFAULT_TIMELOCK_SECS);
    refused(&mut v, |v| v.execute(lower), XmarginError::RiskChangeStale);
    // A lowering through the timelock keeps the marks valid: the wider bounds still cover.
    let id = v.propose_margin_scale(margin_scale(20_000)).unwrap_or_else(|f| panic!("{f}"));
    v.warp(DEFAULT_TIMELOCK_SECS);
    v.mark_all();
    assert_eq!(v.market(0).marks[call].initial_scale_bps, 22_000);
    landed(v.execute(id));
    assert_eq!(v.margin_scale(), margin_scale(20_000));
    assert!(health_error(&mut v, &writer.portfolio).is_none(), "marks computed for 2.2x cover 2x");
}

/// A change of the reference underlying's tail: row 1 (−3 × P, vol +25 points) weighs 35% → `w`.
fn with_crash_weight(c: UnderlyingConfig, w: u16) -> UnderlyingConfig {
    let mut c = c;
    c.tail[1].weight_bps = w;
    c
}

#[test]
fn tail_and_scaling_change_one_step_at_a_time() {
    let mut v = Venue::new(&[BTC]).unwrap_or_else(|e| panic!("{e}"));
    let current = v.underlying_config(0);
    assert_eq!((current.tail_rows, current.vol_scaling_exponent_bps), (3, 3_000));
    // Steps: weights and vol moves by the exchange's step (2,500 bps), multiples by 1.00 × P,
    // the same direction; the exponent by the step; the reference and floor only while off.
    let mut cases: Vec<(UnderlyingConfig, XmarginError)> = Vec::new();
    cases.push((with_crash_weight(current, 6_001), XmarginError::TailStepTooLarge));
    let mut far = current;
    far.tail[1].price_multiple_hundredths = -401;
    cases.push((far, XmarginError::TailStepTooLarge));
    let mut flipped = current;
    flipped.tail[1].price_multiple_hundredths = 300;
    cases.push((flipped, XmarginError::TailStepTooLarge));
    let mut both = current;
    both.tail_both_ways_mask = 0b011;
    cases.push((both, XmarginError::InvalidTailTable));
    let mut dropped = current;
    dropped.tail_rows = 2;
    dropped.tail[2] = TailRowConfig::default();
    // Row 2 weighs 20%: dropping it is a weight step of 2,000 ≤ 2,500, allowed; dropping a
    // heavier row is not.
    let mut heavy = current;
    heavy.tail_rows = 0;
    heavy.tail_both_ways_mask = 0;
    heavy.tail = Default::default();
    cases.push((heavy, XmarginError::TailStepTooLarge));
    let mut exponent = current;
    exponent.vol_scaling_exponent_bps = 5_501;
    cases.push((exponent, XmarginError::VolScalingStepTooLarge));
    let mut reference = current;
    reference.vol_scaling_reference_days = 60;
    cases.push((reference, XmarginError::VolScalingStepTooLarge));
    let mut stressed = current;
    stressed.vol_stressed_weight_bps = 2_501;
    cases.push((stressed, XmarginError::WeightStepTooLarge));
    let mut zero_weight = current;
    zero_weight.tail[2].weight_bps = 0;
    cases.push((zero_weight, XmarginError::InvalidTailTable));
    let mut past_rows = current;
    past_rows.tail[3] = TailRowConfig { price_multiple_hundredths: -800, vol_move_bps: 0, weight_bps: 100 };
    cases.push((past_rows, XmarginError::InvalidTailTable));
    let mut reserved = current;
    reserved.reserved = [1, 0, 0, 0, 0, 0];
    cases.push((reserved, XmarginError::InvalidTailTable));
    let mut beyond = current;
    beyond.tail[1].price_multiple_hundredths = -2_501;
    cases.push((beyond, XmarginError::InvalidTailTable));
    for (config, expected) in cases {
        refused_proposal(&mut v, 0, config, expected);
    }
    // Within the steps, through the timelock: a heavier crash row, the row dropped, the
    // exponent a step down, the stressed shock on.
    let done = landed(v.change_underlying(0, with_crash_weight(current, 6_000)));
    let event = events::<UnderlyingRiskChanged>(&done.logs).remove(0);
    assert_eq!((event.old.tail[1].weight_bps, event.new.tail[1].weight_bps), (3_500, 6_000));
    dropped.tail[1].weight_bps = 6_000;
    landed(v.change_underlying(0, dropped));
    assert_eq!(v.underlying_config(0).tail_rows, 2);
    let mut next = v.underlying_config(0);
    next.vol_scaling_exponent_bps = 500;
    next.vol_stressed_shock_bps = 2_000;
    next.vol_stressed_weight_bps = 2_500;
    landed(v.change_underlying(0, next));
    assert_eq!(v.underlying_config(0), next);
}

#[test]
fn the_guardian_only_adds_stress_and_health_and_marks_follow() {
    let mut v = Venue::new(&[BTC]).unwrap_or_else(|e| panic!("{e}"));
    let (taker, _maker) = long_btc(&mut v, 20_000_000_000, 100);
    // A short 1-day call: its marks carry the expiry-scaled vol Greeks and the tail range.
    let (series, writer) = short_call(&mut v, 1);
    let (before_m, _, _) = requirements(&mut v, &taker.portfolio).unwrap_or_else(|f| panic!("{f}"));
    let current = v.underlying_config(0);
    // Not the guardian; then loosenings: a lighter row, a row removed, the exponent, another
    // stressed weight.
    let stranger = v.sb.funded_keypair();
    let mut tighter = current;
    tighter.tail_rows = 4;
    tighter.tail[3] =
        TailRowConfig { price_multiple_hundredths: -700, vol_move_bps: 3_000, weight_bps: 3_000 };
    let ix = v.tighten_scenario_ix(
        stranger.pubkey(),
        TightenScenarioArgs::Underlying { index: 0, config: tighter },
    );
    refused(&mut v, |v| v.sb.send(&[ix], &[&stranger]), XmarginError::NotGuardian);
    let mut lighter = current;
    lighter.tail[0].weight_bps = 3_000;
    let mut fewer = current;
    fewer.tail_rows = 2;
    fewer.tail[2] = TailRowConfig::default();
    let mut exponent = current;
    exponent.vol_scaling_exponent_bps = 3_500;
    let mut weight = current;
    weight.vol_stressed_weight_bps = 2_500;
    let mut moved = current;
    moved.tail[1].price_multiple_hundredths = -400;
    for config in [lighter, fewer, exponent, weight, moved] {
        // (each refused below)
        refused(
            &mut v,
            |v| v.tighten_scenario(TightenScenarioArgs::Underlying { index: 0, config }),
            XmarginError::GuardianCannotLoosenScenario,
        );
    }
    // A pending proposal, then the guardian adds a crash row −7 × P with vol +30 points at 30%
    // and raises the stressed shock: at once, the proposal stale, the perp book charged more.
    let id = v
        .propose(RiskChangeArgs::Underlying { index: 0, config: with_crash_weight(current, 1_000) })
        .unwrap();
    tighter.vol_stressed_shock_bps = 1_000;
    let done = landed(v.tighten_scenario(TightenScenarioArgs::Underlying { index: 0, config: tighter }));
    cu::record("tighten_scenario", "guardian: add a tail row", done.compute_units, TIGHTEN_CEILING);
    let event = events::<ScenarioTightened>(&done.logs).remove(0);
    assert_eq!((event.underlying, event.old.tail_rows, event.new.tail_rows), (0, 3, 4));
    assert_eq!(v.underlying_config(0), tighter);
    // The option writer's marks covered ±3 × P: the new −7 × P row needs new marks.
    let accounts = v.health_accounts(&writer.portfolio, None);
    let ix = v.sb.refresh_health_ix(writer.portfolio, &accounts);
    let [a, b] = xmargin_sandbox::venue::budget_ixs();
    assert_error(&v.sb.send(&[a, b, ix], &[]).unwrap_err(), XmarginError::MarksParamsChanged);
    v.warp(DEFAULT_TIMELOCK_SECS);
    refused(&mut v, |v| v.execute(id), XmarginError::RiskChangeStale);
    let (after_m, _, _) = requirements(&mut v, &taker.portfolio).unwrap_or_else(|f| panic!("{f}"));
    // 1 BTC long: the −7 × P row at 30% (P = 15%: a 99% fall, capped) charges 29.7% of 60,000.
    assert!(after_m > before_m, "{before_m} → {after_m}");
    assert!((after_m - 0.3 * 0.99 * 60_000.0).abs() < 20.0, "{after_m}");
    let marks = v.market(0).marks[usize::from(series)];
    assert_eq!((marks.tail_multiple_hundredths, marks.vol_scaling_exponent_bps), (700, 3_000));
}

#[test]
fn the_guardian_leaves_a_grouped_underlyings_tail_alone() {
    let mut v = Venue::new(&[BTC, 3_000_000_000]).unwrap_or_else(|e| panic!("{e}"));
    landed(v.set_offset_group(0, xmargin_sandbox::fixtures::offset_group(&[0, 1], 2_500)));
    // Legs net their tails only with identical tables: appending a row to BTC alone, or
    // raising one of its weights, could make the group's requirement fall once ETH follows.
    let mut heavier = v.underlying_config(0);
    heavier.tail[2].weight_bps = 2_500;
    refused(
        &mut v,
        |v| v.tighten_scenario(TightenScenarioArgs::Underlying { index: 0, config: heavier }),
        XmarginError::GroupedTailChange,
    );
    // The stressed shock of a grouped underlying may still rise at once.
    let mut stressed = v.underlying_config(0);
    stressed.vol_stressed_shock_bps = 1_500;
    landed(v.tighten_scenario(TightenScenarioArgs::Underlying { index: 0, config: stressed }));
    // Dissolve the group first, then the tail may take more weight.
    landed(v.lower_offset_credit(0, 0));
    heavier.vol_stressed_shock_bps = 1_500;
    landed(v.tighten_scenario(TightenScenarioArgs::Underlying { index: 0, config: heavier }));
    assert_eq!(v.underlying_config(0).tail[2].weight_bps, 2_500);
}

/// The proposal's address is derived from its id, an argument since the IDL must state the
/// seed: an id other than the exchange's next one is refused, and nothing is created.
#[test]
fn a_proposal_id_other_than_the_next_is_refused() {
    let mut v = Venue::new(&[BTC]).unwrap_or_else(|e| panic!("{e}"));
    let exchange = pda::exchange();
    let next = v.sb.exchange().expect("exchange").next_risk_change_id;
    let governance = v.fx.governance.insecure_clone();
    for id in [next + 1, next.wrapping_sub(1)] {
        let args = xmargin::instructions::ProposeRiskChangeArgs {
            id,
            change: RiskChangeArgs::QuotePeg { params: quote_peg_params(9_900, 200) },
        };
        let ix = xmargin_sandbox::ix::instruction(
            xmargin::accounts::ProposeRiskChange {
                payer: v.sb.payer_key(),
                governance: governance.pubkey(),
                exchange,
                registry: registry_key(),
                risk_change: pda::risk_change(&exchange, id),
                system_program: anchor_lang::system_program::ID,
            },
            xmargin::instruction::ProposeRiskChange { args },
        );
        refused(&mut v, |v| v.sb.send(&[ix], &[&governance]), XmarginError::RiskChangeIdMismatch);
        assert!(v.sb.svm.get_account(&pda::risk_change(&exchange, id)).is_none_or(|a| a.data.is_empty()));
    }
    // The next id, through the same arguments, is proposed.
    assert_eq!(v.propose_quote_peg(quote_peg_params(9_900, 200)).unwrap_or_else(|f| panic!("{f}")), next);
}

/// The keeper and the guardian choose their accounts and rows: another feed's price account
/// is refused by the oracle guard, and a malformed appended row by the table's checks; each
/// leaves the registry as it was.
#[test]
fn a_crank_with_another_feed_and_a_malformed_guardian_row_are_refused() {
    let mut v = Venue::new(&[BTC]).unwrap_or_else(|e| panic!("{e}"));
    landed(v.set_quote_peg(quote_peg_params(9_900, 200)));
    // A real, fresh price account of another feed (BTC's), well above the threshold.
    let other = v.underlyings[0].oracle;
    let exchange = pda::exchange();
    let ix = xmargin_sandbox::ix::instruction(
        xmargin::accounts::UpdateQuotePeg { exchange, registry: registry_key(), oracle: other },
        xmargin::instruction::UpdateQuotePeg {},
    );
    refused(&mut v, |v| v.sb.send(&[ix], &[]), XmarginError::OracleWrongAccount);
    // A row appended with weight 0, or beyond 25 × P: refused before anything is stored.
    for (weight_bps, price_multiple_hundredths) in [(0, -400), (1_000, -2_600)] {
        let mut config = v.underlying_config(0);
        config.tail_rows = 4;
        config.tail[3] = TailRowConfig { price_multiple_hundredths, vol_move_bps: 0, weight_bps };
        refused(
            &mut v,
            |v| v.tighten_scenario(TightenScenarioArgs::Underlying { index: 0, config }),
            XmarginError::InvalidTailTable,
        );
    }
}
