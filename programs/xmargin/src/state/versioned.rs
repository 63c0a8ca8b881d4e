//! Every account carries its layout version; the program reads an account only at the version
//! it was built for.
//!
//! **The check.** [`LoadChecked::load_checked`] / [`LoadChecked::load_mut_checked`] replace
//! Anchor's `load` / `load_mut` everywhere an existing account is read (accounts structs,
//! handlers, remaining accounts): a version other than [`Versioned::VERSION`] is
//! `AccountVersionMismatch`, with the account type and the found and expected versions in
//! the log. `load_init` (creation) writes the current version and is not checked. So a
//! program upgrade that changes a layout can never misread accounts written by the previous
//! one: they are refused until migrated.
//!
//! **A migration** (the first: `migrate_market`, v3 → v4): when a layout changes, bump its
//! `*_VERSION` constant, and add an admin instruction `migrate_<account>` (governance-signed)
//! that loads the account with `load_mut` (unchecked: it expects the previous version),
//! requires exactly the previous version, rewrites the changed fields (reallocating first if
//! the account grows), writes the new version and emits an event with the old and new
//! versions. Until an account is migrated every other instruction refuses it. A change that
//! only takes reserved bytes whose zero value means "unset" needs no bump and no migration
//! (docs/architecture.md, "Account versions and migrations").
use anchor_lang::prelude::*;
use anchor_lang::ZeroCopy;
use core::cell::{Ref, RefMut};

use super::{
    Exchange, HaircutRegistry, Market, Portfolio, QuoteLedger, RiskChange, EXCHANGE_VERSION, MARKET_VERSION,
    PORTFOLIO_VERSION, QUOTE_LEDGER_VERSION, REGISTRY_VERSION, RISK_CHANGE_VERSION,
};
use crate::error::XmarginError;

/// An account type with a layout version (its first byte in every xmargin account).
pub trait Versioned: ZeroCopy + Owner {
    /// The version this program reads and writes.
    const VERSION: u8;
    /// The account type's name, for the log.
    const NAME: &'static str;
    /// The version stored in this account.
    fn version(&self) -> u8;

    /// `AccountVersionMismatch` unless the stored version is [`Self::VERSION`].
    fn check_version(&self) -> Result<()> {
        let found = self.version();
        if found != Self::VERSION {
            msg!(
                "{} account version {} found, {} expected: migrate it first",
                Self::NAME,
                found,
                Self::VERSION
            );
            return err!(XmarginError::AccountVersionMismatch);
        }
        Ok(())
    }
}

/// `load` / `load_mut` with the version check (see the module documentation).
pub trait LoadChecked<T: Versioned> {
    fn load_checked(&self) -> Result<Ref<'_, T>>;
    fn load_mut_checked(&self) -> Result<RefMut<'_, T>>;
}

impl<T: Versioned> LoadChecked<T> for AccountLoader<'_, T> {
    #[inline]
    fn load_checked(&self) -> Result<Ref<'_, T>> {
        let account = self.load()?;
        account.check_version()?;
        Ok(account)
    }

    #[inline]
    fn load_mut_checked(&self) -> Result<RefMut<'_, T>> {
        let account = self.load_mut()?;
        account.check_version()?;
        Ok(account)
    }
}

macro_rules! versioned {
    ($($ty:ty => $version:expr),* $(,)?) => {
        $(impl Versioned for $ty {
            const VERSION: u8 = $version;
            const NAME: &'static str = stringify!($ty);
            #[inline]
            fn version(&self) -> u8 {
                self.version
            }
        })*
    };
}

versioned! {
    Exchange => EXCHANGE_VERSION,
    HaircutRegistry => REGISTRY_VERSION,
    Market => MARKET_VERSION,
    Portfolio => PORTFOLIO_VERSION,
    QuoteLedger => QUOTE_LEDGER_VERSION,
    RiskChange => RISK_CHANGE_VERSION,
}
