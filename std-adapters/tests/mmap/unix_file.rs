//! File-backed `MmapRegion`s on Unix: shared views, `fds_overlap`, offsets and file sizes.
//! Miri cannot map files.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use vm_memory::mmap::{MmapRegion, MmapRegionError};
use vm_memory::{
    Bytes, FileOffset, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion,
    VolatileMemory,
};

use crate::common::{page_size, temp_file};

#[test]
#[cfg_attr(miri, ignore = "Miri does not support file-backed mappings")]
fn from_file_maps_the_range_and_writes_reach_the_file() {
    let page = page_size();
    let file = Arc::new(temp_file(2 * page as u64));
    let offset = FileOffset::from_arc(Arc::clone(&file), page as u64);
    let region = MmapRegion::<()>::from_file(offset, page).unwrap();
    assert_eq!(region.flags(), libc::MAP_NORESERVE | libc::MAP_SHARED);
    assert_eq!(region.prot(), libc::PROT_READ | libc::PROT_WRITE);
    assert_eq!(region.file_offset().unwrap().start(), page as u64);

    region.as_volatile_slice().write_slice(b"file", 8).unwrap();
    let mut buf = [0u8; 4];
    file.read_exact_at(&mut buf, page as u64 + 8).unwrap();
    assert_eq!(&buf, b"file");

    file.write_all_at(b"back", page as u64 + 16).unwrap();
    let mut buf = [0u8; 4];
    region.as_volatile_slice().read_slice(&mut buf, 16).unwrap();
    assert_eq!(&buf, b"back");
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support file-backed mappings")]
fn two_regions_mapping_one_file_see_each_others_writes() {
    let page = page_size();
    let file = Arc::new(temp_file(2 * page as u64));
    let whole =
        MmapRegion::<()>::from_file(FileOffset::from_arc(Arc::clone(&file), 0), 2 * page).unwrap();
    let upper = MmapRegion::<()>::from_file(FileOffset::from_arc(file, page as u64), page).unwrap();

    whole
        .as_volatile_slice()
        .write_obj(0x1122_3344_u32, page + 0x80)
        .unwrap();
    assert_eq!(
        upper.as_volatile_slice().read_obj::<u32>(0x80).unwrap(),
        0x1122_3344
    );
    upper.as_volatile_slice().write_obj(0x55_u8, 0).unwrap();
    assert_eq!(
        whole.as_volatile_slice().read_obj::<u8>(page).unwrap(),
        0x55
    );
    assert!(whole.fds_overlap(&upper));
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support file-backed mappings")]
fn fds_overlap_needs_the_same_descriptor_and_overlapping_ranges() {
    let page = page_size();
    let file = Arc::new(temp_file(4 * page as u64));
    let map = |start: usize, len: usize| {
        let offset = FileOffset::from_arc(Arc::clone(&file), start as u64);
        MmapRegion::<()>::from_file(offset, len).unwrap()
    };
    let low = map(0, 2 * page);
    let middle = map(page, 2 * page);
    let high = map(2 * page, 2 * page);
    assert!(low.fds_overlap(&middle) && middle.fds_overlap(&low));
    assert!(middle.fds_overlap(&high) && high.fds_overlap(&middle));
    assert!(
        !low.fds_overlap(&high) && !high.fds_overlap(&low),
        "adjacent ranges"
    );
    assert!(low.fds_overlap(&low));

    let other_file =
        MmapRegion::<()>::from_file(FileOffset::new(temp_file(4 * page as u64), 0), page).unwrap();
    assert!(!low.fds_overlap(&other_file), "different descriptors");
    let anonymous = MmapRegion::<()>::new(page).unwrap();
    assert!(!low.fds_overlap(&anonymous) && !anonymous.fds_overlap(&low));
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support file-backed mappings")]
fn ranges_past_the_end_of_a_regular_file_are_refused() {
    let page = page_size();
    let file = Arc::new(temp_file(page as u64));
    let map = |start: u64, len: usize| {
        MmapRegion::<()>::from_file(FileOffset::from_arc(Arc::clone(&file), start), len)
    };
    assert!(matches!(
        map(page as u64, page),
        Err(MmapRegionError::MappingPastEof)
    ));
    assert!(matches!(
        map(0, 2 * page),
        Err(MmapRegionError::MappingPastEof)
    ));
    assert!(map(0, page).is_ok(), "exactly the whole file");
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support file-backed mappings")]
fn offsets_that_overflow_are_refused() {
    let file = Arc::new(temp_file(page_size() as u64));
    let map = |start: u64| {
        MmapRegion::<()>::from_file(FileOffset::from_arc(Arc::clone(&file), start), page_size())
    };
    assert!(matches!(
        map(u64::MAX),
        Err(MmapRegionError::InvalidOffsetLength)
    ));
    assert!(matches!(
        map(u64::MAX - 1),
        Err(MmapRegionError::InvalidOffsetLength)
    ));
    let past_off_t = u64::try_from(libc::off_t::MAX).unwrap() + 1;
    assert!(matches!(
        map(past_off_t),
        Err(MmapRegionError::InvalidOffsetLength)
    ));
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support file-backed mappings")]
fn unaligned_file_offsets_are_refused_by_the_kernel() {
    let page = page_size();
    let file = temp_file(2 * page as u64);
    let err = MmapRegion::<()>::from_file(FileOffset::new(file, 1), page).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support file-backed mappings")]
fn file_mapping_of_size_zero_fails_with_einval() {
    let err = MmapRegion::<()>::from_file(FileOffset::new(temp_file(4096), 0), 0).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support file-backed mappings")]
fn character_devices_are_not_checked_against_their_size() {
    // /dev/zero reports size 0; a private mapping of it is ordinary zeroed memory.
    let zero = File::open("/dev/zero").unwrap();
    let region = MmapRegion::<()>::build(
        Some(FileOffset::new(zero, 0)),
        page_size(),
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE,
    )
    .unwrap();
    let slice = region.as_volatile_slice();
    assert_eq!(slice.read_obj::<u64>(0).unwrap(), 0);
    slice.write_obj(9u64, 0).unwrap();
    assert_eq!(slice.read_obj::<u64>(0).unwrap(), 9);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support file-backed mappings")]
fn guest_memory_from_files_reports_each_region_file_offset() {
    let page = page_size();
    let file = Arc::new(temp_file(4 * page as u64));
    let ranges = [
        (
            GuestAddress(0),
            page,
            Some(FileOffset::from_arc(Arc::clone(&file), 0)),
        ),
        (GuestAddress(page as u64), page, None),
        (
            GuestAddress(0x10_0000),
            2 * page,
            Some(FileOffset::from_arc(Arc::clone(&file), 2 * page as u64)),
        ),
    ];
    let mem = GuestMemoryMmap::<()>::from_ranges_with_files(&ranges).unwrap();
    let starts: Vec<Option<u64>> = mem
        .iter()
        .map(|r| r.file_offset().map(FileOffset::start))
        .collect();
    assert_eq!(starts, [Some(0), None, Some(2 * page as u64)]);

    mem.write_obj(0xfeed_u16, GuestAddress(0x10_0000 + 4))
        .unwrap();
    let mut buf = [0u8; 2];
    file.read_exact_at(&mut buf, 2 * page as u64 + 4).unwrap();
    assert_eq!(u16::from_ne_bytes(buf), 0xfeed);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support file-backed mappings")]
fn guest_memory_from_a_short_file_reports_the_mmap_error() {
    let ranges = [(
        GuestAddress(0),
        2 * page_size(),
        Some(FileOffset::new(temp_file(1), 0)),
    )];
    let err = GuestMemoryMmap::<()>::from_ranges_with_files(ranges).unwrap_err();
    assert!(matches!(
        err,
        vm_memory::mmap::FromRangesError::MmapRegion(MmapRegionError::MappingPastEof)
    ));
    let _: &dyn std::error::Error = &err;
    let _ = io::Error::other(err);
}
