//! Oracle accounts written straight into the SVM: Pyth `PriceUpdateV2` (pull) and legacy
//! push price accounts, laid out byte by byte.
use anchor_lang::prelude::Pubkey;
use xmargin::oracle::pull::PRICE_UPDATE_V2_DISCRIMINATOR;
use xmargin::oracle::PYTH_RECEIVER_PROGRAM;

use crate::Sandbox;

/// Pyth's push-oracle program, which keeps the sponsored price-feed accounts updated.
pub const PYTH_PUSH_ORACLE: Pubkey = Pubkey::from_str_const("pythWSnswVUd12oZpeFP8e9CVaEqJg25g1Vtc2biRsT");

/// The sponsored price-feed account of `feed` (shard 0): the PDA `[shard (u16 LE), feed id]`
/// of the push-oracle program, the address an `OracleConfig::feed_account` names on mainnet.
pub fn sponsored_feed_account(feed: [u8; 32]) -> Pubkey {
    Pubkey::find_program_address(&[&0u16.to_le_bytes(), &feed], &PYTH_PUSH_ORACLE).0
}

/// A price to publish: `price × 10^expo`, confidence in the same scale.
#[derive(Debug, Clone, Copy)]
pub struct Quote {
    pub price: i64,
    pub conf: u64,
    pub expo: i32,
    pub publish_time: i64,
    pub slot: u64,
}

impl Quote {
    /// The EMA written with this quote (the harness writes EMA = price unless told).
    pub fn ema(&self) -> i64 {
        self.price
    }
}

/// Bytes of a `PriceUpdateV2` (verification level `Full` when `full`), EMA = price.
pub fn pull_account_bytes(feed_id: [u8; 32], q: &Quote, full: bool) -> Vec<u8> {
    pull_account_bytes_with_ema(feed_id, q, full, q.ema())
}

/// Bytes of a `PriceUpdateV2` with an explicit EMA price; the previous update one second
/// before this one.
pub fn pull_account_bytes_with_ema(feed_id: [u8; 32], q: &Quote, full: bool, ema: i64) -> Vec<u8> {
    pull_update_bytes(feed_id, q, full, ema, q.publish_time.saturating_sub(1))
}

/// Bytes of a `PriceUpdateV2` as the receiver program writes them: 134 bytes (it allocates
/// for the larger `Partial` variant, so a `Full` update ends with one zero byte), with an
/// explicit EMA price and previous publish time.
pub fn pull_update_bytes(
    feed_id: [u8; 32],
    q: &Quote,
    full: bool,
    ema: i64,
    prev_publish_time: i64,
) -> Vec<u8> {
    let mut d = PRICE_UPDATE_V2_DISCRIMINATOR.to_vec();
    d.extend_from_slice(&[0u8; 32]); // write authority
    if full {
        d.push(1);
    } else {
        d.extend_from_slice(&[0, 3]); // Partial { num_signatures: 3 }
    }
    d.extend_from_slice(&feed_id);
    d.extend_from_slice(&q.price.to_le_bytes());
    d.extend_from_slice(&q.conf.to_le_bytes());
    d.extend_from_slice(&q.expo.to_le_bytes());
    d.extend_from_slice(&q.publish_time.to_le_bytes());
    d.extend_from_slice(&prev_publish_time.to_le_bytes());
    d.extend_from_slice(&ema.to_le_bytes()); // EMA price
    d.extend_from_slice(&q.conf.to_le_bytes()); // EMA confidence
    d.extend_from_slice(&q.slot.to_le_bytes());
    d.resize(PRICE_UPDATE_V2_LEN, 0);
    d
}

/// Size of a `PriceUpdateV2` account on mainnet.
pub const PRICE_UPDATE_V2_LEN: usize = 134;

/// Bytes of a legacy Pyth v2 price account (status 1 = trading), at the C layout's offsets.
pub fn legacy_account_bytes(q: &Quote, status: u8) -> Vec<u8> {
    let mut d = vec![0u8; 3312];
    let mut put = |at: usize, bytes: &[u8]| d[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, &0xa1b2_c3d4u32.to_le_bytes());
    put(4, &2u32.to_le_bytes());
    put(8, &3u32.to_le_bytes());
    put(12, &3312u32.to_le_bytes());
    put(16, &[1]);
    put(20, &q.expo.to_le_bytes());
    put(48, &q.price.to_le_bytes());
    put(96, &q.publish_time.to_le_bytes());
    put(208, &q.price.to_le_bytes());
    put(216, &q.conf.to_le_bytes());
    put(224, &[status]);
    put(232, &q.slot.to_le_bytes());
    d
}

impl Sandbox {
    /// Current clock as (unix seconds, slot).
    pub fn now(&self) -> (i64, u64) {
        let clock: solana_clock::Clock = self.svm.get_sysvar();
        (clock.unix_timestamp, clock.slot)
    }

    /// A fresh quote at the current clock.
    pub fn quote(&self, price: i64, conf: u64, expo: i32) -> Quote {
        let (publish_time, slot) = self.now();
        Quote { price, conf, expo, publish_time, slot }
    }

    /// Writes (or overwrites) a pull price update account.
    pub fn put_pull_oracle(&mut self, address: Pubkey, feed_id: [u8; 32], q: &Quote, full: bool) {
        self.put_account(address, pull_account_bytes(feed_id, q, full), PYTH_RECEIVER_PROGRAM);
    }

    /// Writes a pull price update whose EMA differs from the spot.
    pub fn put_pull_oracle_with_ema(&mut self, address: Pubkey, feed_id: [u8; 32], q: &Quote, ema: i64) {
        self.put_account(address, pull_account_bytes_with_ema(feed_id, q, true, ema), PYTH_RECEIVER_PROGRAM);
    }

    /// Writes (or overwrites) a legacy price account owned by `pyth_program`.
    pub fn put_legacy_oracle(&mut self, address: Pubkey, pyth_program: Pubkey, q: &Quote, status: u8) {
        self.put_account(address, legacy_account_bytes(q, status), pyth_program);
    }

    /// Moves the clock forward by `seconds` (and slots at 2.5 per second).
    pub fn warp(&mut self, seconds: i64) {
        let mut clock: solana_clock::Clock = self.svm.get_sysvar();
        clock.unix_timestamp = clock.unix_timestamp.saturating_add(seconds);
        clock.slot = clock.slot.saturating_add(seconds.unsigned_abs().saturating_mul(5) / 2);
        self.svm.set_sysvar(&clock);
    }
}

impl Sandbox {
    /// Writes a fully verified pull update of `feed_id` at `address` (any address: a posted
    /// update) with an explicit EMA price and previous publish time: `record_settlement_price`
    /// accepts only the update with `prev_publish_time < expiry ≤ publish_time`.
    pub fn put_pull_oracle_update(
        &mut self,
        address: Pubkey,
        feed_id: [u8; 32],
        q: &Quote,
        ema: i64,
        prev_publish_time: i64,
    ) {
        let bytes = pull_update_bytes(feed_id, q, true, ema, prev_publish_time);
        self.put_account(address, bytes, PYTH_RECEIVER_PROGRAM);
    }
}
