pub mod admin;
pub mod keeper;
pub mod positions;
pub mod trader;

pub use admin::*;
pub use keeper::*;
pub use trader::*;
