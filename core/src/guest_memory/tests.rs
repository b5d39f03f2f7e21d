extern crate std;

use core::sync::atomic::Ordering;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::bitmap::recording::RecordingBitmap;
use crate::bitmap::{Bitmap, RefSlice};
use crate::bytes::Bytes;
use crate::region::test_regions::{region, region_with, regions};
use crate::region::{RawRegion, RegionTable};

/// Two adjacent regions `[0x0, 0x1000)` and `[0x1000, 0x2000)`, a hole, and `[0x3000, 0x4000)`.
fn mem() -> RegionTable<RawRegion, 4> {
    RegionTable::from_regions(regions(&[(0, 0x1000), (0x1000, 0x1000), (0x3000, 0x1000)])).unwrap()
}

#[test]
fn write_and_read_cross_adjacent_regions_transparently() {
    let m = mem();
    assert_eq!(m.write(b"hello", GuestAddress(0xffc)).unwrap(), 5);
    let mut buf = [0u8; 5];
    assert_eq!(m.read(&mut buf, GuestAddress(0xffc)).unwrap(), 5);
    assert_eq!(&buf, b"hello");
    m.write_slice(b"world", GuestAddress(0xffe)).unwrap();
    m.read_slice(&mut buf, GuestAddress(0xffe)).unwrap();
    assert_eq!(&buf, b"world");
    m.write_obj(0x0102_0304_0506_0708u64, GuestAddress(0xffc))
        .unwrap();
    assert_eq!(
        m.read_obj::<u64>(GuestAddress(0xffc)).unwrap(),
        0x0102_0304_0506_0708
    );
}

#[test]
fn a_hole_after_the_start_gives_a_partial_count() {
    let m = mem();
    assert_eq!(m.write(&[1; 8], GuestAddress(0x1ffc)).unwrap(), 4);
    let mut buf = [0u8; 8];
    assert_eq!(m.read(&mut buf, GuestAddress(0x1ffc)).unwrap(), 4);
    assert_eq!(buf, [1, 1, 1, 1, 0, 0, 0, 0]);
    assert!(matches!(
        m.write_obj(0u64, GuestAddress(0x1ffc)),
        Err(GuestMemoryError::PartialBuffer {
            expected: 8,
            completed: 4
        })
    ));
    assert!(matches!(
        m.read_obj::<u64>(GuestAddress(0x1ffc)),
        Err(GuestMemoryError::PartialBuffer {
            expected: 8,
            completed: 4
        })
    ));
}

#[test]
fn an_unmapped_start_is_invalid_guest_address() {
    let m = mem();
    assert!(matches!(
        m.write(&[1], GuestAddress(0x2001)),
        Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(0x2001)))
    ));
    assert!(matches!(
        m.write_obj(1u64, GuestAddress(0x2001)),
        Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(0x2001)))
    ));
    assert!(matches!(
        m.read_obj::<u8>(GuestAddress(0x4000)),
        Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(0x4000)))
    ));
    assert!(matches!(
        m.read_obj::<u8>(GuestAddress(u64::MAX)),
        Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(
            u64::MAX
        )))
    ));
}

#[test]
fn writing_the_last_byte_returns_one() {
    let m = mem();
    assert_eq!(m.write(&[1, 2], GuestAddress(0x3fff)).unwrap(), 1);
}

#[test]
fn empty_and_zero_sized_accesses_succeed_anywhere() {
    let m = mem();
    assert_eq!(m.write(&[], GuestAddress(0x2500)).unwrap(), 0);
    assert_eq!(m.read(&mut [], GuestAddress(u64::MAX)).unwrap(), 0);
    m.write_slice(&[], GuestAddress(0x2500)).unwrap();
    m.read_slice(&mut [], GuestAddress(0x2500)).unwrap();
    m.write_obj([0u32; 0], GuestAddress(0x2500)).unwrap();
    assert_eq!(m.read_obj::<[u8; 0]>(GuestAddress(0x2500)).unwrap(), []);
    assert_eq!(
        m.read_volatile_from(GuestAddress(0x2500), &mut &[1u8][..], 0)
            .unwrap(),
        0
    );
    m.read_exact_volatile_from(GuestAddress(0x2500), &mut &[1u8][..], 0)
        .unwrap();
    assert_eq!(
        m.write_volatile_to(GuestAddress(0x2500), &mut &mut [0u8; 1][..], 0)
            .unwrap(),
        0
    );
    m.write_all_volatile_to(GuestAddress(0x2500), &mut &mut [0u8; 1][..], 0)
        .unwrap();
}

