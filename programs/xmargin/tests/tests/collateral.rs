//! The collateral side on the compiled .so: listing, portfolios, deposits, health-checked
//! withdrawals, the oracle action table, and account-substitution attacks. After every
//! successful step the vault invariant (Σ portfolio balances = vault balance) is checked.
use solana_instruction::AccountMeta;
use solana_keypair::Keypair;
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::instructions::ListCollateralArgs;
use xmargin::oracle::{kind, OracleConfig};
use xmargin::state::{pause, HaircutRegistry, Portfolio};
use xmargin_sandbox::fixtures::haircut;
use xmargin_sandbox::ix::fx_bits_to_f64;
use xmargin_sandbox::oracles::sponsored_feed_account;
use xmargin_sandbox::tokens::TOKEN_2022;
use xmargin_sandbox::{cu, pda, program_error_code, ExchangeFixture, Pubkey, Sandbox, TxFailure};

// Measured: deposit 16.6k–18.5k, withdraw 25k (3 assets) and 70k (16 assets), listing
// 17.4k+ and opening 9.2k+ (1.5k CU per extra PDA bump try on a random key: the ceilings
// leave room for ~14 tries, so a run does not fail by chance).
const DEPOSIT_CEILING: u64 = 40_000;
const WITHDRAW_CEILING: u64 = 80_000;
const LIST_CEILING: u64 = 40_000;
const SPL_TOKEN: Pubkey = Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

struct Asset {
    mint: Pubkey,
    oracle: Pubkey,
    index: u8,
}

struct Venue {
    sb: Sandbox,
    fx: ExchangeFixture,
    usdc: Asset,
    sol: Asset,
    eth: Asset,
    pyth_program: Pubkey,
}

const SOL_FEED: [u8; 32] = [0x50; 32];

fn assert_error(failure: &TxFailure, expected: XmarginError) {
    assert_eq!(
        failure.custom_code(),
        Some(program_error_code(expected)),
        "expected {expected:?}, got {failure}"
    );
}

fn pull_oracle(feed: [u8; 32]) -> OracleConfig {
    OracleConfig {
        source: feed,
        feed_account: sponsored_feed_account(feed),
        kind: kind::PYTH_PULL,
        max_staleness_secs: 60,
        max_staleness_slots: 0,
        max_conf_bps: 200,
        ..OracleConfig::default()
    }
}

fn legacy_oracle(account: Pubkey, program: Pubkey) -> OracleConfig {
    OracleConfig {
        source: account.to_bytes(),
        legacy_program: program,
        kind: kind::PYTH_LEGACY,
        max_staleness_secs: 60,
        max_staleness_slots: 0,
        max_conf_bps: 200,
        ..OracleConfig::default()
    }
}

impl Venue {
    fn new() -> Venue {
        let (mut sb, fx) = Sandbox::with_exchange().unwrap_or_else(|e| panic!("{e}"));
        let usdc = Asset { mint: fx.quote_mint, oracle: Pubkey::default(), index: 0 };
        // SOL: SPL Token, 9 decimals, pull oracle at $150.00 ± 0.05.
        let sol_mint = sb.create_mint_with(9, SPL_TOKEN);
        let sol_oracle = sponsored_feed_account(SOL_FEED);
        let q = sb.quote(15_000, 5, -2);
        sb.put_pull_oracle(sol_oracle, SOL_FEED, &q, true);
        // ETH: Token-2022, 8 decimals, legacy oracle at $3000.00 ± 1.
        let eth_mint = sb.create_mint_with(8, TOKEN_2022);
        let pyth_program = Keypair::new().pubkey();
        let eth_oracle = Keypair::new().pubkey();
        let q = sb.quote(300_000, 100, -2);
        sb.put_legacy_oracle(eth_oracle, pyth_program, &q, 1);
        let mut v = Venue {
            sb,
            fx,
            usdc,
            sol: Asset { mint: sol_mint, oracle: sol_oracle, index: 1 },
            eth: Asset { mint: eth_mint, oracle: eth_oracle, index: 2 },
            pyth_program,
        };
        // SOL: tiers above 1,000 SOL and 10,000 SOL.
        let sol_args = ListCollateralArgs {
            oracle: pull_oracle(SOL_FEED),
            haircut: haircut(0, 9_000, &[(1_000_000_000_000, 0, 8_000), (10_000_000_000_000, 0, 6_000)]),
            deposit_cap: 1_000_000_000_000_000,
        };
        v.list(v.sol.mint, sol_args).unwrap_or_else(|f| panic!("{f}"));
        let eth_args = ListCollateralArgs {
            oracle: legacy_oracle(eth_oracle, pyth_program),
            haircut: haircut(0, 8_500, &[]),
            deposit_cap: 100_000_000_000,
        };
        v.list(v.eth.mint, eth_args).unwrap_or_else(|f| panic!("{f}"));
        // Set the initial weights that four executed timelocked changes would reach (each
        // change moves a weight at most 25 points; tests/governance.rs covers that flow).
        v.sb.patch_zero_copy::<HaircutRegistry>(&pda::registry(&pda::exchange()), |r| {
            r.collaterals[1].haircut.initial_asset_weight_bps = 8_000;
            r.collaterals[1].haircut.tiers[0].initial_weight_bps = 7_000;
            r.collaterals[1].haircut.tiers[1].initial_weight_bps = 5_000;
            r.collaterals[2].haircut.initial_asset_weight_bps = 7_500;
        });
        v
    }

