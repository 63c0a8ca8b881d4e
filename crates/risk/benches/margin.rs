//! `margin` on a 32-position, 8-underlying portfolio (4 positions each: a perp, two calls,
//! a put), with two collateral balances. Run: `cargo bench -p xmargin-risk`.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use xmargin_risk::collateral::{Balance, CollateralMarket, HaircutSchedule};
use xmargin_risk::grid::ScenarioParams;
use xmargin_risk::{
    margin, Fx, Instrument, InstrumentKind, MarginParams, Market, Position, UnderlyingMarket,
};

const NOW: i64 = 1_735_689_600;

fn book() -> (Vec<UnderlyingMarket>, Vec<Position>) {
    let mut underlyings = Vec::new();
    let mut positions = Vec::new();
    for u in 0..8u16 {
        let spot = 100 * (i64::from(u) + 1) * (i64::from(u) + 3);
        let s = Fx::from_num(spot);
        underlyings.push(UnderlyingMarket {
            index: u,
            spot: s,
            conf: s / 1000,
            vol: Fx::from_num(0.4) + Fx::from_num(u) / 20,
            scenario: ScenarioParams::REFERENCE,
        });
        let leg = |kind, strike_pct: i64, days: i64, size: f64| Position {
            instrument: Instrument {
                underlying: u,
                kind,
                strike: s * Fx::from_num(strike_pct) / 100,
                expiry: NOW + days * 86_400,
            },
            size: Fx::from_num(size),
            entry_price: if kind == InstrumentKind::Perp { s } else { Fx::ZERO },
        };
        positions.push(leg(InstrumentKind::Perp, 0, 0, -0.5));
        positions.push(leg(InstrumentKind::Call, 100, 30, 1.0));
        positions.push(leg(InstrumentKind::Call, 120, 60, -2.0));
        positions.push(leg(InstrumentKind::Put, 90, 14, 1.5));
    }
    (underlyings, positions)
}

fn bench(c: &mut Criterion) {
    let (underlyings, positions) = book();
    let one = Fx::ONE;
    let collateral = [
        CollateralMarket {
            index: 0,
            price: one,
            conf: Fx::ZERO,
            schedule: HaircutSchedule::flat(one, one, one, one),
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
