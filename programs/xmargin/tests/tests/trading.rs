//! Trading on the compiled .so: bilateral fills, fees, every rejection (each its own error,
//! nothing changed), funding direction and magnitude, expiry settlement, and the
//! capital-efficiency claim end to end (a hedged book accepted where isolated is rejected).
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::state::{instrument_kind, pause, Portfolio, PERP_INSTRUMENT};
use xmargin_sandbox::ix::fx_bits_to_f64;
use xmargin_sandbox::venue::{compute_limit_ix, Trader, Venue, PRICE_EXPO, TICK};
use xmargin_sandbox::{cu, program_error_code, Pubkey, TxFailure};

/// SOL at $150.
const SOL: i64 = 150_000_000;
/// 10,000 USDC.
const RICH: u64 = 10_000_000_000;
const TRADE_CEILING: u64 = 200_000;

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

fn size_of(p: &Portfolio, underlying: u16, series: u8) -> i64 {
    p.positions
        .iter()
        .find(|s| s.active == 1 && s.underlying == underlying && s.series == series)
        .map_or(0, |s| s.size)
}

/// Raw bytes of the accounts a rejected trade must leave untouched.
fn snapshot(v: &Venue, keys: &[Pubkey]) -> Vec<Vec<u8>> {
    keys.iter().map(|k| v.sb.svm.get_account(k).map(|a| a.data).unwrap_or_default()).collect()
}

fn two_traders() -> (Venue, Trader, Trader) {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let a = v.trader(RICH).unwrap();
    let b = v.trader(RICH).unwrap();
    (v, a, b)
}

#[test]
fn perp_fill_opens_offsetting_positions_and_pays_fees() {
    let (mut v, a, b) = two_traders();
    let price = v.tick_price(SOL as u64);
    let landed = v.trade(&a, &b, 0, PERP_INSTRUMENT, 100, price).unwrap_or_else(|f| panic!("{f}"));
    cu::record("trade", "perp, two empty portfolios", landed.compute_units, TRADE_CEILING);
    let (pa, pb) = (v.portfolio(&a), v.portfolio(&b));
    assert_eq!((size_of(&pa, 0, PERP_INSTRUMENT), size_of(&pb, 0, PERP_INSTRUMENT)), (100, -100));
    let slot = pa.positions.iter().find(|s| s.active == 1).unwrap();
    assert_eq!(slot.quote_basis, -150_000_000, "bought 1 SOL at 150");
    // Fees: 5 bps (taker) and 2 bps (maker) of 150 USDC.
    assert_eq!(RICH as i64 - quote_balance(&pa), 75_000);
    assert_eq!(RICH as i64 - quote_balance(&pb), 30_000);
    // They accrue in the market; `sweep_fees` moves them to the insurance vault.
    assert_eq!(v.market(0).fees_accrued, 105_000);
    // The vault block (`QuoteVaults`: quote vault, insurance vault, mint, token program, in
    // that order after the quote ledger) is checked against the exchange: another token
    // account of the quote mint in either vault's place is refused with its own error.
    let mut wrong_quote_vault = v.sweep_fees_ix(0);
    wrong_quote_vault.accounts[4].pubkey = a.quote_account;
    assert_error(&v.sb.send(&[wrong_quote_vault], &[]).unwrap_err(), XmarginError::VaultMismatch);
    let mut wrong_insurance = v.sweep_fees_ix(0);
    wrong_insurance.accounts[5].pubkey = a.quote_account;
    assert_error(&v.sb.send(&[wrong_insurance], &[]).unwrap_err(), XmarginError::InsuranceVaultMismatch);
    assert_eq!(v.vault_balances(), (2 * RICH, 0));
    let landed = v.sb.send(&[v.sweep_fees_ix(0)], &[]).unwrap_or_else(|f| panic!("{f}"));
    cu::record("sweep_fees", "one market", landed.compute_units, 30_000);
    let (vault, insurance) = v.vault_balances();
    assert_eq!(insurance, 105_000);
    assert_eq!(vault, 2 * RICH - 105_000);
    assert_eq!(v.market(0).fees_accrued, 0);
    // Nothing left: refused, nothing written.
    let f = v.sb.send(&[v.sweep_fees_ix(0)], &[]).unwrap_err();
    assert_error(&f, XmarginError::NothingToSweep);
    assert_eq!(v.vault_balances(), (2 * RICH - 105_000, 105_000));
    assert_eq!(v.market(0).perp_open_interest, 100);
    // Closing at a higher price realizes the PnL into the quote balance; the slot is freed.
    v.set_price(0, 160_000_000);
    v.trade(&a, &b, 0, PERP_INSTRUMENT, -100, 160_000_000).unwrap_or_else(|f| panic!("{f}"));
    let (pa, pb) = (v.portfolio(&a), v.portfolio(&b));
    assert!(pa.positions.iter().all(|s| s.active == 0) && pb.positions.iter().all(|s| s.active == 0));
    let fee_a = 75_000 + 80_000; // 5 bps of 150 then of 160
    let fee_b = 30_000 + 32_000;
    assert_eq!(quote_balance(&pa), RICH as i64 + 10_000_000 - fee_a);
    assert_eq!(quote_balance(&pb), RICH as i64 - 10_000_000 - fee_b);
    assert_eq!(v.market(0).perp_open_interest, 0);
}

