//! Issue 13's adversarial randomized sequence: a seeded run of 5,000 operations on the
//! compiled .so by actors who try to take value that is not theirs, with the venue's
//! conservation laws checked after every step.
//!
//! **Actors.** Four owners with three portfolios each — portfolio 1 delegated to the next
//! owner, portfolio 2 to the liquidator, each with a slippage allowance — and a liquidator
//! with one deep portfolio. Owners trade perps and options at any price of the band (the
//! edges included, and one tick outside), against strangers and against their own other
//! portfolios (colluding pairs); delegates trade their principals' portfolios against their
//! own; anyone deposits into anyone's portfolio, withdraws random (often too large) amounts,
//! or signs for a portfolio it has no right to; liquidators pick targets, instruments and
//! sizes and sometimes pass another, copied, missing or extra oracle / market account;
//! keepers choose when to crank funding, marks and settlement; governance proposes and
//! executes timelocked changes; the guardian tightens (and tries to loosen). Prices only move
//! in explicit price-move steps (one underlying or the collateral, ±1–15%, on whole quote
//! units); time only in warp steps (which stop at every expiry, where the feed's update is
//! kept as the settlement update).
//!
//! **Valuation.** After every step every portfolio is valued off-chain from its raw account,
//! exactly, in units of 10⁻⁸ quote native units: its quote balance after the socialized-loss
//! index, per perp basis + pending funding + size × spot, per option size × the venue's mark
//! (the model price `trade` bands around: Black–Scholes at the oracle spot and the registry's
//! vol, floored to native units; once expired the intrinsic value at the recorded price — or,
//! before it is recorded, at the expiry's price), and its collateral × the oracle price. An
//! actor's value is its wallet tokens plus its portfolios' equity.
//!
//! **Invariants after every step** (a failure names the seed, the step and the operation):
//! 1. tokens are conserved per mint (wallets + vault + insurance accounts); the collateral
//!    vault holds exactly Σ collateral balances;
//! 2. every instrument's sizes sum to zero over all portfolios (less what `settle_expired` has
//!    already paid out of a settled series) and open interest = Σ long sizes;
//! 3. the quote vault holds what portfolios can claim: vault − Σ (quote balance after losses,
//!    perp basis and pending funding, settled option payoffs still owed) is a dust in
//!    [0, 2 × perp fills + open perps + 2 × portfolios per socialized loss] native units
//!    (fills are zero-sum, fees go to insurance, funding and haircuts round toward the venue);
//!    so Σ over actors of (equity + withdrawn − deposited) + insurance + dust is constant; and
//!    the registry's and the markets' `positive_quote_delta` shards cover Σ
//!    positive quote balances (the insurance fund counts the markets' unswept fees);
//! 4. a rejected operation changes no byte of any account it names, and one that had to be
//!    rejected (forged signer or account, price outside the band or the delegate's slippage)
//!    is;
//! 5. a landed operation moves value exactly as its event says — a fill at its price against
//!    the mark with the scheduled fees, a liquidation at its transfer price, a deposit or
//!    withdrawal by its amount — and nothing else changes: no actor gains without a
//!    counterparty that consented (its owner or delegate signed), a colluding fill between one
//!    owner's portfolios costs that owner exactly the fees, a delegate-signed fill costs the
//!    principal at most |units| × (slippage × spot + one tick) + its fee, and a liquidator
//!    buys at most the discount below the mark;
//! 6. no bad debt without a market move (price move, warp: time value and funding, or a vol
//!    change): otherwise a portfolio's deficit (negative equity) only grows by its own fill's
//!    fee and one tick per unit (the health gate's tolerance for unhealthy fills), by the
//!    discount it concedes when liquidated while insolvent, or by a socialized haircut — each
//!    counted and printed with examples (the insurance fund ends up paying them);
//! 7. the insurance fund (quote + taken-over collateral) loses value only in
//!    `resolve_bankruptcy`, and then the fund and the quote holders together bear at most the
//!    deficit the portfolio had right after the last market move plus the growth allowed in 6,
//!    the holders only what the fund's quote could not cover;
//! 8. a self-liquidation (the program allows it: the owner's portfolios together lose the
//!    insurance share) does not raise the owner's withdrawable value — its solvent portfolios'
//!    equity plus the insolvent one's floored at zero (a deficit is never paid by its owner).
//!
//! Every 100 steps and after each price move, `refresh_health` of every portfolio is compared
//! with the off-chain equity (exact for portfolios without options) and its maintenance health
//! tells the liquidators whom to go after. Signatures: every signer signs with its own key, so
//! the SVM's ed25519 verification (12 ms a signature in the debug build) is switched off; the
//! program sees the same signer flags.
//!
//! `XMARGIN_SEQ_SEED` (decimal or 0x-hex) replays a run; `XMARGIN_SEQ_OPS` changes its length.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;
use xmargin::events::{
    BankruptcyResolved, CollateralLiquidated, CollateralTakenOver, PositionSettled, PositionsLiquidated,
    TradeFilled,
};
use xmargin::instructions::{HealthView, RiskChangeArgs, TightenRiskArgs};
use xmargin::state::{
    instrument_kind, option_kind, CollateralRiskParams, Market, OptionSeries, Portfolio, OPTION_FEE_CAP_BPS,
    PERP_INSTRUMENT,
};
use xmargin_risk::bs::greeks;
use xmargin_risk::fx::{from_mantissa, from_native, to_native_floor, years_from_seconds};
use xmargin_risk::socialized::balance_after_losses;
use xmargin_sandbox::liquidation::LiquidationAccounts;
use xmargin_sandbox::venue::{budget_ixs, Trader, Venue, PRICE_EXPO, TICK};
use xmargin_sandbox::{events, pda, Pubkey, TxFailure, TxSuccess, DEFAULT_TIMELOCK_SECS};

const DEFAULT_SEED: u64 = 0xa;
const DEFAULT_OPS: usize = 5_000;
/// One quote unit (USDC) in native units.
const USDC: u64 = 1_000_000;
/// Value units per quote native unit: 10^COLL_DECIMALS, so that collateral × price is exact.
const S: i128 = 100_000_000;
const COLL_DECIMALS: u8 = 8;
/// Value units per lot × (quote native units per underlying unit): lots are 0.01 units.
const PER_LOT: i128 = S / 100;
/// SOL and ETH (quote native units per unit), and the collateral (BTC, per whole token).
const PRICES: [i64; 2] = [150_000_000, 3_000_000_000];
const BTC: i64 = 60_000_000_000;
const OWNERS: usize = 4;
const PORTFOLIOS_PER_OWNER: u16 = 3;
/// The liquidator's actor index.
const LIQUIDATOR: usize = OWNERS;
const SWEEP_EVERY: usize = 100;

/// splitmix64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len() as u64) as usize])
    }
    /// Log-uniform in `1..2^(max_pow2 + 1)`.
    fn log_uniform(&mut self, max_pow2: u32) -> u64 {
        let base = 1u64 << self.below(u64::from(max_pow2) + 1);
        base + self.below(base)
    }
}

fn env_seed() -> u64 {
    match std::env::var("XMARGIN_SEQ_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            };
            parsed.unwrap_or_else(|| panic!("XMARGIN_SEQ_SEED={s}: not a u64"))
        }
        Err(_) => DEFAULT_SEED,
    }
}

fn env_ops() -> usize {
    std::env::var("XMARGIN_SEQ_OPS").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(DEFAULT_OPS)
}

/// The spot a program instruction sees for a published mantissa (quote native units).
fn program_spot(price: i64) -> i64 {
    let fx = from_mantissa(price, PRICE_EXPO).expect("price");
    to_native_floor(fx, 6).expect("price") as i64
}

/// Intrinsic value of one unit at `at` (quote native units).
fn intrinsic_native(kind: u8, strike: u64, at: i64) -> i64 {
    let (strike, at) = (strike as i64, at);
    if kind == instrument_kind::CALL {
        (at - strike).max(0)
    } else {
        (strike - at).max(0)
    }
}

/// The venue's model price of one unit, as `trade` computes it.
fn model_price(kind: u8, spot: i64, strike: u64, vol_bps: u32, seconds: i64) -> Option<i64> {
    let spot = from_mantissa(spot, PRICE_EXPO).ok()?;
    let strike = from_native(i128::from(strike), 6).ok()?;
    let vol = xmargin::state::units::bps(vol_bps).ok()?;
    let t = years_from_seconds(seconds).ok()?;
    let g = greeks(option_kind(kind), spot, strike, vol, t).ok()?;
    to_native_floor(g.price, 6).ok().map(|p| p as i64)
}

fn round_to_tick(price: i64) -> i64 {
    let tick = TICK as i64;
    ((price + tick / 2) / tick * tick).max(tick)
}

/// |a − b| × 10_000 ≤ reference × bps (the program's band test).
fn within_band(a: i64, b: i64, reference: i64, bps: u16) -> bool {
    i128::from(a.abs_diff(b)) * 10_000 <= i128::from(reference) * i128::from(bps)
}

/// Whether a side's fill of `lots` at `price` is at most `tolerance` worse than `mark`.
fn within_adverse(price: i64, mark: i64, lots: i64, tolerance: i64) -> bool {
    if lots > 0 {
        price <= mark + tolerance
    } else {
        price >= mark - tolerance
    }
}

fn error_name(f: &TxFailure) -> String {
    match f.custom_code() {
        Some(code) if code >= 6000 => {
            let name = f
                .logs
                .iter()
                .find_map(|l| l.split("Error Code: ").nth(1).and_then(|r| r.split('.').next()))
                .unwrap_or("?");
            format!("{name} ({code})")
        }
        Some(code) => format!("custom {code}"),
        None => format!("{:?}", f.error),
    }
}

struct Actor {
    kp: Keypair,
    wallet: Pubkey,
    coll_wallet: Pubkey,
    pfs: Vec<usize>,
}

struct Pf {
    key: Pubkey,
    owner: usize,
}

/// A timelocked proposal waiting for execution.
struct Proposal {
    id: u64,
    /// An underlying's parameters (vol: a market move when executed).
    underlying: bool,
    executable_at: i64,
}

/// The whole venue valued off-chain (value units: 10⁻⁸ quote native).
#[derive(Clone)]
struct View {
    eq: Vec<i128>,
    quote: Vec<i64>,
    coll: Vec<i64>,
    has_options: Vec<bool>,
    wallet_q: Vec<u64>,
    wallet_c: Vec<u64>,
    vault: u64,
    insurance: u64,
    coll_vault: u64,
    coll_insurance: u64,
    cprice: i64,
    /// vault × S − Σ claims.
    dust: i128,
    open_perps: u64,
    /// (underlying, instrument) → (Σ sizes, Σ long sizes).
    sizes: BTreeMap<(u8, u8), (i64, u64)>,
    /// (underlying, instrument) → open interest.
    oi: BTreeMap<(u8, u8), u64>,
    coll_total_deposits: u64,
    quote_total_deposits: u64,
    /// Σ markets' `fees_accrued` (included in `insurance`).
    accrued: u64,
}

