//! Events: one per state change. Numeric fields state their unit.
use anchor_lang::prelude::*;

/// Emitted once, when the exchange singleton is created.
#[event]
pub struct ExchangeInitialized {
    pub exchange: Pubkey,
    pub governance: Pubkey,
    pub guardian: Pubkey,
    pub quote_mint: Pubkey,
    pub insurance_vault: Pubkey,
    /// Seconds a loosening risk change waits between proposal and execution.
    pub timelock_delay_secs: i64,
    /// Unix time (seconds) of the creation, from the Clock sysvar.
    pub created_at: i64,
}

/// Emitted by `set_pause`; flags are bits of `state::pause`.
#[event]
pub struct PauseFlagsChanged {
    pub authority: Pubkey,
    pub old_pause_flags: u8,
    pub new_pause_flags: u8,
}

/// Emitted by `list_collateral`. Weights in basis points, cap in native units.
#[event]
pub struct CollateralListed {
    pub mint: Pubkey,
    pub index: u8,
    pub vault: Pubkey,
    /// Its insurance account (`[INSURANCE_SEED, exchange, mint]`).
    pub insurance_vault: Pubkey,
    pub oracle_kind: u8,
    pub maintenance_asset_weight_bps: u16,
    pub deposit_cap: u64,
}

#[event]
pub struct PortfolioOpened {
    pub portfolio: Pubkey,
    pub owner: Pubkey,
    pub index: u16,
}

#[event]
pub struct DelegateChanged {
    pub portfolio: Pubkey,
    pub old_delegate: Pubkey,
    pub new_delegate: Pubkey,
    /// Basis points of spot.
    pub old_max_slippage_bps: u16,
    pub new_max_slippage_bps: u16,
}

#[event]
pub struct PortfolioClosed {
    pub portfolio: Pubkey,
    pub owner: Pubkey,
}

/// Emitted by `deposit` and `withdraw`. Amounts and balances in the asset's native units
/// (balances signed: negative = owed).
#[event]
pub struct CollateralMoved {
    pub portfolio: Pubkey,
    pub mint: Pubkey,
    pub collateral: u8,
    /// Positive for a deposit, negative for a withdrawal.
    pub amount: i64,
    pub balance_before: i64,
    pub balance_after: i64,
    /// Tokens in the asset's vault after (what its deposit cap applies to).
    pub vault_balance_after: u64,
}

/// Emitted by `refresh_health` (also its return data). Quote units as I80F48 bits
/// (divide by 2^48).
#[event]
pub struct HealthReport {
    pub portfolio: Pubkey,
    pub equity: i128,
    pub initial_health: i128,
    pub maintenance_health: i128,
    pub initial_requirement: i128,
    pub maintenance_requirement: i128,
    /// Offset credits subtracted from the requirements (I80F48 bits, quote units).
    pub initial_offset_credit: i128,
    pub maintenance_offset_credit: i128,
}

/// A timelocked change was proposed. `executable_at`: unix seconds.
#[event]
pub struct RiskChangeProposed {
    pub id: u64,
    /// `state::change_kind::*`.
    pub kind: u8,
    pub target: u8,
    pub proposer: Pubkey,
    pub executable_at: i64,
}

/// A collateral's governed parameters changed (timelock execution: `change_id` = the
/// proposal id; guardian tightening: `change_id` = None).
#[event]
pub struct CollateralRiskChanged {
    pub change_id: Option<u64>,
    pub collateral: u8,
    pub old: crate::state::CollateralRiskParams,
    pub new: crate::state::CollateralRiskParams,
}

/// An underlying was listed (`old` all zero) or its parameters changed.
#[event]
pub struct UnderlyingRiskChanged {
    pub change_id: u64,
    pub underlying: u8,
    pub listed: bool,
    pub old: crate::state::UnderlyingConfig,
    pub new: crate::state::UnderlyingConfig,
}

#[event]
pub struct RiskChangeCancelled {
    pub id: u64,
    pub by: Pubkey,
}

/// `role`: 0 governance, 1 guardian.
#[event]
pub struct AuthorityProposed {
    pub role: u8,
    pub current: Pubkey,
    pub proposed: Pubkey,
}

/// Emitted by `update_volatility`. I80F48 bits (divide by 2^48): price in quote per unit,
/// annualized variances, shocks as fractions of spot.
#[event]
pub struct VolatilityUpdated {
    pub underlying: u8,
    pub price: i128,
    pub var_short: i128,
    pub var_long: i128,
    pub old_shock: i128,
    pub new_shock: i128,
}

#[event]
pub struct AuthorityChanged {
    pub role: u8,
    pub old: Pubkey,
    pub new: Pubkey,
}

/// Emitted by `create_market`: the market's full parameters (units as in `CreateMarketArgs`).
#[event]
pub struct MarketCreated {
    pub market: Pubkey,
    pub underlying: u8,
    pub params: crate::instructions::CreateMarketArgs,
}

/// Emitted by `migrate_market`: a market rewritten from `old_version` to `new_version` in place;
/// series in `cleared_series_mask` had marks beyond the new range and are unmarked.
#[event]
pub struct MarketMigrated {
    pub market: Pubkey,
    pub underlying: u8,
    pub old_version: u8,
    pub new_version: u8,
    pub cleared_series_mask: u32,
}

