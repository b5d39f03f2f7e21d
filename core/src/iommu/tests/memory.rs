use core::num::NonZeroUsize;
use core::sync::atomic::Ordering;
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::vec;
use std::vec::Vec;

use super::mock::{MockIommu, expected, fill, pattern, phys_mem};
use crate::address::GuestAddress;
use crate::bitmap::recording::RecordingBitmap;
use crate::bitmap::{AtomicBitmap, RefSlice};
use crate::bytes::Bytes;
use crate::guest_memory::Permissions::{self, No, Read, ReadWrite, Write};
use crate::guest_memory::{
    GuestMemory, GuestMemoryBackend, GuestMemoryError, GuestMemorySliceIterator,
};
use crate::iommu::{
    Error, Iommu, IommuMemory, IommuMemorySliceIterator, Iotlb, IotlbIterator, IovaRange,
};
use crate::region::test_regions::{region, region_with};
use crate::region::{GuestRegionCollection, RawRegion};

type Mem = IommuMemory<GuestRegionCollection<RawRegion>, MockIommu>;

fn ga(addr: u64) -> GuestAddress {
    GuestAddress(addr)
}

fn range(base: u64, length: usize) -> IovaRange {
    IovaRange {
        base: ga(base),
        length,
    }
}

/// Memory over [`phys_mem`] with the IOMMU enabled and nothing mapped.
fn iommu_mem() -> Mem {
    IommuMemory::new(phys_mem(), MockIommu::default(), true, ())
}

/// The lengths of the slices `get_slices` hands out, or the up-front error.
fn slice_lengths<M: GuestMemory>(
    mem: &M,
    addr: u64,
    len: usize,
    access: Permissions,
) -> Result<Vec<Result<usize, GuestMemoryError>>, GuestMemoryError> {
    Ok(mem
        .get_slices(ga(addr), len, access)?
        .map(|slice| slice.map(|s| s.len()))
        .collect())
}

fn read_vec<M: GuestMemory>(mem: &M, addr: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    mem.read_slice(&mut buf, ga(addr)).unwrap();
    buf
}

/// The range of a `CannotResolve` error.
fn cannot_resolve(result: Result<impl Sized, GuestMemoryError>) -> IovaRange {
    match result {
        Err(GuestMemoryError::IommuError(Error::CannotResolve { iova_range, .. })) => iova_range,
        Err(e) => panic!("expected CannotResolve, got {e:?}"),
        Ok(_) => panic!("expected CannotResolve, got Ok"),
    }
}

#[test]
fn disabled_it_is_a_pass_through_to_the_backend() {
    let mem = IommuMemory::new(phys_mem(), MockIommu::default(), false, ());
    assert!(!mem.get_iommu_enabled());
    assert!(core::ptr::eq(
        mem.physical_memory().unwrap(),
        mem.get_backend()
    ));
    assert_eq!(read_vec(&mem, 0x10f0, 0x20), expected(0x10f0, 0x20));
    // Same slices and errors as the backend: a hole yields InvalidGuestAddress after the
    // mapped part; permissions are not checked.
    assert!(matches!(
        slice_lengths(&mem, 0x11c0, 0x80, Write).unwrap()[..],
        [
            Ok(0x40),
            Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(0x1200)))
        ]
    ));
    assert!(mem.check_range(ga(0x1000), 0x200, Write));
    assert!(!mem.check_range(ga(0x1000), 0x201, No));
    assert!(mem.iommu().requests.lock().unwrap().is_empty());
}

