use core::num::NonZeroUsize;

use super::*;

const PAGE_128: NonZeroUsize = NonZeroUsize::new(128).unwrap();

#[test]
fn unit_bitmap_records_nothing() {
    let b = ();
    b.mark_dirty(0, 100);
    assert!(!b.dirty_at(0));
    let slice: () = b.slice_at(10);
    Bitmap::mark_dirty(&slice, 0, 1);
    <() as NewBitmap>::with_len(10);
}

#[test]
fn option_bitmap_forwards_when_some() {
    let none: Option<FixedBitmap<1>> = None;
    none.mark_dirty(0, 10);
    assert!(!none.dirty_at(0));
    assert!(none.slice_at(0).is_none());
    let some = Some(FixedBitmap::<1>::new(1024, PAGE_128));
    some.mark_dirty(130, 1);
    assert!(some.dirty_at(128));
    assert!(some.slice_at(128).is_some_and(|s| s.dirty_at(0)));
}

#[test]
fn fixed_bitmap_marks_every_touched_page() {
    let b = FixedBitmap::<1>::new(1025, PAGE_128);
    assert_eq!(b.len(), 9);
    b.set_addr_range(128, 129);
    assert!(!b.is_addr_set(127));
    assert!(b.is_addr_set(128) && b.is_addr_set(256) && b.is_addr_set(383));
    assert!(!b.is_addr_set(384));
    let mut words = [0usize; 1];
    b.get_and_reset_into(&mut words);
    assert_eq!(words[0], 0b110);
    assert!(!b.is_bit_set(1));
}

#[test]
fn fixed_bitmap_ignores_zero_length_and_pages_past_the_end() {
    let b = FixedBitmap::<1>::new(1024, PAGE_128);
    b.set_addr_range(0, 0);
    b.set_addr_range(5000, 10);
    b.set_addr_range(usize::MAX - 1, 100);
    b.set_bit(8);
    assert!(!b.is_bit_set(8));
    let mut words = [0usize; 1];
    b.get_and_reset_into(&mut words);
    assert_eq!(words[0], 0);
    b.set_addr_range(1000, usize::MAX);
    b.get_and_reset_into(&mut words);
    assert_eq!(words[0], 1 << 7, "only the last page, the end saturates");
}

#[test]
fn fixed_bitmap_reset_range_and_bits() {
    // 100 pages need 2 words on 64-bit hosts and 4 on 32-bit ones.
    let b = FixedBitmap::<4>::new(PAGE_128.get() * 100, PAGE_128);
    b.set_addr_range(0, 128 * 100);
    b.reset_addr_range(128 * 10, 128 * 70);
    assert!(b.is_bit_set(9) && !b.is_bit_set(10) && !b.is_bit_set(79) && b.is_bit_set(80));
    b.reset_bit(0);
    assert!(!b.is_bit_set(0));
    b.reset();
    assert!(!b.is_bit_set(99));
}

#[test]
#[should_panic(expected = "bitmap storage too small")]
fn fixed_bitmap_too_small_storage_panics() {
    let _ = FixedBitmap::<1>::new(128 * (usize::BITS as usize + 1), PAGE_128);
}

#[test]
fn ref_slice_adds_its_offset() {
    let b = FixedBitmap::<1>::new(1024, PAGE_128);
    let s = b.slice_at(256);
    s.mark_dirty(0, 1);
    assert!(b.is_bit_set(2));
    let t = s.slice_at(128);
    assert!(!t.dirty_at(0));
    t.mark_dirty(1, 1);
    assert!(b.is_bit_set(3));
    assert!(s.dirty_at(128));
    assert!(t.dirty_at(0));
}

#[test]
fn base_slice_debug_shows_the_offset() {
    extern crate std;
    let b = FixedBitmap::<1>::new(1024, PAGE_128);
    let text = std::format!("{:?}", b.slice_at(7));
    assert!(text.contains("base_offset: 7"), "{text}");
}

#[cfg(feature = "alloc")]
mod atomic_bitmap {
    extern crate std;

    use alloc::sync::Arc;

    use super::*;

