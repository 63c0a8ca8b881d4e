//! Account versions on the compiled .so: an account whose layout version is not the one the
//! program reads is refused with `AccountVersionMismatch` — as an instruction's own account
//! and as a health computation's remaining account — the log names the type and both
//! versions, nothing is written, and the same call succeeds once the version is back
//! (`state::versioned`); and `migrate_market` converts a version-3 market in place.
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::events::MarketMigrated;
use xmargin::state::{instrument_kind, market_v3};
use xmargin::state::{
    Exchange, HaircutRegistry, Market, Portfolio, EXCHANGE_VERSION, MARKET_VERSION, PORTFOLIO_VERSION,
    REGISTRY_VERSION,
};
use xmargin_sandbox::venue::Venue;
use xmargin_sandbox::{cu, events, pda, program_error_code, Pubkey, TxFailure};

const SOL: i64 = 150_000_000;
const RICH: u64 = 10_000_000_000;

fn assert_version_refused(failure: &TxFailure, log: &str) {
    assert_eq!(
        failure.custom_code(),
        Some(program_error_code(XmarginError::AccountVersionMismatch)),
        "expected AccountVersionMismatch, got {failure}"
    );
    assert!(failure.logs.iter().any(|l| l.contains(log)), "log {log:?} missing: {failure}");
}

fn data(v: &Venue, key: &Pubkey) -> Vec<u8> {
    v.sb.svm.get_account(key).expect("account").data
}

#[test]
fn an_exchange_of_another_version_is_refused_until_migrated() {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let exchange = pda::exchange();
    v.sb.patch_zero_copy::<Exchange>(&exchange, |e| e.version = EXCHANGE_VERSION + 1);
    let before = data(&v, &exchange);
    let governance = v.fx.governance.insecure_clone();
    let ix = v.sb.set_pause_ix(v.fx.governance.pubkey(), 1);
    let failure =
        v.sb.send(std::slice::from_ref(&ix), &[&governance]).expect_err("a newer exchange is refused");
    let expected =
        format!("Exchange account version {} found, {} expected", EXCHANGE_VERSION + 1, EXCHANGE_VERSION);
    assert_version_refused(&failure, &expected);
    assert_eq!(data(&v, &exchange), before, "nothing written");

    v.sb.patch_zero_copy::<Exchange>(&exchange, |e| e.version = EXCHANGE_VERSION);
    v.sb.send(&[ix], &[&governance]).unwrap_or_else(|f| panic!("at the current version: {f}"));
}

#[test]
fn an_old_portfolio_registry_or_market_is_refused() {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let a = v.trader(RICH).unwrap_or_else(|f| panic!("{f}"));
    let b = v.trader(RICH).unwrap_or_else(|f| panic!("{f}"));
    let price = v.tick_price(SOL as u64);
    v.trade(&a, &b, 0, xmargin::state::PERP_INSTRUMENT, 100, price).unwrap_or_else(|f| panic!("{f}"));

    // The instruction's own account: a deposit into a portfolio written by an older layout.
    v.sb.patch_zero_copy::<Portfolio>(&a.portfolio, |p| p.version = PORTFOLIO_VERSION - 1);
    let before = data(&v, &a.portfolio);
    let failure = v.deposit(&a, 1_000_000).expect_err("an old portfolio is refused");
    let expected =
        format!("Portfolio account version {} found, {}", PORTFOLIO_VERSION - 1, PORTFOLIO_VERSION);
    assert_version_refused(&failure, &expected);
    assert_eq!(data(&v, &a.portfolio), before, "nothing written");
    v.sb.patch_zero_copy::<Portfolio>(&a.portfolio, |p| p.version = PORTFOLIO_VERSION);
    v.deposit(&a, 1_000_000).unwrap_or_else(|f| panic!("at the current version: {f}"));

    // The registry every health computation reads.
    let registry = pda::registry(&pda::exchange());
    v.sb.patch_zero_copy::<HaircutRegistry>(&registry, |r| r.version = REGISTRY_VERSION - 1);
    let failure = v.health(&a.portfolio).expect_err("an old registry is refused");
    assert_version_refused(&failure, "HaircutRegistry account version");
    v.sb.patch_zero_copy::<HaircutRegistry>(&registry, |r| r.version = REGISTRY_VERSION);

    // A market read as a remaining account of a health computation (the perp's).
    let market = pda::market(&pda::exchange(), 0);
    v.sb.patch_zero_copy::<Market>(&market, |m| m.version = MARKET_VERSION - 1);
    let failure = v.health(&a.portfolio).expect_err("an old market among the health accounts is refused");
    let expected = format!("Market account version {} found, {}", MARKET_VERSION - 1, MARKET_VERSION);
    assert_version_refused(&failure, &expected);
    v.sb.patch_zero_copy::<Market>(&market, |m| m.version = MARKET_VERSION);
    v.health(&a.portfolio).unwrap_or_else(|f| panic!("at the current versions: {f}"));
}