#[test]
fn enabled_it_translates_across_several_iotlb_entries() {
    let mem = iommu_mem();
    assert!(mem.physical_memory().is_none());
    // IOVA 0x10000..0x10100 -> 0x1180..0x1200, 0x8000..0x8040, 0x10e0..0x1120 (which crosses
    // two adjacent regions).
    let iommu = mem.iommu();
    iommu.map_in_iotlb(0x10000, 0x1180, 0x80, ReadWrite);
    iommu.map_in_iotlb(0x10080, 0x8000, 0x40, ReadWrite);
    iommu.map_in_iotlb(0x100c0, 0x10e0, 0x40, ReadWrite);
    let want = [
        expected(0x1180, 0x80),
        expected(0x8000, 0x40),
        expected(0x10e0, 0x40),
    ]
    .concat();
    assert_eq!(read_vec(&mem, 0x10000, 0x100), want);
    let lengths = slice_lengths(&mem, 0x10000, 0x100, Read).unwrap();
    assert!(matches!(
        lengths[..],
        [Ok(0x80), Ok(0x40), Ok(0x20), Ok(0x20)]
    ));

    // Writes land at the translated physical addresses.
    mem.write_slice(&[0xaa; 0x10], ga(0x10078)).unwrap();
    let backend = mem.get_backend();
    assert_eq!(read_vec(backend, 0x11f8, 8), [0xaa; 8]);
    assert_eq!(read_vec(backend, 0x8000, 8), [0xaa; 8]);
    assert_eq!(read_vec(backend, 0x8008, 8), expected(0x8008, 8));
    // Objects inside one piece take the fast path, objects across pieces the slow one.
    mem.write_obj(0x1122_3344_5566_7788u64, ga(0x100bc))
        .unwrap();
    assert_eq!(
        mem.read_obj::<u64>(ga(0x100bc)).unwrap(),
        0x1122_3344_5566_7788
    );
    assert_eq!(read_vec(backend, 0x803c, 4), [0x88, 0x77, 0x66, 0x55]);
    assert_eq!(read_vec(backend, 0x10e0, 4), [0x44, 0x33, 0x22, 0x11]);
    mem.write_obj(7u32, ga(0x10010)).unwrap();
    assert_eq!(backend.read_obj::<u32>(ga(0x1190)).unwrap(), 7);
}

#[test]
fn a_range_not_fully_mapped_fails_up_front_and_nothing_is_written() {
    let mem = iommu_mem();
    mem.iommu().map_in_iotlb(0x10000, 0x1000, 0x100, ReadWrite);
    assert_eq!(
        cannot_resolve(mem.write(&[0xff; 0x101], ga(0x10000))),
        range(0x10100, 1)
    );
    assert_eq!(
        read_vec(mem.get_backend(), 0x1000, 0x101),
        expected(0x1000, 0x101)
    );
    assert!(!mem.check_range(ga(0x10000), 0x101, No));
    assert!(mem.check_range(ga(0x10000), 0x100, ReadWrite));
    // Also for a range that starts before the mapping.
    assert_eq!(
        cannot_resolve(mem.get_slices(ga(0xffff), 2, Read)),
        range(0xffff, 1)
    );
}

#[test]
fn permissions_are_checked_for_each_access() {
    let mem = iommu_mem();
    mem.iommu().map_in_iotlb(0x10000, 0x1000, 0x100, Read);
    assert!(mem.check_range(ga(0x10000), 0x100, No));
    assert!(mem.check_range(ga(0x10000), 0x100, Read));
    assert!(!mem.check_range(ga(0x10000), 0x100, Write));
    assert!(!mem.check_range(ga(0x10000), 0x100, ReadWrite));
    assert_eq!(read_vec(&mem, 0x10000, 4), expected(0x1000, 4));
    assert_eq!(
        cannot_resolve(mem.write_obj(1u8, ga(0x10000))),
        range(0x10000, 1)
    );
    // The refused permission was reported as a permission failure, not as a miss.
    let seen = mem.iommu().take_seen();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|f| f.misses.is_empty() && !f.access_fails.is_empty())
    );
    assert_eq!(read_vec(mem.get_backend(), 0x1000, 1), expected(0x1000, 1));
}

