//! The program's heap allocator: a bump allocator that grows **upward** from the start of the
//! heap region and may use up to 256 KiB, the largest heap a transaction can request
//! (`ComputeBudgetInstruction::RequestHeapFrame`).
//!
//! Why not the default: the default allocator grows downward from the top of a fixed 32 KiB,
//! so it cannot use a larger frame. Growing upward, a transaction that stays under 32 KiB
//! needs no request at all, and one that margins two large portfolios (`trade` with 32
//! positions on each side) requests a larger frame; touching memory beyond the requested
//! frame aborts the transaction (the VM's access check), it never corrupts state.
//! Nothing is freed (one instruction's lifetime).
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};

/// Start of the heap region in the sBPF memory map.
const HEAP_START: usize = 0x3_0000_0000;
/// The largest heap frame a transaction may request.
pub const MAX_HEAP_BYTES: usize = 256 * 1024;

pub struct UpwardBump;

// SAFETY: the first 8 bytes of the heap region hold the next free address (0 before the first
// allocation: the region is zero-initialised); every allocation is aligned, within
// [HEAP_START + 8, HEAP_START + MAX_HEAP_BYTES), and never handed out twice. Programs are
// single-threaded.
unsafe impl GlobalAlloc for UpwardBump {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let cursor = HEAP_START as *mut usize;
        // SAFETY: HEAP_START is the (8-aligned, writable) start of the heap region.
        let mut next = unsafe { *cursor };
        if next == 0 {
            next = HEAP_START.wrapping_add(core::mem::size_of::<usize>());
        }
        let align_mask = layout.align().wrapping_sub(1);
        let Some(start) = next.checked_add(align_mask).map(|p| p & !align_mask) else {
            return core::ptr::null_mut();
        };
        let Some(end) = start.checked_add(layout.size()) else {
            return core::ptr::null_mut();
        };
        if end > HEAP_START.wrapping_add(MAX_HEAP_BYTES) {
            return core::ptr::null_mut();
        }
        // SAFETY: as above.
        unsafe { *cursor = end };
        start as *mut u8
    }

    #[inline]
    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}

#[global_allocator]
static ALLOCATOR: UpwardBump = UpwardBump;
