//! A seeded random sequence of 1,200 operations on the compiled .so — trades of perps and
//! options on two underlyings, price moves, funding cranks, expiry settlement, deposits and
//! withdrawals — with the book's invariants checked after every step:
//!
//! - zero-sum: Σ sizes of every instrument over all portfolios = 0;
//! - open interest = Σ long sizes, per instrument;
//! - conservation: the quote vault holds Σ (quote balances + perp bases) plus the funding
//!   rounding, which is never negative (rounding never creates money) and at most one native
//!   unit per funding settlement; the insurance vault holds exactly the fees charged.
use xmargin::error::XmarginError;
use xmargin::state::{instrument_kind, PERP_INSTRUMENT};
use xmargin_risk::fx::Fx;
use xmargin_risk::trading::pending_funding;
use xmargin_sandbox::program_error_code;
use xmargin_sandbox::venue::{Trader, Venue, PRICE_EXPO};

const OPERATIONS: usize = 1_200;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn signed(&mut self, max: i64) -> i64 {
        self.below(2 * max as u64 + 1) as i64 - max
    }
}

struct Book {
    v: Venue,
    traders: Vec<Trader>,
    /// (underlying, instrument) pairs traded.
    instruments: Vec<(u8, u8)>,
    perp_trades: u64,
    fees: u64,
}

/// Margin-type rejections are legal outcomes of a random trade; anything else is a bug.
fn acceptable(code: Option<u32>) -> bool {
    [
        XmarginError::TakerInsufficientHealth,
        XmarginError::MakerInsufficientHealth,
        XmarginError::InsufficientHealth,
        XmarginError::TooManyPositions,
        // A portfolio left below maintenance fills only at the mark (issue 13, finding 1).
        XmarginError::UnhealthyFillOffMark,
    ]
    .iter()
    .any(|e| code == Some(program_error_code(*e)))
}

impl Book {
    fn check(&self, step: usize) {
        let portfolios: Vec<_> = self.traders.iter().map(|t| self.v.portfolio(t)).collect();
        for &(u, i) in &self.instruments {
            let sizes = portfolios.iter().flat_map(|p| {
                p.positions
                    .iter()
                    .filter(move |s| s.active == 1 && s.underlying == u16::from(u) && s.series == i)
            });
            let (mut total, mut longs) = (0i64, 0u64);
            for s in sizes {
                total += s.size;
                longs += s.size.max(0) as u64;
            }
            assert_eq!(total, 0, "step {step}: Σ sizes of ({u}, {i}) = {total}");
            let m = self.v.market(u);
            let oi = if i == PERP_INSTRUMENT {
                m.perp_open_interest
            } else {
                m.series[usize::from(i)].open_interest
            };
            assert_eq!(oi, longs, "step {step}: open interest of ({u}, {i})");
        }
        let claims: i128 = portfolios
            .iter()
            .map(|p| {
                let quote = p
                    .balances
                    .iter()
                    .filter(|b| b.active == 1 && b.collateral == 0)
                    .map(|b| b.amount)
                    .sum::<i64>();
                // Perp value at the mark nets to zero over all holders; what remains is each
                // position's basis and the funding it has accrued but not yet settled.
                let perps = p.positions.iter().filter(|s| s.active == 1 && s.is_perp()).map(|s| {
                    let now = self.v.sb.now().0;
                    let index = self.v.market(s.underlying as u8).funding_index_at(now).unwrap();
                    let size = Fx::from_num(s.size) / 100;
                    let pending = pending_funding(size, index, s.funding_snapshot(), 6).unwrap();
                    i128::from(s.quote_basis) + i128::from(pending)
                });
                i128::from(quote) + perps.sum::<i128>()
            })
            .sum();
        let (vault, insurance) = self.v.vault_balances();
        // Fees accrued in the markets are claims of the insurance fund on the quote vault.
        let accrued = self.v.fees_accrued();
        let (claims, insurance) = (claims + i128::from(accrued), insurance + accrued);
        let dust = i128::from(vault) - claims;
        assert!(dust >= 0, "step {step}: claims {claims} exceed the vault {vault}");
        let open_perps = portfolios
            .iter()
            .flat_map(|p| p.positions.iter())
            .filter(|s| s.active == 1 && s.is_perp())
            .count();
        let bound = 2 * i128::from(self.perp_trades) + open_perps as i128;
        assert!(dust <= bound, "step {step}: dust {dust} beyond funding rounding ({bound})");
        assert_eq!(insurance, self.fees, "step {step}: insurance vault vs fees charged");
    }

    fn trade(&mut self, rng: &mut Rng) {
        let n = self.traders.len() as u64;
        let a = rng.below(n) as usize;
        let b = (a + 1 + rng.below(n - 1) as usize) % self.traders.len();
        let (u, i) = self.instruments[rng.below(self.instruments.len() as u64) as usize];
        let now = self.v.sb.now().0;
        let price = if i == PERP_INSTRUMENT {
            let oracle = self.v.underlyings[usize::from(u)].price;
            self.v.tick_price((oracle + oracle * rng.signed(100) / 10_000) as u64)
        } else {
            if self.v.market(u).series[usize::from(i)].expiry <= now {
                return;
            }
            self.v.model_price(u, i).max(10_000)
        };
        let size = loop {
            let s = rng.signed(60);
            if s != 0 {
                break s;
            }
        };
        let insurance_before = self.v.fees_accrued();
        match self.v.trade(&self.traders[a], &self.traders[b], u, i, size, price) {
            Ok(_) => {
                self.fees += self.v.fees_accrued() - insurance_before;
                // The fee moved is exactly the fee charged (checked against the schedule).
                let oracle = self.v.underlyings[usize::from(u)].price as u64;
                let cap = (i != PERP_INSTRUMENT).then_some(1_250);
                let expected = xmargin_risk::trading::fee(size, oracle, price, 100, 5, cap).unwrap()
                    + xmargin_risk::trading::fee(size, oracle, price, 100, 2, cap).unwrap();
                assert_eq!(self.v.fees_accrued() - insurance_before, expected, "fee schedule");
                if i == PERP_INSTRUMENT {
                    self.perp_trades += 1;
                }
            }
            Err(f) => assert!(acceptable(f.custom_code()), "unexpected trade failure: {f}"),
        }
    }