#[test]
fn dirty_marks_go_to_the_iova_bitmap_at_the_iova_and_not_to_the_regions() {
    let b0 = RecordingBitmap::default();
    let b1 = RecordingBitmap::default();
    let iova_bitmap = RecordingBitmap::default();
    let backend = GuestRegionCollection::from_regions(vec![
        region_with(0x1000, 0x100, RefSlice::new(&b0, 0)),
        region_with(0x8000, 0x100, RefSlice::new(&b1, 0)),
    ])
    .unwrap();
    let iommu = MockIommu::default();
    let mem = IommuMemory::new(backend, iommu, true, RefSlice::new(&iova_bitmap, 0));
    mem.iommu().map_in_iotlb(0x4000, 0x1080, 0x80, ReadWrite);
    mem.iommu().map_in_iotlb(0x4080, 0x8000, 0x80, ReadWrite);

    // A write across both IOTLB entries marks the IOVA bitmap at IOVA offsets, per slice.
    mem.write_slice(&[1; 0x20], ga(0x4070)).unwrap();
    assert_eq!(iova_bitmap.take(), [(0x4070, 0x10), (0x4080, 0x10)]);
    mem.write_obj(5u32, ga(0x40c0)).unwrap();
    assert_eq!(iova_bitmap.take(), [(0x40c0, 4)]);
    // A slice handed out for writing marks only when written to.
    let slice = mem
        .get_slices(ga(0x4010), 0x10, Write)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert!(iova_bitmap.take().is_empty());
    slice.store(9u16, 2, Ordering::Relaxed).unwrap();
    assert_eq!(iova_bitmap.take(), [(0x4012, 2)]);
    // Reads mark nothing; the regions' own bitmaps were never marked.
    read_vec(&mem, 0x4000, 0x100);
    assert!(iova_bitmap.take().is_empty());
    assert!(b0.take().is_empty() && b1.take().is_empty());

    // With the IOMMU disabled, writes are tracked by the regions at region offsets.
    mem.set_iommu_enabled(false);
    mem.write_slice(&[2; 2], ga(0x10fe)).unwrap();
    assert_eq!(b0.take(), [(0xfe, 2)]);
    assert!(iova_bitmap.take().is_empty());
}

#[test]
fn dirty_pages_in_an_atomic_iova_bitmap() {
    const PAGE: usize = 0x40;
    let page = NonZeroUsize::new(PAGE).unwrap();
    let bitmap = AtomicBitmap::new(0x100, page);
    let backend =
        GuestRegionCollection::from_regions(vec![region_with(0x1000, 0x100, bitmap)]).unwrap();
    let iova_bitmap = AtomicBitmap::new(0x800, page);
    let mem = IommuMemory::new(backend, MockIommu::default(), true, iova_bitmap);
    // IOVA pages 0x10..0x14 map to the physical pages in reverse order.
    for i in 0..4u64 {
        let iova = 0x400 + 0x40 * i;
        mem.iommu()
            .map_in_iotlb(iova, 0x10c0 - 0x40 * i, PAGE, ReadWrite);
    }
    mem.write_obj(1u64, ga(0x47c)).unwrap(); // IOVA pages 0x11 and 0x12
    let dirty: Vec<bool> = (0x0e..0x16).map(|p| mem.bitmap().is_bit_set(p)).collect();
    assert_eq!(
        dirty,
        [false, false, false, true, true, false, false, false]
    );
    let region = mem.get_backend().iter().next().unwrap();
    assert!((0..4).all(|p| !region.bitmap().is_bit_set(p)));
}

#[test]
fn vhost_user_flow_a_miss_a_refill_a_retry() {
    let mem = iommu_mem();
    let iommu = mem.iommu();
    // The front-end knows the guest's mapping; the back-end's IOTLB starts empty.
    iommu.map_in_tables(0x40000, 0x1000, 0x200, ReadWrite);

    mem.write_slice(b"virtio", ga(0x400fd)).unwrap();
    let seen = iommu.take_seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].misses, [range(0x400fd, 6)]);
    assert!(seen[0].access_fails.is_empty());
    assert_eq!(read_vec(mem.get_backend(), 0x10fd, 6), b"virtio");

    // The refill covers exactly the missed range; the next access inside it hits.
    assert_eq!(iommu.iotlb.read().unwrap().len(), 1);
    assert_eq!(read_vec(&mem, 0x400fd, 6), b"virtio");
    assert!(iommu.take_seen().is_empty());

    // The guest remaps the first IOVA page and the front-end sends an invalidation: the next
    // access misses the invalidated part only, and sees the new target there.
    iommu.map_in_tables(0x40000, 0x8000, 0x100, ReadWrite);
    let invalidate = |iotlb: &mut Iotlb| iotlb.invalidate_mapping(ga(0x40000), 0x100);
    invalidate(&mut iommu.iotlb.write().unwrap());
    let want = [expected(0x80fd, 3), b"tio".to_vec()].concat();
    assert_eq!(read_vec(&mem, 0x400fd, 6), want);
    assert_eq!(iommu.take_seen()[0].misses, [range(0x400fd, 3)]);

    // A range that the front-end cannot resolve fails, naming the unresolvable part.
    let result = mem.get_slices(ga(0x401f0), 0x20, Read);
    assert_eq!(cannot_resolve(result), range(0x40200, 0x10));
}

