//! Coverage statistics: breaches, Kupiec's proportion-of-failures test, shortfall, cost,
//! and the margin's procyclicality (largest 1-/5-day increases, peak-to-trough).
use std::collections::BTreeMap;

/// Kupiec (1995) proportion-of-failures test: p-value of observing `failures` in `n` trials
/// when the expected failure rate is `p` (likelihood ratio, χ² with one degree of freedom).
pub fn kupiec_p_value(n: usize, failures: usize, p: f64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let (n, x) = (n as f64, failures as f64);
    let observed = x / n;
    let ln_null = (n - x) * (1.0 - p).ln() + x * p.ln();
    // At 0% or 100% observed failures the alternative's log-likelihood is 0.
    let ln_alt = if failures == 0 || observed >= 1.0 {
        0.0
    } else {
        (n - x) * (1.0 - observed).ln() + x * observed.ln()
    };
    let lr = (-2.0 * (ln_null - ln_alt)).max(0.0);
    // P(χ²₁ > lr) = erfc(√(lr/2)).
    libm::erfc((lr / 2.0).sqrt())
}

/// One (window, model) line of results.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub observations: usize,
    pub breaches: usize,
    /// 1 − breaches / observations.
    pub coverage: f64,
    /// Kupiec p-value against a 1% breach rate (the 99% design level).
    pub kupiec_p_value: f64,
    /// Largest (loss − margin), as a fraction of notional (0 when never breached).
    pub worst_shortfall_pct: f64,
    /// Mean maintenance margin as a fraction of notional: the capital cost.
    pub mean_margin_pct: f64,
    /// Accounts opened at maintenance margin that ended with bad debt under partial
    /// liquidation (`liquidate.rs`), and the largest such debt as a fraction of notional;
    /// `None` for a model without liquidation (isolated).
    pub bad_debt_accounts: Option<usize>,
    pub worst_bad_debt_pct: Option<f64>,
    /// Procyclicality of the margin (see [`Procyclicality`]); over several books (the
    /// single-underlying table's 6), the worst (largest) of each metric over the books.
    #[serde(flatten)]
    pub procyclicality: Procyclicality,
}

/// 1 day and 5 days, in seconds: the procyclicality horizons.
pub const DAY_SECS: i64 = 86_400;
pub const FIVE_DAYS_SECS: i64 = 5 * DAY_SECS;
/// Margins are computed (for the metrics only) over this long before a window's start.
pub const PRE_WINDOW_SECS: i64 = FIVE_DAYS_SECS;

/// Procyclicality metrics of one book's hourly margin series m(t), each m a fraction of the
/// book's notional at t (the book is rebuilt every hour; the same margin as `mean_margin_pct`).
/// t runs over the window's evaluated hours; m(t − h) is taken from the window or, before its
/// start, from the margins the replay computes over the 5 days before it (`PRE_WINDOW_SECS`,
/// from the warm-up prices: no loss or breach is counted there), so a jump at the window's
/// start is measured. An hour t whose t − h has no margin (the data starts later, or a gap)
/// is skipped. `None` when no such pair exists or, for the ratios, the denominator is 0.
///
/// - `max_1d_increase_ratio` = max over t of m(t) / m(t − 24 h);
/// - `max_1d_increase_pct` = max over t of m(t) − m(t − 24 h) (fraction of notional: 0.05
///   is 5 percentage points), maximized separately from the ratio (the hours may differ);
/// - `max_5d_*`: the same with 120 h;
/// - `peak_to_trough` = max m / min m over the window's hours only (in either order).
///
/// The maxima may be below 1 (ratio) or 0 (pct) when the margin only fell over the horizon.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Procyclicality {
    pub max_1d_increase_ratio: Option<f64>,
    pub max_1d_increase_pct: Option<f64>,
    pub max_5d_increase_ratio: Option<f64>,
    pub max_5d_increase_pct: Option<f64>,
    pub peak_to_trough: Option<f64>,
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Largest m(t) / m(t − h) and m(t) − m(t − h) over t in `window`, m(t − h) from `before`
/// or `window` (each time-sorted (t, m); every `before` time earlier than `window`'s).
fn largest_increase(before: &[(i64, f64)], window: &[(i64, f64)], h: i64) -> (Option<f64>, Option<f64>) {
    let (mut ratio, mut diff) = (None, None);
    let find = |t: i64| {
        let s = if window.first().is_some_and(|f| t >= f.0) { window } else { before };
        s.binary_search_by_key(&t, |p| p.0).ok().map(|j| s[j].1)
    };
    for &(t, m) in window {
        let Some(before) = find(t - h) else {
            continue;
        };
        diff = max_opt(diff, Some(m - before));
        if before > 0.0 {
            ratio = max_opt(ratio, Some(m / before));
        }
    }
    (ratio, diff)
}

impl Procyclicality {
    /// The metrics of one book's series of (time, margin / notional) over the window, and
    /// before it (both sorted by time).
    pub fn of(before: &[(i64, f64)], series: &[(i64, f64)]) -> Procyclicality {
        let (r1, d1) = largest_increase(before, series, DAY_SECS);
        let (r5, d5) = largest_increase(before, series, FIVE_DAYS_SECS);
        let max = series.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let min = series.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        Procyclicality {
            max_1d_increase_ratio: r1,
            max_1d_increase_pct: d1,
            max_5d_increase_ratio: r5,
            max_5d_increase_pct: d5,
            peak_to_trough: (!series.is_empty() && min > 0.0).then(|| max / min),
        }
    }

