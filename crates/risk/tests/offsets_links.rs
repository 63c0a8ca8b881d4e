//! Capital-efficiency credits (issue 14), as properties:
//!
//! - offsets (`offsets.rs`): the requirement is subadditive, positively homogeneous and
//!   midpoint-convex with a group; ρ = 0 reproduces the engine without offsets bit for bit;
//!   R never falls below R_joint (the ρ = 1 requirement) nor rises above ΣR_u; long/long
//!   books earn nothing;
//! - links (`links.rs`): linking never raises health of a balance that offsets nothing;
//!   health stays concave in the balance and the sizes; a cash-and-carry nets;
//! - conversions: a call and a put of one strike and expiry net their convexity add-on;
//! - liquidation sizing stays exact (least lots, checked against whole-portfolio health)
//!   with a group and a linked balance.
mod common;

use common::*;
use proptest::prelude::*;
use xmargin_risk::collateral::{Balance, CollateralLink, CollateralMarket, HaircutSchedule, Level, Tier};
use xmargin_risk::fx::Fx;
use xmargin_risk::liquidation::{liquidation_size, LiquidationTerms};
use xmargin_risk::margin::{health, requirements, MarginParams};
use xmargin_risk::marks::{compute_marks, marked_health, MarkedPosition, MarkedUnderlying, MarksPolicy};
use xmargin_risk::offsets::{OffsetGroup, OffsetTable};
use xmargin_risk::{InstrumentKind, Market, Position, RiskError, UnderlyingMarket};

fn markets() -> [UnderlyingMarket; 2] {
    two_markets()
}

fn grouped(credit: f64) -> MarginParams {
    let group = OffsetGroup::new(&[0, 1], fx(credit)).unwrap();
    MarginParams::REFERENCE.with_offsets(OffsetTable::new(&[group]).unwrap())
}

/// (initial, maintenance) requirements, quote units.
fn req(positions: &[Position], params: &MarginParams) -> (f64, f64) {
    let u = markets();
    let market = Market { now: NOW, underlyings: &u };
    let (i, m, _) = requirements(positions, &market, params).unwrap();
    (i.to_num(), m.to_num())
}

fn tol(x: f64) -> f64 {
    1e-9 * x.abs() + 1e-6
}

fn scaled(p: &Position, k: i64) -> Position {
    Position { size: p.size.checked_mul_int(i128::from(k)).unwrap(), ..*p }
}

/// Wrapped BTC linked to underlying 0 (BTC), standalone weights 0.8 / 0.9 with a tier.
fn wbtc(basis: (f64, f64), ratio: f64) -> CollateralMarket {
    let mut schedule = HaircutSchedule::flat(fx(0.8), fx(0.9), fx(1.25), fx(1.1));
    schedule.tiers[0] = Tier { above: fx(10.0), initial_weight: fx(0.7), maintenance_weight: fx(0.85) };
    schedule.tier_count = 1;
    CollateralMarket {
        index: 1,
        price: fx(60_000.0 * ratio),
        conf: fx(30.0),
        schedule,
        link: Some(CollateralLink {
            underlying: 0,
            ratio: fx(ratio),
            basis_initial: fx(basis.0),
            basis_maintenance: fx(basis.1),
        }),
    }
}

fn unlinked(m: &CollateralMarket) -> CollateralMarket {
    CollateralMarket { link: None, ..*m }
}

