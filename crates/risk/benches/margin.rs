//! `margin` on a 32-position, 8-underlying portfolio (4 positions each: a perp, two calls,
//! a put), with two collateral balances: the full engine (`margin`, Black-Scholes per option)
//! and the marked path the program and an off-chain scanner run (`marked_margin`, from marks
//! computed once, as the crank stores them). Run: `cargo bench -p xmargin-risk`.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use xmargin_risk::bs::OptionKind;
use xmargin_risk::collateral::{Balance, CollateralMarket, HaircutSchedule};
use xmargin_risk::marks::{compute_marks, marked_margin, MarkedPosition, MarkedUnderlying, MarksPolicy};
use xmargin_risk::portfolio::InstrumentKind;
use xmargin_risk::reference::{book, NOW};
use xmargin_risk::{margin, Fx, MarginParams, Market};

fn bench(c: &mut Criterion) {
    let (underlyings, positions) = book().unwrap();
    let one = Fx::ONE;
    let collateral = [
        CollateralMarket {
            index: 0,
            price: one,
            conf: Fx::ZERO,
            schedule: HaircutSchedule::flat(one, one, one, one),
            link: None,
        },
        CollateralMarket {
            index: 1,
            price: Fx::from_num(150),
            conf: Fx::from_num(0.1),
            schedule: HaircutSchedule::flat(
                Fx::from_num(0.8),
                Fx::from_num(0.9),
                Fx::from_num(1.2),
                Fx::from_num(1.1),
            ),
            link: None,
        },
    ];
    let balances = [
        Balance { collateral: 0, amount: Fx::from_num(250_000) },
        Balance { collateral: 1, amount: Fx::from_num(-100) },
    ];
    let market = Market { now: NOW, underlyings: &underlyings };
    assert_eq!(positions.len(), 32);
    c.bench_function("margin: 32 positions, 8 underlyings, 2 collateral", |b| {
        b.iter(|| {
            margin(black_box(&positions), &balances, &collateral, &market, &MarginParams::REFERENCE).unwrap()
        })
    });
    // The marked path: marks of every series computed once at the current spot (one hour's
    // age and 3% drift allowed), then health from them, both levels.
    let policy = MarksPolicy::new(Fx::from_num(0.03), 3_600);
    let marked_underlyings: Vec<MarkedUnderlying> =
        underlyings.iter().map(|u| MarkedUnderlying::new(*u, policy)).collect();
    let params = MarginParams::REFERENCE;
    let marked: Vec<MarkedPosition> = positions
        .iter()
        .map(|p| {
            let i = p.instrument;
            let kind = match i.kind {
                InstrumentKind::Perp => return MarkedPosition::perp(i.underlying, p.size),
                InstrumentKind::Call => OptionKind::Call,
                InstrumentKind::Put => OptionKind::Put,
            };
            let u = &underlyings[usize::from(i.underlying)];
            let marks = compute_marks(kind, i.strike, i.expiry, u, NOW, &params, &policy).unwrap();
            MarkedPosition {
                underlying: i.underlying,
                size: p.size,
                marks: Some(marks),
                strike_expiry: Some((i.strike, i.expiry)),
            }
        })
        .collect();
    c.bench_function("marked_margin: 32 positions, 8 underlyings, 2 collateral", |b| {
        b.iter(|| {
            marked_margin(black_box(&marked), &balances, &collateral, &marked_underlyings, NOW, &params)
                .unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
