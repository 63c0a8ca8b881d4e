//! Shared generators for the risk-engine tests: a deterministic PRNG (no external state,
//! reproducible corpora) and random books around two underlyings.
#![allow(dead_code)]
use xmargin_risk::fx::Fx;
use xmargin_risk::grid::ScenarioParams;
use xmargin_risk::{Instrument, InstrumentKind, Position, UnderlyingMarket};

pub const NOW: i64 = 1_700_000_000;
pub const DAY: i64 = 86_400;

pub fn fx(x: f64) -> Fx {
    Fx::from_num(x)
}

/// xorshift64*: deterministic, good enough to spread test cases.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

pub fn underlying(index: u16, spot: f64, vol: f64, conf: f64) -> UnderlyingMarket {
    UnderlyingMarket {
        index,
        spot: fx(spot),
        conf: fx(conf),
        vol: fx(vol),
        scenario: ScenarioParams::REFERENCE,
    }
}

pub fn perp(underlying: u16, size: f64, entry: f64) -> Position {
    Position {
        instrument: Instrument { underlying, kind: InstrumentKind::Perp, strike: Fx::ZERO, expiry: 0 },
        size: fx(size),
        entry_price: fx(entry),
    }
}

pub fn option(underlying: u16, kind: InstrumentKind, strike: f64, days: f64, size: f64) -> Position {
    Position {
        instrument: Instrument {
            underlying,
            kind,
            strike: fx(strike),
            expiry: NOW + (days * DAY as f64) as i64,
        },
        size: fx(size),
        entry_price: Fx::ZERO,
    }
}

/// A random position on `u` (spot `spot`): perps, calls and puts, strikes 60%..160% of
/// spot, expiries one hour to a year, sizes ±0.1..5 units.
pub fn random_position(rng: &mut Rng, u: u16, spot: f64) -> Position {
    let size = rng.uniform(0.1, 5.0) * if rng.below(2) == 0 { 1.0 } else { -1.0 };
    match rng.below(3) {
        0 => perp(u, size, spot * rng.uniform(0.9, 1.1)),
        k => {
            let kind = if k == 1 { InstrumentKind::Call } else { InstrumentKind::Put };
            let strike = (spot * rng.uniform(0.6, 1.6)).round();
            let days = (rng.uniform(1.0 / 24.0, 365.0) * 24.0).round() / 24.0;
            option(u, kind, strike, days, size)
        }
    }
}

/// BTC (index 0, 60,000, 60% vol) and ETH (1, 3,000, 80% vol): the markets of the
/// property tests.
pub fn two_markets() -> [UnderlyingMarket; 2] {
    [underlying(0, 60_000.0, 0.6, 30.0), underlying(1, 3_000.0, 0.8, 2.0)]
}

/// A random perp, call or put on one of `two_markets`: strikes 60%..160% of spot, expiries an
/// hour to a year, sizes ±0.01..5.
pub fn position_strategy() -> impl proptest::strategy::Strategy<Value = Position> {
    use proptest::strategy::Strategy;
    (0u16..2, 0u8..3, 0.6f64..1.6, 1u32..(365 * 24), -5.0f64..5.0, 0.9f64..1.1).prop_map(
        |(u, kind, moneyness, hours, size, entry)| {
            let spot = if u == 0 { 60_000.0 } else { 3_000.0 };
            let size = if size.abs() < 0.01 { 0.01 } else { size };
            match kind {
                0 => perp(u, size, spot * entry),
                k => {
                    let kind = if k == 1 { InstrumentKind::Call } else { InstrumentKind::Put };
                    option(u, kind, (spot * moneyness).round(), f64::from(hours) / 24.0, size)
                }
            }
        },
    )
}

/// 1 to 7 random positions (`position_strategy`).
pub fn book() -> impl proptest::strategy::Strategy<Value = Vec<Position>> {
    proptest::collection::vec(position_strategy(), 1..8)
}

/// (initial, maintenance) requirements of `positions` at `NOW` under the reference margin
/// parameters, in quote units.
pub fn requirement_pair(positions: &[Position], underlyings: &[UnderlyingMarket]) -> (f64, f64) {
    let market = xmargin_risk::Market { now: NOW, underlyings };
    let (i, m, _) =
        xmargin_risk::margin::requirements(positions, &market, &xmargin_risk::MarginParams::REFERENCE)
            .unwrap();
    (i.to_num(), m.to_num())
}

/// Rounding tolerance: 1e-9 relative plus a micro-unit of quote.
pub fn tol(x: f64) -> f64 {
    1e-9 * x.abs() + 1e-6
}

/// A random tail row: |price multiple| in `multiple`, one way (either sign) or both ways, vol
/// move in `vol`, weight in `weight`.
pub fn tail_row(
    multiple: core::ops::Range<f64>,
    vol: core::ops::Range<f64>,
    weight: core::ops::Range<f64>,
) -> impl proptest::strategy::Strategy<Value = xmargin_risk::scenarios::TailRow> {
    use proptest::prelude::*;
    use xmargin_risk::scenarios::TailRow;
    (multiple, any::<bool>(), vol, weight, any::<bool>()).prop_map(|(m, down, v, w, both)| {
        if both {
            TailRow::both_ways(fx(m), fx(v), fx(w))
        } else {
            TailRow::new(fx(if down { -m } else { m }), fx(v), fx(w))
        }
    })
}

/// One unit of an option at `spot` struck at `moneyness` × spot, `days` to expiry, as the
/// convexity bounds take it (its Greeks and bound terms at the spot); `None` where the engine
/// refuses the inputs.
pub fn unit_option(
    kind: xmargin_risk::bs::OptionKind,
    spot: f64,
    moneyness: f64,
    vol: f64,
    days: f64,
) -> Option<xmargin_risk::portfolio::ShortOption> {
    use xmargin_risk::fx::Checked;
    let spot = Fx::from_num(spot);
    let strike = Fx::from_num(moneyness).mul_c(spot).ok()?;
    let vol = Fx::from_num(vol);
    let t = Fx::from_num(days / 365.0);
    let g = xmargin_risk::bs::greeks(kind, spot, strike, vol, t).ok()?;
    let std_dev = vol.mul_c(xmargin_risk::math::sqrt(t).ok()?).ok()?;
    Some(xmargin_risk::portfolio::ShortOption {
        kind,
        units: Fx::ONE,
        strike,
        price: g.price,
        delta: g.delta,
        gamma: g.gamma,
        std_dev,
        bounds: xmargin_risk::portfolio::BoundTerms::new(kind, spot, strike, g.delta, g.gamma, std_dev)
            .ok()?,
    })
}
