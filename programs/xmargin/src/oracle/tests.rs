//! Both oracle formats built byte by byte (independently of the parsers), and every
//! rejection of the guard.
#![allow(clippy::arithmetic_side_effects)] // test fixtures: small constants

use super::pull::PRICE_UPDATE_V2_DISCRIMINATOR;
use super::*;
use crate::error::XmarginError;

const FEED: [u8; 32] = [7; 32];
const NOW: i64 = 1_735_689_600;
const SLOT: u64 = 300_000_000;

fn pyth_program() -> Pubkey {
    Pubkey::new_from_array([9; 32])
}

fn legacy_key() -> Pubkey {
    Pubkey::new_from_array([5; 32])
}

/// The configured pull feed account.
fn feed_key() -> Pubkey {
    Pubkey::new_from_array([6; 32])
}

/// A `PriceUpdateV2` account: discriminator, write authority, verification level, message,
/// posted slot, laid out by hand.
fn pull_bytes(
    level: &[u8],
    feed: [u8; 32],
    price: i64,
    conf: u64,
    expo: i32,
    publish_time: i64,
    slot: u64,
) -> Vec<u8> {
    let mut d = PRICE_UPDATE_V2_DISCRIMINATOR.to_vec();
    d.extend_from_slice(&[1u8; 32]); // write authority
    d.extend_from_slice(level);
    d.extend_from_slice(&feed);
    d.extend_from_slice(&price.to_le_bytes());
    d.extend_from_slice(&conf.to_le_bytes());
    d.extend_from_slice(&expo.to_le_bytes());
    d.extend_from_slice(&publish_time.to_le_bytes());
    d.extend_from_slice(&(publish_time - 1).to_le_bytes()); // prev publish time
    d.extend_from_slice(&(price - 5).to_le_bytes()); // ema price
    d.extend_from_slice(&conf.to_le_bytes()); // ema conf
    d.extend_from_slice(&slot.to_le_bytes());
    // Mainnet accounts are 134 bytes: room for the `Partial` variant's extra byte.
    d.resize(134, 0);
    d
}

const FULL: &[u8] = &[1];

/// A legacy Pyth v2 price account (3312 bytes: 240-byte header + 32 × 96-byte components),
/// written at the offsets of Pyth's C layout.
fn legacy_bytes(price: i64, conf: u64, expo: i32, status: u8, timestamp: i64, pub_slot: u64) -> Vec<u8> {
    let mut d = vec![0u8; 3312];
    let put = |d: &mut Vec<u8>, at: usize, bytes: &[u8]| d[at..at + bytes.len()].copy_from_slice(bytes);
    put(&mut d, 0, &0xa1b2_c3d4u32.to_le_bytes()); // magic
    put(&mut d, 4, &2u32.to_le_bytes()); // version
    put(&mut d, 8, &3u32.to_le_bytes()); // account type: price
    put(&mut d, 12, &3312u32.to_le_bytes()); // size
    put(&mut d, 16, &[1]); // price type: price
    put(&mut d, 20, &expo.to_le_bytes());
    put(&mut d, 48, &(price - 3).to_le_bytes()); // ema price value
    put(&mut d, 96, &timestamp.to_le_bytes());
    put(&mut d, 208, &price.to_le_bytes()); // agg.price
    put(&mut d, 216, &conf.to_le_bytes()); // agg.conf
    put(&mut d, 224, &[status]); // agg.status (1 = trading)
    put(&mut d, 232, &pub_slot.to_le_bytes()); // agg.pub_slot
    d
}

fn pull_config() -> OracleConfig {
    OracleConfig {
        source: FEED,
        feed_account: feed_key(),
        kind: kind::PYTH_PULL,
        max_staleness_secs: 60,
        max_staleness_slots: 150,
        max_conf_bps: 100,
        ..OracleConfig::default()
    }
}

fn legacy_config() -> OracleConfig {
    OracleConfig {
        source: legacy_key().to_bytes(),
        legacy_program: pyth_program(),
        kind: kind::PYTH_LEGACY,
        ..pull_config()
    }
}

fn check(owner: Pubkey, key: Pubkey, data: &[u8], config: &OracleConfig) -> Result<OraclePrice> {
    parse_and_guard(&RawOracleAccount { key: &key, owner: &owner, data }, config, NOW, SLOT)
}

