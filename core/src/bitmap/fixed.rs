//! `FixedBitmap`: a dirty bitmap with inline storage, for builds without an allocator.

use core::fmt;
use core::num::NonZeroUsize;

use super::words::{self, WORD_BITS};
use super::{Bitmap, RefSlice, WithBitmapSlice};
use crate::sync::AtomicUsize;

/// A dirty bitmap of up to `WORDS * usize::BITS` pages, stored inline (no allocator).
///
/// It works like [`AtomicBitmap`](super::AtomicBitmap) (lock-free marking, per-word atomic
/// harvest) and can be built in a `const` or `static` initialiser.
///
/// ```
/// use core::num::NonZeroUsize;
/// use vm_memory_core::bitmap::{Bitmap, FixedBitmap};
///
/// static DIRTY: FixedBitmap<1> = FixedBitmap::new(0x8000, NonZeroUsize::new(0x1000).unwrap());
/// DIRTY.mark_dirty(0x1000, 0x1001); // pages 1 and 2
/// let mut bits = [0usize; 1];
/// DIRTY.get_and_reset_into(&mut bits);
/// assert_eq!(bits[0], 0b110);
/// ```
pub struct FixedBitmap<const WORDS: usize> {
    words: [AtomicUsize; WORDS],
    pages: usize,
    page_size: NonZeroUsize,
}

impl<const WORDS: usize> FixedBitmap<WORDS> {
    /// A clean bitmap for `byte_size` bytes in pages of `page_size` bytes.
    ///
    /// # Panics
    ///
    /// If the pages do not fit in `WORDS` words (a compile-time error in `const` contexts).
    #[cfg(not(loom))]
    pub const fn new(byte_size: usize, page_size: NonZeroUsize) -> Self {
        let pages = byte_size.div_ceil(page_size.get());
        assert!(pages <= WORDS * WORD_BITS, "bitmap storage too small");
        FixedBitmap {
            words: [const { AtomicUsize::new(0) }; WORDS],
            pages,
            page_size,
        }
    }

    /// A clean bitmap for `byte_size` bytes in pages of `page_size` bytes.
    ///
    /// # Panics
    ///
    /// If the pages do not fit in `WORDS` words.
    #[cfg(loom)]
    pub fn new(byte_size: usize, page_size: NonZeroUsize) -> Self {
        let pages = byte_size.div_ceil(page_size.get());
        assert!(pages <= WORDS * WORD_BITS, "bitmap storage too small");
        FixedBitmap {
            words: core::array::from_fn(|_| AtomicUsize::new(0)),
            pages,
            page_size,
        }
    }

    /// Whether page `index` is dirty (`false` past the end).
    pub fn is_bit_set(&self, index: usize) -> bool {
        words::is_set(&self.words, self.pages, index)
    }

    /// Whether the page holding byte `addr` is dirty.
    pub fn is_addr_set(&self, addr: usize) -> bool {
        self.is_bit_set(addr / self.page_size)
    }

    /// Marks every page touched by `start..start + len` dirty (pages past the end are ignored).
    pub fn set_addr_range(&self, start: usize, len: usize) {
        words::update_range(
            &self.words,
            self.pages,
            self.page_size.get(),
            start,
            len,
            true,
        );
    }

    /// Cleans every page touched by `start..start + len`.
    pub fn reset_addr_range(&self, start: usize, len: usize) {
        words::update_range(
            &self.words,
            self.pages,
            self.page_size.get(),
            start,
            len,
            false,
        );
    }

    /// Marks page `index` dirty (ignored past the end).
    pub fn set_bit(&self, index: usize) {
        words::update_bit(&self.words, self.pages, index, true);
    }

    /// Cleans page `index` (ignored past the end).
    pub fn reset_bit(&self, index: usize) {
        words::update_bit(&self.words, self.pages, index, false);
    }

    /// The number of pages (bits).
    pub fn len(&self) -> usize {
        self.pages
    }

    /// The page size.
    pub fn page_size(&self) -> NonZeroUsize {
        self.page_size
    }

    /// Copies the dirty bits into `out` (bit `i % usize::BITS` of word `i / usize::BITS` is
    /// page `i`) and cleans them, one atomic swap per word. Words beyond `out` stay untouched.
    pub fn get_and_reset_into(&self, out: &mut [usize]) {
        let n = out.len().min(WORDS);
        let mut slots = out.iter_mut();
        words::harvest(&self.words[..n], |w| {
            if let Some(slot) = slots.next() {
                *slot = w;
            }
        });
    }

    /// Cleans every page.
    pub fn reset(&self) {
        words::clear(&self.words);
    }
}

impl<const WORDS: usize> fmt::Debug for FixedBitmap<WORDS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedBitmap")
            .field("pages", &self.pages)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl<'a, const WORDS: usize> WithBitmapSlice<'a> for FixedBitmap<WORDS> {
    type S = RefSlice<'a, Self>;
}

impl<const WORDS: usize> Bitmap for FixedBitmap<WORDS> {
    #[inline]
    fn mark_dirty(&self, offset: usize, len: usize) {
        self.set_addr_range(offset, len);
    }

    fn dirty_at(&self, offset: usize) -> bool {
        self.is_addr_set(offset)
    }

    fn slice_at(&self, offset: usize) -> RefSlice<'_, Self> {
        RefSlice::new(self, offset)
    }
}