    fn list(&mut self, mint: Pubkey, args: ListCollateralArgs) -> Result<u64, TxFailure> {
        let ix = self.sb.list_collateral_ix(self.fx.governance.pubkey(), mint, args);
        let gov = self.fx.governance.insecure_clone();
        self.sb.send(&[ix], &[&gov]).map(|l| l.compute_units)
    }

    /// A trader with a portfolio and token accounts holding `amounts` (usdc, sol, eth).
    fn trader(&mut self, amounts: [u64; 3]) -> Trader {
        let owner = self.sb.funded_keypair();
        let ix = self.sb.open_portfolio_ix(owner.pubkey(), 0);
        self.sb.send(&[ix], &[&owner]).unwrap_or_else(|f| panic!("{f}"));
        let accounts = [
            self.sb.create_token_account(&self.usdc.mint, &owner.pubkey(), amounts[0]),
            self.sb.create_token_account(&self.sol.mint, &owner.pubkey(), amounts[1]),
            self.sb.create_token_account(&self.eth.mint, &owner.pubkey(), amounts[2]),
        ];
        Trader { portfolio: pda::portfolio(&owner.pubkey(), 0), owner, accounts }
    }

    fn asset(&self, i: usize) -> &Asset {
        [&self.usdc, &self.sol, &self.eth][i]
    }

    fn deposit(&mut self, t: &Trader, asset: usize, amount: u64) -> Result<u64, TxFailure> {
        let ix = self.sb.deposit_ix(
            t.owner.pubkey(),
            t.portfolio,
            self.asset(asset).mint,
            t.accounts[asset],
            amount,
        );
        self.sb.send(&[ix], &[&t.owner]).map(|l| l.compute_units)
    }

    /// Oracles for the portfolio's non-zero non-quote balances, in slot order.
    fn oracles_for(&self, portfolio: &Pubkey) -> Vec<Pubkey> {
        let p = self.sb.portfolio(portfolio).expect("portfolio");
        p.balances
            .iter()
            .filter(|b| b.active == 1 && b.amount != 0 && b.collateral != 0)
            .map(|b| if b.collateral == self.sol.index { self.sol.oracle } else { self.eth.oracle })
            .collect()
    }

    fn withdraw(&mut self, t: &Trader, asset: usize, amount: u64) -> Result<u64, TxFailure> {
        let oracles = self.oracles_for(&t.portfolio);
        self.withdraw_with(t, asset, amount, &oracles)
    }

    fn withdraw_with(
        &mut self,
        t: &Trader,
        asset: usize,
        amount: u64,
        oracles: &[Pubkey],
    ) -> Result<u64, TxFailure> {
        let ix = self.sb.withdraw_ix(
            t.owner.pubkey(),
            t.portfolio,
            self.asset(asset).mint,
            t.accounts[asset],
            amount,
            oracles,
        );
        self.sb.send(&[ix], &[&t.owner]).map(|l| l.compute_units)
    }

    fn balance(&self, t: &Trader, asset: usize) -> i64 {
        let index = self.asset(asset).index;
        self.sb.portfolio(&t.portfolio).unwrap().balance(index).map_or(0, |b| b.amount)
    }

    /// Σ of the given portfolios' balances of each asset equals its vault balance, and the
    /// registry's total deposits equals Σ of positive balances.
    fn assert_invariant(&self, traders: &[&Trader]) {
        let registry = self.sb.registry().unwrap();
        for i in 0..3 {
            let asset = self.asset(i);
            let balances: Vec<i64> = traders.iter().map(|t| self.balance(t, i)).collect();
            let vault = self.sb.token_amount(&pda::vault(&pda::exchange(), &asset.mint)).unwrap();
            assert_eq!(balances.iter().sum::<i64>(), vault as i64, "asset {i}: Σ balances vs vault");
            // Σ positive quote balances is kept in shards (no market here: all of it in the
            // quote ledger's); no other asset keeps a total (registry v5: caps apply to the
            // vault, which the line above checks).
            if asset.index == 0 {
                let positive: i64 = balances.iter().filter(|b| **b > 0).sum();
                let ledger = xmargin_sandbox::pda::quote_ledger(&xmargin_sandbox::pda::exchange());
                let shard = self.sb.zero_copy_account::<xmargin::state::QuoteLedger>(&ledger).unwrap();
                assert_eq!(shard.positive_quote_delta, positive, "Σ positive quote balances");
            }
            assert_eq!(registry.collaterals[usize::from(asset.index)].total_deposits, 0, "retired");
        }
    }
}