/// Emitted by `update_marks`: which series were marked (the mask extended with the
/// counterparts, the same strike and expiry's other kind), at what reference spot (quote
/// units per underlying unit, I80F48 bits), when (unix seconds), at which implied vol (bps)
/// and largest maintenance price shock (parts per million) their bounds cover.
#[event]
pub struct MarksUpdated {
    pub market: Pubkey,
    pub underlying: u8,
    pub series_mask: u32,
    pub spot: i128,
    pub computed_at: i64,
    pub implied_vol_bps: u32,
    pub max_price_shock_ppm: u32,
}

/// Emitted by `list_option_series`. Strike: quote native per unit; expiry: unix seconds;
/// cap: lots.
#[event]
pub struct OptionSeriesListed {
    pub market: Pubkey,
    pub underlying: u8,
    pub series: u8,
    pub kind: u8,
    pub strike: u64,
    pub expiry: i64,
    pub oi_cap: u64,
}

/// Emitted by `trade`. Sizes in lots (signed: the taker's side); prices in quote native
/// units per underlying unit; cash amounts (fees, realized PnL, premium) in quote native units.
#[event]
pub struct TradeFilled {
    pub market: Pubkey,
    pub underlying: u8,
    /// Option series index, or 255 for the perp.
    pub instrument: u8,
    pub taker: Pubkey,
    pub maker: Pubkey,
    /// Lots the taker bought (negative: sold).
    pub size_lots: i64,
    pub price: u64,
    /// The oracle spot and, for options, the model price the band was checked against.
    pub oracle_price: u64,
    pub model_price: u64,
    pub taker_fee: u64,
    pub maker_fee: u64,
    /// Perps: PnL (and settled funding) moved into the quote balance; options: −premium paid.
    pub taker_cash: i64,
    pub maker_cash: i64,
    pub taker_size_before: i64,
    pub taker_size_after: i64,
    pub maker_size_before: i64,
    pub maker_size_after: i64,
    pub open_interest_before: u64,
    pub open_interest_after: u64,
}

/// `sweep_fees`: accrued fees and insurance shares moved to the insurance vault (quote native
/// units): the market's (if one was given) and the quote ledger's.
#[event]
pub struct FeesSwept {
    pub market: Option<Pubkey>,
    pub market_amount: u64,
    pub ledger_amount: u64,
    pub amount: u64,
    pub insurance_balance_before: u64,
    pub insurance_balance_after: u64,
}

/// Emitted by `update_funding`. The period's rate = `premium_lots` / `weight` (capped), a
/// fraction of the oracle price per funding interval; it applies from now on as the index's
/// slope. I80F48 values are bits (divide by 2^48): `premium_lots` in fraction × lots, `rate` a
/// fraction per interval, indices in quote units per underlying unit, slopes in quote units
/// per underlying unit per second. Sizes in lots; `oracle_twap` in quote native units per
/// underlying unit.
#[event]
pub struct FundingUpdated {
    pub market: Pubkey,
    pub underlying: u8,
    /// Σ premium × |lots| of the period's perp fills (each premium capped at the max rate).
    pub premium_lots: i128,
    /// Σ |lots| of the period's perp fills (0: no fill, rate 0).
    pub fill_lots: u64,
    /// Perp open interest at the update, lots.
    pub open_interest: u64,
    /// max(fill_lots, open_interest), lots.
    pub weight: u64,
    pub oracle_twap: u64,
    pub rate: i128,
    pub elapsed_secs: i64,
    /// Index at the previous update and now (accrued at `slope_before`).
    pub index_before: i128,
    pub index_after: i128,
    pub slope_before: i128,
    pub slope_after: i128,
}

/// Emitted by `record_settlement_price`. Price: quote native units per underlying unit, rounded
/// to the tick; `series_settled`: how many series of that expiry got it. The oracle update's
/// publish times (unix seconds) satisfy `prev_publish_time < expiry ≤ publish_time`.
#[event]
pub struct SettlementRecorded {
    pub market: Pubkey,
    pub underlying: u8,
    pub expiry: i64,
    pub settlement_price: u64,
    pub series_settled: u8,
    /// The oracle account read.
    pub oracle: Pubkey,
    pub publish_time: i64,
    pub prev_publish_time: i64,
}

/// Emitted by `settle_expired` for every option position turned into cash (quote native
/// units; negative: paid). Size in lots.
#[event]
pub struct PositionSettled {
    pub portfolio: Pubkey,
    pub underlying: u8,
    pub series: u8,
    pub size_lots: i64,
    pub settlement_price: u64,
    pub payoff: i64,
    pub quote_balance_before: i64,
    pub quote_balance_after: i64,
}

/// Emitted when a portfolio enters or leaves the liquidation state.
#[event]
pub struct LiquidationStateChanged {
    pub portfolio: Pubkey,
    pub being_liquidated: bool,
}

