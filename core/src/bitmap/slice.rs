//! `BaseSlice`: a bitmap view that starts at an offset of a shared bitmap.

use core::fmt;
use core::ops::Deref;

use super::{Bitmap, BitmapSlice, WithBitmapSlice};

/// A view of the bitmap behind `B` (a reference or an `Arc`) starting at an offset.
///
/// Offsets are added with wrapping arithmetic: every mark accompanies an access that was already
/// bounds-checked, so a wrap could only mark a wrong page dirty (a false positive), never skip
/// one.
#[derive(Clone, Copy)]
pub struct BaseSlice<B> {
    inner: B,
    base_offset: usize,
}

impl<B> BaseSlice<B> {
    /// A view of `inner` starting at `offset`.
    pub fn new(inner: B, offset: usize) -> Self {
        BaseSlice {
            inner,
            base_offset: offset,
        }
    }
}

impl<B> WithBitmapSlice<'_> for BaseSlice<B>
where
    B: Clone + Deref,
    B::Target: Bitmap,
{
    type S = Self;
}

impl<B> BitmapSlice for BaseSlice<B>
where
    B: Clone + Deref,
    B::Target: Bitmap,
{
}

impl<B> Bitmap for BaseSlice<B>
where
    B: Clone + Deref,
    B::Target: Bitmap,
{
    #[inline]
    fn mark_dirty(&self, offset: usize, len: usize) {
        self.inner
            .mark_dirty(self.base_offset.wrapping_add(offset), len);
    }

    fn dirty_at(&self, offset: usize) -> bool {
        self.inner.dirty_at(self.base_offset.wrapping_add(offset))
    }

    #[inline]
    fn slice_at(&self, offset: usize) -> Self {
        BaseSlice {
            inner: self.inner.clone(),
            base_offset: self.base_offset.wrapping_add(offset),
        }
    }
}

impl<B> fmt::Debug for BaseSlice<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaseSlice")
            .field("base_offset", &self.base_offset)
            .finish_non_exhaustive()
    }
}

impl<B: Default> Default for BaseSlice<B> {
    fn default() -> Self {
        BaseSlice::new(B::default(), 0)
    }
}

/// A bitmap view over a borrowed bitmap.
pub type RefSlice<'a, B> = BaseSlice<&'a B>;

/// A bitmap view over a shared bitmap.
#[cfg(feature = "alloc")]
pub type ArcSlice<B> = BaseSlice<alloc::sync::Arc<B>>;
