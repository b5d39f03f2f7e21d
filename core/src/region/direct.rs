//! `DirectMapping`: a region's promise that its memory sits at one host address for its life.

use core::marker::PhantomData;

/// A region's memory, mapped at one host address for as long as the region lives.
///
/// Regions return it from [`GuestMemoryRegion::direct_mapping`](super::GuestMemoryRegion::direct_mapping)
/// so that containers can go from a guest address to host memory without calling back into the
/// region on every access. Only `unsafe` code can make one: whoever does vouches for the
/// mapping. It borrows the region it came from (`'a`), so safe code can only hand on a mapping
/// of memory it owns, never one of a region it has since dropped:
///
/// ```compile_fail,E0515
/// use vm_memory_core::region::{DirectMapping, GuestMemoryRegion, RawRegion};
///
/// fn outlive(region: RawRegion) -> Option<DirectMapping<'static>> {
///     region.direct_mapping() // borrows `region`, which is dropped here
/// }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DirectMapping<'a> {
    ptr: *mut u8,
    len: usize,
    region: PhantomData<&'a ()>,
}

// SAFETY: a `DirectMapping` is an address and a length; the contract of `new` makes the memory
// usable from any thread, and it is only ever accessed with volatile and atomic operations.
unsafe impl Send for DirectMapping<'_> {}
// SAFETY: as above.
unsafe impl Sync for DirectMapping<'_> {}

impl DirectMapping<'_> {
    /// Describes `len` bytes of host memory at `ptr`.
    ///
    /// # Safety
    ///
    /// For as long as the region that returns this mapping lives and is not borrowed mutably
    /// (not just for the borrow `'a` it is returned from), `ptr` must be valid for volatile and
    /// atomic reads and writes of `len` bytes from any thread, the memory must not be accessed
    /// through Rust references, `len` must be the region's length and at most `isize::MAX`, and
    /// accessing byte `i` through `ptr` must be what the region's `get_slice(i, ..)` would
    /// access (same memory, no per-access mapping).
    pub const unsafe fn new(ptr: *mut u8, len: usize) -> Self {
        DirectMapping {
            ptr,
            len,
            region: PhantomData,
        }
    }

    /// The same mapping, no longer tied to the borrow of its region.
    ///
    /// # Safety
    ///
    /// The caller must keep the region that returned `self` alive, and not borrow it mutably,
    /// for as long as it uses the result.
    #[cfg(feature = "alloc")]
    pub(crate) const unsafe fn detach(self) -> DirectMapping<'static> {
        DirectMapping {
            ptr: self.ptr,
            len: self.len,
            region: PhantomData,
        }
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
