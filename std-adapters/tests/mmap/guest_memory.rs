//! `GuestRegionMmap` and `GuestMemoryMmap` over anonymous memory.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use vm_memory::bitmap::{AtomicBitmap, Bitmap};
use vm_memory::mmap::{FromRangesError, GuestRegionMmap, MmapRegion};
use vm_memory::{
    Bytes, GuestAddress, GuestMemory, GuestMemoryBackend, GuestMemoryError, GuestMemoryMmap,
    GuestMemoryRegion, GuestRegionCollectionError, MemoryRegionAddress, Permissions,
};

const PAGE: usize = 0x1000;

fn two_pages() -> GuestMemoryMmap {
    GuestMemoryMmap::from_ranges(&[(GuestAddress(0), PAGE), (GuestAddress(0x1000), PAGE)]).unwrap()
}

#[test]
fn five_bytes_at_0xffc_cross_the_region_boundary() {
    let mem = two_pages();
    assert_eq!(mem.write(&[1, 2, 3, 4, 5], GuestAddress(0xffc)).unwrap(), 5);
    let mut buf = [0u8; 5];
    assert_eq!(mem.read(&mut buf, GuestAddress(0xffc)).unwrap(), 5);
    assert_eq!(buf, [1, 2, 3, 4, 5]);
    // The bytes really are split between the two mappings.
    let second = mem.find_region(GuestAddress(0x1000)).unwrap();
    assert_eq!(second.read_obj::<u8>(MemoryRegionAddress(0)).unwrap(), 5);
}

#[test]
fn new_refuses_regions_that_end_at_or_past_2_pow_64() {
    let at_top = GuestAddress(u64::MAX - (PAGE as u64 - 1));
    assert!(GuestRegionMmap::new(MmapRegion::<()>::new(PAGE).unwrap(), at_top).is_none());
    let below = GuestAddress(u64::MAX - PAGE as u64);
    let region = GuestRegionMmap::new(MmapRegion::<()>::new(PAGE).unwrap(), below).unwrap();
    assert_eq!(region.last_addr(), GuestAddress(u64::MAX - 1));
}

