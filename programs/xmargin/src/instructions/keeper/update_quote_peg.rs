//! `update_quote_peg` (anyone): reads the quote asset's own USD price feed (USDC/USD) through
//! the oracle guard and records its conservative price, min(spot, EMA) − conf, and publish
//! time for the depeg contingency (`xmargin_risk::depeg`, docs/risk-model.md, "Quote depeg contingency"). Health reads
//! the recorded price: fresh, it prices the add-on; stale, it follows the action table
//! (`health::quote_depeg_charge`). A price older than the recorded one is refused, so nobody
//! can roll the record back to a better moment.
use anchor_lang::prelude::*;
use xmargin_risk::fx::from_native;
use xmargin_risk::prices::conservative_price;

use crate::error::risk_error;
use crate::error::XmarginError;
use crate::events::QuotePegUpdated;
use crate::oracle::{read_price, OracleConfig};
use crate::seeds::{EXCHANGE_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{Exchange, HaircutRegistry};

#[derive(Accounts)]
pub struct UpdateQuotePeg<'info> {
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    /// CHECK: the oracle guard checks it against the quote peg's oracle configuration.
    pub oracle: UncheckedAccount<'info>,
}

/// A positive mantissa at `expo` in 10^−9 units, exact when `expo` ≥ −9 and rounded down
/// otherwise (unsigned arithmetic: sBPF has no signed division).
fn price_e9(mantissa: i64, expo: i32) -> Result<u64> {
    let m = mantissa.unsigned_abs();
    let shift = expo.checked_add(9).ok_or(XmarginError::RiskMath)?;
    let scale = |e: i32| 10u64.checked_pow(e.unsigned_abs()).ok_or(XmarginError::RiskMath);
    let e9 = if shift >= 0 {
        m.checked_mul(scale(shift)?).ok_or(XmarginError::RiskMath)?
    } else {
        m.checked_div(scale(shift)?).ok_or(XmarginError::RiskMath)?
    };
    Ok(e9.max(1))
}

impl UpdateQuotePeg<'_> {
    pub fn validate(&self) -> Result<()> {
        let registry = self.registry.load_checked()?;
        require!(registry.quote_peg.params.threshold_bps > 0, XmarginError::QuotePegNotConfigured);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let clock = Clock::get()?;
        let mut registry = ctx.accounts.registry.load_mut_checked()?;
        let peg = &mut registry.quote_peg;
        // Every guard but the confidence ratio: a depeg widens the confidence, and the price
        // recorded is already less the confidence (a wider one only adds margin).
        let config = OracleConfig { max_conf_bps: u32::MAX, ..peg.params.oracle };
        let read = read_price(&ctx.accounts.oracle, &config, &clock)?;
        require!(read.publish_time >= peg.price_time, XmarginError::QuotePegOlderPrice);
        // The lower of spot and EMA (an asset's conservative price), less the confidence: a
        // lower quote price is a larger add-on.
        let conf = i64::try_from(read.conf).map_err(|_| error!(XmarginError::RiskMath))?;
        let low = conservative_price(read.price, read.ema_price, 1).saturating_sub(conf).max(1);
        let new_price_e9 = price_e9(low, read.expo)?;
        let price = from_native(i128::from(new_price_e9), 9).map_err(risk_error)?;
        let charge = peg.params.peg()?.charge(price).map_err(risk_error)?;
        let charge_bps = crate::marks::shock_ppm(charge)?.div_ceil(100);
        let (old_price_e9, old_price_time) = (peg.price_e9, peg.price_time);
        (peg.price_e9, peg.price_time) = (new_price_e9, read.publish_time);
        emit!(QuotePegUpdated {
            old_price_e9,
            new_price_e9,
            old_price_time,
            new_price_time: read.publish_time,
            charge_bps,
        });
        Ok(())
    }
}
