//! Timelocked risk changes: a proposal holds the complete new parameters for one collateral
//! (its link to an underlying included), underlying or offset group (or the liquidation
//! parameters), and the target's parameters as they were when it was proposed; anyone
//! executes it after the exchange's delay.
//!
//! Execution applies a proposal only while the target's governed parameters still equal that
//! snapshot (else `RiskChangeStale`), and while it is still within the per-change bounds of
//! the parameters in force. So a change applies exactly what it was proposed to change: when
//! anything of its target moved meanwhile (the guardian tightened it, another change
//! executed), it must be proposed again, under a fresh timelock, from the new parameters; a
//! stale snapshot can never undo the guardian. An underlying's volatility-estimator state
//! (written by `update_volatility`) is not a governed parameter: it lives in the underlying's
//! market (`Market::volatility`), and the registry's retired bytes are left out of the
//! comparison.
use anchor_lang::prelude::*;

use super::oracle_config::{oracle_kind, OracleConfig};
use super::registry::{
    CollateralConfig, CollateralLink, Haircut, MarginScaleParams, OffsetGroupConfig, QuotePegParams,
    TailRowConfig, UnderlyingConfig, WeightTier, BPS, MAX_INITIAL_SCALE_BPS, MAX_OFFSET_CREDIT_BPS,
    MAX_QUOTE_PEG_FACTOR_HUNDREDTHS, MAX_TAIL_MULTIPLE_HUNDREDTHS, MAX_TAIL_ROWS, MAX_TAIL_VOL_MOVE_BPS,
    MAX_TIERS, MIN_INITIAL_SCALE_BPS,
};
use super::units::{bps, hundredths, vol_scaling};
use super::{LiquidationParams, MAX_CAP_GROWTH_FACTOR, MAX_UNDERLYINGS};
use crate::error::{risk_error, XmarginError};
use xmargin_risk::depeg::QuotePeg;
use xmargin_risk::scenarios::{TailRow, TailTable, VolScaling};
use xmargin_risk::vol::{VolParams, VolState};
use xmargin_risk::Fx;

/// 2: with the target's parameters at proposal (`*_before`).
/// 3: collateral parameters carry the collateral's link (`CollateralRiskParams::link`, 16
/// bytes more each in `collateral` and `collateral_before`), and offset-group changes
/// (`offset_group`, `offset_group_before`): the account is 48 bytes larger, so a version-2
/// proposal no longer loads.
/// 4: `QUOTE_PEG` changes (`quote_peg`, `quote_peg_before`, appended): the account is 240
/// bytes larger, so a version-3 proposal no longer loads. `MARGIN_SCALE` changes took 16
/// reserved bytes later, without a new version (zero in every older proposal).
pub const RISK_CHANGE_VERSION: u8 = 4;

/// `RiskChange::kind`.
pub mod change_kind {
    pub const COLLATERAL: u8 = 1;
    pub const LIST_UNDERLYING: u8 = 2;
    pub const UNDERLYING: u8 = 3;
    pub const LIQUIDATION: u8 = 4;
    /// Target: the offset group's index (< `MAX_OFFSET_GROUPS`).
    pub const OFFSET_GROUP: u8 = 5;
    /// The quote's depeg contingency (target 0).
    pub const QUOTE_PEG: u8 = 6;
    /// The initial-margin scale (target 0).
    pub const MARGIN_SCALE: u8 = 7;
}

/// The governed parameters of one collateral asset.
#[zero_copy]
#[derive(Debug, PartialEq, Eq, Default, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct CollateralRiskParams {
    pub haircut: Haircut,
    pub oracle: OracleConfig,
    /// Native units.
    pub deposit_cap: u64,
    /// 1: no new deposits.
    pub reduce_only: u8,
    pub _padding: [u8; 7],
    /// The link to an underlying (all zero: not linked).
    pub link: CollateralLink,
}

