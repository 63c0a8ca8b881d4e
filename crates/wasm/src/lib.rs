//! `refresh_health` of the program, compiled to WebAssembly: the TS client's `computeHealth`
//! (app/src/engine.ts) runs the program's own account validation and health handler on
//! account bytes it fetched, and gets the very numbers `refresh_health` returns on chain.
//! Nothing here computes risk: it frames bytes into `AccountInfo`s, stubs the clock sysvar
//! and calls `RefreshHealth::try_accounts` and `RefreshHealth::handler`, as the program's
//! dispatcher does.
//!
//! ## The call (all integers little-endian)
//! Input, written by the caller into memory from [`xm_alloc`]:
//! - `b"XMH1"`; the program id (32 bytes; must be the one this build declares);
//! - the clock sysvar's 40 bytes (slot, epoch start, epoch, leader schedule epoch, unix
//!   timestamp), as the chain serves the `SysvarC1ock…` account;
//! - the account count (u32), then per account: address (32), owner (32), lamports (u64),
//!   executable (u8), data length (u32), data. In `refresh_health`'s order: exchange,
//!   registry, portfolio, then its remaining accounts.
//!
//! Output of [`xm_refresh_health`]: a buffer from this module's allocator, `len (u32)` then
//! `len` bytes, to be released with [`xm_free`]`(ptr, len + 4)`:
//! - `0` then the `HealthView` (7 × i128: I80F48 bits, quote units), as the program returns it;
//! - `1` then the program's error as a u64 (`ProgramError` encoding: a custom code is the
//!   error's number, e.g. 6000 + the `XmarginError` index), then, for a runtime error (not a
//!   custom code), its name in UTF-8 (`InvalidAccountOwner`, ...);
//! - `2` then a UTF-8 message: the input was malformed (the caller's bug, not the venue's).
//!
//! ## The risk calculator: [`xm_risk_margin`]
//! Input: the valuation time (i64, unix seconds; a book's own `now` wins), then a book's text
//! (the `xmargin risk margin` JSON schema). Output, framed as above: `0` then the report's
//! JSON, exactly what `xmargin risk margin --json` prints for that book (`crates/book`), or `3`
//! then the message the CLI prints after `error: in FILE: ` (field-named: `positions[2].kind:
//! unknown kind ...`).
#![deny(unsafe_code)]

pub mod frame;

use anchor_lang::prelude::*;
use std::collections::BTreeSet;
use xmargin::instructions::{RefreshHealth, RefreshHealthBumps};

pub use frame::{Frame, FrameError, CLOCK_LEN, MAGIC};

/// `HealthView`'s size: seven i128.
pub const VIEW_LEN: usize = 7 * 16;

/// Output tags.
pub const OK: u8 = 0;
pub const PROGRAM_ERROR: u8 = 1;
pub const BAD_INPUT: u8 = 2;
pub const BOOK_ERROR: u8 = 3;

/// `xmargin risk margin --json` of one book (see the module docs for the framing).
pub fn risk_margin(input: &[u8]) -> Vec<u8> {
    let Some((now, text)) = input.split_first_chunk::<8>() else {
        return tagged(BAD_INPUT, b"input ends inside the valuation time");
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return tagged(BOOK_ERROR, b"the book is not UTF-8 text");
    };
    let report = xmargin_book::evaluate(text, i64::from_le_bytes(*now), false)
        .and_then(|e| xmargin_book::margin_json(&e));
    match report.and_then(|v| Ok(serde_json::to_vec(&v)?)) {
        Ok(json) => tagged(OK, &json),
        Err(e) => tagged(BOOK_ERROR, format!("{e:#}").as_bytes()),
    }
}

/// Runs `refresh_health` on framed input; returns the tagged output (see the module docs).
pub fn refresh_health(input: &[u8]) -> Vec<u8> {
    let frame = match Frame::parse(input) {
        Ok(f) => f,
        Err(e) => return tagged(BAD_INPUT, e.to_string().as_bytes()),
    };
    match run(frame) {
        Ok(view) => tagged(OK, &view),
        Err(e) => {
            let code = u64::from(e.clone());
            let name = match e {
                ProgramError::Custom(_) => String::new(),
                other => format!("{other:?}"),
            };
            let mut body = code.to_le_bytes().to_vec();
            body.extend_from_slice(name.as_bytes());
            tagged(PROGRAM_ERROR, &body)
        }
    }
}

fn tagged(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len().saturating_add(1));
    out.push(tag);
    out.extend_from_slice(body);
    out
}

