//! Oracle guard: one function turns an oracle account into an [`OraclePrice`] or a specific
//! error. Two formats are accepted:
//!
//! - **Pyth pull** (`PriceUpdateV2`, posted by the Pyth Solana receiver program): owner must be
//!   the receiver, **the account must be the configured price-feed account** (Pyth's sponsored
//!   feed account, which the push-oracle program keeps updating in place), the feed id must
//!   match the configured one, and the update must be `Full`-verified (all Wormhole guardian
//!   signatures checked);
//! - **Pyth legacy push** price accounts, parsed with `pyth-sdk-solana`: owner must be the
//!   configured Pyth program, the account must be the configured one, status `Trading`.
//!
//! Then, for both: the price must be positive, the exponent in [−18, 18], the age
//! (now − publish time, and current slot − update slot; never the reverse, so a timestamp in
//! the future counts as age 0) within the asset's limits, and conf/price within its limit.
//!
//! ## What a failing oracle blocks
//!
//! | oracle of asset A is ... | deposit of A | withdraw of A | withdraw of another asset B | new risk on A | liquidation using A |
//! |---|---|---|---|---|---|
//! | healthy | ✓ | ✓ (health-checked) | ✓ (health-checked) | ✓ | ✓ |
//! | stale / too wide / not trading / unverified / price ≤ 0 | ✓ | ✓ if healthy with A counted at 0 | ✓ if healthy with A counted at 0 | ✗ | ✗ |
//! | wrong owner / account / feed, malformed, bad exponent | ✓ | ✗ (the account is rejected outright) | ✗ | ✗ | ✗ |
//!
//! **No caller chooses among prices.** A pull update is accepted only from the configured
//! feed account, and a legacy price only from the configured price account: at any moment
//! each asset has exactly one readable price, whoever sends the transaction. (Binding to the
//! feed id alone let a caller pick any posted update of the feed within the staleness window,
//! or a stale / partially verified one.) The one exception is the settlement price
//! ([`read_settlement_price`]): any posted update of the feed is accepted there, but only the
//! one whose `prev_publish_time < expiry ≤ publish_time`, which is unique in Pyth's chain of
//! updates.
//!
//! **Third-party actions never value with a failing oracle.** The soft failures in the table
//! value an asset at 0 only when the portfolio's own trader acts on it (withdrawal, trade). A
//! liquidation or bankruptcy resolution of someone else's portfolio treats every oracle
//! failure as a hard error (`health::OracleMode::Strict`): valuing the target's collateral at
//! 0 would let a liquidator make a healthy portfolio liquidatable.
//!
//! Deposits never read an oracle: adding collateral cannot add risk.
//! A liability in A needs A's price (it can only be valued conservatively with a live price),
//! so any withdrawal from a portfolio that owes A requires A's oracle to be valid.
use anchor_lang::prelude::*;

use crate::error::XmarginError;

pub mod legacy;
pub mod pull;

/// The Pyth Solana receiver program (owner of `PriceUpdateV2` accounts), mainnet and devnet.
pub const PYTH_RECEIVER_PROGRAM: Pubkey = pubkey_const("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");

const fn pubkey_const(s: &str) -> Pubkey {
    Pubkey::from_str_const(s)
}

/// Which oracle format an asset uses (`OracleConfig::kind`), and the stored configuration
/// (both live with the state, which depends on nothing above it).
pub use crate::state::oracle_config::{oracle_kind as kind, OracleConfig};

/// A validated price: `price × 10^expo` quote units, with its confidence (same scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OraclePrice {
    pub price: i64,
    pub conf: u64,
    pub expo: i32,
    pub ema_price: Option<i64>,
    /// Unix seconds.
    pub publish_time: i64,
    /// Unix seconds of the previous update of the feed (Pyth chains its updates).
    pub prev_publish_time: i64,
    pub slot: u64,
}

/// What the guard needs of the raw account.
pub struct RawOracleAccount<'a> {
    pub key: &'a Pubkey,
    pub owner: &'a Pubkey,
    pub data: &'a [u8],
}

/// Reads and guards an oracle account at the current clock; a refusal names the account in
/// the logs (what a client's error parser reports as the failing account).
pub fn read_price(info: &AccountInfo, config: &OracleConfig, clock: &Clock) -> Result<OraclePrice> {
    read_price_unlogged(info, config, clock).inspect_err(|_| log_refused(info.key))
}