fn health_of(
    positions: &[Position],
    amount: f64,
    m: &CollateralMarket,
    params: &MarginParams,
    level: Level,
) -> f64 {
    let u = markets();
    let market = Market { now: NOW, underlyings: &u };
    let balances = [Balance { collateral: 1, amount: fx(amount) }];
    health(positions, &balances, core::slice::from_ref(m), &market, params, level).unwrap().to_num()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn offsets_subadditive(a in book(), b in book(), credit in 0.0f64..=1.0) {
        let params = grouped(credit);
        let (ia, ma) = req(&a, &params);
        let (ib, mb) = req(&b, &params);
        let mut ab = a.clone();
        ab.extend_from_slice(&b);
        let (iab, mab) = req(&ab, &params);
        prop_assert!(iab <= ia + ib + tol(ia + ib), "initial {} > {} + {}", iab, ia, ib);
        prop_assert!(mab <= ma + mb + tol(ma + mb), "maintenance {} > {} + {}", mab, ma, mb);
    }

    #[test]
    fn offsets_homogeneous(a in book(), k in 2i64..5, credit in 0.0f64..=1.0) {
        let params = grouped(credit);
        let (i, m) = req(&a, &params);
        let big: Vec<Position> = a.iter().map(|p| scaled(p, k)).collect();
        let (ik, mk) = req(&big, &params);
        let kf = k as f64;
        prop_assert!((ik - kf * i).abs() <= tol(kf * i) * 10.0, "initial {} vs {}·{}", ik, kf, i);
        prop_assert!((mk - kf * m).abs() <= tol(kf * m) * 10.0, "maintenance {} vs {}·{}", mk, kf, m);
    }

    #[test]
    fn offsets_midpoint_convex(a in book(), b in book(), credit in 0.0f64..=1.0) {
        // R(a + b) ≤ R(2a)/2 + R(2b)/2: the midpoint of 2a and 2b.
        let params = grouped(credit);
        let double = |x: &[Position]| -> Vec<Position> { x.iter().map(|p| scaled(p, 2)).collect() };
        let (i2a, m2a) = req(&double(&a), &params);
        let (i2b, m2b) = req(&double(&b), &params);
        let mut ab = a.clone();
        ab.extend_from_slice(&b);
        let (iab, mab) = req(&ab, &params);
        prop_assert!(iab <= (i2a + i2b) / 2.0 + tol(i2a + i2b));
        prop_assert!(mab <= (m2a + m2b) / 2.0 + tol(m2a + m2b));
    }

    #[test]
    fn zero_credit_reproduces_no_offsets_exactly(a in book()) {
        prop_assert_eq!(req(&a, &grouped(0.0)), req(&a, &MarginParams::REFERENCE));
    }

    #[test]
    fn between_joint_and_sum(a in book(), credit in 0.0f64..=1.0) {
        let (i, m) = req(&a, &grouped(credit));
        let (i_sum, m_sum) = req(&a, &MarginParams::REFERENCE);
        let (i_joint, m_joint) = req(&a, &grouped(1.0));
        prop_assert!(i <= i_sum && m <= m_sum, "an offset never adds");
        prop_assert!(i + tol(i) >= i_joint && m + tol(m) >= m_joint, "R ≥ R_joint: {} < {}", m, m_joint);
    }

    #[test]
    fn same_direction_books_earn_nothing(x in 0.01f64..10.0, y in 0.01f64..10.0, short in any::<bool>()) {
        let sign = if short { -1.0 } else { 1.0 };
        let book = [perp(0, sign * x, 60_000.0), perp(1, sign * y, 3_000.0)];
        let (i, m) = req(&book, &grouped(1.0));
        let (i0, m0) = req(&book, &MarginParams::REFERENCE);
        prop_assert!((i - i0).abs() <= tol(i0) && (m - m0).abs() <= tol(m0), "{} vs {}", m, m0);
    }

    #[test]
    fn linking_never_loosens_an_unhedged_balance(
        amount in 0.001f64..50.0,
        basis_m in 0.0f64..0.3,
        extra in 0.0f64..0.2,
        ratio in 0.5f64..2.0,
        others in prop::collection::vec(position_strategy(), 0..4),
    ) {
        // Positions only on underlying 1: nothing offsets the linked BTC.
        let others: Vec<Position> = others.into_iter().map(|p| Position { instrument: xmargin_risk::Instrument { underlying: 1, ..p.instrument }, ..p }).filter(|p| p.instrument.kind == InstrumentKind::Perp).collect();
        let m = wbtc((basis_m + extra, basis_m), ratio);
        // With BTC and ETH in a group, only same-direction (long) ETH perps offset nothing.
        let long: Vec<Position> = others.iter().map(|p| Position { size: p.size.abs(), ..*p }).collect();
        for (params, others) in [(MarginParams::REFERENCE, &others), (grouped(0.7), &long)] {
            for level in [Level::Initial, Level::Maintenance] {
                let linked = health_of(others, amount, &m, &params, level);
                let alone = health_of(others, amount, &unlinked(&m), &params, level);
                prop_assert!(linked <= alone + tol(alone), "{:?}: linked {} > standalone {}", level, linked, alone);
            }
        }
    }

    #[test]
    fn health_concave_in_balance_and_sizes(a in book(), b in book(), x in 0.0f64..20.0, y in 0.0f64..20.0, credit in 0.0f64..=1.0) {
        let m = wbtc((0.02, 0.01), 1.0);
        let params = grouped(credit);
        let double = |v: &[Position]| -> Vec<Position> { v.iter().map(|p| scaled(p, 2)).collect() };
        let mut ab = a.clone();
        ab.extend_from_slice(&b);
        for level in [Level::Initial, Level::Maintenance] {
            let mid = health_of(&ab, x + y, &m, &params, level);
            let ends = (health_of(&double(&a), 2.0 * x, &m, &params, level) + health_of(&double(&b), 2.0 * y, &m, &params, level)) / 2.0;
            prop_assert!(mid + tol(mid) >= ends, "{:?}: h(mid) {} < {}", level, mid, ends);
        }
    }

    #[test]
    fn conversions_net_their_addons(strike in 0.7f64..1.4, days in 1.0f64..120.0, size in 0.1f64..5.0) {
        let k = (60_000.0 * strike).round();
        // Long forward by parity (long call, short put) against a short perp: no risk but the
        // forward's own linear exposure, which the perp cancels.
        let book = [
            option(0, InstrumentKind::Call, k, days, size),
            option(0, InstrumentKind::Put, k, days, -size),
            perp(0, -size, 60_000.0),
        ];
        let u = markets();
        let market = Market { now: NOW, underlyings: &u };
        let (_, _, reports) = requirements(&book, &market, &MarginParams::REFERENCE).unwrap();
        prop_assert_eq!(reports[0].initial.convexity_addon, Fx::ZERO);
        prop_assert_eq!(reports[0].maintenance.convexity_addon, Fx::ZERO);
        // A different strike for the put is not a conversion: its add-on stays.
        let strangle = [book[0], option(0, InstrumentKind::Put, k + 1_000.0, days, -size), book[2]];
        let (_, _, r2) = requirements(&strangle, &market, &MarginParams::REFERENCE).unwrap();
        prop_assert!(r2[0].initial.convexity_addon > Fx::ZERO);
    }
}

