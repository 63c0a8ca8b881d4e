//! A trading venue in the SVM: an exchange, underlyings listed through the timelock with their
//! markets, Pyth pull oracles the harness publishes, and traders with quote-funded
//! portfolios. Builds every trading instruction with its health accounts in the program's
//! documented order (`health.rs`), so tests, the CU report and the demo share one client.
use anchor_lang::prelude::Pubkey;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;
use xmargin::instructions::{
    with_counterparts, CreateMarketArgs, HealthView, ListOptionSeriesArgs, RecordSettlementPriceArgs,
    RiskChangeArgs, TradeArgs, UpdateMarksArgs,
};
use xmargin::oracle::{kind, OracleConfig};
use xmargin::state::{instrument_kind, Market, OptionSeries, Portfolio, PERP_INSTRUMENT};

use crate::ix::instruction;
use crate::{pda, ExchangeFixture, Sandbox, SandboxError, TxFailure, TxResult, DEFAULT_TIMELOCK_SECS};

/// Oracle prices are published with exponent −6: with the 6-decimal quote mint, a mantissa is
/// a price in quote native units per underlying unit.
pub const PRICE_EXPO: i32 = -6;
/// Lots are 0.01 units; ticks 0.01 quote (10_000 native, a multiple of 100 lots per unit).
pub const LOT_DECIMALS: u8 = 2;
pub const TICK: u64 = 10_000;
/// 08:00 UTC expiries.
pub const EXPIRY_TIME_OF_DAY: u32 = 8 * 3600;

/// Marks policy: a series' marks serve while the spot is within 3% of their reference and
/// for an hour (keepers refresh them well before; the venue's helpers before every trade).
pub const MARK_DRIFT_BPS: u16 = 300;
pub const MARK_AGE_SECS: u32 = 3_600;
/// Series marked per `update_marks` transaction (~42k CU each), counterparts included.
pub const MARKS_PER_TX: usize = 16;

/// `update_marks` masks covering every series of `listed` (a market's listed series), in
/// index order, each marking at most `per_tx` series once extended with counterparts
/// (`xmargin::instructions::with_counterparts`): a series and its counterparts (the same
/// strike and expiry's other kind) always share a mask, so every mask is marked as given and
/// a conversion's legs share a basis.
pub fn marks_batches(listed: &[OptionSeries], per_tx: usize) -> Vec<u32> {
    let mut batches = Vec::new();
    let (mut mask, mut done) = (0u32, 0u32);
    for i in 0..listed.len() {
        if done & (1 << i) != 0 {
            continue;
        }
        let group = with_counterparts(listed, 1 << i);
        done |= group;
        if mask != 0 && (mask | group).count_ones() as usize > per_tx {
            batches.push(mask);
            mask = 0;
        }
        mask |= group;
    }
    if mask != 0 {
        batches.push(mask);
    }
    batches
}

/// The market parameters the venue uses: 5% perp band, option band 2% of spot, fees 5 / 2 bps,
/// funding capped at 0.07% per hourly interval (at most the two fees, so wash trades cannot pay), one-hour settlement window.
pub fn market_args(underlying: u8) -> CreateMarketArgs {
    CreateMarketArgs {
        underlying,
        lot_decimals: LOT_DECIMALS,
        tick: TICK,
        min_size_lots: 1,
        perp_oi_cap: 1_000_000_000,
        perp_band_bps: 500,
        option_band_bps: 200,
        taker_fee_bps: 5,
        maker_fee_bps: 2,
        max_funding_rate_bps: 7,
        funding_interval_secs: 3_600,
        expiry_time_of_day_secs: EXPIRY_TIME_OF_DAY,
        settlement_window_secs: 3_600,
        max_expiry_days: 365,
        max_mark_drift_bps: MARK_DRIFT_BPS,
        max_mark_age_secs: MARK_AGE_SECS,
    }
}

pub struct VenueUnderlying {
    pub index: u8,
    pub feed: [u8; 32],
    pub oracle: Pubkey,
    pub market: Pubkey,
    /// Current oracle price, quote native units per unit (mantissa at `PRICE_EXPO`).
    pub price: i64,
    /// EMA published with the price (defaults to the price).
    pub ema: i64,
}

/// A listed non-quote collateral asset with its pull oracle.
pub struct VenueCollateral {
    pub index: u8,
    pub mint: Pubkey,
    pub feed: [u8; 32],
    pub oracle: Pubkey,
    /// Oracle price, quote native units per whole token (mantissa at `PRICE_EXPO`).
    pub price: i64,
}