#[test]
fn rejections_have_their_own_error_and_change_nothing() {
    let (mut v, a, b) = two_traders();
    let expiry = v.expiry_in_days(1);
    let call = v.list_series(0, instrument_kind::CALL, 150_000_000, expiry).unwrap();
    let price = v.tick_price(SOL as u64);
    v.trade(&a, &b, 0, PERP_INSTRUMENT, 10, price).unwrap_or_else(|f| panic!("{f}"));
    let watched = [a.portfolio, b.portfolio, v.underlyings[0].market];
    let before = snapshot(&v, &watched);
    let check = |v: &Venue, what: &str| assert_eq!(snapshot(v, &watched), before, "{what} changed state");

    // Price outside the 5% band (perp) and off the model band (option).
    let far = v.tick_price(SOL as u64 * 106 / 100);
    let f = v.trade(&a, &b, 0, PERP_INSTRUMENT, 10, far).unwrap_err();
    assert_error(&f, XmarginError::PriceOutsideBand);
    let model = v.model_price(0, call);
    let f = v.trade(&a, &b, 0, call, 10, model + 5_000_000).unwrap_err();
    assert_error(&f, XmarginError::PriceOutsideBand);
    check(&v, "band");
    // Off-tick price, zero size, unknown series.
    assert_error(
        &v.trade(&a, &b, 0, PERP_INSTRUMENT, 10, price + 1).unwrap_err(),
        XmarginError::PriceNotOnTick,
    );
    assert_error(&v.trade(&a, &b, 0, PERP_INSTRUMENT, 0, price).unwrap_err(), XmarginError::InvalidTradeSize);
    assert_error(&v.trade(&a, &b, 0, 7, 10, price).unwrap_err(), XmarginError::UnknownInstrument);
    // Same portfolio on both sides.
    assert_error(&v.trade(&a, &a, 0, PERP_INSTRUMENT, 10, price).unwrap_err(), XmarginError::SamePortfolio);
    // The delegate of another portfolio.
    let stranger = v.sb.funded_keypair();
    let ix = v.sb.set_delegate_ix(a.owner.pubkey(), a.portfolio, stranger.pubkey());
    v.sb.send(&[ix], &[&a.owner]).unwrap();
    let before_b = snapshot(&v, &[b.portfolio]);
    let ix = v.trade_ix_signed(&b, &a, &stranger.pubkey(), &a.owner.pubkey(), 0, PERP_INSTRUMENT, 10, price);
    let f = v.sb.send(&[ix], &[&stranger, &a.owner]).unwrap_err();
    assert_error(&f, XmarginError::NotPortfolioTrader);
    assert_eq!(snapshot(&v, &[b.portfolio]), before_b);
    // ... while a's own delegate may trade for it.
    let ix = v.trade_ix_signed(&a, &b, &stranger.pubkey(), &b.owner.pubkey(), 0, PERP_INSTRUMENT, 1, price);
    v.sb.send(&[ix], &[&stranger, &b.owner]).unwrap_or_else(|f| panic!("delegate trade: {f}"));
    let watched_now = snapshot(&v, &watched);
    // One signer missing: the maker's signature is absent.
    let mut ix = v.trade_ix(&a, &b, 0, PERP_INSTRUMENT, 10, price);
    ix.accounts[1].is_signer = false;
    let f = v.sb.send(&[ix], &[&a.owner]).unwrap_err();
    assert_eq!(f.custom_code(), Some(anchor_lang::error::ErrorCode::AccountNotSigner as u32), "{f}");
    // Open-interest cap.
    let cap = v.market(0).perp_open_interest + 5;
    v.sb.patch_zero_copy::<xmargin::state::Market>(&v.underlyings[0].market.clone(), |m| m.perp_oi_cap = cap);
    let capped = snapshot(&v, &watched);
    assert_error(
        &v.trade(&a, &b, 0, PERP_INSTRUMENT, 10, price).unwrap_err(),
        XmarginError::OpenInterestCapExceeded,
    );
    assert_eq!(snapshot(&v, &watched), capped);
    // Reducing open interest is still allowed above the cap.
    v.trade(&a, &b, 0, PERP_INSTRUMENT, -3, price).unwrap_or_else(|f| panic!("reducing: {f}"));
    // Paused trading.
    let after_reduce = snapshot(&v, &watched);
    let guardian = v.fx.guardian.insecure_clone();
    let ix = v.sb.set_pause_ix(guardian.pubkey(), pause::TRADING);
    v.sb.send(&[ix], &[&guardian]).unwrap();
    assert_error(&v.trade(&a, &b, 0, PERP_INSTRUMENT, 1, price).unwrap_err(), XmarginError::TradingPaused);
    let governance = v.fx.governance.insecure_clone();
    let ix = v.sb.set_pause_ix(governance.pubkey(), 0);
    v.sb.send(&[ix], &[&governance]).unwrap();
    // Stale oracle: 61 s without a new price.
    v.sb.warp(61);
    assert_error(&v.trade(&a, &b, 0, PERP_INSTRUMENT, 1, price).unwrap_err(), XmarginError::OracleStale);
    assert_eq!(snapshot(&v, &watched), after_reduce);
    // Expired option.
    v.warp(expiry - v.sb.now().0);
    let f = v.trade(&a, &b, 0, call, 10, 1_000_000).unwrap_err();
    assert_error(&f, XmarginError::OptionExpired);
    drop(watched_now);
}

