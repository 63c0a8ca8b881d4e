//! Two-step rotation of the governance or guardian key: governance proposes
//! (`propose_authority`), the new key accepts (`accept_authority`), so a typo can never lock
//! the exchange.
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::{AuthorityChanged, AuthorityProposed};
use crate::seeds::EXCHANGE_SEED;
use crate::state::Exchange;
use crate::state::LoadChecked;

/// `role` values.
pub mod role {
    pub const GOVERNANCE: u8 = 0;
    pub const GUARDIAN: u8 = 1;
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProposeAuthorityArgs {
    pub role: u8,
    /// `Pubkey::default()` withdraws a pending proposal.
    pub new_authority: Pubkey,
}

#[derive(Accounts)]
pub struct ProposeAuthority<'info> {
    pub governance: Signer<'info>,
    #[account(mut, seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
}

impl ProposeAuthority<'_> {
    pub fn validate(&self, args: &ProposeAuthorityArgs) -> Result<()> {
        require_keys_eq!(
            self.governance.key(),
            self.exchange.load_checked()?.governance,
            XmarginError::NotGovernance
        );
        require!(args.role <= role::GUARDIAN, XmarginError::InvalidAuthorities);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ProposeAuthorityArgs) -> Result<()> {
        let mut ex = ctx.accounts.exchange.load_mut_checked()?;
        let current = if args.role == role::GOVERNANCE {
            ex.pending_governance = args.new_authority;
            ex.governance
        } else {
            ex.pending_guardian = args.new_authority;
            ex.guardian
        };
        emit!(AuthorityProposed { role: args.role, current, proposed: args.new_authority });
        Ok(())
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptAuthorityArgs {
    pub role: u8,
}

#[derive(Accounts)]
pub struct AcceptAuthority<'info> {
    pub new_authority: Signer<'info>,
    #[account(mut, seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
}

impl AcceptAuthority<'_> {
    pub fn validate(&self, args: &AcceptAuthorityArgs) -> Result<()> {
        require!(args.role <= role::GUARDIAN, XmarginError::InvalidAuthorities);
        let ex = self.exchange.load_checked()?;
        let pending = if args.role == role::GOVERNANCE { ex.pending_governance } else { ex.pending_guardian };
        require!(pending != Pubkey::default(), XmarginError::NoPendingAuthority);
        require_keys_eq!(self.new_authority.key(), pending, XmarginError::NotPendingAuthority);
        let other = if args.role == role::GOVERNANCE { ex.guardian } else { ex.governance };
        require!(pending != other, XmarginError::InvalidAuthorities);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: AcceptAuthorityArgs) -> Result<()> {
        let mut ex = ctx.accounts.exchange.load_mut_checked()?;
        let new = ctx.accounts.new_authority.key();
        let old = if args.role == role::GOVERNANCE {
            ex.pending_governance = Pubkey::default();
            core::mem::replace(&mut ex.governance, new)
        } else {
            ex.pending_guardian = Pubkey::default();
            core::mem::replace(&mut ex.guardian, new)
        };
        emit!(AuthorityChanged { role: args.role, old, new });
        Ok(())
    }
}
