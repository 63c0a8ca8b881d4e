//! Issue 13's findings on governance, deposits and bankruptcy, each performed as the review
//! did on the compiled .so and refused with its own error (raw account bytes unchanged),
//! while the legitimate neighbour still works:
//! 6. a stale timelocked proposal undoing the guardian's tightening;
//! 8. the guardian zeroing the quote asset;
//! 10. dust blocking bankruptcy resolution, and third parties opening balances in other
//!     people's portfolios;
//! 11. the decisions on resolution under pause (refused while liquidations are paused) and on
//!     self-liquidation (allowed; costs exactly the insurance share).
mod common;

use common::{assert_error, snapshot};
use solana_keypair::Keypair;
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::events::{CollateralLiquidated, CollateralTakenOver};
use xmargin::instructions::{RiskChangeArgs, TightenRiskArgs};
use xmargin::state::{
    liquidation_state, pause, CollateralRiskParams, LiquidationParams, Portfolio, UnderlyingConfig,
    PERP_INSTRUMENT,
};
use xmargin_sandbox::ix::fx_bits_to_f64;
use xmargin_sandbox::venue::{Trader, Venue};
use xmargin_sandbox::{cu, events, pda, Pubkey, TxFailure, DEFAULT_TIMELOCK_SECS};

/// SOL at $150 (quote native units per SOL; 6-decimal quote).
const SOL: i64 = 150_000_000;
const USDC: u64 = 1_000_000;
/// 100,000 USDC.
const RICH: u64 = 100_000 * USDC;
const GOVERNANCE_CEILING: u64 = 40_000;
const DEPOSIT_CEILING: u64 = 40_000;
const RESOLVE_CEILING: u64 = 60_000;

fn registry_key() -> Pubkey {
    pda::registry(&pda::exchange())
}

fn params(v: &Venue, index: u8) -> CollateralRiskParams {
    CollateralRiskParams::of(&v.sb.registry().unwrap().collaterals[usize::from(index)])
}

fn propose(v: &mut Venue, args: RiskChangeArgs) -> u64 {
    let gov = v.fx.governance.insecure_clone();
    let (ix, id) = v.sb.propose_risk_change_ix(gov.pubkey(), args);
    let landed = v.sb.send(&[ix], &[&gov]).unwrap_or_else(|f| panic!("{f}"));
    cu::record(
        "propose_risk_change",
        "with the target's parameters",
        landed.compute_units,
        GOVERNANCE_CEILING,
    );
    id
}

fn execute(v: &mut Venue, id: u64) -> Result<u64, TxFailure> {
    let ix = v.sb.execute_risk_change_ix(id);
    v.sb.send(&[ix], &[]).map(|l| l.compute_units)
}

fn tighten(v: &mut Venue, collateral: u8, params: CollateralRiskParams) -> Result<u64, TxFailure> {
    let guardian = v.fx.guardian.insecure_clone();
    let ix = v.sb.tighten_risk_ix(guardian.pubkey(), TightenRiskArgs { collateral, params });
    v.sb.send(&[ix], &[&guardian]).map(|l| l.compute_units)
}

fn balance_of(p: &Portfolio, collateral: u8) -> i64 {
    p.balances.iter().find(|b| b.active == 1 && b.collateral == collateral).map_or(0, |b| b.amount)
}

fn mint_of(v: &Venue, index: u8) -> Pubkey {
    v.collaterals.iter().find(|c| c.index == index).expect("listed").mint
}

/// A venue with SOL as underlying 0 and wrapped SOL (9 decimals, $150, weights `initial` /
/// 90%) as collateral 1.
fn venue_with_wsol(initial_bps: u16) -> (Venue, u8) {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let wsol = v.list_collateral_asset(9, SOL, initial_bps, 9_000).unwrap_or_else(|f| panic!("{f}"));
    (v, wsol)
}

// ---- 6. a stale proposal undoes the guardian ----------------------------------------------

