//! Adversarial review, issue 13, on the compiled .so:
//!
//! - **Finding 4** (funding pinned by one lot): a fill moves the funding rate in proportion to
//!   its size against the open interest, a period without fills has rate 0 (nothing carries
//!   over), and a position pays funding only for the time it was held (the rate decided at
//!   `update_funding` accrues from then on, per second).
//! - **Finding 5** (settlement price picked by the first caller): `record_settlement_price`
//!   accepts only the feed's first update at or after expiry (`prev_publish_time < expiry ≤
//!   publish_time`), so any two valid calls record the same price.
//!
//! Each attack is followed by its legitimate neighbour, which must keep working.
mod common;

use common::{assert_error, pending, quote, update_funding};
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::events::{FundingUpdated, SettlementRecorded};
use xmargin::oracle::PYTH_RECEIVER_PROGRAM;
use xmargin::state::{instrument_kind, PERP_INSTRUMENT};
use xmargin_sandbox::ix::fx_bits_to_f64;
use xmargin_sandbox::oracles::{pull_update_bytes, Quote};
use xmargin_sandbox::venue::{Trader, Venue, PRICE_EXPO};
use xmargin_sandbox::{events, Pubkey};

/// SOL at $150 (quote native units per SOL, 6 decimals).
const SOL: i64 = 150_000_000;
/// 10,000 USDC.
const RICH: u64 = 10_000_000_000;
/// The venue's funding cap: 0.07% per hourly interval (at most the two fees).
const CAP: f64 = 0.0007;
const HOUR: i64 = 3_600;

fn venue() -> Venue {
    Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"))
}

fn trader(v: &mut Venue, quote: u64) -> Trader {
    v.trader(quote).unwrap_or_else(|f| panic!("{f}"))
}

fn perp(v: &mut Venue, taker: &Trader, maker: &Trader, lots: i64, price: u64) {
    v.trade(taker, maker, 0, PERP_INSTRUMENT, lots, price).unwrap_or_else(|f| panic!("{f}"));
}

fn rate_of(e: &FundingUpdated) -> f64 {
    fx_bits_to_f64(e.rate)
}

// ---------------------------------------------------------------- Finding 4: funding

/// The attack: a 0.01 SOL wash trade at +5% against 10 SOL of open interest used to pin
/// funding at the cap for 24 hours (the 10 SOL long paid 36 USDC). Now its premium is
/// weighted by 1 lot out of 1,001, and the hours after it, without fills, have rate 0.
#[test]
fn one_lot_wash_trade_barely_moves_funding_and_nothing_carries_over() {
    let mut v = venue();
    let (long, short) = (trader(&mut v, RICH), trader(&mut v, RICH));
    let at_oracle = v.tick_price(SOL as u64);
    perp(&mut v, &long, &short, 1_000, at_oracle); // 10 SOL long
    let e = update_funding(&mut v);
    assert_eq!((e.rate, e.fill_lots, e.weight), (0, 1_000, 1_000), "fills at the oracle: no premium");

    // The wash trade: one lot at +5% (the band's edge) between two portfolios of one owner.
    let (c, d) = (trader(&mut v, 1_000_000_000), trader(&mut v, 1_000_000_000));
    let rich = v.tick_price(SOL as u64 * 105 / 100);
    perp(&mut v, &c, &d, 1, rich);
    let e = update_funding(&mut v);
    assert_eq!((e.fill_lots, e.open_interest, e.weight), (1, 1_001, 1_001));
    // The premium (5%) is capped at 0.07% per fill, then weighted by 1 lot of 1,001.
    assert!((fx_bits_to_f64(e.premium_lots) - CAP).abs() < 1e-12, "premium × lots");
    let rate = rate_of(&e);
    assert!((rate - CAP / 1_001.0).abs() < 1e-12, "rate {rate}, expected cap / 1001");
    assert_eq!(e.index_after, e.index_before, "no slope before: nothing accrued");
    let m = v.market(0);
    assert_eq!(m.last_funding_rate.get().to_bits(), e.rate);
    assert_eq!(m.funding_slope.get().to_bits(), e.slope_after);

    // 24 hours without fills: the first update closes the wash trade's hour, then rate 0.
    for hour in 0..24 {
        let e = update_funding(&mut v);
        assert_eq!((e.rate, e.fill_lots, e.premium_lots), (0, 0, 0), "hour {hour}: no fill, rate 0");
        assert_eq!(e.slope_after, 0, "hour {hour}: nothing carries over");
    }
    // The 10 SOL long paid one hour of cap / 1001: 10 × 150 × 0.0007 / 1001 ≈ 0.00105 USDC
    // (it paid 36 USDC before the fix).
    let owed = pending(&v, &long);
    assert!((-1_050..=-1_047).contains(&owed), "10 SOL long owes {owed} native units");
    let received = pending(&v, &short);
    assert!(owed + received <= 0 && owed + received >= -1, "zero-sum up to rounding: {owed} {received}");
    v.warp(5 * HOUR);
    assert_eq!(pending(&v, &long), owed, "no update for 5 hours: still nothing accrues");
}

