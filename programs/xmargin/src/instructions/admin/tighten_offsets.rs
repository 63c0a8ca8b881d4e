//! `tighten_offsets` (guardian): lowers an offset group's correlation credit at once, or
//! dissolves the group (credit 0: the whole group is zeroed). The members never change here,
//! and the credit never rises (`GuardianCannotLoosen`): both go through the timelock
//! (`propose_risk_change`, `OffsetGroup`). A tightening makes every pending proposal for that
//! group stale (`execute_risk_change` refuses it with `RiskChangeStale`), so nothing tightened
//! here is loosened again without a fresh timelock.
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::OffsetGroupChanged;
use crate::seeds::{EXCHANGE_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{Exchange, HaircutRegistry, OffsetGroupConfig};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct TightenOffsetsArgs {
    /// Index of the group (< `MAX_OFFSET_GROUPS`).
    pub group: u8,
    /// The group's new configuration: its members unchanged with a credit no higher, or all
    /// zero. A credit of 0 dissolves the group (stored all zero).
    pub config: OffsetGroupConfig,
}

#[derive(Accounts)]
pub struct TightenOffsets<'info> {
    pub guardian: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
}

impl TightenOffsetsArgs {
    /// What is stored: the configuration, or all zero when its credit is 0.
    pub fn stored(&self) -> OffsetGroupConfig {
        if self.config.credit_bps == 0 {
            OffsetGroupConfig::default()
        } else {
            self.config
        }
    }
}

impl TightenOffsets<'_> {
    pub fn validate(&self, args: &TightenOffsetsArgs) -> Result<()> {
        require_keys_eq!(
            self.guardian.key(),
            self.exchange.load_checked()?.guardian,
            XmarginError::NotGuardian
        );
        let registry = self.registry.load_checked()?;
        let index = usize::from(args.group);
        let current = registry.offset_groups.get(index).ok_or(XmarginError::UnknownRiskTarget)?;
        require!(args.config.tightens(current), XmarginError::GuardianCannotLoosen);
        // The stored group is the current one with a lower credit (or nothing): valid and
        // disjoint whenever the current one is; checked anyway (and the padding with it).
        registry.check_offset_group(index, &args.stored())?;
        args.config.check(registry.underlying_count)
    }

    pub fn handler(ctx: Context<Self>, args: TightenOffsetsArgs) -> Result<()> {
        let mut registry = ctx.accounts.registry.load_mut_checked()?;
        let slot = &mut registry.offset_groups[usize::from(args.group)];
        let old = *slot;
        *slot = args.stored();
        emit!(OffsetGroupChanged { change_id: None, group: args.group, old, new: *slot });
        Ok(())
    }
}