#[account(zero_copy)]
#[repr(C)]
pub struct RiskChange {
    pub version: u8,
    /// Bump of `[RISK_CHANGE_SEED, exchange, id]`.
    pub bump: u8,
    /// `change_kind::*`.
    pub kind: u8,
    /// Collateral, underlying or offset-group index (for `LIST_UNDERLYING`: the index it will
    /// take).
    pub target: u8,
    pub _padding: [u8; 4],
    pub exchange: Pubkey,
    /// Paid the rent; gets it back when the change is executed or cancelled.
    pub payer: Pubkey,
    pub id: u64,
    /// Unix seconds.
    pub proposed_at: i64,
    pub executable_at: i64,
    /// For `COLLATERAL`.
    pub collateral: CollateralRiskParams,
    /// For `LIST_UNDERLYING` and `UNDERLYING`.
    pub underlying: UnderlyingConfig,
    /// For `LIQUIDATION`.
    pub liquidation: LiquidationParams,
    /// For `OFFSET_GROUP`.
    pub offset_group: OffsetGroupConfig,
    /// For `COLLATERAL`: the target's parameters when proposed.
    pub collateral_before: CollateralRiskParams,
    /// For `UNDERLYING`: the target's governed parameters when proposed (its retired
    /// estimator bytes zeroed, see `UnderlyingConfig::governed`).
    pub underlying_before: UnderlyingConfig,
    /// For `LIQUIDATION`: the exchange's liquidation parameters when proposed.
    pub liquidation_before: LiquidationParams,
    /// For `OFFSET_GROUP`: the group when proposed.
    pub offset_group_before: OffsetGroupConfig,
    /// For `MARGIN_SCALE`: the new scale and the scale when proposed (taken from reserved
    /// bytes: a proposal of another kind has them zero, and the layout is unchanged).
    pub margin_scale: MarginScaleParams,
    pub margin_scale_before: MarginScaleParams,
    pub reserved: [u8; 32],
    /// For `QUOTE_PEG`: the new parameters and those when proposed.
    pub quote_peg: QuotePegParams,
    pub quote_peg_before: QuotePegParams,
}

// Haircut, oracle, cap and flag, link.
const _: () = assert!(core::mem::size_of::<CollateralRiskParams>() == 80 + 112 + 16 + 16);
// Header, then (new parameters, parameters at proposal) for each kind, then reserved bytes.
const _: () = assert!(
    core::mem::size_of::<RiskChange>()
        == 8 + 64
            + 24
            + 2 * (core::mem::size_of::<CollateralRiskParams>()
                + core::mem::size_of::<UnderlyingConfig>()
                + core::mem::size_of::<LiquidationParams>()
                + core::mem::size_of::<OffsetGroupConfig>())
            + 2 * core::mem::size_of::<MarginScaleParams>()
            + 32
            + 2 * core::mem::size_of::<QuotePegParams>()
);
const _: () =
    assert!(core::mem::size_of::<RiskChange>() == 96 + 2 * (224 + 272 + 16 + 8) + 2 * 8 + 32 + 2 * 120);
// Created by CPI in `propose_risk_change`: within the 10 KiB a CPI may allocate.
const _: () = assert!(RiskChange::SPACE <= 10_240);

impl RiskChange {
    pub const SPACE: usize = 8 + core::mem::size_of::<RiskChange>();
}

fn step_ok(old: u16, new: u16, step: u16) -> bool {
    old.abs_diff(new) <= step
}

impl CollateralRiskParams {
    pub fn of(c: &CollateralConfig) -> Self {
        CollateralRiskParams {
            haircut: c.haircut,
            oracle: c.oracle,
            deposit_cap: c.deposit_cap,
            reduce_only: c.reduce_only,
            _padding: [0; 7],
            link: c.link,
        }
    }

    pub fn apply(&self, c: &mut CollateralConfig) {
        c.haircut = self.haircut;
        c.oracle = self.oracle;
        c.deposit_cap = self.deposit_cap;
        c.reduce_only = self.reduce_only;
        c.link = self.link;
    }

    /// Bounds of a timelocked change of collateral `collateral` from `current` (any
    /// direction), in a registry with `underlying_count` listed underlyings: a valid link
    /// (`CollateralLink::check`; never on the quote asset), a valid schedule, each weight
    /// within `step` bps of its current value, the link's basis haircuts within one step of
    /// what they replace (`check_link_step`), the cap at most doubled, a valid oracle.
    pub fn check_change(
        &self,
        current: &Self,
        step: u16,
        collateral: usize,
        underlying_count: u8,
    ) -> Result<()> {
        self.link.check(underlying_count, collateral)?;
        if collateral == 0 {
            self.check_quote_fixed(current)?;
        } else {
            self.oracle.validate()?;
        }
        require!(self.haircut.is_valid(), XmarginError::InvalidHaircut);
        require!(self.deposit_cap > 0, XmarginError::InvalidDepositCap);
        let (n, o) = (&self.haircut, &current.haircut);
        let mut ok = step_ok(o.initial_asset_weight_bps, n.initial_asset_weight_bps, step)
            && step_ok(o.maintenance_asset_weight_bps, n.maintenance_asset_weight_bps, step)
            && step_ok(o.initial_liability_weight_bps, n.initial_liability_weight_bps, step)
            && step_ok(o.maintenance_liability_weight_bps, n.maintenance_liability_weight_bps, step);
        let shared = usize::from(n.tier_count.min(o.tier_count)).min(MAX_TIERS);
        for (nt, ot) in n.tiers[..shared].iter().zip(&o.tiers[..shared]) {
            ok &= step_ok(ot.initial_weight_bps, nt.initial_weight_bps, step)
                && step_ok(ot.maintenance_weight_bps, nt.maintenance_weight_bps, step);
        }
        require!(ok, XmarginError::WeightStepTooLarge);
        self.check_link_step(current, step)?;
        let max_cap = current.deposit_cap.saturating_mul(MAX_CAP_GROWTH_FACTOR);
        require!(self.deposit_cap <= max_cap, XmarginError::CapGrowthTooLarge);
        Ok(())
    }

