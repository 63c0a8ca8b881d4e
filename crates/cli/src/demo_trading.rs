//! The demo's trading part, on the compiled program: two traders on a venue with SOL and BTC.
//! Alice buys a 30-day at-the-money SOL straddle and delta-hedges it with the SOL perp, then
//! puts on a BTC basis trade: short the perp against the synthetic forward of a 60-day
//! at-the-money call bought and put sold. Bob, a market maker, takes the other side of every
//! fill. For each portfolio the demo prints what the program margins (`refresh_health`) and,
//! from the same engine crate, the Greeks per underlying, the maintenance grid, IM/MM, and
//! the isolated / naive-cross / portfolio requirements side by side — computed exactly by the
//! engine, and on-chain (each leg alone in its own portfolio against a third trader, versus
//! the whole book in one).
use anyhow::{anyhow, Result};
use xmargin::state::{instrument_kind, PERP_INSTRUMENT};
use xmargin_risk::compare::{compare, Comparison};
use xmargin_risk::fx::Fx;
use xmargin_risk::margin::{requirements, MarginParams, UnderlyingReport};
use xmargin_risk::portfolio::Market;
use xmargin_sandbox::ix::fx_bits_to_f64;
use xmargin_sandbox::venue::{Trader, Venue, LOT_DECIMALS};
use xmargin_sandbox::TxFailure;

use crate::risk::{f, print_exposure, print_grid};

const SOL: u8 = 0;
const BTC: u8 = 1;
const NAMES: [&str; 2] = ["SOL", "BTC"];
/// Oracle prices, quote native units (6 decimals): SOL 150, BTC 60,000.
const PRICES: [i64; 2] = [150_000_000, 60_000_000_000];
/// Lots per underlying unit.
const LOTS: i64 = 10i64.pow(LOT_DECIMALS as u32);
/// Straddle size (SOL) and basis size (BTC).
const STRADDLE_UNITS: i64 = 50;
const BASIS_UNITS: i64 = 1;

/// One executed fill, from alice's side.
#[derive(Clone, Copy)]
struct Leg {
    underlying: u8,
    instrument: u8,
    lots: i64,
    price: u64,
}

/// What the demo established, for its test: per trader (alice, bob) the engine's comparison
/// and the on-chain initial requirements, portfolio and isolated; alice's SOL delta after the
/// hedge.
pub struct TradingSummary {
    pub books: Vec<(Comparison, OnChain)>,
    pub hedged_delta: f64,
}

/// On-chain initial requirements (USDC) of a book in one portfolio and leg by leg alone.
#[derive(Debug, Clone, Copy)]
pub struct OnChain {
    pub portfolio: f64,
    pub isolated: f64,
}

fn fail(f: TxFailure) -> anyhow::Error {
    anyhow!("{f}")
}

pub fn run() -> Result<TradingSummary> {
    println!("\n=== trading: two portfolios margined on their net risk, on-chain ===");
    let mut v = Venue::new(&PRICES).map_err(|e| anyhow!("{e}"))?;
    println!(
        "venue: SOL at 150 and BTC at 60,000 listed through the timelock, 60% implied vol, a market each"
    );
    let alice = v.trader(100_000_000_000).map_err(fail)?;
    let bob = v.trader(10_000_000_000_000).map_err(fail)?;
    println!("alice deposits 100,000 USDC; bob (market maker) 10,000,000 USDC\n");

    println!("alice builds a delta-hedged SOL straddle (30-day, strike 150):");
    let expiry = v.expiry_in_days(30);
    let strike = PRICES[0] as u64;
    let call = v.list_series(SOL, instrument_kind::CALL, strike, expiry).map_err(fail)?;
    let put = v.list_series(SOL, instrument_kind::PUT, strike, expiry).map_err(fail)?;
    let mut legs = vec![
        fill(&mut v, &alice, &bob, SOL, call, STRADDLE_UNITS * LOTS, "150 call")?,
        fill(&mut v, &alice, &bob, SOL, put, STRADDLE_UNITS * LOTS, "150 put")?,
    ];
    let delta = net_delta(&v, &alice, SOL)?;
    let hedge_lots = -(delta * LOTS as f64).round() as i64;
    println!("  straddle delta {delta:+.3} SOL: hedge with {:+.2} SOL perp", hedge_lots as f64 / LOTS as f64);
    legs.push(fill(&mut v, &alice, &bob, SOL, PERP_INSTRUMENT, hedge_lots, "perp")?);
    let hedged_delta = net_delta(&v, &alice, SOL)?;
    println!("  net delta after the hedge: {hedged_delta:+.4} SOL");

    println!("\nalice puts on a BTC basis: short the perp against a synthetic long forward (60-day, strike 60,000):");
    let expiry = v.expiry_in_days(60);
    let strike = PRICES[1] as u64;
    let call = v.list_series(BTC, instrument_kind::CALL, strike, expiry).map_err(fail)?;
    let put = v.list_series(BTC, instrument_kind::PUT, strike, expiry).map_err(fail)?;
    legs.push(fill(&mut v, &alice, &bob, BTC, PERP_INSTRUMENT, -BASIS_UNITS * LOTS, "perp")?);
    legs.push(fill(&mut v, &alice, &bob, BTC, call, BASIS_UNITS * LOTS, "60,000 call")?);
    legs.push(fill(&mut v, &alice, &bob, BTC, put, -BASIS_UNITS * LOTS, "60,000 put")?);

    // A third trader makes the market for the isolated copies, so alice's and bob's books
    // stay as they are.
    let carol = v.trader(10_000_000_000_000).map_err(fail)?;
    let mut books = Vec::new();
    for (name, trader, side) in [("alice", &alice, 1), ("bob", &bob, -1)] {
        let isolated = isolated_on_chain(&mut v, &legs, side, &carol)?;
        books.push(print_portfolio(&mut v, name, trader, isolated)?);
    }
    println!("capital efficiency (initial requirement, portfolio ÷ model):");
    for (name, (c, on_chain)) in ["alice", "bob"].iter().zip(&books) {
        let r = |m: Fx| f(c.portfolio.requirement) / f(m);
        println!(
            "  {name:<6} engine: portfolio / isolated {:.3}, portfolio / naive cross {:.3};   on-chain: portfolio / isolated {:.3}",
            r(c.isolated.requirement),
            r(c.naive_cross.requirement),
            on_chain.portfolio / on_chain.isolated
        );
    }
    Ok(TradingSummary { books, hedged_delta })
}

