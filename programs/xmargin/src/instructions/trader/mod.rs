pub mod close_portfolio;
mod collateral_accounts;
pub use collateral_accounts::positive_part_change;
pub mod deposit;
pub mod open_portfolio;
pub mod refresh_health;
pub mod set_delegate;
pub mod trade;
mod trade_health;
pub mod withdraw;

pub use close_portfolio::*;
pub use deposit::*;
pub use open_portfolio::*;
pub use refresh_health::*;
pub use set_delegate::*;
pub use trade::*;
pub use withdraw::*;