    /// Per-change bound of the link (`BasisHaircutStepTooLarge`). The linked part of a
    /// balance is charged its basis haircut instead of the standalone haircut, 10_000 − the
    /// asset weight, so linking is a loosening as large as the gap between the two. A change
    /// that links the asset, moves the link (another underlying or ratio) or lowers a basis
    /// haircut keeps that basis haircut at least 10_000 − the new asset weight of its level −
    /// `step` (initial: the initial asset weight; maintenance: the maintenance one); a level
    /// whose haircut a change to a linked asset leaves alone or raises is not bounded. And on
    /// an asset linked now, no basis haircut falls by more than `step`. Unlinking is free.
    fn check_link_step(&self, current: &Self, step: u16) -> Result<()> {
        let (n, o) = (&self.link, &current.link);
        if !n.is_active() {
            return Ok(());
        }
        let same_link = o.is_active() && n.underlying == o.underlying && n.ratio_e9 == o.ratio_e9;
        // Whether one level's new basis haircut is allowed, given its basis haircut now (0
        // when unlinked) and the level's new asset weight.
        let level_ok = |new: u16, old: u16, weight: u16| {
            if same_link && new >= old {
                return true;
            }
            let standalone_floor = BPS.saturating_sub(weight).saturating_sub(step);
            new >= standalone_floor && (!o.is_active() || new >= old.saturating_sub(step))
        };
        let ok = level_ok(n.basis_initial_bps, o.basis_initial_bps, self.haircut.initial_asset_weight_bps)
            && level_ok(
                n.basis_maintenance_bps,
                o.basis_maintenance_bps,
                self.haircut.maintenance_asset_weight_bps,
            );
        require!(ok, XmarginError::BasisHaircutStepTooLarge);
        Ok(())
    }

    /// The quote asset is the unit of account (price 1, weight 1 by definition): its haircut
    /// and oracle never change, by proposal or by the guardian, and it is never linked to an
    /// underlying (`QuoteAssetCannotBeLinked`); its cap and reduce-only flag may change.
    pub fn check_quote_fixed(&self, current: &Self) -> Result<()> {
        require!(!self.link.is_active(), XmarginError::QuoteAssetCannotBeLinked);
        require!(
            self.haircut == current.haircut && self.oracle == current.oracle && self.link == current.link,
            XmarginError::QuoteAssetImmutable
        );
        Ok(())
    }

