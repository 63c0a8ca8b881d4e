//! A second adversarial review of issue 13's fixes, on the compiled .so: the three paths it
//! found, each now closed, with the legitimate neighbour:
//!
//! - RT1: a wash round trip of volume ≥ open interest at the cap pinned the next hour's
//!   funding at the cap, profitable with more than fees/cap of the paid side. Now the cap may
//!   not exceed the taker plus maker fee (`create_market`), so the wash never pays.
//! - RT2: option liquidations priced at marks that stayed valid past expiry (or stale marks
//!   chosen over fresh ones): a short ATM call taken over 10 s after expiry at an hour of time
//!   value + the discount, settling at 0. Now options liquidate only before expiry, at marks
//!   of the same second.
//! - RT3: a delegate signing a liquidation with its owner's portfolio as the liquidator to
//!   make the owner buy its own expired calls at stale marks. Closed by RT2's rules: the owner's
//!   portfolio can only take over risk at the fresh mark less the discount.
mod common;

use common::{pending, quote, update_funding};
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::instructions::HealthView;
use xmargin::state::{instrument_kind, PERP_INSTRUMENT};
use xmargin_sandbox::ix::fx_bits_to_f64;
use xmargin_sandbox::oracles::Quote;
use xmargin_sandbox::venue::{budget_ixs, Trader, Venue, PRICE_EXPO, TICK};
use xmargin_sandbox::Pubkey;

/// SOL at $150 (quote native units per SOL; 6-decimal quote).
const SOL: i64 = 150_000_000;
const USDC: u64 = 1_000_000;
const HOUR: i64 = 3_600;

fn trader(v: &mut Venue, quote: u64) -> Trader {
    v.trader(quote).unwrap_or_else(|f| panic!("{f}"))
}

/// Health without a keeper pass (the marks are left as they are).
fn health_no_marks(v: &mut Venue, portfolio: &Pubkey) -> HealthView {
    let accounts = v.health_accounts(portfolio, None);
    let ix = v.sb.refresh_health_ix(*portfolio, &accounts);
    let [a, b] = budget_ixs();
    let landed = v.sb.send(&[a, b, ix], &[]).unwrap_or_else(|f| panic!("health: {f}"));
    <HealthView as anchor_lang::AnchorDeserialize>::deserialize(&mut landed.return_data.as_slice()).unwrap()
}

fn f(bits: i128) -> f64 {
    fx_bits_to_f64(bits)
}

fn code(e: XmarginError) -> u32 {
    xmargin_sandbox::program_error_code(e)
}

// ------------------------------------------------------------------------------------------
// RT1: a round trip of wash volume ≥ open interest at +cap pins the next hour's funding at the
// cap; profitable whenever the attacker holds more than fees/cap (7 bps / 10 bps = 70%) of
// the paid side.
#[test]
fn rt1_a_funding_cap_above_the_fees_is_refused() {
    let mut v = Venue::new(&[SOL]).unwrap();
    let governance = v.fx.governance.insecure_clone();
    let oracle = xmargin_sandbox::venue::pull_oracle([0x42; 32]);
    let config = xmargin_sandbox::fixtures::underlying(oracle, false);
    let args = xmargin::instructions::RiskChangeArgs::ListUnderlying { config };
    let (ix, id) = v.sb.propose_risk_change_ix(governance.pubkey(), args);
    v.sb.send(&[ix], &[&governance]).unwrap();
    v.warp(xmargin_sandbox::DEFAULT_TIMELOCK_SECS);
    v.sb.send(&[v.sb.execute_risk_change_ix(id)], &[]).unwrap();
    let mut args = xmargin_sandbox::venue::market_args(1);
    args.max_funding_rate_bps = args.taker_fee_bps + args.maker_fee_bps + 1;
    let market = xmargin_sandbox::pda::market(&xmargin_sandbox::pda::exchange(), 1);
    let f = v.sb.send(&[v.create_market_ix(args)], &[&governance]).unwrap_err();
    assert_eq!(f.custom_code(), Some(code(XmarginError::FundingCapAboveFees)), "{f}");
    assert!(v.sb.svm.get_account(&market).is_none_or(|a| a.data.is_empty()), "no market created");
    // Neighbour: a cap equal to the fees is accepted.
    args.max_funding_rate_bps = args.taker_fee_bps + args.maker_fee_bps;
    v.sb.send(&[v.create_market_ix(args)], &[&governance]).unwrap_or_else(|f| panic!("{f}"));
}

