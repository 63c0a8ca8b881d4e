//! A parsed book evaluated: the engine's margin report, the comparison models, the book
//! without links and offsets, optionally the full revaluation, and the report's JSON.
use anyhow::{anyhow, Result};
use serde_json::{json, Value};
use xmargin_risk::collateral::{CollateralMarket, Level};
use xmargin_risk::compare::{compare, Comparison};
use xmargin_risk::fx::Fx;
use xmargin_risk::grid::scenario_table;
use xmargin_risk::links::{balance_weighted_value, linked_exposures};
use xmargin_risk::margin::linked_underlyings;
use xmargin_risk::offsets::OffsetTable;
use xmargin_risk::{full, margin, Instrument, InstrumentKind, MarginReport, Market, Position};

use crate::input::{self, Portfolio};

/// An engine number as the reports print it.
pub fn f(x: Fx) -> f64 {
    x.to_num::<f64>()
}

/// Worst full-revaluation losses per underlying: (initial, maintenance).
pub type FullLosses = (Vec<(u16, f64)>, Vec<(u16, f64)>);

/// The same book with every collateral link removed and no offset groups ("portfolio
/// without offsets"): what the engine charges without those credits.
pub struct Plain {
    pub report: MarginReport,
    pub comparison: Comparison,
}

impl Plain {
    fn of(p: &Portfolio, market: &Market<'_>) -> Result<Plain> {
        let collateral: Vec<CollateralMarket> =
            p.collateral.iter().map(|c| CollateralMarket { link: None, ..*c }).collect();
        let params = p.params.with_offsets(OffsetTable::NONE);
        let report = margin(&p.positions, &p.balances, &collateral, market, &params)
            .map_err(|e| anyhow!("margin computation failed (without offsets): {e}"))?;
        let comparison = compare(&p.positions, market, &params).map_err(|e| anyhow!("{e}"))?;
        Ok(Plain { report, comparison })
    }
}

/// A book and everything computed from it.
pub struct Evaluation {
    pub book: Portfolio,
    pub report: MarginReport,
    pub comparison: Comparison,
    pub plain: Plain,
    pub full: Option<FullLosses>,
}

impl Evaluation {
    /// The market the book was valued in.
    pub fn market(&self) -> Market<'_> {
        Market { now: self.book.now, underlyings: &self.book.underlyings }
    }
}

/// Parses `text` (valuation time `default_now` unless the book gives `now`) and evaluates it;
/// `with_full` adds the host-only full revaluation. Errors name the field.
pub fn evaluate(text: &str, default_now: i64, with_full: bool) -> Result<Evaluation> {
    let book = input::parse(text, default_now)?;
    let market = Market { now: book.now, underlyings: &book.underlyings };
    let report = margin(&book.positions, &book.balances, &book.collateral, &market, &book.params)
        .map_err(|e| anyhow!("margin computation failed: {e}"))?;
    let comparison = compare(&book.positions, &market, &book.params).map_err(|e| anyhow!("{e}"))?;
    let plain = Plain::of(&book, &market)?;
    let full = if with_full {
        let positions = with_linked_exposure(&book, &market)?;
        Some((
            full::worst_losses(&positions, &market, book.params.initial_scale),
            full::worst_losses(&positions, &market, Fx::ONE),
        ))
    } else {
        None
    };
    Ok(Evaluation { book, report, comparison, plain, full })
}

/// The positions plus, for full revaluation, each linked balance as the linear exposure it
/// is in its underlying's grid: a perp of B·ratio units entered at the spot.
fn with_linked_exposure(p: &Portfolio, market: &Market<'_>) -> Result<Vec<Position>> {
    let err = |e: xmargin_risk::RiskError| anyhow!("{e}");
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
pub fn weighted_balances(p: &Portfolio, market: &Market<'_>) -> Result<Vec<(Fx, Fx)>> {
    let err = |e: xmargin_risk::RiskError| anyhow!("{e}");
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

/// An underlying's name by index.
pub fn name(p: &Portfolio, index: u16) -> &str {
    &p.underlying_names[usize::from(index)]
}

/// a / b, none when b is not positive.
pub fn ratio(a: Fx, b: Fx) -> Option<f64> {
    (b > Fx::ZERO).then(|| f(a) / f(b))
}

/// The report as `xmargin risk margin --json` prints it.
pub fn margin_json(e: &Evaluation) -> Result<Value> {
    let (p, r, c, plain) = (&e.book, &e.report, &e.comparison, &e.plain);
    let market = e.market();
    let breakdown = |b: &xmargin_risk::grid::RequirementBreakdown| {
        json!({
            "requirement": f(b.requirement), "grid_loss": f(b.grid_loss),
            "worst_price_shock": f(b.worst_price_shock), "worst_vol_shock": f(b.worst_vol_shock),
            "convexity_addon": f(b.convexity_addon), "tail_loss": f(b.tail_loss),
            "short_option_charge": f(b.short_option_charge), "confidence_addon": f(b.confidence_addon),
            "depeg_addon": f(b.depeg_addon),
        })
    };
    // The maintenance grid is the underlying's scenario; the initial one its shocks scaled by
    // `initial_scale`, as the engine's initial requirement uses them.
    let table = |e: &xmargin_risk::portfolio::NetExposure, scale: Option<Fx>| -> Result<Vec<Value>> {
        let params = match scale {
            Some(s) => e.scenario.scaled(s).map_err(|x| anyhow!("{x}"))?,
            None => e.scenario,
        };
        Ok(scenario_table(e, &params)
            .map_err(|x| anyhow!("{x}"))?
            .iter()
            .map(|s| json!({"price_shock": f(s.price_shock), "vol_shock": f(s.vol_shock), "loss": f(s.loss)}))
            .collect())
    };
    let mut underlyings = Vec::new();
    for u in &r.underlyings {
        let x = &u.exposure;
        let full_of = |list: &Vec<(u16, f64)>| list.iter().find(|(i, _)| *i == x.underlying).map(|(_, l)| *l);
        underlyings.push(json!({
            "name": name(p, x.underlying), "spot": f(x.spot), "conf": f(x.conf),
            "linked_units": f(u.linked_units),
            "net": {"delta": f(x.delta), "gamma": f(x.gamma), "vega": f(x.vega), "vanna": f(x.vanna),
                     "volga": f(x.volga), "value": f(x.value), "net_short_options": f(x.net_short_options)},
            "maintenance": breakdown(&u.maintenance),
            "initial": breakdown(&u.initial),
            "maintenance_grid": table(x, None)?,
            "initial_grid": table(x, Some(p.params.initial_scale))?,
            "full_revaluation": e.full.as_ref().map(|fl| json!({"maintenance": full_of(&fl.1), "initial": full_of(&fl.0)})),
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
    for ((b, m), (wi, wm)) in p.balances.iter().zip(&p.collateral).zip(weighted_balances(p, &market)?) {
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