    /// Whether every parameter moves only in the safe direction: asset weights down,
    /// liability weights up, same tiers with weights down, cap down, reduce-only on, the same
    /// oracle with limits no looser, the link removed or its basis haircuts up
    /// (`CollateralLink::tightens`).
    pub fn tightens(&self, current: &Self) -> bool {
        // Exhaustive destructuring: a field added to any of these structs fails to compile
        // here until its safe direction is written down.
        let CollateralRiskParams { haircut: n, oracle: no, deposit_cap, reduce_only, _padding: _, link } =
            self;
        let Haircut {
            initial_asset_weight_bps,
            maintenance_asset_weight_bps,
            initial_liability_weight_bps,
            maintenance_liability_weight_bps,
            tier_count,
            _padding: _,
            tiers,
        } = n;
        let o = &current.haircut;
        let mut ok = *initial_asset_weight_bps <= o.initial_asset_weight_bps
            && *maintenance_asset_weight_bps <= o.maintenance_asset_weight_bps
            && *initial_liability_weight_bps >= o.initial_liability_weight_bps
            && *maintenance_liability_weight_bps >= o.maintenance_liability_weight_bps
            && *tier_count == o.tier_count
            && *deposit_cap <= current.deposit_cap
            && *reduce_only >= current.reduce_only
            && *reduce_only <= 1
            && link.tightens(&current.link);
        let count = usize::from(o.tier_count).min(MAX_TIERS);
        for (nt, ot) in tiers[..count].iter().zip(&o.tiers[..count]) {
            let WeightTier { above, initial_weight_bps, maintenance_weight_bps, _padding: _ } = nt;
            ok &= *above == ot.above
                && *initial_weight_bps <= ot.initial_weight_bps
                && *maintenance_weight_bps <= ot.maintenance_weight_bps;
        }
        let OracleConfig {
            source,
            legacy_program,
            feed_account,
            kind,
            _padding: _,
            max_staleness_secs,
            max_staleness_slots,
            max_conf_bps,
        } = no;
        let oo = &current.oracle;
        let slots_tighter = oo.max_staleness_slots == 0
            || (*max_staleness_slots > 0 && *max_staleness_slots <= oo.max_staleness_slots);
        ok && *kind == oo.kind
            && *source == oo.source
            && *legacy_program == oo.legacy_program
            && *feed_account == oo.feed_account
            && *max_staleness_secs <= oo.max_staleness_secs
            && slots_tighter
            && *max_conf_bps <= oo.max_conf_bps
    }
}

/// Implied vol bounds accepted for an underlying: 1% to 1000%.
pub const MIN_IMPLIED_VOL_BPS: u32 = 100;
pub const MAX_IMPLIED_VOL_BPS: u32 = 100_000;

impl UnderlyingConfig {
    /// The scenario grid as the risk engine's parameters; with `adaptive`, the largest price
    /// shock is the estimator's current shock (`adaptive_shock`: the underlying's market's,
    /// `Market::volatility`).
    pub fn scenario(&self, adaptive_shock: Fx) -> Result<xmargin_risk::grid::ScenarioParams> {
        let mut grid = self.static_scenario()?;
        if self.adaptive == 1 {
            grid.max_price_shock = adaptive_shock;
        }
        Ok(grid)
    }

    /// The grid with the configured (static) largest price shock.
    pub fn static_scenario(&self) -> Result<xmargin_risk::grid::ScenarioParams> {
        Ok(xmargin_risk::grid::ScenarioParams {
            max_price_shock: bps(self.max_price_shock_bps)?,
            price_steps: self.price_steps,
            vol_shock_up: bps(self.vol_shock_up_bps)?,
            vol_shock_down: bps(self.vol_shock_down_bps)?,
            tail: self.tail_table(),
            short_option_charge: bps(self.short_option_charge_bps)?,
            vol_scaling: self.vol_scaling()?,
            quote_depeg_charge: Fx::ZERO,
        })
    }

    /// The used tail rows.
    pub fn tail_rows(&self) -> &[TailRowConfig] {
        &self.tail[..usize::from(self.tail_rows).min(MAX_TAIL_ROWS)]
    }

    /// Whether row `k` goes both ways.
    pub fn tail_both_ways(&self, k: usize) -> bool {
        u32::try_from(k)
            .ok()
            .and_then(|k| 1u8.checked_shl(k))
            .is_some_and(|bit| self.tail_both_ways_mask & bit != 0)
    }

    /// The tail table as the engine's, from the stored integers in 64-bit arithmetic
    /// (`TailRow::from_stored`: the same bits as the unit conversions) and **not validated**:
    /// every write of an underlying's configuration is validated first (`check`, which
    /// validates this table, `InvalidTailTable`), and health rebuilds it for every underlying
    /// of every check (validating it there cost ~0.6k compute units each time).
    pub fn tail_table(&self) -> TailTable {
        let mut rows = [TailRow::EMPTY; MAX_TAIL_ROWS];
        for (k, (row, stored)) in rows.iter_mut().zip(self.tail_rows()).enumerate() {
            *row = TailRow::from_stored(
                stored.price_multiple_hundredths,
                stored.vol_move_bps,
                stored.weight_bps,
                self.tail_both_ways(k),
            );
        }
        TailTable::from_validated(&rows[..self.tail_rows().len()])
    }

    /// The largest |price multiple| of the tail, hundredths (what marks record).
    pub fn largest_tail_hundredths(&self) -> u16 {
        self.tail_rows().iter().map(|r| r.price_multiple_hundredths.unsigned_abs()).max().unwrap_or(0)
    }

