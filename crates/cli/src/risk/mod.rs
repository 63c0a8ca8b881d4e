//! `xmargin risk`: the risk calculator (the same engine the program runs on-chain).
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use xmargin_risk::bs::{greeks, OptionKind};
use xmargin_risk::collateral::{CollateralMarket, Level};
use xmargin_risk::compare::{compare, Comparison};
use xmargin_risk::fx::{years_from_seconds, Fx};
use xmargin_risk::grid::{price_shocks, scenario_table, vol_shocks, ScenarioParams};
use xmargin_risk::links::{balance_weighted_value, linked_exposures};
use xmargin_risk::margin::{linked_underlyings, UnderlyingReport};
use xmargin_risk::offsets::OffsetTable;
use xmargin_risk::{full, margin, Instrument, InstrumentKind, MarginReport, Market, Position};

pub mod input;

pub(crate) fn f(x: Fx) -> f64 {
    x.to_num::<f64>()
}

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

/// One file's report: printed as text, or returned as JSON.
fn margin_of(path: &Path, as_json: bool, with_full: bool) -> Result<Option<serde_json::Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let p = input::parse(&text, now).with_context(|| format!("in {}", path.display()))?;
    let market = Market { now: p.now, underlyings: &p.underlyings };
    let report = margin(&p.positions, &p.balances, &p.collateral, &market, &p.params)
        .map_err(|e| anyhow::anyhow!("margin computation failed: {e}"))?;
    let comparison = compare(&p.positions, &market, &p.params).map_err(|e| anyhow::anyhow!("{e}"))?;
    let plain = Plain::of(&p, &market)?;
    let full_losses = if with_full {
        let book = with_linked_exposure(&p, &market)?;
        Some((
            full::worst_losses(&book, &market, p.params.initial_scale),
            full::worst_losses(&book, &market, Fx::ONE),
        ))
    } else {
        None
    };
    if as_json {
        return Ok(Some(to_json(&p, &market, &report, &comparison, &plain, full_losses.as_ref())?));
    }
    print_text(&p, &market, &report, &comparison, &plain, full_losses.as_ref())?;
    Ok(None)
}

/// The same book with every collateral link removed and no offset groups ("portfolio
/// without offsets"): what the engine charges without those credits.
pub struct Plain {
    pub report: MarginReport,
    pub comparison: Comparison,
}

impl Plain {
    fn of(p: &input::Portfolio, market: &Market<'_>) -> Result<Plain> {
        let collateral: Vec<CollateralMarket> =
            p.collateral.iter().map(|c| CollateralMarket { link: None, ..*c }).collect();
        let params = p.params.with_offsets(OffsetTable::NONE);
        let report = margin(&p.positions, &p.balances, &collateral, market, &params)
            .map_err(|e| anyhow::anyhow!("margin computation failed (without offsets): {e}"))?;
        let comparison = compare(&p.positions, market, &params).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Plain { report, comparison })
    }
}

/// The positions plus, for full revaluation, each linked balance as the linear exposure it
/// is in its underlying's grid: a perp of B·ratio units entered at the spot.
fn with_linked_exposure(p: &input::Portfolio, market: &Market<'_>) -> Result<Vec<Position>> {
    let err = |e: xmargin_risk::RiskError| anyhow::anyhow!("{e}");
    let mut book = p.positions.clone();
    for (underlying, units) in linked_exposures(&p.balances, &p.collateral).map_err(err)? {
        let u = market.underlying(underlying).map_err(err)?;
        book.push(Position {
            instrument: Instrument { underlying, kind: InstrumentKind::Perp, strike: Fx::ZERO, expiry: 0 },
            size: units,
            entry_price: u.spot,
        });
    }
    Ok(book)
}

/// What a book locks at the initial level: equity − initial health (haircuts plus
/// requirement), the quantity the capital-efficiency targets use.
pub fn locked(r: &MarginReport) -> Fx {
    r.equity.saturating_sub(r.initial_health)
}

