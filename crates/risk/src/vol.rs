//! Realized volatility and adaptive price shocks.
//!
//! **Estimator.** After Δt seconds with log return r = ln(P/P_prev), the observation
//! r²/Δt (Δt in years) is an unbiased estimate of the annualized variance. Two exponentially
//! weighted averages of it are kept, each with a half-life H in seconds and a weight that
//! follows the elapsed time (so irregular updates weigh correctly):
//!
//! ```text
//! α = 1 − 2^(−Δt/H)          v ← v + α·(r²/Δt − v)          σ = √v  (fraction per √year)
//! ```
//!
//! **Adaptive shock.** The scenario grid's largest price move for the underlying is
//!
//! ```text
//! target = clamp(k · max(σ_short, σ_long) · √(horizon in years), floor, cap)
//! shock  = max(target, previous shock · (1 − d)^(Δt in days))
//! ```
//!
//! so it rises at once when volatility rises and falls by at most the fraction d per day
//! (anti-procyclical: margin does not collapse right after a crash).
use crate::error::{Result, RiskError};
use crate::fx::{years_from_seconds, Checked, Fx, LN_2, ONE, ZERO};
use crate::math::{exp, ln, sqrt};

/// Governed parameters of the estimator and the adaptive shock of one underlying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolParams {
    /// Half-lives of the short and long averages, seconds.
    pub half_life_short_secs: i64,
    pub half_life_long_secs: i64,
    /// Quantile multiplier k (e.g. 3).
    pub k: Fx,
    /// Liquidation horizon, seconds: the time the shock must cover.
    pub horizon_secs: i64,
    /// Bounds of the shock (fractions of spot).
    pub floor: Fx,
    pub cap: Fx,
    /// Largest fall of the shock per day, as a fraction (0.1 = 10% of its value per day).
    pub max_decay_per_day: Fx,
}

impl VolParams {
    /// Reference parameters: half-lives 12 h and 7 days, k = 3, a one-day horizon, shocks
    /// between 5% and 60% falling at most 10% per day.
    pub const REFERENCE: VolParams = VolParams {
        half_life_short_secs: 12 * 3600,
        half_life_long_secs: 7 * 86_400,
        k: Fx::lit("3"),
        horizon_secs: 86_400,
        floor: Fx::lit("0.05"),
        cap: Fx::lit("0.6"),
        max_decay_per_day: Fx::lit("0.1"),
    };

    pub fn validate(&self) -> Result<()> {
        let ok = self.half_life_short_secs > 0
            && self.half_life_long_secs >= self.half_life_short_secs
            && self.k > ZERO
            && self.horizon_secs > 0
            && self.floor > ZERO
            && self.floor <= self.cap
            && self.cap < ONE
            && self.max_decay_per_day >= ZERO
            && self.max_decay_per_day < ONE;
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidScenarioParams)
        }
    }
}

/// The estimator's state for one underlying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolState {
    /// Last price fed (quote per unit) and its time (unix seconds); `last_time == 0`: none yet.
    pub last_price: Fx,
    pub last_time: i64,
    /// Annualized variances (σ²) of the short and long averages.
    pub var_short: Fx,
    pub var_long: Fx,
    /// Current adaptive price shock (fraction of spot).
    pub shock: Fx,
}

impl VolState {
    /// A fresh state: both variances at `initial_vol²`, the shock at its target for them.
    pub fn new(initial_vol: Fx, params: &VolParams) -> Result<VolState> {
        params.validate()?;
        let var = initial_vol.mul_c(initial_vol)?;
        let mut s = VolState { last_price: ZERO, last_time: 0, var_short: var, var_long: var, shock: ZERO };
        s.shock = target_shock(&s, params)?;
        Ok(s)
    }

    pub fn sigma_short(&self) -> Result<Fx> {
        sqrt(self.var_short)
    }

    pub fn sigma_long(&self) -> Result<Fx> {
        sqrt(self.var_long)
    }
}

/// The shock the current variances call for, before the decay limit.
pub fn target_shock(s: &VolState, p: &VolParams) -> Result<Fx> {
    let sigma = sqrt(s.var_short.max(s.var_long))?;
    let raw = p.k.mul_c(sigma)?.mul_c(sqrt(years_from_seconds(p.horizon_secs)?)?)?;
    Ok(raw.clamp(p.floor, p.cap))
}

/// After this many half-lives the old average's weight (2^-60) is below `Fx` resolution.
const FORGET_AFTER_HALF_LIVES: Fx = Fx::lit("60");

/// 2^(−elapsed/half_life), the weight left on the old average.
fn decay(elapsed: i64, half_life: i64) -> Result<Fx> {
    let ratio = Fx::from_num(elapsed).div_i(half_life)?;
    if ratio > FORGET_AFTER_HALF_LIVES {
        return Ok(ZERO);
    }
    exp(ratio.mul_c(LN_2)?.neg_c()?)
}

/// Feeds one price observed at `time`. The first observation only records the price; an
/// observation not later than the last one is an error (time must move forward).
pub fn update(state: &VolState, price: Fx, time: i64, params: &VolParams) -> Result<VolState> {
    if price <= ZERO {
        return Err(RiskError::NonPositivePrice);
    }
    let mut next = *state;
    next.last_price = price;
    next.last_time = time;
    if state.last_time == 0 {
        return Ok(next);
    }
    let elapsed = time.checked_sub(state.last_time).ok_or(RiskError::Overflow)?;
    if elapsed <= 0 {
        return Err(RiskError::TimeNotIncreasing);
    }
    let r = ln(price.div_c(state.last_price)?)?;
    let observation = r.mul_c(r)?.div_c(years_from_seconds(elapsed)?)?;
    for (var, half_life) in
        [(&mut next.var_short, params.half_life_short_secs), (&mut next.var_long, params.half_life_long_secs)]
    {
        let keep = decay(elapsed, half_life)?;
        // v + (1 − keep)·(obs − v)
        *var = var.add_c(ONE.sub_c(keep)?.mul_c(observation.sub_c(*var)?)?)?;
    }
    let target = target_shock(&next, params)?;
    let days = Fx::from_num(elapsed).div_i(86_400)?;
    let floor_after_decay = if params.max_decay_per_day == ZERO {
        state.shock
    } else {
        // (1 − d)^days = e^(days · ln(1 − d))
        state.shock.mul_c(exp(days.mul_c(ln(ONE.sub_c(params.max_decay_per_day)?)?)?)?)?
    };
    next.shock = target.max(floor_after_decay).min(params.cap);
    Ok(next)
}
