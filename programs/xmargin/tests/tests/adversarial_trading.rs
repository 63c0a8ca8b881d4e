//! Issue 13's value-extraction findings on trading, delegates, oracles and valuation, each
//! performed as the review did on the compiled .so, and refused with its own error while the
//! legitimate neighbour still works:
//! 1. band-edge flips by an unhealthy portfolio against a colluding one (vault drain);
//! 2. a delegate trading its owner's portfolio against its own at the band edge;
//! 3. a liquidator choosing the target's oracle account (another posted update, a stale feed);
//! 7. a spot print above the EMA raising withdrawable health;
//! 9. an underwater portfolio closing its last lot.
mod common;

use common::{assert_error, snapshot};
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::state::{Portfolio, PERP_INSTRUMENT};
use xmargin_sandbox::ix::fx_bits_to_f64;
use xmargin_sandbox::venue::{budget_ixs, Trader, Venue, TICK};
use xmargin_sandbox::{cu, Pubkey};

/// SOL at $150 (quote native units per SOL; 6-decimal quote).
const SOL: i64 = 150_000_000;
const USDC: u64 = 1_000_000;

fn watched(v: &Venue, traders: &[&Trader]) -> Vec<Pubkey> {
    let exchange = xmargin_sandbox::pda::exchange();
    let mut keys: Vec<Pubkey> = traders.iter().map(|t| t.portfolio).collect();
    keys.push(v.underlyings[0].market);
    keys.push(xmargin_sandbox::pda::registry(&exchange));
    keys.push(xmargin_sandbox::pda::vault(&exchange, &v.fx.quote_mint));
    keys.push(xmargin_sandbox::pda::insurance_vault(&exchange));
    keys
}

fn perp_size(p: &Portfolio) -> i64 {
    p.positions.iter().find(|s| s.active == 1 && s.series == PERP_INSTRUMENT).map_or(0, |s| s.size)
}

/// (initial health, maintenance health, equity) in quote units.
fn health(v: &mut Venue, t: &Trader) -> (f64, f64, f64) {
    let (h, _) = v.health(&t.portfolio).unwrap_or_else(|f| panic!("{f}"));
    (fx_bits_to_f64(h.initial_health), fx_bits_to_f64(h.maintenance_health), fx_bits_to_f64(h.equity))
}

/// `price × num / den` on the tick, rounded toward the oracle (the worst in-band price).
fn band_price(v: &Venue, num: u64, den: u64) -> u64 {
    let p = v.underlyings[0].price as u64 * num / den;
    if num > den {
        p / TICK * TICK
    } else {
        p.div_ceil(TICK) * TICK
    }
}

fn oracle_price(v: &Venue) -> u64 {
    v.tick_price(v.underlyings[0].price as u64)
}

/// A colluding pair: `a` long 8 SOL against `b`, 300 USDC each, an honest 10,000 USDC
/// depositor, and 1,000 USDC of insurance.
fn colluding_pair() -> (Venue, Trader, Trader, Trader) {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let honest = v.trader(10_000 * USDC).unwrap();
    let a = v.trader(300 * USDC).unwrap();
    let b = v.trader(300 * USDC).unwrap();
    v.fund_insurance(1_000 * USDC).unwrap();
    let price = oracle_price(&v);
    v.trade(&a, &b, 0, PERP_INSTRUMENT, 800, price).unwrap_or_else(|f| panic!("{f}"));
    (v, honest, a, b)
}

