//! xmargin risk engine: pure, `no_std` + `alloc`, no Solana types, no floats on the
//! on-chain path. See docs/risk-model.md in the repository.
#![no_std]
#![deny(clippy::arithmetic_side_effects, clippy::float_arithmetic)]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod bs;
pub mod collateral;
pub mod compare;
pub mod convexity;
pub mod depeg;
pub mod error;
#[cfg(feature = "full-reval")]
pub mod full;
pub mod fx;
pub mod grid;
mod grid64;
pub mod links;
pub mod liquidation;
pub mod margin;
pub mod marks;
pub mod math;
pub mod offsets;
pub mod portfolio;
pub mod prices;
pub mod reference;
pub mod scenarios;
pub mod socialized;
pub mod stored_bounds;
pub mod trace;
pub mod trading;
pub mod vol;

pub use error::{Result, RiskError};
pub use fx::Fx;
pub use margin::{margin, MarginParams, MarginReport, MarginTotals};
pub use portfolio::{Instrument, InstrumentKind, Market, Position, UnderlyingMarket};