#[test]
fn load_and_store_inside_one_region() {
    let m = mem();
    m.store(0xdead_beefu32, GuestAddress(0x1ffc), Ordering::SeqCst)
        .unwrap();
    assert_eq!(
        m.load::<u32>(GuestAddress(0x1ffc), Ordering::SeqCst)
            .unwrap(),
        0xdead_beef
    );
    m.store(-1i8, GuestAddress(0x3fff), Ordering::Relaxed)
        .unwrap();
    assert_eq!(
        m.load::<i8>(GuestAddress(0x3fff), Ordering::Relaxed)
            .unwrap(),
        -1
    );
}

#[test]
fn load_and_store_refuse_straddling_misaligned_and_unmapped_objects() {
    let m = mem();
    // Straddles the adjacent regions at 0x1000 (aligned, but in two pieces).
    assert!(matches!(
        m.store(1u32, GuestAddress(0xffe), Ordering::SeqCst),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert!(matches!(
        m.load::<u16>(GuestAddress(0xfff), Ordering::SeqCst),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    // Runs into the hole.
    assert!(matches!(
        m.load::<u32>(GuestAddress(0x1ffe), Ordering::SeqCst),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert!(matches!(
        m.load::<u32>(GuestAddress(0x1001), Ordering::SeqCst),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert!(matches!(
        m.store(1u16, GuestAddress(0x2000), Ordering::SeqCst),
        Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(0x2000)))
    ));
    // Right after the end of the last region.
    assert!(matches!(
        m.load::<u8>(GuestAddress(0x4000), Ordering::SeqCst),
        Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(0x4000)))
    ));
    let mut buf = [0u8; 4];
    m.read_slice(&mut buf, GuestAddress(0xffe)).unwrap();
    assert_eq!(buf, [0; 4], "the refused store wrote nothing");
}

#[test]
fn read_volatile_from_spans_regions_and_sums_counts() {
    let m = mem();
    let data: Vec<u8> = (0..16).collect();
    assert_eq!(
        m.read_volatile_from(GuestAddress(0xff8), &mut &data[..], 16)
            .unwrap(),
        16
    );
    let mut out = [0u8; 16];
    m.read_slice(&mut out, GuestAddress(0xff8)).unwrap();
    assert_eq!(&out[..], &data[..]);
    assert!(matches!(
        m.read_exact_volatile_from(GuestAddress(0x1ff8), &mut &data[..], 16),
        Err(GuestMemoryError::PartialBuffer {
            expected: 16,
            completed: 8
        })
    ));
    assert!(matches!(
        m.read_exact_volatile_from(GuestAddress(0), &mut &data[..4], 8),
        Err(GuestMemoryError::PartialBuffer {
            expected: 8,
            completed: 4
        })
    ));
}

#[test]
fn write_volatile_to_writes_each_piece_completely() {
    let m = mem();
    m.write_slice(&[7; 16], GuestAddress(0xff8)).unwrap();
    let mut out = [0u8; 16];
    assert_eq!(
        m.write_volatile_to(GuestAddress(0xff8), &mut &mut out[..], 16)
            .unwrap(),
        16
    );
    assert_eq!(out, [7; 16]);
    // The sink stops in the first piece: the error counts the whole request.
    let mut short = [0u8; 4];
    assert!(matches!(
        m.write_all_volatile_to(GuestAddress(0xff8), &mut &mut short[..], 16),
        Err(GuestMemoryError::PartialBuffer {
            expected: 16,
            completed: 4
        })
    ));
    // ... or in the second one.
    let mut twelve = [0u8; 12];
    assert!(matches!(
        m.write_volatile_to(GuestAddress(0xff8), &mut &mut twelve[..], 16),
        Err(GuestMemoryError::PartialBuffer {
            expected: 16,
            completed: 12
        })
    ));
    assert!(matches!(
        m.write_all_volatile_to(GuestAddress(0x1ff8), &mut &mut [0u8; 32][..], 16),
        Err(GuestMemoryError::PartialBuffer {
            expected: 16,
            completed: 8
        })
    ));
}

#[test]
fn get_slices_splits_at_region_boundaries_and_fuses_after_errors() {
    let m = mem();
    let mut it = GuestMemoryBackend::get_slices(&m, GuestAddress(0xe00), 0x400);
    assert_eq!(it.next().unwrap().unwrap().len(), 0x200);
    assert_eq!(it.next().unwrap().unwrap().len(), 0x200);
    assert!(it.next().is_none());
    let mut it = GuestMemoryBackend::get_slices(&m, GuestAddress(0x1c00), 0x800);
    assert_eq!(it.next().unwrap().unwrap().len(), 0x400);
    assert!(matches!(
        it.next(),
        Some(Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(
            0x2000
        ))))
    ));
    assert!(it.next().is_none());
    assert!(it.next().is_none());
    assert!(
        GuestMemoryBackend::get_slices(&m, GuestAddress(0x2500), 0)
            .next()
            .is_none()
    );
}

#[test]
fn stop_on_error_returns_a_first_error_and_truncates_later_ones() {
    let m = mem();
    let pieces = GuestMemory::get_slices(&m, GuestAddress(0x2000), 4, Permissions::Read)
        .unwrap()
        .stop_on_error();
    assert!(matches!(
        pieces.err(),
        Some(GuestMemoryError::InvalidGuestAddress(GuestAddress(0x2000)))
    ));
    let lens: Vec<usize> = GuestMemoryBackend::get_slices(&m, GuestAddress(0x1c00), 0x800)
        .stop_on_error()
        .unwrap()
        .map(|s| s.len())
        .collect();
    assert_eq!(lens, [0x400]);
}

#[test]
fn ranges_that_wrap_at_u64_max_stop_at_the_top() {
    let m: RegionTable<RawRegion, 2> =
        RegionTable::from_regions(regions(&[(0, 0x100), (u64::MAX - 0xff, 0x100)])).unwrap();
    let mut it = GuestMemoryBackend::get_slices(&m, GuestAddress(u64::MAX - 0xf), 0x20);
    assert_eq!(it.next().unwrap().unwrap().len(), 0x10);
    assert!(matches!(
        it.next(),
        Some(Err(GuestMemoryError::GuestAddressOverflow))
    ));
    assert!(it.next().is_none());
    // Ending exactly at the top is fine.
    assert_eq!(
        m.write(&[1; 0x10], GuestAddress(u64::MAX - 0xf)).unwrap(),
        0x10
    );
    assert_eq!(
        m.write(&[1; 0x20], GuestAddress(u64::MAX - 0xf)).unwrap(),
        0x10
    );
    assert!(!GuestMemoryBackend::check_range(
        &m,
        GuestAddress(u64::MAX - 0xf),
        0x11
    ));
    assert!(GuestMemoryBackend::check_range(
        &m,
        GuestAddress(u64::MAX - 0xf),
        0x10
    ));
    m.store(5u8, GuestAddress(u64::MAX), Ordering::SeqCst)
        .unwrap();
    assert_eq!(m.read_obj::<u8>(GuestAddress(u64::MAX)).unwrap(), 5);
}

#[test]
fn check_range_zero_length_is_valid_anywhere_and_holes_fail() {
    let m = mem();
    assert!(GuestMemoryBackend::check_range(&m, GuestAddress(0x2500), 0));
    assert!(GuestMemoryBackend::check_range(
        &m,
        GuestAddress(u64::MAX),
        0
    ));
    assert!(GuestMemoryBackend::check_range(&m, GuestAddress(0), 0x2000));
    assert!(!GuestMemoryBackend::check_range(
        &m,
        GuestAddress(0),
        0x2001
    ));
    assert!(!GuestMemoryBackend::check_range(
        &m,
        GuestAddress(0x1fff),
        0x1002
    ));
    assert!(!GuestMemoryBackend::check_range(
        &m,
        GuestAddress(0x3000),
        usize::MAX
    ));
    assert!(GuestMemory::check_range(
        &m,
        GuestAddress(0x3000),
        0x1000,
        Permissions::Write
    ));
}

#[test]
fn checked_offset_ignores_holes_and_checks_overflow() {
    let m = mem();
    assert_eq!(
        m.checked_offset(GuestAddress(0x100), 0x3000),
        Some(GuestAddress(0x3100))
    );
    assert_eq!(m.checked_offset(GuestAddress(0x100), 0x2000), None);
    assert_eq!(m.checked_offset(GuestAddress(u64::MAX), 1), None);
    assert_eq!(m.checked_offset(GuestAddress(0x3000), usize::MAX), None);
}

#[test]
fn backend_lookups_and_host_addresses() {
    let m = mem();
    assert_eq!(m.num_regions(), 3);
    assert_eq!(m.last_addr(), GuestAddress(0x3fff));
    assert!(m.address_in_range(GuestAddress(0x1fff)));
    assert!(!m.address_in_range(GuestAddress(0x2000)));
    assert_eq!(
        m.check_address(GuestAddress(0x3000)),
        Some(GuestAddress(0x3000))
    );
    let (r, off) = m.to_region_addr(GuestAddress(0x1234)).unwrap();
    assert_eq!(
        (r.start_addr(), off),
        (GuestAddress(0x1000), MemoryRegionAddress(0x234))
    );
    assert!(m.get_host_address(GuestAddress(0x3000)).is_ok());
    assert!(matches!(
        m.get_host_address(GuestAddress(0x2600)),
        Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(0x2600)))
    ));
    assert_eq!(
        GuestMemoryBackend::get_slice(&m, GuestAddress(0xf00), 0x100)
            .unwrap()
            .len(),
        0x100
    );
    assert!(matches!(
        GuestMemoryBackend::get_slice(&m, GuestAddress(0xf00), 0x101),
        Err(GuestMemoryError::InvalidBackendAddress)
    ));
    assert!(matches!(
        GuestMemoryBackend::get_slice(&m, GuestAddress(0x2000), 1),
        Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(0x2000)))
    ));
    assert!(GuestMemory::physical_memory(&m).is_some());
}