#[test]
fn insufficient_margin_is_rejected_but_risk_reduction_is_always_allowed() {
    let (mut v, _, b) = two_traders();
    // 20 USDC cannot carry 1 SOL of perp (15% grid × 150 × 1.5 initial ≈ 34 USDC).
    let poor = v.trader(20_000_000).unwrap();
    let price = v.tick_price(SOL as u64);
    let f = v.trade(&poor, &b, 0, PERP_INSTRUMENT, 100, price).unwrap_err();
    assert_error(&f, XmarginError::TakerInsufficientHealth);
    let f = v.trade(&b, &poor, 0, PERP_INSTRUMENT, -100, price).unwrap_err();
    assert_error(&f, XmarginError::MakerInsufficientHealth);
    // 0.3 SOL fits; then the price falls until initial health is negative.
    v.trade(&poor, &b, 0, PERP_INSTRUMENT, 30, price).unwrap_or_else(|f| panic!("{f}"));
    v.set_price(0, 100_000_000);
    let (h, _) = v.health(&poor.portfolio).unwrap();
    assert!(fx_bits_to_f64(h.initial_health) < 0.0, "underwater: {}", fx_bits_to_f64(h.initial_health));
    // Adding risk is refused; reducing it goes through although health stays negative.
    let price = v.tick_price(100_000_000);
    assert_error(
        &v.trade(&poor, &b, 0, PERP_INSTRUMENT, 1, price).unwrap_err(),
        XmarginError::TakerInsufficientHealth,
    );
    v.trade(&poor, &b, 0, PERP_INSTRUMENT, -10, price).unwrap_or_else(|f| panic!("reduction refused: {f}"));
    assert_eq!(size_of(&v.portfolio(&poor), 0, PERP_INSTRUMENT), 20);
    // Withdrawals see the positions: 0.2 SOL long at $100 leaves ~0.25 USDC of initial
    // health, so 1 USDC cannot leave, 0.2 USDC can.
    let (h, _) = v.health(&poor.portfolio).unwrap();
    let free = fx_bits_to_f64(h.initial_health);
    assert!(free > 0.2 && free < 1.0, "free collateral {free}");
    assert_error(&v.withdraw(&poor, 1_000_000).unwrap_err(), XmarginError::InsufficientHealth);
    let landed = v.withdraw(&poor, 200_000).unwrap_or_else(|f| panic!("{f}"));
    cu::record("withdraw", "quote, one perp position", landed.compute_units, 80_000);
}

