//! An asset's oracle configuration as stored in the registry (and in proposals), with the
//! bounds a governed configuration must respect. Reading and guarding a price is
//! `crate::oracle`'s, which re-exports these.
use anchor_lang::prelude::*;

use crate::error::XmarginError;

/// Limits on oracle configuration: at most a day old, confidence at most 10% of price.
pub const MAX_STALENESS_SECS: u32 = 86_400;
pub const MAX_CONF_BPS: u32 = 1_000;

/// Which oracle format an asset uses (`OracleConfig::kind`).
pub mod oracle_kind {
    /// No oracle: the exchange's quote asset, worth exactly 1 quote unit by definition.
    pub const QUOTE: u8 = 0;
    pub const PYTH_PULL: u8 = 1;
    pub const PYTH_LEGACY: u8 = 2;
}

/// Oracle configuration of one asset (stored in the haircut registry).
#[zero_copy]
#[derive(Debug, PartialEq, Eq, Default, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(crate = "anchor_lang::prelude::borsh")]
pub struct OracleConfig {
    /// Pull: the 32-byte Pyth feed id. Legacy: the price account's address.
    pub source: [u8; 32],
    /// Legacy: the Pyth oracle program that must own the price account (unused for pull).
    pub legacy_program: Pubkey,
    /// Pull: the price-feed account every price must be read from (Pyth's sponsored feed
    /// account for `source`); unused for legacy, whose account is `source`.
    pub feed_account: Pubkey,
    /// `oracle_kind::*` (`crate::oracle::kind`).
    pub kind: u8,
    pub _padding: [u8; 3],
    /// Largest accepted age of the price, seconds (now − publish time).
    pub max_staleness_secs: u32,
    /// Largest accepted age in slots (current slot − update slot); 0 disables the slot check.
    pub max_staleness_slots: u32,
    /// Largest accepted conf/price, basis points.
    pub max_conf_bps: u32,
}

impl OracleConfig {
    /// A configuration an asset or underlying may be given: a supported kind (pull or
    /// legacy; the quote's `QUOTE` is set only at exchange creation), staleness and confidence
    /// limits within bounds, the account a price is read from named.
    pub fn validate(&self) -> Result<()> {
        use oracle_kind::{PYTH_LEGACY, PYTH_PULL};
        require!(self.kind == PYTH_PULL || self.kind == PYTH_LEGACY, XmarginError::OracleKindUnsupported);
        require!(
            (1..=MAX_STALENESS_SECS).contains(&self.max_staleness_secs)
                && (1..=MAX_CONF_BPS).contains(&self.max_conf_bps),
            XmarginError::InvalidOracleConfig
        );
        if self.kind == PYTH_LEGACY {
            require!(self.legacy_program != Pubkey::default(), XmarginError::InvalidOracleConfig);
        } else {
            // A pull oracle is read from one account only, so no caller can choose among prices.
            require!(self.feed_account != Pubkey::default(), XmarginError::InvalidOracleConfig);
        }
        Ok(())
    }
}
