pub mod initialize_exchange;
pub mod set_pause;

pub use initialize_exchange::*;
pub use set_pause::*;
