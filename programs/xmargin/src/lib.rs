//! xmargin: portfolio-margin perpetuals and options.
//!
//! This file only dispatches; each instruction lives in `instructions/<role>/<name>.rs`
//! with its Args, Accounts, `validate` and `handler`.
#![deny(unsafe_code)]
#![deny(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod error;
pub mod events;
pub mod instructions;
pub mod oracle;
pub mod seeds;
pub mod state;
pub mod utils;

use instructions::*;

declare_id!("DqgtNoLCvMAKqTajWGC62zuSvxj2QNkA9BrahccmzdTi");

#[cfg(target_os = "solana")]
use solana_compiler_builtins as _;

#[program]
pub mod xmargin {
    use super::*;

    /// Creates the exchange singleton and its insurance vault (upgrade authority only).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn initialize_exchange(ctx: Context<InitializeExchange>, args: InitializeExchangeArgs) -> Result<()> {
        InitializeExchange::handler(ctx, args)
    }

    /// Sets or clears pause flags (guardian: set only; governance: both).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn set_pause(ctx: Context<SetPause>, args: SetPauseArgs) -> Result<()> {
        SetPause::handler(ctx, args)
    }
}