    /// The expiry scaling as stored: reference days, floor hours, exponent bps (what marks
    /// record: marks computed under other values are refused).
    pub fn vol_scaling_key(&self) -> [u16; 3] {
        [self.vol_scaling_reference_days, self.vol_scaling_floor_hours, self.vol_scaling_exponent_bps]
    }

    /// The expiry scaling as the engine's, not validated (as `tail_table`: `check` validates
    /// it with the rest of the grid on every write).
    pub fn vol_scaling(&self) -> Result<VolScaling> {
        vol_scaling(self.vol_scaling_key(), false)
    }

    /// The estimator's governed parameters.
    pub fn vol_params(&self) -> Result<VolParams> {
        Ok(VolParams {
            half_life_short_secs: i64::from(self.vol_half_life_short_secs),
            half_life_long_secs: i64::from(self.vol_half_life_long_secs),
            k: bps(self.vol_k_bps)?,
            horizon_secs: i64::from(self.vol_horizon_secs),
            floor: bps(self.vol_floor_bps)?,
            cap: bps(self.vol_cap_bps)?,
            max_decay_per_day: bps(self.vol_max_decay_bps)?,
            stressed_shock: bps(self.vol_stressed_shock_bps)?,
            stressed_weight: bps(self.vol_stressed_weight_bps)?,
        })
    }

    /// A fresh estimator at the configured implied vol (a market's, when it is created).
    pub fn initial_vol_state(&self) -> Result<VolState> {
        VolState::new(bps(self.implied_vol_bps)?, &self.vol_params()?).map_err(risk_error)
    }

    /// The governed parameters only: a copy without the retired estimator bytes (what a
    /// proposal snapshots).
    pub fn governed(&self) -> UnderlyingConfig {
        let mut out = *self;
        out.retired_estimator = [0; 72];
        out
    }

    /// Copies every governed parameter of `new`, keeping this entry's retired estimator bytes
    /// (`migrate_market` may still read them).
    pub fn apply_params(&mut self, new: &UnderlyingConfig) {
        let retired = self.retired_estimator;
        *self = *new;
        self.retired_estimator = retired;
    }

    /// A listable configuration: a valid oracle, a valid grid, implied vol within its bounds,
    /// valid estimator parameters.
    pub fn check(&self) -> Result<()> {
        self.oracle.validate()?;
        let vol_ok =
            self.vol_params()?.validate().is_ok() && self.vol_min_interval_secs > 0 && self.adaptive <= 1;
        require!(vol_ok, XmarginError::InvalidUnderlyingConfig);
        let vol_ok = MIN_IMPLIED_VOL_BPS <= self.min_implied_vol_bps
            && self.min_implied_vol_bps <= self.implied_vol_bps
            && self.implied_vol_bps <= self.max_implied_vol_bps
            && self.max_implied_vol_bps <= MAX_IMPLIED_VOL_BPS;
        require!(vol_ok, XmarginError::InvalidUnderlyingConfig);
        // The tail and the expiry scaling are validated here, on every write, and not when
        // health reads them back (`tail_table`, `vol_scaling`).
        let grid = self.static_scenario()?;
        grid.tail.validate().map_err(|_| error!(XmarginError::InvalidTailTable))?;
        require!(grid.validate().is_ok(), XmarginError::InvalidUnderlyingConfig);
        self.check_tail_shape()
    }

    /// The stored tail's shape: at most `MAX_TAIL_ROWS` rows, rows and both-ways bits past
    /// `tail_rows` zero, multiples and vol moves within their bounds (the engine's
    /// `TailTable::validate` checks the rest), reserved bytes zero.
    fn check_tail_shape(&self) -> Result<()> {
        let used = usize::from(self.tail_rows);
        let mask_ok = u32::try_from(used)
            .ok()
            .and_then(|n| 1u16.checked_shl(n))
            .is_some_and(|limit| u16::from(self.tail_both_ways_mask) < limit);
        let ok = used <= MAX_TAIL_ROWS
            && mask_ok
            && self.tail[used.min(MAX_TAIL_ROWS)..].iter().all(|r| *r == TailRowConfig::default())
            && self.tail_rows().iter().all(|r| {
                r.price_multiple_hundredths.unsigned_abs() <= MAX_TAIL_MULTIPLE_HUNDREDTHS.unsigned_abs()
                    && r.vol_move_bps.unsigned_abs() <= MAX_TAIL_VOL_MOVE_BPS.unsigned_abs()
            })
            && self.reserved == [0; 6];
        require!(ok, XmarginError::InvalidTailTable);
        Ok(())
    }

