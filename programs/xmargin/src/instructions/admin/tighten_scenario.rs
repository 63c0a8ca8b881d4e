//! `tighten_scenario` (guardian): adds stress at once, without the timelock, to an
//! underlying's scenarios (tail weights up, tail rows added after the current ones, the
//! adaptive shock's stressed shock up), to the quote's depeg contingency (threshold or
//! factor up, same oracle), or to the initial-margin scale (up; marks computed for the old
//! scale are refused until `update_marks` recomputes them). Everything else — and every loosening, and the vol-shock expiry
//! scaling, whose change raises some series' shocks and lowers others' — goes through the
//! timelock (`propose_risk_change`); anything else is `GuardianCannotLoosenScenario`. The
//! tail of an underlying in an offset group does not change here (`GroupedTailChange`: legs
//! net their tails only when their tables are the same, so adding stress to one leg could
//! lower the group's requirement); the guardian dissolves the group first
//! (`tighten_offsets`). A tightening makes pending proposals for the same target stale
//! (`RiskChangeStale`).
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::{MarginScaleChanged, QuotePegChanged, ScenarioTightened};
use crate::seeds::{EXCHANGE_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{Exchange, HaircutRegistry, MarginScaleParams, QuotePegParams, UnderlyingConfig};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub enum TightenScenarioArgs {
    /// Listed underlying `index`'s new governed parameters (its estimator state is kept).
    Underlying { index: u8, config: UnderlyingConfig },
    /// The quote's new depeg contingency.
    QuotePeg { params: QuotePegParams },
    /// A higher initial-margin scale.
    MarginScale { params: MarginScaleParams },
}

#[derive(Accounts)]
pub struct TightenScenario<'info> {
    pub guardian: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
}

impl TightenScenario<'_> {
    pub fn validate(&self, args: &TightenScenarioArgs) -> Result<()> {
        require_keys_eq!(
            self.guardian.key(),
            self.exchange.load_checked()?.guardian,
            XmarginError::NotGuardian
        );
        let registry = self.registry.load_checked()?;
        match args {
            TightenScenarioArgs::Underlying { index, config } => {
                require!(*index < registry.underlying_count, XmarginError::UnknownRiskTarget);
                let current = &registry.underlyings[usize::from(*index)];
                require!(config.only_adds_stress(current), XmarginError::GuardianCannotLoosenScenario);
                // A grouped underlying's legs net their tails only with identical tables, so
                // appending a row or raising a weight on one leg could make the group's tables
                // equal and its requirement lower (`xmargin_risk::grid::joint_requirement`).
                let grouped = registry.offset_groups().any(|(_, g)| g.members().any(|m| m == *index));
                let same_tail = config.tail == current.tail
                    && config.tail_rows == current.tail_rows
                    && config.tail_both_ways_mask == current.tail_both_ways_mask;
                require!(!grouped || same_tail, XmarginError::GroupedTailChange);
                config.check()
            }
            TightenScenarioArgs::QuotePeg { params } => {
                require!(
                    params.tightens(&registry.quote_peg.params),
                    XmarginError::GuardianCannotLoosenScenario
                );
                params.check()
            }
            TightenScenarioArgs::MarginScale { params } => {
                require!(params.tightens(&registry.margin_scale), XmarginError::GuardianCannotLoosenScenario);
                params.check()
            }
        }
    }

    pub fn handler(ctx: Context<Self>, args: TightenScenarioArgs) -> Result<()> {
        let mut registry = ctx.accounts.registry.load_mut_checked()?;
        match args {
            TightenScenarioArgs::Underlying { index, config } => {
                let slot = &mut registry.underlyings[usize::from(index)];
                let old = *slot;
                slot.apply_params(&config);
                emit!(ScenarioTightened { underlying: index, old, new: *slot });
            }
            TightenScenarioArgs::QuotePeg { params } => {
                let old = registry.quote_peg.params;
                registry.quote_peg.params = params;
                emit!(QuotePegChanged { change_id: None, old, new: params });
            }
            TightenScenarioArgs::MarginScale { params } => {
                let old = registry.margin_scale;
                registry.margin_scale = params;
                emit!(MarginScaleChanged { change_id: None, old, new: params });
            }
        }
        Ok(())
    }
}
