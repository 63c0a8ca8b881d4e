//! The haircut registry: every collateral asset and underlying, with oracle configuration,
//! haircut schedule and caps. One zero-copy account per exchange.
use anchor_lang::prelude::*;

use super::OracleConfig;
use super::StoredFx;
use crate::error::XmarginError;

/// 2: oracle configurations carry the bound price-feed account (`OracleConfig::feed_account`).
/// 3: collateral links (`CollateralConfig::link`) and correlation offset groups
/// (`HaircutRegistry::offset_groups`), both taken from reserved bytes; all zero means
/// unlinked / unused, so a version-2 registry reads as one with no link and no group.
/// 4: the underlying's tail-scenario table, vol-shock expiry scaling and stressed shock replace
/// the single extreme move (`UnderlyingConfig`, same size; fields moved: a version-3 registry
/// must be re-listed, not read); the quote asset's depeg contingency (`CollateralConfig::
/// quote_peg`, from reserved bytes).
/// 5: `CollateralConfig::total_deposits` is no longer kept (deposit caps apply to the vault's
/// balance) and Σ positive quote balances moved to shards (`QuoteLedger`, one per market), so
/// that deposits, withdrawals and trades do not write the registry.
pub const REGISTRY_VERSION: u8 = 5;
/// Rows of an underlying's tail table.
pub const MAX_TAIL_ROWS: usize = xmargin_risk::scenarios::MAX_TAIL_ROWS;
pub const MAX_COLLATERALS: usize = 16;
pub const MAX_UNDERLYINGS: usize = 16;
pub const MAX_TIERS: usize = 4;
/// Weights are basis points: 10_000 = 1.0.
pub const BPS: u16 = 10_000;
/// Correlation offset groups in the registry.
pub const MAX_OFFSET_GROUPS: usize = 4;
/// Members of one offset group (at least 2).
pub const MIN_GROUP_MEMBERS: u32 = 2;
pub const MAX_GROUP_MEMBERS: u32 = 4;
/// Largest correlation credit ρ a timelocked change may give an offset group, bps (ρ ≤ ½).
/// Above ½, taking one leg of an offsetting pair raises the group requirement by more than it
/// frees (ΔR = (2ρ − 1)·R_leg for delta legs), so a book under water could not be liquidated
/// one leg at a time. Enforced by `OffsetGroupConfig::check_change` (every proposal and
/// execution); the guardian only lowers a credit.
pub const MAX_OFFSET_CREDIT_BPS: u16 = 5_000;
/// `CollateralLink::ratio_e9` of one underlying unit per token.
pub const LINK_RATIO_ONE: u64 = 1_000_000_000;
/// Largest `CollateralLink::ratio_e9`: 10 underlying units per token.
pub const MAX_LINK_RATIO_E9: u64 = 10 * LINK_RATIO_ONE;

/// Weights above a balance threshold.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct WeightTier {
    /// Native token units above which these weights apply.
    pub above: u64,
    /// Basis points.
    pub initial_weight_bps: u16,
    pub maintenance_weight_bps: u16,
    pub _padding: [u8; 4],
}

/// A haircut schedule (all weights in basis points).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct Haircut {
    /// Asset weights below the first tier; initial ≤ maintenance ≤ 10_000.
    pub initial_asset_weight_bps: u16,
    pub maintenance_asset_weight_bps: u16,
    /// Liability weights; ≥ 10_000, initial ≥ maintenance.
    pub initial_liability_weight_bps: u16,
    pub maintenance_liability_weight_bps: u16,
    pub tier_count: u8,
    pub _padding: [u8; 7],
    pub tiers: [WeightTier; MAX_TIERS],
}

/// One listed collateral asset.
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct CollateralConfig {
    pub mint: Pubkey,
    /// Token account of `mint` owned by the exchange PDA (`[VAULT_SEED, exchange, mint]`).
    pub vault: Pubkey,
    /// SPL Token or Token-2022.
    pub token_program: Pubkey,
    pub oracle: OracleConfig,
    pub haircut: Haircut,
    /// Largest balance of the asset's vault a deposit may leave, native units.
    pub deposit_cap: u64,
    /// Retired in registry version 5 (always 0): the Σ of positive balances it kept was
    /// written by every deposit and withdrawal; caps now apply to the vault's balance.
    pub total_deposits: u64,
    pub decimals: u8,
    pub vault_bump: u8,
    /// 1: no new deposits (withdrawals and liquidations still work).
    pub reduce_only: u8,
    pub _padding: [u8; 5],
    /// The underlying this asset is linked to, if any (governed with the haircut).
    pub link: CollateralLink,
    pub reserved: [u8; 16],
}