/// `migrate_market` copies 10 KiB and converts 256 bounds.
const MIGRATE_CEILING: u64 = 60_000;

/// The version-3 image of a version-4 market: the same header and series; each series' marks
/// head, then its eight bounds as 16-byte `Fx` bits, `low` below what version 4 stored (so the
/// migration must round them back up); `fees_accrued` and `positive_quote_delta` after the
/// 264-byte marks; 48 reserved bytes.
fn as_version_3(v4: &[u8], low: i128, huge_series: usize) -> Vec<u8> {
    let v4_marks = std::mem::size_of::<xmargin::state::SeriesMarksState>();
    let mut out = v4[..market_v3::MARKS].to_vec();
    out[8] = 3;
    for i in 0..xmargin::state::MAX_SERIES {
        let marks = &v4[market_v3::MARKS + i * v4_marks..][..v4_marks];
        out.extend_from_slice(&marks[..market_v3::MARKS_HEAD]);
        for k in 0..8 {
            let stored = u64::from_le_bytes(marks[market_v3::MARKS_HEAD + 8 * k..][..8].try_into().unwrap());
            let mut bits = if stored == 0 { 0 } else { (i128::from(stored) << 24) - low };
            if i == huge_series {
                bits = 1i128 << 100;
            }
            out.extend_from_slice(&bits.to_le_bytes());
        }
    }
    let fees_at = 8 + std::mem::offset_of!(Market, fees_accrued);
    out.extend_from_slice(&v4[fees_at..fees_at + 16]);
    out.extend_from_slice(&[0u8; 48]);
    assert_eq!(out.len(), Market::SPACE);
    out
}

