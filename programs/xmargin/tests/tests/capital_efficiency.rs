//! Capital-efficiency credits on the compiled .so (issue 14): a cash-and-carry's spot
//! collateral linked to its underlying frees the margin it locked, a BTC/ETH pair in an
//! offset group needs less than its legs alone, and a book that only nets with its credits
//! can still be liquidated once underwater (each step sized without the credits).
mod common;

use common::assert_error;
use xmargin::error::XmarginError;
use xmargin::events::PositionsLiquidated;
use xmargin::state::{Portfolio, LINK_RATIO_ONE, PERP_INSTRUMENT};
use xmargin_risk::reference::LINK_BASIS_HAIRCUT;
use xmargin_sandbox::fixtures::{link, offset_group};
use xmargin_sandbox::venue::{Trader, Venue};
use xmargin_sandbox::{events, TxFailure};

/// Quote native units per unit (6 decimals).
const BTC: i64 = 60_000_000_000;
const ETH: i64 = 3_000_000_000;
/// 1 wBTC in native units (8 decimals).
const ONE_WBTC: u64 = 100_000_000;

fn ok<T>(r: Result<T, TxFailure>) -> T {
    r.unwrap_or_else(|f| panic!("{f}"))
}

fn bps(x: xmargin_risk::Fx) -> u16 {
    (x * 10_000).round().to_num()
}

/// BTC (0) and ETH (1), wrapped BTC as collateral 1 (weights 80% / 90%), a deep-pocketed
/// maker.
fn venue() -> (Venue, u8, Trader) {
    let mut v = Venue::new(&[BTC, ETH]).unwrap_or_else(|e| panic!("{e}"));
    let wbtc = ok(v.list_collateral_asset(8, BTC, 8_000, 9_000));
    let maker = ok(v.trader(100_000_000_000_000));
    (v, wbtc, maker)
}

/// Links wBTC to BTC at the reference basis haircut, through the timelock.
fn link_wbtc(v: &mut Venue, wbtc: u8) {
    let (initial, maintenance) = LINK_BASIS_HAIRCUT;
    ok(v.link_collateral(wbtc, link(0, bps(initial), bps(maintenance), LINK_RATIO_ONE)));
}

/// A cash-and-carry: 1 wBTC and 1,000 USDC (fees), short 1 BTC perp.
fn carry(v: &mut Venue, wbtc: u8, maker: &Trader) -> Trader {
    let alice = ok(v.trader(1_000_000_000));
    ok(v.deposit_collateral(&alice, wbtc, ONE_WBTC));
    ok(v.trade_perp_at_oracle(&alice, maker, 0, -100));
    alice
}

fn fx(bits: i128) -> f64 {
    bits as f64 / 2f64.powi(48)
}

#[test]
fn a_linked_cash_and_carry_frees_the_margin_it_locked() {
    // 60 ETH long needs ~42.5k of initial margin: more than the carry leaves unlinked
    // (48k of weighted wBTC − 14.2k for the perp), less than it leaves linked.
    let mut outcomes = Vec::new();
    for linked in [false, true] {
        let (mut v, wbtc, maker) = venue();
        if linked {
            link_wbtc(&mut v, wbtc);
        }
        let alice = carry(&mut v, wbtc, &maker);
        let (view, _) = ok(v.health(&alice.portfolio));
        let locked = fx(view.equity) - fx(view.initial_health);
        let eth = v.trade_perp_at_oracle(&alice, &maker, 1, 6_000);
        outcomes.push((locked, eth));
    }
    let (unlinked_locked, unlinked_eth) = outcomes.remove(0);
    let (linked_locked, linked_eth) = outcomes.remove(0);
    assert!(unlinked_locked > 25_000.0, "unlinked carry locks {unlinked_locked}");
    assert!(linked_locked <= 0.25 * unlinked_locked, "linked {linked_locked} vs unlinked {unlinked_locked}");
    assert_error(
        &unlinked_eth.expect_err("unlinked: no room for the ETH leg"),
        XmarginError::TakerInsufficientHealth,
    );
    ok(linked_eth);
}

#[test]
fn a_pair_in_an_offset_group_needs_less_than_its_legs() {
    // Long 1 BTC, short 20 ETH (60k each side): ~28.4k initial alone, about half with ρ = ½
    // (the legs moving together cancel). 21k of USDC lies between.
    let mut results = Vec::new();
    for grouped in [false, true] {
        let (mut v, _, maker) = venue();
        if grouped {
            // Two timelocked steps of at most 2,500 bps each.
            ok(v.set_offset_group(0, offset_group(&[0, 1], 2_500)));
            ok(v.set_offset_group(0, offset_group(&[0, 1], 5_000)));
        }
        let alice = ok(v.trader(21_000_000_000));
        ok(v.trade_perp_at_oracle(&alice, &maker, 0, 100));
        let eth = v.trade_perp_at_oracle(&alice, &maker, 1, -2_000);
        let view = eth.is_ok().then(|| ok(v.health(&alice.portfolio)).0);
        results.push((eth, view));
    }
    let (alone, _) = results.remove(0);
    assert_error(
        &alone.expect_err("no offset: the ETH leg does not fit"),
        XmarginError::TakerInsufficientHealth,
    );
    let (grouped, view) = results.remove(0);
    ok(grouped);
    let view = view.unwrap();
    let credit = fx(view.initial_offset_credit);
    assert!(credit > 12_000.0, "refresh_health reports the credit: {credit}");
    assert!(fx(view.initial_health) > 0.0);
}

#[test]
fn an_underwater_carry_is_still_liquidated_leg_by_leg() {
    let (mut v, wbtc, maker) = venue();
    link_wbtc(&mut v, wbtc);
    let alice = carry(&mut v, wbtc, &maker);
    let liquidator = ok(v.trader(10_000_000_000_000));
    // A wBTC depeg of 20% (BTC unchanged) and a quote debt put the carry under water (a state
    // patch for the debt: which trades led there does not change the liquidation).
    v.set_collateral_price(wbtc, BTC * 8 / 10);
    let (view, _) = ok(v.health(&alice.portfolio));
    let debt = (fx(view.maintenance_health) * 1e6) as i64 + 500_000_000;
    v.sb.patch_zero_copy::<Portfolio>(&alice.portfolio, |p| {
        let q = p.balances.iter_mut().find(|x| x.active == 1 && x.collateral == 0).unwrap();
        q.amount -= debt;
    });
    let (view, _) = ok(v.health(&alice.portfolio));
    assert!(fx(view.maintenance_health) < 0.0, "under water: {}", fx(view.maintenance_health));
    // Taking the short perp unhedges the wBTC: with the link's credit no size helps, so the
    // step is sized on health without credits and goes through.
    let done = ok(v.liquidate_positions(&liquidator, &alice.portfolio, 0, PERP_INSTRUMENT, u64::MAX));
    assert!(done.logs.iter().any(|l| l.contains("sized without them")), "{:#?}", done.logs);
    let event = events::<PositionsLiquidated>(&done.logs).remove(0);
    assert!(
        event.target_size_after > event.target_size_before,
        "{} -> {}",
        event.target_size_before,
        event.target_size_after
    );
    let after: Portfolio = v.portfolio(&alice);
    let perp = after.positions.iter().find(|s| s.active == 1 && s.is_perp()).map_or(0, |s| s.size);
    assert!(perp > -100, "the short perp shrank: {perp}");
}