/// A collateral asset linked to an underlying (wrapped BTC ↔ BTC; an LST ↔ SOL with a
/// conversion ratio): a linked balance enters that underlying's scenario grid as a linear
/// exposure, and the part of it that offsets derivative exposure is charged the basis haircut
/// below instead of its standalone haircut. Governed through the timelock with the rest of
/// the collateral's parameters (`CollateralRiskParams::link`); the guardian may only unlink or
/// raise the basis haircut (`CollateralRiskParams::tightens`). All zero = not linked.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct CollateralLink {
    /// 1: linked; 0: not linked (then every field is zero).
    pub active: u8,
    /// Index of the underlying in the registry (`HaircutRegistry::underlyings`).
    pub underlying: u8,
    /// Basis / liquidity haircut of the linked (offsetting) part of a balance, a fraction of
    /// its value in bps (0..=10_000), at the initial and the maintenance level; initial ≥
    /// maintenance. It replaces the standalone haircut (10_000 − the asset weight) of that
    /// part, so a timelocked change that links the asset, moves the link (another underlying
    /// or ratio) or lowers a basis haircut keeps each one at least one step below the
    /// standalone haircut of its level (≥ 10_000 − new asset weight − `max_weight_step_bps`,
    /// initial with the initial weight, maintenance with the maintenance weight), and a
    /// lowering on a linked asset is at most one step (≥ old − step):
    /// `BasisHaircutStepTooLarge` (`CollateralRiskParams::check_change`).
    pub basis_initial_bps: u16,
    pub basis_maintenance_bps: u16,
    pub _padding: [u8; 2],
    /// Underlying units per whole token, ×1e9 (`LINK_RATIO_ONE` = 1:1, wBTC ↔ BTC; an LST
    /// worth 1.08 SOL: 1_080_000_000), in 1..=`MAX_LINK_RATIO_E9`.
    pub ratio_e9: u64,
}

/// A correlation offset group: underlyings whose margin requirements offset each other by the
/// credit ρ (the engine's R = Σ R_u − ρ · (Σ R_u − R_joint)). Governed through the timelock
/// (`change_kind::OFFSET_GROUP`, bounds in `check_change`); the guardian may only lower the
/// credit or dissolve the group (`tighten_offsets`). All zero = unused.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct OffsetGroupConfig {
    /// Bit i set: underlying index i is a member (2..=`MAX_GROUP_MEMBERS` listed underlyings).
    pub member_mask: u16,
    /// Correlation credit ρ, bps (10_000 = the whole diversification credit). Valid entries
    /// hold 0..=10_000; a timelocked change sets at most `MAX_OFFSET_CREDIT_BPS` (5,000), at
    /// most one step (`max_weight_step_bps`) above the credit in force, and, when it changes
    /// the members, at most one step above 0.
    pub credit_bps: u16,
    pub _padding: [u8; 4],
}

/// One row of an underlying's tail-scenario table (`xmargin_risk::scenarios`).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct TailRowConfig {
    /// Price move as a signed multiple of the grid's largest price shock, hundredths (−300 =
    /// down 3 × P); |value| in 1..=`MAX_TAIL_MULTIPLE_HUNDREDTHS`, positive for a row both ways.
    pub price_multiple_hundredths: i16,
    /// Implied-vol move, signed bps of vol (2_500 = +25 vol points), |value| ≤ 30_000.
    pub vol_move_bps: i16,
    /// Weight of the row's loss, bps in 1..=10_000.
    pub weight_bps: u16,
}

/// Largest |`TailRowConfig::price_multiple_hundredths`|: 25 × P (`scenarios::MAX_TAIL_MULTIPLE`).
pub const MAX_TAIL_MULTIPLE_HUNDREDTHS: i16 = 2_500;
/// Largest |`TailRowConfig::vol_move_bps`|: 300 vol points (`scenarios::MAX_TAIL_VOL_MOVE`).
pub const MAX_TAIL_VOL_MOVE_BPS: i16 = 30_000;

