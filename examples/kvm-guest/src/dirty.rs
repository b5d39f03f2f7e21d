//! Dirty bitmaps as lists of pages, and the VMM's own bitmap harvest.

use std::ops::Deref;

use vm_memory::GuestRegionMmap;
use vm_memory::bitmap::AtomicBitmap;

/// The page indices whose bits are set in `words` (bit `i % 64` of word `i / 64` is page `i`:
/// the layout of both `KVM_GET_DIRTY_LOG` and `AtomicBitmap::get_and_reset`), ascending.
pub fn pages_of(words: &[u64]) -> Vec<u64> {
    words
        .iter()
        .enumerate()
        .flat_map(|(i, &word)| {
            (0..64)
                .filter(move |bit| word & (1 << bit) != 0)
                .map(move |bit| i as u64 * 64 + bit)
        })
        .collect()
}

/// The pages of `region` the VMM wrote through `Bytes` since the last harvest, from the region's
/// `AtomicBitmap`, which is cleared.
pub fn harvest_vmm_pages(region: &GuestRegionMmap<AtomicBitmap>) -> Vec<u64> {
    pages_of(&region.deref().bitmap().get_and_reset())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_reads_bits_in_order_across_words() {
        assert!(pages_of(&[]).is_empty());
        assert!(pages_of(&[0, 0]).is_empty());
        assert_eq!(pages_of(&[0b1010_0001]), [0, 5, 7]);
        assert_eq!(pages_of(&[1 << 63, 1]), [63, 64]);
    }
}