pub struct Trader {
    pub owner: Keypair,
    pub portfolio: Pubkey,
    pub quote_account: Pubkey,
}

pub struct Venue {
    pub sb: Sandbox,
    pub fx: ExchangeFixture,
    pub underlyings: Vec<VenueUnderlying>,
    pub collaterals: Vec<VenueCollateral>,
}

/// The compute-budget program's `SetComputeUnitLimit` (discriminant 2, u32 LE).
pub fn compute_limit_ix(units: u32) -> Instruction {
    let mut data = vec![2u8];
    data.extend_from_slice(&units.to_le_bytes());
    Instruction {
        program_id: Pubkey::from_str_const("ComputeBudget111111111111111111111111111111"),
        accounts: vec![],
        data,
    }
}

/// The compute-budget program's `RequestHeapFrame` (discriminant 1, u32 LE bytes): the
/// program's allocator can use up to 256 KiB (programs/xmargin/src/heap.rs).
pub fn heap_frame_ix(bytes: u32) -> Instruction {
    let mut data = vec![1u8];
    data.extend_from_slice(&bytes.to_le_bytes());
    Instruction {
        program_id: Pubkey::from_str_const("ComputeBudget111111111111111111111111111111"),
        accounts: vec![],
        data,
    }
}

/// The budget the venue gives margin-checked transactions: the most compute units and heap.
pub fn budget_ixs() -> [Instruction; 2] {
    [compute_limit_ix(1_400_000), heap_frame_ix(256 * 1024)]
}

/// A pull-oracle configuration read from the feed's sponsored account: 60 s staleness,
/// confidence ≤ 2%.
pub fn pull_oracle(feed: [u8; 32]) -> OracleConfig {
    OracleConfig {
        source: feed,
        feed_account: crate::oracles::sponsored_feed_account(feed),
        kind: kind::PYTH_PULL,
        max_staleness_secs: 60,
        max_conf_bps: 200,
        ..OracleConfig::default()
    }
}

impl Venue {
    /// An exchange with one underlying per price (quote native units per unit), each listed
    /// through the timelock (static reference grid, 60% implied vol) and given a market.
    pub fn new(prices: &[i64]) -> Result<Venue, SandboxError> {
        let (mut sb, fx) = Sandbox::with_exchange()?;
        let mut ids = Vec::new();
        for (i, _) in prices.iter().enumerate() {
            let feed = [0x10u8.saturating_add(i as u8); 32];
            let config = crate::fixtures::underlying(pull_oracle(feed), false);
            let (ix, id) =
                sb.propose_risk_change_ix(fx.governance.pubkey(), RiskChangeArgs::ListUnderlying { config });
            sb.send(&[ix], &[&fx.governance]).map_err(fail)?;
            ids.push(id);
        }
        sb.warp(DEFAULT_TIMELOCK_SECS);
        let mut underlyings = Vec::new();
        for (i, (id, price)) in ids.into_iter().zip(prices).enumerate() {
            let ix = sb.execute_risk_change_ix(id);
            sb.send(&[ix], &[]).map_err(fail)?;
            let index = i as u8;
            let market = pda::market(&pda::exchange(), index);
            let feed = [0x10u8.saturating_add(index); 32];
            underlyings.push(VenueUnderlying {
                index,
                feed,
                oracle: crate::oracles::sponsored_feed_account(feed),
                market,
                price: *price,
                ema: *price,
            });
        }
        let mut venue = Venue { sb, fx, underlyings, collaterals: Vec::new() };
        venue.publish();
        for i in 0..venue.underlyings.len() {
            let ix = venue.create_market_ix(market_args(i as u8));
            let governance = venue.fx.governance.insecure_clone();
            let landed = venue.sb.send(&[ix], &[&governance]).map_err(fail)?;
            crate::cu::record("create_market", "creates the market PDA", landed.compute_units, 40_000);
        }
        Ok(venue)
    }

    /// Re-publishes every oracle at the current clock.
    pub fn publish(&mut self) {
        for u in &self.underlyings {
            let q = self.sb.quote(u.price, (u.price / 10_000).max(1) as u64, PRICE_EXPO);
            self.sb.put_pull_oracle_with_ema(u.oracle, u.feed, &q, u.ema);
        }
        for c in &self.collaterals {
            let q = self.sb.quote(c.price, (c.price / 10_000).max(1) as u64, PRICE_EXPO);
            self.sb.put_pull_oracle(c.oracle, c.feed, &q, true);
        }
    }