#[test]
fn rt1_wash_round_trip_at_the_cap_does_not_pay() {
    let mut v = Venue::new(&[SOL]).unwrap();
    // The venue's market (cap 7 bps = 5 + 2 bps of fees): the attacker holds the whole paid side.
    let honest_long = trader(&mut v, 10_000 * USDC);
    let attacker_short = trader(&mut v, 10_000 * USDC);
    let (w1, w2) = (trader(&mut v, 1_000 * USDC), trader(&mut v, 1_000 * USDC));
    let at_oracle = v.tick_price(SOL as u64);
    v.trade(&honest_long, &attacker_short, 0, PERP_INSTRUMENT, 1_000, at_oracle).unwrap();
    let e = update_funding(&mut v);
    assert_eq!(e.rate, 0);
    let (q1, q2) = (quote(&v.portfolio(&w1)), quote(&v.portfolio(&w2)));
    // +0.07% (the cap) on the tick: 150.105 rounds up to 150.11.
    let rich = (SOL as u64 * 10_007 / 10_000).div_ceil(TICK) * TICK;
    v.trade(&w1, &w2, 0, PERP_INSTRUMENT, 500, rich).unwrap();
    v.trade(&w1, &w2, 0, PERP_INSTRUMENT, -500, rich).unwrap();
    let fees = (q1 - quote(&v.portfolio(&w1))) + (q2 - quote(&v.portfolio(&w2)));
    let e = update_funding(&mut v);
    assert!((f(e.rate) - 0.0007).abs() < 1e-9, "the wash still sets the cap: {}", f(e.rate));
    let e2 = update_funding(&mut v);
    assert_eq!(e2.rate, 0);
    let received = pending(&v, &attacker_short);
    println!("wash: fees {fees}, the attacker's short receives {received} native units");
    assert!(received - fees <= 0, "the wash does not pay: received {received}, fees {fees}");
}

// ------------------------------------------------------------------------------------------
// Shared set-up of RT2/RT3: a portfolio `t` holding 5 units of collateral X (a second asset
// at $150, weights 0.8 / 0.9) and 10 USDC, with option positions on a 150 call expiring in a
// day (and, for RT3, a long 8 SOL perp). One hour before expiry a keeper marks the series at
// spot 150; X then falls until `t` is liquidatable (the underlying's spot does not move, so
// the marks stay valid); the clock goes 10 s past expiry and the feed account holds the
// first update at or after expiry, at 150: the call settles at 0, and everyone knows it.
struct Expired {
    v: Venue,
    t: Trader,
    call: u8,
}

fn expired_setup(call_lots: i64, perp_lots: i64) -> Expired {
    let mut v = Venue::new(&[SOL]).unwrap();
    let x = v.list_collateral_asset(9, SOL, 8_000, 9_000).unwrap();
    let expiry = v.expiry_in_days(1);
    let strike = SOL as u64;
    let call = v.list_series(0, instrument_kind::CALL, strike, expiry).unwrap();
    let t = trader(&mut v, 10 * USDC);
    v.deposit_collateral(&t, x, 20_000_000_000).unwrap();
    let maker = trader(&mut v, 100_000 * USDC);
    v.mark_all();
    let premium = v.model_price(0, call);
    v.trade(&t, &maker, 0, call, call_lots, premium).unwrap();
    if perp_lots != 0 {
        v.trade(&t, &maker, 0, PERP_INSTRUMENT, perp_lots, v.tick_price(SOL as u64)).unwrap();
    }
    let now = v.sb.now().0;
    v.warp(expiry - HOUR + 30 - now);
    v.mark_all();
    let series = v.market(0).marks[usize::from(call)];
    println!(
        "marks at expiry − 3570 s: value {:.4} per unit",
        fx_bits_to_f64(series.greeks[0].get().to_bits())
    );
    let mut x_price = SOL;
    let mut h = health_no_marks(&mut v, &t.portfolio);
    while f(h.maintenance_health) >= -40.0 && x_price > 1_000_000 {
        x_price -= 500_000;
        v.set_collateral_price(x, x_price);
        h = health_no_marks(&mut v, &t.portfolio);
    }
    println!("X at {x_price}: equity {:.3}, maintenance health {:.3}", f(h.equity), f(h.maintenance_health));
    assert!(f(h.maintenance_health) < 0.0);
    let now = v.sb.now().0;
    v.warp(expiry + 10 - now);
    let u = &v.underlyings[0];
    let (address, feed) = (u.oracle, u.feed);
    let slot = v.sb.now().1;
    let q = Quote { price: SOL, conf: (SOL / 10_000) as u64, expo: PRICE_EXPO, publish_time: expiry, slot };
    v.sb.put_pull_oracle_update(address, feed, &q, SOL, expiry - 1);
    Expired { v, t, call }
}

