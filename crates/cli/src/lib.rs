//! The `xmargin` command line's pieces, as a library so that its tests (and other off-chain
//! tools) can reuse them: the sandbox demo, the risk calculator, the crash backtest and its
//! calibration of the capital-efficiency credits and of the adaptive shock (`sweep`).
pub mod backtest;
pub mod calibrate;
pub mod demo;
pub mod demo_liquidation;
pub mod demo_trading;
pub mod risk;
pub mod sweep;
pub mod units;
pub mod vol_flags;