    /// Sets an underlying's oracle price (and EMA) and publishes.
    pub fn set_price(&mut self, underlying: u8, price: i64) {
        let u = &mut self.underlyings[usize::from(underlying)];
        u.price = price;
        u.ema = price;
        self.publish();
    }

    /// Moves the clock and re-publishes the oracles (so they stay fresh).
    pub fn warp(&mut self, seconds: i64) {
        self.sb.warp(seconds);
        self.publish();
    }

    pub fn market(&self, underlying: u8) -> Market {
        self.sb.zero_copy_account(&self.underlyings[usize::from(underlying)].market).expect("market")
    }

    pub fn portfolio(&self, trader: &Trader) -> Portfolio {
        self.sb.portfolio(&trader.portfolio).expect("portfolio")
    }

    /// A trader with a portfolio holding `quote` native units of the quote asset.
    pub fn trader(&mut self, quote: u64) -> Result<Trader, TxFailure> {
        let owner = self.sb.funded_keypair();
        let ix = self.sb.open_portfolio_ix(owner.pubkey(), 0);
        self.sb.send(&[ix], &[&owner])?;
        let portfolio = pda::portfolio(&owner.pubkey(), 0);
        let mint = self.fx.quote_mint;
        let quote_account = self.sb.create_token_account(&mint, &owner.pubkey(), quote);
        if quote > 0 {
            let ix = self.sb.deposit_ix(owner.pubkey(), portfolio, mint, quote_account, quote);
            self.sb.send(&[ix], &[&owner])?;
        }
        Ok(Trader { owner, portfolio, quote_account })
    }

    /// Deposits more quote into a trader's portfolio (minted to the trader first).
    pub fn deposit(&mut self, trader: &Trader, amount: u64) -> TxResult {
        let mint = self.fx.quote_mint;
        let source = self.sb.create_token_account(&mint, &trader.owner.pubkey(), amount);
        let ix = self.sb.deposit_ix(trader.owner.pubkey(), trader.portfolio, mint, source, amount);
        self.sb.send(&[ix], &[&trader.owner])
    }

    /// Withdraws quote to the trader's token account (health-checked with positions).
    pub fn withdraw(&mut self, trader: &Trader, amount: u64) -> TxResult {
        self.mark_all();
        let accounts = self.health_accounts(&trader.portfolio, None);
        let mut ix = self.sb.withdraw_ix(
            trader.owner.pubkey(),
            trader.portfolio,
            self.fx.quote_mint,
            trader.quote_account,
            amount,
            &[],
        );
        ix.accounts.extend(accounts.iter().map(|k| AccountMeta::new_readonly(*k, false)));
        let [a, b] = budget_ixs();
        self.sb.send(&[a, b, ix], &[&trader.owner])
    }

    /// The health accounts of a portfolio: the oracle of every non-quote balance with a
    /// non-zero amount, in slot order, then `[market, oracle]` per underlying with positions
    /// or a linked balance, ascending, leaving out `exclude`.
    pub fn health_accounts(&self, portfolio: &Pubkey, exclude: Option<u8>) -> Vec<Pubkey> {
        let p: Portfolio = self.sb.portfolio(portfolio).expect("portfolio");
        self.health_accounts_of(&p, exclude)
    }

    /// The oracle of every non-quote balance with a non-zero amount, in slot order: the first
    /// part of the health accounts, and all `resolve_bankruptcy` needs to value equity.
    pub fn collateral_oracles_of(&self, p: &Portfolio) -> Vec<Pubkey> {
        p.balances
            .iter()
            .filter(|b| b.active == 1 && b.amount != 0 && b.collateral != 0)
            .filter_map(|b| self.collaterals.iter().find(|c| c.index == b.collateral).map(|c| c.oracle))
            .collect()
    }

    /// `health_accounts` of a portfolio state (e.g. one predicted after an instruction).
    pub fn health_accounts_of(&self, p: &Portfolio, exclude: Option<u8>) -> Vec<Pubkey> {
        let mut out = self.collateral_oracles_of(p);
        // Underlyings with a position, and those a positive balance of a linked asset is
        // linked to (the program's `health_underlyings`).
        let registry = self.sb.registry();
        let linked = p.balances.iter().filter(|b| b.active == 1 && b.amount > 0).filter_map(|b| {
            let link = registry.as_ref()?.collaterals.get(usize::from(b.collateral))?.link;
            link.is_active().then_some(u16::from(link.underlying))
        });
        let mut used: Vec<u16> =
            p.positions.iter().filter(|s| s.active == 1).map(|s| s.underlying).chain(linked).collect();
        used.sort_unstable();
        used.dedup();
        for u in used {
            if exclude.map(u16::from) == Some(u) {
                continue;
            }
            let v = &self.underlyings[usize::from(u)];
            out.push(v.market);
            out.push(v.oracle);
        }
        out
    }