#[test]
fn a_stale_proposal_cannot_undo_the_guardian() {
    let (mut v, wsol) = venue_with_wsol(0);
    let before = params(&v, wsol);
    assert_eq!((before.reduce_only, before.haircut.maintenance_asset_weight_bps), (0, 9_000));
    assert_eq!(before.oracle.max_staleness_secs, 60);
    // Governance proposes raising the initial weight 0 → 25% (a full snapshot: reduce-only
    // off, maintenance 90%, 60 s staleness).
    let mut loosen = before;
    loosen.haircut.initial_asset_weight_bps = 2_500;
    let stale = propose(&mut v, RiskChangeArgs::Collateral { index: wsol, params: loosen });
    // The guardian tightens meanwhile.
    let mut tighter = before;
    tighter.reduce_only = 1;
    tighter.haircut.maintenance_asset_weight_bps = 7_000;
    tighter.oracle.max_staleness_secs = 10;
    tighten(&mut v, wsol, tighter).unwrap_or_else(|f| panic!("{f}"));
    v.warp(DEFAULT_TIMELOCK_SECS);

    // The attack: anyone executes the stale snapshot after the timelock.
    let change = pda::risk_change(&pda::exchange(), stale);
    let keys = [registry_key(), pda::exchange(), change];
    let state = snapshot(&v, &keys);
    assert_error(&execute(&mut v, stale).unwrap_err(), XmarginError::RiskChangeStale);
    assert_eq!(snapshot(&v, &keys), state, "a refused execution writes nothing");
    assert_eq!(params(&v, wsol), tighter, "the guardian's tightening stands");

    // The neighbour: a fresh proposal from the tightened parameters executes after its own
    // timelock, applying only the initial weight; the stale one can only be cancelled.
    let mut fresh = tighter;
    fresh.haircut.initial_asset_weight_bps = 2_500;
    let id = propose(&mut v, RiskChangeArgs::Collateral { index: wsol, params: fresh });
    assert_error(&execute(&mut v, id).unwrap_err(), XmarginError::TimelockNotExpired);
    v.warp(DEFAULT_TIMELOCK_SECS);
    let units = execute(&mut v, id).unwrap_or_else(|f| panic!("{f}"));
    cu::record("execute_risk_change", "collateral change, snapshot unchanged", units, GOVERNANCE_CEILING);
    let after = params(&v, wsol);
    assert_eq!(after, fresh);
    assert_eq!(
        (after.reduce_only, after.haircut.maintenance_asset_weight_bps, after.oracle.max_staleness_secs),
        (1, 7_000, 10)
    );
    let gov = v.fx.governance.insecure_clone();
    let ix = v.sb.cancel_risk_change_ix(gov.pubkey(), stale);
    v.sb.send(&[ix], &[&gov]).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(params(&v, wsol), fresh);
}

#[test]
fn stale_underlying_and_liquidation_changes_fail_but_the_estimator_does_not_stale_them() {
    let mut v = Venue::new(&[SOL]).unwrap_or_else(|e| panic!("{e}"));
    let current: UnderlyingConfig = v.sb.registry().unwrap().underlyings[0];
    let to = |shock: u16| UnderlyingConfig { max_price_shock_bps: shock, ..current.governed() };
    let a = propose(&mut v, RiskChangeArgs::Underlying { index: 0, config: to(1_200) });
    let b = propose(&mut v, RiskChangeArgs::Underlying { index: 0, config: to(1_800) });
    let initial = v.sb.exchange().unwrap().liquidation;
    let c = propose(
        &mut v,
        RiskChangeArgs::Liquidation { params: LiquidationParams { discount_bps: 150, ..initial } },
    );
    let d = propose(
        &mut v,
        RiskChangeArgs::Liquidation { params: LiquidationParams { discount_bps: 120, ..initial } },
    );
    v.warp(DEFAULT_TIMELOCK_SECS);

    // The estimator's state is not a governed parameter: an update in between does not stale
    // a proposal, and execution keeps the state.
    let ix = v.sb.update_volatility_ix(0, v.underlyings[0].oracle);
    v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("{f}"));
    let estimated = v.market(0).volatility;
    assert_ne!(estimated.last_time, 0, "the estimator moved");
    let units = execute(&mut v, a).unwrap_or_else(|f| panic!("{f}"));
    cu::record("execute_risk_change", "underlying change, snapshot unchanged", units, GOVERNANCE_CEILING);
    let u = v.sb.registry().unwrap().underlyings[0];
    assert_eq!(u.max_price_shock_bps, 1_200);
    assert_eq!(v.market(0).volatility, estimated);

    // The second proposal was made against 15%, no longer in force.
    let keys = [registry_key(), pda::exchange()];
    let state = snapshot(&v, &keys);
    assert_error(&execute(&mut v, b).unwrap_err(), XmarginError::RiskChangeStale);
    assert_eq!(snapshot(&v, &keys), state);

    execute(&mut v, c).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(v.sb.exchange().unwrap().liquidation.discount_bps, 150);
    let state = snapshot(&v, &keys);
    assert_error(&execute(&mut v, d).unwrap_err(), XmarginError::RiskChangeStale);
    assert_eq!(snapshot(&v, &keys), state);
    assert_eq!(v.sb.exchange().unwrap().liquidation.discount_bps, 150);
}

