extern crate std;

use std::vec::Vec;

use super::test_regions::{leak_buffer, region, regions};
use super::*;
use crate::guest_memory::GuestMemoryBackend;

#[test]
fn raw_region_rejects_zero_length_and_end_past_u64_max() {
    let ptr = leak_buffer(8);
    // SAFETY: `ptr` is valid for 8 bytes for the rest of the process.
    unsafe {
        assert_eq!(
            RawRegion::new(ptr, 0, GuestAddress(0)).unwrap_err(),
            GuestRegionCollectionError::EmptyRegion
        );
        assert_eq!(
            RawRegion::new(ptr, 2, GuestAddress(u64::MAX)).unwrap_err(),
            GuestRegionCollectionError::RegionEndOverflow
        );
        let top = RawRegion::new(ptr, 1, GuestAddress(u64::MAX)).unwrap();
        assert_eq!(top.last_addr(), GuestAddress(u64::MAX));
    }
}

#[test]
fn region_provided_methods_at_edges() {
    let r = region(0x1000, 0x100);
    assert_eq!(r.len(), 0x100);
    assert_eq!(r.start_addr(), GuestAddress(0x1000));
    assert_eq!(r.last_addr(), GuestAddress(0x10ff));
    assert!(r.address_in_range(MemoryRegionAddress(0xff)));
    assert!(!r.address_in_range(MemoryRegionAddress(0x100)));
    assert_eq!(
        r.check_address(MemoryRegionAddress(0)),
        Some(MemoryRegionAddress(0))
    );
    assert_eq!(r.check_address(MemoryRegionAddress(0x100)), None);
    assert_eq!(
        r.checked_offset(MemoryRegionAddress(0x80), 0x7f),
        Some(MemoryRegionAddress(0xff))
    );
    assert_eq!(r.checked_offset(MemoryRegionAddress(0x80), 0x80), None);
    assert_eq!(r.checked_offset(MemoryRegionAddress(1), usize::MAX), None);
    assert_eq!(
        r.to_region_addr(GuestAddress(0x1000)),
        Some(MemoryRegionAddress(0))
    );
    assert_eq!(
        r.to_region_addr(GuestAddress(0x10ff)),
        Some(MemoryRegionAddress(0xff))
    );
    assert_eq!(r.to_region_addr(GuestAddress(0x1100)), None);
    assert_eq!(r.to_region_addr(GuestAddress(0xfff)), None);
    assert!(r.file_offset().is_none());
    #[cfg(target_os = "linux")]
    assert_eq!(r.is_hugetlbfs(), None);
}