/// The attack: a position opened one second before `update_funding` used to be charged the
/// whole period's funding. Now it pays one second of the slope in force.
#[test]
fn position_opened_a_second_before_update_pays_only_that_second() {
    let mut v = venue();
    let (a, b) = (trader(&mut v, RICH), trader(&mut v, RICH));
    // Period 1: 10 SOL bought 1% rich (capped at 0.07%, the whole open interest): rate = cap.
    let rich = v.tick_price(SOL as u64 * 101 / 100);
    perp(&mut v, &a, &b, 1_000, rich);
    let e = update_funding(&mut v);
    assert!((rate_of(&e) - CAP).abs() < 1e-12, "rate {}", rate_of(&e));

    // Period 2: a late long opens at the oracle one second before the update.
    let (c, d) = (trader(&mut v, RICH), trader(&mut v, RICH));
    v.warp(HOUR - 1);
    let at_oracle = v.tick_price(SOL as u64);
    perp(&mut v, &c, &d, 100, at_oracle);
    v.warp(1);
    let e = update_funding(&mut v);
    assert_eq!(e.elapsed_secs, HOUR);
    assert_eq!((e.fill_lots, e.rate), (100, 0), "the period's only fill was at the oracle");
    // One second of 0.07% × 150 per hour on 1 SOL: 150 × 0.0007 / 3600 ≈ 29.2 native units
    // (a whole period would be 105,000).
    let late = pending(&v, &c);
    assert!((-30..=-29).contains(&late), "the late long owes {late}");
    // The 10 SOL long held the whole hour: 10 × 0.105 USDC.
    let full = pending(&v, &a);
    assert!((-1_050_001..=-1_049_999).contains(&full), "the 10 SOL long owes {full}");
    // Rate 0 from here on: a day later nobody owes more.
    v.warp(24 * HOUR);
    assert_eq!((pending(&v, &c), pending(&v, &a)), (late, full));
}

/// The legitimate neighbour: real, size-weighted premia move funding. 10 SOL bought 0.04%
/// rich and 10 SOL bought 0.02% cheap give a rate of (0.04% × 1000 − 0.02% × 1000) / 2000 =
/// 0.01% per hour, paid by longs to shorts over the next hour, and settled on the next touch.
#[test]
fn funding_follows_size_weighted_premia() {
    let mut v = venue();
    let (a, b, c, d) =
        (trader(&mut v, RICH), trader(&mut v, RICH), trader(&mut v, RICH), trader(&mut v, RICH));
    perp(&mut v, &a, &b, 1_000, 150_060_000); // +0.04%
    perp(&mut v, &c, &d, 1_000, 149_970_000); // −0.02%
    let e = update_funding(&mut v);
    assert_eq!((e.fill_lots, e.open_interest, e.weight), (2_000, 2_000, 2_000));
    assert!((fx_bits_to_f64(e.premium_lots) - 0.2).abs() < 1e-9, "Σ premium × lots");
    assert!((rate_of(&e) - 0.0001).abs() < 1e-12, "rate {}", rate_of(&e));
    // Over the next hour: 0.01% × 150 = 0.015 USDC per SOL; 10 SOL = 0.15 USDC.
    v.warp(HOUR);
    let (pa, pb, pc, pd) = (pending(&v, &a), pending(&v, &b), pending(&v, &c), pending(&v, &d));
    assert!((-150_001..=-149_999).contains(&pa), "long a owes {pa}");
    assert!((-150_001..=-149_999).contains(&pc), "long c owes {pc}");
    assert!((149_999..=150_000).contains(&pb) && (149_999..=150_000).contains(&pd), "{pb} {pd}");
    assert!(pa + pb + pc + pd <= 0, "rounding never creates money");
    // A larger, richer period drives the rate to the cap: 20 SOL more at +1% against 20 SOL.
    let (e1, f1) = (trader(&mut v, RICH), trader(&mut v, RICH));
    let rich = v.tick_price(SOL as u64 * 101 / 100);
    perp(&mut v, &e1, &f1, 2_000, rich);
    let e = update_funding(&mut v);
    assert_eq!((e.fill_lots, e.open_interest, e.weight), (2_000, 4_000, 4_000));
    assert!((rate_of(&e) - CAP / 2.0).abs() < 1e-12, "rate {}", rate_of(&e));
    // Touching the position settles what it owes into the quote balance.
    let before = quote(&v.portfolio(&a));
    let owed = pending(&v, &a);
    let price = v.tick_price(SOL as u64);
    perp(&mut v, &a, &b, 1, price);
    let fee = xmargin_risk::trading::fee(1, SOL as u64, price, 100, 5, None).unwrap() as i64;
    assert_eq!(quote(&v.portfolio(&a)) - before, owed - fee, "settled exactly what was pending");
    assert_eq!(pending(&v, &a), 0, "snapshot moved to the current index");
}

