//! `AtomicBitmap`: one dirty bit per page, set and harvested with atomic operations.

use alloc::vec::Vec;
use core::num::NonZeroUsize;
use core::sync::atomic::Ordering;

use super::words::{self, WORD_BITS};
use super::{Bitmap, NewBitmap, RefSlice, WithBitmapSlice};
use crate::sync::AtomicUsize;

/// The page size `NewBitmap::with_len` uses: the smallest page of every supported host, and the
/// dirty-log granularity of vhost-user. A host with larger pages just gets finer tracking.
pub const DEFAULT_PAGE_SIZE: NonZeroUsize = NonZeroUsize::new(4096).unwrap();

/// A dirty bitmap with one bit per `page_size` bytes.
///
/// Marking is lock-free (one atomic OR per word touched, with release ordering, so a harvester
/// that sees a bit also sees the write that set it). [`get_and_reset`](Self::get_and_reset)
/// harvests with one atomic swap per word: every bit set before a harvest is returned by exactly
/// one harvest or is still set afterwards.
///
/// ```
/// use std::num::NonZeroUsize;
/// use vm_memory_core::bitmap::{AtomicBitmap, Bitmap};
///
/// let bitmap = AtomicBitmap::new(0x10000, NonZeroUsize::new(0x1000).unwrap());
/// bitmap.mark_dirty(0x1fff, 2); // touches pages 1 and 2
/// assert!(bitmap.dirty_at(0x2000));
/// assert_eq!(bitmap.get_and_reset()[0], 0b110);
/// assert!(!bitmap.dirty_at(0x2000));
/// ```
#[derive(Debug)]
pub struct AtomicBitmap {
    words: Vec<AtomicUsize>,
    pages: usize,
    byte_size: usize,
    page_size: NonZeroUsize,
}

impl AtomicBitmap {
    /// A clean bitmap covering `byte_size` bytes in pages of `page_size` bytes.
    pub fn new(byte_size: usize, page_size: NonZeroUsize) -> Self {
        let pages = byte_size.div_ceil(page_size.get());
        AtomicBitmap {
            words: (0..pages.div_ceil(WORD_BITS))
                .map(|_| AtomicUsize::new(0))
                .collect(),
            pages,
            byte_size,
            page_size,
        }
    }

    /// Grows the bitmap by `additional_bytes`; the new pages are clean.
    pub fn enlarge(&mut self, additional_bytes: usize) {
        self.byte_size = self.byte_size.saturating_add(additional_bytes);
        self.pages = self.byte_size.div_ceil(self.page_size.get());
        let words = self.pages.div_ceil(WORD_BITS);
        self.words.resize_with(words, || AtomicUsize::new(0));
    }

    /// Whether page `index` is dirty (`false` past the end).
    pub fn is_bit_set(&self, index: usize) -> bool {
        words::is_set(&self.words, self.pages, index)
    }

    /// Whether the page holding byte `addr` is dirty.
    pub fn is_addr_set(&self, addr: usize) -> bool {
        self.is_bit_set(addr / self.page_size)
    }

    /// Marks every page touched by `start..start + len` dirty. `len == 0` does nothing; pages
    /// past the end (including the end wrapping past `usize::MAX`) are ignored.
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

    /// Cleans every page touched by `start..start + len`, with the same rules as
    /// [`set_addr_range`](Self::set_addr_range).
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

    /// The number of bytes covered.
    pub fn byte_size(&self) -> usize {
        self.byte_size
    }

    /// The page size.
    pub fn page_size(&self) -> NonZeroUsize {
        self.page_size
    }

    /// Returns the dirty bits as 64-bit words (bit `i % 64` of word `i / 64` is page `i`) and
    /// cleans them, one atomic swap per storage word.
    pub fn get_and_reset(&self) -> Vec<u64> {
        let mut out = Vec::with_capacity(self.pages.div_ceil(64));
        let mut acc = 0u64;
        let mut shift = 0;
        words::harvest(&self.words, |w| {
            acc |= (w as u64) << shift;
            shift += WORD_BITS;
            if shift == 64 {
                out.push(acc);
                acc = 0;
                shift = 0;
            }
        });
        if shift != 0 {
            out.push(acc);
        }
        out
    }

    /// Cleans every page.
    pub fn reset(&self) {
        words::clear(&self.words);
    }
}

impl Clone for AtomicBitmap {
    /// A snapshot of the bits.
    fn clone(&self) -> Self {
        AtomicBitmap {
            words: self
                .words
                .iter()
                .map(|w| AtomicUsize::new(w.load(Ordering::Acquire)))
                .collect(),
            pages: self.pages,
            byte_size: self.byte_size,
            page_size: self.page_size,
        }
    }
}

impl Default for AtomicBitmap {
    /// An empty bitmap with 4 KiB pages.
    fn default() -> Self {
        AtomicBitmap::new(0, DEFAULT_PAGE_SIZE)
    }
}

impl<'a> WithBitmapSlice<'a> for AtomicBitmap {
    type S = RefSlice<'a, Self>;
}

impl Bitmap for AtomicBitmap {
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

impl NewBitmap for AtomicBitmap {
    /// A clean bitmap of `len` bytes in pages of [`DEFAULT_PAGE_SIZE`].
    fn with_len(len: usize) -> Self {
        AtomicBitmap::new(len, DEFAULT_PAGE_SIZE)
    }
}
