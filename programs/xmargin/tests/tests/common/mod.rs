//! Helpers shared by the adversarial suites (`mod common;` in each): assertions on errors and
//! on untouched accounts, and the quote and funding readings they compare.
// Each test binary compiles this module and uses a subset of it.
#![allow(dead_code)]

use xmargin::error::XmarginError;
use xmargin::events::FundingUpdated;
use xmargin::state::Portfolio;
use xmargin_risk::fx::Fx;
use xmargin_risk::trading::pending_funding;
use xmargin_sandbox::venue::{Trader, Venue};
use xmargin_sandbox::{events, program_error_code, Pubkey, TxFailure};

/// The failure carries `expected`'s code.
pub fn assert_error(failure: &TxFailure, expected: XmarginError) {
    assert_eq!(
        failure.custom_code(),
        Some(program_error_code(expected)),
        "expected {expected:?}, got {failure}"
    );
}

/// Raw bytes of accounts a rejected instruction must leave untouched.
pub fn snapshot(v: &Venue, keys: &[Pubkey]) -> Vec<Vec<u8>> {
    keys.iter().map(|k| v.sb.svm.get_account(k).map(|a| a.data).unwrap_or_default()).collect()
}

/// The portfolio's stored quote balance, quote native units.
pub fn quote(p: &Portfolio) -> i64 {
    p.balances.iter().find(|b| b.active == 1 && b.collateral == 0).map_or(0, |b| b.amount)
}

/// The funding the trader's perp position (underlying 0, 2 lot decimals, 6-decimal quote)
/// owes now (negative: pays), quote native units, exactly as the program computes it.
pub fn pending(v: &Venue, t: &Trader) -> i64 {
    let p: Portfolio = v.portfolio(t);
    let slot = p.positions.iter().find(|s| s.active == 1 && s.is_perp()).expect("a perp position");
    let index = v.market(0).funding_index_at(v.sb.now().0).unwrap();
    let size = Fx::from_num(slot.size) / 100;
    pending_funding(size, index, slot.funding_snapshot(), 6).unwrap()
}

/// Moves the clock to the next funding update of underlying 0 (if not due yet), sends it and
/// returns its event.
pub fn update_funding(v: &mut Venue) -> FundingUpdated {
    let due = v.market(0).last_funding_time + i64::from(v.market(0).funding_interval_secs) - v.sb.now().0;
    if due > 0 {
        v.warp(due);
    }
    let ix = v.update_funding_ix(0);
    let landed = v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("update_funding: {f}"));
    let mut e = events::<FundingUpdated>(&landed.logs);
    assert_eq!(e.len(), 1, "one FundingUpdated event");
    e.remove(0)
}
