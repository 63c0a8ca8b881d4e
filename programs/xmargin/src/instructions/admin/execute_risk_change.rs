//! `execute_risk_change` (anyone, after the timelock): applies a proposal if its target's
//! governed parameters are still the ones it was proposed against (else `RiskChangeStale`:
//! the guardian or another change moved them, and the proposal would undo that) and it is
//! still within the per-change bounds of the parameters in force, then closes it (rent to its
//! payer). A failed execution changes nothing; a stale proposal can only be cancelled.
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::{
    CollateralRiskChanged, LiquidationParamsChanged, MarginScaleChanged, OffsetGroupChanged, QuotePegChanged,
    UnderlyingRiskChanged,
};
use crate::seeds::{EXCHANGE_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{
    change_kind, underlying_slot_free, CollateralRiskParams, Exchange, HaircutRegistry, RiskChange,
};

#[derive(Accounts)]
pub struct ExecuteRiskChange<'info> {
    /// Written by liquidation-parameter changes.
    #[account(mut, seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    #[account(
        mut,
        close = payer,
        constraint = risk_change.load_checked()?.exchange == exchange.key() @ XmarginError::RiskChangeMismatch
    )]
    pub risk_change: AccountLoader<'info, RiskChange>,
    /// CHECK: receives the proposal's rent; must be its recorded payer.
    #[account(mut, address = risk_change.load_checked()?.payer @ XmarginError::RiskChangeMismatch)]
    pub payer: UncheckedAccount<'info>,
}

impl ExecuteRiskChange<'_> {
    pub fn validate(&self) -> Result<()> {
        let change = self.risk_change.load_checked()?;
        require!(Clock::get()?.unix_timestamp >= change.executable_at, XmarginError::TimelockNotExpired);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &ctx.accounts;
        let step = a.exchange.load_checked()?.max_weight_step_bps;
        let change = a.risk_change.load_checked()?;
        let mut registry = a.registry.load_mut_checked()?;
        let target = usize::from(change.target);
        match change.kind {
            change_kind::COLLATERAL => {
                let current =
                    registry.listed_collaterals().get(target).ok_or(XmarginError::UnknownRiskTarget)?;
                let old = CollateralRiskParams::of(current);
                require!(old == change.collateral_before, XmarginError::RiskChangeStale);
                change.collateral.check_change(&old, step, target, registry.underlying_count)?;
                change.collateral.apply(&mut registry.collaterals[target]);
                emit!(CollateralRiskChanged {
                    change_id: Some(change.id),
                    collateral: change.target,
                    old,
                    new: change.collateral
                });
            }
            change_kind::LIST_UNDERLYING => {
                require!(
                    underlying_slot_free(registry.underlying_count),
                    XmarginError::UnderlyingRegistryFull
                );
                change.underlying.check()?;
                let index = registry.underlying_count;
                let old = registry.underlyings[usize::from(index)];
                // The estimator starts when the underlying's market is created (`create_market`).
                let mut listed = change.underlying;
                listed.retired_estimator = [0; 72];
                registry.underlyings[usize::from(index)] = listed;
                registry.underlying_count =
                    index.checked_add(1).ok_or(XmarginError::UnderlyingRegistryFull)?;
                emit!(UnderlyingRiskChanged {
                    change_id: change.id,
                    underlying: index,
                    listed: true,
                    old,
                    new: change.underlying
                });
            }
            change_kind::UNDERLYING => {
                require!(change.target < registry.underlying_count, XmarginError::UnknownRiskTarget);
                let old = registry.underlyings[target];
                require!(old.governed() == change.underlying_before, XmarginError::RiskChangeStale);
                change.underlying.check_change(&old, step)?;
                registry.underlyings[target].apply_params(&change.underlying);
                emit!(UnderlyingRiskChanged {
                    change_id: change.id,
                    underlying: change.target,
                    listed: false,
                    old,
                    new: change.underlying
                });
            }
            change_kind::LIQUIDATION => {
                let mut exchange = a.exchange.load_mut_checked()?;
                let old = exchange.liquidation;
                require!(old == change.liquidation_before, XmarginError::RiskChangeStale);
                change.liquidation.check_change(&old, step)?;
                exchange.liquidation = change.liquidation;
                emit!(LiquidationParamsChanged { change_id: change.id, old, new: change.liquidation });
            }
            change_kind::OFFSET_GROUP => {
                let old = *registry.offset_groups.get(target).ok_or(XmarginError::UnknownRiskTarget)?;
                require!(old == change.offset_group_before, XmarginError::RiskChangeStale);
                // Against the other groups as they are now (one may have taken a member since).
                registry.check_offset_group(target, &change.offset_group)?;
                change.offset_group.check_change(&old, step)?;
                registry.offset_groups[target] = change.offset_group;
                emit!(OffsetGroupChanged {
                    change_id: Some(change.id),
                    group: change.target,
                    old,
                    new: change.offset_group
                });
            }
            change_kind::QUOTE_PEG => {
                let old = registry.quote_peg.params;
                require!(old == change.quote_peg_before, XmarginError::RiskChangeStale);
                change.quote_peg.check_change(&old, step)?;
                let peg = &mut registry.quote_peg;
                peg.params = change.quote_peg;
                if peg.params.oracle != old.oracle {
                    // A price read from another feed says nothing of this one.
                    (peg.price_e9, peg.price_time) = (0, 0);
                }
                emit!(QuotePegChanged { change_id: Some(change.id), old, new: change.quote_peg });
            }
            change_kind::MARGIN_SCALE => {
                let old = registry.margin_scale;
                require!(old == change.margin_scale_before, XmarginError::RiskChangeStale);
                change.margin_scale.check_change(&old, step)?;
                registry.margin_scale = change.margin_scale;
                emit!(MarginScaleChanged { change_id: Some(change.id), old, new: change.margin_scale });
            }
            _ => return err!(XmarginError::RiskChangeMismatch),
        }
        Ok(())
    }
}