#[test]
fn a_permission_failure_is_refilled_with_the_wider_permissions() {
    let mem = iommu_mem();
    let iommu = mem.iommu();
    iommu.map_in_tables(0x40000, 0x1000, 0x100, ReadWrite);
    iommu.map_in_iotlb(0x40000, 0x1000, 0x100, Read);
    mem.write_obj(0xabcd_u16, ga(0x40010)).unwrap();
    let seen = iommu.take_seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].misses.is_empty());
    assert_eq!(seen[0].access_fails, [range(0x40010, 2)]);
    assert_eq!(
        mem.get_backend().read_obj::<u16>(ga(0x1010)).unwrap(),
        0xabcd
    );
}

#[test]
fn replacing_the_backend_shares_the_iommu_and_the_bitmap() {
    let mem = iommu_mem();
    mem.iommu().map_in_iotlb(0x10000, 0x1000, 0x100, Read);
    mem.iommu().map_in_iotlb(0x10100, 0x8000, 0x100, Read);
    let clone = mem.clone();

    // A new backend (after hotplug, say) whose 0x8000 region holds different data.
    let other =
        GuestRegionCollection::from_regions(vec![region(0x1000, 0x100), region(0x8000, 0x100)])
            .unwrap();
    fill(&other);
    other.write_slice(&[9; 4], ga(0x8000)).unwrap();
    let replaced = mem.with_replaced_backend(other);
    assert!(Arc::ptr_eq(replaced.iommu(), mem.iommu()));
    assert!(Arc::ptr_eq(replaced.bitmap(), mem.bitmap()));
    assert!(Arc::ptr_eq(clone.iommu(), mem.iommu()));
    assert_eq!(read_vec(&replaced, 0x10100, 4), [9; 4]);
    assert_eq!(read_vec(&clone, 0x10100, 4), expected(0x8000, 4));

    // A mapping added through one is seen by all; the enabled flag is each one's own.
    replaced.iommu().map_in_iotlb(0x20000, 0x1000, 4, Read);
    assert_eq!(read_vec(&clone, 0x20000, 4), expected(0x1000, 4));
    replaced.set_iommu_enabled(false);
    assert!(mem.get_iommu_enabled() && clone.get_iommu_enabled());
    assert!(replaced.physical_memory().is_some() && mem.physical_memory().is_none());
    let copy = replaced.with_replaced_backend(phys_mem());
    assert!(!copy.get_iommu_enabled());
}

#[test]
fn switching_the_iommu_on_and_off() {
    let mem = iommu_mem();
    mem.iommu().map_in_iotlb(0x1000, 0x8000, 0x10, Read);
    assert_eq!(read_vec(&mem, 0x1000, 4), expected(0x8000, 4));
    mem.set_iommu_enabled(false);
    assert_eq!(read_vec(&mem, 0x1000, 4), expected(0x1000, 4));
    assert!(mem.physical_memory().is_some());
    mem.set_iommu_enabled(true);
    assert_eq!(read_vec(&mem, 0x1000, 4), expected(0x8000, 4));
    // An iterator keeps the mode it was created in.
    let slices = mem.get_slices(ga(0x1000), 4, Read).unwrap();
    mem.set_iommu_enabled(false);
    let mut buf = [0; 4];
    slices
        .stop_on_error()
        .unwrap()
        .next()
        .unwrap()
        .copy_to(&mut buf[..]);
    assert_eq!(buf[..], expected(0x8000, 4));
}

#[test]
fn an_iova_range_past_the_top_overflows_without_asking_the_iommu() {
    let mem = iommu_mem();
    mem.iommu()
        .map_in_iotlb(u64::MAX - 0xf, 0x1000, 0x10, ReadWrite);
    assert!(matches!(
        mem.get_slices(ga(u64::MAX - 0xf), 0x11, Read),
        Err(GuestMemoryError::GuestAddressOverflow)
    ));
    assert!(!mem.check_range(ga(u64::MAX), 2, No));
    assert!(mem.iommu().requests.lock().unwrap().is_empty());
}

