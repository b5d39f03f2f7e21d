//! Bit operations on a slice of atomic words, shared by the bitmap types.

use core::sync::atomic::Ordering;

use crate::sync::AtomicUsize;

/// Bits per storage word.
pub(crate) const WORD_BITS: usize = usize::BITS as usize;

/// Whether bit `index` (below `bits`) is set.
#[inline]
pub(crate) fn is_set(words: &[AtomicUsize], bits: usize, index: usize) -> bool {
    index < bits
        && words[index / WORD_BITS].load(Ordering::Acquire) & (1 << (index % WORD_BITS)) != 0
}

/// Sets or clears bit `index` (ignored at or past `bits`).
#[inline]
pub(crate) fn update_bit(words: &[AtomicUsize], bits: usize, index: usize, set: bool) {
    if index < bits {
        let word = &words[index / WORD_BITS];
        let mask = 1 << (index % WORD_BITS);
        if set {
            word.fetch_or(mask, Ordering::Release);
        } else {
            word.fetch_and(!mask, Ordering::Release);
        }
    }
}

/// Sets or clears the bits of the pages touched by `start..start + len` (pages of `page_size`
/// bytes), one atomic operation per word. `len == 0` does nothing; pages at or past `bits`
/// (including an end that wraps past `usize::MAX`) are ignored.
#[inline]
pub(crate) fn update_range(
    words: &[AtomicUsize],
    bits: usize,
    page_size: usize,
    start: usize,
    len: usize,
    set: bool,
) {
    if len == 0 {
        return;
    }
    let first = start / page_size;
    if first >= bits {
        return;
    }
    let last = (start.saturating_add(len - 1) / page_size).min(bits - 1);
    let mut page = first;
    while page <= last {
        let word = page / WORD_BITS;
        let low = page % WORD_BITS;
        let high = (last - word * WORD_BITS).min(WORD_BITS - 1);
        let mask = bit_range(low, high);
        if set {
            words[word].fetch_or(mask, Ordering::Release);
        } else {
            words[word].fetch_and(!mask, Ordering::Release);
        }
        page = (word + 1) * WORD_BITS;
    }
}

/// A word with bits `low..=high` set.
#[inline]
fn bit_range(low: usize, high: usize) -> usize {
    let upto_high = if high + 1 == WORD_BITS {
        usize::MAX
    } else {
        (1usize << (high + 1)) - 1
    };
    upto_high & !((1usize << low) - 1)
}

/// Clears every word.
pub(crate) fn clear(words: &[AtomicUsize]) {
    for word in words {
        word.store(0, Ordering::Release);
    }
}

/// Swaps each word with zero and hands the old value to `sink`, in order.
pub(crate) fn harvest(words: &[AtomicUsize], mut sink: impl FnMut(usize)) {
    for word in words {
        sink(word.swap(0, Ordering::AcqRel));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_range_covers_low_to_high_inclusive() {
        assert_eq!(bit_range(0, 0), 1);
        assert_eq!(bit_range(1, 2), 0b110);
        assert_eq!(bit_range(0, WORD_BITS - 1), usize::MAX);
        assert_eq!(
            bit_range(WORD_BITS - 1, WORD_BITS - 1),
            1 << (WORD_BITS - 1)
        );
    }
}
