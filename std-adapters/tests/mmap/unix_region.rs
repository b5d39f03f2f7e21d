//! `MmapRegion` and `MmapRegionBuilder` on Unix: anonymous memory, builder knobs, raw mappings.

use std::cell::Cell;
use std::error::Error as _;
use std::io;

use static_assertions::{assert_impl_all, assert_not_impl_any};
use vm_memory::bitmap::{AtomicBitmap, Bitmap};
use vm_memory::mmap::{MmapRegion, MmapRegionBuilder, MmapRegionError};
use vm_memory::{
    Bytes, GuestMemoryAtomic, GuestMemoryMmap, GuestRegionMmap, VolatileMemory, VolatileMemoryError,
};

use crate::common::page_size;

assert_impl_all!(MmapRegion<()>: Send, Sync);
assert_impl_all!(MmapRegion<AtomicBitmap>: Send, Sync);
assert_impl_all!(GuestRegionMmap<AtomicBitmap>: Send, Sync);
assert_impl_all!(GuestMemoryMmap<AtomicBitmap>: Send, Sync);
assert_impl_all!(GuestMemoryAtomic<GuestMemoryMmap<AtomicBitmap>>: Send, Sync, Clone);
// A bitmap that is not `Sync` makes the region not `Sync`.
assert_not_impl_any!(MmapRegion<Cell<u8>>: Sync);
// Downstream wraps the error with `io::Error::other`.
assert_impl_all!(MmapRegionError: std::error::Error, Send, Sync);

#[cfg(not(miri))]
const NEW_FLAGS: i32 = libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_PRIVATE;
#[cfg(miri)]
const NEW_FLAGS: i32 = libc::MAP_ANONYMOUS | libc::MAP_PRIVATE;

#[test]
fn new_with_size_zero_fails_with_einval() {
    let err = MmapRegion::<()>::new(0).unwrap_err();
    assert!(matches!(&err, MmapRegionError::Mmap(e) if e.kind() == io::ErrorKind::InvalidInput));
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
    assert!(err.source().is_some(), "the io::Error is the source");
    // The `?`-into-`io::Error` pattern of vhost compiles and keeps the message.
    let wrapped = io::Error::other(err);
    assert_eq!(wrapped.to_string(), "mmap failed");
}

#[test]
fn new_maps_zeroed_read_write_private_memory_it_owns() {
    let size = 3 * page_size();
    let region = MmapRegion::<()>::new(size).unwrap();
    assert_eq!(region.size(), size);
    assert_eq!(region.len(), size);
    assert_eq!(region.prot(), libc::PROT_READ | libc::PROT_WRITE);
    assert_eq!(region.flags(), NEW_FLAGS);
    assert!(region.owned());
    assert!(region.file_offset().is_none());
    assert_eq!(region.is_hugetlbfs(), None);
    assert_eq!(region.as_ptr().addr() % page_size(), 0);

    let slice = region.as_volatile_slice();
    assert_eq!(slice.read_obj::<u64>(size - 8).unwrap(), 0);
    slice
        .write_obj(0x0123_4567_89ab_cdef_u64, size - 8)
        .unwrap();
    assert_eq!(
        slice.read_obj::<u64>(size - 8).unwrap(),
        0x0123_4567_89ab_cdef
    );
}

#[test]
fn get_slice_checks_bounds_and_points_into_the_mapping() {
    let region = MmapRegion::<()>::new(0x1000).unwrap();
    let slice = region.get_slice(0x100, 0x10).unwrap();
    assert_eq!(slice.len(), 0x10);
    assert_eq!(
        slice.ptr_guard().as_ptr(),
        region.as_ptr().wrapping_add(0x100).cast_const()
    );

    assert_eq!(region.get_slice(0xfff, 1).unwrap().len(), 1);
    assert!(
        region.get_slice(0x1000, 0).unwrap().is_empty(),
        "empty slice at the very end"
    );
    assert!(matches!(
        region.get_slice(0x1000, 1),
        Err(VolatileMemoryError::OutOfBounds { addr: 0x1001 })
    ));
    assert!(matches!(
        region.get_slice(usize::MAX, 1),
        Err(VolatileMemoryError::Overflow {
            base: usize::MAX,
            offset: 1
        })
    ));
}

