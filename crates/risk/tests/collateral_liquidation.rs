//! Collateral liquidation sizing (src/liquidation.rs `collateral_liquidation_size`): for random
//! underwater portfolios holding a tiered collateral asset against a quote liability, the
//! amount sold restores the buffer with the least number of lots (one fewer does not),
//! never repays more than the liability, and when the buffer is out of reach takes the most
//! it may while health strictly improves — checked against whole-portfolio health.
mod common;

use common::{fx, Rng, NOW};
use proptest::prelude::*;
use xmargin_risk::collateral::{Balance, CollateralMarket, HaircutSchedule, Level, Tier};
use xmargin_risk::fx::Fx;
use xmargin_risk::liquidation::{collateral_liquidation_size, CollateralLiquidationTerms};
use xmargin_risk::margin::MarginParams;
use xmargin_risk::marks::{marked_health, MarkedPosition, MarkedUnderlying, MarksPolicy};
use xmargin_risk::RiskError;

const PARAMS: MarginParams = MarginParams::REFERENCE;
const QUOTE: u16 = 0;
const ASSET: u16 = 3;
/// One native unit of the asset (6 decimals).
const LOT: f64 = 1e-6;

fn underlyings() -> Vec<MarkedUnderlying> {
    vec![MarkedUnderlying {
        market: common::underlying(0, 100.0, 0.6, 0.05),
        policy: MarksPolicy::new(fx(0.03), 3_600),
        stable_price: Fx::ZERO,
    }]
}

/// Quote at weight 1 both ways (the program's quote asset), the asset with a tiered schedule.
fn markets(price: f64, weight: f64, tier_weight: f64, tier_above: f64) -> Vec<CollateralMarket> {
    let mut schedule = HaircutSchedule::flat(fx(weight * 0.9), fx(weight), Fx::ONE, Fx::ONE);
    schedule.tiers[0] = Tier {
        above: fx(tier_above),
        initial_weight: fx(tier_weight * 0.9),
        maintenance_weight: fx(tier_weight),
    };
    schedule.tier_count = 1;
    vec![
        CollateralMarket {
            index: QUOTE,
            price: Fx::ONE,
            conf: Fx::ZERO,
            schedule: HaircutSchedule::flat(Fx::ONE, Fx::ONE, Fx::ONE, Fx::ONE),
            link: None,
        },
        CollateralMarket { index: ASSET, price: fx(price), conf: fx(price * 0.001), schedule, link: None },
    ]
}

fn health(positions: &[MarkedPosition], balances: &[Balance], m: &[CollateralMarket]) -> Fx {
    marked_health(positions, balances, m, &underlyings(), NOW, &PARAMS, Level::Maintenance).unwrap()
}

/// Balances after selling `lots` at the terms' price less the discount.
fn after(balances: &[Balance], lots: i64, t: &CollateralLiquidationTerms) -> Vec<Balance> {
    let amount = xmargin_risk::fx::from_native(i128::from(lots), t.decimals).unwrap();
    let repay = amount * (t.price * (Fx::ONE - t.discount_rate));
    balances
        .iter()
        .map(|b| match b.collateral {
            QUOTE => Balance { amount: b.amount + repay, ..*b },
            ASSET => Balance { amount: b.amount - amount, ..*b },
            _ => *b,
        })
        .collect()
}

