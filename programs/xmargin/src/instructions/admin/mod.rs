pub mod initialize_exchange;
pub mod list_collateral;
pub mod set_pause;

pub use initialize_exchange::*;
pub use list_collateral::*;
pub use set_pause::*;
