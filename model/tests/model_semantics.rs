//! The model itself against the documented examples (vm-memory 0.18's documentation and
//! `DESIGN.md`), computed by hand: the differential checks are only as good as the model.

use vm_memory_core::{GuestRegionCollectionError as E, Permissions};
use vm_memory_model::model::iotlb::{ModelFails, ModelIotlb};
use vm_memory_model::model::layout::{ModelLayout, Span, validate};
use vm_memory_model::model::{MemError, ModelBitmap, ModelMemory, ModelRegion, Piece};

/// Regions `(start, len)` with 1-byte pages, host addresses 8-aligned and far apart.
fn memory(layout: &[(u64, usize)]) -> ModelMemory {
    ModelMemory {
        regions: layout
            .iter()
            .enumerate()
            .map(|(i, &(start, len))| ModelRegion {
                start,
                host: 0x10_0000 * (i + 1),
                data: vec![0; len],
                dirty: ModelBitmap::new(len, 1),
            })
            .collect(),
        iommu: None,
    }
}

fn piece(region: usize, offset: usize, len: usize) -> Result<Piece, MemError> {
    Ok(Piece {
        region,
        offset,
        len,
        iova: None,
    })
}

#[test]
fn a_u64_four_bytes_before_a_hole_is_a_partial_buffer_with_the_prefix_written() {
    let mut m = memory(&[(0, 0x1000)]);
    let err = m.write_slice(&[0xff; 8], 0xffc).unwrap_err();
    assert_eq!(
        err,
        MemError::PartialBuffer {
            expected: 8,
            completed: 4
        }
    );
    assert_eq!(m.regions[0].data[0xffc..], [0xff; 4]);
    assert!(m.regions[0].dirty.is_bit_set(0xfff));
}

#[test]
fn empty_buffers_are_ok_anywhere_and_unmapped_starts_are_invalid_guest_addresses() {
    let mut m = memory(&[(0x1000, 0x10)]);
    assert_eq!(m.write(&[], 0x5000), Ok(0));
    assert_eq!(
        m.write(&[1], 0x5000),
        Err(MemError::InvalidGuestAddress(0x5000))
    );
    assert!(m.check_range(0x5000, 0));
}

#[test]
fn ranges_cross_adjacent_regions_and_stop_at_holes() {
    let m = memory(&[(0, 0x10), (0x10, 0x10), (0x30, 0x10)]);
    assert_eq!(
        m.pieces(0x8, 0x30),
        [
            piece(0, 8, 8),
            piece(1, 0, 0x10),
            Err(MemError::InvalidGuestAddress(0x20))
        ]
    );
    assert!(m.check_range(0x8, 0x18));
    assert!(!m.check_range(0x8, 0x19));
    // `checked_offset` does not look at the hole in between.
    assert_eq!(m.checked_offset(0x8, 0x30), Some(0x38));
}

#[test]
fn ranges_past_the_top_yield_the_pieces_below_it_then_overflow() {
    let m = memory(&[(0, 0x10), (u64::MAX - 0xf, 0x10)]);
    assert_eq!(
        m.pieces(u64::MAX - 3, 8),
        [piece(1, 0xc, 4), Err(MemError::GuestAddressOverflow)]
    );
    let mut buf = [0u8; 8];
    assert_eq!(m.read(&mut buf, u64::MAX - 3), Ok(4));
}

#[test]
fn the_deprecated_try_access_wraps_to_zero_as_upstream() {
    let m = memory(&[(0, 0x10), (u64::MAX - 0xf, 0x10)]);
    let mut calls = Vec::new();
    assert_eq!(
        m.try_access(0x18, u64::MAX - 7, |_, len| len, &mut calls),
        Ok(0x18)
    );
    assert_eq!(calls, [(0, 8, 1, 8), (8, 0x10, 0, 0)]);
}

#[test]
fn atomics_use_the_first_piece_only() {
    let mut m = memory(&[(0, 0x10), (0x10, 0x10)]);
    // Straddling two adjacent regions, misaligned, or unmapped.
    assert_eq!(
        m.store(&[1; 4], 4, 0xe),
        Err(MemError::InvalidBackendAddress)
    );
    assert_eq!(
        m.store(&[1; 4], 4, 0x2),
        Err(MemError::InvalidBackendAddress)
    );
    assert_eq!(m.load(4, 4, 0x40), Err(MemError::InvalidGuestAddress(0x40)));
    assert_eq!(m.store(&[1; 4], 4, 0x4), Ok(()));
    assert_eq!(m.load(4, 4, 0x4), Ok(vec![1; 4]));
}

#[test]
fn bitmap_ranges_mark_every_page_they_touch() {
    // vm-memory's own example: 0x1fff + 2 bytes with 4 KiB pages are pages 1 and 2.
    let mut b = ModelBitmap::new(0x10000, 0x1000);
    b.update_range(0x1fff, 2, true);
    assert_eq!(b.get_and_reset(), [0b110]);
    b.update_range(0, 0, true);
    b.update_range(usize::MAX - 1, 10, true);
    assert_eq!(b.get_and_reset(), [0]);
    assert!(!b.is_bit_set(1000));
}

#[test]
fn iotlb_lookups_report_every_miss_and_forbidden_part() {
    let mut t = ModelIotlb::default();
    t.set_mapping(0x1000, 0x8000, 0x1000, Permissions::Read)
        .unwrap();
    t.set_mapping(0x2000, 0x4000, 0x1000, Permissions::Read)
        .unwrap();
    assert_eq!(
        t.lookup(0x1800, 0x1000, Permissions::Read),
        Ok(vec![(0x8800, 0x800), (0x4000, 0x800)])
    );
    assert_eq!(
        t.lookup(0x2800, 0x1000, Permissions::Write),
        Err(ModelFails {
            misses: vec![(0x3000, 0x800)],
            access_fails: vec![(0x2800, 0x800)],
        })
    );
    // Contiguous in both spaces with equal permissions: one entry.
    t.set_mapping(0x3000, 0x5000, 0x10, Permissions::Read)
        .unwrap();
    assert_eq!(t.entries().len(), 2);
}

#[test]
fn layouts_refuse_overlaps_unsorted_empty_and_overflowing_regions() {
    let span = |start, len| Span { start, len };
    assert_eq!(validate(&[]), Err(E::NoMemoryRegion));
    assert_eq!(validate(&[span(0, 0x10), span(0x10, 0x10)]), Ok(()));
    assert_eq!(
        validate(&[span(0x10, 0x10), span(0, 0x10)]),
        Err(E::UnsortedMemoryRegions)
    );
    assert_eq!(
        validate(&[span(0, 0x11), span(0x10, 0x10)]),
        Err(E::MemoryRegionOverlap)
    );
    assert_eq!(validate(&[span(0, 0)]), Err(E::EmptyRegion));
    assert_eq!(validate(&[span(u64::MAX, 2)]), Err(E::RegionEndOverflow));
    assert_eq!(validate(&[span(u64::MAX, 1)]), Ok(()));
    let mut table = ModelLayout::from_spans(&[span(0, 0x10)], Some(1)).unwrap();
    assert_eq!(table.insert(span(0x20, 1), Some(1)), Err(E::TableFull));
    assert_eq!(
        table.insert(span(0x8, 0x10), Some(1)),
        Err(E::MemoryRegionOverlap)
    );
    assert_eq!(table.remove(0, 0x11), Err(E::NoMemoryRegion));
}
