pub mod exchange;

pub use exchange::*;
