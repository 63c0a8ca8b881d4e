//! Stored marks ↔ the engine's (`xmargin_risk::marks`), and the market data marks are
//! computed against. No math beyond unit conversions.
use anchor_lang::prelude::*;
use xmargin_risk::fx::Fx;
use xmargin_risk::marks::{MarksPolicy, SeriesMarks};
use xmargin_risk::scenarios::VolScaling;
use xmargin_risk::stored_bounds::{from_stored, to_stored};
use xmargin_risk::UnderlyingMarket;

use crate::error::{risk_error, XmarginError};
use crate::state::units::{bps, hundredths, ppm, vol_scaling};
use crate::state::{HaircutRegistry, Market, SeriesMarksState, StoredFx};

/// A price shock rounded up to parts per million (what a series' marks record).
pub fn shock_ppm(shock: Fx) -> Result<u32> {
    xmargin_risk::prices::ceil_ppm(shock).map_err(risk_error)
}

/// The registry's initial-margin scale, stored form and engine form: converted once per
/// instruction, compared with every marked series.
#[derive(Clone, Copy)]
pub struct InitialScale {
    pub bps: u16,
    pub fx: Fx,
}

impl InitialScale {
    pub fn of(registry: &HaircutRegistry) -> Result<InitialScale> {
        Ok(InitialScale { bps: registry.margin_scale.effective_bps(), fx: registry.initial_scale()? })
    }
}

impl Market {
    /// The market's drift and age limits, and the registry's initial scale (marks computed
    /// for a smaller one are refused).
    pub fn marks_policy(&self, scale: &InitialScale) -> Result<MarksPolicy> {
        Ok(MarksPolicy {
            max_drift: bps(self.max_mark_drift_bps)?,
            max_age: i64::from(self.max_mark_age_secs),
            initial_scale: scale.fx,
        })
    }
}

/// The market data marks are computed against: the current one with its largest price shock
/// rounded up to what `SeriesMarksState` stores (so the stored basis is exactly the one used).
pub fn marking_market(current: &UnderlyingMarket) -> Result<(UnderlyingMarket, u32)> {
    let (shock_ppm, shock) = marking_shock(current)?;
    let mut market = *current;
    market.scenario.max_price_shock = shock;
    Ok((market, shock_ppm))
}

/// The largest price shock of [`marking_market`], stored form and engine form (health needs
/// only these, not a copy of the whole market).
fn marking_shock(current: &UnderlyingMarket) -> Result<(u32, Fx)> {
    let shock = shock_ppm(current.scenario.max_price_shock)?;
    Ok((shock, ppm(shock)?))
}

/// The registry's current vol, shock, largest tail multiple, expiry scaling and initial
/// scale of an underlying, stored form and engine form: a series marked under them (the
/// usual case) converts without a division.
#[derive(Clone, Copy)]
pub struct CurrentBasis {
    pub initial_scale_bps: u16,
    pub initial_scale: Fx,
    pub implied_vol_bps: u32,
    pub vol: Fx,
    pub shock_ppm: u32,
    pub shock: Fx,
    pub tail_hundredths: u16,
    pub tail_multiple: Fx,
    pub vol_scaling_key: [u16; 3],
    pub vol_scaling: VolScaling,
}

impl CurrentBasis {
    pub fn new(
        implied_vol_bps: u32,
        tail_hundredths: u16,
        vol_scaling_key: [u16; 3],
        scale: &InitialScale,
        market: &UnderlyingMarket,
    ) -> Result<CurrentBasis> {
        let (shock_ppm, shock) = marking_shock(market)?;
        Ok(CurrentBasis {
            initial_scale_bps: scale.bps,
            initial_scale: scale.fx,
            implied_vol_bps,
            vol: market.vol,
            shock_ppm,
            shock,
            tail_hundredths,
            tail_multiple: market.scenario.tail.largest_multiple(),
            vol_scaling_key,
            vol_scaling: market.scenario.vol_scaling,
        })
    }
}

