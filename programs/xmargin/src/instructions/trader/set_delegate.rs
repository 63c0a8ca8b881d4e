//! `set_delegate` (owner): sets or clears (`Pubkey::default()`) the trading delegate, who may
//! trade for the owner but never withdraw, and the most a delegate-signed fill may be worse
//! than the venue's mark for this portfolio.
//!
//! Why the slippage bound: "can trade, never withdraw" is not true in value by itself. A
//! delegate that trades the owner's portfolio against its own at the edge of the price band,
//! then withdraws from its own, moves the owner's equity to itself. With the bound, each
//! delegate-signed fill of `n` units moves at most `n × (slippage × spot + one tick)` plus
//! the fee away from the owner (`trade.rs`); at the default 0 the delegate trades at the mark.
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::DelegateChanged;
use crate::state::LoadChecked;
use crate::state::Portfolio;

/// Largest delegate slippage an owner may allow: 10% of spot, twice the widest perp band in use.
pub const MAX_DELEGATE_SLIPPAGE_BPS: u16 = 1_000;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetDelegateArgs {
    pub delegate: Pubkey,
    /// Basis points of spot a delegate-signed fill may be worse than the mark (≤ 1,000).
    pub max_slippage_bps: u16,
}

#[derive(Accounts)]
pub struct SetDelegate<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ XmarginError::NotPortfolioOwner)]
    pub portfolio: AccountLoader<'info, Portfolio>,
}

impl SetDelegate<'_> {
    pub fn validate(&self, args: &SetDelegateArgs) -> Result<()> {
        require!(args.max_slippage_bps <= MAX_DELEGATE_SLIPPAGE_BPS, XmarginError::InvalidDelegateSlippage);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: SetDelegateArgs) -> Result<()> {
        let mut p = ctx.accounts.portfolio.load_mut_checked()?;
        let (old, old_slippage) = (p.delegate, p.delegate_max_slippage_bps);
        p.delegate = args.delegate;
        p.delegate_max_slippage_bps = args.max_slippage_bps;
        emit!(DelegateChanged {
            portfolio: ctx.accounts.portfolio.key(),
            old_delegate: old,
            new_delegate: args.delegate,
            old_max_slippage_bps: old_slippage,
            new_max_slippage_bps: args.max_slippage_bps,
        });
        Ok(())
    }
}