#[test]
fn cash_and_carry_nets_and_the_naked_balance_does_not() {
    let m = wbtc((0.02, 0.01), 1.0);
    let params = MarginParams::REFERENCE;
    let short = [perp(0, -1.0, 60_000.0)];
    let carry = health_of(&short, 1.0, &m, &params, Level::Initial);
    let carry_unlinked = health_of(&short, 1.0, &unlinked(&m), &params, Level::Initial);
    // Linked: 1 BTC at 59,970 × 0.98 against a flat book (only the confidence add-on left).
    assert!(carry > carry_unlinked + 20_000.0, "linked {carry} vs unlinked {carry_unlinked}");
    assert!((carry - 59_970.0 * 0.98).abs() < 10.0, "{carry}");
}

#[test]
fn a_linked_balance_needs_its_underlying() {
    let m = wbtc((0.02, 0.01), 1.0);
    let u = [markets()[1]];
    let market = Market { now: NOW, underlyings: &u };
    let balances = [Balance { collateral: 1, amount: fx(1.0) }];
    let r = health(&[], &balances, &[m], &market, &MarginParams::REFERENCE, Level::Initial);
    assert_eq!(r.err(), Some(RiskError::UnknownUnderlying(0)));
    let bad = CollateralMarket { link: Some(CollateralLink { ratio: Fx::ZERO, ..m.link.unwrap() }), ..m };
    let u = markets();
    let market = Market { now: NOW, underlyings: &u };
    let r = health(&[], &balances, &[bad], &market, &MarginParams::REFERENCE, Level::Initial);
    assert_eq!(r.err(), Some(RiskError::InvalidCollateralLink));
}

#[test]
fn offset_groups_are_validated() {
    assert_eq!(OffsetGroup::new(&[0], fx(0.5)).err(), Some(RiskError::InvalidOffsetGroup));
    assert_eq!(OffsetGroup::new(&[0, 0], fx(0.5)).err(), Some(RiskError::InvalidOffsetGroup));
    assert_eq!(OffsetGroup::new(&[0, 1, 2, 3, 4], fx(0.5)).err(), Some(RiskError::InvalidOffsetGroup));
    assert_eq!(OffsetGroup::new(&[0, 1], fx(1.5)).err(), Some(RiskError::InvalidOffsetGroup));
    let a = OffsetGroup::new(&[0, 1], fx(0.5)).unwrap();
    let b = OffsetGroup::new(&[1, 2], fx(0.5)).unwrap();
    assert_eq!(OffsetTable::new(&[a, b]).err(), Some(RiskError::InvalidOffsetGroup), "overlap");
}

