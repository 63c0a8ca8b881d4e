//! `xmargin risk`: the risk calculator (the same engine the program runs on-chain).
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use xmargin_book::input;
use xmargin_book::report::{locked, name, ratio, weighted_balances, Evaluation, FullLosses};
use xmargin_book::{evaluate, margin_json};
use xmargin_risk::bs::{greeks, OptionKind};
use xmargin_risk::collateral::Level;
use xmargin_risk::fx::{years_from_seconds, Fx};
use xmargin_risk::grid::{price_shocks, scenario_table, vol_shocks, ScenarioParams};
use xmargin_risk::margin::UnderlyingReport;

pub(crate) use xmargin_book::report::f;

pub struct GreeksArgs {
    pub kind: String,
    pub spot: f64,
    pub strike: f64,
    pub vol: f64,
    pub expiry_secs: i64,
    pub json: bool,
}

pub fn run_greeks(a: &GreeksArgs) -> Result<()> {
    let kind = match a.kind.as_str() {
        "call" => OptionKind::Call,
        "put" => OptionKind::Put,
        other => bail!("--kind: unknown kind {other:?} (expected \"call\" or \"put\")"),
    };
    if a.spot <= 0.0 {
        bail!("--spot: must be positive, got {}", a.spot);
    }
    if a.strike <= 0.0 {
        bail!("--strike: must be positive, got {}", a.strike);
    }
    if !(0.01..=10.0).contains(&a.vol) {
        bail!("--vol: must be in [0.01, 10] (fraction per √year), got {}", a.vol);
    }
    if a.expiry_secs < 0 {
        bail!("--expiry-secs: must be >= 0, got {}", a.expiry_secs);
    }
    let t = years_from_seconds(a.expiry_secs).map_err(|e| anyhow::anyhow!("--expiry-secs: {e}"))?;
    let g = greeks(
        kind,
        input::fx(a.spot, "--spot")?,
        input::fx(a.strike, "--strike")?,
        input::fx(a.vol, "--vol")?,
        t,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let out = json!({
        "kind": a.kind, "spot": a.spot, "strike": a.strike, "vol": a.vol, "expiry_secs": a.expiry_secs,
        "t_years": f(t), "price": f(g.price), "delta": f(g.delta), "gamma": f(g.gamma),
        "vega": f(g.vega), "vanna": f(g.vanna), "volga": f(g.volga),
    });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{} S={} K={} σ={} T={:.6}y (r = 0)", a.kind, a.spot, a.strike, a.vol, f(t));
        println!("  price  {:>18.8}", f(g.price));
        println!("  delta  {:>18.10}", f(g.delta));
        println!("  gamma  {:>18.12}  per quote unit", f(g.gamma));
        println!("  vega   {:>18.8}  per 1.00 vol (÷100 per vol point)", f(g.vega));
        println!("  vanna  {:>18.10}  Δ per 1.00 vol", f(g.vanna));
        println!("  volga  {:>18.8}  vega per 1.00 vol", f(g.volga));
    }
    Ok(())
}