#[test]
fn builder_defaults_to_read_write_private_anonymous_memory() {
    let region = MmapRegionBuilder::<()>::new(page_size()).build().unwrap();
    assert_eq!(region.prot(), libc::PROT_READ | libc::PROT_WRITE);
    assert_eq!(region.flags(), libc::MAP_ANONYMOUS | libc::MAP_PRIVATE);
    assert!(region.owned());
    region.as_volatile_slice().write_obj(7u8, 0).unwrap();
    assert_eq!(region.as_volatile_slice().read_obj::<u8>(0).unwrap(), 7);
}

#[test]
fn builder_refuses_map_fixed() {
    let err = MmapRegionBuilder::<()>::new(page_size())
        .with_mmap_flags(libc::MAP_FIXED | libc::MAP_ANONYMOUS | libc::MAP_PRIVATE)
        .build()
        .unwrap_err();
    assert!(matches!(err, MmapRegionError::MapFixed));
}

#[test]
fn builder_with_size_zero_fails_with_einval() {
    let err = MmapRegionBuilder::<()>::new(0).build().unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
}

#[test]
#[cfg_attr(miri, ignore = "Miri only maps PROT_READ | PROT_WRITE")]
fn builder_records_prot_and_the_hugetlbfs_label() {
    let mut region = MmapRegionBuilder::<()>::new(page_size())
        .with_mmap_prot(libc::PROT_READ)
        .with_hugetlbfs(false)
        .build()
        .unwrap();
    assert_eq!(region.prot(), libc::PROT_READ);
    assert_eq!(region.is_hugetlbfs(), Some(false));
    region.set_hugetlbfs(true);
    assert_eq!(region.is_hugetlbfs(), Some(true));
}

#[test]
fn builder_with_bitmap_tracks_slice_writes() {
    let page = page_size();
    let bitmap = AtomicBitmap::new(4 * page, page.try_into().unwrap());
    let region = MmapRegionBuilder::new_with_bitmap(4 * page, bitmap)
        .build()
        .unwrap();
    region
        .as_volatile_slice()
        .write_obj(1u32, 2 * page + 4)
        .unwrap();
    assert!(region.bitmap().dirty_at(2 * page));
    assert!(!region.bitmap().dirty_at(page));
    assert!(!region.bitmap().dirty_at(3 * page));
}

#[test]
fn build_raw_refuses_a_pointer_that_is_not_page_aligned() {
    let backing = MmapRegion::<()>::new(2 * page_size()).unwrap();
    let ptr = backing.as_ptr().wrapping_add(1);
    // SAFETY: `backing` outlives the attempt, and the call fails before using the pointer.
    let err = unsafe { MmapRegion::<()>::build_raw(ptr, page_size(), 0, 0) }.unwrap_err();
    assert!(matches!(err, MmapRegionError::InvalidPointer));
}

#[test]
fn build_raw_wraps_memory_it_does_not_own() {
    let page = page_size();
    let backing = MmapRegion::<()>::new(2 * page).unwrap();
    let flags = libc::MAP_ANONYMOUS | libc::MAP_PRIVATE;
    let prot = libc::PROT_READ | libc::PROT_WRITE;
    // SAFETY: the second page of `backing` stays mapped while `raw` lives (dropped first).
    let raw = unsafe {
        MmapRegion::<()>::build_raw(backing.as_ptr().wrapping_add(page), page, prot, flags)
    }
    .unwrap();
    assert!(!raw.owned());
    assert_eq!((raw.prot(), raw.flags(), raw.size()), (prot, flags, page));
    raw.as_volatile_slice().write_obj(0xabcd_u16, 2).unwrap();
    drop(raw);
    // Still mapped: the raw region did not unmap the backing memory.
    assert_eq!(
        backing
            .as_volatile_slice()
            .read_obj::<u16>(page + 2)
            .unwrap(),
        0xabcd
    );
}

#[test]
fn build_raw_with_size_zero_gives_an_empty_region_that_guest_memory_refuses() {
    let backing = MmapRegion::<()>::new(page_size()).unwrap();
    // SAFETY: zero bytes of `backing` are trivially valid while it lives.
    let empty = unsafe { MmapRegion::<()>::build_raw(backing.as_ptr(), 0, 0, 0) }.unwrap();
    assert_eq!(empty.size(), 0);
    let region = GuestRegionMmap::new(empty, vm_memory::GuestAddress(0)).unwrap();
    let err = GuestMemoryMmap::from_regions(vec![region]).unwrap_err();
    assert_eq!(err, vm_memory::GuestRegionCollectionError::EmptyRegion);
}