// ---- liquidation sizing with a group and a linked balance (marked path) ----

const LOT: f64 = 0.01;
const QUOTE: u16 = 0;
const LIABILITY: f64 = 1.05;

fn marked_underlyings() -> Vec<MarkedUnderlying> {
    [(0u16, 100.0), (1, 2_000.0)]
        .into_iter()
        .map(|(i, spot)| MarkedUnderlying {
            market: underlying(i, spot, 0.6, spot * 0.0005),
            policy: MarksPolicy::new(fx(0.03), 3_600),
            stable_price: Fx::ZERO,
        })
        .collect()
}

fn collateral() -> Vec<CollateralMarket> {
    vec![
        CollateralMarket {
            index: QUOTE,
            price: Fx::ONE,
            conf: Fx::ZERO,
            schedule: HaircutSchedule::flat(Fx::ONE, Fx::ONE, fx(LIABILITY), fx(LIABILITY)),
            link: None,
        },
        CollateralMarket {
            index: 1,
            price: fx(100.0),
            conf: fx(0.05),
            schedule: HaircutSchedule::flat(fx(0.8), fx(0.9), fx(1.25), fx(1.1)),
            link: Some(CollateralLink {
                underlying: 0,
                ratio: Fx::ONE,
                basis_initial: fx(0.02),
                basis_maintenance: fx(0.01),
            }),
        },
    ]
}

fn marked(p: &Position, u: &[MarkedUnderlying], params: &MarginParams) -> MarkedPosition {
    let (marks, strike_expiry) = match p.instrument.kind {
        InstrumentKind::Perp => (None, None),
        kind => {
            let kind = if kind == InstrumentKind::Call {
                xmargin_risk::bs::OptionKind::Call
            } else {
                xmargin_risk::bs::OptionKind::Put
            };
            let x = &u[usize::from(p.instrument.underlying)];
            let marks = compute_marks(
                kind,
                p.instrument.strike,
                p.instrument.expiry,
                &x.market,
                NOW,
                params,
                &x.policy,
            )
            .unwrap();
            (Some(marks), Some((p.instrument.strike, p.instrument.expiry)))
        }
    };
    let size = fx((p.size.to_num::<f64>() / LOT).round() * LOT);
    MarkedPosition { underlying: p.instrument.underlying, size, marks, strike_expiry }
}

/// `positions` with `lots` of `positions[i]` taken over (all of it at `held` lots: exactly its
/// size), the units taken and the same with the position's sign.
fn taken(positions: &[MarkedPosition], i: usize, lots: i64, held: i64) -> (Vec<MarkedPosition>, Fx, Fx) {
    let mut p = positions.to_vec();
    let units = if lots == held { p[i].size.abs() } else { fx(LOT) * Fx::from_num(lots) };
    let signed = if p[i].size < Fx::ZERO { -units } else { units };
    p[i].size -= signed;
    (p, units, signed)
}