/// What a landed operation may do to values.
enum Effect {
    /// No value moves.
    Nothing,
    /// `sweep_fees`: this many quote tokens move from the vault to the insurance vault, which
    /// were the fund's already (accrued in a market); no equity or wallet moves.
    FeesSwept(u64),
    /// A market move: values move with prices, time or vol; no token moves.
    Market,
    /// Exact moves: Δ equity per portfolio, Δ wallet tokens per actor (quote, collateral),
    /// Δ quote insurance; how much each portfolio's deficit may grow (and why); the most a
    /// delegate-signed fill may cost each principal portfolio.
    Exact {
        pf: Vec<(usize, i128)>,
        wallets: Vec<(usize, i64, i64)>,
        insurance: i64,
        tolerance: Vec<(usize, i128, &'static str)>,
        delegate_bounds: Vec<(usize, i128)>,
    },
    /// `resolve_bankruptcy` of a portfolio.
    Bankruptcy { target: usize, deficit: u64, insurance_paid: u64, socialized: u64, taken: u64 },
}

struct Outcome {
    kind: &'static str,
    desc: String,
    /// Not sent (no candidate for it).
    skipped: bool,
    landed: bool,
    /// Had to be rejected, and why.
    must_fail: Option<String>,
    effect: Effect,
    /// The ledger line of the actors' value changes.
    ledger: &'static str,
    /// Both sides of a fill belong to this owner.
    collusion: Option<usize>,
    /// A landed liquidation between one owner's portfolios: (target, liquidator).
    self_liquidation: Option<(usize, usize)>,
}

impl Outcome {
    fn new(kind: &'static str, desc: String) -> Self {
        Outcome {
            kind,
            desc,
            skipped: false,
            landed: false,
            must_fail: None,
            effect: Effect::Nothing,
            ledger: "none",
            collusion: None,
            self_liquidation: None,
        }
    }
    fn skipped(kind: &'static str) -> Self {
        Outcome { skipped: true, ..Outcome::new(kind, "no candidate".into()) }
    }
}

#[derive(Default)]
struct Stats {
    /// kind → (attempted, landed, skipped).
    ops: BTreeMap<&'static str, (u64, u64, u64)>,
    failures: BTreeMap<(&'static str, String), u64>,
    forged_rejected: u64,
    price_moves: u64,
    liquidations: u64,
    bankruptcies: u64,
    insurance_paid: u64,
    socialized: u64,
    collateral_taken: u64,
    forced_records: u64,
    /// Deficit growth without a market move, by cause: (count, native units).
    tolerated: BTreeMap<&'static str, (u64, i128)>,
    sweeps: u64,
    health_checked: u64,
    health_failed: BTreeMap<String, u64>,
    /// Largest |program equity − off-chain equity| of a portfolio holding options, native.
    option_equity_gap: i128,
    delegate_fills: u64,
    delegate_worst_ratio: f64,
    collusion_fills: u64,
    self_liquidations: u64,
    records_at_expiry: u64,
    bankruptcy_log: Vec<String>,
    /// The first deficit growths of each tolerated kind: step and operation.
    tolerated_examples: BTreeMap<&'static str, Vec<String>>,
    /// Σ over steps of the portfolios with negative equity.
    insolvent_steps: u64,
    /// Wall-clock time in the operations, the valuations and the health sweeps.
    time_ops: Duration,
    time_views: Duration,
    time_sweeps: Duration,
}

struct World {
    v: Venue,
    rng: Rng,
    seed: u64,
    actors: Vec<Actor>,
    pfs: Vec<Pf>,
    coll_index: u8,
    coll_mint: Pubkey,
    initial: [i64; 3],
    trend: [i64; 3],
    /// A crash in progress: (asset, further moves in the same direction).
    crash: Option<(usize, u32)>,
    /// (underlying, expiry) → spot at expiry, and the feed's update at expiry kept at its own
    /// address (a posted update).
    expiry_spot: HashMap<(u8, i64), i64>,
    expiry_update: HashMap<(u8, i64), Pubkey>,
    /// Σ sizes settle_expired has paid out, per (underlying, series).
    settled_sizes: HashMap<(u8, u8), i64>,
    /// Copies of accounts at other addresses (posted updates a liquidator could pass).
    copies: HashMap<Pubkey, Pubkey>,
    pending: Vec<Proposal>,
    /// Portfolios whose last `refresh_health` showed negative maintenance health, and those
    /// with negative equity now.
    candidates: BTreeSet<usize>,
    insolvent: BTreeSet<usize>,
    /// Per portfolio: the deficit that existed right after the last market move, plus the
    /// growth allowed since (value units); the deficit right after that move alone, and the
    /// market move after which it went negative (step, operation).
    explained: Vec<i128>,
    market_deficit: Vec<i128>,
    negative_since: Vec<Option<(usize, String)>>,
    tokens_q: u64,
    tokens_c: u64,
    perp_fills: u64,
    /// Portfolios × socialized losses: the haircuts' rounding bound (native units).
    social_dust: i128,
    /// Per actor: value at the start and the ledger of its changes (value units).
    start_value: Vec<i128>,
    ledger: Vec<BTreeMap<&'static str, i128>>,
    stats: Stats,
    violations: Vec<String>,
    step: usize,
    op: String,
}

impl World {
    fn new(seed: u64) -> World {
        let mut v = Venue::new(&PRICES).unwrap_or_else(|e| panic!("{e}"));
        // Every signer here signs with its own key, so the runtime's signer flags are all the
        // program sees; the ed25519 check (12 ms a signature in a debug build) is left out.
        let svm = std::mem::take(&mut v.sb.svm);
        v.sb.svm = svm.with_sigverify(false);
        let coll_index =
            v.list_collateral_asset(COLL_DECIMALS, BTC, 7_000, 8_500).unwrap_or_else(|f| panic!("{f}"));
        let coll_mint = v.collaterals[0].mint;
        v.fund_insurance(2_000 * USDC).unwrap_or_else(|f| panic!("{f}"));
        let quote_mint = v.fx.quote_mint;
        let mut actors = Vec::new();
        let mut pfs = Vec::new();
        for a in 0..=OWNERS {
            let kp = v.sb.funded_keypair();
            let wallet = v.sb.create_token_account(&quote_mint, &kp.pubkey(), 5_000_000 * USDC);
            let coll_wallet = v.sb.create_token_account(&coll_mint, &kp.pubkey(), 20 * 100_000_000);
            let count = if a == LIQUIDATOR { 1 } else { PORTFOLIOS_PER_OWNER };
            let mut mine = Vec::new();
            for index in 0..count {
                let ix = v.sb.open_portfolio_ix(kp.pubkey(), index);
                v.sb.send(&[ix], &[&kp]).unwrap_or_else(|f| panic!("{f}"));
                let key = pda::portfolio(&kp.pubkey(), index);
                let quote = if a == LIQUIDATOR {
                    2_000_000 * USDC
                } else {
                    (5_000 - 1_000 * u64::from(index)) * USDC
                };
                let ix = v.sb.deposit_ix(kp.pubkey(), key, quote_mint, wallet, quote);
                v.sb.send(&[ix], &[&kp]).unwrap_or_else(|f| panic!("{f}"));
                if index == 0 && a != LIQUIDATOR {
                    let ix = v.sb.deposit_ix(kp.pubkey(), key, coll_mint, coll_wallet, 20_000_000);
                    v.sb.send(&[ix], &[&kp]).unwrap_or_else(|f| panic!("{f}"));
                }
                mine.push(pfs.len());
                pfs.push(Pf { key, owner: a });
            }
            actors.push(Actor { kp, wallet, coll_wallet, pfs: mine });
        }
        // Delegates: portfolio 1 to the next owner (1%), portfolio 2 to the liquidator (at the mark).
        for a in 0..OWNERS {
            for (index, delegate, bps) in [(1usize, (a + 1) % OWNERS, 100u16), (2, LIQUIDATOR, 0)] {
                let owner = actors[a].kp.insecure_clone();
                let pf = pfs[actors[a].pfs[index]].key;
                let ix =
                    v.sb.set_delegate_with_slippage_ix(owner.pubkey(), pf, actors[delegate].kp.pubkey(), bps);
                v.sb.send(&[ix], &[&owner]).unwrap_or_else(|f| panic!("{f}"));
            }
        }
        let mut w = World {
            v,
            rng: Rng(seed),
            seed,
            actors,
            pfs,
            coll_index,
            coll_mint,
            initial: [PRICES[0], PRICES[1], BTC],
            trend: [1, -1, 1],
            crash: None,
            expiry_spot: HashMap::new(),
            expiry_update: HashMap::new(),
            settled_sizes: HashMap::new(),
            copies: HashMap::new(),
            pending: Vec::new(),
            candidates: BTreeSet::new(),
            insolvent: BTreeSet::new(),
            explained: Vec::new(),
            market_deficit: Vec::new(),
            negative_since: Vec::new(),
            tokens_q: 0,
            tokens_c: 0,
            perp_fills: 0,
            social_dust: 0,
            start_value: Vec::new(),
            ledger: Vec::new(),
            stats: Stats::default(),
            violations: Vec::new(),
            step: 0,
            op: "set-up".into(),
        };
        for u in 0..2u8 {
            w.list_series_at(u, 1);
            w.list_series_at(u, 2);
        }
        w.v.mark_all();
        let view = w.view();
        w.tokens_q = view.wallet_q.iter().sum::<u64>() + view.vault + view.insurance;
        w.tokens_c = view.wallet_c.iter().sum::<u64>() + view.coll_vault + view.coll_insurance;
        w.explained = vec![0; w.pfs.len()];
        w.market_deficit = vec![0; w.pfs.len()];
        w.negative_since = vec![None; w.pfs.len()];
        w.start_value = (0..w.actors.len()).map(|a| w.actor_value(&view, a)).collect();
        w.ledger = vec![BTreeMap::new(); w.actors.len()];
        w
    }

    // ---------------------------------------------------------------- accessors

    fn now(&self) -> i64 {
        self.v.sb.now().0
    }

    fn portfolio(&self, pf: usize) -> Portfolio {
        self.v.sb.portfolio(&self.pfs[pf].key).expect("portfolio")
    }

    /// The `Trader` view of a portfolio (the venue's instruction builders take one).
    fn trader(&self, pf: usize) -> Trader {
        let a = &self.actors[self.pfs[pf].owner];
        Trader { owner: a.kp.insecure_clone(), portfolio: self.pfs[pf].key, quote_account: a.wallet }
    }

    fn delegate_of(&self, pf: usize) -> Option<usize> {
        let d = self.portfolio(pf).delegate;
        (d != Pubkey::default()).then(|| self.actors.iter().position(|a| a.kp.pubkey() == d)).flatten()
    }

    fn spot(&self, u: u8) -> i64 {
        program_spot(self.v.underlyings[usize::from(u)].price)
    }

    fn live_series(&self, u: u8) -> Vec<u8> {
        let now = self.now();
        let m = self.v.market(u);
        (0..m.series_count).filter(|&i| m.series[usize::from(i)].expiry > now).collect()
    }

    fn random_pf(&mut self) -> usize {
        self.rng.below(self.pfs.len() as u64) as usize
    }

    fn other_pf(&mut self, not: usize) -> usize {
        let n = self.pfs.len();
        (not + 1 + self.rng.below(n as u64 - 1) as usize) % n
    }

    /// An actor that may not sign for `pf` (neither its owner nor its delegate).
    fn stranger(&mut self, pf: usize) -> usize {
        let p = self.portfolio(pf);
        let outsiders: Vec<usize> = (0..self.actors.len())
            .filter(|&a| {
                let k = self.actors[a].kp.pubkey();
                k != p.owner && k != p.delegate
            })
            .collect();
        self.rng.pick(&outsiders).expect("an outsider")
    }

    /// A copy of `original` at another address, refreshed to its current bytes.
    fn copy_of(&mut self, original: Pubkey) -> Pubkey {
        let account = self.v.sb.svm.get_account(&original).expect("account to copy");
        let at = *self.copies.entry(original).or_insert_with(Pubkey::new_unique);
        self.v.sb.svm.set_account(at, account).expect("copy");
        at
    }

    /// The venue's mark of one unit of an instrument now (quote native units).
    fn unit_value(&self, u: u8, instrument: u8) -> i64 {
        if instrument == PERP_INSTRUMENT {
            return self.spot(u);
        }
        let m = self.v.market(u);
        let vol = self.v.sb.registry().expect("registry").underlyings[usize::from(u)].implied_vol_bps;
        self.series_value(u, &m.series[usize::from(instrument)], vol, self.now())
    }

    fn series_value(&self, u: u8, s: &OptionSeries, vol_bps: u32, now: i64) -> i64 {
        if s.settlement_price != 0 {
            return intrinsic_native(s.kind, s.strike, s.settlement_price as i64);
        }
        let spot = self.spot(u);
        if now >= s.expiry {
            let at = self.expiry_spot.get(&(u, s.expiry)).copied().unwrap_or(spot);
            return intrinsic_native(s.kind, s.strike, round_to_tick(at));
        }
        model_price(s.kind, self.v.underlyings[usize::from(u)].price, s.strike, vol_bps, s.expiry - now)
            .unwrap_or_else(|| intrinsic_native(s.kind, s.strike, spot))
    }

    // ---------------------------------------------------------------- valuation