#[test]
fn finding_1_band_edge_flip_by_an_unhealthy_portfolio_is_refused() {
    let (mut v, _honest, a, b) = colluding_pair();
    // A 3% fall: `a` is below initial health, still above maintenance.
    v.set_price(0, SOL * 97 / 100);
    let (initial, maintenance, _) = health(&mut v, &a);
    assert!(initial < 0.0 && maintenance > 0.0, "set-up: initial {initial}, maintenance {maintenance}");
    // The attack: flip +8 → −7.99 at the bottom of the 5% band. The maintenance requirement
    // of the traded underlying falls (8 → 7.99 SOL), which the old gate accepted, but the
    // fill hands 2 × 8 × 5% × spot to `b`.
    let keys = watched(&v, &[&a, &b]);
    let before = snapshot(&v, &keys);
    let edge = band_price(&v, 95, 100);
    let f = v.trade(&a, &b, 0, PERP_INSTRUMENT, -1_599, edge).unwrap_err();
    assert_error(&f, XmarginError::TakerInsufficientHealth);
    assert!(
        f.logs.iter().any(|l| l.contains("initial health") && l.contains("maintenance health")),
        "the failure logs both healths before and after: {f}"
    );
    assert_eq!(snapshot(&v, &keys), before, "a refused flip changes nothing");
    // The same on the maker side (the unhealthy portfolio sells as maker).
    let f = v.trade(&b, &a, 0, PERP_INSTRUMENT, 1_599, edge).unwrap_err();
    assert_error(&f, XmarginError::MakerInsufficientHealth);
    assert_eq!(snapshot(&v, &keys), before);

    // Neighbour: a fair risk-reducing trade at the oracle goes through and raises health.
    let price = oracle_price(&v);
    v.trade(&a, &b, 0, PERP_INSTRUMENT, -400, price).unwrap_or_else(|f| panic!("fair reduction: {f}"));
    let (after, _, _) = health(&mut v, &a);
    assert!(after > initial, "health {initial} -> {after}");
}

#[test]
fn finding_1_a_liquidatable_portfolio_fills_only_at_the_mark() {
    let (mut v, _honest, a, b) = colluding_pair();
    // A 13.4% fall: `a`'s maintenance health is negative, equity still positive.
    v.set_price(0, 130_000_000);
    let (_, maintenance, equity) = health(&mut v, &a);
    assert!(maintenance < 0.0 && equity > 0.0, "set-up: maintenance {maintenance}, equity {equity}");
    // Selling one lot at the band's bottom lowers the requirement by more than the fill costs
    // (health rises), but it moves equity to the counterparty while the loss could fall on
    // the insurance fund: refused.
    let keys = watched(&v, &[&a, &b]);
    let before = snapshot(&v, &keys);
    let f = v.trade(&a, &b, 0, PERP_INSTRUMENT, -1, band_price(&v, 95, 100)).unwrap_err();
    assert_error(&f, XmarginError::UnhealthyFillOffMark);
    assert_eq!(snapshot(&v, &keys), before);
    // At the mark it goes through.
    let price = oracle_price(&v);
    v.trade(&a, &b, 0, PERP_INSTRUMENT, -1, price).unwrap_or_else(|f| panic!("at the mark: {f}"));
    assert_eq!(perp_size(&v.portfolio(&a)), 799);
}

#[test]
fn finding_1_a_portfolio_being_liquidated_cannot_flip_either() {
    let (mut v, _honest, a, b) = colluding_pair();
    let liquidator = v.trader(5_000 * USDC).unwrap();
    v.set_price(0, 130_000_000);
    v.liquidate_positions(&liquidator, &a.portfolio, 0, PERP_INSTRUMENT, 1).unwrap_or_else(|f| panic!("{f}"));
    assert!(v.portfolio(&a).is_being_liquidated());
    let keys = watched(&v, &[&a, &b]);
    let before = snapshot(&v, &keys);
    let size = perp_size(&v.portfolio(&a));
    let f = v.trade(&a, &b, 0, PERP_INSTRUMENT, 1 - 2 * size, band_price(&v, 95, 100)).unwrap_err();
    assert_error(&f, XmarginError::TakerInsufficientHealth);
    assert_eq!(snapshot(&v, &keys), before);
}

#[test]
fn finding_9_an_underwater_portfolio_closes_down_to_its_last_lot() {
    let (mut v, _honest, a, b) = colluding_pair();
    v.set_price(0, SOL * 97 / 100);
    let (initial, _, _) = health(&mut v, &a);
    assert!(initial < 0.0);
    let price = oracle_price(&v);
    let landed = v.trade(&a, &b, 0, PERP_INSTRUMENT, -799, price).unwrap_or_else(|f| panic!("799 lots: {f}"));
    cu::record(
        "trade",
        "perp reduction below initial health (health before and after)",
        landed.compute_units,
        200_000,
    );
    v.trade(&a, &b, 0, PERP_INSTRUMENT, -1, price).unwrap_or_else(|f| panic!("the last lot: {f}"));
    assert!(v.portfolio(&a).positions.iter().all(|s| s.active == 0));
    // And all at once, from a fresh underwater book below maintenance.
    let (mut v, _honest, a, b) = colluding_pair();
    v.set_price(0, 130_000_000);
    let price = oracle_price(&v);
    v.trade(&a, &b, 0, PERP_INSTRUMENT, -800, price).unwrap_or_else(|f| panic!("all 800 lots: {f}"));
    assert!(v.portfolio(&a).positions.iter().all(|s| s.active == 0));
}

