//! Full revaluation (host only, f64): every option repriced at every scenario. This is the
//! reference the delta–gamma–vega grid is measured against (tests) and what
//! `xmargin risk margin --full` prints beside it. Not used on-chain.
#![allow(clippy::float_arithmetic, clippy::arithmetic_side_effects)]
use std::vec::Vec;

use crate::fx::{Fx, SECONDS_PER_YEAR};
use crate::grid::{price_shocks, vol_shocks, ScenarioParams};
use crate::portfolio::{InstrumentKind, Market, Position, UnderlyingMarket};

fn f(x: Fx) -> f64 {
    x.to_num::<f64>()
}

pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / core::f64::consts::SQRT_2)
}

pub fn norm_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * core::f64::consts::PI).sqrt()
}

/// f64 Black-Scholes (r = 0): (price, delta, gamma, vega), same conventions as `bs::greeks`.
pub fn bs(call: bool, s: f64, k: f64, vol: f64, t: f64) -> (f64, f64, f64, f64) {
    let sd = vol * t.max(0.0).sqrt();
    if sd < 1e-9 {
        let intrinsic = if call { (s - k).max(0.0) } else { (k - s).max(0.0) };
        let cd = if s > k {
            1.0
        } else if s < k {
            0.0
        } else {
            0.5
        };
        return (intrinsic, if call { cd } else { cd - 1.0 }, 0.0, 0.0);
    }
    let d1 = ((s / k).ln() + 0.5 * sd * sd) / sd;
    let d2 = d1 - sd;
    let c = (s * norm_cdf(d1) - k * norm_cdf(d2)).max(0.0);
    let (price, delta) = if call { (c, norm_cdf(d1)) } else { ((c - s + k).max(0.0), norm_cdf(d1) - 1.0) };
    (price, delta, norm_pdf(d1) / (s * sd), s * norm_pdf(d1) * t.sqrt())
}

/// Value of one position at spot `s` and implied vol `vol` (f64).
pub fn position_value(p: &Position, s: f64, vol: f64, now: i64) -> f64 {
    let size = f(p.size);
    match p.instrument.kind {
        InstrumentKind::Perp => size * (s - f(p.entry_price)),
        kind => {
            let t = (p.instrument.expiry - now).max(0) as f64 / SECONDS_PER_YEAR as f64;
            size * bs(kind == InstrumentKind::Call, s, f(p.instrument.strike), vol.max(0.01), t).0
        }
    }
}

/// Full-revaluation loss of the positions on `u` at a price shock and a vol shock.
pub fn loss_at(
    positions: &[&Position],
    u: &UnderlyingMarket,
    now: i64,
    price_shock: f64,
    vol_shock: f64,
) -> f64 {
    let (s0, v0) = (f(u.spot), f(u.vol));
    positions
        .iter()
        .map(|p| {
            position_value(p, s0, v0, now) - position_value(p, s0 * (1.0 + price_shock), v0 + vol_shock, now)
        })
        .sum()
}

/// Full-revaluation worst loss of one underlying's positions under `params`: the grid
/// points (price × vol), plus each tail row's move at its weight (its end points, both ways
/// for a row both ways). The same scenario set the expansion is evaluated on; add-ons are
/// not part of it. Vol shocks are scaled per position by its expiry (`VolScaling`).
pub fn worst_loss(positions: &[&Position], u: &UnderlyingMarket, now: i64, params: &ScenarioParams) -> f64 {
    let prices: Vec<f64> = price_shocks(params).expect("grid").into_iter().map(f).collect();
    let vols: Vec<f64> = vol_shocks(params).expect("grid").into_iter().map(f).collect();
    let mut worst: f64 = 0.0;
    for &v in &vols {
        for &p in &prices {
            worst = worst.max(loss_at_scaled(positions, u, now, p, v, params));
        }
    }
    for row in params.tail.rows() {
        let end = f(params.tail_move(row).expect("tail move"));
        let ends: &[f64] = if row.both_ways { &[end, -end] } else { &[end] };
        for &p in ends {
            worst =
                worst.max(f(row.weight()) * loss_at_scaled(positions, u, now, p, f(row.vol_move()), params));
        }
    }
    worst
}

/// `loss_at` with each option's vol shock scaled by its expiry scale.
pub fn loss_at_scaled(
    positions: &[&Position],
    u: &UnderlyingMarket,
    now: i64,
    price_shock: f64,
    vol_shock: f64,
    params: &ScenarioParams,
) -> f64 {
    positions
        .iter()
        .map(|p| {
            let scale = match p.instrument.kind {
                InstrumentKind::Perp => 1.0,
                _ => f(params.vol_scaling.scale(p.instrument.expiry.saturating_sub(now)).expect("vol scale")),
            };
            loss_at(&[*p], u, now, price_shock, vol_shock * scale)
        })
        .sum()
}

/// Per-underlying full-revaluation worst loss of a portfolio (`scale` ≥ 1 for initial).
pub fn worst_losses(positions: &[Position], market: &Market<'_>, scale: Fx) -> Vec<(u16, f64)> {
    let mut out = Vec::new();
    for u in market.underlyings {
        let mine: Vec<&Position> = positions.iter().filter(|p| p.instrument.underlying == u.index).collect();
        if mine.is_empty() {
            continue;
        }
        let params = u.scenario.scaled(scale).expect("scaled grid");
        out.push((u.index, worst_loss(&mine, u, market.now, &params)));
    }
    out
}
