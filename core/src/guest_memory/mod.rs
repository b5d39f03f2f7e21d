//! Guest physical memory as a whole: the backend trait over region containers, the
//! permission-aware access trait, and `Bytes<GuestAddress>` for every guest memory.
//!
//! - [`GuestMemoryBackend`]: an immutable set of regions (vm-memory before 0.18 called this
//!   `GuestMemory`). Implemented by [`RegionTable`](crate::RegionTable) and
//!   `GuestRegionCollection`.
//! - [`GuestMemory`]: what devices use. It hands out the slices behind a guest address range for
//!   a requested [`Permissions`]; every backend is a `GuestMemory` that ignores permissions,
//!   and an IOMMU can sit in front of one.
//! - `Bytes<GuestAddress>` for every `GuestMemory`: reads and writes across region boundaries,
//!   partial counts at holes, single-access objects and atomics.

mod bytes_impl;
mod error;
mod file_offset;
mod iter;
mod permissions;

pub use crate::address::{GuestAddress, GuestUsize, MemoryRegionAddress};
pub use error::{GuestMemoryError, GuestMemoryResult};
pub use file_offset::FileOffset;
pub use iter::GuestMemoryBackendSliceIterator;
pub use permissions::Permissions;

/// vm-memory 0.18's name for [`GuestMemoryError`].
pub type Error = GuestMemoryError;
/// vm-memory 0.18's name for [`GuestMemoryResult`].
pub type Result<T> = GuestMemoryResult<T>;

use core::iter::FusedIterator;
use core::ops::Deref;

use crate::address::Address;
use crate::bitmap::{BS, Bitmap, BitmapSlice, MS};
use crate::region::GuestMemoryRegion;
use crate::volatile::VolatileSlice;

/// A handle that yields snapshots of a guest memory that may be replaced over time.
///
/// `&M`, `Rc<M>` and `Arc<M>` are fixed snapshots; `GuestMemoryAtomic<M>` (`alloc`) can be
/// replaced while devices keep running.
pub trait GuestAddressSpace: Clone {
    /// The guest memory type.
    type M: GuestMemory;

    /// The snapshot type returned by [`memory`](Self::memory).
    type T: Clone + Deref<Target = Self::M>;

    /// The current guest memory.
    fn memory(&self) -> Self::T;
}

impl<M: GuestMemory> GuestAddressSpace for &M {
    type M = M;
    type T = Self;

    fn memory(&self) -> Self {
        self
    }
}

#[cfg(feature = "alloc")]
impl<M: GuestMemory> GuestAddressSpace for alloc::rc::Rc<M> {
    type M = M;
    type T = Self;

    fn memory(&self) -> Self {
        self.clone()
    }
}

#[cfg(feature = "alloc")]
impl<M: GuestMemory> GuestAddressSpace for alloc::sync::Arc<M> {
    type M = M;
    type T = Self;

    fn memory(&self) -> Self {
        self.clone()
    }
}

/// An immutable set of guest memory regions.
///
/// Implementors provide [`iter`](Self::iter); a container should also override
/// [`find_region`](Self::find_region) (the default scans linearly) and
/// [`num_regions`](Self::num_regions).
pub trait GuestMemoryBackend {
    /// The region type.
    type R: GuestMemoryRegion;

    /// The number of regions.
    fn num_regions(&self) -> usize {
        self.iter().count()
    }

    /// The region holding `addr`.
    fn find_region(&self, addr: GuestAddress) -> Option<&Self::R> {
        self.iter()
            .find(|region| addr >= region.start_addr() && addr <= region.last_addr())
    }

    /// The regions, in ascending address order.
    fn iter(&self) -> impl Iterator<Item = &Self::R>;

    /// The highest last address of any region (`GuestAddress(0)` for no regions).
    fn last_addr(&self) -> GuestAddress {
        self.iter()
            .map(GuestMemoryRegion::last_addr)
            .fold(GuestAddress(0), core::cmp::max)
    }

