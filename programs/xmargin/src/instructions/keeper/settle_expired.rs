//! `settle_expired` (anyone): turns every expired option of the portfolio in this market
//! whose settlement price is recorded into its intrinsic value in the quote balance
//! (size × intrinsic, exact: longs receive exactly what shorts pay) and frees the slots.
//! Writes the portfolio and the market only (the market's `positive_quote_delta` records the
//! change of Σ positive quote balances).
use anchor_lang::prelude::*;
use xmargin_risk::trading::settlement_payoff;

use crate::error::XmarginError;
use crate::events::PositionSettled;
use crate::instructions::positions::{credit_quote, engine, PositiveQuote};
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{option_kind, Exchange, HaircutRegistry, Market, Portfolio, PositionSlot};

#[derive(Accounts)]
pub struct SettleExpired<'info> {
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(mut, constraint = portfolio.load_checked()?.exchange == exchange.key() @ XmarginError::PortfolioExchangeMismatch)]
    pub portfolio: AccountLoader<'info, Portfolio>,
    #[account(
        mut,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &[market.load_checked()?.underlying]],
        bump = market.load_checked()?.bump,
    )]
    pub market: AccountLoader<'info, Market>,
}

impl SettleExpired<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let registry = ctx.accounts.registry.load_checked()?;
        let mut portfolio = ctx.accounts.portfolio.load_mut_checked()?;
        let mut m = ctx.accounts.market.load_mut_checked()?;
        let lots_per_unit = m.lots_per_unit();
        let underlying = u16::from(m.underlying);
        let mut settled = 0usize;
        for i in 0..portfolio.positions.len() {
            let p = portfolio.positions[i];
            if p.active == 0 || p.underlying != underlying || p.is_perp() {
                continue;
            }
            let Some(series) = m.listed_series().get(usize::from(p.series)).copied() else { continue };
            if series.settlement_price == 0 {
                continue;
            }
            let payoff = engine(settlement_payoff(
                option_kind(p.kind),
                p.size,
                p.strike,
                series.settlement_price,
                lots_per_unit,
            ))?;
            let (before, after) = credit_quote(
                &mut portfolio,
                &registry,
                &mut PositiveQuote(&mut m.positive_quote_delta),
                payoff,
            )?;
            let s = &mut m.series[usize::from(p.series)];
            s.open_interest = s.open_interest.saturating_sub(p.size.max(0).unsigned_abs());
            portfolio.positions[i] = PositionSlot::default();
            settled = settled.saturating_add(1);
            emit!(PositionSettled {
                portfolio: ctx.accounts.portfolio.key(),
                underlying: m.underlying,
                series: p.series,
                size_lots: p.size,
                settlement_price: series.settlement_price,
                payoff,
                quote_balance_before: before,
                quote_balance_after: after,
            });
        }
        require!(settled > 0, XmarginError::NothingToSettle);
        Ok(())
    }
}