// ---- 8. the guardian zeroes the quote asset -----------------------------------------------

#[test]
fn the_guardian_cannot_touch_the_quote_assets_haircut_or_oracle() {
    let (mut v, wsol) = venue_with_wsol(0);
    // A healthy short: 1,000 USDC against 1 SOL short.
    let short = v.trader(1_000 * USDC).unwrap();
    let maker = v.trader(RICH).unwrap();
    v.trade_perp_at_oracle(&short, &maker, 0, -100).unwrap_or_else(|f| panic!("{f}"));
    let (health0, _) = v.health(&short.portfolio).unwrap();
    assert!(fx_bits_to_f64(health0.maintenance_health) > 0.0);

    let quote = params(&v, 0);
    let mut zeroed = quote;
    zeroed.haircut.initial_asset_weight_bps = 0;
    zeroed.haircut.maintenance_asset_weight_bps = 0;
    let mut liability = quote;
    liability.haircut.maintenance_liability_weight_bps = 11_000;
    liability.haircut.initial_liability_weight_bps = 12_000;
    let mut oracle = quote;
    oracle.oracle.max_staleness_secs = 10;
    let keys = [registry_key(), short.portfolio];
    let state = snapshot(&v, &keys);
    for attempt in [zeroed, liability, oracle] {
        assert_error(&tighten(&mut v, 0, attempt).unwrap_err(), XmarginError::QuoteAssetImmutable);
        // The proposal path refuses the same with the same error.
        let gov = v.fx.governance.insecure_clone();
        let (ix, _) = v
            .sb
            .propose_risk_change_ix(gov.pubkey(), RiskChangeArgs::Collateral { index: 0, params: attempt });
        assert_error(&v.sb.send(&[ix], &[&gov]).unwrap_err(), XmarginError::QuoteAssetImmutable);
    }
    assert_eq!(snapshot(&v, &keys), state, "refusals wrote nothing");
    let (health1, _) = v.health(&short.portfolio).unwrap();
    assert_eq!(health1, health0, "the short is as healthy as before");

    // The neighbours: the quote's deposit cap may be tightened (as the proposal path may
    // change it), and a non-quote asset's weights.
    let mut capped = quote;
    capped.deposit_cap = quote.deposit_cap / 2;
    let units = tighten(&mut v, 0, capped).unwrap_or_else(|f| panic!("{f}"));
    cu::record("tighten_risk", "quote asset: deposit cap", units, GOVERNANCE_CEILING);
    assert_eq!(params(&v, 0), capped);
    let mut wsol_tighter = params(&v, wsol);
    wsol_tighter.haircut.maintenance_asset_weight_bps = 7_000;
    tighten(&mut v, wsol, wsol_tighter).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(params(&v, wsol), wsol_tighter);
}

// ---- 10. dust in other people's portfolios; dust blocking bankruptcy ----------------------

/// A depositor (not the portfolio's owner) holding `amount` of `mint`; its token account.
fn outsider(v: &mut Venue, mint: &Pubkey, amount: u64) -> (Keypair, Pubkey) {
    let who = v.sb.funded_keypair();
    let source = v.sb.create_token_account(mint, &who.pubkey(), amount);
    (who, source)
}

fn deposit_as(
    v: &mut Venue,
    who: &Keypair,
    portfolio: Pubkey,
    mint: Pubkey,
    source: Pubkey,
    amount: u64,
) -> Result<u64, TxFailure> {
    let ix = v.sb.deposit_ix(who.pubkey(), portfolio, mint, source, amount);
    v.sb.send(&[ix], &[who]).map(|l| l.compute_units)
}

