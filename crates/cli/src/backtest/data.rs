//! OHLC price files: `timestamp_utc,open,high,low,close,volume`, ISO-8601 UTC bar-open times,
//! ascending (the format of ../shared/data/prices).
use std::path::Path;

use anyhow::{bail, Context, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Bar open, unix seconds.
    pub time: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's civil-days algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds as `YYYY-MM-DD HH:00` (UTC; the inverse of [`days_from_civil`], same source).
pub fn format_time(t: i64) -> String {
    let (y, m, d, secs) = crate::units::civil_from_unix(t);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// `YYYY-MM-DDTHH:MM:SSZ` (or a bare `YYYY-MM-DD`) as unix seconds.
pub fn parse_time(s: &str) -> Result<i64> {
    let bad = || anyhow::anyhow!("bad UTC timestamp {s:?} (expected YYYY-MM-DDTHH:MM:SSZ)");
    let num =
        |r: std::ops::Range<usize>| -> Result<i64> { s.get(r).ok_or_else(bad)?.parse().map_err(|_| bad()) };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if s.as_bytes().get(4) != Some(&b'-') || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let (hh, mm, ss) = if s.len() > 10 { (num(11..13)?, num(14..16)?, num(17..19)?) } else { (0, 0, 0) };
    Ok(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Prints the data's own notes call bad (`SOURCES.md`): (file, bar open, what). Clipped by
/// [`clip_bad_prints`] for the multi-asset books and `calibrate`; the single-underlying
/// table keeps them, as docs/backtest.md says.
pub const BAD_PRINTS: [(&str, &str, &str); 1] = [
    // "Spot's 4h high was 138, so this is almost certainly a bad or illiquid print. Clip it
    // or ignore it if you use last-price marks."
    ("eth_usd_1h.csv", "2020-03-13T02:00:00Z", "high"),
];

/// Clips the listed bad prints of file `name` to the bar's open/close range; returns how many.
pub fn clip_bad_prints(name: &str, bars: &mut [Bar]) -> Result<usize> {
    let mut n = 0;
    for (file, time, what) in BAD_PRINTS {
        if file != name {
            continue;
        }
        let t = parse_time(time)?;
        if let Some(bar) = bars.iter_mut().find(|b| b.time == t) {
            match what {
                "high" => bar.high = bar.open.max(bar.close),
                _ => bar.low = bar.open.min(bar.close),
            }
            n += 1;
        }
    }
    Ok(n)
}

pub fn load(path: &Path) -> Result<Vec<Bar>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    if !header.starts_with("timestamp_utc,open,high,low,close") {
        bail!(
            "{}: expected a header `timestamp_utc,open,high,low,close,volume`, got {header:?}",
            path.display()
        );
    }
    let mut bars: Vec<Bar> = Vec::new();
    for (i, line) in lines.enumerate() {
        let at = || format!("{}:{}", path.display(), i + 2);
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() < 5 {
            bail!("{}: expected 6 columns", at());
        }
        let num = |c: usize| -> Result<f64> {
            cols[c].parse().with_context(|| format!("{}: column {}", at(), c + 1))
        };
        let bar = Bar {
            time: parse_time(cols[0]).with_context(at)?,
            open: num(1)?,
            high: num(2)?,
            low: num(3)?,
            close: num(4)?,
        };
        if !(bar.low > 0.0 && bar.low <= bar.open.min(bar.close) && bar.high >= bar.open.max(bar.close)) {
            bail!(
                "{}: inconsistent bar (low {} high {} open {} close {})",
                at(),
                bar.low,
                bar.high,
                bar.open,
                bar.close
            );
        }
        if bars.last().is_some_and(|b| b.time >= bar.time) {
            bail!("{}: timestamps must increase", at());
        }
        bars.push(bar);
    }
    Ok(bars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(parse_time("2022-11-09T00:00:00Z").unwrap(), 1_667_952_000);
        assert_eq!(parse_time("2024-02-29").unwrap(), 1_709_164_800);
        assert!(parse_time("2022-13-01").is_err());
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn format_inverts_parse() {
        assert_eq!(format_time(1_709_164_800 + 13 * 3600), "2024-02-29 13:00");
        for t in (-86_400 * 800..86_400 * 40_000).step_by(86_400 * 37 + 3600) {
            let s = format_time(t);
            let iso = format!("{}T{}:00Z", &s[..10], &s[11..]);
            assert_eq!(parse_time(&iso).unwrap(), t, "{s}");
        }
    }
}