struct Trader {
    owner: Keypair,
    portfolio: Pubkey,
    accounts: [Pubkey; 3],
}

#[test]
fn listing_starts_at_initial_weight_zero_with_its_vault() {
    let (mut sb, fx) = Sandbox::with_exchange().unwrap();
    let mint = sb.create_mint_with(9, SPL_TOKEN);
    let args = ListCollateralArgs {
        oracle: pull_oracle(SOL_FEED),
        haircut: haircut(0, 9_000, &[]),
        deposit_cap: 5_000,
    };
    let ix = sb.list_collateral_ix(fx.governance.pubkey(), mint, args);
    let landed = sb.send(&[ix], &[&fx.governance]).unwrap_or_else(|f| panic!("{f}"));
    cu::record("list_collateral", "pull-oracle asset, SPL Token", landed.compute_units, LIST_CEILING);
    let r = sb.registry().unwrap();
    assert_eq!(r.collateral_count, 2);
    let c = &r.collaterals[1];
    assert_eq!((c.mint, c.decimals, c.deposit_cap, c.total_deposits), (mint, 9, 5_000, 0));
    assert_eq!(c.haircut.initial_asset_weight_bps, 0);
    assert_eq!(c.oracle, pull_oracle(SOL_FEED));
    assert_eq!(c.vault, pda::vault(&pda::exchange(), &mint));
    assert_eq!(sb.token_amount(&c.vault), Some(0));
    // The quote asset was listed at genesis, at weight 1.
    assert_eq!(r.collaterals[0].mint, fx.quote_mint);
    assert_eq!(r.collaterals[0].haircut.initial_asset_weight_bps, 10_000);
}

#[test]
fn listing_rejections() {
    let mut v = Venue::new();
    let mint = v.sb.create_mint_with(6, SPL_TOKEN);
    let ok =
        ListCollateralArgs { oracle: pull_oracle([1; 32]), haircut: haircut(0, 9_000, &[]), deposit_cap: 1 };
    let guardian = v.fx.guardian.insecure_clone();
    let ix = v.sb.list_collateral_ix(guardian.pubkey(), mint, ok.clone());
    assert_error(&v.sb.send(&[ix], &[&guardian]).unwrap_err(), XmarginError::NotGovernance);
    let cases = [
        (
            ListCollateralArgs { haircut: haircut(1, 9_000, &[]), ..ok.clone() },
            XmarginError::ListingMustStartAtZeroWeight,
        ),
        (ListCollateralArgs { haircut: haircut(0, 10_001, &[]), ..ok.clone() }, XmarginError::InvalidHaircut),
        (
            ListCollateralArgs { haircut: haircut(0, 9_000, &[(10, 0, 9_500)]), ..ok.clone() },
            XmarginError::InvalidHaircut,
        ),
        (ListCollateralArgs { deposit_cap: 0, ..ok.clone() }, XmarginError::InvalidDepositCap),
        (
            ListCollateralArgs {
                oracle: OracleConfig { max_staleness_secs: 0, ..pull_oracle([1; 32]) },
                ..ok.clone()
            },
            XmarginError::InvalidOracleConfig,
        ),
        (
            ListCollateralArgs {
                oracle: OracleConfig { kind: kind::QUOTE, ..pull_oracle([1; 32]) },
                ..ok.clone()
            },
            XmarginError::OracleKindUnsupported,
        ),
    ];
    for (args, expected) in cases {
        assert_error(&v.list(mint, args).unwrap_err(), expected);
    }
    assert_error(&v.list(v.sol.mint, ok.clone()).unwrap_err(), XmarginError::CollateralAlreadyListed);
    assert_eq!(v.sb.registry().unwrap().collateral_count, 3, "nothing was listed");
}