#[test]
fn third_parties_cannot_open_balances_in_other_portfolios() {
    let (mut v, wsol) = venue_with_wsol(8_000);
    let mint = mint_of(&v, wsol);
    let victim = v.trader(1_000 * USDC).unwrap();
    let exchange = pda::exchange();
    let (stranger, source) = outsider(&mut v, &mint, 1_000);
    let keys = [victim.portfolio, registry_key(), pda::vault(&exchange, &mint), source];

    // The attack: one native unit of an asset the victim does not hold.
    let state = snapshot(&v, &keys);
    let f = deposit_as(&mut v, &stranger, victim.portfolio, mint, source, 1).unwrap_err();
    assert_error(&f, XmarginError::DepositWouldOpenBalance);
    assert_eq!(snapshot(&v, &keys), state);

    // The owner may open it; a zero balance left by a full withdrawal is closed to others too.
    let units =
        v.deposit_collateral(&victim, wsol, 2_000_000_000).unwrap_or_else(|f| panic!("{f}")).compute_units;
    cu::record("deposit", "owner opens a non-quote balance", units, DEPOSIT_CEILING);
    let destination = v.sb.create_token_account(&mint, &victim.owner.pubkey(), 0);
    let oracles = v.health_accounts(&victim.portfolio, None);
    let ix =
        v.sb.withdraw_ix(victim.owner.pubkey(), victim.portfolio, mint, destination, 2_000_000_000, &oracles);
    v.sb.send(&[ix], &[&victim.owner]).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(v.portfolio(&victim).balance(wsol).map(|b| b.amount), Some(0), "slot kept at zero");
    let state = snapshot(&v, &keys);
    let f = deposit_as(&mut v, &stranger, victim.portfolio, mint, source, 1).unwrap_err();
    assert_error(&f, XmarginError::DepositWouldOpenBalance);
    assert_eq!(snapshot(&v, &keys), state);

    // A third party may top up a non-quote balance the portfolio holds...
    v.deposit_collateral(&victim, wsol, 1_000_000_000).unwrap_or_else(|f| panic!("{f}"));
    let units = deposit_as(&mut v, &stranger, victim.portfolio, mint, source, 1_000)
        .unwrap_or_else(|f| panic!("{f}"));
    cu::record("deposit", "third party tops up a held non-quote balance", units, DEPOSIT_CEILING);
    assert_eq!(balance_of(&v.portfolio(&victim), wsol), 1_000_001_000);
    // ...and always pay quote, even into a portfolio with no quote balance yet.
    let empty = v.trader(0).unwrap();
    assert!(v.portfolio(&empty).balance(0).is_none());
    let quote_mint = v.fx.quote_mint;
    let (payer, quote_source) = outsider(&mut v, &quote_mint, 5 * USDC);
    let units = deposit_as(&mut v, &payer, empty.portfolio, quote_mint, quote_source, 5 * USDC)
        .unwrap_or_else(|f| panic!("{f}"));
    cu::record("deposit", "third party pays quote into a new slot", units, DEPOSIT_CEILING);
    assert_eq!(balance_of(&v.portfolio(&empty), 0), 5 * USDC as i64);
}

struct Bankrupt {
    v: Venue,
    /// The listed non-quote assets, wrapped SOL first.
    assets: Vec<u8>,
    target: Trader,
}

/// 10 SOL long with 380 USDC and, for each entry of `dust`, a listed asset (wrapped SOL, then
/// 6-decimal tokens at $1) of which its owner deposited that many native units; SOL falls
/// 150 → 90; the whole position is liquidated: a quote deficit of about 220 USDC is left,
/// with the dust, and 10,000 USDC of insurance.
fn bankrupt_with(dust: &[u64]) -> Bankrupt {
    bankrupt_with_insurance(dust, 10_000 * USDC)
}

/// `bankrupt_with`, the insurance fund topped up by `insurance` before the crash.
fn bankrupt_with_insurance(dust: &[u64], insurance: u64) -> Bankrupt {
    let (mut v, wsol) = venue_with_wsol(8_000);
    let mut assets = vec![wsol];
    for _ in 1..dust.len() {
        assets.push(v.list_collateral_asset(6, 1_000_000, 8_000, 9_000).unwrap_or_else(|f| panic!("{f}")));
    }
    let target = v.trader(380 * USDC).unwrap();
    let maker = v.trader(RICH).unwrap();
    let liquidator = v.trader(RICH).unwrap();
    for (&asset, &amount) in assets.iter().zip(dust) {
        if amount > 0 {
            v.deposit_collateral(&target, asset, amount).unwrap_or_else(|f| panic!("{f}"));
        }
    }
    v.trade_perp_at_oracle(&target, &maker, 0, 1_000).unwrap_or_else(|f| panic!("{f}"));
    v.set_price(0, 90_000_000);
    if insurance > 0 {
        v.fund_insurance(insurance).unwrap();
    }
    v.liquidate_positions(&liquidator, &target.portfolio, 0, PERP_INSTRUMENT, u64::MAX)
        .unwrap_or_else(|f| panic!("{f}"));
    let p = v.portfolio(&target);
    assert!(p.active_positions().next().is_none());
    assert!(balance_of(&p, 0) < 0);
    for (&asset, &amount) in assets.iter().zip(dust) {
        assert_eq!(balance_of(&p, asset), amount as i64);
    }
    Bankrupt { v, assets, target }
}