#[test]
#[cfg(target_pointer_width = "64")]
fn an_iova_range_may_end_at_the_top() {
    let mem = iommu_mem();
    mem.iommu()
        .map_in_iotlb(u64::MAX - 0xf, 0x1000, 0x10, ReadWrite);
    assert_eq!(read_vec(&mem, u64::MAX - 0xf, 0x10), expected(0x1000, 0x10));
    assert_eq!(read_vec(&mem, u64::MAX, 1), expected(0x100f, 1));
    mem.write_slice(&[3; 2], ga(u64::MAX - 1)).unwrap();
    assert_eq!(read_vec(mem.get_backend(), 0x100e, 2), [3; 2]);
}

#[test]
fn zero_length_accesses_succeed_wherever_the_iommu_accepts_them() {
    let mem = iommu_mem();
    assert!(mem.check_range(ga(u64::MAX), 0, ReadWrite));
    assert!(slice_lengths(&mem, 0x1234, 0, Write).unwrap().is_empty());
    assert_eq!(mem.write(&[], ga(0x1234)).unwrap(), 0);
    // The IOMMU was asked each time (and said yes: an empty lookup always succeeds).
    assert_eq!(mem.iommu().requests.lock().unwrap().len(), 3);
    assert!(mem.iommu().take_seen().is_empty());
}

#[test]
fn a_translation_into_a_physical_hole_ends_with_the_physical_address() {
    let mem = iommu_mem();
    mem.iommu().map_in_iotlb(0x10000, 0x1180, 0x100, ReadWrite);
    let mut slices = mem.get_slices(ga(0x10000), 0x100, Read).unwrap();
    assert_eq!(slices.next().unwrap().unwrap().len(), 0x80);
    assert!(matches!(
        slices.next(),
        Some(Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(
            0x1200
        ))))
    ));
    assert!(slices.next().is_none() && slices.next().is_none());
    // As with physical holes: a partial count for `read`.
    let mut buf = [0; 0x100];
    assert_eq!(mem.read(&mut buf, ga(0x10000)).unwrap(), 0x80);
    assert!(!mem.check_range(ga(0x10000), 0x100, Read));
}

/// An IOMMU whose translations are `delta` bytes longer (or shorter) than asked for: a broken
/// implementation that `IommuMemory` must not trust.
#[derive(Debug)]
struct SkewedIommu {
    iotlb: RwLock<Iotlb>,
    delta: isize,
}

impl Iommu for SkewedIommu {
    type IotlbGuard<'a> = RwLockReadGuard<'a, Iotlb>;

    fn translate(
        &self,
        iova: GuestAddress,
        length: usize,
        access: Permissions,
    ) -> Result<IotlbIterator<Self::IotlbGuard<'_>>, Error> {
        let skewed = length.saturating_add_signed(self.delta);
        Iotlb::lookup(self.iotlb.read().unwrap(), iova, skewed, access).map_err(|_| {
            Error::IommuMisconfigured {
                reason: "test".into(),
            }
        })
    }
}

fn skewed_mem(delta: isize) -> IommuMemory<GuestRegionCollection<RawRegion>, SkewedIommu> {
    let mut iotlb = Iotlb::new();
    iotlb
        .set_mapping(ga(0x10000), ga(0x1000), 0x100, ReadWrite)
        .unwrap();
    iotlb
        .set_mapping(ga(0x10100), ga(0x8000), 0x100, ReadWrite)
        .unwrap();
    let iommu = SkewedIommu {
        iotlb: RwLock::new(iotlb),
        delta,
    };
    IommuMemory::new(phys_mem(), iommu, true, ())
}

#[test]
fn a_translation_shorter_than_the_range_is_an_error_not_a_short_access() {
    let mem = skewed_mem(-0x10);
    let lengths = slice_lengths(&mem, 0x10000, 0x200, Read).unwrap();
    assert_eq!(lengths.len(), 3);
    assert!(matches!(lengths[..2], [Ok(0x100), Ok(0xf0)]));
    match &lengths[2] {
        Err(GuestMemoryError::IommuError(Error::CannotResolve { iova_range, .. })) => {
            assert_eq!(*iova_range, range(0x101f0, 0x10));
        }
        other => panic!("expected CannotResolve, got {other:?}"),
    }
    let mut buf = [0; 0x200];
    assert!(matches!(
        mem.read_slice(&mut buf, ga(0x10000)),
        Err(GuestMemoryError::PartialBuffer {
            expected: 0x200,
            completed: 0x1f0
        })
    ));
    assert!(!mem.check_range(ga(0x10000), 0x200, Read));
}

