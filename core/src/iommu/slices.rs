//! The slice iterator of `IommuMemory::get_slices`.

use alloc::string::String;
use core::fmt;
use core::iter::FusedIterator;

use super::memory::beyond_bitmap;
use super::{Error, Iommu, IotlbIterator, IovaRange};
use crate::address::GuestAddress;
use crate::bitmap::{Bitmap, MS};
use crate::guest_memory::{
    GuestMemoryBackend, GuestMemoryBackendSliceIterator, GuestMemoryError, GuestMemoryResult,
    GuestMemorySliceIterator,
};
use crate::region::GuestMemoryRegion;
use crate::volatile::VolatileSlice;

/// The slices behind a range of an [`IommuMemory`](super::IommuMemory), returned by its
/// `get_slices`.
///
/// With the IOMMU disabled it yields what the backend's `get_slices` yields. With the IOMMU
/// enabled it walks the translated pieces in the backend, one slice per region piece, each
/// slice tracking writes in the IOVA bitmap at the slice's IOVA. An error item (a translated
/// address that no region holds, or a translation shorter than the range) ends the iteration;
/// afterwards the iterator only returns `None`.
pub struct IommuMemorySliceIterator<'a, M: GuestMemoryBackend, I: Iommu + 'a> {
    backend: &'a M,
    /// The IOVA bitmap; `None` in pass-through mode.
    bitmap: Option<&'a <M::R as GuestMemoryRegion>::B>,
    /// The IOVA of the next slice.
    iova: u64,
    /// IOVA bytes not yet handed to the backend.
    remaining: usize,
    /// The translated pieces still to walk; `None` in pass-through mode or once done.
    translation: Option<IotlbIterator<I::IotlbGuard<'a>>>,
    /// The backend slices of the current piece (of the whole range in pass-through mode).
    current: Option<GuestMemoryBackendSliceIterator<'a, M>>,
}

impl<'a, M: GuestMemoryBackend, I: Iommu + 'a> IommuMemorySliceIterator<'a, M, I> {
    /// The backend's slices of `addr..addr + count`, untranslated.
    pub(super) fn phys(backend: &'a M, addr: GuestAddress, count: usize) -> Self {
        IommuMemorySliceIterator {
            backend,
            bitmap: None,
            iova: addr.0,
            remaining: 0,
            translation: None,
            current: Some(GuestMemoryBackend::get_slices(backend, addr, count)),
        }
    }

    /// The slices of the IOVA range `iova..iova + count`, which `translation` translates.
    pub(super) fn virt(
        backend: &'a M,
        bitmap: &'a <M::R as GuestMemoryRegion>::B,
        iova: GuestAddress,
        count: usize,
        translation: IotlbIterator<I::IotlbGuard<'a>>,
    ) -> Self {
        IommuMemorySliceIterator {
            backend,
            bitmap: Some(bitmap),
            iova: iova.0,
            remaining: count,
            translation: Some(translation),
            current: None,
        }
    }

    /// The next item, without fusing.
    fn step(&mut self) -> Option<GuestMemoryResult<VolatileSlice<'a, MS<'a, M>>>> {
        loop {
            if let Some(item) = self.current.as_mut().and_then(Iterator::next) {
                let slice = match item {
                    Ok(slice) => slice,
                    Err(e) => return Some(Err(e)),
                };
                let Some(bitmap) = self.bitmap else {
                    return Some(Ok(slice));
                };
                let Ok(offset) = usize::try_from(self.iova) else {
                    return Some(Err(beyond_bitmap(self.iova, slice.len())));
                };
                // `get_slices` checked that the range ends by `u64::MAX`: this wraps to 0 only
                // after the last slice.
                self.iova = self.iova.wrapping_add(slice.len() as u64);
                return Some(Ok(slice.with_replaced_bitmap(bitmap.slice_at(offset))));
            }
            if self.remaining == 0 {
                return None;
            }
            // An `IotlbIterator` covers the range it was looked up for, but `translate` is
            // implemented outside this crate: clip what it returns to the range, and report a
            // translation that ends early instead of returning fewer bytes.
            let Some(piece) = self.translation.as_mut()?.next() else {
                return Some(Err(GuestMemoryError::IommuError(Error::CannotResolve {
                    iova_range: IovaRange {
                        base: GuestAddress(self.iova),
                        length: self.remaining,
                    },
                    reason: String::from("the IOMMU's translation ended before the range did"),
                })));
            };
            let length = piece.length.min(self.remaining);
            self.remaining -= length;
            self.current = Some(GuestMemoryBackend::get_slices(
                self.backend,
                piece.base,
                length,
            ));
        }
    }
}

impl<'a, M: GuestMemoryBackend, I: Iommu + 'a> Iterator for IommuMemorySliceIterator<'a, M, I> {
    type Item = GuestMemoryResult<VolatileSlice<'a, MS<'a, M>>>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.step();
        if !matches!(item, Some(Ok(_))) {
            // Fuse: drop the translation (and with it the IOTLB guard) and the backend walk.
            self.current = None;
            self.translation = None;
            self.remaining = 0;
        }
        item
    }
}

impl<'a, M: GuestMemoryBackend, I: Iommu + 'a> FusedIterator
    for IommuMemorySliceIterator<'a, M, I>
{
}

impl<'a, M: GuestMemoryBackend, I: Iommu + 'a> GuestMemorySliceIterator<'a, MS<'a, M>>
    for IommuMemorySliceIterator<'a, M, I>
{
}

impl<'a, M: GuestMemoryBackend, I: Iommu + 'a> fmt::Debug for IommuMemorySliceIterator<'a, M, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IommuMemorySliceIterator")
            .field("translated", &self.bitmap.is_some())
            .field("iova", &self.iova)
            .field("remaining", &self.remaining)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}
