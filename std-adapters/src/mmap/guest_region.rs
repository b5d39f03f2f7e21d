//! `GuestRegionMmap`: an [`MmapRegion`] placed at a guest physical address.

use std::ops::Deref;
use std::sync::Arc;

use vm_memory_core::bitmap::{BS, Bitmap, NewBitmap};
use vm_memory_core::region::{DirectMapping, FromRangesError, RegionFromRange};
use vm_memory_core::volatile_memory::VolatileMemory;
use vm_memory_core::{
    Address, FileOffset, GuestAddress, GuestMemoryError, GuestMemoryRegion, GuestMemoryRegionBytes,
    GuestMemoryResult, GuestUsize, MemoryRegionAddress, VolatileSlice,
};

use super::{MmapRegion, MmapRegionError};

/// A guest memory region backed by a mapping in this process.
///
/// The mapping is shared through an `Arc`, so the same memory can appear at several guest
/// addresses (or in several guest memory maps) with [`with_arc`](Self::with_arc) and
/// [`get_mmap`](Self::get_mmap). It dereferences to its [`MmapRegion`].
///
/// ```
/// use vm_memory::mmap::{GuestRegionMmap, MmapRegion};
/// use vm_memory::{Bytes, GuestAddress, GuestMemoryRegion, MemoryRegionAddress};
///
/// let region = GuestRegionMmap::new(MmapRegion::<()>::new(0x1000).unwrap(), GuestAddress(0x10000))
///     .unwrap();
/// assert_eq!(region.last_addr(), GuestAddress(0x10fff));
/// region.write_obj(7u8, MemoryRegionAddress(0xfff)).unwrap();
/// assert_eq!(region.size(), 0x1000); // through `Deref` to the mapping
/// ```
#[derive(Debug)]
pub struct GuestRegionMmap<B = ()> {
    mapping: Arc<MmapRegion<B>>,
    guest_base: GuestAddress,
}

impl<B> Deref for GuestRegionMmap<B> {
    type Target = MmapRegion<B>;

    fn deref(&self) -> &MmapRegion<B> {
        &self.mapping
    }
}

impl<B: Bitmap> GuestRegionMmap<B> {
    /// Places `mapping` at `guest_base`; `None` if the region would end past `u64::MAX` (a
    /// region ending exactly at 2^64 is refused too, as in vm-memory 0.18).
    pub fn new(mapping: MmapRegion<B>, guest_base: GuestAddress) -> Option<Self> {
        Self::with_arc(Arc::new(mapping), guest_base)
    }

    /// As [`new`](Self::new), for a mapping that may be shared with other regions.
    pub fn with_arc(mapping: Arc<MmapRegion<B>>, guest_base: GuestAddress) -> Option<Self> {
        let size = u64::try_from(mapping.size()).ok()?;
        guest_base.checked_add(size)?;
        Some(GuestRegionMmap {
            mapping,
            guest_base,
        })
    }

    /// The shared mapping, for placing the same memory at another guest address.
    pub fn get_mmap(&self) -> Arc<MmapRegion<B>> {
        Arc::clone(&self.mapping)
    }
}

impl<B: NewBitmap> GuestRegionMmap<B> {
    /// Maps `size` bytes for guest address `addr`: of `file` if given, else anonymous memory.
    ///
    /// With the `xen` feature this goes through `MmapRange::new_unix` and
    /// `MmapRegion::from_range`, as in vm-memory 0.18, and gives the same region as without it.
    ///
    /// # Errors
    ///
    /// `MmapRegion(_)` if the memory cannot be mapped, `InvalidGuestRegion` if the region would
    /// end past the guest address space.
    pub fn from_range(
        addr: GuestAddress,
        size: usize,
        file: Option<FileOffset>,
    ) -> Result<Self, FromRangesError<MmapRegionError>> {
        #[cfg(not(all(feature = "xen", target_os = "linux")))]
        let mapping = match file {
            Some(file_offset) => MmapRegion::from_file(file_offset, size),
            None => MmapRegion::new(size),
        };
        #[cfg(all(feature = "xen", target_os = "linux"))]
        let mapping = {
            let mut range = super::MmapRange::new_unix(size, file, addr);
            if range.file_offset().is_none() {
                // Exactly `MmapRegion::new`'s flags (they differ under Miri).
                range.set_flags(super::unix::ANONYMOUS_FLAGS);
            }
            MmapRegion::from_range(range)
        };
        let mapping = mapping.map_err(FromRangesError::MmapRegion)?;
        Self::new(mapping, addr).ok_or(FromRangesError::InvalidGuestRegion)
    }
}

impl<B: NewBitmap> RegionFromRange for GuestRegionMmap<B> {
    type Error = MmapRegionError;

    fn from_range(
        addr: GuestAddress,
        size: usize,
        file: Option<FileOffset>,
    ) -> Result<Self, FromRangesError<MmapRegionError>> {
        GuestRegionMmap::from_range(addr, size, file)
    }
}

impl<B: Bitmap> GuestMemoryRegion for GuestRegionMmap<B> {
    type B = B;

    fn len(&self) -> GuestUsize {
        // `with_arc` checked that the size fits `u64`.
        self.mapping.size() as GuestUsize
    }

    fn start_addr(&self) -> GuestAddress {
        self.guest_base
    }

    fn direct_mapping(&self) -> Option<DirectMapping<'_>> {
        // The `Arc` keeps the mapping alive as long as this region.
        self.mapping.direct_mapping()
    }

    fn bitmap(&self) -> BS<'_, B> {
        self.mapping.bitmap().slice_at(0)
    }

    fn get_host_address(&self, addr: MemoryRegionAddress) -> GuestMemoryResult<*mut u8> {
        if self.mapping.as_ptr().is_null() {
            // A Xen grant region mapped per access has no lasting host address.
            return Err(GuestMemoryError::HostAddressNotAvailable);
        }
        let offset = self
            .check_address(addr)
            .and_then(|addr| usize::try_from(addr.raw_value()).ok())
            .ok_or(GuestMemoryError::InvalidBackendAddress)?;
        Ok(self.mapping.as_ptr().wrapping_add(offset))
    }

    fn file_offset(&self) -> Option<&FileOffset> {
        self.mapping.file_offset()
    }

    fn get_slice(
        &self,
        offset: MemoryRegionAddress,
        count: usize,
    ) -> GuestMemoryResult<VolatileSlice<'_, BS<'_, B>>> {
        let offset = usize::try_from(offset.raw_value())
            .map_err(|_| GuestMemoryError::InvalidBackendAddress)?;
        Ok(self.mapping.get_slice(offset, count)?)
    }

    #[cfg(target_os = "linux")]
    fn is_hugetlbfs(&self) -> Option<bool> {
        self.mapping.is_hugetlbfs()
    }
}

impl<B: Bitmap> GuestMemoryRegionBytes for GuestRegionMmap<B> {}