    /// The region holding `addr` and the offset of `addr` inside it.
    fn to_region_addr(&self, addr: GuestAddress) -> Option<(&Self::R, MemoryRegionAddress)> {
        let region = self.find_region(addr)?;
        region.to_region_addr(addr).map(|offset| (region, offset))
    }

    /// Whether some region holds `addr`.
    fn address_in_range(&self, addr: GuestAddress) -> bool {
        self.find_region(addr).is_some()
    }

    /// Returns `addr` if some region holds it.
    fn check_address(&self, addr: GuestAddress) -> Option<GuestAddress> {
        self.find_region(addr).map(|_| addr)
    }

    /// Whether every byte of `base..base + len` is in some region (holes fail; adjacent regions
    /// are fine). `len == 0` is valid at any address.
    fn check_range(&self, base: GuestAddress, len: usize) -> bool {
        self.get_slices(base, len).all(|slice| slice.is_ok())
    }

    /// Returns `base + offset` if it does not overflow and lies in some region. Holes between
    /// `base` and the result are not checked.
    fn checked_offset(&self, base: GuestAddress, offset: usize) -> Option<GuestAddress> {
        base.checked_add(u64::try_from(offset).ok()?)
            .and_then(|addr| self.check_address(addr))
    }

    /// Calls `f(done, len, region_offset, region)` for each region piece of
    /// `addr..addr + count` until it returns `Ok(0)`, an error, or the range is done; returns
    /// the total of the counts `f` reported.
    ///
    /// # Errors
    ///
    /// `InvalidGuestAddress(addr)` if nothing was processed; `CallbackOutOfRange` if `f`
    /// reports more than it was given; `GuestAddressOverflow` if a piece ends past
    /// `u64::MAX + 1`; or `f`'s error. A range that runs exactly to the top continues at
    /// address 0, as in vm-memory 0.18 ([`get_slices`](Self::get_slices) refuses that instead).
    #[deprecated(since = "0.17.0", note = "use the `get_slices()` iterator")]
    fn try_access<F>(&self, count: usize, addr: GuestAddress, mut f: F) -> Result<usize>
    where
        F: FnMut(usize, usize, MemoryRegionAddress, &Self::R) -> Result<usize>,
    {
        let mut cursor = addr;
        let mut total = 0usize;
        while let Some((region, offset)) = self.to_region_addr(cursor) {
            let room = region.len() - offset.raw_value();
            let len = usize::try_from(room).map_or(count - total, |room| room.min(count - total));
            match f(total, len, offset, region)? {
                0 => return Ok(total),
                done => {
                    total = match total.checked_add(done) {
                        Some(t) if t < count => t,
                        Some(t) if t == count => return Ok(t),
                        _ => return Err(GuestMemoryError::CallbackOutOfRange),
                    };
                    cursor = match cursor.overflowing_add(done as u64) {
                        (next, false) => next,
                        // Wrapping to exactly zero continues at address 0, as upstream does.
                        (GuestAddress(0), true) => GuestAddress(0),
                        (_, true) => return Err(GuestMemoryError::GuestAddressOverflow),
                    };
                }
            }
        }
        if total == 0 {
            Err(GuestMemoryError::InvalidGuestAddress(addr))
        } else {
            Ok(total)
        }
    }

    /// The host address of `addr`. Writes through it are not dirty-tracked.
    ///
    /// # Errors
    ///
    /// `InvalidGuestAddress(addr)` if no region holds it, or the region's error.
    fn get_host_address(&self, addr: GuestAddress) -> Result<*mut u8> {
        let (region, offset) = self
            .to_region_addr(addr)
            .ok_or(GuestMemoryError::InvalidGuestAddress(addr))?;
        region.get_host_address(offset)
    }

    /// The slice of `count` bytes at `addr`, which must lie in one region.
    ///
    /// # Errors
    ///
    /// `InvalidGuestAddress(addr)` if no region holds `addr`; `InvalidBackendAddress` if the
    /// range runs past the end of that region.
    fn get_slice(
        &self,
        addr: GuestAddress,
        count: usize,
    ) -> Result<VolatileSlice<'_, MS<'_, Self>>> {
        let (region, offset) = self
            .to_region_addr(addr)
            .ok_or(GuestMemoryError::InvalidGuestAddress(addr))?;
        region.get_slice(offset, count)
    }

