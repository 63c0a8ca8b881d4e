//! `propose_risk_change` (governance): stores a typed change (a collateral's parameters and
//! link, a new or changed underlying, the liquidation parameters, an offset group, the quote's
//! depeg contingency, the initial-margin scale), and the
//! target's parameters as they are now, executable by anyone once the exchange's timelock
//! delay has passed and only while the target still has those parameters (see
//! `state::risk_change`). Loosening risk can only happen this way.
use anchor_lang::prelude::*;
use anchor_lang::Discriminator;

use crate::error::XmarginError;
use crate::events::RiskChangeProposed;
use crate::seeds::{EXCHANGE_SEED, REGISTRY_SEED, RISK_CHANGE_SEED};
use crate::state::LoadChecked;
use crate::state::{
    change_kind, underlying_slot_free, CollateralRiskParams, Exchange, HaircutRegistry, LiquidationParams,
    MarginScaleParams, OffsetGroupConfig, QuotePegParams, RiskChange, UnderlyingConfig, RISK_CHANGE_VERSION,
};
use crate::utils::create_zero_copy_account;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub enum RiskChangeArgs {
    /// New governed parameters for listed collateral `index` (its link included).
    Collateral { index: u8, params: CollateralRiskParams },
    /// A new underlying (takes the next free index).
    ListUnderlying { config: UnderlyingConfig },
    /// New parameters for listed underlying `index`.
    Underlying { index: u8, config: UnderlyingConfig },
    /// New liquidation discount, fee split and buffer.
    Liquidation { params: LiquidationParams },
    /// New members and credit for offset group `index` (< `MAX_OFFSET_GROUPS`); all zero
    /// dissolves it.
    OffsetGroup { index: u8, group: OffsetGroupConfig },
    /// New depeg contingency of the quote asset (all zero removes it).
    QuotePeg { params: QuotePegParams },
    /// New initial-margin scale.
    MarginScale { params: MarginScaleParams },
}

/// `propose_risk_change`'s arguments: the proposal's id (the exchange's
/// `next_risk_change_id`, which the proposal's address is derived from — an argument so that
/// the IDL states the seed and any IDL-driven client derives the address) and the change.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProposeRiskChangeArgs {
    pub id: u64,
    pub change: RiskChangeArgs,
}

