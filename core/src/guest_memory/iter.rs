//! The slice iterator of `GuestMemoryBackend::get_slices`.

use core::fmt;
use core::iter::FusedIterator;

use super::{GuestMemoryBackend, GuestMemoryError, GuestMemorySliceIterator, Result};
use crate::address::{Address, GuestAddress};
use crate::bitmap::MS;
use crate::region::GuestMemoryRegion;
use crate::volatile::VolatileSlice;

/// Iterates over the slices behind a guest address range, one per region piece.
///
/// - `count == 0` yields nothing.
/// - A piece that no region holds yields `Err(InvalidGuestAddress(piece start))`.
/// - A range that would run past `u64::MAX` yields its pieces up to the top of the address space,
///   then `Err(GuestAddressOverflow)` (vm-memory 0.18 wraps around to address 0 instead).
/// - After an error or the last piece the iterator is fused: it only returns `None`.
///
/// # Panics
///
/// If a region's `get_slice` returns a slice of another length than asked for (a broken region
/// implementation; trusting it would be unsound).
pub struct GuestMemoryBackendSliceIterator<'a, M: GuestMemoryBackend + ?Sized> {
    mem: &'a M,
    addr: GuestAddress,
    count: usize,
    /// The previous piece ended at the top of the address space.
    at_top: bool,
}

impl<'a, M: GuestMemoryBackend + ?Sized> GuestMemoryBackendSliceIterator<'a, M> {
    pub(crate) fn new(mem: &'a M, addr: GuestAddress, count: usize) -> Self {
        GuestMemoryBackendSliceIterator {
            mem,
            addr,
            count,
            at_top: false,
        }
    }

    /// The next piece, without fusing.
    fn step(&mut self) -> Option<Result<VolatileSlice<'a, MS<'a, M>>>> {
        if self.count == 0 {
            return None;
        }
        if self.at_top {
            return Some(Err(GuestMemoryError::GuestAddressOverflow));
        }
        let Some((region, offset)) = self.mem.to_region_addr(self.addr) else {
            return Some(Err(GuestMemoryError::InvalidGuestAddress(self.addr)));
        };
        let room = region.len() - offset.raw_value();
        let len = usize::try_from(room).map_or(self.count, |room| room.min(self.count));
        self.count -= len;
        match self.addr.checked_add(len as u64) {
            Some(next) => self.addr = next,
            // This piece ends at the top of the address space; anything left would wrap.
            None => self.at_top = true,
        }
        let slice = region.get_slice(offset, len);
        if let Ok(slice) = &slice {
            assert_eq!(
                slice.len(),
                len,
                "GuestMemoryRegion::get_slice returned a slice of the wrong length"
            );
        }
        Some(slice)
    }

    /// The slices up to the first error; an error on the first piece is returned as `Err`.
    ///
    /// # Errors
    ///
    /// The first piece's error.
    pub fn stop_on_error(self) -> Result<impl Iterator<Item = VolatileSlice<'a, MS<'a, M>>>> {
        <Self as GuestMemorySliceIterator<'a, MS<'a, M>>>::stop_on_error(self)
    }
}

impl<'a, M: GuestMemoryBackend + ?Sized> Iterator for GuestMemoryBackendSliceIterator<'a, M> {
    type Item = Result<VolatileSlice<'a, MS<'a, M>>>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.step();
        if !matches!(item, Some(Ok(_))) {
            self.count = 0;
        }
        item
    }
}

impl<M: GuestMemoryBackend + ?Sized> FusedIterator for GuestMemoryBackendSliceIterator<'_, M> {}

impl<'a, M: GuestMemoryBackend + ?Sized> GuestMemorySliceIterator<'a, MS<'a, M>>
    for GuestMemoryBackendSliceIterator<'a, M>
{
}

impl<M: GuestMemoryBackend + ?Sized> fmt::Debug for GuestMemoryBackendSliceIterator<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuestMemoryBackendSliceIterator")
            .field("addr", &self.addr)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}