fn watched(v: &Venue, target: &Trader, mint: &Pubkey) -> Vec<Pubkey> {
    let exchange = pda::exchange();
    vec![
        target.portfolio,
        registry_key(),
        pda::vault(&exchange, mint),
        pda::collateral_insurance(&exchange, mint),
        pda::vault(&exchange, &v.fx.quote_mint),
        pda::insurance_vault(&exchange),
    ]
}

#[test]
fn a_bankrupt_portfolio_with_dust_resolves_and_the_dust_goes_to_insurance() {
    let Bankrupt { mut v, assets, target } = bankrupt_with(&[1]);
    let wsol = assets[0];
    let mint = mint_of(&v, wsol);
    let exchange = pda::exchange();
    let keys = watched(&v, &target, &mint);
    let state = snapshot(&v, &keys);
    let full = v.resolve_bankruptcy_ix(&target.portfolio);
    assert_eq!(full.accounts.len(), 8 + 1 + 4 + 1, "named, one oracle, one takeover group, the market");

    // Refusals, each with its error and nothing written: without the takeover accounts, with
    // the vault named as the insurance account, with a stale oracle.
    let mut ix = full.clone();
    ix.accounts.drain(9..13);
    assert_error(&v.sb.send(&[ix], &[]).unwrap_err(), XmarginError::BankruptcyAccountsMismatch);
    // Without the market (it is always last): the markets are checked first.
    let mut ix = full.clone();
    ix.accounts.pop();
    assert_error(&v.sb.send(&[ix], &[]).unwrap_err(), XmarginError::BankruptcyMarketsMismatch);
    let mut ix = full.clone();
    ix.accounts[10].pubkey = pda::vault(&exchange, &mint);
    assert_error(&v.sb.send(&[ix], &[]).unwrap_err(), XmarginError::InsuranceVaultMismatch);
    v.sb.warp(61);
    assert_error(&v.sb.send(std::slice::from_ref(&full), &[]).unwrap_err(), XmarginError::OracleStale);
    assert_eq!(snapshot(&v, &keys), state, "refusals wrote nothing");
    v.publish();

    // The neighbour: with its accounts, the dust goes to the insurance fund and the deficit
    // is resolved as before.
    let deficit = -balance_of(&v.portfolio(&target), 0) as u64;
    let vault0 = v.sb.token_amount(&pda::vault(&exchange, &mint)).unwrap();
    let (_, insurance0) = v.vault_balances();
    // Fees owed to the fund and not swept yet: the resolution moves them to it first.
    let owed = v.fees_accrued() + v.ledger_fees_accrued();
    let landed = v.sb.send(&[full], &[]).unwrap_or_else(|f| panic!("{f}"));
    cu::record(
        "resolve_bankruptcy",
        "1 leftover collateral taken over",
        landed.compute_units,
        RESOLVE_CEILING,
    );
    let p = v.portfolio(&target);
    assert_eq!((balance_of(&p, 0), balance_of(&p, wsol)), (0, 0));
    assert_eq!(p.liquidation_state, liquidation_state::NORMAL);
    assert_eq!(v.sb.token_amount(&pda::vault(&exchange, &mint)), Some(vault0 - 1));
    assert_eq!(v.sb.token_amount(&pda::collateral_insurance(&exchange, &mint)), Some(1));
    assert_eq!(insurance0 + owed - v.vault_balances().1, deficit, "insurance covers the deficit");
    let taken: Vec<CollateralTakenOver> = events(&landed.logs);
    assert_eq!(taken.len(), 1);
    let e = &taken[0];
    assert_eq!((e.portfolio, e.collateral, e.mint, e.amount), (target.portfolio, wsol, mint, 1));
    assert_eq!((e.balance_before, e.balance_after), (1, 0));
    assert_eq!(e.vault_balance_after, vault0 - 1);
    assert_eq!(
        (e.insurance_vault, e.insurance_balance_after),
        (pda::collateral_insurance(&exchange, &mint), 1)
    );
    // A deposit cannot block it any more: nothing is left to resolve.
    let ix = v.resolve_bankruptcy_ix(&target.portfolio);
    assert_error(&v.sb.send(&[ix], &[]).unwrap_err(), XmarginError::NotBankrupt);
}