    /// Per-change bounds from `current`: every shock and charge within `step` bps.
    pub fn check_change(&self, current: &Self, step: u16) -> Result<()> {
        self.check()?;
        let ok = step_ok(current.max_price_shock_bps, self.max_price_shock_bps, step)
            && step_ok(current.vol_shock_up_bps, self.vol_shock_up_bps, step)
            && step_ok(current.vol_shock_down_bps, self.vol_shock_down_bps, step)
            && step_ok(current.short_option_charge_bps, self.short_option_charge_bps, step)
            && step_ok(current.vol_k_bps, self.vol_k_bps, step)
            && step_ok(current.vol_floor_bps, self.vol_floor_bps, step)
            && step_ok(current.vol_cap_bps, self.vol_cap_bps, step)
            && step_ok(current.vol_max_decay_bps, self.vol_max_decay_bps, step)
            && step_ok(current.vol_stressed_shock_bps, self.vol_stressed_shock_bps, step)
            && step_ok(current.vol_stressed_weight_bps, self.vol_stressed_weight_bps, step);
        require!(ok, XmarginError::WeightStepTooLarge);
        self.check_tail_step(current, step)?;
        self.check_vol_scaling_step(current, step)
    }

    /// Per-change bounds of the tail (`TailStepTooLarge`): row k of the new table against row
    /// k of the current one (a missing row counts as weight 0, so adding or removing a row is
    /// a weight change from or to 0): weight within `step` bps, the same direction (both
    /// ways, or the same sign), the multiple within 1.00 × P and the vol move within `step`
    /// bps of vol.
    fn check_tail_step(&self, current: &Self, step: u16) -> Result<()> {
        let rows = usize::from(self.tail_rows.max(current.tail_rows)).min(MAX_TAIL_ROWS);
        let mut ok = true;
        for k in 0..rows {
            let (n, o) = (self.tail_rows().get(k), current.tail_rows().get(k));
            let (nw, ow) = (n.map_or(0, |r| r.weight_bps), o.map_or(0, |r| r.weight_bps));
            ok &= step_ok(ow, nw, step);
            if let (Some(n), Some(o)) = (n, o) {
                let same_way = self.tail_both_ways(k) == current.tail_both_ways(k)
                    && (n.price_multiple_hundredths > 0) == (o.price_multiple_hundredths > 0);
                ok &= same_way
                    && n.price_multiple_hundredths.abs_diff(o.price_multiple_hundredths)
                        <= MAX_TAIL_MULTIPLE_STEP
                    && n.vol_move_bps.abs_diff(o.vol_move_bps) <= step;
            }
        }
        require!(ok, XmarginError::TailStepTooLarge);
        Ok(())
    }

    /// Per-change bound of the expiry scaling (`VolScalingStepTooLarge`): the exponent within
    /// `step` bps; the reference and floor only change while the scaling is off before and
    /// after (p = 0), so moving them is two changes through p = 0, each within its step.
    fn check_vol_scaling_step(&self, current: &Self, step: u16) -> Result<()> {
        let (n, o) = (self.vol_scaling_key(), current.vol_scaling_key());
        let same_shape = n[..2] == o[..2] || (n[2] == 0 && o[2] == 0);
        require!(same_shape && step_ok(o[2], n[2], step), XmarginError::VolScalingStepTooLarge);
        Ok(())
    }