/// One listed underlying (used by the trading issue; listed through the timelock).
#[zero_copy]
#[derive(Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct UnderlyingConfig {
    pub oracle: OracleConfig,
    /// Scenario grid (maintenance): largest price shock, vol shocks (at the reference time to
    /// expiry), short-option minimum, all bps.
    pub max_price_shock_bps: u16,
    pub vol_shock_up_bps: u16,
    pub vol_shock_down_bps: u16,
    pub short_option_charge_bps: u16,
    pub price_steps: u8,
    /// Rows used in `tail` (0..=`MAX_TAIL_ROWS`); bit k of `tail_both_ways_mask`: row k goes
    /// both ways (±multiple × P).
    pub tail_rows: u8,
    pub tail_both_ways_mask: u8,
    /// 1: the grid's largest price shock follows `vol_shock` (the adaptive shock) instead of
    /// `max_price_shock_bps`.
    pub adaptive: u8,
    /// Implied vol for valuation, bps (6_000 = 60%), within [min, max].
    pub implied_vol_bps: u32,
    pub min_implied_vol_bps: u32,
    pub max_implied_vol_bps: u32,
    /// Realized-volatility estimator (crates/risk/src/vol.rs): quantile multiplier k, shock
    /// floor and cap, largest fall of the shock per day, stressed shock and its weight
    /// (EMIR art. 28(1)(b)), all bps (k: 30_000 = 3).
    pub vol_k_bps: u16,
    pub vol_floor_bps: u16,
    pub vol_cap_bps: u16,
    pub vol_max_decay_bps: u16,
    pub vol_stressed_shock_bps: u16,
    pub vol_stressed_weight_bps: u16,
    /// Expiry scaling of the vol shocks (`scenarios::VolScaling`): the reference time to
    /// expiry, days (1..=3650), and the floor, hours (1..=reference × 24).
    pub vol_scaling_reference_days: u16,
    pub vol_scaling_floor_hours: u16,
    /// Half-lives of the short and long averages, the liquidation horizon, and the least time
    /// between two `update_volatility` calls, seconds.
    pub vol_half_life_short_secs: u32,
    pub vol_half_life_long_secs: u32,
    pub vol_horizon_secs: u32,
    pub vol_min_interval_secs: u32,
    /// Where the estimator's state was until it moved to the underlying's market
    /// (`Market::volatility`, so that `update_volatility` writes no venue-wide account): the
    /// same 72 bytes, laid out as `VolatilityState`. Not read again except by `migrate_market`
    /// (a version-3 market takes its estimator from here); may hold that old state.
    pub retired_estimator: [u8; 72],
    /// The tail-scenario table (rows past `tail_rows` all zero).
    pub tail: [TailRowConfig; MAX_TAIL_ROWS],
    /// The expiry scaling's exponent p, bps (0..=10_000; 3_000 = 0.3; 0 = no scaling).
    pub vol_scaling_exponent_bps: u16,
    pub reserved: [u8; 6],
}

#[account(zero_copy)]
#[repr(C)]
pub struct HaircutRegistry {
    /// `REGISTRY_VERSION`.
    pub version: u8,
    /// Bump of `[REGISTRY_SEED, exchange]`.
    pub bump: u8,
    pub collateral_count: u8,
    pub underlying_count: u8,
    pub _padding: [u8; 4],
    pub exchange: Pubkey,
    /// Index 0 is the exchange's quote asset (price 1 by definition).
    pub collaterals: [CollateralConfig; MAX_COLLATERALS],
    pub underlyings: [UnderlyingConfig; MAX_UNDERLYINGS],
    /// Socialized-loss index of positive quote balances (zero bits mean 1.0, no loss yet:
    /// read it with `StoredFx::get_or_one`). `resolve_bankruptcy` multiplies it by (1 − loss / Σ positive quote
    /// balances); a portfolio's positive quote balance is worth stored × index / its
    /// snapshot (`Portfolio::quote_loss_snapshot`), applied lazily when it is next touched.
    pub quote_loss_index: StoredFx,
    /// Correlation offset groups (unused ones all zero); pairwise disjoint.
    pub offset_groups: [OffsetGroupConfig; MAX_OFFSET_GROUPS],
    /// The quote asset's depeg contingency (`xmargin_risk::depeg`).
    pub quote_peg: QuotePegConfig,
    /// The initial level's grid as a multiple of maintenance's (`change_kind::MARGIN_SCALE`;
    /// all zero: the reference 1.5×, as before the field existed).
    pub margin_scale: MarginScaleParams,
    pub reserved: [u8; 64],
}