#[test]
fn deposits_and_withdrawals_across_three_assets_keep_the_vaults_whole() {
    let mut v = Venue::new();
    let a = v.trader([10_000_000_000, 100_000_000_000, 1_000_000_000]);
    let b = v.trader([5_000_000_000, 0, 0]);
    let cu_usdc = v.deposit(&a, 0, 2_000_000_000).unwrap_or_else(|f| panic!("{f}"));
    cu::record("deposit", "SPL Token quote asset, new balance slot", cu_usdc, DEPOSIT_CEILING);
    v.assert_invariant(&[&a, &b]);
    let cu_sol = v.deposit(&a, 1, 50_000_000_000).unwrap_or_else(|f| panic!("{f}"));
    cu::record("deposit", "SPL Token asset with pull oracle", cu_sol, DEPOSIT_CEILING);
    v.assert_invariant(&[&a, &b]);
    let cu_eth = v.deposit(&a, 2, 300_000_000).unwrap_or_else(|f| panic!("{f}"));
    cu::record("deposit", "Token-2022 asset with legacy oracle", cu_eth, DEPOSIT_CEILING);
    v.assert_invariant(&[&a, &b]);
    v.deposit(&b, 0, 1_000_000).unwrap();
    let cu_again = v.deposit(&a, 0, 1).unwrap();
    cu::record("deposit", "existing balance slot", cu_again, DEPOSIT_CEILING);
    v.assert_invariant(&[&a, &b]);
    assert_eq!(
        (v.balance(&a, 0), v.balance(&a, 1), v.balance(&a, 2)),
        (2_000_000_001, 50_000_000_000, 300_000_000)
    );

    let w = v.withdraw(&a, 1, 20_000_000_000).unwrap_or_else(|f| panic!("{f}"));
    cu::record("withdraw", "SPL asset, 3 balances, 2 oracles", w, WITHDRAW_CEILING);
    v.assert_invariant(&[&a, &b]);
    let w = v.withdraw(&a, 2, 300_000_000).unwrap_or_else(|f| panic!("{f}"));
    cu::record("withdraw", "Token-2022 asset, whole balance", w, WITHDRAW_CEILING);
    v.assert_invariant(&[&a, &b]);
    v.withdraw(&a, 0, 2_000_000_001).unwrap();
    v.assert_invariant(&[&a, &b]);
    assert_eq!(v.sb.token_amount(&a.accounts[1]), Some(70_000_000_000));
    assert_eq!(v.sb.token_amount(&a.accounts[2]), Some(1_000_000_000));
}

#[test]
fn deposit_rejections_move_nothing() {
    let mut v = Venue::new();
    let t = v.trader([1_000_000, 1_000_000, 200_000_000_000]);
    let before = v.sb.token_amount(&t.accounts[0]);
    assert_error(&v.deposit(&t, 0, 0).unwrap_err(), XmarginError::ZeroAmount);
    // ETH's cap is 1,000 ETH (10^11 native units).
    assert_error(&v.deposit(&t, 2, 100_000_000_001).unwrap_err(), XmarginError::DepositCapExceeded);
    // A fake mint (never listed) with the trader's tokens: its vault does not exist...
    let fake = v.sb.create_mint_with(6, SPL_TOKEN);
    let fake_account = v.sb.create_token_account(&fake, &t.owner.pubkey(), 1_000);
    let ix = v.sb.deposit_ix(t.owner.pubkey(), t.portfolio, fake, fake_account, 10);
    let failure = v.sb.send(&[ix], &[&t.owner]).unwrap_err();
    assert_eq!(failure.custom_code(), Some(3012), "Anchor AccountNotInitialized (vault): {failure}");
    // ...and naming the real USDC vault for it is caught by the listing check.
    let mut ix = v.sb.deposit_ix(t.owner.pubkey(), t.portfolio, fake, fake_account, 10);
    ix.accounts[6].pubkey = pda::vault(&pda::exchange(), &v.usdc.mint);
    assert_error(&v.sb.send(&[ix], &[&t.owner]).unwrap_err(), XmarginError::CollateralNotListed);
    // The SOL vault named for a USDC deposit.
    let mut ix = v.sb.deposit_ix(t.owner.pubkey(), t.portfolio, v.usdc.mint, t.accounts[0], 10);
    ix.accounts[6].pubkey = pda::vault(&pda::exchange(), &v.sol.mint);
    assert!(v.sb.send(&[ix], &[&t.owner]).is_err(), "a vault of another mint is refused");
    let mut ix = v.sb.deposit_ix(t.owner.pubkey(), t.portfolio, v.usdc.mint, t.accounts[0], 10);
    ix.accounts[6].pubkey = v.sb.create_token_account(&v.usdc.mint, &v.sb.payer_key(), 0);
    assert_error(&v.sb.send(&[ix], &[&t.owner]).unwrap_err(), XmarginError::VaultMismatch);
    // The quote ledger goes with a quote deposit, and only with it (a non-quote deposit
    // writes no account shared beyond its vault).
    let mut ix = v.sb.deposit_ix(t.owner.pubkey(), t.portfolio, v.usdc.mint, t.accounts[0], 10);
    ix.accounts[3] = AccountMeta::new_readonly(xmargin::ID, false);
    assert_error(&v.sb.send(&[ix], &[&t.owner]).unwrap_err(), XmarginError::QuoteLedgerMismatch);
    let mut ix = v.sb.deposit_ix(t.owner.pubkey(), t.portfolio, v.sol.mint, t.accounts[1], 10);
    assert_eq!(ix.accounts[3].pubkey, xmargin::ID, "no ledger for SOL");
    ix.accounts[3] = AccountMeta::new(pda::quote_ledger(&pda::exchange()), false);
    assert_error(&v.sb.send(&[ix], &[&t.owner]).unwrap_err(), XmarginError::QuoteLedgerMismatch);
    // Reduce-only (set by the guardian): no deposits, withdrawals still work.
    let mut p = xmargin::state::CollateralRiskParams::of(&v.sb.registry().unwrap().collaterals[1]);
    p.reduce_only = 1;
    let guardian = v.fx.guardian.insecure_clone();
    let ix = v.sb.tighten_risk_ix(
        guardian.pubkey(),
        xmargin::instructions::TightenRiskArgs { collateral: 1, params: p },
    );
    v.sb.send(&[ix], &[&guardian]).unwrap_or_else(|f| panic!("{f}"));
    assert_error(&v.deposit(&t, 1, 10).unwrap_err(), XmarginError::CollateralReduceOnly);
    // Paused deposits.
    let ix = v.sb.set_pause_ix(v.fx.guardian.pubkey(), pause::DEPOSITS);
    v.sb.send(&[ix], &[&guardian]).unwrap();
    assert_error(&v.deposit(&t, 0, 10).unwrap_err(), XmarginError::DepositsPaused);
    assert_eq!(v.sb.token_amount(&t.accounts[0]), before);
    v.assert_invariant(&[&t]);
}

