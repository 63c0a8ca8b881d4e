//! `list_option_series` (governance): adds a European call or put to an underlying's market,
//! on the market's strike grid (multiples of the tick) and expiry grid (the market's time of
//! day, within `max_expiry_days`).
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::OptionSeriesListed;
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED};
use crate::state::LoadChecked;
use crate::state::{instrument_kind, Exchange, Market, OptionSeries, MAX_SERIES};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListOptionSeriesArgs {
    /// `instrument_kind::CALL` or `PUT`.
    pub kind: u8,
    /// Quote native units per underlying unit.
    pub strike: u64,
    /// Unix seconds.
    pub expiry: i64,
    /// Lots.
    pub oi_cap: u64,
}

#[derive(Accounts)]
pub struct ListOptionSeries<'info> {
    pub governance: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &[market.load_checked()?.underlying]],
        bump = market.load_checked()?.bump,
    )]
    pub market: AccountLoader<'info, Market>,
}

impl ListOptionSeries<'_> {
    pub fn validate(&self, args: &ListOptionSeriesArgs) -> Result<()> {
        require_keys_eq!(
            self.governance.key(),
            self.exchange.load_checked()?.governance,
            XmarginError::NotGovernance
        );
        let m = self.market.load_checked()?;
        let now = Clock::get()?.unix_timestamp;
        let latest = now.saturating_add(i64::from(m.max_expiry_days).saturating_mul(86_400));
        let ok = (args.kind == instrument_kind::CALL || args.kind == instrument_kind::PUT)
            && args.strike > 0
            && args.strike.is_multiple_of(m.tick)
            && args.expiry > now
            && args.expiry <= latest
            // Unsigned: sBPF has no signed division (expiry > now > 0 here).
            && u64::try_from(args.expiry).is_ok_and(|e| e % 86_400 == u64::from(m.expiry_time_of_day_secs));
        require!(ok, XmarginError::InvalidOptionSeries);
        let duplicate = m
            .listed_series()
            .iter()
            .any(|s| s.kind == args.kind && s.strike == args.strike && s.expiry == args.expiry);
        require!(!duplicate, XmarginError::OptionSeriesExists);
        require!(usize::from(m.series_count) < MAX_SERIES, XmarginError::TooManyOptionSeries);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ListOptionSeriesArgs) -> Result<()> {
        let mut m = ctx.accounts.market.load_mut_checked()?;
        let index = m.series_count;
        m.series[usize::from(index)] = OptionSeries {
            strike: args.strike,
            expiry: args.expiry,
            oi_cap: args.oi_cap,
            kind: args.kind,
            ..OptionSeries::default()
        };
        m.series_count = index.saturating_add(1);
        emit!(OptionSeriesListed {
            market: ctx.accounts.market.key(),
            underlying: m.underlying,
            series: index,
            kind: args.kind,
            strike: args.strike,
            expiry: args.expiry,
            oi_cap: args.oi_cap,
        });
        Ok(())
    }
}
