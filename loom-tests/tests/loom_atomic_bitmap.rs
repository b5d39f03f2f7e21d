//! `AtomicBitmap`: concurrent marking against harvesting loses no dirty bit.
#![cfg(loom)]

use std::num::NonZeroUsize;

use loom::sync::Arc;
use loom::thread;
use vm_memory_core::bitmap::AtomicBitmap;
use vm_memory_loom_tests::model;

const PAGE: NonZeroUsize = NonZeroUsize::new(0x1000).unwrap();

#[test]
fn set_addr_range_and_get_and_reset_lose_no_bit() {
    model(|| {
        // 66 pages: two storage words, so ranges can cross a word boundary.
        let bitmap = Arc::new(AtomicBitmap::new(66 * 0x1000, PAGE));
        let marker = {
            let bitmap = bitmap.clone();
            thread::spawn(move || {
                // Pages 63 and 64, across the word boundary, then page 1.
                bitmap.set_addr_range(63 * 0x1000 + 0x800, 0x1000);
                bitmap.set_addr_range(0x1000, 1);
            })
        };
        let first = bitmap.get_and_reset();
        marker.join().unwrap();
        let second = bitmap.get_and_reset();
        for page in [1usize, 63, 64] {
            let (w, b) = (page / 64, page % 64);
            let in_first = first[w] & (1 << b) != 0;
            let in_second = second[w] & (1 << b) != 0;
            assert!(
                in_first ^ in_second,
                "page {page} must show up in exactly one harvest (first {in_first}, second {in_second})"
            );
        }
        assert_eq!(first[0] & !((1 << 1) | (1 << 63)), 0, "no stray bits");
        assert!(bitmap.get_and_reset().iter().all(|&w| w == 0));
    });
}

#[test]
fn two_markers_and_a_harvester() {
    model(|| {
        let bitmap = Arc::new(AtomicBitmap::new(8 * 0x1000, PAGE));
        let markers: Vec<_> = [2usize, 5]
            .into_iter()
            .map(|page| {
                let bitmap = bitmap.clone();
                thread::spawn(move || bitmap.set_bit(page))
            })
            .collect();
        let harvested = bitmap.get_and_reset()[0];
        for m in markers {
            m.join().unwrap();
        }
        let rest = bitmap.get_and_reset()[0];
        assert_eq!(harvested & rest, 0, "no bit is harvested twice");
        assert_eq!(harvested | rest, (1 << 2) | (1 << 5), "no bit is lost");
    });
}