#[derive(Accounts)]
#[instruction(args: ProposeRiskChangeArgs)]
pub struct ProposeRiskChange<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub governance: Signer<'info>,
    #[account(mut, seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
    /// CHECK: the proposal PDA for `args.id` (= `exchange.next_risk_change_id`, checked in
    /// `validate`), created here.
    #[account(mut, seeds = [RISK_CHANGE_SEED, exchange.key().as_ref(), &args.id.to_le_bytes()], bump)]
    pub risk_change: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl ProposeRiskChange<'_> {
    pub fn validate(&self, args: &ProposeRiskChangeArgs) -> Result<()> {
        let exchange = self.exchange.load_checked()?;
        require_keys_eq!(self.governance.key(), exchange.governance, XmarginError::NotGovernance);
        require!(args.id == exchange.next_risk_change_id, XmarginError::RiskChangeIdMismatch);
        let args = &args.change;
        let registry = self.registry.load_checked()?;
        let step = exchange.max_weight_step_bps;
        match args {
            RiskChangeArgs::Collateral { index, params } => {
                let current = registry
                    .listed_collaterals()
                    .get(usize::from(*index))
                    .ok_or(XmarginError::UnknownRiskTarget)?;
                let old = CollateralRiskParams::of(current);
                params.check_change(&old, step, usize::from(*index), registry.underlying_count)
            }
            RiskChangeArgs::ListUnderlying { config } => {
                require!(
                    underlying_slot_free(registry.underlying_count),
                    XmarginError::UnderlyingRegistryFull
                );
                config.check()
            }
            RiskChangeArgs::Underlying { index, config } => {
                require!(*index < registry.underlying_count, XmarginError::UnknownRiskTarget);
                config.check_change(&registry.underlyings[usize::from(*index)], step)
            }
            RiskChangeArgs::Liquidation { params } => params.check_change(&exchange.liquidation, step),
            RiskChangeArgs::OffsetGroup { index, group } => {
                let target = usize::from(*index);
                let current = registry.offset_groups.get(target).ok_or(XmarginError::UnknownRiskTarget)?;
                registry.check_offset_group(target, group)?;
                group.check_change(current, step)
            }
            RiskChangeArgs::QuotePeg { params } => params.check_change(&registry.quote_peg.params, step),
            RiskChangeArgs::MarginScale { params } => params.check_change(&registry.margin_scale, step),
        }
    }

    pub fn handler(ctx: Context<Self>, args: ProposeRiskChangeArgs) -> Result<()> {
        let args = args.change;
        let a = &ctx.accounts;
        let now = Clock::get()?.unix_timestamp;
        let (id, executable_at, exchange_key, liquidation_before) = {
            let mut exchange = a.exchange.load_mut_checked()?;
            let id = exchange.next_risk_change_id;
            exchange.next_risk_change_id = id.checked_add(1).ok_or(XmarginError::RiskMath)?;
            (
                id,
                now.checked_add(exchange.timelock_delay_secs).ok_or(XmarginError::RiskMath)?,
                a.exchange.key(),
                exchange.liquidation,
            )
        };
        let info = a.risk_change.to_account_info();
        let bump = ctx.bumps.risk_change;
        create_zero_copy_account(
            &a.payer.to_account_info(),
            &info,
            RiskChange::SPACE,
            RiskChange::DISCRIMINATOR,
            &[RISK_CHANGE_SEED, exchange_key.as_ref(), &id.to_le_bytes(), &[bump]],
        )?;
        let registry = a.registry.load_checked()?;
        let mut data = info.try_borrow_mut_data()?;
        let change: &mut RiskChange = bytemuck::from_bytes_mut(&mut data[8..RiskChange::SPACE]);
        change.version = RISK_CHANGE_VERSION;
        change.bump = bump;
        change.exchange = exchange_key;
        change.payer = a.payer.key();
        change.id = id;
        change.proposed_at = now;
        change.executable_at = executable_at;
        // `validate` checked that the target is listed.
        match args {
            RiskChangeArgs::Collateral { index, params } => {
                (change.kind, change.target, change.collateral) = (change_kind::COLLATERAL, index, params);
                change.collateral_before =
                    CollateralRiskParams::of(&registry.collaterals[usize::from(index)]);
            }
            RiskChangeArgs::ListUnderlying { config } => {
                (change.kind, change.target, change.underlying) =
                    (change_kind::LIST_UNDERLYING, registry.underlying_count, config);
            }
            RiskChangeArgs::Underlying { index, config } => {
                (change.kind, change.target, change.underlying) = (change_kind::UNDERLYING, index, config);
                change.underlying_before = registry.underlyings[usize::from(index)].governed();
            }
            RiskChangeArgs::Liquidation { params } => {
                (change.kind, change.liquidation) = (change_kind::LIQUIDATION, params);
                change.liquidation_before = liquidation_before;
            }
            RiskChangeArgs::OffsetGroup { index, group } => {
                (change.kind, change.target, change.offset_group) = (change_kind::OFFSET_GROUP, index, group);
                change.offset_group_before = registry.offset_groups[usize::from(index)];
            }
            RiskChangeArgs::QuotePeg { params } => {
                (change.kind, change.quote_peg) = (change_kind::QUOTE_PEG, params);
                change.quote_peg_before = registry.quote_peg.params;
            }
            RiskChangeArgs::MarginScale { params } => {
                (change.kind, change.margin_scale) = (change_kind::MARGIN_SCALE, params);
                change.margin_scale_before = registry.margin_scale;
            }
        }
        emit!(RiskChangeProposed {
            id,
            kind: change.kind,
            target: change.target,
            proposer: a.governance.key(),
            executable_at,
        });
        Ok(())
    }
}