/// When the insurance fund cannot pay the whole quote liability, it may not take collateral
/// in kind: the liability would be socialized while the fund kept the collateral (quote
/// holders paying for it). Liquidate the collateral first, or fund insurance.
#[test]
fn the_fund_takes_collateral_over_only_when_it_pays_the_whole_liability() {
    let Bankrupt { mut v, assets, target } = bankrupt_with_insurance(&[1], 0);
    let mint = mint_of(&v, assets[0]);
    let keys = watched(&v, &target, &mint);
    let state = snapshot(&v, &keys);
    let deficit = -balance_of(&v.portfolio(&target), 0) as u64;
    assert!(v.vault_balances().1 < deficit, "set-up: the fund is short");
    let ix = v.resolve_bankruptcy_ix(&target.portfolio);
    assert_error(&v.sb.send(&[ix], &[]).unwrap_err(), XmarginError::InsuranceCannotTakeOverCollateral);
    assert_eq!(snapshot(&v, &keys), state, "nothing written");
    // Neighbour: once the fund can pay, the dust is taken over and the deficit resolved.
    v.fund_insurance(deficit).unwrap();
    let ix = v.resolve_bankruptcy_ix(&target.portfolio);
    v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(balance_of(&v.portfolio(&target), 0), 0);
}

#[test]
fn leftover_collateral_beyond_one_transaction_is_taken_over_in_steps() {
    // Dust of two assets; a resolver passes the takeover accounts of the first only (as when
    // all do not fit in one transaction).
    let Bankrupt { mut v, assets, target } = bankrupt_with(&[1, 7]);
    let (wsol, usdt) = (assets[0], assets[1]);
    let (wsol_mint, usdt_mint) = (mint_of(&v, wsol), mint_of(&v, usdt));
    let exchange = pda::exchange();
    let full = v.resolve_bankruptcy_ix(&target.portfolio);
    assert_eq!(full.accounts.len(), 8 + 2 + 2 * 4 + 1);
    // Groups out of balance-slot order are refused.
    let mut keys = watched(&v, &target, &wsol_mint);
    keys.extend([pda::vault(&exchange, &usdt_mint), pda::collateral_insurance(&exchange, &usdt_mint)]);
    let state = snapshot(&v, &keys);
    let mut swapped = full.clone();
    let (first_group, second_group) = swapped.accounts[10..18].split_at_mut(4);
    first_group.swap_with_slice(second_group);
    assert_error(&v.sb.send(&[swapped], &[]).unwrap_err(), XmarginError::BankruptcyAccountsMismatch);
    assert_eq!(snapshot(&v, &keys), state);

    // Step 1: the first asset only; the deficit waits.
    let quote0 = balance_of(&v.portfolio(&target), 0);
    // (The markets stay: always the last accounts.)
    let mut first = full.clone();
    first.accounts.drain(8 + 2 + 4..8 + 2 + 2 * 4);
    let landed = v.sb.send(&[first], &[]).unwrap_or_else(|f| panic!("{f}"));
    cu::record(
        "resolve_bankruptcy",
        "step: 1 of 2 leftover collaterals taken over",
        landed.compute_units,
        RESOLVE_CEILING,
    );
    let taken: Vec<CollateralTakenOver> = events(&landed.logs);
    assert_eq!(taken.iter().map(|e| (e.collateral, e.amount)).collect::<Vec<_>>(), [(wsol, 1)]);
    assert!(events::<xmargin::events::BankruptcyResolved>(&landed.logs).is_empty());
    let p = v.portfolio(&target);
    assert_eq!((balance_of(&p, wsol), balance_of(&p, usdt), balance_of(&p, 0)), (0, 7, quote0));
    assert_eq!(p.liquidation_state, liquidation_state::BEING_LIQUIDATED);
    assert_eq!(v.sb.token_amount(&pda::collateral_insurance(&exchange, &wsol_mint)), Some(1));

    // Step 2: the rest, and the deficit.
    let ix = v.resolve_bankruptcy_ix(&target.portfolio);
    assert_eq!(ix.accounts.len(), 8 + 1 + 4 + 1);
    let landed = v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(events::<CollateralTakenOver>(&landed.logs).len(), 1);
    assert_eq!(events::<xmargin::events::BankruptcyResolved>(&landed.logs).len(), 1);
    let p = v.portfolio(&target);
    assert_eq!((balance_of(&p, wsol), balance_of(&p, usdt), balance_of(&p, 0)), (0, 0, 0));
    assert_eq!(v.sb.token_amount(&pda::collateral_insurance(&exchange, &usdt_mint)), Some(7));
}

