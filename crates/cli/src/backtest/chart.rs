//! `xmargin backtest --chart FILE.svg`: price, maintenance margin (static and adaptive) and
//! the realized loss over the next horizon, for one book over one window, as a self-contained
//! SVG (no plotting dependency: a few polylines and axis labels are all it needs).
use std::fmt::Write as _;

use anyhow::{bail, Result};

use super::replay::{Book, Model, Point};

const WIDTH: f64 = 960.0;
const PANEL: f64 = 230.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const GAP: f64 = 40.0;

/// One series: colour, label, and (time, value) samples.
struct Series<'a> {
    colour: &'a str,
    label: &'a str,
    values: Vec<(i64, f64)>,
}

/// A panel's frame: value range and vertical offset; times share the chart's range.
struct Frame {
    t0: i64,
    t1: i64,
    lo: f64,
    hi: f64,
    y0: f64,
}

impl Frame {
    fn x(&self, t: i64) -> f64 {
        let span = (self.t1 - self.t0).max(1) as f64;
        LEFT + (t - self.t0) as f64 / span * (WIDTH - LEFT - RIGHT)
    }
    fn y(&self, v: f64) -> f64 {
        let span = (self.hi - self.lo).max(f64::EPSILON);
        self.y0 + PANEL - (v - self.lo) / span * PANEL
    }
}

fn series_of(points: &[Point], book: Book, model: Model, value: impl Fn(&Point) -> f64) -> Vec<(i64, f64)> {
    points.iter().filter(|p| p.book == book && p.model == model).map(|p| (p.time, value(p))).collect()
}

fn panel(svg: &mut String, title: &str, unit: &str, series: &[Series], t0: i64, t1: i64, y0: f64) {
    let all = series.iter().flat_map(|s| s.values.iter().map(|v| v.1));
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let f = Frame { t0, t1, lo: lo - pad, hi: hi + pad, y0 };
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{y0}" width="{}" height="{PANEL}" fill="none" stroke="#999"/>"##,
        WIDTH - LEFT - RIGHT
    );
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="{}" font-weight="bold">{title}</text>"#, y0 - 8.0);
    for k in 0..=4 {
        let v = f.lo + (f.hi - f.lo) * f64::from(k) / 4.0;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="end" font-size="11">{v:.1}{unit}</text>"#,
            LEFT - 4.0,
            f.y(v) + 4.0
        );
    }
    let mut legend_x = WIDTH - RIGHT - 8.0;
    for s in series.iter().rev() {
        let pts: Vec<String> =
            s.values.iter().map(|&(t, v)| format!("{:.1},{:.1}", f.x(t), f.y(v))).collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>"#,
            s.colour,
            pts.join(" ")
        );
        let _ = writeln!(
            svg,
            r#"<text x="{legend_x:.1}" y="{}" text-anchor="end" font-size="12" fill="{}">{}</text>"#,
            y0 - 8.0,
            s.colour,
            s.label
        );
        legend_x -= 12.0 + 7.0 * s.label.len() as f64;
    }
}

/// Renders the chart of `book` over the observations of one window and underlying.
pub fn render(points: &[Point], book: Book, title: &str, horizon_hours: i64) -> Result<String> {
    let price: Vec<(i64, f64)> = series_of(points, book, Model::Static, |p| p.price);
    if price.len() < 2 {
        bail!("--chart: fewer than two hourly observations of {book:?} in the window; nothing to draw");
    }
    let (t0, t1) = (price[0].0, price[price.len() - 1].0);
    let pct = |f: fn(&Point) -> f64| move |p: &Point| f(p) / p.notional * 100.0;
    let static_margin = series_of(points, book, Model::Static, pct(|p| p.margin));
    let adaptive_margin = series_of(points, book, Model::Adaptive, pct(|p| p.margin));
    let loss_label = format!("loss over next {horizon_hours} h");
    let loss = series_of(points, book, Model::Static, pct(|p| p.loss.max(0.0)));
    let breaches = adaptive_margin.iter().zip(&loss).filter(|(m, l)| l.1 > m.1).count();

    let height = TOP + 2.0 * PANEL + GAP + 40.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="20" font-size="15">{title} · {book:?}</text>"#);
    let price_series = [Series { colour: "#222", label: "close", values: price }];
    panel(&mut svg, "price", "", &price_series, t0, t1, TOP);
    let margin_series = [
        Series { colour: "#1f77b4", label: "static margin", values: static_margin },
        Series { colour: "#2ca02c", label: "adaptive margin", values: adaptive_margin },
        Series { colour: "#d62728", label: &loss_label, values: loss },
    ];
    let title = format!("% of notional ({breaches} adaptive breaches)");
    panel(&mut svg, &title, "%", &margin_series, t0, t1, TOP + PANEL + GAP);
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="{}" font-size="11">hours from {} to {} (UTC, unix {t0}..{t1})</text>"#,
        height - 12.0,
        super::data::format_time(t0),
        super::data::format_time(t1)
    );
    svg.push_str("</svg>\n");
    Ok(svg)
}