    pub fn create_market_ix(&self, args: CreateMarketArgs) -> Instruction {
        self.sb.create_market_ix(self.fx.governance.pubkey(), args)
    }

    pub fn list_series_ix(&self, underlying: u8, args: ListOptionSeriesArgs) -> Instruction {
        instruction(
            xmargin::accounts::ListOptionSeries {
                governance: self.fx.governance.pubkey(),
                exchange: pda::exchange(),
                market: self.underlyings[usize::from(underlying)].market,
            },
            xmargin::instruction::ListOptionSeries { args },
        )
    }

    /// Lists a series and returns its index.
    pub fn list_series(
        &mut self,
        underlying: u8,
        kind: u8,
        strike: u64,
        expiry: i64,
    ) -> Result<u8, TxFailure> {
        let index = self.market(underlying).series_count;
        let ix = self
            .list_series_ix(underlying, ListOptionSeriesArgs { kind, strike, expiry, oi_cap: 1_000_000_000 });
        let governance = self.fx.governance.insecure_clone();
        let landed = self.sb.send(&[ix], &[&governance])?;
        crate::cu::record(
            "list_option_series",
            "on the strike and expiry grid",
            landed.compute_units,
            40_000,
        );
        Ok(index)
    }

    /// The next 08:00 UTC at least `days` days from now.
    pub fn expiry_in_days(&self, days: i64) -> i64 {
        let (now, _) = self.sb.now();
        let target = now + days * 86_400;
        let day_start = target - target.rem_euclid(86_400);
        let expiry = day_start + i64::from(EXPIRY_TIME_OF_DAY);
        if expiry >= target {
            expiry
        } else {
            expiry + 86_400
        }
    }

