//! `RegionTable`: a fixed-capacity region container that needs no allocator.

use heapless::Vec;

use super::GuestMemoryRegion;
use super::error::GuestRegionCollectionError;
use super::index::{check_layout, search};
use super::raw::RawRegion;
use crate::address::GuestAddress;
use crate::guest_memory::GuestMemoryBackend;

/// Up to `N` regions, sorted and non-overlapping, stored inline.
///
/// It lives on the stack or in a `static` and never allocates; lookups are a binary search over
/// at most `N` entries. It is validated like the `alloc` collection: no regions, unsorted or
/// overlapping regions, empty regions and regions ending past `u64::MAX` are refused.
///
/// ```
/// use vm_memory_core::{Bytes, GuestAddress, RawRegion, RegionTable};
///
/// static mut LOW: [u64; 128] = [0; 128];
/// static mut HIGH: [u64; 128] = [0; 128];
///
/// // SAFETY: the two statics are used only through the table.
/// let (low, high) = unsafe {
///     (
///         RawRegion::new((&raw mut LOW).cast(), 1024, GuestAddress(0)).unwrap(),
///         RawRegion::new((&raw mut HIGH).cast(), 1024, GuestAddress(0x1000)).unwrap(),
///     )
/// };
/// let mut table = RegionTable::<_, 4>::new();
/// table.insert(high).unwrap();
/// table.insert(low).unwrap();
/// table.write_obj(7u8, GuestAddress(0x1000)).unwrap();
/// assert!(table.write_obj(7u8, GuestAddress(0x800)).is_err()); // the hole between them
/// ```
#[derive(Debug)]
pub struct RegionTable<R, const N: usize> {
    regions: Vec<R, N>,
}

impl<R, const N: usize> RegionTable<R, N> {
    /// An empty table.
    pub const fn new() -> Self {
        RegionTable {
            regions: Vec::new(),
        }
    }

    /// The regions, sorted by start address.
    pub fn regions(&self) -> &[R] {
        &self.regions
    }

    /// The number of regions the table can hold.
    pub const fn capacity(&self) -> usize {
        N
    }
}

impl<R, const N: usize> Default for RegionTable<R, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: GuestMemoryRegion, const N: usize> RegionTable<R, N> {
    /// A table of the given regions, which must be sorted and not overlap.
    ///
    /// # Errors
    ///
    /// `TableFull` for more than `N` regions, or the layout errors of
    /// [`GuestRegionCollectionError`].
    pub fn from_regions(
        regions: impl IntoIterator<Item = R>,
    ) -> Result<Self, GuestRegionCollectionError> {
        let mut table = Vec::new();
        for region in regions {
            table
                .push(region)
                .map_err(|_| GuestRegionCollectionError::TableFull)?;
        }
        check_layout(table.iter())?;
        Ok(RegionTable { regions: table })
    }

    /// Inserts `region` at its place in address order.
    ///
    /// # Errors
    ///
    /// `TableFull`, `MemoryRegionOverlap`, `EmptyRegion` or `RegionEndOverflow`; the table is
    /// unchanged then.
    pub fn insert(&mut self, region: R) -> Result<(), GuestRegionCollectionError> {
        let (start, last) = super::index::bounds_of(&region)?;
        let at = self.regions.partition_point(|r| r.start_addr().0 < start);
        let overlaps_prev = at
            .checked_sub(1)
            .and_then(|i| self.regions.get(i))
            .is_some_and(|prev| prev.last_addr().0 >= start);
        let overlaps_next = self
            .regions
            .get(at)
            .is_some_and(|next| next.start_addr().0 <= last);
        if overlaps_prev || overlaps_next {
            return Err(GuestRegionCollectionError::MemoryRegionOverlap);
        }
        self.regions
            .insert(at, region)
            .map_err(|_| GuestRegionCollectionError::TableFull)
    }

    /// Removes and returns the region that starts at `base` and is `size` bytes long.
    ///
    /// # Errors
    ///
    /// `NoMemoryRegion` if no region matches both exactly.
    pub fn remove(
        &mut self,
        base: GuestAddress,
        size: u64,
    ) -> Result<R, GuestRegionCollectionError> {
        let i = self
            .regions
            .iter()
            .position(|r| r.start_addr() == base && r.len() == size)
            .ok_or(GuestRegionCollectionError::NoMemoryRegion)?;
        Ok(self.regions.remove(i))
    }
}

impl<B, const N: usize> RegionTable<RawRegion<B>, N> {
    /// A table of raw regions, checked when the table is built; usable in `static` and `const`
    /// initialisers, where an invalid layout becomes a compile-time error.
    ///
    /// # Panics
    ///
    /// If the regions are not sorted, overlap, or are more than `N`.
    pub const fn from_raw_regions<const M: usize>(regions: [RawRegion<B>; M]) -> Self {
        assert!(M <= N, "more regions than the table can hold");
        let mut i = 1;
        while i < M {
            let prev = &regions[i - 1];
            let next = &regions[i];
            assert!(
                prev.start().0 <= next.start().0,
                "regions must be sorted by start address"
            );
            assert!(
                prev.start().0 + (prev.size() as u64 - 1) < next.start().0,
                "regions must not overlap"
            );
            i += 1;
        }
        RegionTable {
            regions: Vec::from_array(regions),
        }
    }
}

impl<R: GuestMemoryRegion, const N: usize> GuestMemoryBackend for RegionTable<R, N> {
    type R = R;

    fn num_regions(&self) -> usize {
        self.regions.len()
    }

    #[inline]
    fn find_region(&self, addr: GuestAddress) -> Option<&R> {
        search(&self.regions, addr).map(|i| &self.regions[i])
    }

    fn iter(&self) -> impl Iterator<Item = &R> {
        self.regions.iter()
    }
}
