//! [`StoredFx`]: how an engine number (`xmargin_risk::Fx`, I80F48) is stored in a zero-copy
//! account, so that no account converts bits by hand.
use anchor_lang::prelude::*;
use xmargin_risk::Fx;

/// An I80F48 (`xmargin_risk::Fx`) as stored: its 128-bit two's-complement bits (48 fraction
/// bits), little-endian, in 16 bytes. Units are those of the field that holds it.
///
/// **Layout.** A `#[repr(C)]` wrapper of `[u8; 16]`: size 16, alignment 1 — the same bytes,
/// at the same offsets, as the `[u8; 16]` fields it replaced, so no account needs a migration
/// and no version changed. (An `i128` field would not do: its alignment is 16, and account
/// data is only 8-aligned.) The IDL shows it as a struct with one field `bits` (16 bytes),
/// which the TypeScript client decodes (`app/src/state.ts`, `i80f48ToNumber`).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct StoredFx {
    /// The value's bits, little-endian.
    pub bits: [u8; 16],
}

const _: () = assert!(core::mem::size_of::<StoredFx>() == 16);
const _: () = assert!(core::mem::align_of::<StoredFx>() == 1);

impl StoredFx {
    /// 0 (all bits zero).
    pub const ZERO: StoredFx = StoredFx { bits: [0; 16] };

    /// The stored value.
    #[inline]
    pub fn get(&self) -> Fx {
        Fx::from_bits(i128::from_le_bytes(self.bits))
    }

    /// Stores `value`.
    #[inline]
    pub fn set(&mut self, value: Fx) {
        self.bits = value.to_bits().to_le_bytes();
    }

    /// The stored value of an index that starts at 1.0 in an account created all zero (the
    /// quote's socialized-loss index and the portfolios' snapshots of it): zero bits read as
    /// 1.0. Such an index is never 0 once written (it stays positive).
    #[inline]
    pub fn get_or_one(&self) -> Fx {
        match i128::from_le_bytes(self.bits) {
            0 => Fx::ONE,
            bits => Fx::from_bits(bits),
        }
    }
}

impl From<Fx> for StoredFx {
    #[inline]
    fn from(value: Fx) -> StoredFx {
        StoredFx { bits: value.to_bits().to_le_bytes() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_the_bytes_of_the_raw_bits() {
        for v in [Fx::ZERO, Fx::ONE, Fx::from_num(-3.25), Fx::MAX, Fx::MIN, Fx::DELTA] {
            let stored = StoredFx::from(v);
            assert_eq!(stored.get(), v);
            assert_eq!(stored.bits, v.to_bits().to_le_bytes(), "same bytes as the former [u8; 16]");
            let mut set = StoredFx::ZERO;
            set.set(v);
            assert_eq!(set, stored);
        }
    }

    #[test]
    fn zero_bits_read_as_one_only_through_get_or_one() {
        assert_eq!(StoredFx::ZERO.get(), Fx::ZERO);
        assert_eq!(StoredFx::ZERO.get_or_one(), Fx::ONE);
        let half = StoredFx::from(Fx::from_num(0.5));
        assert_eq!(half.get_or_one(), Fx::from_num(0.5));
    }
}