#[test]
fn resolving_a_solvent_portfolio_with_collateral_fails() {
    // 10 wrapped SOL and no quote; a 5 SOL perp long opened at 150 and closed at 140 leaves
    // a quote liability of ~50 USDC against 1,400 USDC of collateral.
    let (mut v, wsol) = venue_with_wsol(8_000);
    let target = v.trader(0).unwrap();
    let maker = v.trader(RICH).unwrap();
    v.deposit_collateral(&target, wsol, 10_000_000_000).unwrap();
    v.trade_perp_at_oracle(&target, &maker, 0, 500).unwrap_or_else(|f| panic!("{f}"));
    v.set_price(0, 140_000_000);
    v.set_collateral_price(wsol, 140_000_000);
    v.trade_perp_at_oracle(&target, &maker, 0, -500).unwrap_or_else(|f| panic!("{f}"));
    let p = v.portfolio(&target);
    assert!(p.active_positions().next().is_none());
    assert!(balance_of(&p, 0) < 0, "a quote liability");
    let (h, _) = v.health(&target.portfolio).unwrap();
    assert!(fx_bits_to_f64(h.equity) > 1_000.0, "solvent");

    let mint = mint_of(&v, wsol);
    let keys = watched(&v, &target, &mint);
    let state = snapshot(&v, &keys);
    let ix = v.resolve_bankruptcy_ix(&target.portfolio);
    assert_error(&v.sb.send(&[ix], &[]).unwrap_err(), XmarginError::BankruptcyCollateralRemains);
    assert_eq!(snapshot(&v, &keys), state);
}

// ---- 11. decisions: resolution under pause; self-liquidation ------------------------------

#[test]
fn bankruptcy_resolution_waits_while_liquidations_are_paused() {
    let Bankrupt { mut v, assets, target } = bankrupt_with(&[0]);
    let wsol = assets[0];
    let mint = mint_of(&v, wsol);
    let keys = watched(&v, &target, &mint);
    let guardian = v.fx.guardian.insecure_clone();
    let governance = v.fx.governance.insecure_clone();
    let ix = v.sb.set_pause_ix(guardian.pubkey(), pause::ALL);
    v.sb.send(&[ix], &[&guardian]).unwrap();
    let state = snapshot(&v, &keys);
    let ix = v.resolve_bankruptcy_ix(&target.portfolio);
    assert_error(&v.sb.send(&[ix], &[]).unwrap_err(), XmarginError::LiquidationsPaused);
    assert_eq!(snapshot(&v, &keys), state, "no insurance funds moved while paused");
    // Every other flag leaves it alone: governance lifts the liquidation pause only.
    let ix = v.sb.set_pause_ix(governance.pubkey(), pause::ALL & !pause::LIQUIDATIONS);
    v.sb.send(&[ix], &[&governance]).unwrap();
    let ix = v.resolve_bankruptcy_ix(&target.portfolio);
    v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(balance_of(&v.portfolio(&target), 0), 0);
}

