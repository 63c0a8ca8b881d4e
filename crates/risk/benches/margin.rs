//! `margin` on a 32-position, 8-underlying portfolio (4 positions each: a perp, two calls,
//! a put), with two collateral balances. Run: `cargo bench -p xmargin-risk`.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use xmargin_risk::collateral::{Balance, CollateralMarket, HaircutSchedule};
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
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
