//! Conversion marks on the compiled .so (issue 14's call/put netting). The engine nets the
//! convexity add-on of a call and a put of one strike and expiry only while both series' marks
//! share a basis (`computed_at` included), so `update_marks` of one leg used to split a
//! hedged conversion's basis, make its requirement jump and let the caller liquidate it in the
//! same transaction. `update_marks` now marks every selected series with its counterparts
//! (same strike and expiry, other kind): the attack fails with `NotLiquidatable`, the
//! requirement is unchanged, and keeper batches (`marks_batches`) keep pairs together within
//! the compute ceiling.
mod common;

use common::assert_error;
use xmargin::error::XmarginError;
use xmargin::instructions::{with_counterparts, HealthView};
use xmargin::state::{instrument_kind, Market, OptionSeries};
use xmargin_sandbox::venue::{budget_ixs, marks_batches, Trader, Venue, MARKS_PER_TX, TICK};
use xmargin_sandbox::{cu, Pubkey, TxFailure};

const SOL: i64 = 150_000_000;
const USDC: u64 = 1_000_000;
/// The conversion's size: 1,000 SOL (lots of 0.01).
const LOTS: i64 = 100_000;
/// What the attacker liquidates: half the short put (all of it would leave the long call and
/// the perp no healthier, `LiquidationWouldNotImprove`).
const ATTACK_LOTS: u64 = LOTS as u64 / 2;
/// Per marked series, as in `marks.rs`: the scale issue's target, half of ~45k.
const MARKS_CEILING_PER_SERIES: u64 = 22_500;

fn ok<T>(r: Result<T, TxFailure>) -> T {
    r.unwrap_or_else(|f| panic!("{f}"))
}

/// I80F48 bits as quote units.
fn fx(bits: i128) -> f64 {
    bits as f64 / 2f64.powi(48)
}

/// Health without a keeper pass (the marks are left as they are).
fn health_no_marks(v: &mut Venue, portfolio: &Pubkey) -> HealthView {
    let accounts = v.health_accounts(portfolio, None);
    let ix = v.sb.refresh_health_ix(*portfolio, &accounts);
    let [a, b] = budget_ixs();
    let landed = ok(v.sb.send(&[a, b, ix], &[]));
    <HealthView as anchor_lang::AnchorDeserialize>::deserialize(&mut landed.return_data.as_slice())
        .expect("health return data")
}

struct Conversion {
    v: Venue,
    victim: Trader,
    attacker: Trader,
    call: u8,
    put: u8,
    /// Listed but no counterpart of the call: a put of another strike, a call of another
    /// expiry.
    others: [u8; 2],
}

/// SOL at 150: a 30-day 150 call and put, a 140 put of the same expiry and a 60-day 150 call.
/// The victim holds a conversion — long 1,000 calls, short 1,000 puts, short 1,000 SOL perp —
/// and withdraws all but ~2,000 USDC of its initial headroom.
fn conversion() -> Conversion {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let expiry = v.expiry_in_days(30);
    let call = ok(v.list_series(0, instrument_kind::CALL, SOL as u64, expiry));
    let put = ok(v.list_series(0, instrument_kind::PUT, SOL as u64, expiry));
    let other_strike = ok(v.list_series(0, instrument_kind::PUT, SOL as u64 - 1_000 * TICK, expiry));
    let later = v.expiry_in_days(60);
    let other_expiry = ok(v.list_series(0, instrument_kind::CALL, SOL as u64, later));
    let maker = ok(v.trader(100_000_000 * USDC));
    let victim = ok(v.trader(200_000 * USDC));
    let attacker = ok(v.trader(1_000_000 * USDC));
    v.mark_all();
    let (call_price, put_price) = (v.model_price(0, call), v.model_price(0, put));
    ok(v.trade(&victim, &maker, 0, call, LOTS, call_price));
    ok(v.trade(&victim, &maker, 0, put, -LOTS, put_price));
    ok(v.trade_perp_at_oracle(&victim, &maker, 0, -LOTS));
    let (h, _) = ok(v.health(&victim.portfolio));
    let spare = (fx(h.initial_health) - 2_000.0).floor() as u64 * USDC;
    ok(v.withdraw(&victim, spare));
    Conversion { v, victim, attacker, call, put, others: [other_strike, other_expiry] }
}

