//! The haircut registry: every collateral asset and underlying, with oracle configuration,
//! haircut schedule and caps. One zero-copy account per exchange.
use anchor_lang::prelude::*;

use crate::oracle::OracleConfig;

/// 2: oracle configurations carry the bound price-feed account (`OracleConfig::feed_account`).
pub const REGISTRY_VERSION: u8 = 2;
pub const MAX_COLLATERALS: usize = 16;
pub const MAX_UNDERLYINGS: usize = 16;
pub const MAX_TIERS: usize = 4;
/// Weights are basis points: 10_000 = 1.0.
pub const BPS: u16 = 10_000;

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
    /// Largest Σ deposits allowed, native units.
    pub deposit_cap: u64,
    /// Σ of all portfolios' positive balances, native units.
    pub total_deposits: u64,
    pub decimals: u8,
    pub vault_bump: u8,
    /// 1: no new deposits (withdrawals and liquidations still work).
    pub reduce_only: u8,
    pub _padding: [u8; 5],
    pub reserved: [u8; 32],
}

/// One listed underlying (used by the trading issue; listed through the timelock).
#[zero_copy]
#[derive(Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct UnderlyingConfig {
    pub oracle: OracleConfig,
    /// Scenario grid (maintenance): largest price shock, vol shocks, extreme move, all bps.
    pub max_price_shock_bps: u16,
    pub vol_shock_up_bps: u16,
    pub vol_shock_down_bps: u16,
    pub extreme_weight_bps: u16,
    pub short_option_charge_bps: u16,
    pub price_steps: u8,
    /// Extreme move multiple, tenths (30 = 3×).
    pub extreme_multiple_tenths: u8,
    /// Implied vol for valuation, bps (6_000 = 60%), within [min, max].
    pub implied_vol_bps: u32,
    pub min_implied_vol_bps: u32,
    pub max_implied_vol_bps: u32,
    /// 1: the grid's largest price shock follows `vol_shock` (the adaptive shock) instead of
    /// `max_price_shock_bps`.
    pub adaptive: u8,
    pub _padding: [u8; 1],
    /// Realized-volatility estimator (crates/risk/src/vol.rs): quantile multiplier k, shock
    /// floor and cap, largest fall of the shock per day, all bps (k: 30_000 = 3).
    pub vol_k_bps: u16,
    pub vol_floor_bps: u16,
    pub vol_cap_bps: u16,
    pub vol_max_decay_bps: u16,
    pub _padding2: [u8; 2],
    /// Half-lives of the short and long averages, the liquidation horizon, and the least time
    /// between two `update_volatility` calls, seconds.
    pub vol_half_life_short_secs: u32,
    pub vol_half_life_long_secs: u32,
    pub vol_horizon_secs: u32,
    pub vol_min_interval_secs: u32,
    pub _padding3: [u8; 4],
    /// Estimator state, written by `update_volatility`: last update (unix seconds; 0 = none
    /// yet), last price (quote per unit), annualized variances, adaptive shock (fraction).
    /// I80F48 values stored as little-endian bits.
    pub vol_last_time: i64,
    pub vol_last_price: [u8; 16],
    pub vol_var_short: [u8; 16],
    pub vol_var_long: [u8; 16],
    pub vol_shock: [u8; 16],
    pub reserved: [u8; 32],
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
    /// Socialized-loss index of positive quote balances (I80F48 bits; zero bits mean 1.0, no
    /// loss yet). `resolve_bankruptcy` multiplies it by (1 − loss / Σ positive quote
    /// balances); a portfolio's positive quote balance is worth stored × index / its
    /// snapshot (`Portfolio::quote_loss_snapshot`), applied lazily when it is next touched.
    pub quote_loss_index: [u8; 16],
    pub reserved: [u8; 240],
}

const _: () = assert!(core::mem::size_of::<CollateralConfig>() == 3 * 32 + 112 + 80 + 16 + 8 + 32);
const _: () = assert!(core::mem::size_of::<UnderlyingConfig>() == 272);
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
        crate::state::loss_index(self.quote_loss_index)
    }

    pub fn collateral_index(&self, mint: &Pubkey) -> Option<usize> {
        self.listed_collaterals().iter().position(|c| c.mint == *mint)
    }
}

impl Haircut {
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
