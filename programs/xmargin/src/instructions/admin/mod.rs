pub mod cancel_risk_change;
pub mod execute_risk_change;
pub mod initialize_exchange;
pub mod list_collateral;
pub mod propose_risk_change;
pub mod rotate_authority;
pub mod set_pause;
pub mod tighten_risk;

pub use cancel_risk_change::*;
pub use execute_risk_change::*;
pub use initialize_exchange::*;
pub use list_collateral::*;
pub use propose_risk_change::*;
pub use rotate_authority::*;
pub use set_pause::*;
pub use tighten_risk::*;