    fn view(&self) -> View {
        let now = self.now();
        let registry = self.v.sb.registry().expect("registry");
        let markets: Vec<Market> = (0..2u8).map(|u| self.v.market(u)).collect();
        let index = registry.quote_loss_index();
        let cprice = program_spot(self.v.collaterals[0].price);
        let mut values: HashMap<(u8, u8), i64> = HashMap::new();
        let mut sizes: BTreeMap<(u8, u8), (i64, u64)> = BTreeMap::new();
        let mut oi = BTreeMap::new();
        for (u, m) in markets.iter().enumerate() {
            oi.insert((u as u8, PERP_INSTRUMENT), m.perp_open_interest);
            for (i, s) in m.listed_series().iter().enumerate() {
                oi.insert((u as u8, i as u8), s.open_interest);
            }
        }
        let n = self.pfs.len();
        let (mut eq, mut quote, mut coll) = (vec![0i128; n], vec![0i64; n], vec![0i64; n]);
        let mut has_options = vec![false; n];
        let (mut claims, mut open_perps) = (0i128, 0u64);
        for (i, pf) in self.pfs.iter().enumerate() {
            let p: Portfolio = self.v.sb.portfolio(&pf.key).expect("portfolio");
            let stored = p.balance(0).map_or(0, |b| b.amount);
            quote[i] =
                balance_after_losses(stored, index, p.quote_loss_snapshot.get_or_one()).expect("loss index");
            coll[i] = p.balance(self.coll_index).map_or(0, |b| b.amount);
            let mut value = i128::from(quote[i]) * S;
            for slot in p.active_positions() {
                let u = slot.underlying as u8;
                let m = &markets[usize::from(u)];
                let e = sizes.entry((u, slot.series)).or_default();
                e.0 += slot.size;
                e.1 += slot.size.max(0) as u64;
                if slot.is_perp() {
                    open_perps += 1;
                    let funding = m.funding_index_at(now).expect("funding index");
                    let cash = xmargin::health::perp_cash(slot, funding, 6).expect("perp cash");
                    value +=
                        i128::from(cash) * S + i128::from(slot.size) * i128::from(self.spot(u)) * PER_LOT;
                } else {
                    has_options[i] = true;
                    let vol = registry.underlyings[usize::from(u)].implied_vol_bps;
                    let unit = *values.entry((u, slot.series)).or_insert_with(|| {
                        self.series_value(u, &m.series[usize::from(slot.series)], vol, now)
                    });
                    value += i128::from(slot.size) * i128::from(unit) * PER_LOT;
                }
            }
            claims += value;
            eq[i] = value + i128::from(coll[i]) * i128::from(cprice);
        }
        let token = |k: &Pubkey| self.v.sb.token_amount(k).unwrap_or(0);
        let exchange = pda::exchange();
        let vault = token(&pda::vault(&exchange, &self.v.fx.quote_mint));
        // Fees accrued in the markets are the insurance fund's, held in the quote vault until
        // `sweep_fees`; Σ positive quote balances is kept in shards (registry + markets).
        let accrued: u64 = markets.iter().map(|m| m.fees_accrued).sum::<u64>() + self.v.ledger_fees_accrued();
        claims += i128::from(accrued) * S;
        let shards: i64 = markets.iter().map(|m| m.positive_quote_delta).sum();
        let quote_total = i128::from(self.v.quote_ledger_shard()) + i128::from(shards);
        View {
            eq,
            quote,
            coll,
            has_options,
            wallet_q: self.actors.iter().map(|a| token(&a.wallet)).collect(),
            wallet_c: self.actors.iter().map(|a| token(&a.coll_wallet)).collect(),
            vault,
            insurance: token(&pda::insurance_vault(&exchange)) + accrued,
            accrued,
            coll_vault: token(&pda::vault(&exchange, &self.coll_mint)),
            coll_insurance: token(&pda::collateral_insurance(&exchange, &self.coll_mint)),
            cprice,
            dust: i128::from(vault) * S - claims,
            open_perps,
            sizes,
            oi,
            coll_total_deposits: registry.collaterals[usize::from(self.coll_index)].total_deposits,
            quote_total_deposits: u64::try_from(quote_total).expect("Σ positive quote balances ≥ 0"),
        }
    }

    fn actor_value(&self, view: &View, a: usize) -> i128 {
        let actor = &self.actors[a];
        i128::from(view.wallet_q[a]) * S
            + i128::from(view.wallet_c[a]) * i128::from(view.cprice)
            + actor.pfs.iter().map(|&p| view.eq[p]).sum::<i128>()
    }

    // ---------------------------------------------------------------- sending

    /// Sends a transaction; a rejected one must leave every account it names byte for byte.
    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<TxSuccess, TxFailure> {
        let skip = [
            self.v.sb.payer_key(),
            xmargin::ID,
            spl_token_interface::ID,
            anchor_lang::system_program::ID,
            Pubkey::from_str_const("ComputeBudget111111111111111111111111111111"),
        ];
        let keys: BTreeSet<Pubkey> = ixs
            .iter()
            .flat_map(|ix| ix.accounts.iter().map(|m| m.pubkey))
            .filter(|k| !skip.contains(k))
            .collect();
        let before: Vec<Option<Vec<u8>>> =
            keys.iter().map(|k| self.v.sb.svm.get_account(k).map(|a| a.data)).collect();
        let mut unique: Vec<&Keypair> = Vec::new();
        for s in signers {
            if !unique.iter().any(|u| u.pubkey() == s.pubkey()) {
                unique.push(s);
            }
        }
        let result = self.v.sb.send(ixs, &unique);
        if let Err(f) = &result {
            for (k, b) in keys.iter().zip(before) {
                let after = self.v.sb.svm.get_account(k).map(|a| a.data);
                if after != b {
                    let what = format!("rejected ({}) but account {k} changed", error_name(f));
                    self.violation(&what);
                }
            }
        }
        result
    }

    fn send_budget(&mut self, ix: Instruction, signers: &[&Keypair]) -> Result<TxSuccess, TxFailure> {
        let [a, b] = budget_ixs();
        self.send(&[a, b, ix], signers)
    }

    /// Starts an operation: violations found while it runs name it.
    fn begin(&mut self, kind: &'static str, desc: String) -> Outcome {
        self.op = format!("{kind}: {desc}");
        Outcome::new(kind, desc)
    }

    fn violation(&mut self, what: &str) {
        let line = format!("seed {:#x} step {} [{}]: {what}", self.seed, self.step, self.op);
        println!("VIOLATION {line}");
        self.violations.push(line);
    }

    /// Records a send's result in the outcome (and the failure histogram).
    fn settle(&mut self, out: &mut Outcome, result: &Result<TxSuccess, TxFailure>) {
        match result {
            Ok(_) => out.landed = true,
            Err(f) => {
                out.landed = false;
                *self.stats.failures.entry((out.kind, error_name(f))).or_default() += 1;
            }
        }
    }

    // ---------------------------------------------------------------- set-up helpers

    /// Lists an ATM call and put (and ±5% wings) expiring in `days` days.
    fn list_series_at(&mut self, u: u8, days: i64) -> usize {
        let expiry = self.v.expiry_in_days(days);
        let spot = self.spot(u);
        let unit = USDC as i64;
        let mut landed = 0;
        for (kind, pct) in [
            (instrument_kind::CALL, 100),
            (instrument_kind::PUT, 100),
            (instrument_kind::CALL, 105),
            (instrument_kind::PUT, 95),
        ] {
            let strike = (spot * pct / 100 / unit * unit) as u64;
            if self.v.market(u).series_count as usize >= xmargin::state::MAX_SERIES {
                break;
            }
            if self.v.list_series(u, kind, strike, expiry).is_ok() {
                landed += 1;
            }
        }
        landed
    }

    // ---------------------------------------------------------------- operations

    fn random_op(&mut self) -> Outcome {
        if self.crash.is_some() && self.rng.chance(40) {
            return self.op_price_move();
        }
        match self.rng.below(1000) {
            0..=234 => self.op_trade(false),
            235..=364 => self.op_trade(true),
            365..=414 => self.op_deposit(false),
            415..=439 => self.op_deposit(true),
            440..=494 => self.op_withdraw(false),
            495..=514 => self.op_withdraw(true),
            515..=594 => self.op_liquidate_positions(),
            595..=624 => self.op_liquidate_collateral(),
            625..=654 => self.op_resolve_bankruptcy(),
            655..=669 => self.op_update_funding(),
            670..=684 => self.op_sweep_fees(),
            685..=744 => self.op_update_marks(),
            745..=764 => self.op_record_settlement(),
            765..=794 => self.op_settle_expired(),
            795..=854 => self.op_warp(),
            855..=899 => self.op_price_move(),
            900..=914 => self.op_propose(),
            915..=929 => self.op_execute(),
            930..=939 => self.op_tighten(),
            940..=954 => self.op_list_series(),
            955..=969 => self.op_set_delegate(),
            _ => self.op_trade(false),
        }
    }

    /// A bilateral fill: perp or option, at any price of the band (edges, one tick outside),
    /// between strangers, a colluding pair, or a delegate and its principal.
    fn op_trade(&mut self, option: bool) -> Outcome {
        let kind = if option { "trade option" } else { "trade perp" };
        let taker = self.random_pf();
        // Sometimes the taker closes (part of) a position it holds: risk-reducing fills, the
        // last lot included; otherwise a random instrument and size.
        let now = self.now();
        let held: Vec<(u8, u8, i64)> = self
            .portfolio(taker)
            .active_positions()
            .filter(|s| s.is_perp() != option && (s.is_perp() || s.expiry > now))
            .map(|s| (s.underlying as u8, s.series, s.size))
            .collect();
        let reduce = if self.rng.chance(20) { self.rng.pick(&held) } else { None };
        let (u, instrument) = match reduce {
            Some((u, i, _)) => (u, i),
            None => {
                let u = self.rng.below(2) as u8;
                if option {
                    let live = self.live_series(u);
                    match self.rng.pick(&live) {
                        Some(s) => (u, s),
                        None => return Outcome::skipped(kind),
                    }
                } else {
                    (u, PERP_INSTRUMENT)
                }
            }
        };
        let taker_owner = self.pfs[taker].owner;
        let taker_delegate = self.delegate_of(taker);
        let mut flavour = "strangers";
        let (maker, mut taker_signer) = match self.rng.below(100) {
            0..=24 => {
                flavour = "colluding pair";
                let mine: Vec<usize> =
                    self.actors[taker_owner].pfs.iter().copied().filter(|&p| p != taker).collect();
                match self.rng.pick(&mine) {
                    Some(m) => (m, taker_owner),
                    None => (self.other_pf(taker), taker_owner),
                }
            }
            25..=44 if taker_delegate.is_some() => {
                flavour = "delegate vs principal";
                let d = taker_delegate.expect("delegate");
                let theirs = self.actors[d].pfs.clone();
                (self.rng.pick(&theirs).expect("delegate portfolio"), d)
            }
            _ => {
                let m = self.other_pf(taker);
                let signer = match taker_delegate {
                    Some(d) if self.rng.chance(25) => d,
                    _ => taker_owner,
                };
                (m, signer)
            }
        };
        let maker_owner = self.pfs[maker].owner;
        let maker_signer = match self.delegate_of(maker) {
            Some(d) if flavour == "strangers" && self.rng.chance(20) => d,
            _ => maker_owner,
        };
        let mut must_fail = None;
        if self.rng.chance(4) {
            taker_signer = self.stranger(taker);
            must_fail = Some("signed by neither owner nor delegate".to_string());
        }

        let spot = self.spot(u);
        let mark = self.unit_value(u, instrument);
        let m = self.v.market(u);
        let (center, band) = if option { (mark, m.option_band_bps) } else { (spot, m.perp_band_bps) };
        let half = spot * i64::from(band) / 10_000;
        let tick = TICK as i64;
        let hi = (center + half).div_euclid(tick) * tick;
        let lo = ((center - half + tick - 1).div_euclid(tick) * tick).max(tick);
        let price = match self.rng.below(100) {
            0..=24 => round_to_tick(center),
            25..=59 => round_to_tick(self.rng.range(lo, hi.max(lo))),
            60..=74 => hi.max(tick),
            75..=89 => lo,
            90..=94 => hi + tick,
            _ => (lo - tick).max(tick),
        };
        if !within_band(price, center, spot, band) {
            must_fail.get_or_insert(format!("price {price} outside the band around {center}"));
        }
        let magnitude = self.rng.log_uniform(if u == 0 { 14 } else { 11 }) as i64;
        let lots = match (reduce, self.rng.below(4)) {
            (Some((_, _, size)), 0) => -size,
            (Some((_, _, size)), 1) => -size / 2 - size.signum(),
            // A flip: the whole position reversed (at the band's edge, it moves 2 × size × band).
            (Some((_, _, size)), _) => -2 * size,
            (None, 0 | 1) => magnitude,
            (None, _) => -magnitude,
        };
        if reduce.is_some() {
            flavour = if flavour == "strangers" { "closing or flipping" } else { flavour };
        }

        // A delegate-signed side must fill within the principal's slippage of the mark.
        let mut delegate_bounds = Vec::new();
        for (pf, signer, side) in [(taker, taker_signer, lots), (maker, maker_signer, -lots)] {
            let p = self.portfolio(pf);
            if self.actors[signer].kp.pubkey() == p.owner || self.actors[signer].kp.pubkey() != p.delegate {
                continue;
            }
            let slip = i64::from(p.delegate_max_slippage_bps);
            let tolerance = spot * slip / 10_000 + tick;
            if !within_adverse(price, mark, side, tolerance) {
                must_fail.get_or_insert(format!("delegate fill beyond {slip} bps of the mark {mark}"));
            }
            let fee_bps = if pf == taker { m.taker_fee_bps } else { m.maker_fee_bps };
            let fee = self.fee(side, spot, price, fee_bps, option);
            let bound = i128::from(side.abs()) * i128::from(tolerance) * PER_LOT + i128::from(fee) * S;
            delegate_bounds.push((pf, bound));
        }

        let desc = format!(
            "{kind} {flavour}: taker pf{taker} (signer a{taker_signer}) buys {lots} lots of ({u}, {instrument}) \
             from pf{maker} (signer a{maker_signer}) at {price}, spot {spot}, mark {mark}"
        );
        let mut out = self.begin(kind, desc);
        let (taker_t, maker_t) = (self.trader(taker), self.trader(maker));
        let (tk, mk) =
            (self.actors[taker_signer].kp.insecure_clone(), self.actors[maker_signer].kp.insecure_clone());
        let mut ix = self.v.trade_ix_signed(
            &taker_t,
            &maker_t,
            &tk.pubkey(),
            &mk.pubkey(),
            u,
            instrument,
            lots,
            price as u64,
        );
        match self.rng.below(100) {
            0..=2 => {
                let oracle = self.v.underlyings[usize::from(u)].oracle;
                let copy = self.copy_of(oracle);
                if let Some(meta) = ix.accounts.iter_mut().find(|a| a.pubkey == oracle) {
                    meta.pubkey = copy;
                    must_fail.get_or_insert("a copy of the oracle at another address".into());
                }
            }
            3..=4 => {
                // `taker_health_accounts`, the last byte: one account moved to the other side.
                let last = ix.data.len() - 1;
                ix.data[last] = if ix.data[last] == 0 { 1 } else { ix.data[last] - 1 };
                must_fail.get_or_insert("the health accounts split one off".into());
            }
            _ => {}
        }
        out.must_fail = must_fail;
        let result = self.send_budget(ix, &[&tk, &mk]);
        self.settle(&mut out, &result);
        let Ok(landed) = result else { return out };
        let Some(ev) = events::<TradeFilled>(&landed.logs).into_iter().next() else {
            self.violation("trade landed without a TradeFilled event");
            return out;
        };
        let fee_t = self.fee(lots, spot, price, m.taker_fee_bps, option);
        let fee_m = self.fee(-lots, spot, price, m.maker_fee_bps, option);
        if (ev.taker_fee, ev.maker_fee) != (fee_t, fee_m) {
            self.violation(&format!(
                "fees {}/{} charged, schedule {fee_t}/{fee_m}",
                ev.taker_fee, ev.maker_fee
            ));
        }
        if ev.oracle_price as i64 != spot || (option && ev.model_price as i64 != mark) {
            self.violation(&format!(
                "trade priced against oracle {} / model {}, harness {spot} / {mark} (harness valuation)",
                ev.oracle_price, ev.model_price
            ));
        }
        let edge = i128::from(lots) * i128::from(mark - price) * PER_LOT;
        let (ft, fm) = (i128::from(ev.taker_fee) * S, i128::from(ev.maker_fee) * S);
        let slop = i128::from(lots.abs()) * i128::from(tick) * PER_LOT;
        out.effect = Effect::Exact {
            pf: vec![(taker, edge - ft), (maker, -edge - fm)],
            wallets: vec![],
            insurance: (ev.taker_fee + ev.maker_fee) as i64,
            tolerance: vec![
                (taker, ft + slop, "own fill (fee + one tick)"),
                (maker, fm + slop, "own fill (fee + one tick)"),
            ],
            delegate_bounds,
        };
        out.ledger = "fills";
        if taker_owner == maker_owner {
            out.collusion = Some(taker_owner);
            out.ledger = "own fills (fees)";
            self.stats.collusion_fills += 1;
        }
        if !option {
            self.perp_fills += 1;
        }
        out
    }