    /// Each metric's worst (largest) of the two.
    pub fn worst(self, o: Procyclicality) -> Procyclicality {
        Procyclicality {
            max_1d_increase_ratio: max_opt(self.max_1d_increase_ratio, o.max_1d_increase_ratio),
            max_1d_increase_pct: max_opt(self.max_1d_increase_pct, o.max_1d_increase_pct),
            max_5d_increase_ratio: max_opt(self.max_5d_increase_ratio, o.max_5d_increase_ratio),
            max_5d_increase_pct: max_opt(self.max_5d_increase_pct, o.max_5d_increase_pct),
            peak_to_trough: max_opt(self.peak_to_trough, o.peak_to_trough),
        }
    }
}

/// A book's (time, margin / notional) hours.
type Series = Vec<(i64, f64)>;

/// Accumulates (margin, loss, notional) observations.
#[derive(Debug, Default)]
pub struct Tally {
    n: usize,
    breaches: usize,
    worst_shortfall: f64,
    margin_sum: f64,
    /// (accounts with bad debt, worst bad debt / notional), when simulated.
    bad_debt: Option<(usize, f64)>,
    /// Per book (an index the caller chooses): its (time, margin / notional) series before
    /// the window (`PRE_WINDOW_SECS`) and over it.
    margins: BTreeMap<usize, (Series, Series)>,
}

impl Tally {
    pub fn add(&mut self, margin: f64, loss: f64, notional: f64, bad_debt: Option<f64>) {
        self.n += 1;
        if let Some(debt) = bad_debt {
            let (count, worst) = self.bad_debt.get_or_insert((0, 0.0));
            if debt > 1e-9 * notional {
                *count += 1;
                *worst = worst.max(debt / notional);
            }
        }
        self.margin_sum += margin / notional;
        if loss > margin + 1e-9 * notional {
            self.breaches += 1;
            self.worst_shortfall = self.worst_shortfall.max((loss - margin) / notional);
        }
    }

    /// Records book `book`'s margin at `time` for the procyclicality metrics (hours in
    /// increasing order per book), `in_window` or in the `PRE_WINDOW_SECS` before it.
    pub fn record(&mut self, book: usize, time: i64, margin: f64, notional: f64, in_window: bool) {
        let (before, window) = self.margins.entry(book).or_default();
        if in_window { window } else { before }.push((time, margin / notional));
    }

    pub fn summary(&self) -> Summary {
        let n = self.n.max(1) as f64;
        Summary {
            observations: self.n,
            breaches: self.breaches,
            coverage: 1.0 - self.breaches as f64 / n,
            kupiec_p_value: kupiec_p_value(self.n, self.breaches, 0.01),
            worst_shortfall_pct: self.worst_shortfall,
            mean_margin_pct: self.margin_sum / n,
            bad_debt_accounts: self.bad_debt.map(|b| b.0),
            worst_bad_debt_pct: self.bad_debt.map(|b| b.1),
            procyclicality: self
                .margins
                .values()
                .map(|(before, window)| Procyclicality::of(before, window))
                .fold(Procyclicality::default(), Procyclicality::worst),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kupiec_matches_known_values() {
        // At the expected rate the test does not reject.
        assert!((kupiec_p_value(1000, 10, 0.01) - 1.0).abs() < 1e-9);
        // 0 failures in 1000 at 1%: LR = −2·1000·ln(0.99) = 20.10 → p = 7.347e-6.
        assert!((kupiec_p_value(1000, 0, 0.01) - 7.347e-6).abs() < 1e-8);
        // 20 failures in 1000: LR = 7.827 → p = 0.005146.
        assert!((kupiec_p_value(1000, 20, 0.01) - 0.005146).abs() < 1e-6);
    }

    #[test]
    fn procyclicality_of_a_known_jump() {
        // 8 days hourly: 10% of notional, a jump to 25% at hour 100, back to 12% from 150.
        let series: Vec<(i64, f64)> = (0..192)
            .map(|h| {
                let m = if h < 100 {
                    0.10
                } else if h < 150 {
                    0.25
                } else {
                    0.12
                };
                (h * 3600, m)
            })
            .collect();
        let p = Procyclicality::of(&[], &series);
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-12;
        assert!(close(p.max_1d_increase_ratio, 2.5) && close(p.max_1d_increase_pct, 0.15));
        // 5 days: hour 120..149 against 0..29 (10%) → 2.5 and 0.15; nothing larger.
        assert!(close(p.max_5d_increase_ratio, 2.5) && close(p.max_5d_increase_pct, 0.15));
        assert!(close(p.peak_to_trough, 2.5));
        // Shorter than 5 days (with a gap at hour 100): no 5-day pair.
        let short: Vec<(i64, f64)> = series[..100].iter().chain(&series[101..110]).copied().collect();
        let p = Procyclicality::of(&[], &short);
        assert_eq!(p.max_5d_increase_ratio, None);
        assert!(close(p.max_1d_increase_ratio, 2.5) && close(p.peak_to_trough, 2.5));
        let falling: Vec<(i64, f64)> = (0..48).map(|h| (h * 3600, 0.2 - h as f64 * 0.001)).collect();
        assert!(close(Procyclicality::of(&[], &falling).max_1d_increase_pct, -0.024));
        // Margins before the window: the jump at its start counts, not in peak-to-trough.
        let p = Procyclicality::of(&series[..100], &series[100..]);
        assert!(close(p.max_1d_increase_ratio, 2.5) && close(p.max_5d_increase_pct, 0.15));
        assert!(close(p.peak_to_trough, 0.25 / 0.12));
        // Over books: the worst of each metric.
        let mut t = Tally::default();
        for (h, m) in &series {
            t.record(0, *h, *m, 1.0, true);
            t.record(1, *h, 0.2, 1.0, true);
        }
        assert_eq!(t.summary().procyclicality, Procyclicality::of(&[], &series));
    }
}