    /// The slices behind `addr..addr + count`, split at region boundaries.
    ///
    /// An unmapped piece yields `Err(InvalidGuestAddress(piece start))` and ends the iteration.
    fn get_slices<'a>(
        &'a self,
        addr: GuestAddress,
        count: usize,
    ) -> GuestMemoryBackendSliceIterator<'a, Self> {
        GuestMemoryBackendSliceIterator::new(self, addr, count)
    }

    /// The first piece of `addr..addr + count`: the slice from `addr` to the end of the range
    /// or of the region holding `addr`, whichever comes first. `None` if `count` is 0 or `addr`
    /// is not in a region (or on any error; callers then take [`get_slices`](Self::get_slices),
    /// which reports the exact error). It is the first item of `get_slices`, without building
    /// the iterator.
    ///
    /// This is the lookup behind the fast paths of `Bytes<GuestAddress>`; containers with a
    /// faster lookup override it.
    #[inline]
    fn first_slice(
        &self,
        addr: GuestAddress,
        count: usize,
    ) -> Option<VolatileSlice<'_, MS<'_, Self>>> {
        let (region, offset) = self.to_region_addr(addr)?;
        let room = region.len() - offset.raw_value();
        let len = usize::try_from(room).map_or(count, |room| room.min(count));
        if len == 0 {
            return None;
        }
        region
            .get_slice(offset, len)
            .ok()
            .filter(|slice| slice.len() == len)
    }

    /// The two pieces of `addr..addr + count` when the range starts in one region and ends in
    /// the next, adjacent one: the first two items of [`get_slices`](Self::get_slices). `None`
    /// for anything else (a range inside one region, into a hole, over three or more regions,
    /// `count == 0`, any error).
    ///
    /// This is the lookup behind the fast path for objects that straddle two regions;
    /// containers that know a region's neighbour override it.
    #[inline]
    fn first_two_slices(
        &self,
        addr: GuestAddress,
        count: usize,
    ) -> Option<SlicePair<'_, MS<'_, Self>>> {
        two_from_first_slices(addr, count, |addr, count| self.first_slice(addr, count))
    }
}

/// The two pieces of a range across one boundary between adjacent regions.
pub type SlicePair<'a, B> = (VolatileSlice<'a, B>, VolatileSlice<'a, B>);

/// The provided `first_two_slices` of both traits: two calls of their `first_slice`, given as
/// `first`, the second one where the first piece ends.
#[inline(always)]
fn two_from_first_slices<'a, B: BitmapSlice>(
    addr: GuestAddress,
    count: usize,
    first: impl Fn(GuestAddress, usize) -> Option<VolatileSlice<'a, B>>,
) -> Option<SlicePair<'a, B>> {
    let head = first(addr, count)?;
    let rest = count.checked_sub(head.len()).filter(|&rest| rest > 0)?;
    let tail = first(addr.checked_add(head.len() as u64)?, rest)?;
    (tail.len() == rest).then_some((head, tail))
}

/// An iterator over the slices of a guest memory range.
///
/// Items are `Ok(slice)` until the range is done, or an `Err` after which the iterator is fused.
pub trait GuestMemorySliceIterator<'a, B: BitmapSlice>:
    Iterator<Item = Result<VolatileSlice<'a, B>>> + FusedIterator + Sized
{
    /// The slices up to the first error. An error on the *first* item is returned as `Err`; an
    /// error later just ends the iteration (the caller sees a short total).
    ///
    /// # Errors
    ///
    /// The first item's error.
    fn stop_on_error(self) -> Result<impl Iterator<Item = VolatileSlice<'a, B>>> {
        let mut items = self.peekable();
        if let Some(Err(_)) = items.peek()
            && let Some(Err(e)) = items.next()
        {
            return Err(e);
        }
        Ok(items.map_while(|item| item.ok()))
    }
}

