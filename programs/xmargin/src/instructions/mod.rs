pub mod admin;
pub mod keeper;
pub mod liquidator;
pub mod positions;
pub mod quote_vaults;
pub mod trader;

pub use admin::*;
pub use keeper::*;
pub use liquidator::*;
pub use quote_vaults::*;
pub use trader::*;