#[test]
fn funding_moves_from_longs_to_shorts_when_perps_trade_rich() {
    let (mut v, a, b) = two_traders();
    // Fills 1% above the oracle all period: premium capped at 0.07% per hour.
    let rich = v.tick_price(SOL as u64 * 101 / 100);
    v.trade(&a, &b, 0, PERP_INSTRUMENT, 100, rich).unwrap_or_else(|f| panic!("{f}"));
    let early = v.update_funding_ix(0);
    assert_error(&v.sb.send(&[early], &[]).unwrap_err(), XmarginError::FundingTooSoon);
    let created = v.market(0).last_funding_time;
    v.warp(created + 3_600 - v.sb.now().0);
    let ix = v.update_funding_ix(0);
    let landed = v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("{f}"));
    cu::record("update_funding", "one interval", landed.compute_units, 40_000);
    // The rate applies from now on: nothing accrued yet, 0.07% per hour from here.
    let m = v.market(0);
    assert_eq!(m.funding_index_at(m.last_funding_time).unwrap().to_bits(), 0, "no slope before");
    let rate = fx_bits_to_f64(m.last_funding_rate.get().to_bits());
    assert!((rate - 0.0007).abs() < 1e-12, "rate {rate}");
    v.warp(3_600);
    let index = v.market(0).funding_index_at(v.sb.now().0).unwrap();
    // 0.07% × 150 USDC per SOL.
    assert!((index.to_num::<f64>() - 0.105).abs() < 1e-9, "index {index}");
    // Touching both positions settles 0.105 USDC: longs pay, shorts receive.
    let (qa, qb) = (quote_balance(&v.portfolio(&a)), quote_balance(&v.portfolio(&b)));
    let price = v.tick_price(SOL as u64);
    v.trade(&a, &b, 0, PERP_INSTRUMENT, 100, price).unwrap_or_else(|f| panic!("{f}"));
    let fee_a = xmargin_risk::trading::fee(100, SOL as u64, price, 100, 5, None).unwrap() as i64;
    let fee_b = xmargin_risk::trading::fee(100, SOL as u64, price, 100, 2, None).unwrap() as i64;
    let (pa, pb) = (v.portfolio(&a), v.portfolio(&b));
    assert_eq!(quote_balance(&pa) - qa, -105_000 - fee_a, "long paid 0.105 USDC (+ fee)");
    // Rounded toward the venue: the short may receive one native unit less.
    let received = quote_balance(&pb) - qb + fee_b;
    assert!((104_999..=105_000).contains(&received), "short received 0.105 USDC: {received}");
    // That period's only fill was at the oracle: zero premium from the next update on.
    let ix = v.update_funding_ix(0);
    v.sb.send(&[ix], &[]).unwrap();
    let index = v.market(0).funding_index_at(v.sb.now().0).unwrap();
    v.warp(3_600);
    let drift = (v.market(0).funding_index_at(v.sb.now().0).unwrap() - index).to_num::<f64>();
    assert!(drift.abs() < 1e-9, "at-oracle fills carry no funding: {drift}");
}