    fn fee(&self, lots: i64, spot: i64, price: i64, bps: u16, option: bool) -> u64 {
        let cap = option.then_some(OPTION_FEE_CAP_BPS);
        xmargin_risk::trading::fee(lots, spot as u64, price as u64, 100, bps, cap).expect("fee")
    }

    /// Quote (anyone may pay it into any portfolio) or collateral (only the owner may open a
    /// balance) from a wallet, random amounts, some beyond the wallet.
    fn op_deposit(&mut self, collateral: bool) -> Outcome {
        let kind = if collateral { "deposit collateral" } else { "deposit quote" };
        let pf = self.random_pf();
        let owner = self.pfs[pf].owner;
        let depositor =
            if self.rng.chance(75) { owner } else { self.rng.below(self.actors.len() as u64) as usize };
        let amount = if collateral {
            self.rng.log_uniform(25) * 4
        } else if self.rng.chance(3) {
            6_000_000 * USDC
        } else {
            self.rng.log_uniform(34)
        };
        let (mint, source) = if collateral {
            (self.coll_mint, self.actors[depositor].coll_wallet)
        } else {
            (self.v.fx.quote_mint, self.actors[depositor].wallet)
        };
        let mut out =
            self.begin(kind, format!("a{depositor} deposits {amount} into pf{pf} (owner a{owner})"));
        if collateral
            && depositor != owner
            && self.portfolio(pf).balance(self.coll_index).is_none_or(|b| b.amount == 0)
        {
            out.must_fail = Some("a third party opening a non-quote balance".into());
        }
        let kp = self.actors[depositor].kp.insecure_clone();
        let ix = self.v.sb.deposit_ix(kp.pubkey(), self.pfs[pf].key, mint, source, amount);
        let result = self.send(&[ix], &[&kp]);
        self.settle(&mut out, &result);
        if out.landed {
            let cprice = program_spot(self.v.collaterals[0].price);
            let (value, dq, dc) = if collateral {
                (i128::from(amount) * i128::from(cprice), 0, -(amount as i64))
            } else {
                (i128::from(amount) * S, -(amount as i64), 0)
            };
            out.effect = Effect::Exact {
                pf: vec![(pf, value)],
                wallets: vec![(depositor, dq, dc)],
                insurance: 0,
                tolerance: vec![],
                delegate_bounds: vec![],
            };
            out.ledger = if depositor == owner { "deposits" } else { "gifts" };
        }
        out
    }

    /// A withdrawal of a random amount (a fraction, all, or more than the balance), sometimes
    /// signed by someone else or with an oracle account left out.
    fn op_withdraw(&mut self, collateral: bool) -> Outcome {
        let kind = if collateral { "withdraw collateral" } else { "withdraw quote" };
        let pf = self.random_pf();
        let owner = self.pfs[pf].owner;
        let p = self.portfolio(pf);
        let index = if collateral { self.coll_index } else { 0 };
        let balance = p.balance(index).map_or(0, |b| b.amount).max(0) as u64;
        let amount = match self.rng.below(100) {
            0..=39 => 1 + self.rng.below(balance.max(1)),
            40..=54 => balance.max(1),
            55..=74 => balance + 1 + self.rng.below(balance.max(1)),
            _ => 1 + self.rng.below(balance.max(1) / 20 + 1),
        };
        let mut must_fail = None;
        let signer = if self.rng.chance(8) {
            must_fail = Some("withdrawal signed by a non-owner".to_string());
            self.other_actor(owner)
        } else {
            owner
        };
        let mut accounts = self.v.health_accounts(&self.pfs[pf].key, None);
        if !accounts.is_empty() && self.rng.chance(6) {
            accounts.pop();
            must_fail.get_or_insert("a health account left out".into());
        }
        let (mint, destination) = if collateral {
            (self.coll_mint, self.actors[signer].coll_wallet)
        } else {
            (self.v.fx.quote_mint, self.actors[signer].wallet)
        };
        let mut out = self
            .begin(kind, format!("a{signer} withdraws {amount} of {balance} from pf{pf} (owner a{owner})"));
        out.must_fail = must_fail;
        let kp = self.actors[signer].kp.insecure_clone();
        let ix = self.v.sb.withdraw_ix(kp.pubkey(), self.pfs[pf].key, mint, destination, amount, &accounts);
        let result = self.send_budget(ix, &[&kp]);
        self.settle(&mut out, &result);
        if out.landed {
            let cprice = program_spot(self.v.collaterals[0].price);
            let (value, dq, dc) = if collateral {
                (i128::from(amount) * i128::from(cprice), 0, amount as i64)
            } else {
                (i128::from(amount) * S, amount as i64, 0)
            };
            out.effect = Effect::Exact {
                pf: vec![(pf, -value)],
                wallets: vec![(signer, dq, dc)],
                insurance: 0,
                tolerance: vec![],
                delegate_bounds: vec![],
            };
            out.ledger = "withdrawals";
        }
        out
    }

    /// The liquidator's portfolio: the dedicated one, another of the target owner's own
    /// (self-liquidation, allowed by design), or anyone else's.
    fn pick_liquidator(&mut self, target: usize) -> usize {
        let owner = self.pfs[target].owner;
        let siblings: Vec<usize> = self.actors[owner].pfs.iter().copied().filter(|&p| p != target).collect();
        match self.rng.below(100) {
            0..=44 if owner != LIQUIDATOR => self.actors[LIQUIDATOR].pfs[0],
            45..=64 if !siblings.is_empty() => self.rng.pick(&siblings).expect("sibling"),
            _ => self.other_pf(target),
        }
    }

    fn other_actor(&mut self, not: usize) -> usize {
        let n = self.actors.len();
        (not + 1 + self.rng.below(n as u64 - 1) as usize) % n
    }