/// Adds a random position on underlying 0 or 1 to `positions`, unless it is empty or its
/// instrument is already held (a portfolio holds one slot per instrument).
fn add_random_position(
    rng: &mut common::Rng,
    positions: &mut Vec<MarkedPosition>,
    u: &[MarkedUnderlying],
    params: &MarginParams,
) {
    let index = rng.below(2) as u16;
    let p = random_position(rng, index, u[usize::from(index)].market.spot.to_num());
    let m = marked(&p, u, params);
    let dup = positions.iter().any(|q| {
        q.underlying == m.underlying
            && q.marks.is_none() == m.marks.is_none()
            && (m.marks.is_none() || q.strike_expiry == m.strike_expiry)
    });
    if m.size != Fx::ZERO && !dup {
        positions.push(m);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn liquidation_stays_exact_with_group_and_link(seed in any::<u64>(), deficit in 0.001f64..0.3, credit in 0.0f64..=1.0, linked in 0.0f64..5.0, buffer in 0.001f64..0.05) {
        let u = marked_underlyings();
        let params = grouped(credit);
        let c = collateral();
        let mut rng = common::Rng::new(seed);
        let n = 1 + rng.below(6) as usize;
        let mut positions: Vec<MarkedPosition> = Vec::new();
        while positions.len() < n {
            add_random_position(&mut rng, &mut positions, &u, &params);
        }
        let maint = |pos: &[MarkedPosition], quote: Fx| {
            let b = [Balance { collateral: QUOTE, amount: quote }, Balance { collateral: 1, amount: fx(linked) }];
            marked_health(pos, &b, &c, &u, NOW, &params, Level::Maintenance).unwrap()
        };
        let without = maint(&positions, Fx::ZERO).to_num::<f64>();
        let scale = 1.0 + without.abs();
        let x = -deficit * scale - without;
        let quote = fx(if x >= 0.0 { x } else { x / LIABILITY });
        let before = maint(&positions, quote);
        prop_assume!(before < Fx::ZERO);
        let balances = [Balance { collateral: QUOTE, amount: quote }, Balance { collateral: 1, amount: fx(linked) }];
        for i in 0..positions.len() {
            let terms = LiquidationTerms { discount: Fx::ZERO, buffer: fx(buffer * scale), buffer_fraction: Fx::ZERO, lot: fx(LOT), max_lots: i64::MAX, quote: QUOTE };
            let held = (positions[i].size.abs().to_num::<f64>() / LOT).round() as i64;
            let after = |lots: i64, mark: Fx| {
                let (p, _, signed) = taken(&positions, i, lots, held);
                maint(&p, quote + signed * mark)
            };
            match liquidation_size(&positions, i, &balances, &c, &u, NOW, &params, terms) {
                Ok(plan) => {
                    prop_assert_eq!(after(plan.lots, plan.mark), plan.health_after, "the plan's health is the whole-portfolio health");
                    prop_assert_eq!(plan.health_before, before);
                    if plan.restores_buffer {
                        prop_assert!(plan.health_after >= terms.buffer);
                        prop_assert!(after(plan.lots - 1, plan.mark) < terms.buffer, "one lot fewer would do");
                    } else {
                        prop_assert_eq!(plan.lots, held);
                    }
                }
                Err(RiskError::LiquidationWouldNotImprove) => {}
                Err(e) => prop_assert!(false, "unexpected {e:?}"),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn hedged_liquidation_is_exact(seed in any::<u64>(), size in 0.5f64..5.0, linked in 0.5f64..6.0, debt in 0.01f64..0.2, credit in 0.0f64..=0.5, buffer in 0.001f64..0.05) {
        // A carry (linked spot on underlying 0, short perp) plus random positions, under water:
        // the liquidator takes lots of the perp with one unit of spot per unit of perp.
        use xmargin_risk::liquidation::{hedged_liquidation_size, HedgeTerms};
        let u = marked_underlyings();
        let params = grouped(credit);
        let c = collateral();
        let mut rng = common::Rng::new(seed);
        let mut positions = vec![MarkedPosition::perp(0, fx(-(size / LOT).round() * LOT))];
        for _ in 0..rng.below(3) {
            let p = random_position(&mut rng, 1, 2_000.0);
            let m = marked(&p, &u, &params);
            if m.size != Fx::ZERO && m.marks.is_some() && !positions.iter().any(|q| q.strike_expiry == m.strike_expiry) {
                positions.push(m);
            }
        }
        let maint = |pos: &[MarkedPosition], quote: Fx, spot: Fx| {
            let b = [Balance { collateral: QUOTE, amount: quote }, Balance { collateral: 1, amount: spot }];
            marked_health(pos, &b, &c, &u, NOW, &params, Level::Maintenance).unwrap()
        };
        let without = maint(&positions, Fx::ZERO, fx(linked)).to_num::<f64>();
        let scale = 1.0 + without.abs();
        let x = -debt * scale - without;
        let quote = fx(if x >= 0.0 { x } else { x / LIABILITY });
        prop_assume!(maint(&positions, quote, fx(linked)) < Fx::ZERO);
        let balances = [Balance { collateral: QUOTE, amount: quote }, Balance { collateral: 1, amount: fx(linked) }];
        let hedge = HedgeTerms { asset: 1, units_per_lot: fx(LOT), price: fx(99.0) };
        let terms = LiquidationTerms { discount: fx(1.0), buffer: fx(buffer * scale), buffer_fraction: Fx::ZERO, lot: fx(LOT), max_lots: i64::MAX, quote: QUOTE };
        let held = (positions[0].size.abs().to_num::<f64>() / LOT).round() as i64;
        let after = |lots: i64, mark: Fx| {
            let mut p = positions.clone();
            let units = if lots == held { p[0].size.abs() } else { fx(LOT) * Fx::from_num(lots) };
            p[0].size += units;
            let sold = fx(LOT) * Fx::from_num(lots);
            maint(&p, quote - units * mark - units * fx(1.0) + sold * fx(99.0), fx(linked) - sold)
        };
        match hedged_liquidation_size(&positions, 0, &balances, &c, &u, NOW, &params, terms, Some(hedge)) {
            Ok(plan) => {
                prop_assert_eq!(after(plan.lots, plan.mark), plan.health_after, "the plan's health is the whole-portfolio health");
                if plan.restores_buffer && plan.lots > 1 {
                    prop_assert!(after(plan.lots - 1, plan.mark) < terms.buffer, "one lot fewer would do");
                }
            }
            Err(RiskError::LiquidationWouldNotImprove) | Err(RiskError::NothingToLiquidate) => {}
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// `marked_totals` (what the program computes) equals the full report's totals bit for
    /// bit, with an offset group, a linked balance, a quote balance of either sign, stable
    /// prices and a quote depeg charge in force; and both health levels equal `marked_health`.
    #[test]
    fn marked_totals_equal_the_full_report(seed in any::<u64>(), credit in 0.0f64..=1.0, linked in 0.0f64..5.0, quote in -20_000.0f64..20_000.0, stable in 0.9f64..1.1, depeg in 0.0f64..0.02) {
        use xmargin_risk::marks::{marked_margin, marked_totals};
        let mut u = marked_underlyings();
        for x in &mut u {
            x.stable_price = fx(x.market.spot.to_num::<f64>() * stable);
        }
        let params = grouped(credit).with_quote_depeg(fx(depeg));
        let c = collateral();
        let mut rng = common::Rng::new(seed);
        let mut positions: Vec<MarkedPosition> = Vec::new();
        for _ in 0..rng.below(8) {
            add_random_position(&mut rng, &mut positions, &u, &params);
        }
        let balances = [Balance { collateral: QUOTE, amount: fx(quote) }, Balance { collateral: 1, amount: fx(linked) }];
        let report = marked_margin(&positions, &balances, &c, &u, NOW, &params).unwrap();
        let totals = marked_totals(&positions, &balances, &c, &u, NOW, &params).unwrap();
        prop_assert_eq!(report.totals, totals);
        for (level, health) in [(Level::Maintenance, totals.maintenance_health), (Level::Initial, totals.initial_health)] {
            prop_assert_eq!(marked_health(&positions, &balances, &c, &u, NOW, &params, level).unwrap(), health);
        }
    }
}

/// Up to nine random positions over `u` (`add_random_position`, the offset group's params).
fn random_positions(rng: &mut common::Rng, u: &[MarkedUnderlying]) -> Vec<MarkedPosition> {
    let params = grouped(0.5);
    let mut positions = Vec::new();
    for _ in 0..rng.below(10) {
        add_random_position(rng, &mut positions, u, &params);
    }
    positions
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Netting's books do not depend on the order of the positions or of the underlyings:
    /// the same books, bit for bit (sums of floored products are exact integer sums), from
    /// the positions interleaved or grouped, the underlyings ascending or descending.
    #[test]
    fn books_do_not_depend_on_the_positions_order(seed in any::<u64>(), linked in 0.0f64..5.0) {
        use xmargin_risk::marks::marked_books_linked;
        let u = marked_underlyings();
        let mut rng = common::Rng::new(seed);
        let positions = random_positions(&mut rng, &u);
        let links = [(0u16, fx(linked))];
        let mut grouped_order = positions.clone();
        grouped_order.sort_by_key(|p| p.underlying);
        let runs = marked_books_linked(&grouped_order, &links, &u, NOW).unwrap();
        prop_assert_eq!(&marked_books_linked(&positions, &links, &u, NOW).unwrap(), &runs);
        // Reversed: each underlying's positions in the opposite order too.
        let backwards: Vec<MarkedPosition> = positions.iter().rev().copied().collect();
        prop_assert_eq!(&marked_books_linked(&backwards, &links, &u, NOW).unwrap(), &runs);
        // Descending underlyings: the books in that order.
        let reversed: Vec<MarkedUnderlying> = u.iter().rev().copied().collect();
        let mut books = marked_books_linked(&grouped_order, &links, &reversed, NOW).unwrap();
        books.reverse();
        prop_assert_eq!(&books, &runs);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// `marked_books_where` (a liquidation's books of the rest of the portfolio) is
    /// `marked_books_at` of a copy without the skipped underlyings' positions and links,
    /// bit for bit and error for error: marks too old, a position on an unknown underlying
    /// (accepted or not), either level or both.
    #[test]
    fn books_where_are_the_books_of_the_kept_positions(
        seed in any::<u64>(),
        linked in -3.0f64..5.0,
        keep in 0u8..8,
        unknown in any::<bool>(),
        age in prop_oneof![Just(0i64), 0i64..7_200],
        level in 0u8..3,
    ) {
        use xmargin_risk::collateral::Level;
        use xmargin_risk::marks::{marked_books_at, marked_books_where};
        let u = marked_underlyings();
        let mut rng = common::Rng::new(seed);
        let mut positions = random_positions(&mut rng, &u);
        if unknown && !positions.is_empty() {
            let i = rng.below(positions.len() as u64) as usize;
            positions[i].underlying = 7;
        }
        let links = [(0u16, fx(linked)), (1u16, fx(linked / 2.0))];
        // keep: bit 0 the first underlying, bit 1 the second, bit 2 the unknown one.
        let skipped: Vec<u16> =
            [(0u16, 1u8), (1, 2), (7, 4)].iter().filter(|(_, bit)| keep & bit == 0).map(|(i, _)| *i).collect();
        let include = |i: u16| !skipped.contains(&i);
        let level = [None, Some(Level::Maintenance), Some(Level::Initial)][usize::from(level)];
        let kept: Vec<MarkedPosition> = positions.iter().filter(|p| include(p.underlying)).copied().collect();
        let kept_links: Vec<(u16, Fx)> = links.iter().filter(|(i, _)| include(*i)).copied().collect();
        let now = NOW + age;
        prop_assert_eq!(
            marked_books_where(&positions, &links, &u, now, level, &skipped),
            marked_books_at(&kept, &kept_links, &u, now, level)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// `marks::unit_value` (a liquidation's transfer mark) is the value of a book holding one
    /// unit of the instrument, bit for bit, with the same error when the marks may not be used
    /// (too old, the spot drifted) or the underlying is unknown.
    #[test]
    fn unit_value_is_the_book_of_one_unit(seed in any::<u64>(), age in 0i64..7_200, drift in 0.9f64..1.1) {
        use xmargin_risk::marks::{marked_books, unit_value};
        let mut u = marked_underlyings();
        let params = grouped(0.5);
        let mut rng = common::Rng::new(seed);
        let mut positions: Vec<MarkedPosition> = Vec::new();
        while positions.is_empty() {
            add_random_position(&mut rng, &mut positions, &u, &params);
        }
        for x in &mut u {
            x.market.spot = fx(x.market.spot.to_num::<f64>() * drift);
        }
        let p = positions[0];
        let unit = MarkedPosition { size: Fx::ONE, ..p };
        let now = NOW + age;
        let book = marked_books(&[unit], &u, now).map(|b| b[0].exposure.value);
        prop_assert_eq!(unit_value(&p, &u, now), book);
        let elsewhere = MarkedPosition { underlying: 7, ..p };
        prop_assert_eq!(unit_value(&elsewhere, &u, now), marked_books(&[MarkedPosition { size: Fx::ONE, ..elsewhere }], &u, now).map(|b| b[0].exposure.value));
        // Malformed input, the same answer all the same: the underlying listed twice, the
        // second copy with a different spot (its own drift check) or an invalid confidence.
        for (spot, conf) in [(1.02, 0.0005), (1.0, 2.0)] {
            let mut twice = u.clone();
            let mut copy = u[usize::from(p.underlying)];
            copy.market.spot = fx(copy.market.spot.to_num::<f64>() * spot);
            copy.market.conf = fx(copy.market.spot.to_num::<f64>() * conf);
            twice.push(copy);
            prop_assert_eq!(unit_value(&p, &twice, now), marked_books(&[unit], &twice, now).map(|b| b[0].exposure.value));
        }
    }
}

/// `collateral()` with two unlinked assets more (indices 2 and 3).
fn more_collateral() -> Vec<CollateralMarket> {
    let mut c = collateral();
    for (index, price) in [(2u16, 35.0), (3, 0.8)] {
        c.push(CollateralMarket {
            index,
            price: fx(price),
            conf: fx(price * 0.001),
            schedule: HaircutSchedule::flat(fx(0.7), fx(0.85), fx(1.3), fx(1.15)),
            link: None,
        });
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The search weights the balances no guess changes once: its plan's health is still the
    /// whole-portfolio health, bit for bit, with several such balances on either side of the
    /// quote (one linked, one a liability), unhedged and hedged.
    #[test]
    fn liquidation_is_exact_with_several_assets(seed in any::<u64>(), deficit in 0.001f64..0.3, linked in 0.5f64..5.0, other in -3.0f64..30.0, buffer in 0.001f64..0.05, hedged in any::<bool>()) {
        use xmargin_risk::liquidation::{hedged_liquidation_size, HedgeTerms};
        let u = marked_underlyings();
        let params = grouped(0.3);
        let c = more_collateral();
        let mut rng = common::Rng::new(seed);
        // A carry on underlying 0 (short perp, linked spot), a perp and options on 1: hedged,
        // the carry's perp is taken with its spot; unhedged, the perp on 1.
        let mut positions = vec![
            MarkedPosition::perp(0, fx(-(linked / LOT).round() * LOT)),
            MarkedPosition::perp(1, fx((1.0 + rng.below(300) as f64) * LOT)),
        ];
        for _ in 0..rng.below(3) {
            let p = random_position(&mut rng, 1, 2_000.0);
            let m = marked(&p, &u, &params);
            if m.size != Fx::ZERO && m.marks.is_some() && !positions.iter().any(|q| q.strike_expiry == m.strike_expiry) {
                positions.push(m);
            }
        }
        let index = if hedged { 0 } else { 1 };
        let with = |quote: Fx, spot: Fx| {
            [
                Balance { collateral: 2, amount: fx(other) },
                Balance { collateral: QUOTE, amount: quote },
                Balance { collateral: 1, amount: spot },
                Balance { collateral: 3, amount: fx(100.0) },
            ]
        };
        let maint = |pos: &[MarkedPosition], quote: Fx, spot: Fx| {
            marked_health(pos, &with(quote, spot), &c, &u, NOW, &params, Level::Maintenance).unwrap()
        };
        let without = maint(&positions, Fx::ZERO, fx(linked)).to_num::<f64>();
        let scale = 1.0 + without.abs();
        let x = -deficit * scale - without;
        let quote = fx(if x >= 0.0 { x } else { x / LIABILITY });
        prop_assume!(maint(&positions, quote, fx(linked)) < Fx::ZERO);
        // Small discounts when hedged: each lot then frees more requirement than it costs.
        let (discount, price) = if hedged { (0.02, 99.98) } else { (0.5, 99.0) };
        let hedge = hedged.then_some(HedgeTerms { asset: 1, units_per_lot: fx(LOT), price: fx(price) });
        let terms = LiquidationTerms { discount: fx(discount), buffer: fx(buffer * scale), buffer_fraction: Fx::ZERO, lot: fx(LOT), max_lots: i64::MAX, quote: QUOTE };
        let held = (positions[index].size.abs().to_num::<f64>() / LOT).round() as i64;
        let after = |lots: i64, mark: Fx| {
            let (p, units, signed) = taken(&positions, index, lots, held);
            let sold = if hedged { fx(LOT) * Fx::from_num(lots) } else { Fx::ZERO };
            maint(&p, quote + signed * mark - units * fx(discount) + sold * fx(price), fx(linked) - sold)
        };
        match hedged_liquidation_size(&positions, index, &with(quote, fx(linked)), &c, &u, NOW, &params, terms, hedge) {
            Ok(plan) => {
                prop_assert_eq!(after(plan.lots, plan.mark), plan.health_after, "the plan's health is the whole-portfolio health");
                prop_assert_eq!(after(0, plan.mark), plan.health_before);
            }
            Err(RiskError::LiquidationWouldNotImprove) | Err(RiskError::NothingToLiquidate) => {}
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }
}