#[test]
#[allow(deprecated)]
fn try_access_walks_regions_and_reports_errors() {
    let m = mem();
    let mut pieces = Vec::new();
    let total = m
        .try_access(0x20, GuestAddress(0xff0), |done, len, offset, region| {
            pieces.push((done, len, offset.0, region.start_addr().0));
            Ok(len)
        })
        .unwrap();
    assert_eq!(total, 0x20);
    assert_eq!(pieces, [(0, 0x10, 0xff0, 0), (0x10, 0x10, 0, 0x1000)]);
    assert_eq!(
        m.try_access(0x20, GuestAddress(0x1ff0), |_, len, _, _| Ok(len))
            .unwrap(),
        0x10
    );
    assert!(matches!(
        m.try_access(4, GuestAddress(0x2000), |_, len, _, _| Ok(len)),
        Err(GuestMemoryError::InvalidGuestAddress(GuestAddress(0x2000)))
    ));
    assert!(matches!(
        m.try_access(4, GuestAddress(0), |_, len, _, _| Ok(len + 1)),
        Err(GuestMemoryError::CallbackOutOfRange)
    ));
    assert_eq!(
        m.try_access(4, GuestAddress(0), |_, _, _, _| Ok(0))
            .unwrap(),
        0
    );
    let top: RegionTable<RawRegion, 2> =
        RegionTable::from_regions(regions(&[(0, 0x10), (u64::MAX - 0xf, 0x10)])).unwrap();
    // The deprecated walker keeps vm-memory 0.18's behaviour: wrapping to exactly 0 continues
    // at address 0 (`get_slices` refuses to wrap).
    assert_eq!(
        top.try_access(0x20, GuestAddress(u64::MAX - 0xf), |_, len, _, _| Ok(len))
            .unwrap(),
        0x20
    );
    assert_eq!(
        top.try_access(0x30, GuestAddress(u64::MAX - 0xf), |_, len, _, _| Ok(
            len.min(8)
        ))
        .unwrap(),
        0x20,
        "8-byte steps across the wrap, then the hole after the low region"
    );
}

