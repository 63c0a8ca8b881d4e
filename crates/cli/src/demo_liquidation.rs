//! The demo's liquidation part, on the compiled program: carol holds a 10 SOL perp long on
//! thin margin; SOL crashes hour by hour (a built-in deterministic path, or a real window of
//! ../shared/data/prices rescaled to start at 150). Whenever carol's maintenance health (the
//! program's `refresh_health`) is negative, a liquidator takes over part of her position
//! with `liquidate_positions` — at most `LOTS_PER_CALL` per call, the appetite of one
//! liquidator transaction — and the demo prints each step: what was taken and at what price,
//! her health against the buffer, the discount and its split, the insurance fund. If she is
//! left with a deficit and no positions, `resolve_bankruptcy` closes it. The TypeScript
//! liquidator bot (app/src/liquidator.ts) runs the same situation in tests/liquidator.test.ts.
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use xmargin::events::{BankruptcyResolved, PositionsLiquidated};
use xmargin::state::PERP_INSTRUMENT;
use xmargin_sandbox::ix::fx_bits_to_f64;
use xmargin_sandbox::venue::Venue;
use xmargin_sandbox::{events, TxFailure};

use crate::backtest::data;

/// SOL at 150 when carol opens.
const START: f64 = 150.0;
/// The built-in path: hourly SOL closes of a crash (−2% to −4% an hour, then a bounce).
const BUILT_IN: [f64; 10] = [150.0, 146.0, 141.0, 135.5, 130.0, 126.0, 122.0, 118.5, 116.0, 119.0];
/// Lots (0.01 SOL) one liquidation call takes at most.
const LOTS_PER_CALL: u64 = 300;
/// Carol's book: 10 SOL long, 400 USDC.
const CAROL_LOTS: i64 = 1_000;
const CAROL_USDC: u64 = 400_000_000;

/// Where the crash path comes from.
pub struct CrashArgs {
    /// `YYYY-MM-DD..YYYY-MM-DD`: replay SOL's hourly closes of this window (rescaled).
    pub window: Option<String>,
    /// Directory of the price files.
    pub data: PathBuf,
}

/// What the liquidation part did (for the tests).
#[derive(Debug, Clone, Default)]
pub struct LiquidationSummary {
    pub calls: usize,
    pub lots_taken: i64,
    /// Maintenance health after each call, and the buffer it was sized for (quote units).
    pub health_after: Vec<f64>,
    pub buffers: Vec<f64>,
    pub restored: Vec<bool>,
    pub liquidator_fees: u64,
    pub insurance_fees: u64,
    pub insurance_fund: u64,
    pub bankruptcies: usize,
}

/// The hourly path, rescaled so that it starts at `START`.
fn path(args: &CrashArgs) -> Result<(String, Vec<f64>)> {
    let Some(window) = &args.window else {
        return Ok(("built-in crash path".into(), BUILT_IN.to_vec()));
    };
    let (a, b) =
        window.split_once("..").with_context(|| format!("--crash-window {window:?}: expected START..END"))?;
    let (start, end) = (data::parse_time(a)?, data::parse_time(b)? + 86_400);
    let files = ["sol_usd_1h.csv", "sol_usd_1h_spot.csv"].map(|f| args.data.join(f));
    if !files.iter().any(|f| f.exists()) {
        bail!(
            "no SOL hourly prices under {} (expected sol_usd_1h.csv from ../shared/data/prices); run `make demo` without --crash-window for the built-in path",
            args.data.display()
        );
    }
    for file in files.iter().filter(|f| f.exists()) {
        let bars = data::load(Path::new(file))?;
        let closes: Vec<f64> =
            bars.iter().filter(|b| b.time >= start && b.time < end).map(|b| b.close).collect();
        if let Some(first) = closes.first().copied() {
            let label = format!("SOL {window} from {} (rescaled to start at {START})", file.display());
            return Ok((label, closes.iter().map(|c| START * c / first).collect()));
        }
    }
    bail!("no SOL hourly bar in {window} in {}", args.data.display())
}

fn fail(f: TxFailure) -> anyhow::Error {
    anyhow!("{f}")
}

fn usdc(native: u64) -> f64 {
    native as f64 / 1e6
}