// ---------------------------------------------------------------- Finding 5: settlement

/// Writes a fully verified update of the venue's feed at a fresh address.
fn post_update(v: &mut Venue, price: i64, publish_time: i64, prev_publish_time: i64) -> Pubkey {
    let address = solana_keypair::Keypair::new().pubkey();
    let feed = v.underlyings[0].feed;
    let slot = v.sb.now().1;
    let q = Quote { price, conf: (price / 10_000) as u64, expo: PRICE_EXPO, publish_time, slot };
    v.sb.put_pull_oracle_update(address, feed, &q, price, prev_publish_time);
    address
}

/// `record_settlement_price` reading `oracle` instead of the venue's feed account.
fn record_with(v: &Venue, series: u8, oracle: Pubkey) -> solana_instruction::Instruction {
    let mut ix = v.record_settlement_ix(0, series);
    let feed_account = v.underlyings[0].oracle;
    let meta = ix.accounts.iter_mut().find(|m| m.pubkey == feed_account).expect("oracle account");
    meta.pubkey = oracle;
    ix
}

fn market_bytes(v: &Venue) -> Vec<u8> {
    v.sb.svm.get_account(&v.underlyings[0].market).unwrap().data
}

/// A venue with a 150 call and a 150 put of tomorrow's expiry, one contract each way.
fn venue_with_options() -> (Venue, Trader, Trader, i64, u8, u8) {
    let mut v = venue();
    let (a, b) = (trader(&mut v, RICH), trader(&mut v, RICH));
    let expiry = v.expiry_in_days(1);
    let call = v.list_series(0, instrument_kind::CALL, 150_000_000, expiry).unwrap();
    let put = v.list_series(0, instrument_kind::PUT, 150_000_000, expiry).unwrap();
    for series in [call, put] {
        let price = v.model_price(0, series).max(xmargin_sandbox::venue::TICK);
        v.trade(&a, &b, 0, series, 100, price).unwrap_or_else(|f| panic!("{f}"));
    }
    (v, a, b, expiry, call, put)
}