fn terms(price: f64, rate: f64, buffer: f64, fraction: f64) -> CollateralLiquidationTerms {
    CollateralLiquidationTerms {
        asset: ASSET,
        quote: QUOTE,
        price: fx(price),
        discount_rate: fx(rate),
        buffer: fx(buffer),
        buffer_fraction: fx(fraction),
        decimals: 6,
        max_lots: i64::MAX,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn least_collateral_that_restores_the_buffer(seed in any::<u64>(), rate in 0.0f64..0.05, fraction in 0.0f64..0.1) {
        let mut rng = Rng::new(seed);
        let price = rng.uniform(1.0, 500.0);
        let weight = rng.uniform(0.5, 0.95);
        let tier_weight = weight * rng.uniform(0.5, 1.0);
        // A whole number of native units, as on-chain.
        let held_native = (rng.uniform(1.0, 1_000.0) * 1e6).round() as i128;
        let held = held_native as f64 / 1e6;
        let m = markets(price, weight, tier_weight, held * rng.uniform(0.2, 1.5));
        // A perp long whose requirement the asset and the debt are margining.
        let positions = vec![MarkedPosition { underlying: 0, size: fx(rng.uniform(0.0, 20.0)), marks: None, strike_expiry: None }];
        let base = vec![Balance { collateral: ASSET, amount: xmargin_risk::fx::from_native(held_native, 6).unwrap() }];
        let without_debt = health(&positions, &base, &m).to_num::<f64>();
        // Underwater by up to 30% of the asset's value.
        let debt = without_debt + rng.uniform(0.001, 0.3) * held * price;
        let balances = vec![Balance { collateral: QUOTE, amount: fx(-debt) }, base[0]];
        let before = health(&positions, &balances, &m);
        prop_assume!(before < Fx::ZERO);
        let t = terms(price, rate, 0.01, fraction);
        match collateral_liquidation_size(&positions, &balances, &m, &underlyings(), NOW, &PARAMS, t) {
            Ok(plan) => {
                let h = health(&positions, &after(&balances, plan.lots, &t), &m);
                prop_assert_eq!(h, plan.health_after);
                prop_assert_eq!(plan.health_before, before);
                prop_assert!(h > before, "health strictly improves");
                prop_assert!(plan.repay.to_num::<f64>() <= debt + 1e-6, "never repays more than the debt");
                prop_assert!(plan.lots as f64 * LOT <= held + 1e-9);
                prop_assert!(plan.buffer >= t.buffer);
                if plan.restores_buffer {
                    prop_assert!(h >= plan.buffer);
                    let one_less = health(&positions, &after(&balances, plan.lots - 1, &t), &m);
                    prop_assert!(one_less < plan.buffer, "one lot fewer would do");
                    prop_assert!(plan.evaluations <= 2 * 64 + 4);
                } else {
                    let max = ((held / LOT).floor() as i64).min(((debt / (LOT * price * (1.0 - rate))).floor()) as i64);
                    prop_assert!((plan.lots - max).abs() <= 1, "the most it may: {} vs {}", plan.lots, max);
                }
                let expected_discount = plan.lots as f64 * LOT * price * rate;
                prop_assert!((plan.discount.to_num::<f64>() - expected_discount).abs() <= 1e-9 * (1.0 + plan.lots as f64 * LOT * price));
            }
            Err(RiskError::LiquidationWouldNotImprove) => {
                // Only when the sale at (1 − rate) is worth no more than the asset's weight.
                prop_assert!(1.0 - rate <= weight + 1e-9, "refused though {} > {}", 1.0 - rate, weight);
            }
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }
}

#[test]
fn refusals_are_specific() {
    let m = markets(100.0, 0.8, 0.8, 1e9);
    let positions: Vec<MarkedPosition> = Vec::new();
    let u = underlyings();
    let healthy = vec![
        Balance { collateral: QUOTE, amount: fx(-10.0) },
        Balance { collateral: ASSET, amount: fx(1.0) },
    ];
    let t = terms(100.0, 0.01, 0.01, 0.0);
    let r = collateral_liquidation_size(&positions, &healthy, &m, &u, NOW, &PARAMS, t);
    assert_eq!(r, Err(RiskError::NotLiquidatable));
    let no_debt = vec![Balance { collateral: ASSET, amount: fx(1.0) }];
    let r = collateral_liquidation_size(&positions, &no_debt, &m, &u, NOW, &PARAMS, t);
    assert_eq!(r, Err(RiskError::NothingToLiquidate));
    for bad in [terms(100.0, 1.0, 0.01, 0.0), terms(0.0, 0.01, 0.01, 0.0), terms(100.0, 0.01, 0.0, 0.0)] {
        let r = collateral_liquidation_size(&positions, &healthy, &m, &u, NOW, &PARAMS, bad);
        assert_eq!(r, Err(RiskError::InvalidLiquidationTerms));
    }
}

#[test]
fn liquidator_cap_and_buffer_fraction() {
    // 1 unit at 100 (weight 0.8) against a debt of 85: health −5. Each unit sold at 99
    // repays 99 and gives up 80 of weighted value: +19 per unit.
    let m = markets(100.0, 0.8, 0.8, 1e9);
    let positions: Vec<MarkedPosition> = Vec::new();
    let u = underlyings();
    let b = vec![
        Balance { collateral: QUOTE, amount: fx(-85.0) },
        Balance { collateral: ASSET, amount: fx(1.0) },
    ];
    let plan =
        collateral_liquidation_size(&positions, &b, &m, &u, NOW, &PARAMS, terms(100.0, 0.01, 1.0, 0.0))
            .unwrap();
    // −5 − 0.08 (conf) + 19·x ≥ 1 → x ≈ 0.32.
    let x = plan.lots as f64 * LOT;
    assert!((0.31..0.33).contains(&x), "{x}");
    assert!(plan.restores_buffer);
    let capped = CollateralLiquidationTerms { max_lots: 1_000, ..terms(100.0, 0.01, 1.0, 0.0) };
    let small = collateral_liquidation_size(&positions, &b, &m, &u, NOW, &PARAMS, capped).unwrap();
    assert_eq!(small.lots, 1_000);
    assert!(!small.restores_buffer && small.health_after > small.health_before);
}
