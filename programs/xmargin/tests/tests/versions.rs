//! Account versions on the compiled .so: an account whose layout version is not the one the
//! program reads is refused with `AccountVersionMismatch` — as an instruction's own account
//! and as a health computation's remaining account — the log names the type and both
//! versions, nothing is written, and the same call succeeds once the version is back
//! (what a `migrate_*` instruction would do; `state::versioned`).
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::state::{
    Exchange, HaircutRegistry, Market, Portfolio, EXCHANGE_VERSION, MARKET_VERSION, PORTFOLIO_VERSION,
    REGISTRY_VERSION,
};
use xmargin_sandbox::venue::Venue;
use xmargin_sandbox::{pda, program_error_code, Pubkey, TxFailure};

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