#[test]
fn from_ranges_reports_layout_and_mapping_errors() {
    let overlap = GuestMemoryMmap::<()>::from_ranges(&[
        (GuestAddress(0), 2 * PAGE),
        (GuestAddress(0x1000), PAGE),
    ]);
    assert!(matches!(
        overlap,
        Err(FromRangesError::Collection(
            GuestRegionCollectionError::MemoryRegionOverlap
        ))
    ));
    let unsorted = GuestMemoryMmap::<()>::from_ranges(&[
        (GuestAddress(0x1000), PAGE),
        (GuestAddress(0), PAGE),
    ]);
    assert!(matches!(
        unsorted,
        Err(FromRangesError::Collection(
            GuestRegionCollectionError::UnsortedMemoryRegions
        ))
    ));
    assert!(matches!(
        GuestMemoryMmap::<()>::from_ranges(&[]),
        Err(FromRangesError::Collection(
            GuestRegionCollectionError::NoMemoryRegion
        ))
    ));
    let empty = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0)]);
    assert!(matches!(empty, Err(FromRangesError::MmapRegion(_))));
    let past_top = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(u64::MAX), PAGE)]);
    assert!(matches!(past_top, Err(FromRangesError::InvalidGuestRegion)));
    // Every variant prints something and is a `std::error::Error`.
    for err in [
        overlap.unwrap_err(),
        past_top.unwrap_err(),
        empty.unwrap_err(),
    ] {
        let err: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn adjacent_ranges_are_accepted_and_iterated_in_order() {
    let mem = GuestMemoryMmap::<()>::from_ranges(&[
        (GuestAddress(0), PAGE),
        (GuestAddress(0x1000), 2 * PAGE),
        (GuestAddress(0x10_0000), PAGE),
    ])
    .unwrap();
    let starts: Vec<u64> = mem.iter().map(|r| r.start_addr().0).collect();
    assert_eq!(starts, [0, 0x1000, 0x10_0000]);
    assert_eq!(mem.num_regions(), 3);
    assert_eq!(mem.last_addr(), GuestAddress(0x10_0fff));
}

#[test]
fn host_addresses_and_slices_point_into_the_mapping() {
    let mem = two_pages();
    let region = mem.find_region(GuestAddress(0x1000)).unwrap();
    let host = region.get_host_address(MemoryRegionAddress(0x10)).unwrap();
    assert_eq!(host, region.as_ptr().wrapping_add(0x10));
    assert_eq!(mem.get_host_address(GuestAddress(0x1010)).unwrap(), host);
    assert!(matches!(
        region.get_host_address(MemoryRegionAddress(PAGE as u64)),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert!(matches!(
        mem.get_host_address(GuestAddress(0x2000)),
        Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(0x2000)))
    ));

    let slice = region.get_slice(MemoryRegionAddress(0x20), 0x10).unwrap();
    assert_eq!(
        slice.ptr_guard().as_ptr(),
        region.as_ptr().wrapping_add(0x20).cast_const()
    );
    assert!(matches!(
        region.get_slice(MemoryRegionAddress(PAGE as u64 - 1), 2),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert!(matches!(
        region.get_slice(MemoryRegionAddress(u64::MAX), 1),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert_eq!(region.file_offset().map(|f| f.start()), None);
    #[cfg(target_os = "linux")]
    assert_eq!(region.is_hugetlbfs(), None);
}

#[test]
fn objects_at_the_end_of_memory_are_partial_or_invalid() {
    let mem = two_pages();
    assert!(matches!(
        mem.write_obj(0u64, GuestAddress(0x1ffc)),
        Err(GuestMemoryError::PartialBuffer {
            expected: 8,
            completed: 4
        })
    ));
    assert!(matches!(
        mem.write_obj(0u64, GuestAddress(0x2001)),
        Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(0x2001)))
    ));
    assert_eq!(mem.write(&[9, 9], GuestAddress(0x1fff)).unwrap(), 1);
    assert_eq!(mem.write(&[], GuestAddress(0xdead_0000)).unwrap(), 0);
    assert!(GuestMemoryBackend::check_range(
        &mem,
        GuestAddress(0xffc),
        8
    ));
    assert!(!GuestMemoryBackend::check_range(
        &mem,
        GuestAddress(0x1ffc),
        8
    ));
    assert!(GuestMemory::check_range(
        &mem,
        GuestAddress(0),
        0x2000,
        Permissions::ReadWrite
    ));
}

#[test]
fn atomics_need_alignment_and_one_region() {
    let mem = two_pages();
    mem.store(0x1234_5678_u32, GuestAddress(0x1004), Ordering::Release)
        .unwrap();
    assert_eq!(
        mem.load::<u32>(GuestAddress(0x1004), Ordering::Acquire)
            .unwrap(),
        0x1234_5678
    );
    assert!(matches!(
        mem.store(1u32, GuestAddress(0x1002), Ordering::Relaxed),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert!(matches!(
        mem.load::<u64>(GuestAddress(0xffc), Ordering::Relaxed),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert!(matches!(
        mem.load::<u32>(GuestAddress(0x2000), Ordering::Relaxed),
        Err(GuestMemoryError::InvalidGuestAddress(_))
    ));
}

#[test]
fn every_write_path_marks_the_atomic_bitmap() {
    let mem = GuestMemoryMmap::<AtomicBitmap>::from_ranges(&[
        (GuestAddress(0), 4 * PAGE),
        (GuestAddress(0x4000), 4 * PAGE),
    ])
    .unwrap();
    let dirty = |addr: u64| {
        let (region, offset) = mem.to_region_addr(GuestAddress(addr)).unwrap();
        region.bitmap().dirty_at(offset.0 as usize)
    };
    mem.read_obj::<u64>(GuestAddress(0x1000)).unwrap();
    assert!(!dirty(0x1000), "reads do not dirty");

    mem.write_obj(1u8, GuestAddress(0x1000)).unwrap();
    mem.write_slice(&[1; 8], GuestAddress(0x3ffc)).unwrap(); // across both regions
    mem.store(1u32, GuestAddress(0x6000), Ordering::Relaxed)
        .unwrap();
    mem.read_volatile_from(GuestAddress(0x7000), &mut &[1u8; 4][..], 4)
        .unwrap();
    for addr in [0x1000, 0x3000, 0x4000, 0x6000, 0x7000] {
        assert!(dirty(addr), "{addr:#x} should be dirty");
    }
    for addr in [0, 0x2000, 0x5000] {
        assert!(!dirty(addr), "{addr:#x} should be clean");
    }
    // The whole bitmap of a region is reachable through the mapping.
    let region = mem.find_region(GuestAddress(0x4000)).unwrap();
    assert!(region.get_mmap().bitmap().is_addr_set(0x2000));
}

#[test]
fn a_mapping_can_be_rebased_with_with_arc() {
    let mem = two_pages();
    mem.write_obj(0x77_u8, GuestAddress(0x1004)).unwrap();
    let (rest, removed) = mem
        .remove_region(GuestAddress(0x1000), PAGE as u64)
        .unwrap();
    let rebased = GuestRegionMmap::with_arc(removed.get_mmap(), GuestAddress(0x8000)).unwrap();
    assert!(Arc::ptr_eq(&rebased.get_mmap(), &removed.get_mmap()));
    let moved = rest.insert_region(Arc::new(rebased)).unwrap();
    assert_eq!(moved.read_obj::<u8>(GuestAddress(0x8004)).unwrap(), 0x77);
    assert!(moved.find_region(GuestAddress(0x1000)).is_none());
    // The original map is untouched.
    assert_eq!(mem.read_obj::<u8>(GuestAddress(0x1004)).unwrap(), 0x77);
}

#[test]
fn deref_reaches_the_mapping() {
    let region = GuestRegionMmap::<()>::from_range(GuestAddress(0x4000), PAGE, None).unwrap();
    assert_eq!(region.size(), PAGE);
    assert!(region.file_offset().is_none());
    assert_eq!(GuestMemoryRegion::len(&region), PAGE as u64);
    assert_eq!(region.start_addr(), GuestAddress(0x4000));
}