/// Quote balance plus perp cash of a portfolio at the oracle (quote native units).
fn equity_native(v: &mut Venue, t: &Trader) -> i64 {
    (health(v, t).2 * USDC as f64).round() as i64
}

#[test]
fn finding_2_delegate_fills_are_bounded_by_the_owners_slippage() {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let owner = v.trader(1_000 * USDC).unwrap();
    let delegate_own = v.trader(1_000 * USDC).unwrap();
    let d = delegate_own.owner.insecure_clone();
    let ix = v.sb.set_delegate_ix(owner.owner.pubkey(), owner.portfolio, d.pubkey());
    v.sb.send(&[ix], &[&owner.owner]).unwrap();
    v.mark_all();
    let keys = watched(&v, &[&owner, &delegate_own]);
    let before = snapshot(&v, &keys);
    // The attack: the delegate buys for the owner from its own portfolio at the band's top.
    let send = |v: &mut Venue, lots: i64, price: u64| {
        let ix = v.trade_ix_signed(
            &owner,
            &delegate_own,
            &d.pubkey(),
            &d.pubkey(),
            0,
            PERP_INSTRUMENT,
            lots,
            price,
        );
        let [x, y] = budget_ixs();
        v.sb.send(&[x, y, ix], &[&d])
    };
    let top = band_price(&v, 105, 100);
    let f = send(&mut v, 100, top).unwrap_err();
    assert_error(&f, XmarginError::DelegateSlippageExceeded);
    assert_eq!(snapshot(&v, &keys), before);
    // Neighbour: at the mark (default slippage 0, one tick of rounding) it trades.
    let mark = oracle_price(&v);
    send(&mut v, 100, mark).unwrap_or_else(|f| panic!("at the mark: {f}"));
    send(&mut v, -100, mark).unwrap_or_else(|f| panic!("at the mark: {f}"));
    // The owner allows 1%: +1% passes, +2% does not.
    let ix = v.sb.set_delegate_with_slippage_ix(owner.owner.pubkey(), owner.portfolio, d.pubkey(), 100);
    v.sb.send(&[ix], &[&owner.owner]).unwrap();
    let two = band_price(&v, 102, 100);
    let f = send(&mut v, 100, two).unwrap_err();
    assert_error(&f, XmarginError::DelegateSlippageExceeded);
    // Only the owner sets it.
    let ix = v.sb.set_delegate_with_slippage_ix(d.pubkey(), owner.portfolio, d.pubkey(), 1_000);
    assert_error(&v.sb.send(&[ix], &[&d]).unwrap_err(), XmarginError::NotPortfolioOwner);
    let ix = v.sb.set_delegate_with_slippage_ix(owner.owner.pubkey(), owner.portfolio, d.pubkey(), 1_001);
    assert_error(&v.sb.send(&[ix], &[&owner.owner]).unwrap_err(), XmarginError::InvalidDelegateSlippage);

    // The residual bound: 18 round trips of 1 SOL at the allowed edge move at most
    // Σ |units| × (1% × spot + one tick) + the owner's fees away from the owner.
    let start = equity_native(&mut v, &owner);
    let spot = v.underlyings[0].price as u64;
    let (up, down) = (band_price(&v, 101, 100), band_price(&v, 99, 100));
    let mut bound: u64 = 0;
    for _ in 0..18 {
        for (lots, price) in [(100i64, up), (-100, down)] {
            send(&mut v, lots, price).unwrap_or_else(|f| panic!("within slippage: {f}"));
            let fee = (spot * 5).div_ceil(10_000); // 5 bps taker fee on 1 SOL
            bound += spot / 100 + TICK + fee;
        }
    }
    let lost = start - equity_native(&mut v, &owner);
    assert!(lost > 0 && lost as u64 <= bound + 2, "lost {lost} > bound {bound}");
    println!("delegate: 18 round trips at 1% slippage moved {lost} of at most {bound} quote native units");
}