#[test]
fn permissions_truth_tables() {
    use Permissions::*;
    let all = [No, Read, Write, ReadWrite];
    for a in all {
        for b in all {
            let or = a as u8 | b as u8;
            let and = a as u8 & b as u8;
            assert_eq!((a | b) as u8, or);
            assert_eq!((a & b) as u8, and);
            assert_eq!(a.allow(b), and == b as u8, "{a:?}.allow({b:?})");
        }
        assert!(a.allow(No));
    }
    assert!(Write.has_write() && ReadWrite.has_write());
    assert!(!Read.has_write() && !No.has_write());
}

/// Writes through `m` (regions at 0 and 0x1000, bitmaps `b0` and `b1`) mark the right region's
/// bitmap at region-relative offsets; reads mark nothing.
fn check_dirty_marking<M: GuestMemory + ?Sized>(m: &M, b0: &RecordingBitmap, b1: &RecordingBitmap) {
    m.write(&[1; 8], GuestAddress(0xffc)).unwrap();
    assert_eq!((b0.take(), b1.take()), (vec![(0xffc, 4)], vec![(0, 4)]));
    m.write_slice(&[1; 3], GuestAddress(0x1100)).unwrap();
    assert_eq!(b1.take(), [(0x100, 3)]);
    m.write_obj(1u64, GuestAddress(0x1008)).unwrap();
    assert_eq!(b1.take(), [(8, 8)]);
    m.write_obj(1u64, GuestAddress(0xffe)).unwrap();
    assert_eq!((b0.take(), b1.take()), (vec![(0xffe, 2)], vec![(0, 6)]));
    m.store(1u32, GuestAddress(0x10), Ordering::SeqCst).unwrap();
    assert_eq!(b0.take(), [(0x10, 4)]);
    m.read_volatile_from(GuestAddress(0xfff), &mut &[1u8, 2, 3][..], 3)
        .unwrap();
    assert_eq!((b0.take(), b1.take()), (vec![(0xfff, 1)], vec![(0, 2)]));
    m.read_exact_volatile_from(GuestAddress(0x1800), &mut &[1u8; 4][..], 4)
        .unwrap();
    assert_eq!(b1.take(), [(0x800, 4)]);
    let _ = m.read_obj::<u64>(GuestAddress(0)).unwrap();
    let _ = m.load::<u32>(GuestAddress(0), Ordering::SeqCst).unwrap();
    let mut out = [0u8; 8];
    m.write_all_volatile_to(GuestAddress(0), &mut &mut out[..], 8)
        .unwrap();
    assert!(
        b0.take().is_empty() && b1.take().is_empty(),
        "reads mark nothing"
    );
}

