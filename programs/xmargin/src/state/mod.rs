pub mod exchange;
pub mod portfolio;
pub mod registry;

pub use exchange::*;
pub use portfolio::*;
pub use registry::*;
