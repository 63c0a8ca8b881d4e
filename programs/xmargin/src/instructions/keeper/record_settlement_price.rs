//! `record_settlement_price` (anyone): after an expiry, within the market's settlement window,
//! records the oracle price of the feed's **first update at or after expiry** (rounded to the
//! tick) as the settlement price of every series of that underlying and expiry. Once per
//! expiry.
//!
//! The oracle account may be any posted, fully verified update of the underlying's feed
//! (`oracle::read_settlement_price`: no staleness or feed-account binding), but only the one
//! with `prev_publish_time < expiry ≤ publish_time` is accepted. Pyth chains its updates (each
//! carries the previous one's publish time), so exactly one update qualifies: whoever records
//! the price, and whenever within the window, records the same price.
use anchor_lang::prelude::*;
use xmargin_risk::fx::{from_mantissa, to_native_floor};
use xmargin_risk::trading::round_to_tick;

use crate::error::XmarginError;
use crate::events::SettlementRecorded;
use crate::instructions::positions::engine;
use crate::oracle::read_settlement_price;
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{Exchange, HaircutRegistry, Market};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordSettlementPriceArgs {
    /// Any series of the expiry to settle.
    pub series: u8,
}

#[derive(Accounts)]
pub struct RecordSettlementPrice<'info> {
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(
        mut,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &[market.load_checked()?.underlying]],
        bump = market.load_checked()?.bump,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: any posted update of the underlying's feed; `read_settlement_price` checks owner,
    /// feed, verification and value, the handler that it is the first update at or after expiry.
    pub oracle: UncheckedAccount<'info>,
}

impl RecordSettlementPrice<'_> {
    pub fn validate(&self, args: &RecordSettlementPriceArgs) -> Result<()> {
        let m = self.market.load_checked()?;
        let s = m.option_series(args.series).ok_or(XmarginError::UnknownInstrument)?;
        require!(s.settlement_price == 0, XmarginError::SettlementAlreadyRecorded);
        let now = Clock::get()?.unix_timestamp;
        require!(now >= s.expiry, XmarginError::NotExpired);
        let close = s.expiry.saturating_add(i64::from(m.settlement_window_secs));
        require!(now <= close, XmarginError::SettlementWindowClosed);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: RecordSettlementPriceArgs) -> Result<()> {
        let registry = ctx.accounts.registry.load_checked()?;
        let mut m = ctx.accounts.market.load_mut_checked()?;
        let expiry = m.series[usize::from(args.series)].expiry;
        let config = &registry.underlyings[usize::from(m.underlying)];
        let p = read_settlement_price(&ctx.accounts.oracle, &config.oracle)?;
        require!(p.publish_time >= expiry, XmarginError::SettlementPriceBeforeExpiry);
        require!(p.prev_publish_time < expiry, XmarginError::SettlementUpdateNotAtExpiry);
        let spot = engine(from_mantissa(p.price, p.expo))?;
        let native = engine(to_native_floor(spot, registry.collaterals[0].decimals))?;
        let price = engine(round_to_tick(native, m.tick))?;
        let count = usize::from(m.series_count);
        let mut settled = 0u8;
        for s in m.series[..count].iter_mut().filter(|s| s.expiry == expiry && s.settlement_price == 0) {
            s.settlement_price = price;
            settled = settled.saturating_add(1);
        }
        emit!(SettlementRecorded {
            market: ctx.accounts.market.key(),
            underlying: m.underlying,
            expiry,
            settlement_price: price,
            series_settled: settled,
            oracle: ctx.accounts.oracle.key(),
            publish_time: p.publish_time,
            prev_publish_time: p.prev_publish_time,
        });
        Ok(())
    }
}