#[test]
fn expiry_settlement_is_zero_sum_itm_otm_atm() {
    let (mut v, a, b) = two_traders();
    let expiry = v.expiry_in_days(1);
    let call = v.list_series(0, instrument_kind::CALL, 150_000_000, expiry).unwrap();
    let put = v.list_series(0, instrument_kind::PUT, 150_000_000, expiry).unwrap();
    let atm = v.list_series(0, instrument_kind::CALL, 160_000_000, expiry).unwrap();
    for series in [call, put, atm] {
        let price = v.model_price(0, series).max(TICK);
        let landed =
            v.trade(&a, &b, 0, series, 100, price).unwrap_or_else(|f| panic!("series {series}: {f}"));
        if series == call {
            cu::record("trade", "option, one position each", landed.compute_units, TRADE_CEILING);
        }
    }
    let f = v.sb.send(&[v.record_settlement_ix(0, call)], &[]).unwrap_err();
    assert_error(&f, XmarginError::NotExpired);
    // Expiry at 160: the 150 call pays 10 per SOL, the put and the 160 call nothing.
    v.warp(expiry - v.sb.now().0 + 10);
    v.set_price(0, 160_004_000);
    // The feed's first update at or after expiry (the previous one was before it).
    let (u, mut q) = (&v.underlyings[0], v.sb.quote(160_004_000, 16_000, PRICE_EXPO));
    let (oracle, feed) = (u.oracle, u.feed);
    q.publish_time = expiry;
    v.sb.put_pull_oracle_update(oracle, feed, &q, 160_004_000, expiry - 1);
    let landed = v.sb.send(&[v.record_settlement_ix(0, put)], &[]).unwrap_or_else(|f| panic!("{f}"));
    cu::record("record_settlement_price", "three series", landed.compute_units, 40_000);
    let m = v.market(0);
    assert!(m.listed_series().iter().all(|s| s.settlement_price == 160_000_000), "rounded to the tick");
    let f = v.sb.send(&[v.record_settlement_ix(0, call)], &[]).unwrap_err();
    assert_error(&f, XmarginError::SettlementAlreadyRecorded);
    let (qa, qb) = (quote_balance(&v.portfolio(&a)), quote_balance(&v.portfolio(&b)));
    for t in [&a, &b] {
        let ix = v.settle_expired_ix(&t.portfolio, 0);
        let landed = v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("{f}"));
        cu::record("settle_expired", "three options", landed.compute_units, 60_000);
    }
    let (pa, pb) = (v.portfolio(&a), v.portfolio(&b));
    assert_eq!(quote_balance(&pa) - qa, 10_000_000, "long call ITM");
    assert_eq!(quote_balance(&pb) - qb, -10_000_000, "short call pays exactly what the long gets");
    assert!(pa.positions.iter().chain(&pb.positions).all(|s| s.active == 0), "slots freed");
    assert!(v.market(0).listed_series().iter().all(|s| s.open_interest == 0));
    let f = v.sb.send(&[v.settle_expired_ix(&a.portfolio, 0)], &[]).unwrap_err();
    assert_error(&f, XmarginError::NothingToSettle);
}

