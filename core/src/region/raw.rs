//! `RawRegion`: a region over host memory given as a pointer, for firmware and boot loaders.

use super::error::GuestRegionCollectionError;
use super::region_bytes::GuestMemoryRegionBytes;
use super::{DirectMapping, GuestMemoryRegion};
use crate::address::{GuestAddress, GuestUsize, MemoryRegionAddress};
use crate::bitmap::{BS, Bitmap};
use crate::guest_memory::{GuestMemoryError, GuestMemoryResult};
use crate::volatile::{VolatileSlice, compute_end, offset_ptr};

/// A guest memory region over `len` bytes of host memory at `ptr`, placed at guest address
/// `start`, with a dirty bitmap `B`.
///
/// It needs no allocator: firmware describes its RAM as a table of these, in a `static` or on
/// the stack.
///
/// ```
/// use vm_memory_core::{Bytes, GuestAddress, GuestMemoryBackend, RawRegion, RegionTable};
///
/// let mut ram = [0u64; 512]; // 4 KiB, 8-byte aligned
/// // SAFETY: `ram` outlives `table` and is only accessed through it meanwhile.
/// let region = unsafe { RawRegion::new(ram.as_mut_ptr().cast(), 4096, GuestAddress(0x1000)) }
///     .unwrap();
/// let table: RegionTable<_, 4> = RegionTable::from_regions([region]).unwrap();
/// table.write_obj(0xfeed_u32, GuestAddress(0x1ffc)).unwrap();
/// assert_eq!(table.read_obj::<u32>(GuestAddress(0x1ffc)).unwrap(), 0xfeed);
/// assert!(table.read_obj::<u32>(GuestAddress(0x2000)).is_err());
/// ```
#[derive(Debug)]
pub struct RawRegion<B = ()> {
    ptr: *mut u8,
    len: usize,
    start: GuestAddress,
    bitmap: B,
}

// SAFETY: the constructor's contract makes the memory valid for the region's life and usable
// from any thread (it is accessed only with volatile and atomic operations); the bitmap is Send.
unsafe impl<B: Send> Send for RawRegion<B> {}
// SAFETY: as above; shared access only ever copies through the pointer, and `B: Sync` covers
// the bitmap.
unsafe impl<B: Sync> Sync for RawRegion<B> {}

impl RawRegion<()> {
    /// A region over `len` bytes at `ptr`, placed at guest address `start`, without dirty
    /// tracking.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for volatile reads and writes of `len` bytes for as long as the
    /// region (and every slice borrowed from it) lives, from any thread, and that memory must not
    /// be accessed through Rust references meanwhile (one allocation or mapping: at most
    /// `isize::MAX` bytes, not wrapping around the host address space).
    ///
    /// # Errors
    ///
    /// `EmptyRegion` for `len == 0`; `RegionEndOverflow` if the region would end past
    /// `u64::MAX`.
    pub const unsafe fn new(
        ptr: *mut u8,
        len: usize,
        start: GuestAddress,
    ) -> Result<Self, GuestRegionCollectionError> {
        // SAFETY: forwarded caller contract.
        unsafe { Self::with_bitmap(ptr, len, start, ()) }
    }
}

impl<B> RawRegion<B> {
    /// As [`RawRegion::new`], with a dirty bitmap whose offset 0 is the region's first byte.
    ///
    /// # Safety
    ///
    /// As [`RawRegion::new`].
    ///
    /// # Errors
    ///
    /// As [`RawRegion::new`].
    pub const unsafe fn with_bitmap(
        ptr: *mut u8,
        len: usize,
        start: GuestAddress,
        bitmap: B,
    ) -> Result<Self, GuestRegionCollectionError> {
        if len == 0 {
            core::mem::forget(bitmap);
            return Err(GuestRegionCollectionError::EmptyRegion);
        }
        if start.0.checked_add(len as u64 - 1).is_none() {
            core::mem::forget(bitmap);
            return Err(GuestRegionCollectionError::RegionEndOverflow);
        }
        Ok(RawRegion {
            ptr,
            len,
            start,
            bitmap,
        })
    }

    /// The host pointer to the region's first byte. Writes through it are not dirty-tracked.
    pub const fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// The region's size in bytes.
    pub const fn size(&self) -> usize {
        self.len
    }

    /// The region's first guest address.
    pub const fn start(&self) -> GuestAddress {
        self.start
    }

    /// The region's dirty bitmap.
    pub const fn bitmap(&self) -> &B {
        &self.bitmap
    }
}

impl<B: Bitmap> GuestMemoryRegion for RawRegion<B> {
    type B = B;

    #[inline]
    fn len(&self) -> GuestUsize {
        self.len as GuestUsize
    }

    #[inline]
    fn start_addr(&self) -> GuestAddress {
        self.start
    }

    #[inline]
    fn bitmap(&self) -> BS<'_, B> {
        self.bitmap.slice_at(0)
    }

    fn get_host_address(&self, addr: MemoryRegionAddress) -> GuestMemoryResult<*mut u8> {
        let offset = usize::try_from(addr.0)
            .ok()
            .filter(|&o| o < self.len)
            .ok_or(GuestMemoryError::InvalidBackendAddress)?;
        Ok(offset_ptr(self.ptr, offset))
    }

    #[inline]
    fn direct_mapping(&self) -> Option<DirectMapping<'_>> {
        // SAFETY: the constructor's contract makes `ptr` valid for `len` bytes, from any thread,
        // for as long as the region lives, with no references into it; `get_slice` accesses
        // exactly `ptr + offset`.
        Some(unsafe { DirectMapping::new(self.ptr, self.len) })
    }

    #[inline]
    fn get_slice(
        &self,
        offset: MemoryRegionAddress,
        count: usize,
    ) -> GuestMemoryResult<VolatileSlice<'_, BS<'_, B>>> {
        let offset =
            usize::try_from(offset.0).map_err(|_| GuestMemoryError::InvalidBackendAddress)?;
        compute_end(self.len, offset, count)?;
        // SAFETY: `offset..offset + count` lies inside the region, whose memory the constructor's
        // contract keeps valid for volatile access while `self` is borrowed; the bitmap slice is
        // re-based at `offset`.
        Ok(unsafe {
            VolatileSlice::with_bitmap(
                offset_ptr(self.ptr, offset),
                count,
                self.bitmap.slice_at(offset),
                None,
            )
        })
    }
}

impl<B: Bitmap> GuestMemoryRegionBytes for RawRegion<B> {}