#[test]
fn a_translation_longer_than_the_range_is_clipped() {
    let mem = skewed_mem(0x80);
    let lengths = slice_lengths(&mem, 0x10000, 0x180, Read).unwrap();
    assert!(matches!(lengths[..], [Ok(0x100), Ok(0x80)]));
    let want = [expected(0x1080, 0x80), expected(0x8000, 0x80)].concat();
    assert_eq!(read_vec(&mem, 0x10080, 0x100), want);
}

#[test]
fn iommu_errors_convert_display_and_chain() {
    let inner = Error::IommuMisconfigured {
        reason: "no IOTLB".into(),
    };
    let e = GuestMemoryError::from(inner.clone());
    assert!(matches!(&e, GuestMemoryError::IommuError(i) if *i == inner));
    assert_eq!(
        std::format!("{e}"),
        "IOMMU translation failed: IOMMU is misconfigured: no IOTLB"
    );
    let source = core::error::Error::source(&e).unwrap();
    assert_eq!(std::format!("{source}"), "IOMMU is misconfigured: no IOTLB");
}

#[test]
fn debug_and_default() {
    let mem: Mem = IommuMemory::default();
    assert!(!mem.get_iommu_enabled());
    assert_eq!(mem.get_backend().num_regions(), 0);
    let text = std::format!("{mem:?}");
    assert!(text.starts_with("IommuMemory {") && text.contains("use_iommu: false"));
    let slices = IommuMemorySliceIterator::<_, MockIommu>::phys(mem.get_backend(), ga(0), 0);
    assert!(std::format!("{slices:?}").starts_with("IommuMemorySliceIterator {"));
    assert_eq!(expected(0x1234, 1), [pattern(0x1234)]);
}

#[test]
#[cfg(target_pointer_width = "32")]
fn iovas_beyond_usize_cannot_be_tracked_and_fail() {
    let mem = iommu_mem();
    mem.iommu()
        .map_in_iotlb(0x1_0000_0000, 0x1000, 0x10, ReadWrite);
    let result = mem.get_slices(ga(0x1_0000_0000), 0x10, Read);
    assert_eq!(cannot_resolve(result), range(0x1_0000_0000, 0x10));
    assert!(mem.iommu().requests.lock().unwrap().is_empty());
    // Up to `usize::MAX` still works.
    mem.iommu()
        .map_in_iotlb(0xffff_fff0, 0x1000, 0x10, ReadWrite);
    assert_eq!(read_vec(&mem, 0xffff_fff0, 0x10), expected(0x1000, 0x10));
}

/// What `first_slice` must return: the first item of `get_slices` when it is `Ok` (as
/// `(pointer, length)`).
fn first_piece<M: GuestMemory>(
    mem: &M,
    addr: u64,
    count: usize,
    access: Permissions,
) -> Option<(*mut u8, usize)> {
    let slice = mem.get_slices(ga(addr), count, access).ok()?.next()?.ok()?;
    Some((slice.raw_ptr(), slice.len()))
}

/// What `first_two_slices` must return: the first two items of `get_slices` when both are `Ok`
/// and make up the whole range.
#[allow(clippy::type_complexity)]
fn first_two_pieces<M: GuestMemory>(
    mem: &M,
    addr: u64,
    count: usize,
    access: Permissions,
) -> Option<((*mut u8, usize), (*mut u8, usize))> {
    let mut pieces = mem.get_slices(ga(addr), count, access).ok()?;
    let head = pieces.next()?.ok()?;
    let tail = pieces.next()?.ok()?;
    (head.len() + tail.len() == count)
        .then(|| ((head.raw_ptr(), head.len()), (tail.raw_ptr(), tail.len())))
}