/// [`read_price`] without the log, for a caller that may tolerate the failure (a collateral
/// behind a soft-failing oracle counts for nothing in a lenient health) and logs a failure it
/// does not tolerate itself.
pub fn read_price_unlogged(info: &AccountInfo, config: &OracleConfig, clock: &Clock) -> Result<OraclePrice> {
    let data = info.try_borrow_data()?;
    let raw = RawOracleAccount { key: info.key, owner: info.owner, data: &data };
    parse_and_guard(&raw, config, clock.unix_timestamp, clock.slot)
}

/// Names a refused oracle account (error paths only: the base58 formatting costs thousands
/// of compute units).
#[cold]
#[inline(never)]
fn log_refused(key: &Pubkey) {
    msg!("oracle account refused: {}", key);
}

/// The pure core of [`read_price`]: the configured account only, parsed by kind, then every
/// guard.
pub fn parse_and_guard(
    raw: &RawOracleAccount,
    config: &OracleConfig,
    now: i64,
    slot: u64,
) -> Result<OraclePrice> {
    if config.kind == kind::PYTH_PULL {
        require_keys_eq!(*raw.key, config.feed_account, XmarginError::OracleWrongAccount);
    }
    let price = parse(raw, config)?;
    guard(&price, config, now, slot)?;
    Ok(price)
}

/// Parses by kind (owner, feed or account, verification, status).
fn parse(raw: &RawOracleAccount, config: &OracleConfig) -> Result<OraclePrice> {
    match config.kind {
        kind::PYTH_PULL => pull::parse(raw, &config.source),
        kind::PYTH_LEGACY => legacy::parse(raw, config),
        _ => err!(XmarginError::OracleKindUnsupported),
    }
}

/// Reads a settlement price: any fully verified update of the configured feed (pull; legacy:
/// the configured account), with the price, exponent and confidence guards but no staleness
/// guard and no feed-account binding: the caller (`record_settlement_price`) accepts only
/// the update with `prev_publish_time < expiry ≤ publish_time`, unique in the feed's chain,
/// so whoever records it, and whenever, records the same price.
pub fn read_settlement_price(info: &AccountInfo, config: &OracleConfig) -> Result<OraclePrice> {
    settlement_price(info, config).inspect_err(|_| log_refused(info.key))
}

fn settlement_price(info: &AccountInfo, config: &OracleConfig) -> Result<OraclePrice> {
    let data = info.try_borrow_data()?;
    let raw = RawOracleAccount { key: info.key, owner: info.owner, data: &data };
    let price = parse(&raw, config)?;
    guard_value(&price, config)?;
    Ok(price)
}

/// The checks common to both formats.
pub fn guard(p: &OraclePrice, config: &OracleConfig, now: i64, slot: u64) -> Result<()> {
    guard_value(p, config)?;
    let age_secs = now.saturating_sub(p.publish_time).max(0);
    require!(age_secs <= i64::from(config.max_staleness_secs), XmarginError::OracleStale);
    if config.max_staleness_slots > 0 {
        let age_slots = slot.saturating_sub(p.slot);
        require!(age_slots <= u64::from(config.max_staleness_slots), XmarginError::OracleStale);
    }
    Ok(())
}

/// Price positive, exponent in range, confidence within the configured ratio.
fn guard_value(p: &OraclePrice, config: &OracleConfig) -> Result<()> {
    require!(p.price > 0, XmarginError::OracleNonPositivePrice);
    require!((-18..=18).contains(&p.expo), XmarginError::OracleExponentOutOfRange);
    // conf / price ≤ max_conf_bps / 10_000, in integers: conf × 10_000 ≤ price × max_bps
    // (64×64-bit products, exact in 128 bits: `wide_mul`, cheaper than a 128-bit multiply).
    let lhs = xmargin_risk::fx::wide_mul(p.conf, 10_000);
    let rhs = xmargin_risk::fx::wide_mul(p.price.unsigned_abs(), u64::from(config.max_conf_bps));
    require!(lhs <= rhs, XmarginError::OracleConfidenceTooWide);
    Ok(())
}

#[cfg(test)]
mod tests;
