//! Coverage statistics: breaches, Kupiec's proportion-of-failures test, shortfall, cost.

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
}

/// Accumulates (margin, loss, notional) observations.
#[derive(Debug, Default)]
pub struct Tally {
    n: usize,
    breaches: usize,
    worst_shortfall: f64,
    margin_sum: f64,
    /// (accounts with bad debt, worst bad debt / notional), when simulated.
    bad_debt: Option<(usize, f64)>,
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
}
