//! The arithmetic the program used to do itself (issue 16): conservative and stable oracle
//! prices, the price band, the ppm rounding of marks, the liquidation buffer and the
//! collateral tier selection — each against its definition, on random inputs.
use proptest::prelude::*;
use xmargin_risk::collateral::tiers_reached;
use xmargin_risk::fx::{from_mantissa, Fx, FRAC_BITS};
use xmargin_risk::liquidation::{back_above_buffer, buffer_for};
use xmargin_risk::prices::{ceil_ppm, conservative_price, stable_price, within_band};
use xmargin_risk::MarginTotals;

fn report(initial: Fx, maintenance: Fx, requirement: Fx) -> MarginTotals {
    MarginTotals {
        equity: Fx::ZERO,
        collateral_value: Fx::ZERO,
        weighted_collateral_initial: Fx::ZERO,
        weighted_collateral_maintenance: Fx::ZERO,
        positions_value: Fx::ZERO,
        initial_requirement: Fx::ZERO,
        maintenance_requirement: requirement,
        initial_offset_credit: Fx::ZERO,
        maintenance_offset_credit: Fx::ZERO,
        initial_health: initial,
        maintenance_health: maintenance,
    }
}

proptest! {
    /// An asset counts at the lower of spot and a positive EMA, a liability at the higher; a
    /// zero balance or no positive EMA at spot.
    #[test]
    fn conservative_price_is_the_worse_side(spot in 1i64..1_000_000_000_000, ema in -10i64..1_000_000_000_000, amount in any::<i64>()) {
        let p = conservative_price(spot, Some(ema), amount);
        if ema <= 0 || amount == 0 {
            prop_assert_eq!(p, spot);
        } else if amount > 0 {
            prop_assert!(p <= spot && p <= ema && (p == spot || p == ema));
        } else {
            prop_assert!(p >= spot && p >= ema && (p == spot || p == ema));
        }
        prop_assert_eq!(conservative_price(spot, None, amount), spot);
    }

    /// The stable price is the EMA when positive, zero (no stable price) otherwise.
    #[test]
    fn stable_price_falls_back_to_none(ema in any::<i64>(), expo in -12i32..=0) {
        let got = stable_price(Some(ema), expo).unwrap();
        if ema > 0 {
            prop_assert_eq!(got, from_mantissa(ema, expo).unwrap());
            prop_assert!(got > Fx::ZERO);
        } else {
            prop_assert_eq!(got, Fx::ZERO);
        }
        prop_assert_eq!(stable_price(None, expo).unwrap(), Fx::ZERO);
    }

    /// The band is |a − b| × 10_000 ≤ band × reference, exactly, symmetric in a and b and
    /// wider with the band.
    #[test]
    fn within_band_is_the_exact_integer_band(a in any::<u64>(), b in any::<u64>(), reference in any::<u64>(), band in any::<u16>()) {
        let exact = u128::from(a.abs_diff(b)) * 10_000 <= u128::from(reference) * u128::from(band);
        prop_assert_eq!(within_band(a, b, reference, band), exact);
        prop_assert_eq!(within_band(a, b, reference, band), within_band(b, a, reference, band));
        prop_assert!(within_band(a, a, reference, band));
        if within_band(a, b, reference, band) {
            prop_assert!(within_band(a, b, reference, band.saturating_add(1)));
        }
    }

    /// The recorded ppm covers the shock and is the least that does: n / 10^6 ≥ shock >
    /// (n − 1) / 10^6, compared exactly on the fixed-point bits.
    #[test]
    fn ceil_ppm_is_the_least_cover(bits in 0i128..(1i128 << FRAC_BITS) * 4_000) {
        let shock = Fx::from_bits(bits);
        let n = ceil_ppm(shock).unwrap();
        let covers = |n: u32| i128::from(n) << FRAC_BITS >= bits * 1_000_000;
        prop_assert!(covers(n));
        prop_assert!(n == 0 || !covers(n - 1));
    }

    /// The buffer is the larger of the floor and the fraction of the requirement; a portfolio
    /// is back when initial health ≥ 0 and maintenance health reaches it.
    #[test]
    fn the_liquidation_buffer(floor in 1i64..1_000_000, fraction_bps in 0i64..=5_000, requirement in 0i64..1_000_000_000,
                              initial in -1_000i64..1_000, maintenance in -1_000_000i64..100_000_000) {
        let (floor, fraction) = (Fx::from_num(floor) / 1_000_000, Fx::from_num(fraction_bps) / 10_000);
        let requirement = Fx::from_num(requirement) / 1_000_000;
        let buffer = buffer_for(floor, fraction, requirement).unwrap();
        prop_assert!(buffer >= floor && buffer >= fraction * requirement);
        prop_assert!(buffer == floor || buffer == fraction * requirement);
        let (initial, maintenance) = (Fx::from_num(initial) / 1_000, Fx::from_num(maintenance) / 1_000_000);
        let back = back_above_buffer(&report(initial, maintenance, requirement), floor, fraction).unwrap();
        prop_assert_eq!(back, initial >= Fx::ZERO && maintenance >= buffer);
    }

    /// The tiers a balance reaches are exactly those with a threshold below it (thresholds
    /// increase); more balance reaches no fewer tiers.
    #[test]
    fn tiers_reached_are_the_thresholds_below(mut thresholds in prop::collection::vec(1u64..1_000_000, 0..=4), amount in 0u64..1_100_000, more in 0u64..1_000) {
        thresholds.sort_unstable();
        thresholds.dedup();
        let n = tiers_reached(amount, thresholds.iter().copied());
        prop_assert_eq!(n, thresholds.iter().filter(|t| **t < amount).count());
        prop_assert!(tiers_reached(amount + more, thresholds.iter().copied()) >= n);
    }
}
