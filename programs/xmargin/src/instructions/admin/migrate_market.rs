//! `migrate_market` (governance): converts a version-3 `Market` to version 4 in place
//! (`state::market_migration`: its series' convexity bounds to 64 bits, rounded up; fees and
//! the quote-balance share moved to their new offsets; the volatility estimator copied from
//! the registry's retired bytes; ~2 KiB of reserved room freed). Until it runs, every other
//! instruction refuses the market (`AccountVersionMismatch`).
//!
//! Who chooses what: governance names the market (its PDA is checked); the conversion has no
//! other input. It only rounds bounds up (never lowers a requirement), moves the two balances
//! bit for bit and carries the estimator's last state over (the one version 3 used), so
//! running it early or late moves no value; a market at any other
//! version is refused (`MarketNotMigratable`) and nothing is written.
use anchor_lang::prelude::*;
use anchor_lang::Discriminator;

use crate::error::XmarginError;
use crate::events::MarketMigrated;
use crate::seeds::{EXCHANGE_SEED, MARKET_SEED, REGISTRY_SEED};
use crate::state::market_migration::migrate_v3_to_v4;
use crate::state::LoadChecked;
use crate::state::{Exchange, HaircutRegistry, Market, MARKET_VERSION};

/// The version `migrate_market` converts from.
pub const MIGRATES_FROM: u8 = 3;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MigrateMarketArgs {
    /// The market's underlying index (its PDA seed).
    pub underlying: u8,
}

#[derive(Accounts)]
#[instruction(args: MigrateMarketArgs)]
pub struct MigrateMarket<'info> {
    pub governance: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Holds the underlying's estimator state as version 3 kept it (`retired_estimator`).
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    /// CHECK: the market PDA of `args.underlying`, owned by this program; read as raw bytes
    /// (its layout is the previous version's), its discriminator, size and version checked in
    /// `validate`.
    #[account(
        mut,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &[args.underlying]],
        bump,
        owner = crate::ID @ XmarginError::MarketNotMigratable
    )]
    pub market: UncheckedAccount<'info>,
}

impl MigrateMarket<'_> {
    pub fn validate(&self, args: &MigrateMarketArgs) -> Result<()> {
        let exchange = self.exchange.load_checked()?;
        require_keys_eq!(self.governance.key(), exchange.governance, XmarginError::NotGovernance);
        require!(
            args.underlying < self.registry.load_checked()?.underlying_count,
            XmarginError::UnknownRiskTarget
        );
        let data = self.market.try_borrow_data()?;
        let is_market = data.len() == Market::SPACE && data.starts_with(Market::DISCRIMINATOR);
        let version = data.get(8).copied().unwrap_or(0);
        if !is_market || version != MIGRATES_FROM {
            msg!(
                "market {}: {} bytes, version {} (migrates version {} only)",
                self.market.key(),
                data.len(),
                version,
                MIGRATES_FROM
            );
            return err!(XmarginError::MarketNotMigratable);
        }
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: MigrateMarketArgs) -> Result<()> {
        let market = &ctx.accounts.market;
        // `validate`: the underlying is listed.
        let estimator =
            ctx.accounts.registry.load_checked()?.underlyings[usize::from(args.underlying)].retired_estimator;
        let cleared = migrate_v3_to_v4(&mut market.try_borrow_mut_data()?, &estimator);
        emit!(MarketMigrated {
            market: market.key(),
            underlying: args.underlying,
            old_version: MIGRATES_FROM,
            new_version: MARKET_VERSION,
            cleared_series_mask: cleared,
        });
        Ok(())
    }
}
