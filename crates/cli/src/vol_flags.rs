//! `xmargin backtest` flags for the adaptive-shock parameters, so governance can replay a
//! proposed calibration before proposing it. Defaults are `VolParams::REFERENCE` (chosen by
//! `xmargin calibrate sweep`, `sweep.rs`), checked below.
use xmargin_risk::vol::VolParams;
use xmargin_risk::Fx;

#[derive(clap::Args, Debug, Clone, Copy)]
pub struct VolFlags {
    /// Quantile multiplier k of the adaptive shock.
    #[arg(long, default_value_t = 4.0)]
    pub vol_k: f64,
    /// Smallest adaptive shock, fraction of spot.
    #[arg(long, default_value_t = 0.21)]
    pub vol_floor: f64,
    /// Largest adaptive shock, fraction of spot.
    #[arg(long, default_value_t = 0.6)]
    pub vol_cap: f64,
    /// Largest fall of the shock per day, fraction of its value.
    #[arg(long, default_value_t = 0.1)]
    pub vol_max_decay: f64,
    /// Half-life of the short variance average, hours.
    #[arg(long, default_value_t = 4)]
    pub vol_half_life_short_hours: i64,
    /// Liquidation horizon, hours: the shock's √horizon scaling and the loss window replayed.
    #[arg(long, default_value_t = 4)]
    pub vol_horizon_hours: i64,
    /// Half-life of the long variance average, hours.
    #[arg(long, default_value_t = 168)]
    pub vol_half_life_long_hours: i64,
    /// Stressed shock blended into the target (fraction of spot; EMIR art. 28(1)(b)).
    #[arg(long, default_value_t = 0.2799)]
    pub vol_stressed_shock: f64,
    /// Weight of the stressed shock in the target, in [0, 1).
    #[arg(long, default_value_t = 0.5)]
    pub vol_stressed_weight: f64,
}

impl VolFlags {
    pub fn params(&self) -> VolParams {
        VolParams {
            half_life_short_secs: self.vol_half_life_short_hours.saturating_mul(3600),
            half_life_long_secs: self.vol_half_life_long_hours.saturating_mul(3600),
            k: Fx::saturating_from_num(self.vol_k),
            horizon_secs: self.vol_horizon_hours.saturating_mul(3600),
            floor: Fx::saturating_from_num(self.vol_floor),
            cap: Fx::saturating_from_num(self.vol_cap),
            max_decay_per_day: Fx::saturating_from_num(self.vol_max_decay),
            stressed_shock: Fx::saturating_from_num(self.vol_stressed_shock),
            stressed_weight: Fx::saturating_from_num(self.vol_stressed_weight),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Probe {
        #[command(flatten)]
        vol: VolFlags,
    }

    #[test]
    fn defaults_are_the_reference_parameters() {
        assert_eq!(Probe::parse_from(["x"]).vol.params(), VolParams::REFERENCE);
    }

    #[test]
    fn flags_map_to_their_units() {
        let p = Probe::parse_from(["x", "--vol-horizon-hours", "4", "--vol-k", "5", "--vol-floor", "0.2"])
            .vol
            .params();
        assert_eq!(p.horizon_secs, 4 * 3600);
        assert_eq!(p.k, Fx::from_num(5));
        assert_eq!(p.floor, Fx::from_num(0.2));
        assert_eq!(p.cap, VolParams::REFERENCE.cap);
    }
}