#[test]
fn rt2_options_liquidate_only_before_expiry_at_fresh_marks() {
    let Expired { mut v, t, call, .. } = expired_setup(-500, 0);
    let liquidator = trader(&mut v, 100_000 * USDC);
    let keys = [t.portfolio, liquidator.portfolio, v.underlyings[0].market];
    let before: Vec<_> = keys.iter().map(|k| v.sb.svm.get_account(k).unwrap().data).collect();
    // 10 s after expiry: refused (the payoff is known; settlement will pay it).
    let ix = v.liquidate_positions_ix(&liquidator, &t.portfolio, 0, call, 500);
    let [a, b] = budget_ixs();
    let fail = v.sb.send(&[a, b, ix], &[&liquidator.owner]).unwrap_err();
    assert_eq!(fail.custom_code(), Some(code(XmarginError::OptionExpired)), "{fail}");
    let after: Vec<_> = keys.iter().map(|k| v.sb.svm.get_account(k).unwrap().data).collect();
    assert_eq!(before, after, "a refused liquidation changes nothing");
    // Neighbour: the settlement is recorded and paid; the target is then liquidated on what is left.
    let ix = v.record_settlement_ix(0, call);
    v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("record: {f}"));
    let ix = v.settle_expired_ix(&t.portfolio, 0);
    v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("settle: {f}"));
}

#[test]
fn rt2_option_liquidation_needs_marks_of_the_same_second() {
    let mut v = Venue::new(&[SOL]).unwrap();
    let x = v.list_collateral_asset(9, SOL, 8_000, 9_000).unwrap();
    let expiry = v.expiry_in_days(7);
    let call = v.list_series(0, instrument_kind::CALL, SOL as u64, expiry).unwrap();
    let t = trader(&mut v, 10 * USDC);
    v.deposit_collateral(&t, x, 20_000_000_000).unwrap();
    let maker = trader(&mut v, 100_000 * USDC);
    v.mark_all();
    let premium = v.model_price(0, call);
    v.trade(&t, &maker, 0, call, -500, premium).unwrap();
    let mut x_price = SOL;
    while f(v.health(&t.portfolio).unwrap().0.maintenance_health) >= 0.0 {
        x_price -= 1_000_000;
        v.set_collateral_price(x, x_price);
    }
    let liquidator = trader(&mut v, 100_000 * USDC);
    // Marks half an hour old are valid for health, not for pricing a liquidation.
    v.warp(1_800);
    let ix = v.liquidate_positions_ix(&liquidator, &t.portfolio, 0, call, 500);
    let [a, b] = budget_ixs();
    let fail = v.sb.send(&[a, b, ix], &[&liquidator.owner]).unwrap_err();
    assert_eq!(fail.custom_code(), Some(code(XmarginError::LiquidationMarksNotFresh)), "{fail}");
    // With `update_marks` in the same transaction it goes through.
    let marks = v.update_marks_ix(0, 1 << call);
    let ix = v.liquidate_positions_ix(&liquidator, &t.portfolio, 0, call, 500);
    let [a, b] = budget_ixs();
    v.sb.send(&[a, b, marks, ix], &[&liquidator.owner]).unwrap_or_else(|f| panic!("fresh marks: {f}"));
}

// RT3: the delegate slippage bound covers `trade` only. A delegate may sign
// `liquidate_positions` with its owner's portfolio as the liquidator (`may_trade`), so it
// makes the owner buy its own underwater portfolio's long calls after expiry at the stale
// marks (mark − 10%), calls that settle at 0.
#[test]
fn rt3_a_delegate_cannot_make_its_owner_buy_expired_calls_through_liquidation() {
    let Expired { mut v, t: mine, call, .. } = expired_setup(500, 800);
    let owner = trader(&mut v, 100_000 * USDC);
    let d = mine.owner.insecure_clone();
    let ix = v.sb.set_delegate_ix(owner.owner.pubkey(), owner.portfolio, d.pubkey());
    v.sb.send(&[ix], &[&owner.owner]).unwrap();
    let as_delegate =
        Trader { owner: d.insecure_clone(), portfolio: owner.portfolio, quote_account: owner.quote_account };
    let before = v.sb.svm.get_account(&owner.portfolio).unwrap().data;
    let ix = v.liquidate_positions_ix(&as_delegate, &mine.portfolio, 0, call, 500);
    let [a, b] = budget_ixs();
    let fail = v.sb.send(&[a, b, ix], &[&d]).unwrap_err();
    assert_eq!(fail.custom_code(), Some(code(XmarginError::OptionExpired)), "{fail}");
    assert_eq!(
        v.sb.svm.get_account(&owner.portfolio).unwrap().data,
        before,
        "the owner's portfolio is untouched"
    );
}
