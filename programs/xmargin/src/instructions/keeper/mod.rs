pub mod update_volatility;

pub use update_volatility::*;