/// Guest memory as devices see it: ranges of guest addresses, accessed with permissions.
///
/// Every [`GuestMemoryBackend`] implements this, ignoring the permissions. An IOMMU layer
/// implements it to translate I/O virtual addresses and check permissions first.
pub trait GuestMemory {
    /// The backend behind this memory.
    type PhysicalMemory: GuestMemoryBackend + ?Sized;

    /// The bitmap type of the slices handed out.
    type Bitmap: Bitmap;

    /// Whether all of `addr..addr + count` is accessible with `access`.
    fn check_range(&self, addr: GuestAddress, count: usize, access: Permissions) -> bool;

    /// The slices behind `addr..addr + count`.
    ///
    /// # Errors
    ///
    /// Up-front failures (an IOMMU that cannot translate the range); failures of a piece are
    /// reported by the iterator.
    fn get_slices<'a>(
        &'a self,
        addr: GuestAddress,
        count: usize,
        access: Permissions,
    ) -> Result<impl GuestMemorySliceIterator<'a, BS<'a, Self::Bitmap>>>;

    /// The backend, when addresses are physical addresses (no translation).
    fn physical_memory(&self) -> Option<&Self::PhysicalMemory> {
        None
    }

    /// The first piece of `addr..addr + count` accessible with `access`: what the first item of
    /// [`get_slices`](Self::get_slices) would be when it is `Ok`, else `None` (also for
    /// `count == 0`). Callers that get `None`, or a piece shorter than `count`, take
    /// `get_slices`, which reports the exact error.
    ///
    /// This is the lookup behind the fast paths of `Bytes<GuestAddress>`; implementations with a
    /// faster way to find the first piece override it.
    #[inline]
    fn first_slice(
        &self,
        addr: GuestAddress,
        count: usize,
        access: Permissions,
    ) -> Option<VolatileSlice<'_, BS<'_, Self::Bitmap>>> {
        self.get_slices(addr, count, access).ok()?.next()?.ok()
    }

    /// The first two pieces of `addr..addr + count` accessible with `access` when they are the
    /// whole range: what the first two items of [`get_slices`](Self::get_slices) would be when
    /// both are `Ok` and nothing follows, else `None`. Callers that get `None` take
    /// `get_slices`, which reports the exact error.
    ///
    /// This is the lookup behind the fast path for objects that straddle two pieces;
    /// implementations with a faster way override it.
    #[inline]
    fn first_two_slices(
        &self,
        addr: GuestAddress,
        count: usize,
        access: Permissions,
    ) -> Option<SlicePair<'_, BS<'_, Self::Bitmap>>> {
        two_from_first_slices(addr, count, |addr, count| {
            self.first_slice(addr, count, access)
        })
    }
}

impl<M: GuestMemoryBackend + ?Sized> GuestMemory for M {
    type PhysicalMemory = M;
    type Bitmap = <M::R as GuestMemoryRegion>::B;

    fn check_range(&self, addr: GuestAddress, count: usize, _access: Permissions) -> bool {
        <M as GuestMemoryBackend>::check_range(self, addr, count)
    }

    fn get_slices<'a>(
        &'a self,
        addr: GuestAddress,
        count: usize,
        _access: Permissions,
    ) -> Result<impl GuestMemorySliceIterator<'a, BS<'a, Self::Bitmap>>> {
        Ok(<M as GuestMemoryBackend>::get_slices(self, addr, count))
    }

    fn physical_memory(&self) -> Option<&Self::PhysicalMemory> {
        Some(self)
    }

    #[inline(always)]
    fn first_slice(
        &self,
        addr: GuestAddress,
        count: usize,
        _access: Permissions,
    ) -> Option<VolatileSlice<'_, BS<'_, Self::Bitmap>>> {
        <M as GuestMemoryBackend>::first_slice(self, addr, count)
    }

    #[inline(always)]
    fn first_two_slices(
        &self,
        addr: GuestAddress,
        count: usize,
        _access: Permissions,
    ) -> Option<SlicePair<'_, BS<'_, Self::Bitmap>>> {
        <M as GuestMemoryBackend>::first_two_slices(self, addr, count)
    }
}

#[cfg(test)]
mod tests;
