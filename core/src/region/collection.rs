//! `GuestRegionCollection`: the `Arc`-based region container.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::error::GuestRegionCollectionError;
use super::index::{RegionIndex, bounds_of, check_layout};
use super::{DirectMapping, GuestMemoryRegion};
use crate::address::{GuestAddress, GuestUsize, MemoryRegionAddress};
use crate::bitmap::{BS, Bitmap, MS};
use crate::guest_memory::{GuestMemoryBackend, SlicePair};
use crate::volatile::{VolatileSlice, offset_ptr};

/// Guest memory made of `Arc`-shared regions, sorted and non-overlapping.
///
/// Cloning is cheap (the regions are shared). Hotplug builds a new collection with
/// [`insert_region`](Self::insert_region) or [`remove_region`](Self::remove_region), leaving
/// the original untouched, and publishes it through `GuestMemoryAtomic`.
///
/// Lookups use a bucketed index over the address span: constant time for typical layouts
/// (regions of similar sizes), logarithmic at worst.
///
/// ```
/// use std::sync::Arc;
/// use vm_memory_core::{
///     Bytes, GuestAddress, GuestMemoryBackend, GuestRegionCollection, RawRegion,
/// };
///
/// let mut ram = vec![0u64; 1024]; // 8 KiB
/// let base = ram.as_mut_ptr().cast::<u8>();
/// // SAFETY: `ram` outlives the collection and is only used through it.
/// let regions = unsafe {
///     vec![
///         RawRegion::new(base, 4096, GuestAddress(0)).unwrap(),
///         RawRegion::new(base.add(4096), 4096, GuestAddress(0x1000)).unwrap(),
///     ]
/// };
/// let mem = GuestRegionCollection::from_regions(regions).unwrap();
/// mem.write_slice(b"hello", GuestAddress(0xffc)).unwrap(); // crosses the boundary
/// assert_eq!(mem.num_regions(), 2);
/// ```
#[derive(Debug)]
pub struct GuestRegionCollection<R> {
    index: RegionIndex<Slot<R>>,
}

/// A region and, when it has one, its direct host mapping (checked against its length).
#[derive(Debug)]
struct Slot<R> {
    region: Arc<R>,
    /// Detached from `region`'s borrow: the slot keeps `region` alive, and the collection never
    /// borrows a region mutably.
    direct: Option<DirectMapping<'static>>,
}

impl<R: GuestMemoryRegion> Slot<R> {
    /// The `len > 0` bytes at `offset` of the region, which the caller has checked to lie
    /// inside it; `None` if the region cannot give them as one slice.
    #[inline(always)]
    fn slice(&self, offset: u64, len: usize) -> Option<VolatileSlice<'_, BS<'_, R::B>>> {
        let region = self.region.as_ref();
        if let Some(direct) = self.direct {
            // `offset + len` lies inside the region, whose length the mapping has.
            let offset = usize::try_from(offset).ok()?;
            // SAFETY: `offset..offset + len` lies inside the region (caller contract), and the
            // contract of `DirectMapping::new` makes the mapping valid for the region's whole
            // life while it is not borrowed mutably; the `Arc` in `self` keeps the region alive
            // over the borrow of `self`, and nothing borrows it mutably (see `Slot::direct`).
            // The slice carries the region's bitmap at `offset` and no hook, as `get_slice`
            // would.
            return Some(unsafe {
                VolatileSlice::with_bitmap(
                    offset_ptr(direct.as_ptr(), offset),
                    len,
                    region.bitmap().slice_at(offset),
                    None,
                )
            });
        }
        let slice = region.get_slice(MemoryRegionAddress(offset), len).ok()?;
        (slice.len() == len).then_some(slice)
    }
}

impl<R> Clone for Slot<R> {
    fn clone(&self) -> Self {
        Slot {
            region: Arc::clone(&self.region),
            direct: self.direct,
        }
    }
}

impl<R> Default for GuestRegionCollection<R> {
    fn default() -> Self {
        GuestRegionCollection {
            index: RegionIndex::default(),
        }
    }
}

impl<R> Clone for GuestRegionCollection<R> {
    fn clone(&self) -> Self {
        GuestRegionCollection {
            index: self.index.clone(),
        }
    }
}

impl<R: GuestMemoryRegion> GuestRegionCollection<R> {
    /// An empty collection (the only way to get one without regions).
    pub fn new() -> Self {
        Self::default()
    }

    /// A collection of `regions`, which must be sorted by start and must not overlap.
    ///
    /// # Errors
    ///
    /// `NoMemoryRegion` for an empty vector; `UnsortedMemoryRegions` / `MemoryRegionOverlap`
    /// (checked in that order for each neighbour pair); `EmptyRegion` / `RegionEndOverflow`
    /// for a region without length or ending past `u64::MAX`.
    pub fn from_regions(regions: Vec<R>) -> Result<Self, GuestRegionCollectionError> {
        Self::from_arc_regions(regions.into_iter().map(Arc::new).collect())
    }

    /// As [`from_regions`](Self::from_regions), for regions that are already shared.
    ///
    /// # Errors
    ///
    /// As [`from_regions`](Self::from_regions).
    pub fn from_arc_regions(regions: Vec<Arc<R>>) -> Result<Self, GuestRegionCollectionError> {
        check_layout(regions.iter().map(AsRef::as_ref))?;
        Ok(Self::indexed(regions))
    }

