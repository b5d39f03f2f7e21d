//! Guest memory shared between threads: atomic accesses, dirty marking and hot swap. These are
//! the tests the thread-sanitizer job runs; they only race through atomics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use vm_memory::bitmap::{AtomicBitmap, Bitmap};
use vm_memory::{
    Bytes, GuestAddress, GuestAddressSpace, GuestMemoryAtomic, GuestMemoryBackend, GuestMemoryMmap,
    GuestMemoryRegion,
};

const PAGE: usize = 0x1000;
const ROUNDS: u64 = if cfg!(miri) { 50 } else { 20_000 };

#[test]
fn atomic_stores_are_seen_whole_by_other_threads() {
    let mem = Arc::new(GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), PAGE)]).unwrap());
    let addr = GuestAddress(0x40);
    let writer = {
        let mem = Arc::clone(&mem);
        thread::spawn(move || {
            for round in 1..=ROUNDS {
                let value = if round % 2 == 0 { 0 } else { u64::MAX };
                mem.store(value, addr, Ordering::Release).unwrap();
            }
            mem.store(u64::MAX - 1, addr, Ordering::Release).unwrap();
        })
    };
    loop {
        let value: u64 = mem.load(addr, Ordering::Acquire).unwrap();
        assert!(
            matches!(value, 0 | u64::MAX | 0xffff_ffff_ffff_fffe),
            "torn: {value:#x}"
        );
        if value == u64::MAX - 1 {
            break;
        }
    }
    writer.join().unwrap();
}

#[test]
fn threads_writing_different_pages_all_mark_the_bitmap() {
    const THREADS: usize = 4;
    let mem = Arc::new(
        GuestMemoryMmap::<AtomicBitmap>::from_ranges(&[(GuestAddress(0), 16 * PAGE)]).unwrap(),
    );
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let mem = Arc::clone(&mem);
            thread::spawn(move || {
                for page in (t..16).step_by(THREADS) {
                    let addr = GuestAddress((page * PAGE) as u64 + 8);
                    mem.store(page as u32, addr, Ordering::Relaxed).unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let region = mem.find_region(GuestAddress(0)).unwrap();
    for page in 0..16 {
        assert!(region.bitmap().dirty_at(page * PAGE), "page {page}");
        let value: u32 = mem
            .load(GuestAddress((page * PAGE) as u64 + 8), Ordering::Relaxed)
            .unwrap();
        assert_eq!(value, page as u32);
    }
}

#[test]
fn readers_keep_working_while_the_map_is_swapped() {
    let first = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), PAGE)]).unwrap();
    let atomic = GuestMemoryAtomic::new(first);
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let atomic = atomic.clone();
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mut seen = 0usize;
                while !done.load(Ordering::Acquire) {
                    let mem = GuestAddressSpace::memory(&atomic);
                    // Region 0 is in every map and holds the newest generation written so far,
                    // which the writer stores before publishing: it is never behind the map.
                    let generation: u64 = mem.load(GuestAddress(0), Ordering::Acquire).unwrap();
                    assert!(generation as usize + 1 >= mem.num_regions());
                    seen = seen.max(mem.num_regions());
                }
                seen
            })
        })
        .collect();

    let swaps = if cfg!(miri) { 3 } else { 50 };
    for generation in 1..=swaps {
        let current = GuestAddressSpace::memory(&atomic);
        let base = GuestAddress(0x10_0000 * generation);
        let region = vm_memory::GuestRegionMmap::from_range(base, PAGE, None).unwrap();
        let next = current.insert_region(Arc::new(region)).unwrap();
        // Region 0 is shared by every map; publish the new generation number with the map.
        next.store(generation, GuestAddress(0), Ordering::Release)
            .unwrap();
        atomic.lock().unwrap().replace(next);
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        assert!(reader.join().unwrap() <= swaps as usize + 1);
    }
    assert_eq!(
        GuestAddressSpace::memory(&atomic).num_regions(),
        swaps as usize + 1
    );
    assert_eq!(
        GuestAddressSpace::memory(&atomic)
            .iter()
            .last()
            .unwrap()
            .start_addr(),
        GuestAddress(0x10_0000 * swaps)
    );
}