#[test]
fn writes_mark_the_right_region_bitmap_at_region_offsets() {
    let (b0, b1) = (RecordingBitmap::default(), RecordingBitmap::default());
    let m: RegionTable<RawRegion<RefSlice<'_, RecordingBitmap>>, 2> = RegionTable::from_regions([
        region_with(0, 0x1000, b0.slice_at(0)),
        region_with(0x1000, 0x1000, b1.slice_at(0)),
    ])
    .unwrap();
    check_dirty_marking(&m, &b0, &b1);
}

/// The collection reaches directly mapped regions without `get_slice`: its slices must carry
/// the same bitmaps at the same offsets.
#[cfg(feature = "alloc")]
#[test]
fn collection_direct_mappings_mark_the_right_region_bitmap() {
    let (b0, b1) = (RecordingBitmap::default(), RecordingBitmap::default());
    let m = crate::GuestRegionCollection::from_regions(std::vec![
        region_with(0, 0x1000, b0.slice_at(0)),
        region_with(0x1000, 0x1000, b1.slice_at(0)),
    ])
    .unwrap();
    check_dirty_marking(&m, &b0, &b1);
}

/// A backend whose region hands out slices of the wrong length: the iterator must refuse it.
#[derive(Debug)]
struct LyingRegion(RawRegion);

impl GuestMemoryRegion for LyingRegion {
    type B = ();

    fn len(&self) -> GuestUsize {
        self.0.len()
    }

    fn start_addr(&self) -> GuestAddress {
        self.0.start_addr()
    }

    fn bitmap(&self) {}