/// The dispatcher's work for `refresh_health`, minus instruction decoding (it has no args).
fn run(mut frame: Frame) -> std::result::Result<Vec<u8>, ProgramError> {
    let as_code = ProgramError::from;
    // The dispatcher's first check: this build's engine serves its own program only.
    if frame.program_id != xmargin::ID {
        return Err(as_code(ErrorCode::DeclaredProgramIdMismatch.into()));
    }
    stubs::install(frame.clock.clone());
    let program_id = frame.program_id;
    let infos = frame.account_infos();
    let mut slice: &[AccountInfo] = &infos;
    let mut bumps = RefreshHealthBumps::default();
    let mut reallocs = BTreeSet::new();
    let mut accounts = RefreshHealth::try_accounts(&program_id, &mut slice, &[], &mut bumps, &mut reallocs)
        .map_err(as_code)?;
    let ctx = Context::new(&program_id, &mut accounts, slice, bumps);
    let view = RefreshHealth::handler(ctx).map_err(as_code)?;
    let mut bytes = Vec::with_capacity(VIEW_LEN);
    view.serialize(&mut bytes).map_err(|e| as_code(e.into()))?;
    Ok(bytes)
}

mod stubs {
    //! The clock the caller passed, served to `Clock::get()` through the host syscall stubs.
    use anchor_lang::prelude::Clock;
    use solana_sysvar::program_stubs::{set_syscall_stubs, SyscallStubs};

    struct FixedClock(Clock);

    impl SyscallStubs for FixedClock {
        #[allow(unsafe_code)]
        fn sol_get_clock_sysvar(&self, var_addr: *mut u8) -> u64 {
            // SAFETY: `Clock::get` passes the address of a `Clock` it owns.
            unsafe { var_addr.cast::<Clock>().write_unaligned(self.0.clone()) };
            0
        }
    }

    pub fn install(clock: Clock) {
        set_syscall_stubs(Box::new(FixedClock(clock)));
    }
}

/// Nothing on the health path draws random numbers; a request is refused, not faked.
fn no_randomness(_: &mut [u8]) -> std::result::Result<(), getrandom02::Error> {
    Err(getrandom02::Error::UNSUPPORTED)
}
getrandom02::register_custom_getrandom!(no_randomness);

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod exports {
    //! The C ABI the TS loader calls (no wasm-bindgen: plain imports-free WebAssembly, loaded
    //! the same way by Node and browsers).

    /// A buffer of `len` bytes for the caller to write input into (a boxed slice: its capacity
    /// is exactly `len`, as [`xm_free`] and the calls assume).
    #[no_mangle]
    pub extern "C" fn xm_alloc(len: usize) -> *mut u8 {
        Box::into_raw(vec![0u8; len].into_boxed_slice()).cast::<u8>()
    }

    /// Releases a buffer from [`xm_alloc`] or an output of [`xm_refresh_health`].
    ///
    /// # Safety
    /// `ptr` and `len` are exactly those of one live buffer from this module.
    #[no_mangle]
    pub unsafe extern "C" fn xm_free(ptr: *mut u8, len: usize) {
        drop(Vec::from_raw_parts(ptr, 0, len));
    }

    /// Runs `refresh_health` on the `len` input bytes at `ptr` (consumed: freed here).
    ///
    /// # Safety
    /// `ptr`/`len` come from [`xm_alloc`] and the caller wrote `len` bytes.
    #[no_mangle]
    pub unsafe extern "C" fn xm_refresh_health(ptr: *mut u8, len: usize) -> *mut u8 {
        call(ptr, len, super::refresh_health)
    }

    /// `xmargin risk margin --json` of the book at `ptr` (consumed: freed here).
    ///
    /// # Safety
    /// As [`xm_refresh_health`].
    #[no_mangle]
    pub unsafe extern "C" fn xm_risk_margin(ptr: *mut u8, len: usize) -> *mut u8 {
        call(ptr, len, super::risk_margin)
    }

    /// Runs `f` on the input and frames its output (`len` then bytes).
    unsafe fn call(ptr: *mut u8, len: usize, f: fn(&[u8]) -> Vec<u8>) -> *mut u8 {
        let input = Vec::from_raw_parts(ptr, len, len);
        let out = f(&input);
        drop(input);
        // A wasm32 buffer is below 4 GiB: the length always fits.
        let Ok(body_len) = u32::try_from(out.len()) else { std::process::abort() };
        let mut framed = Vec::with_capacity(out.len().saturating_add(4));
        framed.extend_from_slice(&body_len.to_le_bytes());
        framed.extend_from_slice(&out);
        let total = framed.len();
        // The caller frees `len + 4` bytes: capacity must equal length.
        let mut framed = framed.into_boxed_slice().into_vec();
        debug_assert_eq!(framed.capacity(), total);
        let p = framed.as_mut_ptr();
        std::mem::forget(framed);
        p
    }
}