    /// Indexes regions whose layout has been checked.
    fn indexed(regions: Vec<Arc<R>>) -> Self {
        let index = RegionIndex::new(regions.into_iter().filter_map(|region| {
            // Every region passed `check_layout`, so `bounds_of` cannot fail here.
            let (start, last) = bounds_of(region.as_ref()).ok()?;
            let direct = region
                .direct_mapping()
                .filter(|d| u64::try_from(d.len()).is_ok_and(|len| len == region.len()))
                // SAFETY: the slot keeps `region` in its `Arc` for as long as it keeps the
                // mapping, and the collection never borrows a region mutably. (A region written
                // in safe code can only return a mapping borrowed from memory it owns, which
                // cannot be dropped through shared references.)
                .map(|d| unsafe { d.detach() });
            Some((start, last, Slot { region, direct }))
        }));
        GuestRegionCollection { index }
    }

    /// A new collection with `region` added; `self` is unchanged.
    ///
    /// # Errors
    ///
    /// `MemoryRegionOverlap` if it overlaps (or duplicates) an existing region, and the
    /// per-region errors of [`from_regions`](Self::from_regions).
    pub fn insert_region(
        &self,
        region: Arc<R>,
    ) -> Result<GuestRegionCollection<R>, GuestRegionCollectionError> {
        let mut regions: Vec<Arc<R>> = self.arc_regions().cloned().collect();
        regions.push(region);
        regions.sort_by_key(|r| r.start_addr());
        Self::from_arc_regions(regions)
    }

    /// A new collection without the region that starts at `base` and is `size` bytes long,
    /// and that region; `self` is unchanged.
    ///
    /// # Errors
    ///
    /// `NoMemoryRegion` if no region matches both `base` and `size` exactly.
    pub fn remove_region(
        &self,
        base: GuestAddress,
        size: GuestUsize,
    ) -> Result<(GuestRegionCollection<R>, Arc<R>), GuestRegionCollectionError> {
        let entries = self.index.entries();
        let i = entries
            .binary_search_by_key(&base.0, |e| e.start)
            .ok()
            .filter(|&i| entries[i].value.region.len() == size)
            .ok_or(GuestRegionCollectionError::NoMemoryRegion)?;
        let mut regions: Vec<Arc<R>> = self.arc_regions().cloned().collect();
        let removed = regions.remove(i);
        Ok((Self::indexed(regions), removed))
    }

    /// The shared regions, in address order.
    pub fn arc_regions(&self) -> impl ExactSizeIterator<Item = &Arc<R>> {
        self.index.entries().iter().map(|e| &e.value.region)
    }
}

impl<R: GuestMemoryRegion> GuestMemoryBackend for GuestRegionCollection<R> {
    type R = R;

    fn num_regions(&self) -> usize {
        self.index.entries().len()
    }

    #[inline]
    fn find_region(&self, addr: GuestAddress) -> Option<&R> {
        self.index.find(addr).map(|e| e.value.region.as_ref())
    }

    fn iter(&self) -> impl Iterator<Item = &R> {
        self.index.entries().iter().map(|e| e.value.region.as_ref())
    }

    fn last_addr(&self) -> GuestAddress {
        GuestAddress(self.index.entries().last().map_or(0, |e| e.last))
    }

    #[inline]
    fn to_region_addr(&self, addr: GuestAddress) -> Option<(&R, MemoryRegionAddress)> {
        let entry = self.index.find(addr)?;
        Some((
            entry.value.region.as_ref(),
            MemoryRegionAddress(addr.0 - entry.start),
        ))
    }

    #[inline(always)]
    fn first_slice(
        &self,
        addr: GuestAddress,
        count: usize,
    ) -> Option<VolatileSlice<'_, MS<'_, Self>>> {
        let entry = self.index.find(addr)?;
        // Bytes from `addr` to the end of the region, minus one (the region holds `addr`).
        let room_minus_one = entry.last - addr.0;
        let len = if (count as u64).wrapping_sub(1) <= room_minus_one {
            count
        } else {
            // `count` is 0 or reaches past the region (then `room` fits in `count`).
            usize::try_from(room_minus_one + 1).ok()?.min(count)
        };
        if len == 0 {
            return None;
        }
        entry.value.slice(addr.0 - entry.start, len)
    }

    /// One lookup: the second piece can only be the next region, and only if it starts right
    /// after the first.
    #[inline(always)]
    fn first_two_slices(
        &self,
        addr: GuestAddress,
        count: usize,
    ) -> Option<SlicePair<'_, MS<'_, Self>>> {
        let (position, entry) = self.index.find_position(addr)?;
        // `addr..=entry.last` is the head; it is shorter than `count` (so it fits in `usize`)
        // for the range to go on into another region.
        let head_minus_one = entry.last - addr.0;
        let head = usize::try_from(head_minus_one).ok()?.checked_add(1)?;
        let rest = count.checked_sub(head).filter(|&rest| rest > 0)?;
        let next = self.index.entries().get(position + 1)?;
        // `entry.last < next.start`, so the sum cannot overflow.
        if next.start != entry.last + 1 || (rest - 1) as u64 > next.last - next.start {
            return None;
        }
        let head = entry.value.slice(addr.0 - entry.start, head)?;
        let tail = next.value.slice(0, rest)?;
        Some((head, tail))
    }
}