/// The attack: 50 minutes after an expiry at 150, an update at 165 was recorded. Now only
/// the feed's first update at or after expiry is accepted; every other one fails with its
/// own error and changes nothing.
#[test]
fn settlement_accepts_only_the_first_update_at_or_after_expiry() {
    let (mut v, _, _, expiry, call, put) = venue_with_options();
    v.warp(expiry - v.sb.now().0 + 50 * 60);
    // The chain: …, 149.9 one second before expiry, 150 two seconds after, …, 165 now.
    let before = post_update(&mut v, 149_900_000, expiry - 1, expiry - 3);
    let first = post_update(&mut v, 150_000_000, expiry + 2, expiry - 1);
    let late = post_update(&mut v, 165_000_000, expiry + 50 * 60, expiry + 50 * 60 - 1);
    v.set_price(0, 165_000_000); // the sponsored feed account moved on too
    let untouched = market_bytes(&v);
    for (oracle, error) in [
        (late, XmarginError::SettlementUpdateNotAtExpiry),
        (v.underlyings[0].oracle, XmarginError::SettlementUpdateNotAtExpiry),
        (before, XmarginError::SettlementPriceBeforeExpiry),
    ] {
        let f = v.sb.send(&[record_with(&v, call, oracle)], &[]).unwrap_err();
        assert_error(&f, error);
        assert_eq!(market_bytes(&v), untouched, "a rejected record changes nothing");
    }
    // Right times, wrong update: another feed, or only partially verified.
    let (other_feed, partial) =
        (solana_keypair::Keypair::new().pubkey(), solana_keypair::Keypair::new().pubkey());
    let slot = v.sb.now().1;
    let q = Quote { price: 170_000_000, conf: 17_000, expo: PRICE_EXPO, publish_time: expiry + 2, slot };
    v.sb.put_pull_oracle_update(other_feed, [0xEE; 32], &q, q.price, expiry - 1);
    let bytes = pull_update_bytes(v.underlyings[0].feed, &q, false, q.price, expiry - 1);
    v.sb.put_account(partial, bytes, PYTH_RECEIVER_PROGRAM);
    for (oracle, error) in
        [(other_feed, XmarginError::OracleWrongFeed), (partial, XmarginError::OracleNotFullyVerified)]
    {
        let f = v.sb.send(&[record_with(&v, call, oracle)], &[]).unwrap_err();
        assert_error(&f, error);
        assert_eq!(market_bytes(&v), untouched);
    }
    // Had an update been published exactly at expiry, it would be the first one, not its
    // successor (previous publish time = expiry is not before expiry).
    let next = post_update(&mut v, 151_000_000, expiry + 2, expiry);
    let f = v.sb.send(&[record_with(&v, call, next)], &[]).unwrap_err();
    assert_error(&f, XmarginError::SettlementUpdateNotAtExpiry);
    assert_eq!(market_bytes(&v), untouched);
    // The first update at or after expiry records its price for every series of the expiry.
    let landed = v.sb.send(&[record_with(&v, put, first)], &[]).unwrap_or_else(|f| panic!("{f}"));
    let e = &events::<SettlementRecorded>(&landed.logs)[0];
    assert_eq!((e.settlement_price, e.series_settled, e.oracle), (150_000_000, 2, first));
    assert_eq!((e.publish_time, e.prev_publish_time), (expiry + 2, expiry - 1));
    let m = v.market(0);
    assert!(m.listed_series().iter().all(|s| s.settlement_price == 150_000_000));
    // Once recorded, no other update can replace it.
    let recorded = market_bytes(&v);
    for oracle in [first, next, late] {
        let f = v.sb.send(&[record_with(&v, call, oracle)], &[]).unwrap_err();
        assert_error(&f, XmarginError::SettlementAlreadyRecorded);
        assert_eq!(market_bytes(&v), recorded);
    }
}

/// Whoever records, and whenever in the window: the same update, hence the same price. Two
/// identical venues record the same expiry, one right after expiry through the sponsored feed
/// account, the other 50 minutes later from a posted copy of that update. The update is
/// published exactly at expiry (the boundary: expiry ≤ publish time).
#[test]
fn any_two_valid_settlement_records_agree() {
    let mut prices = Vec::new();
    for delay in [10, 50 * 60] {
        let (mut v, a, b, expiry, call, _) = venue_with_options();
        v.warp(expiry - v.sb.now().0 + delay);
        let oracle = if delay == 10 {
            // The sponsored account still holds the first update after expiry.
            let u = &v.underlyings[0];
            let (address, feed) = (u.oracle, u.feed);
            let slot = v.sb.now().1;
            let q = Quote { price: 160_004_000, conf: 16_000, expo: PRICE_EXPO, publish_time: expiry, slot };
            v.sb.put_pull_oracle_update(address, feed, &q, 160_004_000, expiry - 1);
            address
        } else {
            v.set_price(0, 170_000_000);
            post_update(&mut v, 160_004_000, expiry, expiry - 1)
        };
        v.sb.send(&[record_with(&v, call, oracle)], &[]).unwrap_or_else(|f| panic!("{f}"));
        let m = v.market(0);
        prices.push(m.listed_series()[usize::from(call)].settlement_price);
        // The legitimate path goes on: settlement pays the 150 call 10 per SOL, exactly.
        let (qa, qb) = (quote(&v.portfolio(&a)), quote(&v.portfolio(&b)));
        for t in [&a, &b] {
            let ix = v.settle_expired_ix(&t.portfolio, 0);
            v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("{f}"));
        }
        assert_eq!(quote(&v.portfolio(&a)) - qa, 10_000_000, "long call ITM by 10");
        assert_eq!(quote(&v.portfolio(&b)) - qb, -10_000_000, "short call pays the same");
    }
    assert_eq!(prices, vec![160_000_000, 160_000_000], "rounded to the tick, and equal");
}