/// Emitted by `liquidate_positions`. Sizes in lots (the target's signed position before and
/// after; the liquidator takes the difference); prices quote native units per underlying
/// unit; amounts quote native units; health and buffer I80F48 bits (quote units).
#[event]
pub struct PositionsLiquidated {
    pub target: Pubkey,
    pub liquidator: Pubkey,
    pub underlying: u8,
    pub instrument: u8,
    pub target_size_before: i64,
    pub target_size_after: i64,
    pub liquidator_size_before: i64,
    pub liquidator_size_after: i64,
    /// Mark and the transfer price (mark less the discount, in the liquidator's favour).
    pub mark_price: u64,
    pub transfer_price: u64,
    /// The discount conceded by the target, and its split.
    pub discount: u64,
    pub liquidator_fee: u64,
    pub insurance_fee: u64,
    pub health_before: i128,
    pub health_after: i128,
    pub buffer: i128,
    pub restores_buffer: bool,
    /// With a hedged liquidation: the linked collateral taken over with the perp (index),
    /// its native units, and the quote native units the liquidator paid for it.
    pub hedge_collateral: Option<u8>,
    pub hedge_amount: u64,
    pub hedge_payment: u64,
}

/// Emitted by `liquidate_collateral`: `amount` native units of collateral `collateral` moved to
/// the liquidator for `repaid` quote native units of the target's liability.
#[event]
pub struct CollateralLiquidated {
    pub target: Pubkey,
    pub liquidator: Pubkey,
    pub collateral: u8,
    pub amount: u64,
    pub repaid: u64,
    /// Oracle price used, quote native units per whole token.
    pub price: u64,
    pub discount: u64,
    pub liquidator_fee: u64,
    pub insurance_fee: u64,
    pub health_before: i128,
    pub health_after: i128,
    pub buffer: i128,
    pub restores_buffer: bool,
}

/// Emitted by `resolve_bankruptcy`. Amounts quote native units; indices I80F48 bits.
#[event]
pub struct BankruptcyResolved {
    pub portfolio: Pubkey,
    pub deficit: u64,
    pub insurance_paid: u64,
    pub socialized: u64,
    pub insurance_balance_after: u64,
    pub total_quote_deposits_before: u64,
    pub total_quote_deposits_after: u64,
    pub loss_index_before: i128,
    pub loss_index_after: i128,
}

/// Emitted by `resolve_bankruptcy` for each leftover collateral balance of an insolvent
/// portfolio taken over by the insurance fund: `amount` native units of `collateral` moved from
/// its vault to its insurance account. Balances and totals in the asset's native units.
#[event]
pub struct CollateralTakenOver {
    pub portfolio: Pubkey,
    pub collateral: u8,
    pub mint: Pubkey,
    pub insurance_vault: Pubkey,
    pub amount: u64,
    pub balance_before: i64,
    pub balance_after: i64,
    /// Tokens left in the asset's vault after the transfer.
    pub vault_balance_after: u64,
    /// Tokens in the insurance account after the transfer.
    pub insurance_balance_after: u64,
}

/// Emitted when a timelocked change of the liquidation parameters is executed.
#[event]
pub struct LiquidationParamsChanged {
    pub change_id: u64,
    pub old: crate::state::LiquidationParams,
    pub new: crate::state::LiquidationParams,
}

/// An offset group changed: a timelocked change executed (`change_id` = the proposal id) or
/// the guardian lowered its credit or dissolved it (`change_id` = None; a dissolved group's
/// `new` is all zero).
#[event]
pub struct OffsetGroupChanged {
    pub change_id: Option<u64>,
    pub group: u8,
    pub old: crate::state::OffsetGroupConfig,
    pub new: crate::state::OffsetGroupConfig,
}

/// The quote's depeg contingency changed: by a timelocked proposal (`change_id`) or by the
/// guardian raising its threshold or factor (`change_id` = None).
#[event]
pub struct QuotePegChanged {
    pub change_id: Option<u64>,
    pub old: crate::state::QuotePegParams,
    pub new: crate::state::QuotePegParams,
}

/// The initial-margin scale changed: by a timelocked proposal (`change_id`) or by the
/// guardian raising it (`change_id` = None). After a raise, marks computed for the old scale
/// are refused until recomputed (`SeriesMarksState::initial_scale_bps`).
#[event]
pub struct MarginScaleChanged {
    pub change_id: Option<u64>,
    pub old: crate::state::MarginScaleParams,
    pub new: crate::state::MarginScaleParams,
}

/// Emitted by `update_quote_peg`: the quote's conservative USD price (10^−9 USD per quote
/// unit) and its publish time, before and after, and the depeg charge per unit of gross
/// notional it implies at maintenance, bps (rounded up).
#[event]
pub struct QuotePegUpdated {
    pub old_price_e9: u64,
    pub new_price_e9: u64,
    pub old_price_time: i64,
    pub new_price_time: i64,
    pub charge_bps: u32,
}

/// The guardian added stress to an underlying's scenarios (`tighten_scenario`): tail weights
/// up, tail rows added, stressed shock up.
#[event]
pub struct ScenarioTightened {
    pub underlying: u8,
    pub old: crate::state::UnderlyingConfig,
    pub new: crate::state::UnderlyingConfig,
}