/// The owner's portfolio 0 margins a 10 SOL long with 10 wrapped SOL; SOL falls 150 →
/// `price`; its portfolio 1, holding 100,000 USDC, buys 1 wrapped SOL of it in a collateral
/// liquidation. Returns the event and the owner's quote lost across both portfolios, after
/// checking that the collateral stays with the owner and that exactly the event's insurance
/// fee moved from the quote vault to the insurance vault.
fn self_liquidate(price: i64) -> (CollateralLiquidated, i64) {
    let (mut v, wsol) = venue_with_wsol(8_000);
    let target = v.trader(0).unwrap();
    let maker = v.trader(RICH).unwrap();
    v.deposit_collateral(&target, wsol, 10_000_000_000).unwrap();
    v.trade_perp_at_oracle(&target, &maker, 0, 1_000).unwrap_or_else(|f| panic!("{f}"));
    let owner = target.owner.insecure_clone();
    let ix = v.sb.open_portfolio_ix(owner.pubkey(), 1);
    v.sb.send(&[ix], &[&owner]).unwrap();
    let second = pda::portfolio(&owner.pubkey(), 1);
    let quote_account = v.sb.create_token_account(&v.fx.quote_mint, &owner.pubkey(), RICH);
    let ix = v.sb.deposit_ix(owner.pubkey(), second, v.fx.quote_mint, quote_account, RICH);
    v.sb.send(&[ix], &[&owner]).unwrap();
    let own_liquidator = Trader { owner: owner.insecure_clone(), portfolio: second, quote_account };
    v.set_price(0, price);
    v.set_collateral_price(wsol, price);

    let both = |v: &Venue| {
        let (a, b) = (v.portfolio(&target), v.sb.portfolio(&second).unwrap());
        (balance_of(&a, 0) + balance_of(&b, 0), balance_of(&a, wsol) + balance_of(&b, wsol))
    };
    let (quote0, wsol0) = both(&v);
    v.sweep_all_fees().unwrap();
    let (vault0, insurance0) = v.vault_balances();
    let landed = v
        .liquidate_collateral(&own_liquidator, &target.portfolio, wsol, 1_000_000_000)
        .unwrap_or_else(|f| panic!("{f}"));
    let e = events::<CollateralLiquidated>(&landed.logs).pop().expect("event");
    assert_eq!(e.amount, 1_000_000_000);
    let (quote1, wsol1) = both(&v);
    // The insurance share accrued in the quote ledger; swept, it is in the insurance vault.
    assert_eq!(v.ledger_fees_accrued(), e.insurance_fee);
    v.sweep_all_fees().unwrap();
    let (vault1, insurance1) = v.vault_balances();
    assert_eq!(wsol1, wsol0, "the collateral stays with the owner");
    assert_eq!(insurance1 - insurance0, e.insurance_fee);
    assert_eq!(vault0 - vault1, e.insurance_fee);
    (e, quote0 - quote1)
}

#[test]
fn self_liquidation_costs_the_owner_exactly_the_insurance_share() {
    // SOL at 80: maintenance health negative, equity positive.
    let (e, lost) = self_liquidate(80_000_000);
    assert!(e.insurance_fee > 0 && e.liquidator_fee > 0);
    assert_eq!(lost, e.insurance_fee as i64, "the owner pays exactly the insurance share");
}

#[test]
fn self_liquidation_of_an_insolvent_portfolio_earns_nothing() {
    // SOL at 60: the target's equity is negative, so the discount it concedes is the insurance
    // fund's money. The whole discount goes to the fund: the owner's second portfolio (or any
    // liquidator) earns nothing from the deficit.
    let (e, lost) = self_liquidate(60_000_000);
    assert!(e.insurance_fee > 0 && e.liquidator_fee == 0, "{} {}", e.insurance_fee, e.liquidator_fee);
    assert_eq!(e.insurance_fee, e.discount, "the whole discount to insurance");
    assert_eq!(lost, e.insurance_fee as i64, "the owner's portfolios lose the whole discount");
}

// ---- issue 14 review: a linked leftover balance must not block a resolution ---------------

#[test]
fn a_linked_leftover_balance_does_not_block_a_resolution() {
    // The owner of an insolvent portfolio (no positions) holds dust of an asset linked to an
    // underlying: equity does not depend on links, so the resolution values it with the
    // collateral oracles alone (`health::equity_inputs`), as for an unlinked asset.
    let Bankrupt { mut v, assets, target } = bankrupt_with(&[1]);
    let wsol = assets[0];
    v.link_collateral(wsol, xmargin_sandbox::fixtures::link(0, 300, 200, xmargin::state::LINK_RATIO_ONE))
        .unwrap_or_else(|f| panic!("{f}"));
    v.publish();
    assert!(v.sb.registry().unwrap().collaterals[usize::from(wsol)].link.is_active());
    let full = v.resolve_bankruptcy_ix(&target.portfolio);
    assert_eq!(
        full.accounts.len(),
        8 + 1 + 4 + 1,
        "named, one oracle, one takeover group (no market account for the link), the market"
    );
    v.sb.send(&[full], &[]).unwrap_or_else(|f| panic!("{f}"));
    let p = v.portfolio(&target);
    assert_eq!((balance_of(&p, 0), balance_of(&p, wsol)), (0, 0));
}