/// Days to expiry as whole seconds (rounded to the nearest second); a negative, infinite or
/// NaN count, or one beyond what seconds hold, is an error naming the flag.
pub fn days_to_seconds(days: f64) -> Result<i64> {
    if !days.is_finite() || days < 0.0 {
        bail!("--expiry-days: must be a finite number >= 0, got {days}");
    }
    let secs = (days * 86_400.0).round();
    if secs > 1e15 {
        bail!("--expiry-days: {days} days is beyond any listed expiry");
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok(secs as i64)
}

/// Portfolio margin of every file in `paths`, in order: the text reports one after another
/// under each file's name, or JSON — the report itself for one file, an array of `{ "file",
/// "report" }` for several. The first file that fails stops the run, named in the error.
pub fn run_margins(paths: &[PathBuf], as_json: bool, with_full: bool) -> Result<()> {
    let mut reports = Vec::with_capacity(paths.len());
    for (i, path) in paths.iter().enumerate() {
        if !as_json && paths.len() > 1 {
            println!("{}== {} ==", if i > 0 { "\n" } else { "" }, path.display());
        }
        if let Some(v) = margin_of(path, as_json, with_full)? {
            reports.push(json!({ "file": path.display().to_string(), "report": v }));
        }
    }
    if as_json {
        let out = match reports.as_slice() {
            [one] => one["report"].clone(),
            _ => Value::Array(reports),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// One file's report: printed as text, or returned as JSON (the book crate's, which the web
/// page shows too).
fn margin_of(path: &Path, as_json: bool, with_full: bool) -> Result<Option<serde_json::Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let e = evaluate(&text, now, with_full).with_context(|| format!("in {}", path.display()))?;
    if as_json {
        return Ok(Some(margin_json(&e)?));
    }
    print_text(&e)?;
    Ok(None)
}

/// `x` with at most 4 decimals, trailing zeros dropped (0.6, 0.6015).
fn short(x: f64) -> String {
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// "BTC+ETH ρ 0.6, ..." or "none", with where they came from.
fn offsets_label(p: &input::Portfolio) -> String {
    let source = if p.offsets_default { "reference default" } else { "from the book" };
    if p.offset_groups.is_empty() {
        return format!("none ({source})");
    }
    let groups: Vec<String> = p
        .offset_groups
        .iter()
        .map(|(names, credit)| format!("{} ρ {}", names.join("+"), short(*credit)))
        .collect();
    format!("{} ({source})", groups.join(", "))
}

fn print_text(e: &Evaluation) -> Result<()> {
    let (p, r, c, plain, full) = (&e.book, &e.report, &e.comparison, &e.plain, e.full.as_ref());
    let market = &e.market();
    if let Some(d) = &p.description {
        println!("{d}");
    }
    println!("portfolio margin at unix time {}\n", p.now);
    for u in &r.underlyings {
        print_underlying(p, u, full)?;
    }
    if !p.balances.is_empty() {
        println!("collateral");
        for ((b, m), (wi, wm)) in p.balances.iter().zip(&p.collateral).zip(weighted_balances(p, market)?) {
            println!(
                "  {:<8} balance {:>16.6} × {:>12.4} ± {:<8.4} = {:>16.2}   weighted initial {:>16.2}  maintenance {:>16.2}",
                p.collateral_names[usize::from(b.collateral)],
                f(b.amount),
                f(m.price),
                f(m.conf),
                f(b.amount) * f(m.price),
                f(wi),
                f(wm),
            );
            if let Some(link) = &m.link {
                let w = |lvl| xmargin_risk::collateral::weighted_value(b.amount, m, lvl).map(f);
                println!(
                    "           linked to {} (ratio {} underlying units per token; basis haircut initial {:.2}%, maintenance {:.2}%); \
                     standalone weighted initial {:.2}, maintenance {:.2}",
                    name(p, link.underlying),
                    f(link.ratio),
                    f(link.basis_initial) * 100.0,
                    f(link.basis_maintenance) * 100.0,
                    w(Level::Initial).map_err(|e| anyhow::anyhow!("{e}"))?,
                    w(Level::Maintenance).map_err(|e| anyhow::anyhow!("{e}"))?,
                );
            }
        }
        println!();
    }
    println!("totals (quote units)");
    println!(
        "  equity                 {:>16.2}   (collateral {:.2} + positions {:.2})",
        f(r.equity),
        f(r.collateral_value),
        f(r.positions_value)
    );
    println!(
        "  requirement            initial {:>14.2}   maintenance {:>14.2}",
        f(r.initial_requirement),
        f(r.maintenance_requirement)
    );
    println!(
        "  weighted collateral    initial {:>14.2}   maintenance {:>14.2}",
        f(r.weighted_collateral_initial),
        f(r.weighted_collateral_maintenance)
    );
    println!(
        "  offset credit          initial {:>14.2}   maintenance {:>14.2}   offsets: {}",
        f(r.initial_offset_credit),
        f(r.maintenance_offset_credit),
        offsets_label(p)
    );
    println!(
        "  health                 initial {:>14.2}   maintenance {:>14.2}",
        f(r.initial_health),
        f(r.maintenance_health)
    );
    println!();
    println!("capital efficiency (initial level, same grid)");
    println!(
        "  {:<34} {:>16}   {:>16}   {:>16}",
        "", "requirement", "collateral needed", "locked (equity − initial health)"
    );
    let row = |label: &str, m: &xmargin_risk::compare::ModelRequirement, locked: Option<Fx>| {
        let locked = locked.map_or(String::new(), |l| format!("   {:>16.2}", f(l)));
        println!("  {label:<34} {:>16.2}   {:>16.2}{locked}", f(m.requirement), f(m.collateral_needed));
    };
    row("portfolio margin (netted)", &c.portfolio, Some(locked(r)));
    row("portfolio without offsets", &plain.comparison.portfolio, Some(locked(&plain.report)));
    row("naive cross (no netting)", &c.naive_cross, None);
    row("isolated (per position)", &c.isolated, None);
    println!(
        "  (requirement, collateral needed: the positions, offset groups applied; locked: the whole book,"
    );
    println!("   linked collateral included; without offsets: no collateral links and no offset groups)");
    let fmt = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.3}"));
    println!(
        "  PM / naive cross: requirement {}, collateral needed {}",
        fmt(ratio(c.portfolio.requirement, c.naive_cross.requirement)),
        fmt(ratio(c.portfolio.collateral_needed, c.naive_cross.collateral_needed))
    );
    println!(
        "  PM / isolated:    requirement {}, collateral needed {}",
        fmt(ratio(c.portfolio.requirement, c.isolated.requirement)),
        fmt(ratio(c.portfolio.collateral_needed, c.isolated.collateral_needed))
    );
    println!(
        "  PM / PM without offsets: requirement {}, locked {}",
        fmt(ratio(c.portfolio.requirement, plain.comparison.portfolio.requirement)),
        fmt(ratio(locked(r), locked(&plain.report)))
    );
    Ok(())
}

fn print_underlying(p: &input::Portfolio, u: &UnderlyingReport, full: Option<&FullLosses>) -> Result<()> {
    let e = &u.exposure;
    let market = p.underlyings.iter().find(|m| m.index == e.underlying).context("underlying")?;
    println!(
        "{}  spot {:.4} ± {:.4}  implied vol {:.1}%",
        name(p, e.underlying),
        f(e.spot),
        f(e.conf),
        f(market.vol) * 100.0
    );
    print_exposure(e);
    if u.linked_units != Fx::ZERO {
        println!("  linked collateral {:.6} units (included in the net delta)", f(u.linked_units));
    }
    print_grid(e, &e.scenario, "maintenance")?;
    let full_of = |list: &Vec<(u16, f64)>| list.iter().find(|(i, _)| *i == e.underlying).map(|(_, l)| *l);
    for (label, b, full_loss) in [
        ("maintenance", &u.maintenance, full.and_then(|f| full_of(&f.1))),
        ("initial", &u.initial, full.and_then(|f| full_of(&f.0))),
    ] {
        println!(
            "  {label:<11} requirement {:>14.2} = max(grid {:.2} [worst at price {:+.2}%, vol {:+.1} pts; incl. convexity add-on {:.2}], tail {:.2}, short-option min {:.2}) + confidence {:.2} + depeg {:.2}",
            f(b.requirement),
            f(b.grid_loss),
            f(b.worst_price_shock) * 100.0,
            f(b.worst_vol_shock) * 100.0,
            f(b.convexity_addon),
            f(b.tail_loss),
            f(b.short_option_charge),
            f(b.confidence_addon),
            f(b.depeg_addon)
        );
        if let Some(loss) = full_loss {
            let covered = f(b.requirement) + 1e-6 >= loss;
            println!(
                "  {label:<11} full revaluation worst loss {loss:>14.2}  ({})",
                if covered { "covered by the requirement" } else { "NOT covered by the requirement" }
            );
        }
    }
    println!();
    Ok(())
}

/// The netted Greeks and value of one underlying, one line.
pub(crate) fn print_exposure(e: &xmargin_risk::portfolio::NetExposure) {
    println!(
        "  net delta {:.6}  gamma {:.3e}  vega {:.4}  vanna {:.4}  volga {:.4}  value {:.2}",
        f(e.delta),
        f(e.gamma),
        f(e.vega),
        f(e.vanna),
        f(e.volga),
        f(e.value)
    );
}

pub(crate) fn print_grid(
    e: &xmargin_risk::portfolio::NetExposure,
    params: &ScenarioParams,
    label: &str,
) -> Result<()> {
    let err = |x: xmargin_risk::RiskError| anyhow::anyhow!("{x}");
    let prices = price_shocks(params).map_err(err)?;
    let table = scenario_table(e, params).map_err(err)?;
    println!("  {label} grid: loss by price shock (columns) and vol shock (rows), quote units");
    print!("  {:>9}", "vol \\ px");
    for p in &prices {
        print!(" {:>10}", format!("{:+.1}%", f(*p) * 100.0));
    }
    println!();
    for (row, v) in vol_shocks(params).map_err(err)?.iter().enumerate() {
        print!("  {:>9}", format!("{:+.1}", f(*v) * 100.0));
        for cell in &table[row * prices.len()..(row + 1) * prices.len()] {
            print!(" {:>10.2}", f(cell.loss));
        }
        println!();
    }
    Ok(())
}