/// The governed initial-margin scale (`change_kind::MARGIN_SCALE`).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct MarginScaleParams {
    /// The initial level's price and vol shocks (and tail moves) as a multiple of the
    /// maintenance level's, bps: `MIN_INITIAL_SCALE_BPS..=MAX_INITIAL_SCALE_BPS`; 0 in a
    /// registry that never set it, read as `REFERENCE_INITIAL_SCALE_BPS`.
    pub initial_scale_bps: u16,
    pub _padding: [u8; 6],
}

/// The reference initial scale, 1.5× (`xmargin_risk::MarginParams::REFERENCE`): what every
/// registry had before the scale was governed.
pub const REFERENCE_INITIAL_SCALE_BPS: u16 = 15_000;
/// Bounds of a governed initial scale: 1× (initial = maintenance: no room between opening
/// risk and being liquidated) to 3×.
pub const MIN_INITIAL_SCALE_BPS: u16 = 10_000;
pub const MAX_INITIAL_SCALE_BPS: u16 = 30_000;

impl MarginScaleParams {
    /// The scale in force, bps (0 reads as the reference).
    pub fn effective_bps(&self) -> u16 {
        if self.initial_scale_bps == 0 {
            REFERENCE_INITIAL_SCALE_BPS
        } else {
            self.initial_scale_bps
        }
    }
}

/// The governed part of the quote's depeg contingency (`change_kind::QUOTE_PEG`). All zero:
/// no contingency.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct QuotePegParams {
    /// The quote's own USD price feed (USDC/USD); a pull or legacy oracle when the threshold
    /// is set.
    pub oracle: OracleConfig,
    /// The add-on applies while the quote's price is below this, bps of 1 USD (9_900 =
    /// 0.99); 0 = no contingency.
    pub threshold_bps: u16,
    /// Multiple of the depeg charged per unit of gross notional, hundredths (200 = 2×),
    /// 0..=`MAX_QUOTE_PEG_FACTOR_HUNDREDTHS`.
    pub factor_hundredths: u16,
    pub _padding: [u8; 4],
}

/// The quote's depeg contingency: governed parameters and the last price `update_quote_peg`
/// recorded.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct QuotePegConfig {
    pub params: QuotePegParams,
    /// The quote's conservative USD price (min(spot, EMA) − conf), 10^−9 USD per quote unit.
    pub price_e9: u64,
    /// Publish time of that price, unix seconds; 0 = never recorded.
    pub price_time: i64,
}

/// Largest `QuotePegParams::factor_hundredths`: 20× the depeg (`QuotePeg::MAX_FACTOR`).
pub const MAX_QUOTE_PEG_FACTOR_HUNDREDTHS: u16 = 2_000;

const _: () = assert!(core::mem::size_of::<CollateralLink>() == 16);
const _: () = assert!(core::mem::size_of::<OffsetGroupConfig>() == 8);
// Keys, oracle, haircut, cap and total, decimals/bump/flag/padding, link, reserved: 344 bytes
// as before the link (it took 16 of the 32 reserved bytes).
const _: () = assert!(core::mem::size_of::<CollateralConfig>() == 3 * 32 + 112 + 80 + 16 + 8 + 16 + 16);
const _: () = assert!(core::mem::size_of::<CollateralConfig>() == 344);
const _: () = assert!(core::mem::size_of::<TailRowConfig>() == 6);
const _: () = assert!(core::mem::size_of::<UnderlyingConfig>() == 272);
const _: () = assert!(core::mem::size_of::<QuotePegParams>() == 120);
const _: () = assert!(core::mem::size_of::<QuotePegConfig>() == 136);
// Header, collaterals, underlyings, loss index, offset groups, quote peg, margin scale,
// reserved: the size it had before the groups, the peg and the scale (they took 32, 136 and 8
// of the 240 reserved bytes).
const _: () = assert!(
    core::mem::size_of::<HaircutRegistry>()
        == 8 + 32 + MAX_COLLATERALS * 344 + MAX_UNDERLYINGS * 272 + 16 + MAX_OFFSET_GROUPS * 8 + 136 + 8 + 64
);
const _: () = assert!(core::mem::size_of::<MarginScaleParams>() == 8);
const _: () = assert!(
    core::mem::size_of::<HaircutRegistry>() == 8 + 32 + MAX_COLLATERALS * 344 + MAX_UNDERLYINGS * 272 + 256
);
// Created by CPI in `initialize_exchange`: must stay within the 10 KiB a CPI may allocate.
const _: () = assert!(HaircutRegistry::SPACE <= 10_240);