    /// A liquidator (usually the dedicated one) picks a target (usually one whose last
    /// `refresh_health` was below maintenance), one of its positions and a size; sometimes it
    /// passes its own choice of accounts, which must be refused.
    fn op_liquidate_positions(&mut self) -> Outcome {
        let kind = "liquidate positions";
        let candidates: Vec<usize> = self.candidates.iter().copied().collect();
        let insolvent: Vec<usize> = self.insolvent.iter().copied().collect();
        let target = match (self.rng.below(100), self.rng.pick(&insolvent), self.rng.pick(&candidates)) {
            (0..=39, Some(t), _) => t,
            (0..=84, _, Some(t)) => t,
            _ => self.random_pf(),
        };
        let liquidator = self.pick_liquidator(target);
        let p = self.portfolio(target);
        let held: Vec<(u8, u8, i64)> =
            p.active_positions().map(|s| (s.underlying as u8, s.series, s.size)).collect();
        let (u, instrument, size) =
            self.rng.pick(&held).unwrap_or((self.rng.below(2) as u8, PERP_INSTRUMENT, 0));
        let max_lots =
            if self.rng.chance(50) { 1_000_000 } else { 1 + self.rng.below(size.unsigned_abs().max(1)) };
        let mut out = self.begin(
            kind,
            format!("pf{liquidator} liquidates up to {max_lots} lots of pf{target}'s ({u}, {instrument}) of {size}"),
        );
        if self.rng.chance(60) {
            // The liquidator's keeper pass: fresh marks for the target's books.
            for m in [0u8, 1] {
                if p.active_positions().any(|s| s.underlying == u16::from(m)) {
                    self.keeper_mark(m);
                }
            }
        }
        let lt = self.trader(liquidator);
        let kp = lt.owner.insecure_clone();
        let mut ix = self.v.liquidate_positions_ix(&lt, &self.pfs[target].key, u, instrument, max_lots);
        let remaining = self.v.health_accounts(&self.pfs[target].key, Some(u)).len()
            + self.v.health_accounts(&self.pfs[liquidator].key, Some(u)).len();
        let named = ix.accounts.len() - remaining;
        let oracle = self.v.underlyings[usize::from(u)].oracle;
        let other = self.v.underlyings[usize::from(1 - u)].oracle;
        if self.rng.chance(20) {
            out.must_fail = Some(self.forge_accounts(&mut ix, named, oracle, other));
        }
        out.desc = format!("{} {}", out.desc, out.must_fail.clone().unwrap_or_default());
        self.op = format!("{kind}: {}", out.desc);
        if self.pfs[target].owner == self.pfs[liquidator].owner {
            let equity = self.program_equity(target).map_or("?".into(), |e| (e / S).to_string());
            out.desc = format!(
                "{} (self-liquidation; refresh_health equity of the target {equity} native)",
                out.desc
            );
            self.op = format!("{kind}: {}", out.desc);
        }
        let spot = self.spot(u);
        let value = self.unit_value(u, instrument);
        let result = self.send_budget(ix, &[&kp]);
        self.settle(&mut out, &result);
        let Ok(landed) = result else {
            if let Err(f) = &result {
                if error_name(f).starts_with("NotLiquidatable") {
                    self.candidates.remove(&target);
                }
            }
            return out;
        };
        self.stats.liquidations += 1;
        let Some(ev) = events::<PositionsLiquidated>(&landed.logs).into_iter().next() else {
            self.violation("liquidation landed without a PositionsLiquidated event");
            return out;
        };
        let target_lots = ev.target_size_after - ev.target_size_before;
        if ev.liquidator_size_after - ev.liquidator_size_before != -target_lots {
            self.violation("the liquidator did not take what the target gave");
        }
        let price = ev.transfer_price as i64;
        // The target's side at the transfer price, against the mark.
        let target_gain = i128::from(target_lots) * i128::from(value - price) * PER_LOT;
        let gross = -target_gain;
        // A perp's mark is the spot: the liquidator gains at most the discount (+ its rounding).
        // An option's is the program's marks, which the event rounds to the lot grid in the
        // target's favour (under one native unit per lot), like the transfer price.
        let mark = ev.mark_price as i64;
        let (gain, slack) = if instrument == PERP_INSTRUMENT {
            if (mark - spot).abs() > 100 {
                self.violation(&format!("perp liquidated at mark {mark} with spot {spot}"));
            }
            (gross, 1)
        } else {
            (-i128::from(target_lots) * i128::from(mark - price) * PER_LOT, 1 + i128::from(target_lots.abs()))
        };
        if gain > (i128::from(ev.discount) + slack) * S {
            self.violation(&format!(
                "the liquidator bought {} lots {} native below the mark {mark}, the discount is {}",
                target_lots.abs(),
                gain / S,
                ev.discount
            ));
        }
        let lag = i128::from(target_lots.abs()) * i128::from((value - mark).abs()) * PER_LOT;
        out.effect = Effect::Exact {
            pf: vec![(target, target_gain), (liquidator, gross - i128::from(ev.insurance_fee) * S)],
            wallets: vec![],
            insurance: ev.insurance_fee as i64,
            tolerance: vec![(
                target,
                (i128::from(ev.discount) + 1) * S + lag,
                "discount conceded while insolvent",
            )],
            delegate_bounds: vec![],
        };
        out.ledger = "liquidations";
        if self.pfs[target].owner == self.pfs[liquidator].owner {
            out.self_liquidation = Some((target, liquidator));
        }
        if instrument == PERP_INSTRUMENT {
            self.perp_fills += 1;
        }
        out
    }

    /// Replaces or removes accounts of a liquidation instruction the way a liquidator choosing
    /// its account list could; returns what it did. `named`: where the remaining accounts start.
    fn forge_accounts(
        &mut self,
        ix: &mut Instruction,
        named: usize,
        oracle: Pubkey,
        other: Pubkey,
    ) -> String {
        let at = ix.accounts.iter().position(|m| m.pubkey == oracle);
        let remaining_oracles: Vec<usize> = (named..ix.accounts.len())
            .filter(|&i| {
                let k = ix.accounts[i].pubkey;
                self.v.underlyings.iter().any(|u| u.oracle == k)
                    || self.v.collaterals.iter().any(|c| c.oracle == k)
            })
            .collect();
        match (self.rng.below(4), at) {
            (0, Some(i)) if i < named => {
                ix.accounts[i].pubkey = other;
                "(forged: another underlying's oracle)".into()
            }
            (1, Some(i)) if i < named => {
                ix.accounts[i].pubkey = self.copy_of(oracle);
                "(forged: a copy of the oracle at another address)".into()
            }
            (2, _) if ix.accounts.len() > named => {
                ix.accounts.pop();
                "(forged: the last health account left out)".into()
            }
            (3, _) if !remaining_oracles.is_empty() => {
                let i = remaining_oracles[self.rng.below(remaining_oracles.len() as u64) as usize];
                let original = ix.accounts[i].pubkey;
                ix.accounts[i].pubkey = self.copy_of(original);
                "(forged: a copy of a health oracle at another address)".into()
            }
            _ => {
                ix.accounts.push(AccountMeta::new_readonly(other, false));
                "(forged: an extra oracle account)".into()
            }
        }
    }

    /// A liquidator buys a target's collateral at the discount.
    fn op_liquidate_collateral(&mut self) -> Outcome {
        let kind = "liquidate collateral";
        let holders: Vec<usize> = (0..self.pfs.len())
            .filter(|&p| self.portfolio(p).balance(self.coll_index).is_some_and(|b| b.amount > 0))
            .collect();
        let preferred: Vec<usize> = holders.iter().copied().filter(|p| self.candidates.contains(p)).collect();
        let target = match (self.rng.pick(&preferred), self.rng.pick(&holders)) {
            (Some(t), _) if self.rng.chance(80) => t,
            (_, Some(t)) => t,
            _ => return Outcome::skipped(kind),
        };
        let liquidator = self.pick_liquidator(target);
        let max_amount = if self.rng.chance(50) { u64::MAX / 4 } else { self.rng.log_uniform(26) };
        let mut out =
            self.begin(kind, format!("pf{liquidator} buys up to {max_amount} collateral of pf{target}"));
        let lt = self.trader(liquidator);
        let kp = lt.owner.insecure_clone();
        let target_accounts = self.v.health_accounts(&self.pfs[target].key, None);
        let mut after = self.portfolio(liquidator);
        if let Some(slot) = after.balance_mut_or_insert(self.coll_index) {
            slot.amount = slot.amount.saturating_add(1);
        }
        let liquidator_accounts = self.v.health_accounts_of(&after, None);
        let oracle = self.v.collaterals[0].oracle;
        let mut ix = self.v.liquidate_collateral_ix(
            &lt,
            &self.pfs[target].key,
            self.coll_index,
            oracle,
            max_amount,
            LiquidationAccounts { target: &target_accounts, liquidator: &liquidator_accounts },
        );
        let named = ix.accounts.len() - target_accounts.len() - liquidator_accounts.len();
        if self.rng.chance(20) {
            let other = self.v.underlyings[0].oracle;
            let forged = self.forge_accounts(&mut ix, named, oracle, other);
            out.desc = format!("{} {forged}", out.desc);
            self.op = format!("{kind}: {}", out.desc);
            out.must_fail = Some(forged);
        }
        let cprice = program_spot(self.v.collaterals[0].price);
        let result = self.send_budget(ix, &[&kp]);
        self.settle(&mut out, &result);
        let Ok(landed) = result else { return out };
        self.stats.liquidations += 1;
        let Some(ev) = events::<CollateralLiquidated>(&landed.logs).into_iter().next() else {
            self.violation("collateral liquidation landed without its event");
            return out;
        };
        if ev.price as i64 != cprice {
            self.violation(&format!("collateral sold at oracle {} with the oracle at {cprice}", ev.price));
        }
        let worth = i128::from(ev.amount) * i128::from(cprice);
        let gross = worth - i128::from(ev.repaid) * S;
        if gross > (i128::from(ev.discount) + 1) * S {
            self.violation(&format!(
                "the liquidator gained {} native, the discount is {}",
                gross / S,
                ev.discount
            ));
        }
        out.effect = Effect::Exact {
            pf: vec![(target, -gross), (liquidator, gross - i128::from(ev.insurance_fee) * S)],
            wallets: vec![],
            insurance: ev.insurance_fee as i64,
            tolerance: vec![(target, (i128::from(ev.discount) + 1) * S, "discount conceded while insolvent")],
            delegate_bounds: vec![],
        };
        out.ledger = "liquidations";
        if self.pfs[target].owner == self.pfs[liquidator].owner {
            out.self_liquidation = Some((target, liquidator));
        }
        out
    }

    /// Anyone resolves a (hopefully) bankrupt portfolio.
    fn op_resolve_bankruptcy(&mut self) -> Outcome {
        let kind = "resolve bankruptcy";
        let bankrupt: Vec<usize> = (0..self.pfs.len())
            .filter(|&i| {
                let p = self.portfolio(i);
                p.active_positions().next().is_none() && p.balance(0).is_some_and(|b| b.amount < 0)
            })
            .collect();
        let target = match self.rng.pick(&bankrupt) {
            Some(t) if self.rng.chance(85) => t,
            _ => self.random_pf(),
        };
        let mut out = self.begin(kind, format!("resolve pf{target}"));
        let mut ix = self.v.resolve_bankruptcy_ix(&self.pfs[target].key);
        let named = 7;
        if ix.accounts.len() > named && self.rng.chance(25) {
            let oracle = self.v.collaterals[0].oracle;
            let other = self.v.underlyings[0].oracle;
            out.must_fail = Some(self.forge_accounts(&mut ix, named, oracle, other));
        }
        let result = self.send(&[ix], &[]);
        self.settle(&mut out, &result);
        let Ok(landed) = result else { return out };
        let taken: u64 = events::<CollateralTakenOver>(&landed.logs).iter().map(|e| e.amount).sum();
        let resolved = events::<BankruptcyResolved>(&landed.logs).into_iter().next();
        let (deficit, insurance_paid, socialized) =
            resolved.as_ref().map_or((0, 0, 0), |e| (e.deficit, e.insurance_paid, e.socialized));
        if resolved.is_some() {
            self.stats.bankruptcies += 1;
        }
        self.stats.insurance_paid += insurance_paid;
        self.stats.socialized += socialized;
        self.stats.collateral_taken += taken;
        if socialized > 0 {
            self.social_dust += 2 * self.pfs.len() as i128 + 2;
        }
        out.effect = Effect::Bankruptcy { target, deficit, insurance_paid, socialized, taken };
        out.ledger = "bankruptcy";
        out
    }

    /// A keeper cranks funding (sometimes with another feed's or a copied oracle account).
    fn op_update_funding(&mut self) -> Outcome {
        let u = self.rng.below(2) as u8;
        let mut out = self.begin("update funding", format!("underlying {u}"));
        let mut ix = self.v.update_funding_ix(u);
        self.maybe_forge_oracle(&mut ix, u, &mut out);
        let result = self.send(&[ix], &[]);
        self.settle(&mut out, &result);
        out
    }

    /// A keeper sweeps a market's accrued fees to the insurance vault: no equity moves and the
    /// insurance fund (vault plus unswept fees) is unchanged; nothing accrued is refused.
    fn op_sweep_fees(&mut self) -> Outcome {
        let u = self.rng.below(2) as u8;
        // The market's and the quote ledger's (collateral liquidations') accrued shares.
        let accrued = self.v.market(u).fees_accrued + self.v.ledger_fees_accrued();
        let mut out = self.begin("sweep fees", format!("underlying {u}, accrued {accrued}"));
        if accrued == 0 {
            out.must_fail = Some("NothingToSweep".into());
        }
        let ix = self.v.sweep_fees_ix(u);
        let result = self.send(&[ix], &[]);
        self.settle(&mut out, &result);
        out.effect = Effect::FeesSwept(accrued);
        out
    }

    /// Replaces an instruction's oracle with another feed's or a copy (5 in 100).
    fn maybe_forge_oracle(&mut self, ix: &mut Instruction, u: u8, out: &mut Outcome) {
        if !self.rng.chance(5) {
            return;
        }
        let oracle = self.v.underlyings[usize::from(u)].oracle;
        let replacement = if self.rng.chance(50) {
            self.v.underlyings[usize::from(1 - u)].oracle
        } else {
            self.copy_of(oracle)
        };
        if let Some(meta) = ix.accounts.iter_mut().find(|m| m.pubkey == oracle) {
            meta.pubkey = replacement;
            out.must_fail = Some("another feed's or a copied oracle account".into());
        }
    }

    /// A keeper marks the live series of an underlying.
    fn op_update_marks(&mut self) -> Outcome {
        let u = self.rng.below(2) as u8;
        let live = self.live_series(u);
        if live.is_empty() {
            return Outcome::skipped("update marks");
        }
        let mut out = self.begin("update marks", format!("underlying {u}, {} series", live.len()));
        let mask = live.iter().fold(0u32, |m, &i| m | (1 << i));
        let mut ix = self.v.update_marks_ix(u, mask);
        self.maybe_forge_oracle(&mut ix, u, &mut out);
        let result = self.send_budget(ix, &[]);
        self.settle(&mut out, &result);
        out
    }

