//! vm-memory 0.18's public paths resolve in this crate, and each name is the item it should be.
//! Downstream crates import these exact paths, so a missing or different name breaks them.

#![cfg(all(
    feature = "backend-mmap",
    feature = "backend-bitmap",
    feature = "backend-atomic"
))]

use std::sync::atomic::Ordering;

// Crate root, as listed in vm-memory 0.18's lib.rs.
use vm_memory::{
    Address, AddressValue, AtomicAccess, AtomicInteger, Be16, Be32, Be64, BeSize, ByteValued,
    Bytes, FileOffset, GuestAddress, GuestAddressSpace, GuestMemory, GuestMemoryAtomic,
    GuestMemoryBackend, GuestMemoryError, GuestMemoryLoadGuard, GuestMemoryMmap, GuestMemoryRegion,
    GuestMemoryRegionBytes, GuestMemoryResult, GuestRegionCollection, GuestRegionCollectionError,
    GuestRegionMmap, GuestUsize, Le16, Le32, Le64, LeSize, MemoryRegionAddress, MmapRegion,
    Permissions, ReadVolatile, VolatileArrayRef, VolatileMemory, VolatileMemoryError,
    VolatileMemoryResult, VolatileRef, VolatileSlice, WriteVolatile,
};
// Module paths that are public but not at the root.
use vm_memory::atomic::GuestMemoryExclusiveGuard;
use vm_memory::bitmap::{
    ArcSlice, AtomicBitmap, BS, Bitmap, BitmapSlice, MS, NewBitmap, RefSlice, WithBitmapSlice,
};
use vm_memory::guest_memory::{GuestMemoryBackendSliceIterator, GuestMemorySliceIterator};
#[cfg(unix)]
use vm_memory::mmap::MmapRegionBuilder;
use vm_memory::mmap::{FromRangesError, MmapRegionError, NewBitmap as MmapNewBitmap};
use vm_memory::volatile_memory::{PtrGuard, PtrGuardMut, compute_offset};

/// A bitmap written against the traits alone, as vhost-user-backend does for its own type.
#[derive(Clone, Debug, Default)]
struct CountingBitmap;

impl WithBitmapSlice<'_> for CountingBitmap {
    type S = Self;
}
impl BitmapSlice for CountingBitmap {}
impl Bitmap for CountingBitmap {
    fn mark_dirty(&self, _offset: usize, _len: usize) {}
    fn dirty_at(&self, _offset: usize) -> bool {
        true
    }
    fn slice_at(&self, _offset: usize) -> Self {
        CountingBitmap
    }
}
impl MmapNewBitmap for CountingBitmap {
    fn with_len(_len: usize) -> Self {
        CountingBitmap
    }
}

#[test]
fn root_names_are_the_guest_memory_types() {
    let mem: GuestMemoryMmap =
        GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 0x1000), (GuestAddress(0x1000), 0x1000)])
            .unwrap();
    let _: &GuestRegionCollection<GuestRegionMmap> = &mem;
    let region: &GuestRegionMmap = mem.find_region(GuestAddress(0x1000)).unwrap();
    let mapping: &MmapRegion = region;
    assert_eq!(mapping.size(), 0x1000);
    let size: GuestUsize = region.len();
    assert_eq!(size, 0x1000);
    assert_eq!(
        region.to_region_addr(GuestAddress(0x1004)),
        Some(MemoryRegionAddress(4))
    );
    assert_eq!(GuestAddress(8).checked_add(8), Some(GuestAddress(16)));
    assert_eq!(<GuestAddress as AddressValue>::V::default(), 0u64);

    let result: GuestMemoryResult<u8> = mem.read_obj(GuestAddress(0x2000));
    assert!(matches!(
        result,
        Err(GuestMemoryError::InvalidGuestAddress(_))
    ));
    assert!(GuestMemory::check_range(
        &mem,
        GuestAddress(0),
        0x2000,
        Permissions::Read
    ));
    let mut slices: GuestMemoryBackendSliceIterator<'_, GuestMemoryMmap> =
        GuestMemoryBackend::get_slices(&mem, GuestAddress(0xff0), 0x20);
    assert_eq!(slices.next().unwrap().unwrap().len(), 0x10);
    let it = GuestMemory::get_slices(&mem, GuestAddress(0xff0), 0x20, Permissions::Write).unwrap();
    assert_eq!(
        GuestMemorySliceIterator::stop_on_error(it).unwrap().count(),
        2
    );
    assert!(matches!(
        GuestRegionCollection::<GuestRegionMmap>::from_regions(vec![]),
        Err(GuestRegionCollectionError::NoMemoryRegion)
    ));
}

