//! Partial liquidation sizing (src/liquidation.rs): for random underwater portfolios and any
//! position picked, the size found restores the buffer with the least number of lots (one
//! lot fewer does not), checked against an independent whole-portfolio health computation;
//! when the buffer cannot be reached the whole allowed size is taken and health strictly
//! improves, or the call is refused; the search costs a few requirement evaluations.
mod common;

use common::{fx, random_position, Rng, NOW};
use proptest::prelude::*;
use xmargin_risk::bs::OptionKind;
use xmargin_risk::collateral::{Balance, CollateralMarket, HaircutSchedule, Level};
use xmargin_risk::fx::Fx;
use xmargin_risk::liquidation::{discount_per_unit, liquidation_size, LiquidationTerms};
use xmargin_risk::margin::MarginParams;
use xmargin_risk::marks::{compute_marks, marked_health, MarkedPosition, MarkedUnderlying, MarksPolicy};
use xmargin_risk::{InstrumentKind, Position, RiskError};

const PARAMS: MarginParams = MarginParams::REFERENCE;
const QUOTE: u16 = 0;
const LOT: f64 = 0.01;

fn underlyings() -> Vec<MarkedUnderlying> {
    [(0u16, 100.0), (1, 2_000.0)]
        .into_iter()
        .map(|(i, spot)| MarkedUnderlying {
            market: common::underlying(i, spot, 0.6, spot * 0.0005),
            policy: MarksPolicy::new(fx(0.03), 3_600),
            stable_price: Fx::ZERO,
        })
        .collect()
}

/// Maintenance liability weight of the quote asset in the property test: above 1, so health
/// is only concave in the cash, not linear (the program's quote asset has 1).
const LIABILITY: f64 = 1.05;

/// The quote asset: price 1, assets at full weight, liabilities at `liability`.
fn quote_with(liability: f64) -> Vec<CollateralMarket> {
    vec![CollateralMarket {
        index: QUOTE,
        price: Fx::ONE,
        conf: Fx::ZERO,
        schedule: HaircutSchedule::flat(Fx::ONE, Fx::ONE, fx(liability), fx(liability)),
        link: None,
    }]
}

fn quote() -> Vec<CollateralMarket> {
    quote_with(LIABILITY)
}

fn marked(p: &Position, u: &[MarkedUnderlying]) -> MarkedPosition {
    let marks = match p.instrument.kind {
        InstrumentKind::Perp => None,
        kind => {
            let kind = if kind == InstrumentKind::Call { OptionKind::Call } else { OptionKind::Put };
            let market = &u[usize::from(p.instrument.underlying)].market;
            let policy = &u[usize::from(p.instrument.underlying)].policy;
            Some(
                compute_marks(kind, p.instrument.strike, p.instrument.expiry, market, NOW, &PARAMS, policy)
                    .unwrap(),
            )
        }
    };
    // Sizes in whole lots, as on-chain.
    let size = fx((p.size.to_num::<f64>() / LOT).round() * LOT);
    let strike_expiry = marks.is_some().then_some((p.instrument.strike, p.instrument.expiry));
    MarkedPosition { underlying: p.instrument.underlying, size, marks, strike_expiry }
}

fn random_book(rng: &mut Rng, u: &[MarkedUnderlying]) -> Vec<MarkedPosition> {
    let n = 1 + rng.below(7) as usize;
    let mut out: Vec<(Position, MarkedPosition)> = Vec::new();
    while out.len() < n {
        let index = rng.below(2) as u16;
        let p = random_position(rng, index, u[usize::from(index)].market.spot.to_num());
        if !out.iter().any(|(q, _)| {
            q.instrument.underlying == index
                && q.instrument.kind == p.instrument.kind
                && (p.instrument.kind == InstrumentKind::Perp || q.instrument == p.instrument)
        }) {
            let m = marked(&p, u);
            if m.size != Fx::ZERO {
                out.push((p, m));
            }
        }
    }
    out.into_iter().map(|(_, m)| m).collect()
}

fn maintenance(positions: &[MarkedPosition], balances: &[Balance], u: &[MarkedUnderlying]) -> Fx {
    marked_health(positions, balances, &quote(), u, NOW, &PARAMS, Level::Maintenance).unwrap()
}

/// The quote balance that puts maintenance health at `target`.
fn balance_for(positions: &[MarkedPosition], target: f64, u: &[MarkedUnderlying]) -> Vec<Balance> {
    let without = maintenance(positions, &[], u).to_num::<f64>();
    let x = target - without;
    let amount = if x >= 0.0 { x } else { x / LIABILITY };
    vec![Balance { collateral: QUOTE, amount: fx(amount) }]
}

