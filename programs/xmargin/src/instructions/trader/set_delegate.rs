//! `set_delegate` (owner): sets or clears (`Pubkey::default()`) the trading delegate, who may
//! trade for the owner but never withdraw.
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::DelegateChanged;
use crate::state::Portfolio;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetDelegateArgs {
    pub delegate: Pubkey,
}

#[derive(Accounts)]
pub struct SetDelegate<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ XmarginError::NotPortfolioOwner)]
    pub portfolio: AccountLoader<'info, Portfolio>,
}

impl SetDelegate<'_> {
    pub fn validate(&self, _args: &SetDelegateArgs) -> Result<()> {
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: SetDelegateArgs) -> Result<()> {
        let mut p = ctx.accounts.portfolio.load_mut()?;
        let old = p.delegate;
        p.delegate = args.delegate;
        emit!(DelegateChanged {
            portfolio: ctx.accounts.portfolio.key(),
            old_delegate: old,
            new_delegate: args.delegate
        });
        Ok(())
    }
}
