//! `DirectMapping`: a region's promise that its memory sits at one host address for its life.

/// A region's memory, mapped at one host address for as long as the region lives.
///
/// Regions return it from [`GuestMemoryRegion::direct_mapping`](super::GuestMemoryRegion::direct_mapping)
/// so that containers can go from a guest address to host memory without calling back into the
/// region on every access. Only `unsafe` code can make one: whoever does vouches for the
/// mapping.
#[derive(Clone, Copy, Debug)]
pub struct DirectMapping {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: a `DirectMapping` is an address and a length; the contract of `new` makes the memory
// usable from any thread, and it is only ever accessed with volatile and atomic operations.
unsafe impl Send for DirectMapping {}
// SAFETY: as above.
unsafe impl Sync for DirectMapping {}

impl DirectMapping {
    /// Describes `len` bytes of host memory at `ptr`.
    ///
    /// # Safety
    ///
    /// For as long as the region that returns this mapping lives (not just for the borrow it is
    /// returned from), `ptr` must be valid for volatile and atomic reads and writes of `len`
    /// bytes from any thread, the memory must not be accessed through Rust references, `len`
    /// must be the region's length and at most `isize::MAX`, and accessing byte `i` through
    /// `ptr` must be what the region's `get_slice(i, ..)` would access (same memory, no
    /// per-access mapping).
    pub const unsafe fn new(ptr: *mut u8, len: usize) -> Self {
        DirectMapping { ptr, len }
    }

    /// The host address of the region's first byte.
    pub const fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// The number of bytes mapped.
    pub const fn len(&self) -> usize {
        self.len
    }
}
