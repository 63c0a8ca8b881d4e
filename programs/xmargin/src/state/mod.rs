pub mod exchange;
pub mod market;
pub mod portfolio;
pub mod quote_ledger;
pub mod registry;
pub mod risk_change;
pub mod stored_fx;

pub use exchange::*;
pub use market::*;
pub use portfolio::*;
pub use quote_ledger::*;
pub use registry::*;
pub use risk_change::*;
pub use stored_fx::StoredFx;