#[test]
fn raw_region_host_address_and_slices() {
    let r = region(0, 16);
    let base = r.get_host_address(MemoryRegionAddress(0)).unwrap();
    assert_eq!(
        r.get_host_address(MemoryRegionAddress(15)).unwrap(),
        base.wrapping_add(15)
    );
    assert!(matches!(
        r.get_host_address(MemoryRegionAddress(16)),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert_eq!(r.get_slice(MemoryRegionAddress(4), 12).unwrap().len(), 12);
    assert!(matches!(
        r.get_slice(MemoryRegionAddress(4), 13),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert!(matches!(
        r.get_slice(MemoryRegionAddress(u64::MAX), 1),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert_eq!(r.as_volatile_slice().unwrap().len(), 16);
}

#[test]
fn region_bytes_at_region_offsets() {
    let r = region(0x1000, 16);
    r.write_obj(0x1234u16, MemoryRegionAddress(14)).unwrap();
    assert_eq!(r.read_obj::<u16>(MemoryRegionAddress(14)).unwrap(), 0x1234);
    assert_eq!(r.write(&[1, 2, 3], MemoryRegionAddress(15)).unwrap(), 1);
    assert!(matches!(
        r.write_obj(1u32, MemoryRegionAddress(14)),
        Err(GuestMemoryError::PartialBuffer {
            expected: 4,
            completed: 2
        })
    ));
    assert!(matches!(
        r.read_obj::<u8>(MemoryRegionAddress(16)),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert_eq!(r.write(&[], MemoryRegionAddress(u64::MAX)).unwrap(), 0);
    r.store(
        7u32,
        MemoryRegionAddress(4),
        core::sync::atomic::Ordering::SeqCst,
    )
    .unwrap();
    assert_eq!(
        r.load::<u32>(MemoryRegionAddress(4), core::sync::atomic::Ordering::SeqCst)
            .unwrap(),
        7
    );
    assert!(matches!(
        r.load::<u32>(MemoryRegionAddress(6), core::sync::atomic::Ordering::SeqCst),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    let mut out = [0u8; 2];
    r.write_all_volatile_to(MemoryRegionAddress(14), &mut &mut out[..], 2)
        .unwrap();
    // The partial `write_obj` above wrote the first two bytes of `1u32`.
    assert_eq!(out, 1u32.to_ne_bytes()[..2]);
    r.read_exact_volatile_from(MemoryRegionAddress(0), &mut &[9u8, 9][..], 2)
        .unwrap();
    assert_eq!(
        r.read_volatile_from(MemoryRegionAddress(15), &mut &[1u8, 2][..], 2)
            .unwrap(),
        1
    );
    assert_eq!(
        r.write_volatile_to(MemoryRegionAddress(15), &mut &mut out[..], 2)
            .unwrap(),
        1
    );
}

fn layout_error(layout: &[(u64, usize)]) -> GuestRegionCollectionError {
    RegionTable::<RawRegion, 8>::from_regions(regions(layout)).unwrap_err()
}

#[test]
fn table_layout_errors_match_upstream_order() {
    assert_eq!(
        layout_error(&[]),
        GuestRegionCollectionError::NoMemoryRegion
    );
    assert_eq!(
        layout_error(&[(0, 100), (99, 10)]),
        GuestRegionCollectionError::MemoryRegionOverlap
    );
    assert_eq!(
        layout_error(&[(100, 10), (0, 10)]),
        GuestRegionCollectionError::UnsortedMemoryRegions
    );
    assert_eq!(
        layout_error(&[(0, 10), (0, 10)]),
        GuestRegionCollectionError::MemoryRegionOverlap
    );
    // Unsorted is reported before overlap for a pair that is both.
    assert_eq!(
        layout_error(&[(50, 100), (0, 100)]),
        GuestRegionCollectionError::UnsortedMemoryRegions
    );
    let too_many: Vec<(u64, usize)> = (0..9).map(|i| (i * 16, 16)).collect();
    assert_eq!(
        layout_error(&too_many),
        GuestRegionCollectionError::TableFull
    );
    assert!(RegionTable::<RawRegion, 8>::from_regions(regions(&[(0, 100), (100, 10)])).is_ok());
}

#[test]
fn table_insert_keeps_order_and_refuses_overlaps() {
    let mut t = RegionTable::<RawRegion, 3>::new();
    assert_eq!(t.capacity(), 3);
    t.insert(region(0x2000, 0x1000)).unwrap();
    t.insert(region(0, 0x1000)).unwrap();
    assert_eq!(
        t.insert(region(0x2fff, 2)).unwrap_err(),
        GuestRegionCollectionError::MemoryRegionOverlap
    );
    assert_eq!(
        t.insert(region(0x1fff, 2)).unwrap_err(),
        GuestRegionCollectionError::MemoryRegionOverlap
    );
    t.insert(region(0x1000, 0x1000)).unwrap();
    assert_eq!(
        t.insert(region(0x5000, 1)).unwrap_err(),
        GuestRegionCollectionError::TableFull
    );
    let starts: Vec<u64> = t.iter().map(|r| r.start_addr().0).collect();
    assert_eq!(starts, [0, 0x1000, 0x2000]);
    assert_eq!(t.num_regions(), 3);
    assert_eq!(
        t.remove(GuestAddress(0x1000), 0x999).unwrap_err(),
        GuestRegionCollectionError::NoMemoryRegion
    );
    let removed = t.remove(GuestAddress(0x1000), 0x1000).unwrap();
    assert_eq!(removed.start_addr(), GuestAddress(0x1000));
    assert!(t.find_region(GuestAddress(0x1800)).is_none());
}

#[test]
fn table_from_raw_regions_in_a_const_context() {
    static mut LOW: [u64; 16] = [0; 16];
    static mut HIGH: [u64; 16] = [0; 16];
    // SAFETY: the statics are only used through this table.
    let table: RegionTable<RawRegion, 4> = unsafe {
        RegionTable::from_raw_regions([
            match RawRegion::new((&raw mut LOW).cast(), 128, GuestAddress(0)) {
                Ok(r) => r,
                Err(_) => panic!(),
            },
            match RawRegion::new((&raw mut HIGH).cast(), 128, GuestAddress(0x1000)) {
                Ok(r) => r,
                Err(_) => panic!(),
            },
        ])
    };
    assert_eq!(table.num_regions(), 2);
    table.write_obj(5u64, GuestAddress(0x1078)).unwrap();
    assert_eq!(table.read_obj::<u64>(GuestAddress(0x1078)).unwrap(), 5);
}

#[test]
#[should_panic(expected = "must not overlap")]
fn table_from_raw_regions_refuses_overlap() {
    let _ = RegionTable::<RawRegion, 2>::from_raw_regions([region(0, 16), region(15, 16)]);
}

#[cfg(feature = "alloc")]
mod with_alloc {
    use alloc::sync::Arc;

    use super::*;

    fn collection(layout: &[(u64, usize)]) -> GuestRegionCollection<RawRegion> {
        GuestRegionCollection::from_regions(regions(layout)).unwrap()
    }

    #[test]
    fn collection_layout_errors_match_upstream() {
        let err = |layout: &[(u64, usize)]| {
            GuestRegionCollection::from_regions(regions(layout)).unwrap_err()
        };
        assert_eq!(err(&[]), GuestRegionCollectionError::NoMemoryRegion);
        assert_eq!(
            err(&[(0, 100), (99, 10)]),
            GuestRegionCollectionError::MemoryRegionOverlap
        );
        assert_eq!(
            err(&[(100, 10), (0, 10)]),
            GuestRegionCollectionError::UnsortedMemoryRegions
        );
        assert_eq!(GuestRegionCollection::<RawRegion>::new().num_regions(), 0);
        let adjacent = collection(&[(0, 100), (100, 100)]);
        assert_eq!(adjacent.num_regions(), 2);
    }

    #[test]
    fn collection_insert_keeps_order_rejects_duplicates_and_leaves_the_original() {
        let base = collection(&[(0, 0x100), (0x200, 0x100)]);
        let grown = base.insert_region(Arc::new(region(0x100, 0x100))).unwrap();
        assert_eq!(base.num_regions(), 2);
        let starts: Vec<u64> = grown.iter().map(|r| r.start_addr().0).collect();
        assert_eq!(starts, [0, 0x100, 0x200]);
        assert_eq!(
            grown
                .insert_region(Arc::new(region(0x100, 0x100)))
                .unwrap_err(),
            GuestRegionCollectionError::MemoryRegionOverlap
        );
        assert_eq!(
            base.insert_region(Arc::new(region(0x1ff, 2))).unwrap_err(),
            GuestRegionCollectionError::MemoryRegionOverlap
        );
        assert!(grown.find_region(GuestAddress(0x150)).is_some());
        assert!(base.find_region(GuestAddress(0x150)).is_none());
    }

    #[test]
    fn collection_remove_needs_exact_base_and_size() {
        let mem = collection(&[(0, 0x100), (0x200, 0x100)]);
        assert_eq!(
            mem.remove_region(GuestAddress(0x200), 0x80).unwrap_err(),
            GuestRegionCollectionError::NoMemoryRegion
        );
        assert_eq!(
            mem.remove_region(GuestAddress(0x201), 0x100).unwrap_err(),
            GuestRegionCollectionError::NoMemoryRegion
        );
        let (rest, removed) = mem.remove_region(GuestAddress(0x200), 0x100).unwrap();
        assert_eq!(removed.start_addr(), GuestAddress(0x200));
        assert_eq!(rest.num_regions(), 1);
        assert!(rest.find_region(GuestAddress(0x200)).is_none());
        assert!(mem.find_region(GuestAddress(0x200)).is_some());
        let (empty, _) = rest.remove_region(GuestAddress(0), 0x100).unwrap();
        assert_eq!(empty.num_regions(), 0);
        assert!(empty.find_region(GuestAddress(0)).is_none());
        assert_eq!(empty.last_addr(), GuestAddress(0));
    }

    #[test]
    fn collection_clone_shares_regions() {
        let mem = collection(&[(0, 0x100)]);
        let copy = mem.clone();
        let a = mem.find_region(GuestAddress(0)).unwrap() as *const RawRegion;
        let b = copy.find_region(GuestAddress(0)).unwrap() as *const RawRegion;
        assert_eq!(a, b);
        assert_eq!(copy.arc_regions().len(), 1);
    }

    /// Every container must find exactly the region a linear scan finds.
    fn check_lookup_matches_linear_scan(layout: &[(u64, usize)], probes: &[u64]) {
        let mem = collection(layout);
        let table = RegionTable::<RawRegion, 64>::from_regions(regions(layout)).unwrap();
        let index_of = |start: GuestAddress| layout.iter().position(|&(s, _)| s == start.0);
        for (k, &addr) in probes.iter().enumerate() {
            let expected = layout
                .iter()
                .position(|&(s, l)| addr >= s && addr - s < l as u64);
            let got = mem
                .find_region(GuestAddress(addr))
                .and_then(|r| index_of(r.start_addr()));
            assert_eq!(
                got, expected,
                "collection, address {addr:#x} in {layout:x?}"
            );
            let got = table
                .find_region(GuestAddress(addr))
                .and_then(|r| index_of(r.start_addr()));
            assert_eq!(got, expected, "table, address {addr:#x}");
            // Under Miri (about a thousand times slower), every fifth probe with three lengths:
            // inside one region, across one boundary (of the tiny regions) and to the top.
            let counts: &[usize] = if cfg!(miri) {
                if k % 5 != 0 {
                    continue;
                }
                &[2, 0x11, usize::MAX]
            } else {
                &[1, 2, 7, 8, 0x11, 0x1000, 0x2001, usize::MAX]
            };
            for &count in counts {
                check_fast_pieces_match_get_slices(&mem, addr, count, "collection");
                check_fast_pieces_match_get_slices(&table, addr, count, "table");
            }
        }
    }

    /// `first_slice` is the first item of `get_slices` when it is `Ok`; `first_two_slices` the
    /// first two when both are `Ok` and cover the whole range; both `None` otherwise.
    fn check_fast_pieces_match_get_slices<M: GuestMemoryBackend>(
        mem: &M,
        addr: u64,
        count: usize,
        what: &str,
    ) {
        let piece = |s: VolatileSlice<'_, _>| (s.raw_ptr(), s.len());
        let mut all = mem.get_slices(GuestAddress(addr), count);
        let first = all.next().and_then(Result::ok).map(piece);
        let second = all.next().and_then(Result::ok).map(piece);
        assert_eq!(
            mem.first_slice(GuestAddress(addr), count).map(piece),
            first,
            "{what}: first_slice at {addr:#x}, {count:#x} bytes"
        );
        let expected = first
            .zip(second)
            .filter(|((_, a), (_, b))| a.checked_add(*b) == Some(count));
        let got = mem
            .first_two_slices(GuestAddress(addr), count)
            .map(|(head, tail)| (piece(head), piece(tail)));
        assert_eq!(
            got, expected,
            "{what}: first_two_slices at {addr:#x}, {count:#x} bytes"
        );
    }

    /// Probe addresses at and around every region edge.
    fn edge_probes(layout: &[(u64, usize)]) -> Vec<u64> {
        let mut probes = std::vec![0, 1, u64::MAX, u64::MAX - 1];
        for &(s, l) in layout {
            let last = s + (l as u64 - 1);
            probes.extend([
                s,
                last,
                s.wrapping_sub(1),
                last.wrapping_add(1),
                s + (l as u64) / 2,
            ]);
        }
        probes
    }

    #[test]
    fn lookup_at_start_last_and_one_past_with_holes_and_adjacency() {
        let layout = [
            (0x1000, 0x1000),
            (0x2000, 0x1000),
            (0x5000, 0x10),
            (0x10_0000, 0x4000),
        ];
        check_lookup_matches_linear_scan(&layout, &edge_probes(&layout));
    }

    #[test]
    fn lookup_with_a_region_ending_at_u64_max() {
        let layout = [(0, 0x1000), (u64::MAX - 0xfff, 0x1000)];
        check_lookup_matches_linear_scan(&layout, &edge_probes(&layout));
        let mem = collection(&layout);
        assert_eq!(mem.last_addr(), GuestAddress(u64::MAX));
    }

    #[test]
    fn lookup_with_many_tiny_regions_next_to_a_huge_one() {
        // Crowds dozens of regions into one bucket of the index, forcing the search fallback.
        let mut layout: Vec<(u64, usize)> = (0..40).map(|i| (i * 8, 8)).collect();
        layout.push((1 << 40, 0x1000));
        let step = if cfg!(miri) { 13 } else { 1 };
        let probes: Vec<u64> = (0..400).step_by(step).chain(edge_probes(&layout)).collect();
        check_lookup_matches_linear_scan(&layout, &probes);
    }

    #[test]
    fn lookup_with_regions_of_mixed_sizes_and_gaps() {
        let mut layout = Vec::new();
        let mut next = 0x10u64;
        for i in 0..50u64 {
            let len = ((i * 37) % 11 + 1) as usize * 0x10;
            layout.push((next, len));
            next += len as u64 + (i % 3) * 0x10;
        }
        let step = if cfg!(miri) { 61 } else { 7 };
        let probes: Vec<u64> = (0..next + 0x20)
            .step_by(step)
            .chain(edge_probes(&layout))
            .collect();
        check_lookup_matches_linear_scan(&layout, &probes);
    }
}

#[test]
fn error_display_is_descriptive() {
    use std::string::ToString;
    assert!(
        GuestRegionCollectionError::MemoryRegionOverlap
            .to_string()
            .contains("overlap")
    );
    assert!(
        GuestRegionCollectionError::TableFull
            .to_string()
            .contains("full")
    );
}
