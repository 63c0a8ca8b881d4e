//! The program's accounts and the stored types inside them (zero-copy, versioned, reserved
//! bytes, compile-time size assertions), with the methods that read and check their own
//! fields.
//!
//! **Layering.** This module depends on nothing above it: it imports only `anchor_lang`,
//! `xmargin_risk` (the pure engine), `crate::error` (a leaf: the error enum and the one
//! mapping of engine errors) and itself — never `health`, `marks`, `oracle` or
//! `instructions`, which build on it. What the state needs to check or convert its own
//! fields lives here: unit conversions (`units`), the oracle configuration and its bounds
//! (`oracle_config`, re-exported by `crate::oracle`), the stored fixed-point type
//! (`stored_fx`).
//!
//! **Versions.** Every account's first byte is its layout version; instructions load existing
//! accounts only through `LoadChecked` (`versioned`), which refuses any other version
//! (`AccountVersionMismatch`). A layout change bumps the version and ships a governance-signed
//! `migrate_<account>` instruction that rewrites an account from the previous version (see
//! `versioned`; docs/architecture.md, "Account versions and migrations"); a field taken from reserved bytes
//! whose zero means "unset" needs neither.
pub mod exchange;
pub mod market;
pub mod market_migration;
pub mod oracle_config;
pub mod portfolio;
pub mod quote_ledger;
pub mod registry;
pub mod risk_change;
pub mod stored_fx;
pub mod units;
pub mod versioned;

pub use exchange::*;
pub use market::*;
pub use oracle_config::{OracleConfig, MAX_CONF_BPS, MAX_STALENESS_SECS};
pub use portfolio::*;
pub use quote_ledger::*;
pub use registry::*;
pub use risk_change::*;
pub use stored_fx::StoredFx;
pub use versioned::{LoadChecked, Versioned};
