//! xmargin risk engine: pure, `no_std` + `alloc`, no Solana types.
#![no_std]
extern crate alloc;