    /// Marks every live series of an underlying (the keeper reacting to a move).
    fn keeper_mark(&mut self, u: u8) {
        let live = self.live_series(u);
        if !live.is_empty() {
            let mask = live.iter().fold(0u32, |m, &i| m | (1 << i));
            let ix = self.v.update_marks_ix(u, mask);
            let _ = self.send_budget(ix, &[]);
        }
    }

    /// A keeper records a settlement price with the feed's update at expiry (or the live
    /// account, which only works at the expiry itself).
    fn op_record_settlement(&mut self) -> Outcome {
        let now = self.now();
        let mut due = Vec::new();
        let mut all = Vec::new();
        for u in 0..2u8 {
            let m = self.v.market(u);
            for (i, s) in m.listed_series().iter().enumerate() {
                all.push((u, i as u8));
                if s.expiry <= now && s.settlement_price == 0 {
                    due.push((u, i as u8));
                }
            }
        }
        let (u, series) = match self.rng.pick(&due) {
            Some(x) if self.rng.chance(85) => x,
            _ => match self.rng.pick(&all) {
                Some(x) => x,
                None => return Outcome::skipped("record settlement"),
            },
        };
        let expiry = self.v.market(u).series[usize::from(series)].expiry;
        let archived = self.expiry_update.get(&(u, expiry)).copied();
        let use_live = archived.is_none() || self.rng.chance(20);
        let mut out = self.begin(
            "record settlement",
            format!(
                "({u}, {series}) expiry {expiry} with the {} update",
                if use_live { "live" } else { "expiry's" }
            ),
        );
        let live = self.v.underlyings[usize::from(u)].oracle;
        let update = if use_live { live } else { archived.unwrap_or(live) };
        let result = self.keeper_record(u, usize::from(series), update);
        self.settle(&mut out, &result);
        out
    }

    /// Anyone settles a portfolio's expired options of an underlying.
    fn op_settle_expired(&mut self) -> Outcome {
        let mut due = Vec::new();
        for pf in 0..self.pfs.len() {
            let p = self.portfolio(pf);
            for s in p.active_positions().filter(|s| !s.is_perp()) {
                let u = s.underlying as u8;
                if self.v.market(u).series[usize::from(s.series)].settlement_price != 0 {
                    due.push((pf, u));
                }
            }
        }
        let (pf, u) = match self.rng.pick(&due) {
            Some(x) if self.rng.chance(85) => x,
            _ => (self.random_pf(), self.rng.below(2) as u8),
        };
        let mut out = self.begin("settle expired", format!("pf{pf} on underlying {u}"));
        let ix = self.v.settle_expired_ix(&self.pfs[pf].key, u);
        let result = self.send(&[ix], &[]);
        self.settle(&mut out, &result);
        if let Ok(landed) = &result {
            for e in events::<PositionSettled>(&landed.logs) {
                *self.settled_sizes.entry((e.underlying, e.series)).or_default() += e.size_lots;
            }
        }
        out
    }

    /// Time passes: stops at every expiry (the feed's update there is kept as the settlement
    /// update) and, when a settlement is still unrecorded at its window's end, the keeper
    /// records it there.
    fn op_warp(&mut self) -> Outcome {
        let dt = match self.rng.below(100) {
            0..=49 => self.rng.range(1, 120),
            50..=79 => self.rng.range(120, 1_800),
            _ => self.rng.range(1_800, 6 * 3_600),
        };
        let target = self.now() + dt;
        let mut out = self.begin("warp", format!("{dt} s"));
        loop {
            let now = self.now();
            self.record_due(now);
            if now >= target {
                break;
            }
            let mut stop = target;
            for u in 0..2u8 {
                let m = self.v.market(u);
                for s in m.listed_series() {
                    if s.expiry > now && s.expiry < stop {
                        stop = s.expiry;
                    }
                    let close = s.expiry + i64::from(m.settlement_window_secs);
                    if s.settlement_price == 0 && s.expiry <= now && close > now && close < stop {
                        stop = close;
                    }
                }
            }
            self.v.warp(stop - now);
            if self.rng.chance(60) {
                self.keeper_mark(0);
                self.keeper_mark(1);
            }
            for u in 0..2u8 {
                let at_expiry = self.v.market(u).listed_series().iter().any(|s| s.expiry == stop);
                if at_expiry && !self.expiry_update.contains_key(&(u, stop)) {
                    let oracle = self.v.underlyings[usize::from(u)].oracle;
                    let account = self.v.sb.svm.get_account(&oracle).expect("oracle");
                    let kept = Pubkey::new_unique();
                    self.v.sb.svm.set_account(kept, account).expect("kept update");
                    self.expiry_update.insert((u, stop), kept);
                    self.expiry_spot.insert((u, stop), self.spot(u));
                    // A keeper on time records with the live feed account, whose update is the
                    // one at expiry.
                    let due = self.v.market(u).listed_series().iter().position(|s| s.expiry == stop);
                    if let (Some(i), true) = (due, self.rng.chance(50)) {
                        let live = self.v.underlyings[usize::from(u)].oracle;
                        match self.keeper_record(u, i, live) {
                            Ok(_) => self.stats.records_at_expiry += 1,
                            Err(f) => self.violation(&format!("recording at expiry with the live feed: {f}")),
                        }
                    }
                }
            }
        }
        out.landed = true;
        out.effect = Effect::Market;
        out.ledger = "market";
        out
    }

    /// `record_settlement_price` of series `i` with the feed update at `update`.
    fn keeper_record(&mut self, u: u8, i: usize, update: Pubkey) -> Result<TxSuccess, TxFailure> {
        let mut ix = self.v.record_settlement_ix(u, i as u8);
        let oracle = self.v.underlyings[usize::from(u)].oracle;
        if let Some(meta) = ix.accounts.iter_mut().find(|m| m.pubkey == oracle) {
            meta.pubkey = update;
        }
        self.send(&[ix], &[])
    }

    /// The keeper's last chance: records every settlement whose window closes now.
    fn record_due(&mut self, now: i64) {
        for u in 0..2u8 {
            let m = self.v.market(u);
            for (i, s) in m.listed_series().iter().enumerate() {
                let close = s.expiry + i64::from(m.settlement_window_secs);
                // One record settles every series of the expiry: re-read.
                if close != now || self.v.market(u).series[i].settlement_price != 0 {
                    continue;
                }
                let Some(update) = self.expiry_update.get(&(u, s.expiry)).copied() else { continue };
                match self.keeper_record(u, i, update) {
                    Ok(_) => self.stats.forced_records += 1,
                    Err(f) => self.violation(&format!("the keeper could not record a due settlement: {f}")),
                }
            }
        }
    }

    /// One underlying's or the collateral's price moves 1–15% (whole quote units), with a
    /// trend that sometimes turns and a pull back toward the start; now and then a crash: a
    /// few large moves of one asset in a row, before the liquidators get to act.
    fn op_price_move(&mut self) -> Outcome {
        let (which, bps) = match self.crash {
            Some((which, left)) => {
                self.crash = left.checked_sub(1).filter(|l| *l > 0).map(|l| (which, l));
                (which, self.rng.range(600, 1_500))
            }
            None => {
                let which = self.rng.below(3) as usize;
                if self.rng.chance(30) {
                    self.trend[which] = -self.trend[which];
                }
                if self.rng.chance(8) {
                    self.crash = Some((which, self.rng.range(1, 3) as u32));
                }
                let bps = match self.rng.below(100) {
                    0..=59 => self.rng.range(100, 400),
                    60..=89 => self.rng.range(400, 800),
                    _ => self.rng.range(800, 1_500),
                };
                (which, bps)
            }
        };
        let current = if which < 2 { self.v.underlyings[which].price } else { self.v.collaterals[0].price };
        let initial = self.initial[which];
        if current > initial * 2 {
            self.trend[which] = -1;
        } else if current < initial / 2 {
            self.trend[which] = 1;
        }
        let unit = USDC as i64;
        let next = ((current + current * self.trend[which] * bps / 10_000) / unit * unit).max(unit);
        let mut out = self.begin("price move", format!("asset {which}: {current} -> {next}"));
        if which == 2 {
            self.v.set_collateral_price(self.coll_index, next);
        } else {
            if self.rng.chance(25) {
                // A spot print: the EMA stays where it was (until the next full move).
                self.v.underlyings[which].price = next;
                self.v.publish();
            } else {
                self.v.set_price(which as u8, next);
            }
            if self.rng.chance(80) {
                self.keeper_mark(which as u8);
            }
        }
        self.stats.price_moves += 1;
        out.landed = true;
        out.effect = Effect::Market;
        out.ledger = "market";
        out
    }

    /// Governance proposes a timelocked change (a vol change, collateral weights, the
    /// liquidation terms); sometimes someone else tries.
    fn op_propose(&mut self) -> Outcome {
        let registry = self.v.sb.registry().expect("registry");
        let exchange = self.v.sb.exchange().expect("exchange");
        let (args, underlying, what) = match self.rng.below(3) {
            0 => {
                let u = self.rng.below(2) as u8;
                let mut config = registry.underlyings[usize::from(u)];
                let vol = i64::from(config.implied_vol_bps) + self.rng.range(-1_500, 1_500);
                config.implied_vol_bps = vol.clamp(2_000, 15_000) as u32;
                let what = format!("underlying {u} vol -> {} bps", config.implied_vol_bps);
                (RiskChangeArgs::Underlying { index: u, config }, true, what)
            }
            1 => {
                let mut params =
                    CollateralRiskParams::of(&registry.collaterals[usize::from(self.coll_index)]);
                let h = &mut params.haircut;
                h.initial_asset_weight_bps = (i64::from(h.initial_asset_weight_bps)
                    + self.rng.range(-1_000, 1_500))
                .clamp(0, 9_000) as u16;
                h.maintenance_asset_weight_bps =
                    (i64::from(h.initial_asset_weight_bps) + self.rng.range(0, 1_500)).clamp(0, 9_500) as u16;
                let what = format!(
                    "collateral weights -> {}/{}",
                    h.initial_asset_weight_bps, h.maintenance_asset_weight_bps
                );
                (RiskChangeArgs::Collateral { index: self.coll_index, params }, false, what)
            }
            _ => {
                let mut params = exchange.liquidation;
                params.discount_bps =
                    (i64::from(params.discount_bps) + self.rng.range(-50, 100)).clamp(10, 1_000) as u16;
                let what = format!("liquidation discount -> {} bps", params.discount_bps);
                (RiskChangeArgs::Liquidation { params }, false, what)
            }
        };
        let forged = self.rng.chance(10);
        let signer =
            if forged { self.v.fx.guardian.insecure_clone() } else { self.v.fx.governance.insecure_clone() };
        let (ix, id) = self.v.sb.propose_risk_change_ix(signer.pubkey(), args);
        let mut out =
            self.begin("propose", format!("#{id}: {what}{}", if forged { " by the guardian" } else { "" }));
        if forged {
            out.must_fail = Some("proposed by the guardian".into());
        }
        let result = self.send(&[ix], &[&signer]);
        self.settle(&mut out, &result);
        if out.landed {
            self.pending.push(Proposal { id, underlying, executable_at: self.now() + DEFAULT_TIMELOCK_SECS });
        }
        out
    }

    /// Anyone executes a pending proposal (before its timelock: refused).
    fn op_execute(&mut self) -> Outcome {
        if self.pending.is_empty() {
            return Outcome::skipped("execute");
        }
        let i = self.rng.below(self.pending.len() as u64) as usize;
        let (id, underlying, executable_at) =
            (self.pending[i].id, self.pending[i].underlying, self.pending[i].executable_at);
        let now = self.now();
        let mut out = self.begin("execute", format!("#{id} (executable at {executable_at}, now {now})"));
        if now < executable_at {
            out.must_fail = Some("before the timelock".into());
        }
        let ix = self.v.sb.execute_risk_change_ix(id);
        let result = self.send(&[ix], &[]);
        self.settle(&mut out, &result);
        if out.landed || now >= executable_at {
            self.pending.remove(i);
        }
        if out.landed && underlying {
            out.effect = Effect::Market;
            out.ledger = "market";
        }
        out
    }

