//! Guest memory regions and the containers that hold them.
//!
//! A region is one contiguous range of guest physical addresses backed by one piece of memory
//! ([`GuestMemoryRegion`]). Containers implement [`GuestMemoryBackend`]:
//! - [`RegionTable`]: fixed capacity, no allocator, usable in a `static` (firmware);
//! - [`GuestRegionCollection`] (`alloc`): `Arc`-shared regions, cheap to clone and to rebuild
//!   with one region more or less (hotplug).
//!
//! Region types: [`RawRegion`] over a host pointer (firmware, boot loaders, tests), and the mmap
//! regions of the std crate.
//!
//! [`GuestMemoryBackend`]: crate::GuestMemoryBackend

#[cfg(feature = "alloc")]
mod collection;
mod direct;
mod error;
#[cfg(feature = "alloc")]
mod from_ranges;
mod index;
mod raw;
mod region_bytes;
mod table;

#[cfg(feature = "alloc")]
pub use collection::GuestRegionCollection;
pub use direct::DirectMapping;
pub use error::GuestRegionCollectionError;
#[cfg(feature = "alloc")]
pub use from_ranges::{FromRangesError, RegionFromRange};
pub use raw::RawRegion;
pub use region_bytes::GuestMemoryRegionBytes;
pub use table::RegionTable;

use crate::address::{Address, GuestAddress, GuestUsize, MemoryRegionAddress};
use crate::bitmap::{BS, Bitmap};
use crate::bytes::Bytes;
use crate::guest_memory::{FileOffset, GuestMemoryError, GuestMemoryResult};
use crate::volatile::VolatileSlice;

/// One contiguous range of guest physical memory.
///
/// Implementors provide the length, the start and the bitmap; a region whose memory has a host
/// mapping also provides [`get_slice`](Self::get_slice) (and usually
/// [`get_host_address`](Self::get_host_address)), and can then implement the marker
/// [`GuestMemoryRegionBytes`] to get `Bytes<MemoryRegionAddress>` for free.
pub trait GuestMemoryRegion: Bytes<MemoryRegionAddress, E = GuestMemoryError> {
    /// The dirty bitmap type of the region.
    type B: Bitmap;

    /// The size of the region in bytes.
    fn len(&self) -> GuestUsize;

    /// The first guest address of the region.
    fn start_addr(&self) -> GuestAddress;

    /// The last guest address of the region (`start + len - 1`).
    ///
    /// # Panics
    ///
    /// In debug builds, for an empty region or one that ends past `u64::MAX`; containers of this
    /// crate refuse such regions.
    fn last_addr(&self) -> GuestAddress {
        self.start_addr().unchecked_add(self.len() - 1)
    }

    /// The region's bitmap, as a slice starting at the region's first byte.
    fn bitmap(&self) -> BS<'_, Self::B>;

    /// Returns `addr` if it lies inside the region.
    fn check_address(&self, addr: MemoryRegionAddress) -> Option<MemoryRegionAddress> {
        self.address_in_range(addr).then_some(addr)
    }

    /// Whether `addr` lies inside the region.
    fn address_in_range(&self, addr: MemoryRegionAddress) -> bool {
        addr.raw_value() < self.len()
    }

    /// Returns `base + offset` if it does not overflow and lies inside the region.
    fn checked_offset(
        &self,
        base: MemoryRegionAddress,
        offset: usize,
    ) -> Option<MemoryRegionAddress> {
        base.checked_add(u64::try_from(offset).ok()?)
            .and_then(|addr| self.check_address(addr))
    }

    /// Converts a guest address into an offset inside the region, if it lies inside.
    fn to_region_addr(&self, addr: GuestAddress) -> Option<MemoryRegionAddress> {
        addr.checked_offset_from(self.start_addr())
            .and_then(|offset| self.check_address(MemoryRegionAddress(offset)))
    }

    /// The host address of `addr`. Writes through it are not dirty-tracked.
    ///
    /// # Errors
    ///
    /// `HostAddressNotAvailable` by default (regions without a stable host mapping).
    fn get_host_address(&self, _addr: MemoryRegionAddress) -> GuestMemoryResult<*mut u8> {
        Err(GuestMemoryError::HostAddressNotAvailable)
    }

    /// The file and offset backing the region, if any.
    fn file_offset(&self) -> Option<&FileOffset> {
        None
    }

    /// A slice of `count` bytes at `offset`. Must return exactly `count` bytes or an error.
    ///
    /// # Errors
    ///
    /// `HostAddressNotAvailable` by default; implementations report ranges outside the region
    /// as `InvalidBackendAddress`.
    fn get_slice(
        &self,
        _offset: MemoryRegionAddress,
        _count: usize,
    ) -> GuestMemoryResult<VolatileSlice<'_, BS<'_, Self::B>>> {
        Err(GuestMemoryError::HostAddressNotAvailable)
    }

    /// The whole region as one slice.
    ///
    /// # Errors
    ///
    /// As [`get_slice`](Self::get_slice); `InvalidBackendAddress` if the region is larger than
    /// the host's address width.
    fn as_volatile_slice(&self) -> GuestMemoryResult<VolatileSlice<'_, BS<'_, Self::B>>> {
        let len =
            usize::try_from(self.len()).map_err(|_| GuestMemoryError::InvalidBackendAddress)?;
        self.get_slice(MemoryRegionAddress(0), len)
    }

    /// Whether the region is backed by hugetlbfs: `None` when unknown.
    #[cfg(target_os = "linux")]
    fn is_hugetlbfs(&self) -> Option<bool> {
        None
    }

    /// The region's memory as one host mapping that lives as long as the region, if it is
    /// mapped that way (`None` by default, and for memory mapped per access).
    ///
    /// Containers cache it to reach guest memory without calling
    /// [`get_slice`](Self::get_slice) on every access; slices made from it carry
    /// `bitmap().slice_at(offset)` and no mapping hook, exactly what `get_slice` returns for
    /// such a region.
    fn direct_mapping(&self) -> Option<DirectMapping<'_>> {
        None
    }
}

#[cfg(test)]
pub(crate) mod test_regions;
#[cfg(test)]
mod tests;