    /// `trade` with the health accounts of both sides (the traded underlying's market and
    /// oracle are named accounts, so they are left out of both lists).
    pub fn trade_ix(
        &self,
        taker: &Trader,
        maker: &Trader,
        underlying: u8,
        instrument: u8,
        size_lots: i64,
        price: u64,
    ) -> Instruction {
        self.trade_ix_signed(
            taker,
            maker,
            &taker.owner.pubkey(),
            &maker.owner.pubkey(),
            underlying,
            instrument,
            size_lots,
            price,
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub fn trade_ix_signed(
        &self,
        taker: &Trader,
        maker: &Trader,
        taker_signer: &Pubkey,
        maker_signer: &Pubkey,
        underlying: u8,
        instrument: u8,
        size_lots: i64,
        price: u64,
    ) -> Instruction {
        let exchange = pda::exchange();
        let registry = pda::registry(&exchange);
        let taker_accounts = self.health_accounts(&taker.portfolio, Some(underlying));
        let maker_accounts = self.health_accounts(&maker.portfolio, Some(underlying));
        let u = &self.underlyings[usize::from(underlying)];
        let mut ix = instruction(
            xmargin::accounts::Trade {
                taker_signer: *taker_signer,
                maker_signer: *maker_signer,
                exchange,
                registry,
                taker: taker.portfolio,
                maker: maker.portfolio,
                market: u.market,
                oracle: u.oracle,
            },
            xmargin::instruction::Trade {
                args: TradeArgs {
                    instrument,
                    size_lots,
                    price,
                    taker_health_accounts: taker_accounts.len() as u8,
                },
            },
        );
        ix.accounts.extend(
            taker_accounts.iter().chain(&maker_accounts).map(|k| AccountMeta::new_readonly(*k, false)),
        );
        ix
    }

    /// `update_marks` of the series in `mask`.
    pub fn update_marks_ix(&self, underlying: u8, mask: u32) -> Instruction {
        let exchange = pda::exchange();
        let u = &self.underlyings[usize::from(underlying)];
        instruction(
            xmargin::accounts::UpdateMarks {
                exchange,
                registry: pda::registry(&exchange),
                market: u.market,
                oracle: u.oracle,
            },
            xmargin::instruction::UpdateMarks { args: UpdateMarksArgs { series_mask: mask } },
        )
    }

    /// Marks every listed series of an underlying, at most `MARKS_PER_TX` per transaction
    /// (`marks_batches`: a series and its counterparts in the same one); the compute units of
    /// each transaction.
    pub fn mark(&mut self, underlying: u8) -> Result<Vec<u64>, TxFailure> {
        let market = self.market(underlying);
        let mut units = Vec::new();
        for mask in marks_batches(market.listed_series(), MARKS_PER_TX) {
            let ix = self.update_marks_ix(underlying, mask);
            let [a, b] = budget_ixs();
            units.push(self.sb.send(&[a, b, ix], &[])?.compute_units);
        }
        Ok(units)
    }

    /// What a keeper does: marks every market's series at the current prices. Best effort: a
    /// market whose oracle cannot be read is left as it is (the instruction that needs its
    /// marks then fails with its own error).
    pub fn mark_all(&mut self) {
        for i in 0..self.underlyings.len() {
            let _ = self.mark(i as u8);
        }
    }

    /// Sends a trade with the largest compute budget, after a keeper pass (`mark_all`).
    pub fn trade(
        &mut self,
        taker: &Trader,
        maker: &Trader,
        underlying: u8,
        instrument: u8,
        size_lots: i64,
        price: u64,
    ) -> TxResult {
        self.mark_all();
        let ix = self.trade_ix(taker, maker, underlying, instrument, size_lots, price);
        let [a, b] = budget_ixs();
        self.sb.send(&[a, b, ix], &[&taker.owner, &maker.owner])
    }

    /// A perp trade at the oracle price rounded to the tick.
    pub fn trade_perp_at_oracle(
        &mut self,
        taker: &Trader,
        maker: &Trader,
        underlying: u8,
        size_lots: i64,
    ) -> TxResult {
        let price = self.tick_price(self.underlyings[usize::from(underlying)].price as u64);
        self.trade(taker, maker, underlying, PERP_INSTRUMENT, size_lots, price)
    }

    /// `price` rounded to the tick.
    pub fn tick_price(&self, price: u64) -> u64 {
        (price + TICK / 2) / TICK * TICK
    }

    pub fn update_funding_ix(&self, underlying: u8) -> Instruction {
        let exchange = pda::exchange();
        let u = &self.underlyings[usize::from(underlying)];
        instruction(
            xmargin::accounts::UpdateFunding {
                exchange,
                registry: pda::registry(&exchange),
                market: u.market,
                oracle: u.oracle,
            },
            xmargin::instruction::UpdateFunding {},
        )
    }

    pub fn record_settlement_ix(&self, underlying: u8, series: u8) -> Instruction {
        let exchange = pda::exchange();
        let u = &self.underlyings[usize::from(underlying)];
        instruction(
            xmargin::accounts::RecordSettlementPrice {
                exchange,
                registry: pda::registry(&exchange),
                market: u.market,
                oracle: u.oracle,
            },
            xmargin::instruction::RecordSettlementPrice { args: RecordSettlementPriceArgs { series } },
        )
    }

    pub fn settle_expired_ix(&self, portfolio: &Pubkey, underlying: u8) -> Instruction {
        let exchange = pda::exchange();
        instruction(
            xmargin::accounts::SettleExpired {
                exchange,
                registry: pda::registry(&exchange),
                portfolio: *portfolio,
                market: self.underlyings[usize::from(underlying)].market,
            },
            xmargin::instruction::SettleExpired {},
        )
    }

    /// `sweep_fees` of one market (and the quote ledger's accrued shares) to the insurance
    /// vault.
    pub fn sweep_fees_ix(&self, underlying: u8) -> Instruction {
        self.sweep_ix(Some(self.underlyings[usize::from(underlying)].market))
    }

    /// The quote vault, insurance vault, quote mint and its token program (`QuoteVaults`, the
    /// block `sweep_fees` and `resolve_bankruptcy` take).
    pub fn quote_vaults(&self) -> xmargin::accounts::QuoteVaults {
        let exchange = pda::exchange();
        xmargin::accounts::QuoteVaults {
            quote_vault: pda::vault(&exchange, &self.fx.quote_mint),
            insurance_vault: pda::insurance_vault(&exchange),
            quote_mint: self.fx.quote_mint,
            token_program: self.sb.token_program_of(&self.fx.quote_mint),
        }
    }

    /// `sweep_fees` with `market` (None: the quote ledger's accrued shares only).
    pub fn sweep_ix(&self, market: Option<Pubkey>) -> Instruction {
        let exchange = pda::exchange();
        instruction(
            xmargin::accounts::SweepFees {
                exchange,
                registry: pda::registry(&exchange),
                market,
                quote_ledger: pda::quote_ledger(&exchange),
                vaults: self.quote_vaults(),
            },
            xmargin::instruction::SweepFees {},
        )
    }

    /// Σ of the markets' accrued fees (owed to insurance, still in the quote vault), quote
    /// native units.
    pub fn fees_accrued(&self) -> u64 {
        let markets = self.underlyings.iter().map(|u| u.market);
        markets
            .filter_map(|m| self.sb.zero_copy_account::<xmargin::state::Market>(&m))
            .map(|m| m.fees_accrued)
            .sum()
    }

    /// The quote ledger's accrued insurance shares (collateral liquidations), quote native
    /// units.
    pub fn ledger_fees_accrued(&self) -> u64 {
        let ledger = pda::quote_ledger(&pda::exchange());
        self.sb.zero_copy_account::<xmargin::state::QuoteLedger>(&ledger).map_or(0, |l| l.fees_accrued)
    }

    /// Σ positive quote balances as the program keeps it: the quote ledger's shard plus every
    /// market's.
    pub fn positive_quote_total(&self) -> i128 {
        let registry = self.quote_ledger_shard();
        let markets = self.underlyings.iter().map(|u| u.market);
        let shards: i128 = markets
            .filter_map(|m| self.sb.zero_copy_account::<xmargin::state::Market>(&m))
            .map(|m| i128::from(m.positive_quote_delta))
            .sum();
        i128::from(registry) + shards
    }

    /// The quote ledger's shard of Σ positive quote balances.
    pub fn quote_ledger_shard(&self) -> i64 {
        let ledger = pda::quote_ledger(&pda::exchange());
        self.sb
            .zero_copy_account::<xmargin::state::QuoteLedger>(&ledger)
            .map_or(0, |l| l.positive_quote_delta)
    }

    /// `sweep_fees` of every market with accrued fees and of the quote ledger (what a keeper
    /// does); returns the amount swept.
    pub fn sweep_all_fees(&mut self) -> Result<u64, TxFailure> {
        let before = self.fees_accrued() + self.ledger_fees_accrued();
        for u in 0..self.underlyings.len() {
            let market = self.underlyings[u].market;
            let accrued =
                self.sb.zero_copy_account::<xmargin::state::Market>(&market).map_or(0, |m| m.fees_accrued);
            if accrued > 0 {
                let ix = self.sweep_fees_ix(u as u8);
                self.sb.send(&[ix], &[])?;
            }
        }
        if self.ledger_fees_accrued() > 0 {
            self.sb.send(&[self.sweep_ix(None)], &[])?;
        }
        Ok(before)
    }

    /// `refresh_health` of a portfolio with its health accounts, and its compute units.
    pub fn health(&mut self, portfolio: &Pubkey) -> Result<(HealthView, u64), TxFailure> {
        self.mark_all();
        self.health_as_is(portfolio)
    }

    /// [`Venue::health`] without the keeper pass first: the marks as they are (e.g. after
    /// prices moved since they were computed).
    pub fn health_as_is(&mut self, portfolio: &Pubkey) -> Result<(HealthView, u64), TxFailure> {
        let accounts = self.health_accounts(portfolio, None);
        let ix = self.sb.refresh_health_ix(*portfolio, &accounts);
        let [a, b] = budget_ixs();
        let landed = self.sb.send(&[a, b, ix], &[])?;
        let view =
            <HealthView as anchor_lang::AnchorDeserialize>::deserialize(&mut landed.return_data.as_slice())
                .expect("health return data");
        Ok((view, landed.compute_units))
    }

    /// Quote tokens in the vault and the insurance vault.
    pub fn vault_balances(&self) -> (u64, u64) {
        let exchange = pda::exchange();
        let vault = self.sb.token_amount(&pda::vault(&exchange, &self.fx.quote_mint)).unwrap_or(0);
        let insurance = self.sb.token_amount(&pda::insurance_vault(&exchange)).unwrap_or(0);
        (vault, insurance)
    }
}

/// Whether a slot kind is an option.
pub fn is_option(kind: u8) -> bool {
    kind == instrument_kind::CALL || kind == instrument_kind::PUT
}

fn fail(f: TxFailure) -> SandboxError {
    SandboxError::Setup(f.to_string())
}