#[test]
fn settlement_window_closes() {
    let (mut v, a, b) = two_traders();
    let expiry = v.expiry_in_days(1);
    let call = v.list_series(0, instrument_kind::CALL, 150_000_000, expiry).unwrap();
    let price = v.model_price(0, call);
    v.trade(&a, &b, 0, call, 100, price).unwrap_or_else(|f| panic!("{f}"));
    v.warp(expiry - v.sb.now().0 + 3_601);
    let f = v.sb.send(&[v.record_settlement_ix(0, call)], &[]).unwrap_err();
    assert_error(&f, XmarginError::SettlementWindowClosed);
}

/// The capital-efficiency claim on-chain: a covered call (long perp + short call) fits a
/// collateral amount that cannot carry the same two positions in separate portfolios.
#[test]
fn hedged_book_accepted_where_isolated_is_rejected() {
    let (mut v, m1, m2) = two_traders();
    let expiry = v.expiry_in_days(30);
    let call = v.list_series(0, instrument_kind::CALL, 150_000_000, expiry).unwrap();
    let perp_price = v.tick_price(SOL as u64);
    let call_price = v.model_price(0, call);
    // Requirements of each leg alone and of both together, from the program itself.
    let leg = |v: &mut Venue, maker: &Trader, instrument: u8, size: i64, price: u64| {
        let t = v.trader(RICH).unwrap();
        v.trade(&t, maker, 0, instrument, size, price).unwrap_or_else(|f| panic!("{f}"));
        t
    };
    let perp_only = leg(&mut v, &m1, PERP_INSTRUMENT, 1_000, perp_price);
    let call_only = leg(&mut v, &m1, call, -1_000, call_price);
    let both = leg(&mut v, &m2, PERP_INSTRUMENT, 1_000, perp_price);
    v.trade(&both, &m2, 0, call, -1_000, call_price).unwrap();
    let req =
        |v: &mut Venue, t: &Trader| fx_bits_to_f64(v.health(&t.portfolio).unwrap().0.initial_requirement);
    let (r_perp, r_call, r_both) = (req(&mut v, &perp_only), req(&mut v, &call_only), req(&mut v, &both));
    assert!(r_both < 0.8 * (r_perp + r_call), "netting: {r_both} vs {r_perp} + {r_call}");
    // Collateral halfway between the portfolio and the isolated requirement (USDC, plus fees).
    let collateral = (r_both + r_perp + r_call) / 2.0 + 20.0;
    let native = (collateral * 1e6) as u64;
    let hedged = v.trader(native).unwrap();
    v.trade(&hedged, &m2, 0, PERP_INSTRUMENT, 1_000, perp_price)
        .unwrap_or_else(|f| panic!("hedged perp: {f}"));
    v.trade(&hedged, &m2, 0, call, -1_000, call_price).unwrap_or_else(|f| panic!("hedged call: {f}"));
    // Isolated: the same collateral split over two portfolios cannot carry both legs —
    // whatever the perp leg leaves, the call leg needs more.
    assert!(collateral < r_perp + r_call);
    let perp_side = v.trader(((r_perp + 10.0) * 1e6) as u64).unwrap();
    v.trade(&perp_side, &m2, 0, PERP_INSTRUMENT, 1_000, perp_price)
        .unwrap_or_else(|f| panic!("isolated perp: {f}"));
    let call_side = v.trader(native - ((r_perp + 10.0) * 1e6) as u64).unwrap();
    let f = v.trade(&call_side, &m2, 0, call, -1_000, call_price).unwrap_err();
    assert_error(&f, XmarginError::TakerInsufficientHealth);
    println!(
        "covered call (10 SOL): portfolio {r_both:.2} vs isolated {:.2} USDC initial requirement (ratio {:.3})",
        r_perp + r_call,
        r_both / (r_perp + r_call)
    );
    let _ = compute_limit_ix(0);
}