/// The portfolio after `lots` of `positions[i]` moved at mark ∓ discount, by the plain
/// whole-portfolio path.
fn health_after(
    positions: &[MarkedPosition],
    balances: &[Balance],
    i: usize,
    lots: i64,
    mark: Fx,
    discount: Fx,
    u: &[MarkedUnderlying],
) -> Fx {
    let mut p = positions.to_vec();
    let held = (p[i].size.abs().to_num::<f64>() / LOT).round() as i64;
    let units = if lots == held { p[i].size.abs() } else { fx(LOT) * Fx::from_num(lots) };
    let signed = if p[i].size < Fx::ZERO { -units } else { units };
    p[i].size -= signed;
    let cash = signed * mark - units * discount;
    let b = vec![Balance { collateral: QUOTE, amount: balances[0].amount + cash }];
    maintenance(&p, &b, u)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn least_lots_that_restore_the_buffer(seed in any::<u64>(), deficit in 0.001f64..0.3, rate in 0.0f64..0.02, buffer in 0.001f64..0.05) {
        let u = underlyings();
        let mut rng = Rng::new(seed);
        let positions = random_book(&mut rng, &u);
        // Underwater by `deficit` × a scale of the book (its health without collateral), the
        // buffer a fraction of the same scale: some positions restore it, some cannot, some
        // (hedge legs) would make things worse.
        let scale = 1.0 + maintenance(&positions, &[], &u).to_num::<f64>().abs();
        let balances = balance_for(&positions, -deficit * scale, &u);
        let before = maintenance(&positions, &balances, &u);
        prop_assert!(before < Fx::ZERO);
        for i in 0..positions.len() {
            let spot = u[usize::from(positions[i].underlying)].market.spot;
            let is_option = positions[i].marks.is_some();
            let mark_guess = positions[i].marks.map_or(spot, |m| m.greeks.price);
            let discount = discount_per_unit(is_option, spot, mark_guess, fx(rate), fx(0.1)).unwrap();
            let terms = LiquidationTerms { discount, buffer: fx(buffer * scale), buffer_fraction: Fx::ZERO, lot: fx(LOT), max_lots: i64::MAX, quote: QUOTE };
            let held = (positions[i].size.abs().to_num::<f64>() / LOT).round() as i64;
            match liquidation_size(&positions, i, &balances, &quote(), &u, NOW, &PARAMS, terms) {
                Ok(plan) => {
                    let after = health_after(&positions, &balances, i, plan.lots, plan.mark, discount, &u);
                    prop_assert_eq!(after, plan.health_after, "the plan's health is the whole-portfolio health");
                    prop_assert_eq!(plan.health_before, before);
                    prop_assert!(after > before, "health strictly improves");
                    prop_assert!(plan.lots >= 1 && plan.lots <= held);
                    if plan.restores_buffer {
                        prop_assert!(after >= terms.buffer);
                        let one_less = health_after(&positions, &balances, i, plan.lots - 1, plan.mark, discount, &u);
                        prop_assert!(one_less < terms.buffer, "one lot fewer would do: {} lots", plan.lots);
                        let bound = 2 * (64 - (held as u64).leading_zeros()) + 4;
                        prop_assert!(plan.evaluations <= bound, "{} evaluations for {} lots", plan.evaluations, held);
                    } else {
                        prop_assert_eq!(plan.lots, held, "all of it when the buffer is out of reach");
                        prop_assert!(after < terms.buffer);
                    }
                }
                Err(RiskError::LiquidationWouldNotImprove) => {
                    let all = health_after(&positions, &balances, i, held, mark_of(&positions[i], &u), discount, &u);
                    prop_assert!(all <= before && all < terms.buffer);
                }
                Err(e) => prop_assert!(false, "unexpected {e:?}"),
            }
        }
    }
}

/// A position's mark per unit as the engine values it (perp: the spot; option: its value).
fn mark_of(p: &MarkedPosition, u: &[MarkedUnderlying]) -> Fx {
    let unit = MarkedPosition { size: Fx::ONE, ..*p };
    xmargin_risk::marks::marked_books(&[unit], u, NOW).unwrap()[0].exposure.value
}

fn requirement_of(p: &MarkedPosition, u: &[MarkedUnderlying]) -> Fx {
    let books = xmargin_risk::marks::marked_books(core::slice::from_ref(p), u, NOW).unwrap();
    books[0].requirement(&PARAMS, Level::Maintenance).unwrap().requirement
}

fn perp_book(size: f64) -> Vec<MarkedPosition> {
    vec![MarkedPosition { underlying: 0, size: fx(size), marks: None, strike_expiry: None }]
}

fn terms(discount: f64, buffer: f64) -> LiquidationTerms {
    LiquidationTerms {
        discount: fx(discount),
        buffer: fx(buffer),
        buffer_fraction: Fx::ZERO,
        lot: fx(LOT),
        max_lots: i64::MAX,
        quote: QUOTE,
    }
}

#[test]
fn healthy_portfolio_is_not_liquidatable() {
    let u = underlyings();
    let book = perp_book(10.0);
    let balances = balance_for(&book, 5.0, &u);
    let r = liquidation_size(&book, 0, &balances, &quote(), &u, NOW, &PARAMS, terms(0.5, 1.0));
    assert_eq!(r, Err(RiskError::NotLiquidatable));
}