#[test]
fn the_first_slice_fast_path_is_the_backends_and_only_while_disabled() {
    let mem = iommu_mem();
    let iommu = mem.iommu();
    iommu.map_in_iotlb(0x10000, 0x1180, 0x80, ReadWrite);
    iommu.map_in_iotlb(0x10080, 0x8000, 0x40, ReadWrite);
    iommu.map_in_iotlb(0x100c0, 0x10e0, 0x40, ReadWrite); // crosses two adjacent regions
    iommu.map_in_iotlb(0x20000, 0x1000, 0x10, Read);
    iommu.map_in_iotlb(0x30000, 0x11f8, 0x10, ReadWrite); // runs into a physical hole
    let cases = [
        (0x10000, 8, Read),      // inside one piece
        (0x1007c, 8, Read),      // across two pieces
        (0x100d8, 8, Write),     // inside a piece, up to a region boundary
        (0x100dc, 8, Write),     // inside a piece, across a region boundary
        (0x20000, 4, Read),      // read-only mapping, read
        (0x20000, 4, Write),     // read-only mapping, write
        (0x28000, 4, Read),      // unmapped
        (0x30000, 8, Read),      // up to the hole
        (0x30004, 8, Read),      // into the hole
        (u64::MAX - 1, 4, Read), // past the top
        (0x1000, 8, Write),      // physical: inside a region
        (0x10fc, 8, Write),      // physical: across adjacent regions
        (0x11fc, 8, Read),       // physical: into the hole
    ];
    for (addr, count, access) in cases {
        // Enabled, there is no fast path: a slice from it would outlive the IOTLB guard, so
        // every access goes through `get_slices`, whose iterator holds the guard.
        mem.set_iommu_enabled(true);
        assert!(
            mem.first_slice(ga(addr), count, access).is_none(),
            "enabled: {addr:#x}+{count} {access:?}"
        );
        mem.set_iommu_enabled(false);
        let fast = mem
            .first_slice(ga(addr), count, access)
            .map(|s| (s.raw_ptr(), s.len()));
        let want = first_piece(&mem, addr, count, access);
        assert_eq!(fast, want, "disabled: {addr:#x}+{count} {access:?}");
        // The two-piece fast path follows the same rule.
        mem.set_iommu_enabled(true);
        assert!(
            mem.first_two_slices(ga(addr), count, access).is_none(),
            "enabled, two pieces: {addr:#x}+{count} {access:?}"
        );
        mem.set_iommu_enabled(false);
        let fast = mem
            .first_two_slices(ga(addr), count, access)
            .map(|(h, t)| ((h.raw_ptr(), h.len()), (t.raw_ptr(), t.len())));
        let want = first_two_pieces(&mem, addr, count, access);
        assert_eq!(
            fast, want,
            "disabled, two pieces: {addr:#x}+{count} {access:?}"
        );
    }
    mem.set_iommu_enabled(false);
    assert!(
        mem.first_two_slices(ga(0x10fc), 8, Write).is_some(),
        "physical, across adjacent regions: two pieces"
    );
    let len = |addr, count| mem.first_slice(ga(addr), count, Read).map(|s| s.len());
    // Disabled, it is the backend's.
    mem.set_iommu_enabled(false);
    assert_eq!(len(0x1000, 8), Some(8));
    assert_eq!(
        len(0x10fc, 8),
        Some(4),
        "the first piece ends with its region"
    );
}

/// An IOMMU whose IOTLB guard counts itself, and a bitmap that records, at each mark, whether a
/// guard was alive: every write must happen under the guard of its translation.
mod under_the_guard {
    use core::ops::Deref;
    use core::sync::atomic::{AtomicBool, AtomicUsize};

    use super::*;
    use crate::bitmap::{Bitmap, NewBitmap, WithBitmapSlice};

    #[derive(Debug, Default)]
    struct CountingIommu {
        iotlb: RwLock<Iotlb>,
        guards: Arc<AtomicUsize>,
    }

