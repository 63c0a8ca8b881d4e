//! Version 3 → 4 of a `Market`, in place (`migrate_market`). Version 4 stores each series'
//! eight convexity bounds in 64 bits (`SeriesMarksState::bounds`) instead of 16-byte `Fx`,
//! so the marks array shrinks by 2 KiB and the fields after it move down; the account keeps
//! its size (10 KiB). The volatility estimator, kept in the registry before, moves into the
//! freed bytes (`Market::volatility`, copied from the registry's retired bytes, the same
//! layout); the rest becomes `Market::reserved` (zero).
//!
//! Each series' marks are converted, not cleared: the head (time, basis, spot, Greeks) is the
//! same bytes, and every bound is rounded up to 2^−24 (`xmargin_risk::stored_bounds`), never
//! below what was stored, so marks valid before are valid after and cover at least as much.
//! A series with a bound beyond the 64-bit range (no realistic price reaches it) is left
//! unmarked instead (`computed_at` 0: `MarksMissing` until `update_marks`). Converted series
//! record no initial scale (0): they must be re-marked before they value a book.
use xmargin_risk::stored_bounds::to_stored;
use xmargin_risk::Fx;

use super::market::{market_v3, Market, MARKET_VERSION, MAX_SERIES};

/// Byte offset of `Market::version` in the account (after the discriminator).
const VERSION: usize = 8;
/// A version-4 series' marks size, and where the fields after the marks are (account offsets).
const V4_MARKS_SIZE: usize = core::mem::size_of::<super::SeriesMarksState>();
/// Bytes of a version-4 series' bounds (eight u64), followed by its initial scale.
const V4_BOUNDS: usize = 8 * 8;
const V4_MARKS_END: usize = market_v3::MARKS + MAX_SERIES * V4_MARKS_SIZE;
const V4_FEES_ACCRUED: usize = 8 + core::mem::offset_of!(Market, fees_accrued);
const V4_POSITIVE_QUOTE_DELTA: usize = 8 + core::mem::offset_of!(Market, positive_quote_delta);
const V4_VOLATILITY: usize = 8 + core::mem::offset_of!(Market, volatility);
const V4_RESERVED: usize = 8 + core::mem::offset_of!(Market, reserved);

/// Rewrites a version-3 market's bytes `data` (the whole account, `Market::SPACE` long, its
/// version byte 3: the caller checks both) as version 4, with `estimator` (the underlying's
/// registry entry's retired estimator bytes) as its volatility state. Returns the mask of
/// series whose marks could not be converted and were cleared.
pub fn migrate_v3_to_v4(data: &mut [u8], estimator: &[u8; 72]) -> u32 {
    // The old marks, fees and quote delta are copied out first: the new layout overlaps them.
    let old_marks = data[market_v3::MARKS..market_v3::FEES_ACCRUED].to_vec();
    let fees = copy8(&data[market_v3::FEES_ACCRUED..market_v3::POSITIVE_QUOTE_DELTA]);
    let quote_delta = copy8(&data[market_v3::POSITIVE_QUOTE_DELTA..market_v3::RESERVED_AT]);
    let mut cleared = 0u32;
    let (new_marks, _) = data[market_v3::MARKS..V4_MARKS_END].as_chunks_mut::<V4_MARKS_SIZE>();
    let (old_marks, _) = old_marks.as_chunks::<{ market_v3::MARKS_SIZE }>();
    for (bit, (old, new)) in (0u32..).zip(old_marks.iter().zip(new_marks)) {
        let (old_head, old_bounds) = old.split_at(market_v3::MARKS_HEAD);
        let (new_head, new_tail) = new.split_at_mut(market_v3::MARKS_HEAD);
        let (new_bounds, new_scale) = new_tail.split_at_mut(V4_BOUNDS);
        new_head.copy_from_slice(old_head);
        // The scale version-3 marks were computed for is not recorded (the deployed version 3
        // used the reference 1.5×, but a build with the governed scale existed on version 3):
        // recorded as 0, under every scale in force, so each migrated series is refused
        // (`MarksParamsChanged`) until `update_marks` recomputes it, in the same transaction
        // if need be.
        new_scale.fill(0);
        let mut ok = true;
        for (from, to) in old_bounds.as_chunks::<16>().0.iter().zip(new_bounds.as_chunks_mut::<8>().0) {
            match to_stored(Fx::from_bits(i128::from_le_bytes(*from))) {
                Ok(stored) => *to = stored.to_le_bytes(),
                Err(_) => ok = false,
            }
        }
        if !ok {
            new_head.fill(0);
            new_bounds.fill(0);
            new_scale.fill(0);
            cleared |= 1u32.checked_shl(bit).unwrap_or(0);
        }
    }
    data[V4_FEES_ACCRUED..V4_POSITIVE_QUOTE_DELTA].copy_from_slice(&fees);
    data[V4_POSITIVE_QUOTE_DELTA..V4_VOLATILITY].copy_from_slice(&quote_delta);
    data[V4_VOLATILITY..V4_RESERVED].copy_from_slice(estimator);
    data[V4_RESERVED..].fill(0);
    data[VERSION] = MARKET_VERSION;
    cleared
}

fn copy8(bytes: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(bytes);
    out
}

// Version 4's marks start where version 3's did, its series marks are the head plus eight
// u64 bounds, and its fields after the marks follow them.
const _: () = assert!(8 + core::mem::offset_of!(Market, marks) == market_v3::MARKS);
const _: () = assert!(V4_MARKS_SIZE == market_v3::MARKS_HEAD + V4_BOUNDS + 8);
const _: () = assert!(V4_FEES_ACCRUED == V4_MARKS_END);
const _: () =
    assert!(V4_POSITIVE_QUOTE_DELTA == V4_FEES_ACCRUED + 8 && V4_VOLATILITY == V4_POSITIVE_QUOTE_DELTA + 8);
const _: () = assert!(V4_RESERVED == V4_VOLATILITY + 72);