    /// Whether `self` only adds stress to `current` (the guardian's `tighten_scenario`): the
    /// same parameters but for tail rows whose weights rose and rows added after the current
    /// ones, and a stressed shock no lower (its weight unchanged). Each only adds scenarios or
    /// raises the adaptive shock's target, so no requirement falls.
    pub fn only_adds_stress(&self, current: &Self) -> bool {
        // Exhaustive: a field added to `UnderlyingConfig` fails to compile here until it is
        // classified (unchanged, may only add stress, or not governed).
        let UnderlyingConfig {
            // Unchanged by the guardian.
            oracle,
            max_price_shock_bps,
            vol_shock_up_bps,
            vol_shock_down_bps,
            short_option_charge_bps,
            price_steps,
            adaptive,
            implied_vol_bps,
            min_implied_vol_bps,
            max_implied_vol_bps,
            vol_k_bps,
            vol_floor_bps,
            vol_cap_bps,
            vol_max_decay_bps,
            vol_stressed_weight_bps,
            vol_scaling_reference_days,
            vol_scaling_floor_hours,
            vol_scaling_exponent_bps,
            vol_half_life_short_secs,
            vol_half_life_long_secs,
            vol_horizon_secs,
            vol_min_interval_secs,
            reserved,
            // May only add stress (below).
            tail_rows,
            tail: _,
            tail_both_ways_mask: _,
            vol_stressed_shock_bps,
            // Not governed (`apply_params` keeps the current bytes).
            retired_estimator: _,
        } = self;
        let c = current;
        let unchanged = *oracle == c.oracle
            && *max_price_shock_bps == c.max_price_shock_bps
            && *vol_shock_up_bps == c.vol_shock_up_bps
            && *vol_shock_down_bps == c.vol_shock_down_bps
            && *short_option_charge_bps == c.short_option_charge_bps
            && *price_steps == c.price_steps
            && *adaptive == c.adaptive
            && *implied_vol_bps == c.implied_vol_bps
            && *min_implied_vol_bps == c.min_implied_vol_bps
            && *max_implied_vol_bps == c.max_implied_vol_bps
            && *vol_k_bps == c.vol_k_bps
            && *vol_floor_bps == c.vol_floor_bps
            && *vol_cap_bps == c.vol_cap_bps
            && *vol_max_decay_bps == c.vol_max_decay_bps
            && *vol_stressed_weight_bps == c.vol_stressed_weight_bps
            && *vol_scaling_reference_days == c.vol_scaling_reference_days
            && *vol_scaling_floor_hours == c.vol_scaling_floor_hours
            && *vol_scaling_exponent_bps == c.vol_scaling_exponent_bps
            && *vol_half_life_short_secs == c.vol_half_life_short_secs
            && *vol_half_life_long_secs == c.vol_half_life_long_secs
            && *vol_horizon_secs == c.vol_horizon_secs
            && *vol_min_interval_secs == c.vol_min_interval_secs
            && *reserved == c.reserved;
        // The current tail rows kept (same move and direction, weight no lower), rows only
        // appended after them (`tail` and `tail_both_ways_mask` row by row; rows past
        // `tail_rows` are zero by `check`).
        let kept = current.tail_rows().iter().enumerate().all(|(k, o)| {
            self.tail_rows().get(k).is_some_and(|n| {
                n.price_multiple_hundredths == o.price_multiple_hundredths
                    && n.vol_move_bps == o.vol_move_bps
                    && n.weight_bps >= o.weight_bps
                    && self.tail_both_ways(k) == current.tail_both_ways(k)
            })
        });
        unchanged && kept && *tail_rows >= c.tail_rows && *vol_stressed_shock_bps >= c.vol_stressed_shock_bps
    }
}

/// Largest change of a tail row's price multiple per timelocked change, hundredths (1.00 × P).
pub const MAX_TAIL_MULTIPLE_STEP: u16 = 100;

impl LiquidationParams {
    /// A timelocked change: within bounds, and every field within `step` bps of `current`.
    pub fn check_change(&self, current: &Self, step: u16) -> Result<()> {
        require!(self.is_valid(), XmarginError::InvalidLiquidationParams);
        require!(self.within_step(current, step), XmarginError::WeightStepTooLarge);
        Ok(())
    }
}

impl OffsetGroupConfig {
    /// Per-change bounds of a timelocked change from `current`: a credit of at most
    /// `MAX_OFFSET_CREDIT_BPS` (`InvalidOffsetCredit`), rising by at most `step` bps (the
    /// exchange's `max_weight_step_bps`, itself at most `MAX_WEIGHT_STEP_BPS` = 2,500) from the
    /// credit in force when the members stay the same, and from 0 when any member is added or
    /// removed (the credit in force was earned by other members; dissolving the group is a
    /// member change with credit 0): `OffsetCreditStepTooLarge`. The credit may fall freely.
    /// Validity and disjointness are checked separately (`HaircutRegistry::check_offset_group`).
    pub fn check_change(&self, current: &Self, step: u16) -> Result<()> {
        require!(self.credit_bps <= MAX_OFFSET_CREDIT_BPS, XmarginError::InvalidOffsetCredit);
        let from = if self.member_mask == current.member_mask { current.credit_bps } else { 0 };
        require!(self.credit_bps <= from.saturating_add(step), XmarginError::OffsetCreditStepTooLarge);
        Ok(())
    }
}

/// Largest fall of the quote peg's factor per timelocked change, hundredths (1× the depeg).
pub const MAX_QUOTE_PEG_FACTOR_STEP: u16 = 100;

