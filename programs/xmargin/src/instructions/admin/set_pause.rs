//! `set_pause`: sets or clears pause flags on the exchange.
//!
//! The guardian may only set flags (pausing is tightening and applies at once);
//! governance may set and clear them.
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::PauseFlagsChanged;
use crate::seeds::EXCHANGE_SEED;
use crate::state::LoadChecked;
use crate::state::{pause, Exchange};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetPauseArgs {
    /// The new value of `Exchange::pause_flags` (bits of `pause::*`).
    pub pause_flags: u8,
}

#[derive(Accounts)]
pub struct SetPause<'info> {
    pub authority: Signer<'info>,
    #[account(mut, seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
}

impl SetPause<'_> {
    pub fn validate(&self, args: &SetPauseArgs) -> Result<()> {
        require!(args.pause_flags & !pause::ALL == 0, XmarginError::InvalidPauseFlags);
        let exchange = self.exchange.load_checked()?;
        let signer = self.authority.key();
        if signer == exchange.governance {
            return Ok(());
        }
        require_keys_eq!(signer, exchange.guardian, XmarginError::NotPauseAuthority);
        // Guardian: every currently set flag must stay set.
        require!(
            args.pause_flags & exchange.pause_flags == exchange.pause_flags,
            XmarginError::GuardianCannotUnpause
        );
        Ok(())
    }
}

impl SetPause<'_> {
    pub fn handler(ctx: Context<Self>, args: SetPauseArgs) -> Result<()> {
        let mut exchange = ctx.accounts.exchange.load_mut_checked()?;
        let old = exchange.pause_flags;
        exchange.pause_flags = args.pause_flags;
        emit!(PauseFlagsChanged {
            authority: ctx.accounts.authority.key(),
            old_pause_flags: old,
            new_pause_flags: args.pause_flags,
        });
        Ok(())
    }
}