#[test]
fn value_and_volatile_names_work_together() {
    fn bytes_of<T: ByteValued>(v: T) -> usize {
        v.as_slice().len()
    }
    assert_eq!(bytes_of(Le16::from(1u16)) + bytes_of(Be16::from(1u16)), 4);
    assert_eq!(
        u32::from(Le32::from(5u32)) + u32::from(Be32::from(5u32)),
        10
    );
    assert_eq!(u64::from(Le64::from(6u64)), u64::from(Be64::from(6u64)));
    assert_eq!(
        usize::from(LeSize::from(7usize)),
        usize::from(BeSize::from(7usize))
    );
    fn atomic_width<T: AtomicAccess>() -> usize {
        size_of::<<T as AtomicAccess>::A>()
    }
    assert_eq!(atomic_width::<u32>(), 4);
    let a = <std::sync::atomic::AtomicU16 as AtomicInteger>::new(3);
    assert_eq!(AtomicInteger::load(&a, Ordering::Relaxed), 3);

    let mut buf = [0u8; 16];
    let slice: VolatileSlice<'_> = VolatileSlice::from(&mut buf[..]);
    let r: VolatileRef<'_, u32> = slice.get_ref(4).unwrap();
    r.store(9);
    let arr: VolatileArrayRef<'_, u8> = slice.get_array_ref(0, 16).unwrap();
    assert_eq!(arr.load(4), 9u32.to_ne_bytes()[0]);
    let err: VolatileMemoryResult<VolatileSlice<'_>> = slice.get_slice(17, 0);
    assert!(matches!(
        err,
        Err(VolatileMemoryError::OutOfBounds { addr: 17 })
    ));
    assert_eq!(compute_offset(1, 2).unwrap(), 3);
    {
        let guard: PtrGuard<'_> = slice.ptr_guard();
        let guard_mut: PtrGuardMut<'_> = slice.ptr_guard_mut();
        assert_eq!(guard.as_ptr(), guard_mut.as_ptr().cast_const());
    }

    let mut out = Vec::new();
    WriteVolatile::write_all_volatile(&mut out, &slice).unwrap();
    assert_eq!(out.len(), 16);
    let mut src: &[u8] = &[1, 2];
    assert_eq!(
        ReadVolatile::read_volatile(&mut src, &mut slice.subslice(0, 2).unwrap()).unwrap(),
        2
    );
    assert_eq!(slice.read_obj::<[u8; 2]>(0).unwrap(), [1, 2]);
}

#[test]
fn bitmap_and_mmap_names_work_together() {
    let mem = GuestMemoryMmap::<AtomicBitmap>::from_ranges(&[(GuestAddress(0), 0x2000)]).unwrap();
    mem.write_obj(1u8, GuestAddress(0x1000)).unwrap();
    let region = mem.find_region(GuestAddress(0)).unwrap();
    let slice: BS<'_, AtomicBitmap> = region.bitmap();
    let _: &RefSlice<'_, AtomicBitmap> = &slice;
    assert!(slice.dirty_at(0x1000));
    let _: Option<MS<'_, GuestMemoryMmap<AtomicBitmap>>> = None;
    let shared: ArcSlice<AtomicBitmap> =
        ArcSlice::new(std::sync::Arc::new(AtomicBitmap::with_len(0x2000)), 0);
    assert!(!shared.dirty_at(0));

    // A bitmap of the caller's own type works in every generic position.
    let custom =
        GuestMemoryMmap::<CountingBitmap>::from_ranges(&[(GuestAddress(0), 0x1000)]).unwrap();
    assert!(
        custom
            .find_region(GuestAddress(0))
            .unwrap()
            .bitmap()
            .dirty_at(0)
    );

    let err: FromRangesError =
        GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0)]).unwrap_err();
    assert!(matches!(err, FromRangesError::MmapRegion(_)));
    let _: Option<MmapRegionError> = None;
    #[cfg(unix)]
    assert_eq!(
        MmapRegionBuilder::<()>::new(0x1000).build().unwrap().size(),
        0x1000
    );
    let _ = FileOffset::start;
}

#[test]
fn atomic_names_work_together() {
    let mem = GuestMemoryAtomic::new(
        GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0x1000)]).unwrap(),
    );
    let snapshot: GuestMemoryLoadGuard<GuestMemoryMmap> = GuestAddressSpace::memory(&mem);
    let guard: GuestMemoryExclusiveGuard<'_, GuestMemoryMmap> = mem.lock().unwrap();
    guard.replace(GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 0x2000)]).unwrap());
    assert_eq!(snapshot.last_addr(), GuestAddress(0xfff));
    assert_eq!(
        GuestAddressSpace::memory(&mem).last_addr(),
        GuestAddress(0x1fff)
    );
    fn region_bytes<R: GuestMemoryRegionBytes>(_: &R) -> bool {
        true
    }
    assert!(region_bytes(snapshot.find_region(GuestAddress(0)).unwrap()));
}
