//! Compute-unit marks for profiling on sBPF: with the `cu-trace` feature, `mark(label)` logs
//! the label and the compute units left (`sol_log_compute_units`), so the cost of each stage
//! is the difference between consecutive marks. Without the feature (every shipped build), or
//! off-chain, it compiles to nothing.

/// Logs `label` and the compute units left (`cu-trace` on sBPF only).
#[inline(always)]
pub fn mark(label: &str) {
    #[cfg(all(feature = "cu-trace", target_os = "solana"))]
    // SAFETY: the log syscalls read `len` bytes at `ptr` (a live &str) and take no other input.
    unsafe {
        solana_msg::syscalls::sol_log_(label.as_ptr(), label.len() as u64);
        solana_msg::syscalls::sol_log_compute_units_();
    }
    #[cfg(not(all(feature = "cu-trace", target_os = "solana")))]
    let _ = label;
}