fn code(r: Result<OraclePrice>) -> u32 {
    match r {
        Err(Error::AnchorError(e)) => e.error_code_number,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn err(e: XmarginError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + e as u32
}

fn pull(data: &[u8]) -> Result<OraclePrice> {
    check(PYTH_RECEIVER_PROGRAM, feed_key(), data, &pull_config())
}

fn legacy(data: &[u8]) -> Result<OraclePrice> {
    check(pyth_program(), legacy_key(), data, &legacy_config())
}

#[test]
fn pull_update_parses() {
    let p = pull(&pull_bytes(FULL, FEED, 6_000_000_000_000, 3_000_000_000, -8, NOW - 5, SLOT - 10)).unwrap();
    assert_eq!(
        p,
        OraclePrice {
            price: 6_000_000_000_000,
            conf: 3_000_000_000,
            expo: -8,
            ema_price: Some(5_999_999_999_995),
            publish_time: NOW - 5,
            prev_publish_time: NOW - 6,
            slot: SLOT - 10
        }
    );
}

#[test]
fn pull_rejections() {
    let good = pull_bytes(FULL, FEED, 100_000, 10, -2, NOW, SLOT);
    let wrong_owner = check(Pubkey::new_unique(), feed_key(), &good, &pull_config());
    assert_eq!(code(wrong_owner), err(XmarginError::OracleWrongOwner));
    // A genuine update of the feed posted at another account: no caller picks the price.
    let elsewhere = check(PYTH_RECEIVER_PROGRAM, Pubkey::new_unique(), &good, &pull_config());
    assert_eq!(code(elsewhere), err(XmarginError::OracleWrongAccount));
    let partial = pull_bytes(&[0, 5], FEED, 100_000, 10, -2, NOW, SLOT);
    assert_eq!(code(pull(&partial)), err(XmarginError::OracleNotFullyVerified));
    assert_eq!(
        code(pull(&pull_bytes(FULL, [8; 32], 100_000, 10, -2, NOW, SLOT))),
        err(XmarginError::OracleWrongFeed)
    );
    let mut bad_disc = good.clone();
    bad_disc[0] ^= 1;
    assert_eq!(code(pull(&bad_disc)), err(XmarginError::OracleMalformed));
    assert_eq!(code(pull(&good[..good.len() - 2])), err(XmarginError::OracleMalformed));
    assert_eq!(
        code(pull(&pull_bytes(&[2], FEED, 100_000, 10, -2, NOW, SLOT))),
        err(XmarginError::OracleMalformed)
    );
}

#[test]
fn legacy_account_parses_and_matches_the_sdk() {
    let data = legacy_bytes(6_000_000_000_000, 2_000_000_000, -8, 1, NOW - 3, SLOT - 2);
    let p = legacy(&data).unwrap();
    assert_eq!(
        p,
        OraclePrice {
            price: 6_000_000_000_000,
            conf: 2_000_000_000,
            expo: -8,
            ema_price: Some(5_999_999_999_997),
            publish_time: NOW - 3,
            prev_publish_time: 0,
            slot: SLOT - 2
        }
    );
}

#[test]
fn legacy_rejections() {
    let good = legacy_bytes(100_000, 10, -2, 1, NOW, SLOT);
    let wrong_owner = check(Pubkey::new_unique(), legacy_key(), &good, &legacy_config());
    assert_eq!(code(wrong_owner), err(XmarginError::OracleWrongOwner));
    let wrong_account = check(pyth_program(), Pubkey::new_unique(), &good, &legacy_config());
    assert_eq!(code(wrong_account), err(XmarginError::OracleWrongAccount));
    for status in [0u8, 2, 3, 4] {
        assert_eq!(
            code(legacy(&legacy_bytes(100_000, 10, -2, status, NOW, SLOT))),
            err(XmarginError::OracleNotTrading)
        );
    }
    let mut bad_magic = good.clone();
    bad_magic[0] = 0;
    assert_eq!(code(legacy(&bad_magic)), err(XmarginError::OracleMalformed));
    assert_eq!(code(legacy(&good[..200])), err(XmarginError::OracleMalformed));
}

#[test]
fn guard_rejections_apply_to_both_formats() {
    type Builder = fn(i64, u64, i32, i64, u64) -> Vec<u8>;
    let pull_of: Builder = |p, c, e, t, s| pull_bytes(FULL, FEED, p, c, e, t, s);
    let legacy_of: Builder = |p, c, e, t, s| legacy_bytes(p, c, e, 1, t, s);
    let parse_pull: fn(&[u8]) -> Result<OraclePrice> = pull;
    let parse_legacy: fn(&[u8]) -> Result<OraclePrice> = legacy;
    for (build, parse) in [(pull_of, parse_pull), (legacy_of, parse_legacy)] {
        assert!(parse(&build(100_000, 1_000, -2, NOW - 60, SLOT - 150)).is_ok(), "at the limits");
        assert_eq!(code(parse(&build(100_000, 1, -2, NOW - 61, SLOT))), err(XmarginError::OracleStale));
        assert_eq!(code(parse(&build(100_000, 1, -2, NOW, SLOT - 151))), err(XmarginError::OracleStale));
        // A timestamp in the future is age 0, not a huge unsigned age.
        assert!(parse(&build(100_000, 1, -2, NOW + 30, SLOT + 5)).is_ok());
        assert_eq!(
            code(parse(&build(100_000, 1_001, -2, NOW, SLOT))),
            err(XmarginError::OracleConfidenceTooWide)
        );
        assert_eq!(code(parse(&build(0, 0, -2, NOW, SLOT))), err(XmarginError::OracleNonPositivePrice));
        assert_eq!(code(parse(&build(-5, 0, -2, NOW, SLOT))), err(XmarginError::OracleNonPositivePrice));
        assert_eq!(
            code(parse(&build(100_000, 1, -19, NOW, SLOT))),
            err(XmarginError::OracleExponentOutOfRange)
        );
        assert_eq!(
            code(parse(&build(100_000, 1, 19, NOW, SLOT))),
            err(XmarginError::OracleExponentOutOfRange)
        );
    }
}

#[test]
fn unsupported_kind_is_rejected() {
    let cfg = OracleConfig { kind: kind::QUOTE, ..pull_config() };
    let data = pull_bytes(FULL, FEED, 1, 0, 0, NOW, SLOT);
    assert_eq!(
        code(check(PYTH_RECEIVER_PROGRAM, feed_key(), &data, &cfg)),
        err(XmarginError::OracleKindUnsupported)
    );
}
