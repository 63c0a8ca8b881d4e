pub mod admin;
pub mod keeper;
pub mod liquidator;
pub mod positions;
pub mod trader;

pub use admin::*;
pub use keeper::*;
pub use liquidator::*;
pub use trader::*;
