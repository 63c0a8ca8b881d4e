//! `create_market` (governance): opens trading on a listed underlying — its perpetual, and
//! the rules its option series follow. The underlying's risk parameters already went through
//! the timelock (`LIST_UNDERLYING`); a market adds no collateral power, only instruments whose
//! every position is margined by the risk engine.
use anchor_lang::prelude::*;
use anchor_lang::Discriminator;

use crate::error::XmarginError;
use crate::events::MarketCreated;
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{Exchange, HaircutRegistry, Market, BPS, MARKET_VERSION, MAX_LOT_DECIMALS};
use crate::utils::{create_zero_copy_account, is_uninitialized};

/// Bounds governance cannot exceed: fills within 20% of the reference price, fees at most
/// 1%, funding at most 1% per interval, intervals from one minute to one day, settlement
/// windows from one minute to one day, expiries at most two years out.
pub const MAX_BAND_BPS: u16 = 2_000;
pub const MAX_FEE_BPS: u16 = 100;
pub const MAX_FUNDING_RATE_BPS: u16 = 100;
pub const MIN_INTERVAL_SECS: u32 = 60;
pub const MAX_INTERVAL_SECS: u32 = 86_400;
pub const MAX_EXPIRY_DAYS: u16 = 730;
/// Marks policy bounds (`xmargin_risk::marks::MarksPolicy`): drift 0.1%..25%, age one
/// minute to seven days.
pub const MIN_MARK_DRIFT_BPS: u16 = 10;
pub const MAX_MARK_DRIFT_BPS: u16 = 2_500;
pub const MIN_MARK_AGE_SECS: u32 = 60;
pub const MAX_MARK_AGE_SECS: u32 = 7 * 86_400;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateMarketArgs {
    pub underlying: u8,
    /// 1 lot = 10^−lot_decimals underlying units.
    pub lot_decimals: u8,
    /// Quote native units per underlying unit; a multiple of 10^lot_decimals.
    pub tick: u64,
    pub min_size_lots: u64,
    pub perp_oi_cap: u64,
    pub perp_band_bps: u16,
    pub option_band_bps: u16,
    pub taker_fee_bps: u16,
    pub maker_fee_bps: u16,
    pub max_funding_rate_bps: u16,
    pub funding_interval_secs: u32,
    pub expiry_time_of_day_secs: u32,
    pub settlement_window_secs: u32,
    pub max_expiry_days: u16,
    /// Largest spot drift from a series' marks before they must be refreshed, bps.
    pub max_mark_drift_bps: u16,
    /// Largest age of a series' marks, seconds.
    pub max_mark_age_secs: u32,
}

impl CreateMarketArgs {
    pub fn is_valid(&self) -> bool {
        let lots_per_unit = 10u64.pow(u32::from(self.lot_decimals.min(MAX_LOT_DECIMALS)));
        let interval = MIN_INTERVAL_SECS..=MAX_INTERVAL_SECS;
        self.lot_decimals <= MAX_LOT_DECIMALS
            && self.tick > 0
            && self.tick.is_multiple_of(lots_per_unit)
            && self.min_size_lots > 0
            && self.perp_band_bps > 0
            && self.perp_band_bps <= MAX_BAND_BPS
            && self.option_band_bps > 0
            && self.option_band_bps <= MAX_BAND_BPS
            && self.taker_fee_bps <= MAX_FEE_BPS
            && self.maker_fee_bps <= MAX_FEE_BPS
            && self.max_funding_rate_bps <= MAX_FUNDING_RATE_BPS
            && interval.contains(&self.funding_interval_secs)
            && interval.contains(&self.settlement_window_secs)
            && self.expiry_time_of_day_secs < 86_400
            && self.max_expiry_days > 0
            && self.max_expiry_days <= MAX_EXPIRY_DAYS
            && u32::from(self.max_funding_rate_bps) < u32::from(BPS)
            && (MIN_MARK_DRIFT_BPS..=MAX_MARK_DRIFT_BPS).contains(&self.max_mark_drift_bps)
            && (MIN_MARK_AGE_SECS..=MAX_MARK_AGE_SECS).contains(&self.max_mark_age_secs)
    }
}