#[test]
fn a_withdrawal_that_breaks_initial_health_fails_and_moves_no_tokens() {
    let mut v = Venue::new();
    let t = v.trader([0, 10_000_000_000, 0]);
    v.deposit(&t, 1, 10_000_000_000).unwrap(); // 10 SOL at $150, initial weight 0.8 → 1,200
                                               // A 1,000 USDC liability, as a trading loss would leave (trading is a later issue).
    v.sb.patch_zero_copy::<Portfolio>(&t.portfolio, |p| {
        let slot = p.balance_mut_or_insert(0).unwrap();
        slot.amount = -1_000_000_000;
    });
    // Liability weighs 1.0 for the quote: health = 0.8 × 10 × 149.95 − 1,000 = 199.6.
    let oracles = v.oracles_for(&t.portfolio);
    let (h, _) = v.sb.health(t.portfolio, &oracles).unwrap();
    assert!((fx_bits_to_f64(h.initial_health) - 199.6).abs() < 1e-6, "{}", fx_bits_to_f64(h.initial_health));
    // Taking 2 SOL leaves 0.8 × 8 × 149.95 − 1,000 < 0.
    let before = v.sb.token_amount(&t.accounts[1]);
    assert_error(&v.withdraw(&t, 1, 2_000_000_000).unwrap_err(), XmarginError::InsufficientHealth);
    assert_eq!(v.sb.token_amount(&t.accounts[1]), before);
    assert_eq!(v.balance(&t, 1), 10_000_000_000);
    // 1 SOL is fine: 0.8 × 9 × 149.95 − 1,000 = 79.64.
    v.withdraw(&t, 1, 1_000_000_000).unwrap_or_else(|f| panic!("{f}"));
}

#[test]
fn a_pushed_spot_above_its_ema_does_not_raise_borrowing_power() {
    let mut v = Venue::new();
    let t = v.trader([0, 10_000_000_000, 0]);
    v.deposit(&t, 1, 10_000_000_000).unwrap(); // 10 SOL
    let oracles = v.oracles_for(&t.portfolio);
    let (before, _) = v.sb.health(t.portfolio, &oracles).unwrap();
    // Spot pushed from $150 to $300 while the EMA is still $150: the asset stays at $150.
    let q = v.sb.quote(30_000, 5, -2);
    v.sb.put_pull_oracle_with_ema(v.sol.oracle, SOL_FEED, &q, 15_000);
    let (pushed, _) = v.sb.health(t.portfolio, &oracles).unwrap();
    assert_eq!(pushed.initial_health, before.initial_health);
    // Equity uses the same conservative price as health.
    assert_eq!(pushed.equity, before.equity);
    // A spot below the EMA counts at the spot.
    let q = v.sb.quote(10_000, 5, -2);
    v.sb.put_pull_oracle_with_ema(v.sol.oracle, SOL_FEED, &q, 15_000);
    let (dropped, _) = v.sb.health(t.portfolio, &oracles).unwrap();
    assert!((fx_bits_to_f64(dropped.initial_health) - 0.8 * 10.0 * 99.95).abs() < 1e-6);
}