/// One fill at the model price (options) or the oracle price (perps), alice the taker.
fn fill(
    v: &mut Venue,
    taker: &Trader,
    maker: &Trader,
    u: u8,
    instrument: u8,
    lots: i64,
    what: &str,
) -> Result<Leg> {
    let price = if instrument == PERP_INSTRUMENT {
        v.tick_price(PRICES[usize::from(u)] as u64)
    } else {
        v.model_price(u, instrument)
    };
    let landed = v.trade(taker, maker, u, instrument, lots, price).map_err(fail)?;
    println!(
        "  trade: alice {} {:.2} {} {what} at {:.2} from bob ({} CU, both portfolios margined)",
        if lots > 0 { "buys" } else { "sells" },
        lots.unsigned_abs() as f64 / LOTS as f64,
        NAMES[usize::from(u)],
        price as f64 / 1e6,
        landed.compute_units
    );
    Ok(Leg { underlying: u, instrument, lots, price })
}

/// The on-chain initial requirement of `legs` (signed by `side`: 1 alice's, −1 bob's) when
/// each is carried alone in its own portfolio, against `maker`.
fn isolated_on_chain(v: &mut Venue, legs: &[Leg], side: i64, maker: &Trader) -> Result<f64> {
    let mut total = 0.0;
    for leg in legs {
        let alone = v.trader(10_000_000_000_000).map_err(fail)?;
        v.trade(&alone, maker, leg.underlying, leg.instrument, side * leg.lots, leg.price).map_err(fail)?;
        total += fx_bits_to_f64(v.health(&alone.portfolio).map_err(fail)?.0.initial_requirement);
    }
    Ok(total)
}

/// The engine on a trader's on-chain positions: its per-underlying reports and the
/// comparison with isolated and naive-cross margin.
fn engine_view(v: &Venue, trader: &Trader) -> Result<(usize, Vec<UnderlyingReport>, Comparison)> {
    let err = |e: xmargin_risk::RiskError| anyhow!("{e}");
    let positions = v.engine_positions(trader);
    let markets = v.engine_markets();
    let market = Market { now: v.sb.now().0, underlyings: &markets };
    let params = MarginParams::REFERENCE;
    let (_, _, reports) = requirements(&positions, &market, &params).map_err(err)?;
    let comparison = compare(&positions, &market, &params).map_err(err)?;
    Ok((positions.len(), reports, comparison))
}

/// A trader's net delta on one underlying, from the engine on the on-chain positions.
fn net_delta(v: &Venue, trader: &Trader, u: u8) -> Result<f64> {
    let (_, reports, _) = engine_view(v, trader)?;
    Ok(reports.iter().find(|r| r.exposure.underlying == u16::from(u)).map_or(0.0, |r| f(r.exposure.delta)))
}

/// Prints a portfolio; returns the engine's comparison and the on-chain requirements.
fn print_portfolio(
    v: &mut Venue,
    name: &str,
    trader: &Trader,
    isolated_on_chain: f64,
) -> Result<(Comparison, OnChain)> {
    let (view, health_cu) = v.health(&trader.portfolio).map_err(fail)?;
    let (count, reports, c) = engine_view(v, trader)?;
    println!("\n--- {name}: {count} positions ---");
    for r in &reports {
        let e = &r.exposure;
        println!("{}  spot {:.2}", NAMES[usize::from(e.underlying)], f(e.spot));
        print_exposure(e);
        print_grid(e, &e.scenario, "maintenance")?;
        println!(
            "  IM {:.2}  MM {:.2}  (worst maintenance cell: price {:+.1}%, vol {:+.1} pts)",
            f(r.initial.requirement),
            f(r.maintenance.requirement),
            f(r.maintenance.worst_price_shock) * 100.0,
            f(r.maintenance.worst_vol_shock) * 100.0
        );
    }
    let on_chain = fx_bits_to_f64(view.initial_requirement);
    println!("  initial requirement (USDC)   engine (exact)   collateral needed   on-chain (marks)");
    let rows = [
        ("isolated", &c.isolated, format!("{isolated_on_chain:>10.2}  (each leg in its own portfolio)")),
        ("naive cross", &c.naive_cross, "    (sum of the legs alone, values pooled)".to_string()),
        (
            "portfolio",
            &c.portfolio,
            format!(
                "{on_chain:>10.2}  (maintenance {:.2}; refresh_health {health_cu} CU)",
                fx_bits_to_f64(view.maintenance_requirement)
            ),
        ),
    ];
    for (label, m, chain) in rows {
        println!("    {label:<24} {:>14.2}   {:>17.2}   {chain}", f(m.requirement), f(m.collateral_needed));
    }
    println!(
        "  equity {:.2}  initial health {:.2}  maintenance health {:.2}\n",
        fx_bits_to_f64(view.equity),
        fx_bits_to_f64(view.initial_health),
        fx_bits_to_f64(view.maintenance_health)
    );
    Ok((c, OnChain { portfolio: on_chain, isolated: isolated_on_chain }))
}