/// The health gate's short path (`trade_health`): a fill at the mark that shrinks both sides'
/// positions passes from the traded underlying alone — here with no health account at all,
/// although both portfolios hold a second underlying — while a fill that grows them, or that
/// shrinks them off the mark, takes the full computation and needs every account.
#[test]
fn a_fill_reducing_risk_at_the_mark_needs_only_the_traded_underlying() {
    let mut v = Venue::new(&[SOL, 3 * SOL]).unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = (v.trader(RICH).unwrap(), v.trader(RICH).unwrap());
    for u in 0..2u8 {
        let price = v.tick_price(v.underlyings[usize::from(u)].price as u64);
        v.trade(&a, &b, u, PERP_INSTRUMENT, 100, price).unwrap_or_else(|f| panic!("{f}"));
    }
    let mark = v.tick_price(SOL as u64);
    // The instruction without its remaining accounts (the taker's split set to none).
    let bare = |v: &Venue, lots: i64, price: u64| {
        let mut ix = v.trade_ix(&a, &b, 0, PERP_INSTRUMENT, lots, price);
        ix.accounts.truncate(8);
        *ix.data.last_mut().unwrap() = 0;
        ix
    };
    let before = snapshot(&v, &[a.portfolio, b.portfolio]);
    // Growing both positions: the full health needs the second underlying's accounts.
    let f = v.sb.send(&[bare(&v, 10, mark)], &[&a.owner, &b.owner]).unwrap_err();
    assert_error(&f, XmarginError::MarketAccountsMismatch);
    // Shrinking them two ticks off the mark (inside the band): the full path, refused too.
    let f = v.sb.send(&[bare(&v, -10, mark - 2 * TICK)], &[&a.owner, &b.owner]).unwrap_err();
    assert_error(&f, XmarginError::MarketAccountsMismatch);
    assert_eq!(snapshot(&v, &[a.portfolio, b.portfolio]), before, "refusals change nothing");
    // Shrinking them at the mark: both sides' health rises, the short path admits it.
    let landed = v.sb.send(&[bare(&v, -10, mark)], &[&a.owner, &b.owner]).unwrap_or_else(|f| panic!("{f}"));
    cu::record(
        "trade",
        "perp, both reducing risk at the mark (short health path)",
        landed.compute_units,
        70_000,
    );
    assert_eq!(size_of(&v.portfolio(&a), 0, PERP_INSTRUMENT), 90);
    assert_eq!(size_of(&v.portfolio(&b), 0, PERP_INSTRUMENT), -90);
}

/// A reduce-only instrument: each side may only move toward zero — not grow, and not cross
/// to the other side (a flip opens a new position) — with nothing changed by a refusal.
#[test]
fn a_reduce_only_instrument_refuses_growth_and_flips() {
    let (mut v, a, b) = two_traders();
    let price = v.tick_price(SOL as u64);
    v.trade(&a, &b, 0, PERP_INSTRUMENT, 10, price).unwrap_or_else(|f| panic!("{f}"));
    let market = v.underlyings[0].market;
    v.sb.patch_zero_copy::<xmargin::state::Market>(&market, |m| m.perp_reduce_only = 1);
    let before = snapshot(&v, &[a.portfolio, b.portfolio]);
    for lots in [1, -19] {
        assert_error(
            &v.trade(&a, &b, 0, PERP_INSTRUMENT, lots, price).unwrap_err(),
            XmarginError::InstrumentReduceOnly,
        );
    }
    assert_eq!(snapshot(&v, &[a.portfolio, b.portfolio]), before, "refusals change nothing");
    v.trade(&a, &b, 0, PERP_INSTRUMENT, -4, price).unwrap_or_else(|f| panic!("{f}"));
    v.trade(&a, &b, 0, PERP_INSTRUMENT, -6, price).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(size_of(&v.portfolio(&a), 0, PERP_INSTRUMENT), 0);
}
