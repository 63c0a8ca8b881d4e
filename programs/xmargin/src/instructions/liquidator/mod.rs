//! Liquidation: `liquidate_positions`, `liquidate_collateral`, `resolve_bankruptcy`, and the
//! pricing and state helpers they share.
pub mod liquidate_collateral;
pub mod liquidate_positions;
pub mod resolve_bankruptcy;

pub use liquidate_collateral::*;
pub use liquidate_positions::*;
pub use resolve_bankruptcy::*;

use anchor_lang::prelude::*;
use xmargin_risk::fx::{from_native, to_native_floor, Checked};
use xmargin_risk::Fx;

use crate::error::XmarginError;
use crate::events::LiquidationStateChanged;
use crate::instructions::positions::engine;
use crate::state::{liquidation_state, Portfolio, BPS};

/// A per-unit price (quote units) as quote native units per underlying unit on the lot grid
/// (a multiple of `lots_per_unit`, so that every lot costs a whole number of native units),
/// rounded up when `up` and down otherwise — always in the liquidated portfolio's favour.
pub fn price_in_favour(per_unit: Fx, quote_decimals: u8, lots_per_unit: u64, up: bool) -> Result<u64> {
    let lpu = i64::try_from(lots_per_unit).map_err(|_| XmarginError::RiskMath)?;
    let per_lot = engine(per_unit.div_i(lpu))?;
    let mut native = engine(to_native_floor(per_lot, quote_decimals))?;
    if up && engine(from_native(i128::from(native), quote_decimals))? < per_lot {
        native = native.checked_add(1).ok_or(XmarginError::RiskMath)?;
    }
    native.checked_mul(lots_per_unit).ok_or(error!(XmarginError::RiskMath))
}

/// A discount (quote units) in quote native units, rounded down, and the insurance vault's
/// share of it (rounded down; the liquidator keeps the rest).
pub fn fee_split(discount: Fx, quote_decimals: u8, insurance_share_bps: u16) -> Result<(u64, u64)> {
    let total = engine(to_native_floor(discount, quote_decimals))?;
    let share = u128::from(total)
        .checked_mul(u128::from(insurance_share_bps))
        .and_then(|x| x.checked_div(u128::from(BPS)))
        .ok_or(XmarginError::RiskMath)?;
    Ok((total, u64::try_from(share).map_err(|_| XmarginError::RiskMath)?))
}

/// Enters (`being` true) or leaves the liquidation state; an event when it changes.
pub fn set_liquidation_state(portfolio: &AccountLoader<'_, Portfolio>, being: bool) -> Result<()> {
    let mut p = portfolio.load_mut()?;
    let new = if being { liquidation_state::BEING_LIQUIDATED } else { liquidation_state::NORMAL };
    if p.liquidation_state != new {
        p.liquidation_state = new;
        emit!(LiquidationStateChanged { portfolio: portfolio.key(), being_liquidated: being });
    }
    Ok(())
}