#[test]
fn a_version_3_market_is_migrated_in_place_by_governance_only() {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let a = v.trader(RICH).unwrap_or_else(|f| panic!("{f}"));
    let b = v.trader(RICH).unwrap_or_else(|f| panic!("{f}"));
    let expiry = v.expiry_in_days(30);
    let call = v.list_series(0, instrument_kind::CALL, 160_000_000, expiry).unwrap_or_else(|f| panic!("{f}"));
    let put = v.list_series(0, instrument_kind::PUT, 140_000_000, expiry).unwrap_or_else(|f| panic!("{f}"));
    v.mark_all();
    let premium = v.tick_price(5_000_000);
    v.trade(&a, &b, 0, call, 100, premium).unwrap_or_else(|f| panic!("{f}"));
    let price = v.tick_price(SOL as u64);
    v.trade(&a, &b, 0, xmargin::state::PERP_INSTRUMENT, 100, price).unwrap_or_else(|f| panic!("{f}"));
    let market = pda::market(&pda::exchange(), 0);
    let current = data(&v, &market);
    let before = v.market(0);
    assert!(
        before.fees_accrued > 0 && before.positive_quote_delta != 0,
        "fees and the quote share to carry over"
    );
    assert!(before.marks[usize::from(call)].bounds[0][0][0] > 0);

    // The market as version 3 wrote it, its estimator still in the registry (a last
    // observation at t = 12,345 marks it as the registry's): refused by every other
    // instruction.
    let vol_at = 8 + std::mem::offset_of!(Market, volatility);
    let mut estimator: [u8; 72] = current[vol_at..vol_at + 72].try_into().unwrap();
    assert_ne!(estimator, [0; 72], "started at the implied vol when the market was created");
    estimator[..8].copy_from_slice(&12_345i64.to_le_bytes());
    let registry = pda::registry(&pda::exchange());
    v.sb.patch_zero_copy::<HaircutRegistry>(&registry, |r| r.underlyings[0].retired_estimator = estimator);
    let mut account = v.sb.svm.get_account(&market).expect("market");
    account.data = as_version_3(&current, 12_345, usize::from(put));
    v.sb.svm.set_account(market, account).expect("write");
    let old = data(&v, &market);
    let failure = v.health_as_is(&a.portfolio).expect_err("a version-3 market is refused");
    assert_version_refused(&failure, &format!("Market account version 3 found, {MARKET_VERSION} expected"));

    // Only governance migrates; a refusal writes nothing.
    let stranger = v.sb.funded_keypair();
    let ix = v.sb.migrate_market_ix(stranger.pubkey(), 0);
    let failure = v.sb.send(&[ix], &[&stranger]).expect_err("not governance");
    assert_eq!(failure.custom_code(), Some(program_error_code(XmarginError::NotGovernance)), "{failure}");
    assert_eq!(data(&v, &market), old);

    let governance = v.fx.governance.insecure_clone();
    let ix = v.sb.migrate_market_ix(governance.pubkey(), 0);
    let done = v.sb.send(std::slice::from_ref(&ix), &[&governance]).unwrap_or_else(|f| panic!("{f}"));
    cu::record("migrate_market", "version 3 -> 4, 32 series", done.compute_units, MIGRATE_CEILING);
    let event = events::<MarketMigrated>(&done.logs).remove(0);
    assert_eq!(
        (event.market, event.underlying, event.old_version, event.new_version, event.cleared_series_mask),
        (market, 0, 3, MARKET_VERSION, 1 << put)
    );
    // Bounds rounded back up to exactly what version 4 computed; fees and the quote share
    // carried over; the estimator taken from the registry; the series whose bound was out of
    // range is unmarked; the rest unchanged.
    let after = v.market(0);
    // The converted series records no initial scale: it must be re-marked.
    let mut converted = before.marks[usize::from(call)];
    converted.initial_scale_bps = 0;
    assert_eq!(after.marks[usize::from(call)], converted);
    assert_eq!(after.marks[usize::from(put)], Default::default());
    assert_eq!(
        (after.fees_accrued, after.positive_quote_delta),
        (before.fees_accrued, before.positive_quote_delta)
    );
    let v4_marks = std::mem::size_of::<xmargin::state::SeriesMarksState>();
    assert_eq!(after.volatility.last_time, 12_345);
    let mut expected = current.clone();
    expected[market_v3::MARKS + usize::from(put) * v4_marks..][..v4_marks].fill(0);
    let call_scale = market_v3::MARKS
        + usize::from(call) * v4_marks
        + std::mem::offset_of!(xmargin::state::SeriesMarksState, initial_scale_bps);
    expected[call_scale..call_scale + 2].fill(0);
    expected[vol_at..vol_at + 72].copy_from_slice(&estimator);
    assert!(data(&v, &market) == expected, "every other byte as before");
    // The call's book is refused until the series is re-marked; migrating again is refused.
    let failure = v.health_as_is(&a.portfolio).expect_err("a migrated series is re-marked first");
    assert_eq!(
        failure.custom_code(),
        Some(program_error_code(XmarginError::MarksParamsChanged)),
        "{failure}"
    );
    v.mark_all();
    v.health_as_is(&a.portfolio).unwrap_or_else(|f| panic!("re-marked after the migration: {f}"));
    let migrated = data(&v, &market);
    let failure = v.sb.send(&[ix], &[&governance]).expect_err("already version 4");
    assert_eq!(
        failure.custom_code(),
        Some(program_error_code(XmarginError::MarketNotMigratable)),
        "{failure}"
    );
    assert!(failure.logs.iter().any(|l| l.contains("version 4 (migrates version 3 only)")), "{failure}");
    assert_eq!(data(&v, &market), migrated);
}