impl SeriesMarksState {
    fn vol_scaling_key(&self) -> [u16; 3] {
        [self.vol_scaling_reference_days, self.vol_scaling_floor_hours, self.vol_scaling_exponent_bps]
    }

    /// Writes the engine's marks into `out` field by field (`current`: conversions already
    /// done for the registry's values).
    // Inlined into its caller, and written in place: built as a value and then moved into the
    // position, the ~360-byte marks went through the stack and back (measured).
    #[inline(always)]
    pub fn load_into(&self, out: &mut SeriesMarks, current: &CurrentBasis) -> Result<()> {
        for (level, stored) in out.bounds.iter_mut().zip(&self.bounds) {
            for (range, stored) in level.iter_mut().zip(stored) {
                for (side, stored) in range.iter_mut().zip(stored) {
                    *side = from_stored(*stored);
                }
            }
        }
        let g = &mut out.greeks;
        (g.price, g.delta, g.gamma) = (self.greeks[0].get(), self.greeks[1].get(), self.greeks[2].get());
        (g.vega, g.vanna, g.volga) = (self.greeks[3].get(), self.greeks[4].get(), self.greeks[5].get());
        let b = &mut out.basis;
        b.computed_at = self.computed_at;
        b.spot = self.spot.get();
        b.vol = if self.implied_vol_bps == current.implied_vol_bps {
            current.vol
        } else {
            bps(self.implied_vol_bps)?
        };
        b.max_price_shock = if self.max_price_shock_ppm == current.shock_ppm {
            current.shock
        } else {
            ppm(self.max_price_shock_ppm)?
        };
        b.tail_multiple = if self.tail_multiple_hundredths == current.tail_hundredths {
            current.tail_multiple
        } else {
            hundredths(self.tail_multiple_hundredths)?
        };
        b.vol_scaling = if self.vol_scaling_key() == current.vol_scaling_key {
            current.vol_scaling
        } else {
            vol_scaling(self.vol_scaling_key(), false)?
        };
        b.initial_scale = if self.initial_scale_bps == current.initial_scale_bps {
            current.initial_scale
        } else {
            bps(self.initial_scale_bps)?
        };
        Ok(())
    }

    /// Stores `m`, computed at `current`'s implied vol, largest price shock (rounded up to
    /// ppm), tail, expiry scaling and initial scale; its bounds rounded up to 2^−24 (`MarksOutOfRange` for
    /// one beyond what 64 bits hold: nothing is written then).
    pub fn store(&mut self, m: &SeriesMarks, current: &CurrentBasis) -> Result<()> {
        // The recorded scale must be the one the bounds were computed for.
        require!(m.basis.initial_scale == current.initial_scale, XmarginError::MarksOutOfRange);
        let mut bounds = [[[0u64; 2]; 2]; 2];
        for (level, stored) in m.bounds.iter().zip(bounds.iter_mut()) {
            for (range, stored) in level.iter().zip(stored.iter_mut()) {
                for (side, stored) in range.iter().zip(stored.iter_mut()) {
                    *stored = to_stored(*side).map_err(|_| XmarginError::MarksOutOfRange)?;
                }
            }
        }
        self.computed_at = m.basis.computed_at;
        self.implied_vol_bps = current.implied_vol_bps;
        self.max_price_shock_ppm = current.shock_ppm;
        self.tail_multiple_hundredths = current.tail_hundredths;
        [self.vol_scaling_reference_days, self.vol_scaling_floor_hours, self.vol_scaling_exponent_bps] =
            current.vol_scaling_key;
        self.initial_scale_bps = current.initial_scale_bps;
        self._padding = [0; 6];
        self.spot.set(m.basis.spot);
        let g = &m.greeks;
        self.greeks = [g.price, g.delta, g.gamma, g.vega, g.vanna, g.volga].map(StoredFx::from);
        self.bounds = bounds;
        Ok(())
    }
}