#[test]
fn perp_closed_form_and_liquidator_cap() {
    // A 10-unit perp long: its requirement is linear in size, so the least lots follow from
    // the requirement released per unit against the discount per unit — plus, while the
    // quote balance is a liability (it is: the perp's cost basis), the cash received
    // repays it at the liability weight.
    let u = underlyings();
    let book = perp_book(10.0);
    let balances = balance_for(&book, -20.0, &u);
    assert!(balances[0].amount < Fx::ZERO);
    let per_unit = requirement_of(&book[0], &u).to_num::<f64>() / 10.0;
    let plan = liquidation_size(&book, 0, &balances, &quote(), &u, NOW, &PARAMS, terms(0.5, 5.0)).unwrap();
    let gain = per_unit - 0.5 + (LIABILITY - 1.0) * (100.0 - 0.5);
    let expected = ((25.0 / gain) / LOT).ceil() as i64;
    assert!((plan.lots - expected).abs() <= 1, "{} lots vs {expected} from the closed form", plan.lots);
    assert!(plan.restores_buffer);
    // A liquidator asking for less gets what it asked for (and health still improves).
    let capped = LiquidationTerms { max_lots: 10, ..terms(0.5, 5.0) };
    let small = liquidation_size(&book, 0, &balances, &quote(), &u, NOW, &PARAMS, capped).unwrap();
    assert_eq!(small.lots, 10);
    assert!(!small.restores_buffer && small.health_after > small.health_before);
}

#[test]
fn hedge_leg_is_refused_and_bad_terms_rejected() {
    // Covered call: taking the perp away leaves a naked short call — worse, refused. (Under
    // the single extreme move: the reference tail's −5·P crash with vol up makes the covered
    // call lose more than the naked call, so there the perp is not a pure hedge.)
    let mut u = underlyings();
    for x in &mut u {
        x.market.scenario = xmargin_risk::grid::ScenarioParams::LEGACY;
    }
    let call = xmargin_risk::Position {
        instrument: xmargin_risk::Instrument {
            underlying: 0,
            kind: InstrumentKind::Call,
            strike: fx(100.0),
            expiry: NOW + 30 * 86_400,
        },
        size: fx(-10.0),
        entry_price: Fx::ZERO,
    };
    // Quote liabilities at weight 1, as the program's quote asset.
    let book = vec![perp_book(10.0)[0], marked(&call, &u)];
    let q = quote_with(1.0);
    let without = marked_health(&book, &[], &q, &u, NOW, &PARAMS, Level::Maintenance).unwrap();
    let balances = vec![Balance { collateral: QUOTE, amount: fx(-1.0) - without }];
    let r = liquidation_size(&book, 0, &balances, &q, &u, NOW, &PARAMS, terms(0.05, 1.0));
    assert_eq!(r, Err(RiskError::LiquidationWouldNotImprove));
    // The short call itself is the leg to take.
    assert!(liquidation_size(&book, 1, &balances, &q, &u, NOW, &PARAMS, terms(0.05, 1.0)).is_ok());
    for bad in [terms(-0.1, 1.0), terms(0.1, 0.0), LiquidationTerms { max_lots: 0, ..terms(0.1, 1.0) }] {
        let r = liquidation_size(&book, 1, &balances, &quote(), &u, NOW, &PARAMS, bad);
        assert_eq!(r, Err(RiskError::InvalidLiquidationTerms));
    }
    let r = liquidation_size(&book, 5, &balances, &quote(), &u, NOW, &PARAMS, terms(0.1, 1.0));
    assert_eq!(r, Err(RiskError::NothingToLiquidate));
}

#[test]
fn discount_is_one_rate_capped_for_cheap_options() {
    let d =
        |opt, mark| discount_per_unit(opt, fx(100.0), fx(mark), fx(0.01), fx(0.1)).unwrap().to_num::<f64>();
    assert!((d(false, 100.0) - 1.0).abs() < 1e-9);
    assert!((d(true, 50.0) - 1.0).abs() < 1e-9);
    assert!((d(true, 2.0) - 0.2).abs() < 1e-9, "cheap option: 10% of its value");
}

#[test]
fn buffer_follows_the_requirement() {
    // The buffer is max(floor, fraction × requirement before): a 10% fraction of a large
    // book's requirement wins over a tiny floor, and the plan reaches it.
    let u = underlyings();
    let book = perp_book(10.0);
    let balances = balance_for(&book, -20.0, &u);
    let requirement = requirement_of(&book[0], &u);
    let t = LiquidationTerms { buffer: fx(0.01), buffer_fraction: fx(0.1), ..terms(0.5, 0.01) };
    let plan = liquidation_size(&book, 0, &balances, &quote(), &u, NOW, &PARAMS, t).unwrap();
    assert_eq!(plan.requirement_before, requirement);
    assert_eq!(plan.buffer, requirement * fx(0.1));
    assert!(plan.restores_buffer && plan.health_after >= plan.buffer);
    let floor = LiquidationTerms { buffer: fx(1e6), ..t };
    let plan = liquidation_size(&book, 0, &balances, &quote(), &u, NOW, &PARAMS, floor).unwrap();
    assert_eq!(plan.buffer, fx(1e6));
    assert!(!plan.restores_buffer);
}