/// A target holding 10 SOL of collateral (initial weight 0.8) and a short 30 SOL perp, and a
/// liquidator; SOL collateral is asset 1 with its own pull oracle.
fn collateral_target() -> (Venue, Trader, Trader, Trader) {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let index = v.list_collateral_asset(9, SOL, 8_000, 9_000).unwrap_or_else(|f| panic!("{f}"));
    let target = v.trader(0).unwrap();
    v.deposit_collateral(&target, index, 10_000_000_000).unwrap_or_else(|f| panic!("{f}"));
    let maker = v.trader(10_000 * USDC).unwrap();
    let price = oracle_price(&v);
    v.trade(&target, &maker, 0, PERP_INSTRUMENT, -3_000, price).unwrap_or_else(|f| panic!("{f}"));
    let liquidator = v.trader(10_000 * USDC).unwrap();
    (v, target, maker, liquidator)
}

#[test]
fn finding_3_a_liquidator_cannot_choose_the_targets_prices() {
    let (mut v, target, _maker, liquidator) = collateral_target();
    let (_, maintenance, _) = health(&mut v, &target);
    assert!(maintenance > 0.0, "the target is healthy: {maintenance}");
    v.mark_all();
    let mut keys = watched(&v, &[&target, &liquidator]);
    keys.push(v.collaterals[0].oracle);
    let before = snapshot(&v, &keys);
    let sol_oracle = v.collaterals[0].oracle;

    // (a) A partially verified (or any other) update of SOL's feed posted at another account.
    let posted = Pubkey::new_unique();
    let q = v.sb.quote(SOL, 1, xmargin_sandbox::venue::PRICE_EXPO);
    v.sb.put_pull_oracle(posted, v.collaterals[0].feed, &q, false);
    let mut ix = v.liquidate_positions_ix(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, 3_000);
    let at = ix.accounts.iter().position(|m| m.pubkey == sol_oracle).expect("the target's SOL oracle");
    ix.accounts[at].pubkey = posted;
    let [x, y] = budget_ixs();
    let f = v.sb.send(&[x, y, ix], &[&liquidator.owner]).unwrap_err();
    assert_error(&f, XmarginError::OracleWrongAccount);
    assert_eq!(snapshot(&v, &keys), before);

    // (b) The configured feed account itself is stale: for someone else's portfolio that is an
    // error, not a zero valuation that would make the target liquidatable.
    v.sb.warp(120);
    let u = &v.underlyings[0];
    let q = v.sb.quote(u.price, (u.price / 10_000) as u64, xmargin_sandbox::venue::PRICE_EXPO);
    let (oracle, feed, ema) = (u.oracle, u.feed, u.ema);
    v.sb.put_pull_oracle_with_ema(oracle, feed, &q, ema);
    let stale = snapshot(&v, &keys);
    let ix = v.liquidate_positions_ix(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, 3_000);
    let [x, y] = budget_ixs();
    let f = v.sb.send(&[x, y, ix], &[&liquidator.owner]).unwrap_err();
    assert_error(&f, XmarginError::OracleStale);
    assert!(f.logs.iter().any(|l| l.contains("oracle of collateral 1")), "names the account: {f}");
    assert_eq!(snapshot(&v, &keys), stale);

    // Neighbour: with the real, fresh oracle the healthy target is not liquidatable ...
    v.publish();
    let f = v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, 3_000).unwrap_err();
    assert_error(&f, XmarginError::NotLiquidatable);
    // ... and after a real crash of its collateral it is.
    v.set_collateral_price(v.collaterals[0].index, SOL / 3);
    v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, 3_000)
        .unwrap_or_else(|f| panic!("real crash: {f}"));
}