/// Weighted value of every balance at both levels (linked ones valued as links).
fn weighted_balances(p: &input::Portfolio, market: &Market<'_>) -> Result<Vec<(Fx, Fx)>> {
    let err = |e: xmargin_risk::RiskError| anyhow::anyhow!("{e}");
    let linked = linked_underlyings(market, &p.params).map_err(err)?;
    p.balances
        .iter()
        .zip(&p.collateral)
        .map(|(b, m)| {
            Ok((
                balance_weighted_value(b, m, &linked, Level::Initial).map_err(err)?,
                balance_weighted_value(b, m, &linked, Level::Maintenance).map_err(err)?,
            ))
        })
        .collect()
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

type FullLosses = (Vec<(u16, f64)>, Vec<(u16, f64)>);

fn name(p: &input::Portfolio, index: u16) -> &str {
    &p.underlying_names[usize::from(index)]
}

fn ratio(a: Fx, b: Fx) -> Option<f64> {
    (b > Fx::ZERO).then(|| f(a) / f(b))
}

fn print_text(
    p: &input::Portfolio,
    market: &Market<'_>,
    r: &MarginReport,
    c: &Comparison,
    plain: &Plain,
    full: Option<&FullLosses>,
) -> Result<()> {
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

fn to_json(
    p: &input::Portfolio,
    market: &Market<'_>,
    r: &MarginReport,
    c: &Comparison,
    plain: &Plain,
    full: Option<&FullLosses>,
) -> Result<Value> {
    let breakdown = |b: &xmargin_risk::grid::RequirementBreakdown| {
        json!({
            "requirement": f(b.requirement), "grid_loss": f(b.grid_loss),
            "worst_price_shock": f(b.worst_price_shock), "worst_vol_shock": f(b.worst_vol_shock),
            "convexity_addon": f(b.convexity_addon), "tail_loss": f(b.tail_loss),
            "short_option_charge": f(b.short_option_charge), "confidence_addon": f(b.confidence_addon),
            "depeg_addon": f(b.depeg_addon),
        })
    };
    let mut underlyings = Vec::new();
    for u in &r.underlyings {
        let e = &u.exposure;
        let grid = scenario_table(e, &e.scenario)
            .map_err(|x| anyhow::anyhow!("{x}"))?
            .iter()
            .map(|s| json!({"price_shock": f(s.price_shock), "vol_shock": f(s.vol_shock), "loss": f(s.loss)}))
            .collect::<Vec<_>>();
        let full_of = |list: &Vec<(u16, f64)>| list.iter().find(|(i, _)| *i == e.underlying).map(|(_, l)| *l);
        underlyings.push(json!({
            "name": name(p, e.underlying), "spot": f(e.spot), "conf": f(e.conf),
            "linked_units": f(u.linked_units),
            "net": {"delta": f(e.delta), "gamma": f(e.gamma), "vega": f(e.vega), "vanna": f(e.vanna),
                     "volga": f(e.volga), "value": f(e.value), "net_short_options": f(e.net_short_options)},
            "maintenance": breakdown(&u.maintenance),
            "initial": breakdown(&u.initial),
            "maintenance_grid": grid,
            "full_revaluation": full.map(|fl| json!({"maintenance": full_of(&fl.1), "initial": full_of(&fl.0)})),
        }));
    }
    let model = |m: &xmargin_risk::compare::ModelRequirement| json!({"requirement": f(m.requirement), "collateral_needed": f(m.collateral_needed)});
    let with_locked = |m: &xmargin_risk::compare::ModelRequirement, report: &MarginReport| {
        let mut v = model(m);
        v["locked"] = json!(f(locked(report)));
        v["health"] =
            json!({"initial": f(report.initial_health), "maintenance": f(report.maintenance_health)});
        v
    };
    let mut collateral = Vec::new();
    for ((b, m), (wi, wm)) in p.balances.iter().zip(&p.collateral).zip(weighted_balances(p, market)?) {
        collateral.push(json!({
            "name": p.collateral_names[usize::from(b.collateral)], "balance": f(b.amount),
            "price": f(m.price), "conf": f(m.conf),
            "weighted": {"initial": f(wi), "maintenance": f(wm)},
            "link": m.link.map(|l| json!({
                "underlying": name(p, l.underlying), "ratio": f(l.ratio),
                "basis_haircut": {"initial": f(l.basis_initial), "maintenance": f(l.basis_maintenance)},
            })),
        }));
    }
    let offsets = p
        .offset_groups
        .iter()
        .map(|(names, credit)| json!({"underlyings": names, "credit": credit}))
        .collect::<Vec<_>>();
    Ok(json!({
        "now": p.now,
        "equity": f(r.equity), "collateral_value": f(r.collateral_value), "positions_value": f(r.positions_value),
        "weighted_collateral": {"initial": f(r.weighted_collateral_initial), "maintenance": f(r.weighted_collateral_maintenance)},
        "requirement": {"initial": f(r.initial_requirement), "maintenance": f(r.maintenance_requirement)},
        "health": {"initial": f(r.initial_health), "maintenance": f(r.maintenance_health)},
        "offset_credit": {"initial": f(r.initial_offset_credit), "maintenance": f(r.maintenance_offset_credit)},
        "offsets": {"source": if p.offsets_default { "reference" } else { "book" }, "groups": offsets},
        "collateral": collateral,
        "underlyings": underlyings,
        "comparison": {
            "portfolio": with_locked(&c.portfolio, r),
            "portfolio_without_offsets": with_locked(&plain.comparison.portfolio, &plain.report),
            "naive_cross": model(&c.naive_cross), "isolated": model(&c.isolated),
            "pm_over_naive_cross": {"requirement": ratio(c.portfolio.requirement, c.naive_cross.requirement),
                                    "collateral_needed": ratio(c.portfolio.collateral_needed, c.naive_cross.collateral_needed)},
            "pm_over_isolated": {"requirement": ratio(c.portfolio.requirement, c.isolated.requirement),
                                 "collateral_needed": ratio(c.portfolio.collateral_needed, c.isolated.collateral_needed)},
            "pm_over_pm_without_offsets": {
                "requirement": ratio(c.portfolio.requirement, plain.comparison.portfolio.requirement),
                "locked": ratio(locked(r), locked(&plain.report)),
            },
        },
    }))
}