#[derive(Accounts)]
#[instruction(args: CreateMarketArgs)]
pub struct CreateMarket<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub governance: Signer<'info>,
    /// Written: the market's bit in `market_mask`.
    #[account(mut, seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    /// CHECK: the market PDA, created here (seeds checked).
    #[account(mut, seeds = [MARKET_SEED, exchange.key().as_ref(), &[args.underlying]], bump)]
    pub market: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl CreateMarket<'_> {
    pub fn validate(&self, args: &CreateMarketArgs) -> Result<()> {
        require_keys_eq!(
            self.governance.key(),
            self.exchange.load_checked()?.governance,
            XmarginError::NotGovernance
        );
        require!(
            args.underlying < self.registry.load_checked()?.underlying_count,
            XmarginError::UnknownRiskTarget
        );
        require!(is_uninitialized(&self.market), XmarginError::MarketMismatch);
        require!(args.is_valid(), XmarginError::InvalidMarketParams);
        // Funding comes from fill premia, which a trader can fake by trading with itself at
        // the cap: volume equal to the open interest pins the rate at the cap for a period.
        // With the cap at most the two fees, that wash volume costs at least what the
        // capped rate can pay on the open interest, so it never profits.
        let fees = u32::from(args.taker_fee_bps).saturating_add(u32::from(args.maker_fee_bps));
        require!(u32::from(args.max_funding_rate_bps) <= fees, XmarginError::FundingCapAboveFees);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: CreateMarketArgs) -> Result<()> {
        let a = &ctx.accounts;
        let info = a.market.to_account_info();
        let exchange = a.exchange.key();
        let bump = ctx.bumps.market;
        create_zero_copy_account(
            &a.payer.to_account_info(),
            &info,
            Market::SPACE,
            Market::DISCRIMINATOR,
            &[MARKET_SEED, exchange.as_ref(), &[args.underlying], &[bump]],
        )?;
        let mut data = info.try_borrow_mut_data()?;
        let m: &mut Market = bytemuck::from_bytes_mut(&mut data[8..Market::SPACE]);
        m.version = MARKET_VERSION;
        m.bump = bump;
        m.underlying = args.underlying;
        m.exchange = exchange;
        m.lot_decimals = args.lot_decimals;
        m.tick = args.tick;
        m.min_size_lots = args.min_size_lots;
        m.perp_oi_cap = args.perp_oi_cap;
        m.perp_band_bps = args.perp_band_bps;
        m.option_band_bps = args.option_band_bps;
        m.taker_fee_bps = args.taker_fee_bps;
        m.maker_fee_bps = args.maker_fee_bps;
        m.max_funding_rate_bps = args.max_funding_rate_bps;
        m.funding_interval_secs = args.funding_interval_secs;
        m.expiry_time_of_day_secs = args.expiry_time_of_day_secs;
        m.settlement_window_secs = args.settlement_window_secs;
        m.max_expiry_days = args.max_expiry_days;
        m.max_mark_drift_bps = args.max_mark_drift_bps;
        m.max_mark_age_secs = args.max_mark_age_secs;
        m.last_funding_time = Clock::get()?.unix_timestamp;
        // The estimator starts at the implied vol (`validate`: the underlying is listed).
        let config = a.registry.load_checked()?.underlyings[usize::from(args.underlying)];
        m.volatility.set(&config.initial_vol_state()?);
        drop(data);
        // The registry holds at most 16 underlyings (`validate`: underlying < underlying_count).
        let bit = 1u16.checked_shl(u32::from(args.underlying)).ok_or(XmarginError::UnknownRiskTarget)?;
        a.exchange.load_mut_checked()?.market_mask |= bit;
        emit!(MarketCreated { market: info.key(), underlying: args.underlying, params: args });
        Ok(())
    }
}
