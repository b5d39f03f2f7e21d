//! Test memory: `RawRegion`s over heap buffers that outlive them.

extern crate std;

use std::boxed::Box;
use std::sync::Mutex;
use std::vec;
use std::vec::Vec;

use super::RawRegion;
use crate::address::GuestAddress;

/// Buffers handed out to test regions; kept reachable from a static so that they stay valid for
/// the whole test process (and Miri does not count them as leaks).
static ARENA: Mutex<Vec<Leaked>> = Mutex::new(Vec::new());

/// 16 bytes aligned to 16, so test buffers suit every access width on every host (`u64` is only
/// 4-aligned on i686).
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Chunk([u8; 16]);

/// A leaked buffer (raw, so that no `Box` retag can invalidate pointers handed out).
struct Leaked(#[allow(dead_code)] *mut [Chunk]);

// SAFETY: the pointer is only stored, never dereferenced through this wrapper.
unsafe impl Send for Leaked {}

/// Host memory for test regions: 16-byte aligned, zeroed, valid until the process exits.
pub(crate) fn leak_buffer(len: usize) -> *mut u8 {
    let words: Box<[Chunk]> = vec![Chunk([0; 16]); len.div_ceil(16).max(1)].into_boxed_slice();
    let raw = Box::into_raw(words);
    ARENA.lock().unwrap().push(Leaked(raw));
    raw.cast()
}

/// A region of `len` bytes at guest address `start` over fresh zeroed memory.
pub(crate) fn region(start: u64, len: usize) -> RawRegion {
    // SAFETY: the buffer is leaked, so it is valid for the rest of the process, and only this
    // region uses it.
    unsafe { RawRegion::new(leak_buffer(len), len, GuestAddress(start)) }.unwrap()
}

/// As [`region`], with a bitmap.
pub(crate) fn region_with<B>(start: u64, len: usize, bitmap: B) -> RawRegion<B> {
    // SAFETY: as in `region`.
    unsafe { RawRegion::with_bitmap(leak_buffer(len), len, GuestAddress(start), bitmap) }.unwrap()
}

/// Regions for `(start, len)` pairs.
pub(crate) fn regions(layout: &[(u64, usize)]) -> Vec<RawRegion> {
    layout.iter().map(|&(s, l)| region(s, l)).collect()
}
