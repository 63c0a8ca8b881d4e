pub mod record_settlement_price;
pub mod settle_expired;
pub mod sweep_fees;
pub mod update_funding;
pub mod update_marks;
pub mod update_quote_peg;
pub mod update_volatility;

pub use record_settlement_price::*;
pub use settle_expired::*;
pub use sweep_fees::*;
pub use update_funding::*;
pub use update_marks::*;
pub use update_quote_peg::*;
pub use update_volatility::*;