impl HaircutRegistry {
    pub const SPACE: usize = 8 + core::mem::size_of::<HaircutRegistry>();

    pub fn listed_collaterals(&self) -> &[CollateralConfig] {
        &self.collaterals[..usize::from(self.collateral_count).min(MAX_COLLATERALS)]
    }

    /// The socialized-loss index (1.0 until a loss is socialized).
    pub fn quote_loss_index(&self) -> xmargin_risk::Fx {
        self.quote_loss_index.get_or_one()
    }

    /// The initial level's grid as a multiple of maintenance's (`margin_scale`).
    pub fn initial_scale(&self) -> Result<xmargin_risk::Fx> {
        super::units::bps(self.margin_scale.effective_bps())
    }

    pub fn collateral_index(&self, mint: &Pubkey) -> Option<usize> {
        self.listed_collaterals().iter().position(|c| c.mint == *mint)
    }

    /// The used offset groups with their index in `offset_groups`.
    pub fn offset_groups(&self) -> impl Iterator<Item = (usize, &OffsetGroupConfig)> {
        self.offset_groups.iter().enumerate().filter(|(_, g)| g.is_used())
    }

    /// Whether `group` may stand at `index` (< `MAX_OFFSET_GROUPS`) beside the other groups
    /// as they are now: a valid group (`OffsetGroupConfig::check`) sharing no underlying with
    /// any other group.
    pub fn check_offset_group(&self, index: usize, group: &OffsetGroupConfig) -> Result<()> {
        group.check(self.underlying_count)?;
        let others =
            self.offset_groups().filter(|(i, _)| *i != index).fold(0u16, |m, (_, g)| m | g.member_mask);
        require!(others & group.member_mask == 0, XmarginError::OffsetGroupsOverlap);
        Ok(())
    }
}

impl CollateralLink {
    /// Whether the asset is linked to an underlying.
    pub fn is_active(&self) -> bool {
        self.active == 1
    }

    /// The underlying the asset is linked to (`None`: not linked).
    pub fn linked_underlying(&self) -> Option<u16> {
        self.is_active().then_some(u16::from(self.underlying))
    }

    /// Checks the link of collateral `collateral` in a registry with `underlying_count`
    /// listed underlyings (see the field docs), with one error per rule broken.
    pub fn check(&self, underlying_count: u8, collateral: usize) -> Result<()> {
        if !self.is_active() {
            require!(*self == CollateralLink::default(), XmarginError::MalformedCollateralLink);
            return Ok(());
        }
        require!(self._padding == [0; 2], XmarginError::MalformedCollateralLink);
        require!(collateral != 0, XmarginError::QuoteAssetCannotBeLinked);
        require!(self.underlying < underlying_count, XmarginError::LinkUnderlyingNotListed);
        require!((1..=MAX_LINK_RATIO_E9).contains(&self.ratio_e9), XmarginError::InvalidLinkRatio);
        require!(
            self.basis_initial_bps <= BPS && self.basis_maintenance_bps <= self.basis_initial_bps,
            XmarginError::InvalidBasisHaircut
        );
        Ok(())
    }

    /// `check` as a yes/no answer.
    pub fn is_valid(&self, underlying_count: u8, collateral: usize) -> bool {
        self.check(underlying_count, collateral).is_ok()
    }

    /// Whether this link is no looser than `current`: unlinked, or linked to the same
    /// underlying at the same ratio with neither basis haircut lower. Linking, moving the link
    /// to another underlying or ratio, or lowering a basis haircut loosens.
    pub fn tightens(&self, current: &CollateralLink) -> bool {
        // Exhaustive: a field added to the link fails to compile here until its safe
        // direction is written down.
        let CollateralLink {
            active,
            underlying,
            basis_initial_bps,
            basis_maintenance_bps,
            _padding: _,
            ratio_e9,
        } = self;
        if *active != 1 {
            // Unlinked (`check` requires every other field zero then).
            return true;
        }
        current.is_active()
            && *underlying == current.underlying
            && *ratio_e9 == current.ratio_e9
            && *basis_initial_bps >= current.basis_initial_bps
            && *basis_maintenance_bps >= current.basis_maintenance_bps
    }
}