#[test]
fn a_stale_oracle_blocks_only_what_depends_on_it() {
    let mut v = Venue::new();
    let t = v.trader([1_000_000_000, 10_000_000_000, 0]);
    v.deposit(&t, 0, 1_000_000_000).unwrap();
    v.deposit(&t, 1, 10_000_000_000).unwrap();
    v.sb.warp(120); // SOL's price is now two minutes old (limit: 60 s).
    let oracles = v.oracles_for(&t.portfolio);
    // Withdrawing USDC still works: SOL counts for nothing, and no liability depends on it.
    v.withdraw_with(&t, 0, 500_000_000, &oracles).unwrap_or_else(|f| panic!("{f}"));
    // So does withdrawing SOL itself (it was counted at zero anyway).
    v.withdraw_with(&t, 1, 1_000_000_000, &oracles).unwrap_or_else(|f| panic!("{f}"));
    v.assert_invariant(&[&t]);
    // With a USDC liability, SOL's value is needed and is not available: the health check
    // fails instead of trusting a stale price.
    v.sb.patch_zero_copy::<Portfolio>(&t.portfolio, |p| {
        p.balance_mut_or_insert(0).unwrap().amount = -100_000_000
    });
    assert_error(&v.withdraw_with(&t, 1, 1_000_000, &oracles).unwrap_err(), XmarginError::InsufficientHealth);
}

#[test]
fn oracle_substitution_and_wrong_oracle_lists_fail() {
    let mut v = Venue::new();
    let t = v.trader([0, 10_000_000_000, 1_000_000_000]);
    v.deposit(&t, 1, 1_000_000_000).unwrap();
    v.deposit(&t, 2, 100_000_000).unwrap();
    // A genuine Pyth update for SOL's feed posted at another address (any caller can post
    // one): only the configured feed account is read, so no caller chooses among prices.
    let q = v.sb.quote(15_000, 5, -2);
    let posted = Keypair::new().pubkey();
    v.sb.put_pull_oracle(posted, SOL_FEED, &q, true);
    assert_error(
        &v.withdraw_with(&t, 1, 1, &[posted, v.eth.oracle]).unwrap_err(),
        XmarginError::OracleWrongAccount,
    );
    // Another feed's update in SOL's feed account.
    v.sb.put_pull_oracle(v.sol.oracle, [0x51; 32], &q, true);
    let right = [v.sol.oracle, v.eth.oracle];
    assert_error(&v.withdraw_with(&t, 1, 1, &right).unwrap_err(), XmarginError::OracleWrongFeed);
    // A partially verified update in SOL's feed account: a soft failure, SOL counts for
    // nothing for its own trader, nothing is owed, so the withdrawal goes through.
    v.sb.put_pull_oracle(v.sol.oracle, SOL_FEED, &q, false);
    v.withdraw_with(&t, 1, 1, &right).unwrap_or_else(|f| panic!("{f}"));
    v.sb.put_pull_oracle(v.sol.oracle, SOL_FEED, &q, true);
    // A legacy account that is not ETH's configured account, owned by the Pyth program.
    let impostor = Keypair::new().pubkey();
    let q = v.sb.quote(300_000, 100, -2);
    v.sb.put_legacy_oracle(impostor, v.pyth_program, &q, 1);
    assert_error(
        &v.withdraw_with(&t, 1, 1, &[v.sol.oracle, impostor]).unwrap_err(),
        XmarginError::OracleWrongAccount,
    );
    // The right account data under the wrong owner.
    let genuine = v.sb.svm.get_account(&v.sol.oracle).unwrap();
    let mut forged = genuine.clone();
    forged.owner = Keypair::new().pubkey();
    v.sb.svm.set_account(v.sol.oracle, forged).unwrap();
    assert_error(&v.withdraw_with(&t, 1, 1, &right).unwrap_err(), XmarginError::OracleWrongOwner);
    v.sb.svm.set_account(v.sol.oracle, genuine).unwrap();
    // Missing or extra oracle accounts.
    assert_error(
        &v.withdraw_with(&t, 1, 1, &[v.sol.oracle]).unwrap_err(),
        XmarginError::OracleAccountsMismatch,
    );
    let extra = [v.sol.oracle, v.eth.oracle, v.sol.oracle];
    assert_error(&v.withdraw_with(&t, 1, 1, &extra).unwrap_err(), XmarginError::OracleAccountsMismatch);
    v.assert_invariant(&[&t]);
}

