//! A dirty bitmap as a `Vec<bool>`: one flag per page.

/// The model of `AtomicBitmap` (and of a region's dirty bits).
///
/// Semantics (vm-memory 0.18 §1.10): `ceil(byte_size / page_size)` pages; a range marks every
/// page it touches; `len == 0` marks nothing; the end saturates at `usize::MAX`; pages past the
/// end are ignored; bits and addresses past the end read as clean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelBitmap {
    bits: Vec<bool>,
    byte_size: usize,
    page_size: usize,
}

impl ModelBitmap {
    /// A clean bitmap of `byte_size` bytes in pages of `page_size` (non-zero) bytes.
    pub fn new(byte_size: usize, page_size: usize) -> Self {
        assert!(page_size > 0, "the model needs a page size");
        ModelBitmap {
            bits: vec![false; Self::pages_for(byte_size, page_size)],
            byte_size,
            page_size,
        }
    }

    fn pages_for(byte_size: usize, page_size: usize) -> usize {
        let pages = (byte_size as u128).div_ceil(page_size as u128);
        usize::try_from(pages).expect("page count fits usize")
    }

    /// The number of pages.
    pub fn len(&self) -> usize {
        self.bits.len()
    }

    /// Whether there are no pages.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// The bytes covered.
    pub fn byte_size(&self) -> usize {
        self.byte_size
    }

    /// The page size.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// The flags, one per page.
    pub fn bits(&self) -> &[bool] {
        &self.bits
    }

    /// Sets (`value == true`) or clears every page touched by `start..start + len`.
    pub fn update_range(&mut self, start: usize, len: usize, value: bool) {
        if len == 0 {
            return;
        }
        let last_byte = (start as u128 + len as u128 - 1).min(usize::MAX as u128);
        let first_page = start / self.page_size;
        let last_page = (last_byte / self.page_size as u128) as usize;
        for page in first_page..=last_page {
            match self.bits.get_mut(page) {
                Some(bit) => *bit = value,
                None => break,
            }
        }
    }

    /// Sets or clears page `index` (ignored past the end).
    pub fn update_bit(&mut self, index: usize, value: bool) {
        if let Some(bit) = self.bits.get_mut(index) {
            *bit = value;
        }
    }

    /// Whether page `index` is dirty.
    pub fn is_bit_set(&self, index: usize) -> bool {
        self.bits.get(index).copied().unwrap_or(false)
    }

    /// Whether the page holding byte `addr` is dirty.
    pub fn is_addr_set(&self, addr: usize) -> bool {
        self.is_bit_set(addr / self.page_size)
    }

    /// Clears every page.
    pub fn reset(&mut self) {
        self.bits.fill(false);
    }

    /// The dirty bits as 64-bit words (bit `i % 64` of word `i / 64` is page `i`), then clean.
    pub fn get_and_reset(&mut self) -> Vec<u64> {
        let words = self
            .bits
            .chunks(64)
            .map(|chunk| {
                chunk
                    .iter()
                    .enumerate()
                    .fold(0u64, |w, (i, &b)| w | (u64::from(b) << i))
            })
            .collect();
        self.reset();
        words
    }

    /// Grows by `additional` bytes (saturating); new pages are clean.
    pub fn enlarge(&mut self, additional: usize) {
        self.byte_size = self.byte_size.saturating_add(additional);
        let pages = Self::pages_for(self.byte_size, self.page_size);
        self.bits.resize(pages, false);
    }
}