    /// The guardian tightens the collateral's weights or cap (or tries to loosen them).
    fn op_tighten(&mut self) -> Outcome {
        let registry = self.v.sb.registry().expect("registry");
        let mut params = CollateralRiskParams::of(&registry.collaterals[usize::from(self.coll_index)]);
        let loosen = self.rng.chance(20);
        let h = &mut params.haircut;
        if loosen {
            h.initial_asset_weight_bps =
                h.initial_asset_weight_bps.saturating_add(100).min(h.maintenance_asset_weight_bps);
            h.maintenance_asset_weight_bps = h.maintenance_asset_weight_bps.saturating_add(100).min(10_000);
            h.initial_asset_weight_bps = h.initial_asset_weight_bps.max(1);
        } else {
            h.initial_asset_weight_bps =
                h.initial_asset_weight_bps.saturating_sub(self.rng.below(300) as u16);
            h.maintenance_asset_weight_bps = h
                .maintenance_asset_weight_bps
                .saturating_sub(self.rng.below(200) as u16)
                .max(h.initial_asset_weight_bps);
        }
        let what = format!(
            "collateral weights -> {}/{}",
            h.initial_asset_weight_bps, h.maintenance_asset_weight_bps
        );
        let mut out = self.begin("tighten", what);
        let old = CollateralRiskParams::of(&registry.collaterals[usize::from(self.coll_index)]);
        if loosen && params != old {
            out.must_fail = Some("the guardian loosening".into());
        }
        let guardian = self.v.fx.guardian.insecure_clone();
        let ix = self
            .v
            .sb
            .tighten_risk_ix(guardian.pubkey(), TightenRiskArgs { collateral: self.coll_index, params });
        let result = self.send(&[ix], &[&guardian]);
        self.settle(&mut out, &result);
        out
    }

    /// Governance lists new series when an underlying has few live ones.
    fn op_list_series(&mut self) -> Outcome {
        let u = self.rng.below(2) as u8;
        if self.live_series(u).len() >= 4 {
            return Outcome::skipped("list series");
        }
        let days = self.rng.range(1, 3);
        let mut out = self.begin("list series", format!("underlying {u}, {days} days"));
        out.landed = self.list_series_at(u, days) > 0;
        self.keeper_mark(u);
        out
    }

    /// An owner sets (or clears) its portfolio's delegate and slippage; sometimes a stranger
    /// tries, or a slippage beyond the maximum.
    fn op_set_delegate(&mut self) -> Outcome {
        let pf = self.random_pf();
        let owner = self.pfs[pf].owner;
        let delegate = match self.rng.below(5) {
            0 => Pubkey::default(),
            _ => {
                let d = self.other_actor(owner);
                self.actors[d].kp.pubkey()
            }
        };
        let bps = [0u16, 25, 100, 300, 1_000, 1_001][self.rng.below(6) as usize];
        let signer = if self.rng.chance(10) { self.other_actor(owner) } else { owner };
        let mut out =
            self.begin("set delegate", format!("a{signer} sets pf{pf}'s delegate {delegate} at {bps} bps"));
        if signer != owner {
            out.must_fail = Some("set by a non-owner".into());
        } else if bps > 1_000 {
            out.must_fail = Some("slippage beyond the maximum".into());
        }
        let kp = self.actors[signer].kp.insecure_clone();
        let ix = self.v.sb.set_delegate_with_slippage_ix(kp.pubkey(), self.pfs[pf].key, delegate, bps);
        let result = self.send(&[ix], &[&kp]);
        self.settle(&mut out, &result);
        out
    }

    // ---------------------------------------------------------------- checks

