//! `tighten_risk` (guardian): applies new collateral parameters at once, but only when every
//! parameter moves in the safe direction (see `CollateralRiskParams::tightens`): among them,
//! unlinking the asset from its underlying or raising its basis haircuts.
//!
//! The guardian's domain is the proposal path's: the quote asset's haircut and oracle are
//! fixed for both (`QuoteAssetImmutable`; zeroing the quote weight would make healthy
//! portfolios liquidatable at once), while its deposit cap and reduce-only flag may be
//! tightened. A tightening makes every pending proposal for that asset stale
//! (`execute_risk_change` refuses it), so nothing tightened here is loosened again without a
//! fresh timelock.
use anchor_lang::prelude::*;

use crate::error::XmarginError;
use crate::events::CollateralRiskChanged;
use crate::instructions::positions::QUOTE_INDEX;
use crate::seeds::{EXCHANGE_SEED, REGISTRY_SEED};
use crate::state::LoadChecked;
use crate::state::{CollateralRiskParams, Exchange, HaircutRegistry};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct TightenRiskArgs {
    pub collateral: u8,
    pub params: CollateralRiskParams,
}

#[derive(Accounts)]
pub struct TightenRisk<'info> {
    pub guardian: Signer<'info>,
    #[account(seeds = [EXCHANGE_SEED], bump = exchange.load_checked()?.bump)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, seeds = [REGISTRY_SEED, exchange.key().as_ref()], bump = registry.load_checked()?.bump)]
    pub registry: AccountLoader<'info, HaircutRegistry>,
}

impl TightenRisk<'_> {
    pub fn validate(&self, args: &TightenRiskArgs) -> Result<()> {
        require_keys_eq!(
            self.guardian.key(),
            self.exchange.load_checked()?.guardian,
            XmarginError::NotGuardian
        );
        let registry = self.registry.load_checked()?;
        let current = registry
            .listed_collaterals()
            .get(usize::from(args.collateral))
            .ok_or(XmarginError::UnknownRiskTarget)?;
        let old = CollateralRiskParams::of(current);
        if args.collateral == QUOTE_INDEX {
            args.params.check_quote_fixed(&old)?;
        }
        require!(args.params.tightens(&old), XmarginError::GuardianCannotLoosen);
        require!(args.params.haircut.is_valid(), XmarginError::InvalidHaircut);
        args.params.link.check(registry.underlying_count, usize::from(args.collateral))?;
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: TightenRiskArgs) -> Result<()> {
        let mut registry = ctx.accounts.registry.load_mut_checked()?;
        let config = &mut registry.collaterals[usize::from(args.collateral)];
        let old = CollateralRiskParams::of(config);
        args.params.apply(config);
        emit!(CollateralRiskChanged { change_id: None, collateral: args.collateral, old, new: args.params });
        Ok(())
    }
}