    fn settle_due(&mut self) {
        let now = self.v.sb.now().0;
        for u in 0..self.v.underlyings.len() as u8 {
            for i in 0..self.v.market(u).series_count as usize {
                // Re-read: one record settles every series of the same expiry.
                let s = self.v.market(u).series[i];
                if s.expiry <= now && s.settlement_price == 0 {
                    // Post the feed's first update at or after expiry (at the current price).
                    let vu = &self.v.underlyings[usize::from(u)];
                    let (oracle, feed, price, ema) = (vu.oracle, vu.feed, vu.price, vu.ema);
                    let mut q = self.v.sb.quote(price, (price / 10_000).max(1) as u64, PRICE_EXPO);
                    q.publish_time = now;
                    self.v.sb.put_pull_oracle_update(oracle, feed, &q, ema, s.expiry - 1);
                    let ix = self.v.record_settlement_ix(u, i as u8);
                    self.v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("record: {f}"));
                }
            }
            for t in 0..self.traders.len() {
                let p = self.v.portfolio(&self.traders[t]);
                let m = self.v.market(u);
                let due = p.positions.iter().any(|s| {
                    s.active == 1
                        && s.underlying == u16::from(u)
                        && !s.is_perp()
                        && m.series[usize::from(s.series)].settlement_price > 0
                });
                if due {
                    let ix = self.v.settle_expired_ix(&self.traders[t].portfolio, u);
                    self.v.sb.send(&[ix], &[]).unwrap_or_else(|f| panic!("settle: {f}"));
                }
            }
        }
    }
}

#[test]
fn random_operations_keep_the_book_zero_sum_and_collateral_conserved() {
    let mut v = Venue::new(&[150_000_000, 60_000_000_000]).unwrap_or_else(|e| panic!("{e}"));
    let traders: Vec<Trader> = (0..4).map(|_| v.trader(100_000_000_000).unwrap()).collect();
    let mut instruments = vec![(0, PERP_INSTRUMENT), (1, PERP_INSTRUMENT)];
    for (u, kind, strike, days) in [
        (0u8, instrument_kind::CALL, 150_000_000u64, 1),
        (0, instrument_kind::PUT, 140_000_000, 1),
        (1, instrument_kind::CALL, 60_000_000_000, 1),
        (1, instrument_kind::PUT, 58_000_000_000, 3),
    ] {
        let expiry = v.expiry_in_days(days);
        let i = v.list_series(u, kind, strike, expiry).unwrap();
        instruments.push((u, i));
    }
    let mut book = Book { v, traders, instruments, perp_trades: 0, fees: 0 };
    let mut rng = Rng(0x5eed_2026_1121);
    let mut counts = [0usize; 5];
    for step in 0..OPERATIONS {
        match rng.below(100) {
            0..=59 => {
                counts[0] += 1;
                book.trade(&mut rng);
            }
            60..=74 => {
                counts[1] += 1;
                let u = rng.below(2) as u8;
                let p = book.v.underlyings[usize::from(u)].price;
                book.v.set_price(u, p + p * rng.signed(200) / 10_000);
            }
            75..=84 => {
                counts[2] += 1;
                book.v.warp(600 + rng.below(2_400) as i64);
                for u in 0..2u8 {
                    let ix = book.v.update_funding_ix(u);
                    if let Err(f) = book.v.sb.send(&[ix], &[]) {
                        assert_eq!(
                            f.custom_code(),
                            Some(program_error_code(XmarginError::FundingTooSoon)),
                            "{f}"
                        );
                    }
                }
                book.settle_due();
            }
            85..=92 => {
                counts[3] += 1;
                let t = rng.below(4) as usize;
                let amount = 1_000_000 + rng.below(5_000_000_000);
                book.v.deposit(&book.traders[t], amount).unwrap_or_else(|f| panic!("deposit: {f}"));
            }
            _ => {
                counts[4] += 1;
                let t = rng.below(4) as usize;
                let amount = 1_000_000 + rng.below(20_000_000_000);
                if let Err(f) = book.v.withdraw(&book.traders[t], amount) {
                    let ok = acceptable(f.custom_code())
                        || f.custom_code() == Some(program_error_code(XmarginError::InsufficientBalance));
                    assert!(ok, "unexpected withdrawal failure: {f}");
                }
            }
        }
        book.check(step);
    }
    let settled = book.v.market(0).listed_series().iter().filter(|s| s.settlement_price > 0).count()
        + book.v.market(1).listed_series().iter().filter(|s| s.settlement_price > 0).count();
    println!(
        "{OPERATIONS} operations: {} trades, {} price moves, {} warps + cranks, {} deposits, {} withdrawals; \
         {} perp fills, {settled} series settled, fees {}",
        counts[0], counts[1], counts[2], counts[3], counts[4], book.perp_trades, book.fees
    );
    assert!(book.perp_trades > 150, "the sequence must actually trade");
    assert!(settled >= 3, "expiries must have been settled: {settled}");
}