impl OffsetGroupConfig {
    /// Whether the group has members (an unused group is all zero).
    pub fn is_used(&self) -> bool {
        self.member_mask != 0
    }

    pub fn member_count(&self) -> u32 {
        self.member_mask.count_ones()
    }

    /// The member underlyings' indexes, ascending.
    pub fn members(&self) -> impl Iterator<Item = u8> + '_ {
        (0u8..16)
            .filter(move |i| 1u16.checked_shl(u32::from(*i)).is_some_and(|bit| self.member_mask & bit != 0))
    }

    /// Whether this group is no looser than `current`: dissolved (all zero), or the same
    /// members with a credit no higher. A member change or a higher credit loosens.
    pub fn tightens(&self, current: &OffsetGroupConfig) -> bool {
        // Exhaustive: a field added to the group fails to compile here until its safe
        // direction is written down (padding: `check` requires it zero).
        let OffsetGroupConfig { member_mask, credit_bps, _padding: _ } = self;
        *self == OffsetGroupConfig::default()
            || (*member_mask == current.member_mask && *credit_bps <= current.credit_bps)
    }

    /// Checks the group alone in a registry with `underlying_count` listed underlyings: unused
    /// and all zero, or 2..=`MAX_GROUP_MEMBERS` listed members and a credit of at most 10_000
    /// bps; padding zero. (Disjointness from the other groups: `HaircutRegistry::check_offset_group`;
    /// the cap `MAX_OFFSET_CREDIT_BPS` and the per-change step of a timelocked change:
    /// `check_change`; so the guardian may lower a credit left above the cap to any lower value.)
    pub fn check(&self, underlying_count: u8) -> Result<()> {
        require!(self._padding == [0; 4], XmarginError::MalformedOffsetGroup);
        if !self.is_used() {
            require!(self.credit_bps == 0, XmarginError::MalformedOffsetGroup);
            return Ok(());
        }
        let count = self.member_count();
        require!(
            (MIN_GROUP_MEMBERS..=MAX_GROUP_MEMBERS).contains(&count),
            XmarginError::OffsetGroupMemberCount
        );
        // Members are underlying indexes below `underlying_count` (≤ 16 bits).
        let listed = 1u32.checked_shl(u32::from(underlying_count)).map_or(u32::MAX, |b| b.wrapping_sub(1));
        require!(u32::from(self.member_mask) & !listed == 0, XmarginError::OffsetGroupMemberNotListed);
        require!(self.credit_bps <= BPS, XmarginError::InvalidOffsetCredit);
        Ok(())
    }
}

impl Haircut {
    /// Whether a balance counts at exactly its value at both levels, either sign: every
    /// weight 1, no tiers (the quote asset's, which never changes).
    pub fn is_unit(&self) -> bool {
        self.tier_count == 0
            && [
                self.initial_asset_weight_bps,
                self.maintenance_asset_weight_bps,
                self.initial_liability_weight_bps,
                self.maintenance_liability_weight_bps,
            ]
            .iter()
            .all(|w| u32::from(*w) == u32::from(BPS))
    }

    /// Checks the schedule's shape (see the field docs).
    pub fn is_valid(&self) -> bool {
        let mut ok = self.initial_asset_weight_bps <= self.maintenance_asset_weight_bps
            && self.maintenance_asset_weight_bps <= BPS
            && self.maintenance_liability_weight_bps >= BPS
            && self.initial_liability_weight_bps >= self.maintenance_liability_weight_bps
            && usize::from(self.tier_count) <= MAX_TIERS;
        let (mut above, mut init, mut maint) =
            (0u64, self.initial_asset_weight_bps, self.maintenance_asset_weight_bps);
        for tier in &self.tiers[..usize::from(self.tier_count).min(MAX_TIERS)] {
            ok &= tier.above > above
                && tier.initial_weight_bps <= init
                && tier.maintenance_weight_bps <= maint
                && tier.initial_weight_bps <= tier.maintenance_weight_bps;
            (above, init, maint) = (tier.above, tier.initial_weight_bps, tier.maintenance_weight_bps);
        }
        ok
    }
}