#[test]
fn only_the_owner_withdraws_and_manages_the_portfolio() {
    let mut v = Venue::new();
    let t = v.trader([1_000_000, 0, 0]);
    v.deposit(&t, 0, 1_000_000).unwrap();
    let delegate = v.sb.funded_keypair();
    let ix = v.sb.set_delegate_ix(t.owner.pubkey(), t.portfolio, delegate.pubkey());
    let landed = v.sb.send(&[ix], &[&t.owner]).unwrap();
    cu::record("set_delegate", "owner sets a delegate", landed.compute_units, 10_000);
    assert_eq!(v.sb.portfolio(&t.portfolio).unwrap().delegate, delegate.pubkey());
    // The delegate (or anyone else) cannot withdraw, re-delegate or close.
    let to = v.sb.create_token_account(&v.usdc.mint, &delegate.pubkey(), 0);
    let ix = v.sb.withdraw_ix(delegate.pubkey(), t.portfolio, v.usdc.mint, to, 1, &[]);
    assert_error(&v.sb.send(&[ix], &[&delegate]).unwrap_err(), XmarginError::NotPortfolioOwner);
    let ix = v.sb.set_delegate_ix(delegate.pubkey(), t.portfolio, delegate.pubkey());
    assert_error(&v.sb.send(&[ix], &[&delegate]).unwrap_err(), XmarginError::NotPortfolioOwner);
    let ix = v.sb.close_portfolio_ix(delegate.pubkey(), t.portfolio);
    assert_error(&v.sb.send(&[ix], &[&delegate]).unwrap_err(), XmarginError::NotPortfolioOwner);
    // More than the balance, and paused withdrawals.
    assert_error(&v.withdraw(&t, 0, 1_000_001).unwrap_err(), XmarginError::InsufficientBalance);
    assert_error(&v.withdraw(&t, 1, 1).unwrap_err(), XmarginError::InsufficientBalance);
    let ix = v.sb.set_pause_ix(v.fx.guardian.pubkey(), pause::WITHDRAWALS);
    let guardian = v.fx.guardian.insecure_clone();
    v.sb.send(&[ix], &[&guardian]).unwrap();
    assert_error(&v.withdraw(&t, 0, 1).unwrap_err(), XmarginError::WithdrawalsPaused);
    v.assert_invariant(&[&t]);
}

#[test]
fn portfolio_lifecycle() {
    let mut v = Venue::new();
    let t = v.trader([1_000, 0, 0]);
    let ix = v.sb.open_portfolio_ix(t.owner.pubkey(), 0);
    assert_error(&v.sb.send(&[ix], &[&t.owner]).unwrap_err(), XmarginError::PortfolioAlreadyExists);
    let ix = v.sb.open_portfolio_ix(t.owner.pubkey(), 1);
    let landed = v.sb.send(&[ix], &[&t.owner]).unwrap();
    cu::record("open_portfolio", "second portfolio of an owner", landed.compute_units, 30_000);
    v.deposit(&t, 0, 1_000).unwrap();
    let ix = v.sb.close_portfolio_ix(t.owner.pubkey(), t.portfolio);
    assert_error(&v.sb.send(&[ix], &[&t.owner]).unwrap_err(), XmarginError::PortfolioNotEmpty);
    v.withdraw(&t, 0, 1_000).unwrap();
    let lamports_before = v.sb.svm.get_balance(&t.owner.pubkey()).unwrap();
    let ix = v.sb.close_portfolio_ix(t.owner.pubkey(), t.portfolio);
    let landed = v.sb.send(&[ix], &[&t.owner]).unwrap();
    cu::record("close_portfolio", "empty portfolio", landed.compute_units, 10_000);
    assert!(v.sb.svm.get_account(&t.portfolio).is_none_or(|a| a.lamports == 0));
    assert!(v.sb.svm.get_balance(&t.owner.pubkey()).unwrap() > lamports_before, "rent returned to the owner");
}