fn computed_at(m: &Market, series: u8) -> i64 {
    m.marks[usize::from(series)].computed_at
}

/// Σ |size| × the maintenance grid bound of its side, over the two option legs: the add-on
/// the conversion pays when its legs do not share a basis (lower bound: the extreme range
/// may be larger).
fn split_addon(m: &Market, call: u8, put: u8) -> f64 {
    let units = LOTS as f64 / 100.0;
    let bound = |series: u8, side: usize| {
        fx(xmargin_risk::stored_bounds::from_stored(m.marks[usize::from(series)].bounds[0][0][side])
            .to_bits())
    };
    // Side 1: long, side 0: short.
    units * (bound(call, 1) + bound(put, 0))
}

#[test]
fn marking_one_leg_of_a_conversion_marks_both_and_cannot_liquidate_it() {
    let Conversion { mut v, victim, attacker, call, put, others } = conversion();
    let before = health_no_marks(&mut v, &victim.portfolio);
    let requirement = fx(before.maintenance_requirement);
    let m = v.market(0);
    let addon = split_addon(&m, call, put);
    // Hedged: the requirement is the confidence charge only, far below what the legs would
    // pay apart — and far above the victim's headroom.
    assert!(fx(before.maintenance_health) > 0.0, "healthy: {before:?}");
    assert!(requirement < addon / 20.0, "netted requirement {requirement} vs split add-on {addon}");
    assert!(addon > 2.0 * fx(before.maintenance_health), "split add-on {addon} vs headroom {before:?}");

    for (leg, other_leg) in [(call, put), (put, call)] {
        // A minute later (the spot unchanged), the attacker marks one leg and liquidates it
        // in the same transaction.
        v.warp(60);
        let (now, _) = v.sb.now();
        let marked_before: Vec<i64> = others.iter().map(|&s| computed_at(&v.market(0), s)).collect();
        let marks = v.update_marks_ix(0, 1 << leg);
        let liquidate = v.liquidate_positions_ix(&attacker, &victim.portfolio, 0, leg, ATTACK_LOTS);
        let [a, b] = budget_ixs();
        let fail = v.sb.send(&[a, b, marks.clone(), liquidate], &[&attacker.owner]).unwrap_err();
        assert_error(&fail, XmarginError::NotLiquidatable);
        // Alone it lands: both legs re-marked at the same second, spot and vol, nothing else.
        let [a, b] = budget_ixs();
        let landed = ok(v.sb.send(&[a, b, marks], &[]));
        cu::record("update_marks", "one leg of a conversion (two series)", landed.compute_units, 125_000);
        let m = v.market(0);
        assert_eq!(computed_at(&m, leg), now);
        assert_eq!(computed_at(&m, other_leg), now, "the counterpart is marked with the leg");
        let (l, o) = (&m.marks[usize::from(leg)], &m.marks[usize::from(other_leg)]);
        assert_eq!(
            (l.spot, l.implied_vol_bps, l.max_price_shock_ppm),
            (o.spot, o.implied_vol_bps, o.max_price_shock_ppm)
        );
        let marked_after: Vec<i64> = others.iter().map(|&s| computed_at(&m, s)).collect();
        assert_eq!(marked_after, marked_before, "series of another strike or expiry are left alone");
        // The requirement is unchanged (a minute of time decay apart).
        let after = health_no_marks(&mut v, &victim.portfolio);
        let moved = (fx(after.maintenance_requirement) - requirement).abs();
        assert!(moved < addon / 1_000.0, "requirement {requirement} → {}", fx(after.maintenance_requirement));
        assert!(fx(after.maintenance_health) > 0.0, "{after:?}");
    }

    // What the fix prevents: the state a one-leg mark of the put used to leave (the call's
    // marks from a second earlier, otherwise identical) splits the pair, the requirement jumps
    // by the un-netted add-on and the short put is liquidated at its fresh marks.
    let (now, _) = v.sb.now();
    let marks = v.update_marks_ix(0, 1 << put);
    let [a, b] = budget_ixs();
    ok(v.sb.send(&[a, b, marks], &[]));
    let market = v.underlyings[0].market;
    v.sb.patch_zero_copy::<Market>(&market, |m| m.marks[usize::from(call)].computed_at = now - 1);
    let split = health_no_marks(&mut v, &victim.portfolio);
    assert!(fx(split.maintenance_requirement) > requirement + addon / 2.0, "split: {split:?}");
    assert!(fx(split.maintenance_health) < 0.0, "split: {split:?}");
    let liquidate = v.liquidate_positions_ix(&attacker, &victim.portfolio, 0, put, ATTACK_LOTS);
    let [a, b] = budget_ixs();
    ok(v.sb.send(&[a, b, liquidate], &[&attacker.owner]));
    assert_eq!(
        v.portfolio(&victim)
            .positions
            .iter()
            .find(|p| p.active == 1 && !p.is_perp() && p.series == put)
            .map(|p| p.size),
        Some(-LOTS + ATTACK_LOTS as i64)
    );
}