    #[test]
    fn sizes_round_up_to_whole_pages_and_words() {
        let b = AtomicBitmap::new(1025, PAGE_128);
        assert_eq!(b.len(), 9);
        assert_eq!(b.byte_size(), 1025);
        assert_eq!(b.get_and_reset().len(), 1);
        let big = AtomicBitmap::new(128 * 65, PAGE_128);
        assert_eq!(big.get_and_reset().len(), 2);
        assert_eq!(AtomicBitmap::default().len(), 0);
        assert_eq!(
            <AtomicBitmap as NewBitmap>::with_len(8192)
                .page_size()
                .get(),
            4096
        );
    }

    #[test]
    fn set_addr_range_marks_pages_one_and_two() {
        let b = AtomicBitmap::new(1025, PAGE_128);
        b.set_addr_range(128, 129);
        assert_eq!(b.get_and_reset(), [0b110]);
        assert_eq!(b.get_and_reset(), [0]);
    }

    #[test]
    fn ranges_across_word_boundaries() {
        let b = AtomicBitmap::new(128 * 200, PAGE_128);
        b.set_addr_range(128 * 60, 128 * 10);
        let words = b.get_and_reset();
        assert_eq!(words[0], 0xf << 60);
        assert_eq!(words[1], 0x3f);
        b.set_addr_range(0, 128 * 200);
        b.reset_addr_range(128 * 63, 128 * 2);
        assert!(b.is_bit_set(62) && !b.is_bit_set(63) && !b.is_bit_set(64) && b.is_bit_set(65));
    }

    #[test]
    fn out_of_range_is_ignored_and_reads_false() {
        let b = AtomicBitmap::new(1024, PAGE_128);
        b.set_bit(8);
        b.reset_bit(100);
        b.set_addr_range(1024, 1);
        assert!(!b.is_bit_set(8) && !b.is_addr_set(1024));
        assert_eq!(b.get_and_reset(), [0]);
    }

    #[test]
    fn enlarge_adds_clean_pages() {
        let mut b = AtomicBitmap::new(128 * 64, PAGE_128);
        b.set_bit(63);
        b.enlarge(128 * 2);
        assert_eq!(b.len(), 66);
        assert!(b.is_bit_set(63) && !b.is_bit_set(64));
        b.set_bit(65);
        assert_eq!(b.get_and_reset(), [1 << 63, 0b10]);
    }

    #[test]
    fn clone_is_a_snapshot() {
        let b = AtomicBitmap::new(1024, PAGE_128);
        b.set_bit(1);
        let c = b.clone();
        b.reset();
        assert!(c.is_bit_set(1) && !b.is_bit_set(1));
    }

    #[test]
    fn bitmap_trait_and_arc_slice() {
        let b = Arc::new(AtomicBitmap::new(1024, PAGE_128));
        b.mark_dirty(300, 1);
        assert!(b.dirty_at(256));
        let s: ArcSlice<AtomicBitmap> = BaseSlice::new(b.clone(), 512);
        s.mark_dirty(0, 1);
        assert!(b.is_bit_set(4));
        assert!(s.slice_at(0).dirty_at(0));
    }

    #[cfg_attr(miri, ignore = "slow under Miri; the loom model covers the protocol")]
    #[test]
    fn concurrent_marking_and_harvesting_lose_no_bit() {
        let b = Arc::new(AtomicBitmap::new(128 * 256, PAGE_128));
        let writers: std::vec::Vec<_> = (0..2)
            .map(|t| {
                let b = b.clone();
                std::thread::spawn(move || {
                    for round in 0..200 {
                        for page in (t..256).step_by(2) {
                            b.set_addr_range(page * 128, 1);
                        }
                        let _ = round;
                    }
                })
            })
            .collect();
        let mut seen = [false; 256];
        for _ in 0..100 {
            for (w, word) in b.get_and_reset().iter().enumerate() {
                for bit in 0..64 {
                    if word & (1 << bit) != 0 {
                        seen[w * 64 + bit] = true;
                    }
                }
            }
        }
        for w in writers {
            w.join().unwrap();
        }
        for (w, word) in b.get_and_reset().iter().enumerate() {
            for bit in 0..64 {
                if word & (1 << bit) != 0 {
                    seen[w * 64 + bit] = true;
                }
            }
        }
        assert!(
            seen.iter().all(|&s| s),
            "every page written shows up in a harvest"
        );
    }
}
