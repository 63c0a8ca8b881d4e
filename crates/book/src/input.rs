//! The JSON input of `xmargin risk margin` (schema in docs/risk-model.md), parsed into engine
//! types. Every semantic error names the offending field, e.g. `positions[2].kind`.
use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use serde_json::Value;
use xmargin_risk::collateral::{Balance, CollateralLink, CollateralMarket, HaircutSchedule, Tier, MAX_TIERS};
use xmargin_risk::depeg::QuotePeg;
use xmargin_risk::grid::ScenarioParams;
use xmargin_risk::offsets::{OffsetGroup, OffsetTable, MAX_GROUPS, MAX_GROUP_MEMBERS};
use xmargin_risk::reference;
use xmargin_risk::scenarios::{TailRow, TailTable, VolScaling, MAX_TAIL_ROWS};
use xmargin_risk::{Fx, Instrument, InstrumentKind, MarginParams, Position, UnderlyingMarket};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioFile {
    /// Free text describing the portfolio (ignored by the engine).
    #[serde(default)]
    pub description: Option<String>,
    /// Valuation time, unix seconds (default: now).
    pub now: Option<i64>,
    pub underlyings: Vec<UnderlyingIn>,
    #[serde(default)]
    pub collateral: Vec<CollateralIn>,
    #[serde(default)]
    pub positions: Vec<PositionIn>,
    pub margin: Option<MarginIn>,
    /// Correlation offset groups; absent: the reference groups whose underlyings are all in
    /// the book; `[]`: none.
    pub offsets: Option<Vec<OffsetIn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffsetIn {
    pub underlyings: Vec<String>,
    pub credit: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnderlyingIn {
    pub name: String,
    pub price: Option<f64>,
    #[serde(default)]
    pub conf: f64,
    pub vol: Option<f64>,
    pub grid: Option<GridIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridIn {
    pub max_price_shock: f64,
    pub price_steps: u8,
    pub vol_shock_up: f64,
    pub vol_shock_down: f64,
    pub short_option_charge: f64,
    /// Tail rows (default: the reference table).
    pub tail: Option<Vec<TailRowIn>>,
    /// Expiry scaling of the vol shocks (default: the reference scaling).
    pub vol_scaling: Option<VolScalingIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TailRowIn {
    /// Signed multiple of max_price_shock (positive with both_ways).
    pub price_multiple: f64,
    #[serde(default)]
    pub vol_move: f64,
    pub weight: f64,
    #[serde(default)]
    pub both_ways: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolScalingIn {
    pub reference_days: f64,
    pub floor_days: f64,
    pub exponent: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteIn {
    /// The quote asset's USD price (1 = at par).
    pub price: f64,
    /// Depeg threshold and factor (default: the reference, 0.99 and 2).
    pub threshold: Option<f64>,
    pub factor: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollateralIn {
    pub name: String,
    pub price: Option<f64>,
    #[serde(default)]
    pub conf: f64,
    pub balance: f64,
    pub haircut: HaircutIn,
    /// Links the asset to this underlying (its balance nets against that underlying's
    /// derivatives).
    pub underlying: Option<String>,
    /// Underlying units per token of a linked asset (default 1).
    pub ratio: Option<f64>,
    /// Basis/liquidity haircut of a linked asset: a number for both levels or
    /// `{ "initial": x, "maintenance": y }` (default `reference::LINK_BASIS_HAIRCUT`).
    pub basis_haircut: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaircutIn {
    pub initial_asset_weight: f64,
    pub maintenance_asset_weight: f64,
    pub initial_liability_weight: f64,
    pub maintenance_liability_weight: f64,
    #[serde(default)]
    pub tiers: Vec<TierIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierIn {
    pub above: f64,
    pub initial_weight: f64,
    pub maintenance_weight: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionIn {
    pub underlying: String,
    pub kind: String,
    pub size: f64,
    pub strike: Option<f64>,
    /// Expiry as unix seconds, or ...
    pub expiry: Option<i64>,
    /// ... as days from `now` (fractional allowed).
    pub expiry_days: Option<f64>,
    pub entry_price: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarginIn {
    #[serde(default = "reference_initial_scale")]
    pub initial_scale: f64,
    /// The quote's USD price and depeg contingency (default: at par, no add-on).
    pub quote: Option<QuoteIn>,
}

fn reference_initial_scale() -> f64 {
    MarginParams::REFERENCE.initial_scale.to_num()
}

/// The parsed, validated portfolio.
pub struct Portfolio {
    pub description: Option<String>,
    pub now: i64,
    pub underlying_names: Vec<String>,
    pub collateral_names: Vec<String>,
    /// Offset groups by underlying names with their credit, as in `params.offsets`.
    pub offset_groups: Vec<(Vec<String>, f64)>,
    /// Whether `offset_groups` are the reference default (no `offsets` in the file).
    pub offsets_default: bool,
    pub underlyings: Vec<UnderlyingMarket>,
    pub collateral: Vec<CollateralMarket>,
    pub balances: Vec<Balance>,
    pub positions: Vec<Position>,
    pub params: MarginParams,
}

/// The tail table of a grid's `tail` rows, each checked with its index in the message.
fn tail_table(rows: &[TailRowIn], field: &str) -> Result<TailTable> {
    if rows.len() > MAX_TAIL_ROWS {
        bail!("{field}: at most {MAX_TAIL_ROWS} rows, got {}", rows.len());
    }
    let mut table = Vec::with_capacity(rows.len());
    for (k, r) in rows.iter().enumerate() {
        let bad = || {
            anyhow!(
                "{field}[{k}]: need 0 < |price_multiple| <= 25 (positive with both_ways), |vol_move| <= 3, weight in (0, 1]"
            )
        };
        let row = TailRow::checked(
            fx(r.price_multiple, &format!("{field}[{k}].price_multiple"))?,
            fx(r.vol_move, &format!("{field}[{k}].vol_move"))?,
            fx(r.weight, &format!("{field}[{k}].weight"))?,
            r.both_ways,
        )
        .map_err(|_| bad())?;
        TailTable::new(&[row]).map_err(|_| {
            anyhow!(
                "{field}[{k}]: need 0 < |price_multiple| <= 25 (positive with both_ways), |vol_move| <= 3, weight in (0, 1]"
            )
        })?;
        table.push(row);
    }
    TailTable::new(&table).map_err(|e| anyhow!("{field}: {e}"))
}

pub fn fx(value: f64, field: &str) -> Result<Fx> {
    if !value.is_finite() {
        bail!("{field}: must be a finite number, got {value}");
    }
    Fx::checked_from_num(value).ok_or_else(|| anyhow!("{field}: {value} is out of range"))
}

pub fn parse(text: &str, default_now: i64) -> Result<Portfolio> {
    let file: PortfolioFile = serde_json::from_str(text).context("malformed portfolio JSON")?;
    let now = file.now.unwrap_or(default_now);
    let mut underlyings = Vec::new();
    let mut underlying_names = Vec::new();
    for (i, u) in file.underlyings.iter().enumerate() {
        let f = |name: &str| format!("underlyings[{i}].{name}");
        if underlying_names.contains(&u.name) {
            bail!("{}: duplicate underlying {:?}", f("name"), u.name);
        }
        let price = u.price.ok_or_else(|| anyhow!("{}: missing price", f("price")))?;
        if price <= 0.0 {
            bail!("{}: must be positive, got {price}", f("price"));
        }
        if u.conf < 0.0 || u.conf >= price {
            bail!("{}: must be in [0, price), got {}", f("conf"), u.conf);
        }
        let vol = u.vol.ok_or_else(|| anyhow!("{}: missing implied volatility", f("vol")))?;
        if !(0.01..=10.0).contains(&vol) {
            bail!("{}: must be in [0.01, 10] (fraction per √year), got {vol}", f("vol"));
        }
        let scenario = match &u.grid {
            None => ScenarioParams::REFERENCE,
            Some(g) => ScenarioParams {
                max_price_shock: fx(g.max_price_shock, &f("grid.max_price_shock"))?,
                price_steps: g.price_steps,
                vol_shock_up: fx(g.vol_shock_up, &f("grid.vol_shock_up"))?,
                vol_shock_down: fx(g.vol_shock_down, &f("grid.vol_shock_down"))?,
                tail: match &g.tail {
                    None => ScenarioParams::REFERENCE.tail,
                    Some(rows) => tail_table(rows, &f("grid.tail"))?,
                },
                short_option_charge: fx(g.short_option_charge, &f("grid.short_option_charge"))?,
                vol_scaling: match &g.vol_scaling {
                    None => ScenarioParams::REFERENCE.vol_scaling,
                    Some(v) => VolScaling::new(
                        fx(v.reference_days, &f("grid.vol_scaling.reference_days"))?,
                        fx(v.floor_days, &f("grid.vol_scaling.floor_days"))?,
                        fx(v.exponent, &f("grid.vol_scaling.exponent"))?,
                    )
                    .map_err(|_| {
                        anyhow!(
                            "{}: need 0 < floor_days <= reference_days <= 3650 and exponent in [0, 1]",
                            f("grid.vol_scaling")
                        )
                    })?,
                },
                quote_depeg_charge: Fx::ZERO,
            },
        };
        scenario.validate().map_err(|_| {
            anyhow!(
                "{}: invalid grid (need 0 < max_price_shock < 1, price_steps >= 3, shocks >= 0, \
                 short_option_charge in [0, 1], vol_scaling with 0 < floor_days <= reference_days <= 3650 \
                 and exponent in [0, 1])",
                f("grid")
            )
        })?;
        let index = u16::try_from(i).context("too many underlyings")?;
        underlyings.push(UnderlyingMarket {
            index,
            spot: fx(price, &f("price"))?,
            conf: fx(u.conf, &f("conf"))?,
            vol: fx(vol, &f("vol"))?,
            scenario,
        });
        underlying_names.push(u.name.clone());
    }
    let mut collateral = Vec::new();
    let mut collateral_names = Vec::new();
    let mut balances = Vec::new();
    for (i, c) in file.collateral.iter().enumerate() {
        let f = |name: &str| format!("collateral[{i}].{name}");
        let price = c.price.ok_or_else(|| anyhow!("{}: missing price", f("price")))?;
        if price <= 0.0 {
            bail!("{}: must be positive, got {price}", f("price"));
        }
        if c.conf < 0.0 || c.conf >= price {
            bail!("{}: must be in [0, price), got {}", f("conf"), c.conf);
        }
        let h = &c.haircut;
        if h.tiers.len() > MAX_TIERS {
            bail!("{}: at most {MAX_TIERS} tiers", f("haircut.tiers"));
        }
        let mut tiers = [Tier::default(); MAX_TIERS];
        for (t, tier) in h.tiers.iter().enumerate() {
            tiers[t] = Tier {
                above: fx(tier.above, &f(&format!("haircut.tiers[{t}].above")))?,
                initial_weight: fx(tier.initial_weight, &f(&format!("haircut.tiers[{t}].initial_weight")))?,
                maintenance_weight: fx(
                    tier.maintenance_weight,
                    &f(&format!("haircut.tiers[{t}].maintenance_weight")),
                )?,
            };
        }
        let schedule = HaircutSchedule {
            initial_asset_weight: fx(h.initial_asset_weight, &f("haircut.initial_asset_weight"))?,
            maintenance_asset_weight: fx(h.maintenance_asset_weight, &f("haircut.maintenance_asset_weight"))?,
            initial_liability_weight: fx(h.initial_liability_weight, &f("haircut.initial_liability_weight"))?,
            maintenance_liability_weight: fx(
                h.maintenance_liability_weight,
                &f("haircut.maintenance_liability_weight"),
            )?,
            tiers,
            tier_count: u8::try_from(h.tiers.len())?,
        };
        schedule.validate().map_err(|_| {
            anyhow!(
                "{}: invalid haircut schedule (need 0 <= initial <= maintenance asset weight <= 1, \
                 liability weights >= 1 with initial >= maintenance, tiers with increasing `above` \
                 and non-increasing weights)",
                f("haircut")
            )
        })?;
        let link = parse_link(c, &underlying_names, &f)?;
        let index = u16::try_from(i).context("too many collateral assets")?;
        collateral.push(CollateralMarket {
            index,
            price: fx(price, &f("price"))?,
            conf: fx(c.conf, &f("conf"))?,
            schedule,
            link,
        });
        balances.push(Balance { collateral: index, amount: fx(c.balance, &f("balance"))? });
        collateral_names.push(c.name.clone());
    }
    let mut positions = Vec::new();
    for (i, p) in file.positions.iter().enumerate() {
        let f = |name: &str| format!("positions[{i}].{name}");
        let underlying = underlying_names.iter().position(|n| *n == p.underlying).ok_or_else(|| {
            anyhow!("{}: unknown underlying {:?} (not in `underlyings`)", f("underlying"), p.underlying)
        })?;
        let kind = match p.kind.as_str() {
            "perp" => InstrumentKind::Perp,
            "call" => InstrumentKind::Call,
            "put" => InstrumentKind::Put,
            other => bail!("{}: unknown kind {other:?} (expected \"perp\", \"call\" or \"put\")", f("kind")),
        };
        let spot = underlyings[underlying].spot.to_num::<f64>();
        let (strike, expiry, entry) = if kind == InstrumentKind::Perp {
            let entry = p.entry_price.unwrap_or(spot);
            if entry <= 0.0 {
                bail!("{}: must be positive, got {entry}", f("entry_price"));
            }
            (Fx::ZERO, 0, fx(entry, &f("entry_price"))?)
        } else {
            let strike = p.strike.ok_or_else(|| anyhow!("{}: options need a strike", f("strike")))?;
            if strike <= 0.0 {
                bail!("{}: must be positive, got {strike}", f("strike"));
            }
            let expiry = match (p.expiry, p.expiry_days) {
                (Some(e), None) => e,
                (None, Some(d)) if d >= 0.0 => now + (d * 86_400.0).round() as i64,
                (None, Some(d)) => bail!("{}: must be >= 0, got {d}", f("expiry_days")),
                _ => bail!("{}: give exactly one of expiry (unix seconds) or expiry_days", f("expiry")),
            };
            (fx(strike, &f("strike"))?, expiry, Fx::ZERO)
        };
        positions.push(Position {
            instrument: Instrument { underlying: u16::try_from(underlying)?, kind, strike, expiry },
            size: fx(p.size, &f("size"))?,
            entry_price: entry,
        });
    }
    let initial_scale = match &file.margin {
        None => MarginParams::REFERENCE.initial_scale,
        Some(m) => {
            if m.initial_scale < 1.0 {
                bail!("margin.initial_scale: must be >= 1, got {}", m.initial_scale);
            }
            fx(m.initial_scale, "margin.initial_scale")?
        }
    };
    let (offsets, offset_groups) = match &file.offsets {
        Some(groups) => parse_offsets(groups, &underlying_names)?,
        None => reference_offsets(&underlying_names)?,
    };
    let quote_depeg_charge = match file.margin.as_ref().and_then(|m| m.quote.as_ref()) {
        None => Fx::ZERO,
        Some(q) => {
            if q.price.is_nan() || q.price <= 0.0 {
                bail!("margin.quote.price: must be positive, got {}", q.price);
            }
            let peg = QuotePeg {
                threshold: q
                    .threshold
                    .map_or(Ok(QuotePeg::REFERENCE.threshold), |t| fx(t, "margin.quote.threshold"))?,
                factor: q.factor.map_or(Ok(QuotePeg::REFERENCE.factor), |t| fx(t, "margin.quote.factor"))?,
            };
            peg.validate()
                .map_err(|_| anyhow!("margin.quote: threshold must be in [0, 1] and factor in [0, 20]"))?;
            peg.charge(fx(q.price, "margin.quote.price")?).map_err(|e| anyhow!("margin.quote: {e}"))?
        }
    };
    let params = MarginParams { initial_scale, offsets, quote_depeg_charge };
    Ok(Portfolio {
        description: file.description,
        now,
        underlying_names,
        collateral_names,
        offset_groups,
        offsets_default: file.offsets.is_none(),
        underlyings,
        collateral,
        balances,
        positions,
        params,
    })
}

/// The link of collateral entry `c` (`f` names its fields), if it has an `underlying`.
fn parse_link(
    c: &CollateralIn,
    underlying_names: &[String],
    f: &dyn Fn(&str) -> String,
) -> Result<Option<CollateralLink>> {
    let Some(u) = &c.underlying else {
        for (field, given) in [("ratio", c.ratio.is_some()), ("basis_haircut", c.basis_haircut.is_some())] {
            if given {
                bail!("{}: only for a linked asset (give `underlying`)", f(field));
            }
        }
        return Ok(None);
    };
    let underlying = underlying_names
        .iter()
        .position(|n| n == u)
        .ok_or_else(|| anyhow!("{}: unknown underlying {u:?} (not in `underlyings`)", f("underlying")))?;
    let ratio = c.ratio.unwrap_or(1.0);
    let max_ratio = CollateralLink::MAX_RATIO.to_num::<f64>();
    if !(ratio > 0.0 && ratio <= max_ratio) {
        bail!("{}: must be in (0, {max_ratio}] (underlying units per token), got {ratio}", f("ratio"));
    }
    let (basis_initial, basis_maintenance) = match &c.basis_haircut {
        None => reference::LINK_BASIS_HAIRCUT,
        Some(v) => parse_basis(v, &f("basis_haircut"))?,
    };
    let link = CollateralLink {
        underlying: u16::try_from(underlying)?,
        ratio: fx(ratio, &f("ratio"))?,
        basis_initial,
        basis_maintenance,
    };
    link.validate().map_err(|_| anyhow!("{}: invalid link", f("underlying")))?;
    Ok(Some(link))
}

/// A basis haircut: a number for both levels or `{ "initial": x, "maintenance": y }`, each a
/// fraction in [0, 1], initial ≥ maintenance.
fn parse_basis(v: &Value, field: &str) -> Result<(Fx, Fx)> {
    let unit = |x: &Value, name: &str| -> Result<f64> {
        let x = x.as_f64().ok_or_else(|| anyhow!("{name}: expected a number, got {x}"))?;
        if !(0.0..=1.0).contains(&x) {
            bail!("{name}: must be in [0, 1] (a fraction of value), got {x}");
        }
        Ok(x)
    };
    let (initial, maintenance) = match v {
        Value::Number(_) => {
            let x = unit(v, field)?;
            (x, x)
        }
        Value::Object(map) => {
            if let Some(k) = map.keys().find(|k| !matches!(k.as_str(), "initial" | "maintenance")) {
                bail!("{field}: unknown field {k:?} (expected \"initial\" and \"maintenance\")");
            }
            let level = |name: &str| -> Result<f64> {
                let key = format!("{field}.{name}");
                unit(map.get(name).ok_or_else(|| anyhow!("{key}: missing"))?, &key)
            };
            (level("initial")?, level("maintenance")?)
        }
        other => bail!("{field}: expected a number or {{\"initial\": x, \"maintenance\": y}}, got {other}"),
    };
    if initial < maintenance {
        bail!("{field}: initial ({initial}) must be >= maintenance ({maintenance})");
    }
    Ok((fx(initial, &format!("{field}.initial"))?, fx(maintenance, &format!("{field}.maintenance"))?))
}

type OffsetsOut = (OffsetTable, Vec<(Vec<String>, f64)>);

/// The `offsets` of the file, validated with the offending field named.
fn parse_offsets(groups: &[OffsetIn], underlying_names: &[String]) -> Result<OffsetsOut> {
    if groups.len() > MAX_GROUPS {
        bail!("offsets: at most {MAX_GROUPS} groups, got {}", groups.len());
    }
    let mut table = Vec::new();
    let mut names = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let f = |name: &str| format!("offsets[{g}].{name}");
        let n = group.underlyings.len();
        if !(2..=MAX_GROUP_MEMBERS).contains(&n) {
            bail!("{}: a group needs 2 to {MAX_GROUP_MEMBERS} underlyings, got {n}", f("underlyings"));
        }
        let mut members = Vec::new();
        for (m, u) in group.underlyings.iter().enumerate() {
            let field = f(&format!("underlyings[{m}]"));
            let index = underlying_names
                .iter()
                .position(|n| n == u)
                .ok_or_else(|| anyhow!("{field}: unknown underlying {u:?} (not in `underlyings`)"))?;
            if group.underlyings[..m].contains(u) {
                bail!("{field}: {u:?} listed twice in the group");
            }
            if let Some(h) = groups[..g].iter().position(|h| h.underlyings.contains(u)) {
                bail!("{field}: {u:?} is already in offsets[{h}] (groups must be disjoint)");
            }
            members.push(u16::try_from(index)?);
        }
        if !(0.0..=1.0).contains(&group.credit) {
            bail!("{}: must be in [0, 1] (correlation credit ρ), got {}", f("credit"), group.credit);
        }
        let credit = fx(group.credit, &f("credit"))?;
        table.push(
            OffsetGroup::new(&members, credit)
                .map_err(|_| anyhow!("{}: invalid offset group", f("underlyings")))?,
        );
        names.push((group.underlyings.clone(), group.credit));
    }
    Ok((OffsetTable::new(&table).map_err(|_| anyhow!("offsets: invalid offset groups"))?, names))
}

/// The reference offset groups (`reference::OFFSET_GROUPS`) whose underlyings are all in
/// the book.
fn reference_offsets(underlying_names: &[String]) -> Result<OffsetsOut> {
    let mut table = Vec::new();
    let mut names = Vec::new();
    for (members, credit) in reference::OFFSET_GROUPS {
        let indices: Option<Vec<u16>> = members
            .iter()
            .map(|m| underlying_names.iter().position(|n| n == m).and_then(|i| u16::try_from(i).ok()))
            .collect();
        if let Some(indices) = indices {
            table.push(OffsetGroup::new(&indices, *credit).map_err(|e| anyhow!("reference offsets: {e}"))?);
            names.push((members.iter().map(|m| m.to_string()).collect(), credit.to_num::<f64>()));
        }
    }
    Ok((OffsetTable::new(&table).map_err(|e| anyhow!("reference offsets: {e}"))?, names))
}