    struct Guard<'a> {
        iotlb: RwLockReadGuard<'a, Iotlb>,
        guards: &'a AtomicUsize,
    }

    impl Deref for Guard<'_> {
        type Target = Iotlb;
        fn deref(&self) -> &Iotlb {
            &self.iotlb
        }
    }

    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            self.guards.fetch_sub(1, Ordering::SeqCst);
        }
    }

    impl Iommu for CountingIommu {
        type IotlbGuard<'a> = Guard<'a>;

        fn translate(
            &self,
            iova: GuestAddress,
            length: usize,
            access: Permissions,
        ) -> Result<IotlbIterator<Guard<'_>>, Error> {
            self.guards.fetch_add(1, Ordering::SeqCst);
            let guard = Guard {
                iotlb: self.iotlb.read().unwrap(),
                guards: &self.guards,
            };
            Iotlb::lookup(guard, iova, length, access).map_err(|_| Error::CannotResolve {
                iova_range: range(iova.0, length),
                reason: "not mapped".into(),
            })
        }
    }

    /// Marks nothing; records a mark made while no IOTLB guard was alive.
    #[derive(Debug, Default)]
    struct GuardProbe {
        guards: Arc<AtomicUsize>,
        marks: AtomicUsize,
        unguarded: AtomicBool,
    }

    impl<'a> WithBitmapSlice<'a> for GuardProbe {
        type S = RefSlice<'a, Self>;
    }

    impl Bitmap for GuardProbe {
        fn mark_dirty(&self, _offset: usize, len: usize) {
            if len > 0 {
                self.marks.fetch_add(1, Ordering::SeqCst);
                if self.guards.load(Ordering::SeqCst) == 0 {
                    self.unguarded.store(true, Ordering::SeqCst);
                }
            }
        }

        fn dirty_at(&self, _offset: usize) -> bool {
            false
        }

        fn slice_at(&self, offset: usize) -> RefSlice<'_, Self> {
            RefSlice::new(self, offset)
        }
    }

    impl NewBitmap for GuardProbe {
        fn with_len(_len: usize) -> Self {
            Self::default()
        }
    }

    #[test]
    fn every_write_path_writes_while_the_iotlb_guard_is_held() {
        let iommu = CountingIommu::default();
        let guards = Arc::clone(&iommu.guards);
        {
            let mut iotlb = iommu.iotlb.write().unwrap();
            // One piece inside a region, and one across two adjacent regions.
            iotlb
                .set_mapping(ga(0x10000), ga(0x1000), 0x100, ReadWrite)
                .unwrap();
            iotlb
                .set_mapping(ga(0x20000), ga(0x10f0), 0x20, ReadWrite)
                .unwrap();
        }
        let bitmap = GuardProbe {
            guards,
            ..GuardProbe::default()
        };
        // Two adjacent regions; their own bitmaps are not used while the IOMMU translates.
        let backend = GuestRegionCollection::from_regions(vec![
            region_with(0x1000, 0x100, GuardProbe::default()),
            region_with(0x1100, 0x100, GuardProbe::default()),
        ])
        .unwrap();
        let mem = IommuMemory::new(backend, iommu, true, bitmap);
        let writes: [(&str, &dyn Fn(u64)); 5] = [
            ("write_obj", &|a| mem.write_obj(7u64, ga(a)).unwrap()),
            ("write", &|a| {
                assert_eq!(mem.write(&[1; 8], ga(a)).unwrap(), 8)
            }),
            ("write_slice", &|a| mem.write_slice(&[2; 8], ga(a)).unwrap()),
            ("store", &|a| {
                mem.store(3u32, ga(a), Ordering::Relaxed).unwrap()
            }),
            ("read_volatile_from", &|a| {
                let n = mem
                    .read_volatile_from(ga(a), &mut &[4u8; 8][..], 8)
                    .unwrap();
                assert_eq!(n, 8);
            }),
        ];
        for (name, write) in writes {
            // Inside one piece, and (but for `store`, which refuses it) across two regions.
            let addrs: &[u64] = if name == "store" {
                &[0x10008]
            } else {
                &[0x10008, 0x2000c]
            };
            for &addr in addrs {
                let before = mem.bitmap().marks.load(Ordering::SeqCst);
                write(addr);
                assert!(mem.bitmap().marks.load(Ordering::SeqCst) > before, "{name}");
                assert!(
                    !mem.bitmap().unguarded.load(Ordering::SeqCst),
                    "{name} at {addr:#x} wrote after the IOTLB guard was dropped"
                );
                assert_eq!(mem.iommu().guards.load(Ordering::SeqCst), 0, "{name}");
            }
        }
    }
}
