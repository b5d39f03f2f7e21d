//! Dirty-page tracking.
//!
//! Memory types are generic over a [`Bitmap`] that records which parts of guest memory were
//! written through this crate. `()` records nothing and costs nothing; [`FixedBitmap`] (inline
//! storage, no allocator) and `AtomicBitmap` (with `alloc`) keep one bit per page. Offsets given to a bitmap are relative to the object that
//! owns it: a region's bitmap starts at the region's first byte, and the bitmap of a
//! [`VolatileSlice`](crate::VolatileSlice) (a [`BitmapSlice`]) starts at the slice's first byte.
//!
//! Every write path of this crate marks the bitmap. Paths that hand out raw pointers
//! ([`PtrGuardMut`](crate::volatile_memory::PtrGuardMut), `get_host_address`, `aligned_as_mut`,
//! `get_atomic_ref`) cannot, and say so: callers mark what they wrote.

#[cfg(feature = "alloc")]
mod atomic_bitmap;
mod fixed;
mod slice;
mod words;

#[cfg(feature = "alloc")]
pub use atomic_bitmap::{AtomicBitmap, DEFAULT_PAGE_SIZE};
pub use fixed::FixedBitmap;
#[cfg(feature = "alloc")]
pub use slice::ArcSlice;
pub use slice::{BaseSlice, RefSlice};

use core::fmt::Debug;

use crate::guest_memory::GuestMemoryBackend;
use crate::region::GuestMemoryRegion;

/// Names the slice type a bitmap hands out for a borrow of lifetime `'a`.
pub trait WithBitmapSlice<'a> {
    /// The bitmap slice type.
    type S: BitmapSlice;
}

/// A bitmap view that starts at some offset of its parent; the type every slice carries.
pub trait BitmapSlice: Bitmap + Clone + Debug + for<'a> WithBitmapSlice<'a, S = Self> {}

/// Records which bytes of a memory object were written.
pub trait Bitmap: for<'a> WithBitmapSlice<'a> {
    /// Marks `len` bytes starting at `offset` as dirty.
    fn mark_dirty(&self, offset: usize, len: usize);

    /// Whether the byte at `offset` is dirty.
    fn dirty_at(&self, offset: usize) -> bool;

    /// A view of the bitmap starting at `offset`.
    fn slice_at(&self, offset: usize) -> <Self as WithBitmapSlice<'_>>::S;
}

/// A bitmap that can be created for a memory object of a given length.
pub trait NewBitmap: Bitmap + Default {
    /// Creates a bitmap covering `len` bytes.
    fn with_len(len: usize) -> Self;
}

impl WithBitmapSlice<'_> for () {
    type S = Self;
}

impl BitmapSlice for () {}

impl Bitmap for () {
    #[inline(always)]
    fn mark_dirty(&self, _offset: usize, _len: usize) {}

    #[inline(always)]
    fn dirty_at(&self, _offset: usize) -> bool {
        false
    }

    #[inline(always)]
    fn slice_at(&self, _offset: usize) -> Self {}
}

impl NewBitmap for () {
    fn with_len(_len: usize) -> Self {}
}

impl<'a, B> WithBitmapSlice<'a> for Option<B>
where
    B: WithBitmapSlice<'a>,
{
    type S = Option<B::S>;
}

impl<B: BitmapSlice> BitmapSlice for Option<B> {}

impl<B: Bitmap> Bitmap for Option<B> {
    #[inline]
    fn mark_dirty(&self, offset: usize, len: usize) {
        if let Some(inner) = self {
            inner.mark_dirty(offset, len);
        }
    }

    #[inline]
    fn dirty_at(&self, offset: usize) -> bool {
        self.as_ref().is_some_and(|inner| inner.dirty_at(offset))
    }

    #[inline]
    fn slice_at(&self, offset: usize) -> Option<<B as WithBitmapSlice<'_>>::S> {
        self.as_ref().map(|inner| inner.slice_at(offset))
    }
}

/// The slice type of bitmap `B` for lifetime `'a`.
pub type BS<'a, B> = <B as WithBitmapSlice<'a>>::S;

/// The slice type of the bitmap of the regions of backend `M`.
pub type MS<'a, M> = BS<'a, <<M as GuestMemoryBackend>::R as GuestMemoryRegion>::B>;

#[cfg(test)]
pub(crate) mod recording;

#[cfg(test)]
mod tests;