/// Sixteen 150/160/… strikes, listed all calls first then all puts (call i and put i are
/// series i and 16 + i): index-order batches of 16 would split every pair.
fn listed_pairs() -> Vec<OptionSeries> {
    let kinds = [instrument_kind::CALL, instrument_kind::PUT];
    kinds
        .iter()
        .flat_map(|&kind| {
            (0..16u64).map(move |i| OptionSeries {
                strike: SOL as u64 + i * 1_000 * TICK,
                expiry: 1_800_000_000,
                kind,
                ..OptionSeries::default()
            })
        })
        .collect()
}

#[test]
fn keeper_batches_keep_pairs_together_within_the_limit() {
    let listed = listed_pairs();
    // The program's extension: each series gains exactly its pair.
    for i in 0..32usize {
        let pair = (i + 16) % 32;
        assert_eq!(with_counterparts(&listed, 1 << i), (1 << i) | (1 << pair));
    }
    // Batches cover every series once, at most `MARKS_PER_TX` each, closed under counterparts.
    for per_tx in [1usize, 2, 3, MARKS_PER_TX] {
        let batches = marks_batches(&listed, per_tx);
        let mut covered = 0u32;
        for &mask in &batches {
            assert_eq!(with_counterparts(&listed, mask), mask, "a pair split across batches ({per_tx})");
            // A pair is never cut (a batch of one still takes it whole).
            assert!(mask.count_ones() as usize <= per_tx.max(2), "{mask:#b} over {per_tx}");
            assert_eq!(covered & mask, 0);
            covered |= mask;
        }
        assert_eq!(covered, u32::MAX);
    }
    assert_eq!(marks_batches(&listed, MARKS_PER_TX).len(), 2);
    assert!(marks_batches(&[], MARKS_PER_TX).is_empty());
}

#[test]
fn the_keeper_marks_thirty_two_series_as_sixteen_pairs() {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let expiry = v.expiry_in_days(30);
    for kind in [instrument_kind::CALL, instrument_kind::PUT] {
        for i in 0..16u64 {
            ok(v.list_series(0, kind, SOL as u64 + i * 10 * TICK, expiry));
        }
    }
    let units = ok(v.mark(0));
    assert_eq!(units.len(), 2, "two transactions of eight pairs");
    for u in units {
        cu::record("update_marks", "sixteen series (eight call/put pairs)", u, 16 * MARKS_CEILING_PER_SERIES);
    }
    let m = v.market(0);
    let (now, _) = v.sb.now();
    assert!((0..32).all(|i| m.marks[i].computed_at == now));
}
