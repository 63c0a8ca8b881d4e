//! A series' per-unit convexity bounds (`marks::SeriesMarks::bounds`, quote units per
//! underlying unit) in 64 bits, as markets store them: quote units × 2^`STORED_BOUND_FRAC_BITS`,
//! **rounded up**. A bound is a loss the book may owe, so the stored one is never below the
//! computed one, and above it by less than 2^−24 quote units per underlying unit (6·10^−8: on
//! a million units, under 0.06 quote units of requirement). Half the bytes of an `Fx`: what
//! gives a market's 32 series room to grow within the 10 KiB an account created by CPI may
//! have.
use crate::error::{Result, RiskError};
use crate::fx::{Fx, FRAC_BITS};

/// Fractional bits of a stored bound.
pub const STORED_BOUND_FRAC_BITS: u32 = 24;
/// Bits an `Fx` bound drops when stored.
const DROP: u32 = FRAC_BITS - STORED_BOUND_FRAC_BITS;
const DROPPED: i128 = (1 << DROP) - 1;

/// `bound` rounded up to 2^−24; a negative bound (none is computed: each is a supremum of
/// losses that includes zero, plus a non-negative decay allowance) stores as 0, also above
/// it. `Overflow` above (2^64 − 1)·2^−24, about 2^40 quote units per underlying unit (no listed asset is priced
/// near there; `update_marks` refuses such marks).
pub fn to_stored(bound: Fx) -> Result<u64> {
    let bits = bound.to_bits();
    if bits <= 0 {
        return Ok(0);
    }
    // bits > 0: the shift floors, and any dropped bit rounds up (no overflow: bits < 2^127).
    let ceil = (bits >> DROP).checked_add(i128::from(bits & DROPPED != 0)).ok_or(RiskError::Overflow)?;
    u64::try_from(ceil).map_err(|_| RiskError::Overflow)
}

/// The bound a stored value stands for (exact: 64 + 24 bits fit an `Fx`).
#[inline]
pub fn from_stored(stored: u64) -> Fx {
    Fx::from_bits(i128::from(stored) << DROP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_stored_bound_is_never_below_and_within_one_step(bits in 0i128..=(i128::from(u64::MAX) << DROP)) {
            let bound = Fx::from_bits(bits);
            let back = from_stored(to_stored(bound).expect("below 2^40"));
            prop_assert!(back >= bound);
            prop_assert!(back.to_bits().checked_sub(bits).is_some_and(|d| d < 1 << DROP));
        }

        #[test]
        fn a_stored_value_round_trips_exactly(stored in any::<u64>()) {
            prop_assert_eq!(to_stored(from_stored(stored)), Ok(stored));
        }

        #[test]
        fn negative_bounds_store_as_zero(bits in i128::MIN..=0i128) {
            prop_assert_eq!(to_stored(Fx::from_bits(bits)), Ok(0));
        }
    }

    #[test]
    fn a_bound_at_2_pow_40_is_refused() {
        let limit = Fx::from_bits(1i128 << (40 + FRAC_BITS));
        assert_eq!(to_stored(limit), Err(RiskError::Overflow));
        let largest = i128::from(u64::MAX) << DROP;
        assert_eq!(to_stored(Fx::from_bits(largest)), Ok(u64::MAX));
        assert_eq!(to_stored(Fx::from_bits(largest + 1)), Err(RiskError::Overflow));
        assert_eq!(to_stored(Fx::from_bits(1)), Ok(1));
        assert_eq!(to_stored(Fx::from_bits(1 << DROP)), Ok(1));
        assert_eq!(to_stored(Fx::from_bits((1 << DROP) + 1)), Ok(2));
    }
}