    fn check(&mut self, out: &Outcome, pre: &View, post: &View) {
        self.check_global(post);
        self.insolvent = (0..self.pfs.len()).filter(|&p| post.eq[p] < 0).collect();
        self.stats.insolvent_steps += self.insolvent.len() as u64;
        if let (true, Some(why)) = (out.landed, &out.must_fail) {
            self.violation(&format!("landed although it had to be refused: {why}"));
        }
        if !out.landed {
            if out.must_fail.is_some() {
                self.stats.forged_rejected += 1;
            }
            self.check_unchanged(pre, post, "a rejected operation");
            return;
        }
        let n = self.pfs.len();
        let mut growth_allowed: Vec<Option<(i128, &'static str)>> = vec![None; n];
        match &out.effect {
            Effect::Nothing => self.check_unchanged(pre, post, "an operation that moves no value"),
            Effect::FeesSwept(amount) => {
                let ok = pre.eq == post.eq
                    && pre.wallet_q == post.wallet_q
                    && pre.vault - post.vault == *amount
                    && pre.accrued - post.accrued == *amount
                    && pre.insurance == post.insurance
                    && (pre.coll_vault, pre.coll_insurance) == (post.coll_vault, post.coll_insurance);
                if !ok {
                    self.violation(&format!("sweep of {amount}: vault {} -> {}", pre.vault, post.vault));
                }
            }
            Effect::Market => {
                if (pre.vault, pre.insurance, &pre.wallet_q) != (post.vault, post.insurance, &post.wallet_q) {
                    self.violation("tokens moved in a market move");
                }
                for p in 0..self.pfs.len() {
                    let deficit = (-post.eq[p]).max(0);
                    self.explained[p] = deficit;
                    self.market_deficit[p] = deficit;
                    if deficit == 0 {
                        self.negative_since[p] = None;
                    } else if self.negative_since[p].is_none() {
                        self.negative_since[p] = Some((self.step, self.op.clone()));
                    }
                }
            }
            Effect::Exact { pf, wallets, insurance, tolerance, delegate_bounds } => {
                let mut expected = vec![0i128; n];
                for &(p, d) in pf {
                    expected[p] += d;
                }
                for p in 0..n {
                    let got = post.eq[p] - pre.eq[p];
                    if got != expected[p] {
                        self.violation(&format!(
                            "pf{p}'s equity moved {} native, expected {} (difference {:.2})",
                            got / S,
                            expected[p] / S,
                            (got - expected[p]) as f64 / S as f64
                        ));
                    }
                }
                for a in 0..self.actors.len() {
                    let (dq, dc) =
                        wallets.iter().filter(|w| w.0 == a).fold((0i64, 0i64), |s, w| (s.0 + w.1, s.1 + w.2));
                    let got_q = post.wallet_q[a] as i64 - pre.wallet_q[a] as i64;
                    let got_c = post.wallet_c[a] as i64 - pre.wallet_c[a] as i64;
                    if (got_q, got_c) != (dq, dc) {
                        self.violation(&format!("a{a}'s wallets moved {got_q}/{got_c}, expected {dq}/{dc}"));
                    }
                }
                let got = post.insurance as i64 - pre.insurance as i64;
                if got != *insurance || post.coll_insurance != pre.coll_insurance {
                    self.violation(&format!("insurance moved {got}, expected {insurance}"));
                }
                for &(p, bound) in delegate_bounds {
                    let loss = pre.eq[p] - post.eq[p];
                    self.stats.delegate_fills += 1;
                    if bound > 0 {
                        self.stats.delegate_worst_ratio =
                            self.stats.delegate_worst_ratio.max(loss as f64 / bound as f64);
                    }
                    if loss > bound {
                        self.violation(&format!(
                            "a delegate-signed fill cost pf{p} {} native, the owner's bound is {}",
                            loss / S,
                            bound / S
                        ));
                    }
                }
                for &(p, t, why) in tolerance {
                    let slot = growth_allowed[p].get_or_insert((0, why));
                    slot.0 += t;
                }
            }
            Effect::Bankruptcy { target, deficit, insurance_paid, socialized, taken } => {
                self.check_bankruptcy(pre, post, *target, *deficit, *insurance_paid, *socialized, *taken);
                for (p, allowed) in growth_allowed.iter_mut().enumerate() {
                    if p != *target {
                        *allowed = Some(((pre.eq[p] - post.eq[p]).max(0), "socialized haircut"));
                    }
                }
                self.explained[*target] = 0;
                self.market_deficit[*target] = 0;
                self.negative_since[*target] = None;
            }
        }
        if !matches!(out.effect, Effect::Market) {
            self.check_deficits(pre, post, &growth_allowed);
        }
        if let Some((t, l)) = out.self_liquidation {
            // The program allows self-liquidation because the owner's portfolios together
            // lose the insurance share; with limited liability (a deficit is never paid by
            // its owner) that only holds while the target is solvent.
            let limited = |v: &View| v.eq[t].max(0) + v.eq[l];
            let gain = limited(post) - limited(pre);
            self.stats.self_liquidations += 1;
            if gain > 0 {
                self.violation(&format!(
                    "self-liquidation of insolvent pf{t} (equity {} -> {} native) by pf{l}, both a{}'s: \
                     the owner's withdrawable value rose {} native, the deficit left to the insurance \
                     fund grew {}",
                    pre.eq[t] / S,
                    post.eq[t] / S,
                    self.pfs[t].owner,
                    gain / S,
                    ((-post.eq[t]).max(0) - (-pre.eq[t]).max(0)) / S
                ));
            }
        }
        self.check_actors(out, pre, post);
    }

    /// Invariants 1–3 on one state.
    fn check_global(&mut self, v: &View) {
        // (`insurance` counts the markets' unswept fees, which are tokens in the vault.)
        let q = v.wallet_q.iter().sum::<u64>() + v.vault + v.insurance - v.accrued;
        if q != self.tokens_q {
            self.violation(&format!("quote tokens {q}, at the start {}", self.tokens_q));
        }
        let c = v.wallet_c.iter().sum::<u64>() + v.coll_vault + v.coll_insurance;
        if c != self.tokens_c {
            self.violation(&format!("collateral tokens {c}, at the start {}", self.tokens_c));
        }
        let held: i64 = v.coll.iter().sum();
        // (Registry v5 keeps no total: the deposit cap applies to the vault itself.)
        if held as u64 != v.coll_vault || v.coll_total_deposits != 0 || v.coll.iter().any(|&b| b < 0) {
            self.violation(&format!(
                "collateral vault {} vs Σ balances {held}; retired total_deposits {}",
                v.coll_vault, v.coll_total_deposits
            ));
        }
        for (key, &oi) in &v.oi {
            let (sum, longs) = v.sizes.get(key).copied().unwrap_or_default();
            let settled = self.settled_sizes.get(key).copied().unwrap_or(0);
            if sum + settled != 0 {
                self.violation(&format!("Σ sizes of {key:?} = {sum} (+ {settled} settled)"));
            }
            if oi != longs {
                self.violation(&format!("open interest of {key:?} = {oi}, Σ longs {longs}"));
            }
        }
        if v.dust % S != 0 {
            self.violation(&format!("claims are not whole native units ({} value units)", v.dust));
        }
        let dust = v.dust / S;
        let bound = 2 * i128::from(self.perp_fills) + i128::from(v.open_perps) + self.social_dust;
        if dust < 0 || dust > bound {
            self.violation(&format!("vault {} − claims = {dust}, outside [0, {bound}]", v.vault));
        }
        // Σ over actors of (equity + withdrawn − deposited), plus insurance and the dust, is
        // the tokens there are (at the collateral's price).
        let cprice = i128::from(v.cprice);
        let values: i128 = (0..self.actors.len()).map(|a| self.actor_value(v, a)).sum();
        let total = values + i128::from(v.insurance) * S + i128::from(v.coll_insurance) * cprice + v.dust;
        if total != i128::from(self.tokens_q) * S + i128::from(self.tokens_c) * cprice {
            self.violation("Σ actors' values + insurance + dust differs from the tokens there are");
        }
        let positive: u64 = v.quote.iter().map(|&q| q.max(0) as u64).sum();
        if v.quote_total_deposits < positive {
            self.violation(&format!(
                "quote total_deposits {} < Σ positive balances {positive}",
                v.quote_total_deposits
            ));
        }
        // Nor above it, but for the socialized losses' rounding: a shard kept wrong (e.g. a
        // registry shard floored at 0 after profits made in a market were withdrawn) would
        // socialize a later loss over more than there is.
        let over = i128::from(v.quote_total_deposits) - i128::from(positive);
        if over > self.social_dust {
            self.violation(&format!(
                "Σ positive quote shards {} exceed Σ positive balances {positive} by {over}",
                v.quote_total_deposits
            ));
        }
    }

    fn check_unchanged(&mut self, pre: &View, post: &View, what: &str) {
        let same = pre.eq == post.eq
            && pre.wallet_q == post.wallet_q
            && pre.wallet_c == post.wallet_c
            && (pre.vault, pre.insurance, pre.coll_vault, pre.coll_insurance)
                == (post.vault, post.insurance, post.coll_vault, post.coll_insurance);
        if !same {
            let moved: Vec<String> = (0..pre.eq.len())
                .filter(|&p| pre.eq[p] != post.eq[p])
                .map(|p| format!("pf{p} {:+}", (post.eq[p] - pre.eq[p]) / S))
                .collect();
            self.violation(&format!("{what} moved value: {}", moved.join(", ")));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_bankruptcy(
        &mut self,
        pre: &View,
        post: &View,
        target: usize,
        deficit: u64,
        insurance_paid: u64,
        socialized: u64,
        taken: u64,
    ) {
        let cprice = i128::from(post.cprice);
        let expected = i128::from(deficit) * S - i128::from(taken) * cprice;
        if post.eq[target] - pre.eq[target] != expected || (post.eq[target] != 0 && deficit > 0) {
            self.violation(&format!(
                "bankrupt pf{target}: equity {} -> {} native, deficit {deficit}, collateral taken {taken}",
                pre.eq[target] / S,
                post.eq[target] / S
            ));
        }
        let paid = pre.insurance as i64 - post.insurance as i64;
        let took = post.coll_insurance as i64 - pre.coll_insurance as i64;
        if paid != insurance_paid as i64 || took != taken as i64 {
            self.violation(&format!(
                "insurance paid {paid} (event {insurance_paid}), took {took} collateral (events {taken})"
            ));
        }
        let mut haircuts = 0i128;
        let total = i128::from(pre.quote_total_deposits.max(1));
        for p in (0..self.pfs.len()).filter(|&p| p != target) {
            let d = pre.eq[p] - post.eq[p];
            let q = i128::from(pre.quote[p] - post.quote[p]) * S;
            // Pro rata: a positive quote balance loses its share of the socialized loss.
            let share = (i128::from(pre.quote[p].max(0)) * i128::from(socialized) + total - 1) / total + 1;
            if d != q || d < 0 || d > share * S {
                self.violation(&format!(
                    "pf{p} (quote {}) moved {} native in another's bankruptcy, its share is {share}",
                    pre.quote[p],
                    -d / S
                ));
            }
            haircuts += d;
        }
        let n = self.pfs.len() as i128;
        if haircuts > (i128::from(socialized) + n + 1) * S || haircuts < (i128::from(socialized) - n - 1) * S
        {
            self.violation(&format!(
                "haircuts {} native for a socialized loss of {socialized}",
                haircuts / S
            ));
        }
        // Invariant 7: the loss borne by the fund and the haircut holders is a deficit a market
        // move caused (plus the growth allowed since).
        let borne = (i128::from(insurance_paid) * S - i128::from(taken) * cprice) + haircuts;
        let explained = self.explained[target] + (n + 2) * S;
        // Quote holders are haircut only for what the fund could not cover: the portfolio's
        // deficit (its quote liability less the collateral the fund takes over) beyond the
        // fund's quote.
        let deficit_value = (-pre.eq[target]).max(0);
        let uncovered = (deficit_value - i128::from(pre.insurance) * S).max(0);
        if haircuts > uncovered + (n + 1) * S {
            self.violation(&format!(
                "bankruptcy of pf{target}: its deficit net of the {taken} collateral the fund took over \
                 is {} native and the fund held {}, yet {} native were socialized: quote holders paid {} \
                 beyond what the fund could not cover, and the fund's value rose {} native",
                deficit_value / S,
                pre.insurance,
                haircuts / S,
                (haircuts - uncovered) / S,
                (i128::from(taken) * cprice - i128::from(insurance_paid) * S) / S
            ));
        }
        let since = match &self.negative_since[target] {
            Some((step, op)) => format!("negative since step {step} [{op}]"),
            None => "never negative after a market move".into(),
        };
        self.stats.bankruptcy_log.push(format!(
            "step {}: pf{target} deficit {deficit} native (insurance {insurance_paid}, socialized {socialized}, \
             collateral taken {taken}); {since}; deficit right after the last market move {}, grown since \
             without one by {}",
            self.step,
            self.market_deficit[target] / S,
            (self.explained[target] - self.market_deficit[target]) / S
        ));
        if borne > explained {
            self.violation(&format!(
                "bankruptcy of pf{target} cost {} native, only {} of deficit is explained by market moves",
                borne / S,
                self.explained[target] / S
            ));
        }
    }

    /// Invariant 6: outside market moves, a deficit grows only as allowed.
    fn check_deficits(&mut self, pre: &View, post: &View, allowed: &[Option<(i128, &'static str)>]) {
        for p in 0..self.pfs.len() {
            let growth = (-post.eq[p]).max(0) - (-pre.eq[p]).max(0);
            if growth <= 0 {
                continue;
            }
            match allowed[p] {
                Some((limit, why)) if growth <= limit => {
                    let t = self.stats.tolerated.entry(why).or_default();
                    t.0 += 1;
                    t.1 += growth / S;
                    let examples = self.stats.tolerated_examples.entry(why).or_default();
                    if examples.len() < 3 {
                        examples.push(format!(
                            "step {}: pf{p} {} -> {} native [{}]",
                            self.step,
                            pre.eq[p] / S,
                            post.eq[p] / S,
                            self.op
                        ));
                    }
                    self.explained[p] += growth;
                }
                _ => self.violation(&format!(
                    "pf{p}'s deficit grew by {} native without a market move (equity {} -> {})",
                    growth / S,
                    pre.eq[p] / S,
                    post.eq[p] / S
                )),
            }
        }
    }

    /// Invariant 5 at the actors' level, and their ledgers.
    fn check_actors(&mut self, out: &Outcome, pre: &View, post: &View) {
        for a in 0..self.actors.len() {
            let delta = self.actor_value(post, a) - self.actor_value(pre, a);
            if delta == 0 {
                continue;
            }
            let line = match (&out.effect, out.ledger) {
                (Effect::Bankruptcy { target, .. }, _) if self.pfs[*target].owner != a => "socialized",
                (_, "liquidations") if delta > 0 => "liquidations earned",
                (_, "liquidations") => "liquidations conceded",
                (_, line) => line,
            };
            *self.ledger[a].entry(line).or_default() += delta;
            if out.collusion == Some(a) && delta > 0 {
                self.violation(&format!("a{a} gained {} native trading with itself", delta / S));
            }
        }
    }

    /// A portfolio's `refresh_health`, if it can be computed now.
    fn refresh_health(&mut self, pf: usize) -> Result<HealthView, TxFailure> {
        let key = self.pfs[pf].key;
        let accounts = self.v.health_accounts(&key, None);
        let ix = self.v.sb.refresh_health_ix(key, &accounts);
        let [a, b] = budget_ixs();
        let landed = self.v.sb.send(&[a, b, ix], &[])?;
        Ok(<HealthView as anchor_lang::AnchorDeserialize>::deserialize(&mut landed.return_data.as_slice())
            .expect("health view"))
    }

    /// The program's equity of a portfolio, value units.
    fn program_equity(&mut self, pf: usize) -> Option<i128> {
        self.refresh_health(pf).ok().map(|h| (h.equity * 1_000_000 * S) >> 48)
    }

    /// `refresh_health` of every portfolio: the program's equity against the off-chain one,
    /// and the liquidators' candidates.
    fn sweep(&mut self, view: &View) {
        self.stats.sweeps += 1;
        for pf in 0..self.pfs.len() {
            match self.refresh_health(pf) {
                Ok(h) => {
                    self.stats.health_checked += 1;
                    // Equity bits (I80F48 quote units) in value units.
                    let program = (h.equity * 1_000_000 * S) >> 48;
                    let gap = (program - view.eq[pf]).abs();
                    if view.has_options[pf] {
                        self.stats.option_equity_gap = self.stats.option_equity_gap.max(gap / S);
                    } else if gap > 2 * S {
                        self.violation(&format!(
                            "pf{pf}: refresh_health equity {} native, off-chain {}",
                            program / S,
                            view.eq[pf] / S
                        ));
                    }
                    if h.maintenance_health < 0 {
                        self.candidates.insert(pf);
                    } else {
                        self.candidates.remove(&pf);
                    }
                }
                Err(f) => *self.stats.health_failed.entry(error_name(&f)).or_default() += 1,
            }
        }
    }

    // ---------------------------------------------------------------- the run

    fn run(&mut self, ops: usize) {
        let mut pre = self.view();
        self.check_global(&pre);
        for step in 0..ops {
            self.step = step;
            self.op = "choosing".into();
            let clock = Instant::now();
            let out = self.random_op();
            self.stats.time_ops += clock.elapsed();
            self.op = format!("{}: {}", out.kind, out.desc);
            let entry = self.stats.ops.entry(out.kind).or_default();
            if out.skipped {
                entry.2 += 1;
                continue;
            }
            entry.0 += 1;
            if out.landed {
                entry.1 += 1;
            }
            let clock = Instant::now();
            let post = self.view();
            self.check(&out, &pre, &post);
            self.stats.time_views += clock.elapsed();
            if out.kind == "price move" || step % SWEEP_EVERY == SWEEP_EVERY - 1 {
                let clock = Instant::now();
                self.sweep(&post);
                self.stats.time_sweeps += clock.elapsed();
            }
            pre = post;
        }
        // The ledgers add up to each actor's change in value.
        for a in 0..self.actors.len() {
            let total: i128 = self.ledger[a].values().sum();
            let change = self.actor_value(&pre, a) - self.start_value[a];
            if total != change {
                self.violation(&format!(
                    "a{a}'s ledger sums to {} native, its value moved {}",
                    total / S,
                    change / S
                ));
            }
        }
    }

    fn report(&self, ops: usize, elapsed: Duration) {
        let s = &self.stats;
        println!(
            "adversarial sequence: seed {:#x}, {ops} operations, {:.1} s",
            self.seed,
            elapsed.as_secs_f64()
        );
        println!("  {:<22} {:>9} {:>7} {:>8}", "operation", "attempted", "landed", "skipped");
        let (mut attempted, mut landed) = (0, 0);
        for (kind, (a, l, k)) in &s.ops {
            println!("  {kind:<22} {a:>9} {l:>7} {k:>8}");
            attempted += a;
            landed += l;
        }
        println!("  {:<22} {attempted:>9} {landed:>7}", "total");
        println!(
            "  price moves {}, liquidations {}, bankruptcies {} (insurance paid {}, socialized {}, collateral taken {})",
            s.price_moves, s.liquidations, s.bankruptcies, s.insurance_paid, s.socialized, s.collateral_taken
        );
        println!(
            "  must-fail operations refused {}, colluding fills {}, delegate-signed fills {} (worst loss {:.0}% of the bound), \
             settlements recorded at expiry {} / at the window's end {}",
            s.forged_rejected,
            s.collusion_fills,
            s.delegate_fills,
            s.delegate_worst_ratio * 100.0,
            s.records_at_expiry,
            s.forced_records
        );
        println!(
            "  portfolio-steps with negative equity {}, self-liquidations {}",
            s.insolvent_steps, s.self_liquidations
        );
        println!(
            "  time: operations {:.1} s, valuations and checks {:.1} s, health sweeps {:.1} s",
            s.time_ops.as_secs_f64(),
            s.time_views.as_secs_f64(),
            s.time_sweeps.as_secs_f64()
        );
        println!(
            "  health sweeps {} ({} portfolios checked; largest option-book equity gap vs marks {} native)",
            s.sweeps, s.health_checked, s.option_equity_gap
        );
        for (why, n) in &s.health_failed {
            println!("    refresh_health failed {n}x: {why}");
        }
        for line in &s.bankruptcy_log {
            println!("  bankruptcy at {line}");
        }
        for (why, (n, native)) in &s.tolerated {
            println!("  deficit growth without a market move, {why}: {n}x, {native} native; e.g.");
            for e in s.tolerated_examples.get(why).into_iter().flatten() {
                println!("    {e}");
            }
        }
        println!("  rejections by error:");
        for ((kind, error), n) in &s.failures {
            println!("    {kind:<22} {error:<40} {n}");
        }
        for (a, ledger) in self.ledger.iter().enumerate() {
            let parts: Vec<String> = ledger.iter().map(|(k, v)| format!("{k} {:+}", v / S)).collect();
            println!("  a{a} ledger (native): {}", parts.join(", "));
        }
    }
}

#[test]
fn adversarial_randomized_sequence_extracts_no_value() {
    let seed = env_seed();
    let ops = env_ops();
    println!("adversarial sequence: seed {seed:#x} (replay: XMARGIN_SEQ_SEED={seed:#x}), {ops} operations");
    let started = Instant::now();
    let mut w = World::new(seed);
    w.run(ops);
    w.report(ops, started.elapsed());
    assert!(
        w.violations.is_empty(),
        "{} invariant violations (seed {seed:#x}):\n{}",
        w.violations.len(),
        w.violations.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}