    fn get_slice(&self, offset: MemoryRegionAddress, count: usize) -> Result<VolatileSlice<'_>> {
        self.0.get_slice(offset, count + 1)
    }
}

impl crate::region::GuestMemoryRegionBytes for LyingRegion {}

#[test]
#[should_panic(expected = "wrong length")]
fn a_region_returning_a_wrong_length_panics_instead_of_trusting_it() {
    let m: RegionTable<LyingRegion, 1> =
        RegionTable::from_regions([LyingRegion(region(0, 0x100))]).unwrap();
    let _ = m.read_obj::<u64>(GuestAddress(8));
}

#[test]
fn default_find_region_scans_linearly() {
    /// A backend that only implements `iter`.
    struct Plain(Vec<RawRegion>);
    impl GuestMemoryBackend for Plain {
        type R = RawRegion;
        fn iter(&self) -> impl Iterator<Item = &RawRegion> {
            self.0.iter()
        }
    }
    let m = Plain(regions(&[(0, 0x10), (0x20, 0x10)]));
    assert_eq!(m.num_regions(), 2);
    assert!(m.find_region(GuestAddress(0x1f)).is_none());
    assert_eq!(
        m.find_region(GuestAddress(0x2f)).unwrap().start_addr(),
        GuestAddress(0x20)
    );
    m.write_obj(3u16, GuestAddress(0x2e)).unwrap();
    assert_eq!(m.read_obj::<u16>(GuestAddress(0x2e)).unwrap(), 3);
    assert_eq!(m.last_addr(), GuestAddress(0x2f));
}

#[cfg(feature = "alloc")]
#[test]
fn address_space_handles_for_references_rc_and_arc() {
    use alloc::rc::Rc;
    use alloc::sync::Arc;
    fn read_through<S: GuestAddressSpace>(space: S) -> u8 {
        space.memory().read_obj::<u8>(GuestAddress(0x10)).unwrap()
    }
    let m = mem();
    m.write_obj(9u8, GuestAddress(0x10)).unwrap();
    assert_eq!(read_through(&m), 9);
    let m2 = mem();
    m2.write_obj(8u8, GuestAddress(0x10)).unwrap();
    assert_eq!(read_through(Rc::new(m2)), 8);
    let m3 = mem();
    m3.write_obj(7u8, GuestAddress(0x10)).unwrap();
    assert_eq!(read_through(Arc::new(m3)), 7);
}

#[test]
fn error_conversions_from_volatile_errors() {
    use crate::VolatileMemoryError as V;
    assert!(matches!(
        GuestMemoryError::from(V::OutOfBounds { addr: 1 }),
        GuestMemoryError::InvalidBackendAddress
    ));
    assert!(matches!(
        GuestMemoryError::from(V::Overflow { base: 1, offset: 2 }),
        GuestMemoryError::InvalidBackendAddress
    ));
    assert!(matches!(
        GuestMemoryError::from(V::TooBig {
            nelements: 1,
            size: 2
        }),
        GuestMemoryError::InvalidBackendAddress
    ));
    assert!(matches!(
        GuestMemoryError::from(V::Misaligned {
            addr: 1,
            alignment: 2
        }),
        GuestMemoryError::InvalidBackendAddress
    ));
    assert!(matches!(
        GuestMemoryError::from(V::PartialBuffer {
            expected: 4,
            completed: 1
        }),
        GuestMemoryError::PartialBuffer {
            expected: 4,
            completed: 1
        }
    ));
    assert!(matches!(
        GuestMemoryError::from(V::LazilyMapped { offset: 0 }),
        GuestMemoryError::HostAddressNotAvailable
    ));
    assert!(matches!(
        GuestMemoryError::from(V::MappingFailed {
            offset: 1,
            len: 2,
            errno: 3
        }),
        GuestMemoryError::MappingFailed {
            offset: 1,
            len: 2,
            errno: 3
        }
    ));
    #[cfg(feature = "std")]
    assert!(matches!(
        GuestMemoryError::from(V::IOError(std::io::Error::other("x"))),
        GuestMemoryError::IOError(_)
    ));
    use std::string::ToString;
    assert!(
        GuestMemoryError::InvalidGuestAddress(GuestAddress(0x600))
            .to_string()
            .contains("0x600")
    );
}
