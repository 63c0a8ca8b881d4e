//! Liquidation: `liquidate_positions`, `liquidate_collateral`, `resolve_bankruptcy`, and the
//! pricing and state helpers they share.
pub mod liquidate_collateral;
pub mod liquidate_positions;
pub mod resolve_bankruptcy;

pub use liquidate_collateral::*;
pub use liquidate_positions::*;
pub use resolve_bankruptcy::*;

use anchor_lang::prelude::*;
use xmargin_risk::fx::{to_native_ceil, to_native_floor, Checked};
use xmargin_risk::liquidation::{insurance_share_bps, split_discount};
use xmargin_risk::Fx;

use crate::error::XmarginError;
use crate::events::LiquidationStateChanged;
use crate::instructions::positions::{engine, may_trade};
use crate::state::LoadChecked;
use crate::state::{liquidation_state, pause, Exchange, LiquidationParams, Portfolio};

/// A per-unit price (quote units) as quote native units per underlying unit on the lot grid
/// (a multiple of `lots_per_unit`, so that every lot costs a whole number of native units),
/// rounded up when `up` and down otherwise — always in the liquidated portfolio's favour.
pub fn price_in_favour(per_unit: Fx, quote_decimals: u8, lots_per_unit: u64, up: bool) -> Result<u64> {
    let lpu = i64::try_from(lots_per_unit).map_err(|_| XmarginError::RiskMath)?;
    let per_lot = engine(per_unit.div_i(lpu))?;
    let native = engine(if up {
        to_native_ceil(per_lot, quote_decimals)
    } else {
        to_native_floor(per_lot, quote_decimals)
    })?;
    native.checked_mul(lots_per_unit).ok_or_else(|| error!(XmarginError::RiskMath))
}

/// The insurance fund's share (bps) of a liquidation's discount: the governed share, or all
/// of it when the target's equity before (the plan's `equity_before`) is negative: a
/// deficit's discount is the fund's money, so no liquidator (the owner's second portfolio
/// included) earns it.
pub fn discount_share_bps(params: &LiquidationParams, equity_before: Fx) -> u16 {
    insurance_share_bps(params.insurance_share_bps, equity_before)
}

/// A discount (quote units) in quote native units with its split: (total, the liquidator's
/// part, the insurance vault's part). Rounded down, in the liquidator's disfavour of the
/// fraction it keeps — except when all of it goes to insurance (an insolvent target): then
/// rounded up, so the liquidator keeps not even the fraction of a native unit.
pub fn fee_split(discount: Fx, quote_decimals: u8, insurance_share_bps: u16) -> Result<(u64, u64, u64)> {
    let total = if insurance_share_bps >= crate::state::BPS {
        engine(to_native_ceil(discount, quote_decimals))?
    } else {
        engine(to_native_floor(discount, quote_decimals))?
    };
    let (liquidator, insurance) = engine(split_discount(total, insurance_share_bps))?;
    Ok((total, liquidator, insurance))
}

/// The checks every liquidation shares: liquidations not paused, a liquidator portfolio
/// distinct from the target, signed by its owner or delegate, and not itself being
/// liquidated.
///
/// **Self-liquidation between one owner's portfolios is allowed, deliberately.** The target
/// must be underwater and the program sizes and prices the liquidation exactly as for anyone
/// else; the owner's two portfolios together then lose exactly the insurance share of the
/// discount (the liquidator's part stays with the owner, the insurance fund is paid as by
/// any liquidator). That is no gain over being liquidated by a stranger, who would keep the
/// liquidator's part, so nothing is extracted from the exchange. Once the target's equity is
/// negative the whole discount goes to the insurance fund (`insurance_share_bps`): the
/// deficit's discount is the fund's money, so neither the owner nor anyone else earns it. Refusing the same owner
/// would also be void: a second key owns a second portfolio for the price of its rent.
pub fn check_liquidator(
    exchange: &AccountLoader<'_, Exchange>,
    liquidator: &AccountLoader<'_, Portfolio>,
    target: &AccountLoader<'_, Portfolio>,
    signer: &Pubkey,
) -> Result<()> {
    require!(!exchange.load_checked()?.is_paused(pause::LIQUIDATIONS), XmarginError::LiquidationsPaused);
    require_keys_neq!(liquidator.key(), target.key(), XmarginError::LiquidatorIsTarget);
    let l = liquidator.load_checked()?;
    require!(may_trade(&l, signer), XmarginError::NotLiquidator);
    require!(!l.is_being_liquidated(), XmarginError::LiquidatorBeingLiquidated);
    Ok(())
}

/// Enters (`being` true) or leaves the liquidation state; an event when it changes.
pub fn set_liquidation_state(portfolio: &AccountLoader<'_, Portfolio>, being: bool) -> Result<()> {
    let mut p = portfolio.load_mut_checked()?;
    let new = if being { liquidation_state::BEING_LIQUIDATED } else { liquidation_state::NORMAL };
    if p.liquidation_state != new {
        p.liquidation_state = new;
        emit!(LiquidationStateChanged { portfolio: portfolio.key(), being_liquidated: being });
    }
    Ok(())
}
