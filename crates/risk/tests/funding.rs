//! Properties of perp funding (proptest): the rate moves in proportion to fill size against
//! the open interest, is 0 without fills, cannot be gamed by splitting a fill, and funding
//! payments never create money by rounding.
use proptest::prelude::*;
use xmargin_risk::fx::{Checked, Fx, ZERO};
use xmargin_risk::trading::{fill_premium, funding_index_at, funding_slope, pending_funding, FundingPremium};

/// Max rate 0.1% per interval.
fn max_rate() -> Fx {
    Fx::from_num(10) / 10_000
}

/// Fixed-point resolution slack for a few truncations.
fn eps() -> Fx {
    Fx::from_bits(1 << 8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_fill_means_rate_zero(oi in any::<u64>()) {
        prop_assert_eq!(FundingPremium::default().rate(oi, max_rate()).unwrap(), ZERO);
    }

    #[test]
    fn rate_is_proportional_to_size_over_open_interest(
        lots in 1i64..1_000_000,
        extra_oi in 0u64..1_000_000_000,
        oracle in 1_000u64..1_000_000_000_000,
        premium_bps in -500i64..500,
    ) {
        let price = (oracle as i128 + oracle as i128 * premium_bps as i128 / 10_000) as u64;
        let oi = lots as u64 + extra_oi;
        let mut f = FundingPremium::default();
        f.record(lots, price, oracle, max_rate()).unwrap();
        let premium = fill_premium(price, oracle, max_rate()).unwrap();
        let expected = premium.mul_i(lots).unwrap().div_i(oi as i64).unwrap();
        let rate = f.rate(oi, max_rate()).unwrap();
        prop_assert!((rate - expected).abs() <= eps(), "rate {} expected {}", rate, expected);
        // Bounded by the cap scaled by the fills' share of the weight.
        let bound = max_rate().mul_i(lots).unwrap().div_i(oi as i64).unwrap();
        prop_assert!(rate.abs() <= bound + eps(), "rate {} bound {}", rate, bound);
        // Either side of the fill counts the same.
        let mut g = FundingPremium::default();
        g.record(-lots, price, oracle, max_rate()).unwrap();
        prop_assert_eq!(g.rate(oi, max_rate()).unwrap(), rate);
    }

    #[test]
    fn splitting_a_fill_does_not_change_the_rate(
        parts in prop::collection::vec(1i64..10_000, 1..10),
        oi in 0u64..100_000,
        oracle in 1_000u64..1_000_000_000,
        premium_bps in -20i64..20,
    ) {
        let price = (oracle as i128 + oracle as i128 * premium_bps as i128 / 10_000) as u64;
        let total: i64 = parts.iter().sum();
        let mut whole = FundingPremium::default();
        whole.record(total, price, oracle, max_rate()).unwrap();
        let mut split = FundingPremium::default();
        for p in &parts {
            split.record(*p, price, oracle, max_rate()).unwrap();
        }
        prop_assert_eq!(split.fill_lots, whole.fill_lots);
        let (a, b) = (whole.rate(oi, max_rate()).unwrap(), split.rate(oi, max_rate()).unwrap());
        prop_assert!((a - b).abs() <= eps(), "{} vs {}", a, b);
    }

    #[test]
    fn funding_payments_never_create_money(
        longs in prop::collection::vec(1i64..1_000_000, 1..6),
        shorts_cut in prop::collection::vec(0u64..1_000, 0..5),
        periods in prop::collection::vec((-10i64..=10, 1i64..7_200), 1..6),
        oracle in 1u64..100_000,
        opened_after in 0i64..3_600,
    ) {
        // Longs and shorts of equal total size (lots of 0.01 units).
        let total: i64 = longs.iter().sum();
        let mut shorts = Vec::new();
        let mut left = total;
        for c in &shorts_cut {
            let s = (left as u64 * c / 1_000) as i64;
            if s > 0 && s < left {
                shorts.push(-s);
                left -= s;
            }
        }
        shorts.push(-left);
        // Funding updates every `dt` seconds with rate bps/10_000 of a cap of 0.1%.
        let (mut index, mut slope, mut t) = (ZERO, ZERO, 0i64);
        let mut snapshot = None;
        let open_at = opened_after;
        for (bps, dt) in &periods {
            // The book opens at `open_at` (possibly inside the first period).
            if snapshot.is_none() && open_at <= t + dt {
                snapshot = Some(funding_index_at(index, slope, t, open_at.max(t)).unwrap());
            }
            index = funding_index_at(index, slope, t, t + dt).unwrap();
            t += dt;
            let rate = Fx::from_num(*bps) / 10_000;
            slope = funding_slope(rate, Fx::from_num(oracle), 3_600).unwrap();
        }
        let snapshot = snapshot.unwrap_or(index);
        let now = t + 1_000;
        let end = funding_index_at(index, slope, t, now).unwrap();
        let paid: i64 = longs
            .iter()
            .chain(&shorts)
            .map(|lots| pending_funding(Fx::from_num(*lots) / 100, end, snapshot, 6).unwrap())
            .sum();
        let n = (longs.len() + shorts.len()) as i64;
        prop_assert!(paid <= 0, "Σ payments {} > 0", paid);
        prop_assert!(paid >= -n, "Σ payments {} beyond one unit per position", paid);
    }
}