#[test]
fn finding_7_a_spot_print_above_the_ema_does_not_raise_withdrawable_health() {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let long = v.trader(1_000 * USDC).unwrap();
    let short = v.trader(1_000 * USDC).unwrap();
    let price = oracle_price(&v);
    v.trade(&long, &short, 0, PERP_INSTRUMENT, 1_000, price).unwrap_or_else(|f| panic!("{f}"));
    let (long0, long_m0, _) = health(&mut v, &long);
    // Spot prints 5% above the EMA.
    v.underlyings[0].price = SOL * 105 / 100;
    v.publish();
    let (long1, long_m1, _) = health(&mut v, &long);
    assert!(long1 <= long0, "initial health rose on the print: {long0} -> {long1}");
    assert!(long_m1 > long_m0, "maintenance follows spot: {long_m0} -> {long_m1}");
    // The review withdrew 33.9 USDC on such a print; now even 1 USDC above the health before fails.
    let keys = watched(&v, &[&long]);
    let before = snapshot(&v, &keys);
    let amount = ((long0.max(0.0) + 1.0) * USDC as f64) as u64;
    let f = v.withdraw(&long, amount).unwrap_err();
    assert_error(&f, XmarginError::InsufficientHealth);
    assert!(
        f.logs.iter().any(|l| l.contains("initial health") && l.contains("->") && l.contains("requirement")),
        "the failure logs health before and after and the requirement: {f}"
    );
    assert_eq!(snapshot(&v, &keys), before);
    // Neighbour: once the EMA follows, the gain (10 SOL × 7.50) counts, and the withdrawal passes.
    v.set_price(0, SOL * 105 / 100);
    let (long2, _, _) = health(&mut v, &long);
    assert!((long2 - long1 - 75.0).abs() < 0.01, "the print's gain counted at the EMA: {long1} vs {long2}");
    v.withdraw(&long, amount).unwrap_or_else(|f| panic!("after the EMA caught up: {f}"));
    // A short's gain on a print below the EMA counts at the EMA too.
    v.underlyings[0].price = SOL * 95 / 100;
    v.underlyings[0].ema = SOL;
    v.publish();
    let (short1, _, _) = health(&mut v, &short);
    v.set_price(0, SOL * 95 / 100);
    let (short2, _, _) = health(&mut v, &short);
    assert!((short2 - short1 - 75.0).abs() < 0.01, "short: {short1} vs {short2}");
}

/// `trade` values the maker with the taker's reads of shared underlyings and collateral
/// (`health::SharedReads`). The maker's health accounts cannot use that to bring in a
/// price of their choosing: an account other than the configured feed for an underlying or a
/// collateral both hold is read and refused like any other (`OracleWrongAccount`), and
/// nothing changes.
#[test]
fn the_second_portfolio_cannot_swap_an_oracle_the_first_one_read() {
    let mut v = Venue::new(&[SOL, 2 * SOL]).unwrap_or_else(|e| panic!("{e}"));
    let index = v.list_collateral_asset(9, SOL, 8_000, 9_000).unwrap_or_else(|f| panic!("{f}"));
    let taker = v.trader(10_000 * USDC).unwrap();
    let maker = v.trader(10_000 * USDC).unwrap();
    for t in [&taker, &maker] {
        v.deposit_collateral(t, index, 10_000_000_000).unwrap_or_else(|f| panic!("{f}"));
    }
    // Both hold underlying 1; the trade is on underlying 0.
    let one = v.tick_price(v.underlyings[1].price as u64);
    v.trade(&taker, &maker, 1, PERP_INSTRUMENT, 100, one).unwrap_or_else(|f| panic!("{f}"));
    let mut keys = watched(&v, &[&taker, &maker]);
    keys.push(v.underlyings[1].market);
    let before = snapshot(&v, &keys);
    let [x, y] = budget_ixs();
    for (feed, configured, price) in [
        (v.underlyings[1].feed, v.underlyings[1].oracle, 4 * SOL),
        (v.collaterals[0].feed, v.collaterals[0].oracle, 10 * SOL),
    ] {
        // A fully verified update of the same feed, at a price the maker would like, posted
        // at another account.
        let posted = Pubkey::new_unique();
        let q = v.sb.quote(price, 1, xmargin_sandbox::venue::PRICE_EXPO);
        v.sb.put_pull_oracle(posted, feed, &q, true);
        let mut ix = v.trade_ix(&taker, &maker, 0, PERP_INSTRUMENT, 10, oracle_price(&v));
        // The maker's accounts come last: swap its (second) occurrence of the feed.
        let at = ix.accounts.iter().rposition(|m| m.pubkey == configured).expect("the maker's account");
        let first = ix.accounts.iter().position(|m| m.pubkey == configured).expect("the taker's account");
        assert!(first < at, "both portfolios pass the account");
        ix.accounts[at].pubkey = posted;
        let f = v.sb.send(&[x.clone(), y.clone(), ix], &[&taker.owner, &maker.owner]).unwrap_err();
        assert_error(&f, XmarginError::OracleWrongAccount);
        assert_eq!(snapshot(&v, &keys), before);
    }
    // The same trade with the configured accounts lands.
    v.trade(&taker, &maker, 0, PERP_INSTRUMENT, 10, oracle_price(&v)).unwrap_or_else(|f| panic!("{f}"));
}