#[test]
fn refresh_health_returns_what_the_risk_engine_computes() {
    use xmargin_risk::collateral::{Balance, CollateralMarket, HaircutSchedule, Tier};
    use xmargin_risk::fx::Fx;
    let mut v = Venue::new();
    // 12,000 SOL crosses both tiers (above 1,000 and 10,000 SOL).
    let t = v.trader([5_000_000_000, 12_000_000_000_000, 200_000_000]);
    v.deposit(&t, 0, 5_000_000_000).unwrap();
    v.deposit(&t, 1, 12_000_000_000_000).unwrap();
    v.deposit(&t, 2, 200_000_000).unwrap();
    let oracles = v.oracles_for(&t.portfolio);
    let (h, cu_used) = v.sb.health(t.portfolio, &oracles).unwrap();
    cu::record("refresh_health", "3 assets, 2 oracles, tiers", cu_used, WITHDRAW_CEILING);
    let w = |bps: u32| Fx::from_num(bps) / 10_000;
    let sol = {
        let mut s = HaircutSchedule::flat(w(8_000), w(9_000), w(12_000), w(11_000));
        s.tiers[0] =
            Tier { above: Fx::from_num(1_000), initial_weight: w(7_000), maintenance_weight: w(8_000) };
        s.tiers[1] =
            Tier { above: Fx::from_num(10_000), initial_weight: w(5_000), maintenance_weight: w(6_000) };
        s.tier_count = 2;
        s
    };
    let one = Fx::ONE;
    let markets = [
        CollateralMarket {
            index: 0,
            price: one,
            conf: Fx::ZERO,
            schedule: HaircutSchedule::flat(one, one, one, one),
            link: None,
        },
        CollateralMarket {
            index: 1,
            price: Fx::from_num(150),
            conf: Fx::from_num(0.05),
            schedule: sol,
            link: None,
        },
        CollateralMarket {
            index: 2,
            price: Fx::from_num(3_000),
            conf: Fx::from_num(1),
            schedule: HaircutSchedule::flat(w(7_500), w(8_500), w(12_000), w(11_000)),
            link: None,
        },
    ];
    let balances = [
        Balance { collateral: 0, amount: Fx::from_num(5_000) },
        Balance { collateral: 1, amount: Fx::from_num(12_000) },
        Balance { collateral: 2, amount: Fx::from_num(2) },
    ];
    let market = xmargin_risk::Market { now: 0, underlyings: &[] };
    let want =
        xmargin_risk::margin(&[], &balances, &markets, &market, &xmargin_risk::MarginParams::REFERENCE)
            .unwrap();
    let close = |a: i128, b: Fx| (fx_bits_to_f64(a) - b.to_num::<f64>()).abs() < 1e-6;
    assert!(close(h.equity, want.equity), "equity {} vs {}", fx_bits_to_f64(h.equity), want.equity);
    assert!(close(h.initial_health, want.initial_health));
    assert!(close(h.maintenance_health, want.maintenance_health));
    // Equity at mid: 5,000 + 12,000 × 150 + 2 × 3,000.
    assert!((fx_bits_to_f64(h.equity) - 1_811_000.0).abs() < 1e-6);
}

#[test]
fn withdraw_with_sixteen_collateral_assets_stays_under_its_ceiling() {
    let mut v = Venue::new();
    let t = v.trader([1_000_000_000, 1_000_000_000, 100_000_000]);
    v.deposit(&t, 0, 1_000_000_000).unwrap();
    v.deposit(&t, 1, 1_000_000_000).unwrap();
    v.deposit(&t, 2, 100_000_000).unwrap();
    // 13 more pull-oracle assets (16 with USDC, SOL and ETH), one unit of each deposited.
    let mut oracles = vec![v.sol.oracle, v.eth.oracle];
    for i in 0..13u8 {
        let mint = v.sb.create_mint_with(6, SPL_TOKEN);
        let feed = [0x60 + i; 32];
        let oracle = sponsored_feed_account(feed);
        let q = v.sb.quote(100 + i64::from(i), 1, -2);
        v.sb.put_pull_oracle(oracle, feed, &q, true);
        let args = ListCollateralArgs {
            oracle: pull_oracle(feed),
            haircut: haircut(0, 9_000, &[]),
            deposit_cap: u64::MAX,
        };
        v.list(mint, args).unwrap_or_else(|f| panic!("{f}"));
        let source = v.sb.create_token_account(&mint, &t.owner.pubkey(), 1_000_000);
        let ix = v.sb.deposit_ix(t.owner.pubkey(), t.portfolio, mint, source, 1_000_000);
        v.sb.send(&[ix], &[&t.owner]).unwrap_or_else(|f| panic!("{f}"));
        oracles.push(oracle);
    }
    assert_eq!(v.sb.registry().unwrap().collateral_count, 16);
    assert_eq!(v.sb.portfolio(&t.portfolio).unwrap().active_balances().count(), 16);
    let w = v.withdraw_with(&t, 0, 500_000_000, &oracles).unwrap_or_else(|f| panic!("{f}"));
    cu::record("withdraw", "16 collateral assets, 15 oracles", w, WITHDRAW_CEILING);
    println!("withdraw with 16 collateral assets: {w} CU");
    // A 17th listing finds no slot.
    let mint = v.sb.create_mint_with(6, SPL_TOKEN);
    let args = ListCollateralArgs {
        oracle: pull_oracle([0x99; 32]),
        haircut: haircut(0, 9_000, &[]),
        deposit_cap: 1,
    };
    assert_error(&v.list(mint, args).unwrap_err(), XmarginError::RegistryFull);
}