pub fn run(args: &CrashArgs) -> Result<LiquidationSummary> {
    let (label, prices) = path(args)?;
    println!("\n== Liquidation: a crash drives carol's 10 SOL perp long underwater ({label}) ==");
    let mut v = Venue::new(&[150_000_000]).map_err(|e| anyhow!("{e}"))?;
    let carol = v.trader(CAROL_USDC).map_err(fail)?;
    let dealer = v.trader(100_000_000_000).map_err(fail)?;
    let liquidator = v.trader(100_000_000_000).map_err(fail)?;
    v.trade_perp_at_oracle(&carol, &dealer, 0, CAROL_LOTS).map_err(fail)?;
    let params = v.sb.exchange().ok_or_else(|| anyhow!("no exchange"))?.liquidation;
    println!(
        "carol: 10 SOL long at 150 with {} USDC; liquidation: {}% discount, {}% of it to insurance, buffer {}% of maintenance margin; at most {} SOL per call",
        usdc(CAROL_USDC),
        params.discount_bps as f64 / 100.0,
        params.insurance_share_bps as f64 / 100.0,
        params.buffer_bps as f64 / 100.0,
        LOTS_PER_CALL as f64 / 100.0
    );
    let mut s = LiquidationSummary::default();
    for (hour, price) in prices.iter().enumerate() {
        if hour > 0 {
            v.warp(3600);
        }
        v.set_price(0, (price * 1e6).round() as i64);
        let view = v.health(&carol.portfolio).map_err(fail)?.0;
        println!(
            "hour {hour:>2}  SOL {price:>8.2}  carol maintenance health {:>9.2}",
            fx_bits_to_f64(view.maintenance_health)
        );
        for _ in 0..10 {
            let p = v.portfolio(&carol);
            if p.active_positions().next().is_none() {
                break;
            }
            if fx_bits_to_f64(v.health(&carol.portfolio).map_err(fail)?.0.maintenance_health) >= 0.0 {
                break;
            }
            let landed = v
                .liquidate_positions(&liquidator, &carol.portfolio, 0, PERP_INSTRUMENT, LOTS_PER_CALL)
                .map_err(fail)?;
            let e = events::<PositionsLiquidated>(&landed.logs)
                .pop()
                .ok_or_else(|| anyhow!("liquidate_positions emitted no event"))?;
            let taken = e.target_size_before - e.target_size_after;
            s.calls += 1;
            s.lots_taken += taken;
            s.liquidator_fees += e.liquidator_fee;
            s.insurance_fees += e.insurance_fee;
            // A keeper moves the fees accrued in the market to the insurance vault.
            v.sweep_all_fees().map_err(fail)?;
            let (after, buffer) = (fx_bits_to_f64(e.health_after), fx_bits_to_f64(e.buffer));
            s.health_after.push(after);
            s.buffers.push(buffer);
            s.restored.push(e.restores_buffer);
            println!(
                "          liquidation {}: {:.2} SOL at {:.2} (mark {:.2}); health {:.2} -> {:.2} (buffer {:.2}{}); discount {:.2} USDC: {:.2} liquidator, {:.2} insurance; fund {:.2} USDC; {} CU",
                s.calls,
                taken as f64 / 100.0,
                usdc(e.transfer_price),
                usdc(e.mark_price),
                fx_bits_to_f64(e.health_before),
                after,
                buffer,
                if e.restores_buffer { ", restored" } else { ", not yet" },
                usdc(e.discount),
                usdc(e.liquidator_fee),
                usdc(e.insurance_fee),
                usdc(v.vault_balances().1),
                landed.compute_units
            );
        }
        let p = v.portfolio(&carol);
        let quote = p.balance(0).map_or(0, |b| b.amount);
        if p.active_positions().next().is_none() && quote < 0 {
            let ix = v.resolve_bankruptcy_ix(&carol.portfolio);
            let landed = v.sb.send(&[ix], &[]).map_err(fail)?;
            let e = events::<BankruptcyResolved>(&landed.logs).pop().ok_or_else(|| anyhow!("no event"))?;
            s.bankruptcies += 1;
            println!(
                "          bankruptcy: deficit {:.2} USDC, insurance paid {:.2}, socialized {:.2}",
                usdc(e.deficit),
                usdc(e.insurance_paid),
                usdc(e.socialized)
            );
        }
    }
    s.insurance_fund = v.vault_balances().1;
    let left = v.portfolio(&carol).positions.iter().filter(|p| p.active == 1).map(|p| p.size).sum::<i64>();
    println!(
        "after the crash: {} liquidation calls took {:.2} SOL of 10; carol keeps {:.2} SOL; liquidator earned {:.2} USDC, insurance {:.2} USDC (fund now {:.2} USDC, trading fees included); bankruptcies: {}",
        s.calls,
        s.lots_taken as f64 / 100.0,
        left as f64 / 100.0,
        usdc(s.liquidator_fees),
        usdc(s.insurance_fees),
        usdc(s.insurance_fund),
        s.bankruptcies
    );
    Ok(s)
}