impl QuotePegParams {
    /// All zero (no contingency), or a threshold in 1..=10_000 bps, a factor of at most
    /// `MAX_QUOTE_PEG_FACTOR_HUNDREDTHS` and a valid Pyth oracle; padding zero
    /// (`InvalidQuotePeg`).
    pub fn check(&self) -> Result<()> {
        require!(self._padding == [0; 4], XmarginError::InvalidQuotePeg);
        if self.threshold_bps == 0 {
            require!(*self == QuotePegParams::default(), XmarginError::InvalidQuotePeg);
            return Ok(());
        }
        let ok = self.threshold_bps <= BPS
            && self.factor_hundredths <= MAX_QUOTE_PEG_FACTOR_HUNDREDTHS
            && self.oracle.kind != oracle_kind::QUOTE;
        require!(ok, XmarginError::InvalidQuotePeg);
        self.oracle.validate()
    }

    /// Per-change bounds of a timelocked change from `current`: valid (`check`); the feed
    /// changes only while the contingency is off (`QuotePegOracleLocked`); the threshold
    /// falls by at most `step` bps and the factor by at most `MAX_QUOTE_PEG_FACTOR_STEP`
    /// (`WeightStepTooLarge`); rises are free (they only add margin). Removing the
    /// contingency is stepping the threshold down to 0.
    pub fn check_change(&self, current: &Self, step: u16) -> Result<()> {
        self.check()?;
        // Another feed could read above the threshold and remove the add-on in one change:
        // the feed changes only while the contingency is off (stepped down to 0 first).
        require!(
            self.oracle == current.oracle || current.threshold_bps == 0 || self.threshold_bps == 0,
            XmarginError::QuotePegOracleLocked
        );
        let ok = self.threshold_bps >= current.threshold_bps.saturating_sub(step)
            && (self.threshold_bps == 0
                || self.factor_hundredths
                    >= current.factor_hundredths.saturating_sub(MAX_QUOTE_PEG_FACTOR_STEP));
        require!(ok, XmarginError::WeightStepTooLarge);
        Ok(())
    }

    /// Whether this only raises the contingency (the guardian's `tighten_scenario`): the same
    /// oracle, threshold and factor no lower, the contingency already on.
    pub fn tightens(&self, current: &Self) -> bool {
        // Exhaustive: a new field fails to compile here until its safe direction is written.
        let QuotePegParams { oracle, threshold_bps, factor_hundredths, _padding } = self;
        current.threshold_bps > 0
            && *oracle == current.oracle
            && *threshold_bps >= current.threshold_bps
            && *factor_hundredths >= current.factor_hundredths
            && *_padding == [0; 4]
    }

    /// The engine's parameters.
    pub fn peg(&self) -> Result<QuotePeg> {
        Ok(QuotePeg { threshold: bps(self.threshold_bps)?, factor: hundredths(self.factor_hundredths)? })
    }
}

impl MarginScaleParams {
    /// A scale within `MIN_INITIAL_SCALE_BPS..=MAX_INITIAL_SCALE_BPS`, padding zero
    /// (`InvalidInitialScale`). Zero (the unset reference) is not proposed: it is written as
    /// `REFERENCE_INITIAL_SCALE_BPS`.
    pub fn check(&self) -> Result<()> {
        let ok = (MIN_INITIAL_SCALE_BPS..=MAX_INITIAL_SCALE_BPS).contains(&self.initial_scale_bps)
            && self._padding == [0; 6];
        require!(ok, XmarginError::InvalidInitialScale);
        Ok(())
    }

    /// Per-change bounds of a timelocked change from `current`: valid (`check`), lowered by
    /// at most `step` bps (`InitialScaleStepTooLarge`: the initial grid is the room between
    /// opening risk and being liquidated); raises are free (they only add margin, and refuse
    /// the marks computed for a smaller scale, `SeriesMarksState::initial_scale_bps`).
    pub fn check_change(&self, current: &Self, step: u16) -> Result<()> {
        self.check()?;
        require!(
            self.initial_scale_bps >= current.effective_bps().saturating_sub(step),
            XmarginError::InitialScaleStepTooLarge
        );
        Ok(())
    }

    /// Whether this only raises the scale (the guardian's `tighten_scenario`).
    pub fn tightens(&self, current: &Self) -> bool {
        // Exhaustive: a new field fails to compile here until its safe direction is written.
        let MarginScaleParams { initial_scale_bps, _padding } = self;
        *initial_scale_bps >= current.effective_bps() && *_padding == [0; 6]
    }
}

/// Whether another underlying fits in the registry.
pub fn underlying_slot_free(count: u8) -> bool {
    usize::from(count) < MAX_UNDERLYINGS
}
