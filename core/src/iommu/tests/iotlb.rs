use std::vec;
use std::vec::Vec;

use crate::address::GuestAddress;
use crate::guest_memory::Permissions::{self, No, Read, ReadWrite, Write};
use crate::iommu::{Error, Iotlb, IotlbEntry, IotlbFails, IovaRange, MappedRange};

fn ga(addr: u64) -> GuestAddress {
    GuestAddress(addr)
}

fn iova(base: u64, length: usize) -> IovaRange {
    IovaRange {
        base: ga(base),
        length,
    }
}

fn mapped(base: u64, length: usize) -> MappedRange {
    MappedRange {
        base: ga(base),
        length,
    }
}

fn set(iotlb: &mut Iotlb, iova: u64, to: u64, len: usize, perm: Permissions) {
    iotlb.set_mapping(ga(iova), ga(to), len, perm).unwrap();
    assert!(iotlb.is_canonical());
}

fn hit(iotlb: &Iotlb, iova: u64, len: usize, access: Permissions) -> Vec<MappedRange> {
    match Iotlb::lookup(iotlb, ga(iova), len, access) {
        Ok(pieces) => pieces.collect(),
        Err(fails) => panic!("lookup of {iova:#x}+{len:#x} failed: {fails:?}"),
    }
}

fn fails(iotlb: &Iotlb, iova: u64, len: usize, access: Permissions) -> IotlbFails {
    match Iotlb::lookup(iotlb, ga(iova), len, access) {
        Ok(pieces) => panic!(
            "lookup of {iova:#x}+{len:#x} hit: {:?}",
            pieces.collect::<Vec<_>>()
        ),
        Err(fails) => fails,
    }
}

/// `(first, last, target, permissions)` of every entry.
fn entries(iotlb: &Iotlb) -> Vec<(u64, u64, u64, Permissions)> {
    iotlb
        .entries()
        .map(|e| (e.iova.0, e.last.0, e.target.0, e.permissions))
        .collect()
}

#[test]
fn translation_crosses_several_entries_and_is_clipped_at_both_ends() {
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0x1000, 0x9000, 0x1000, ReadWrite);
    set(&mut iotlb, 0x2000, 0x4000, 0x800, Read);
    set(&mut iotlb, 0x2800, 0x7000, 0x800, ReadWrite);
    assert_eq!(
        hit(&iotlb, 0x1f00, 0xa00, Read),
        [
            mapped(0x9f00, 0x100),
            mapped(0x4000, 0x800),
            mapped(0x7000, 0x100)
        ]
    );
    // Inside a single entry: one piece at the right offset.
    assert_eq!(hit(&iotlb, 0x1234, 0x10, Write), [mapped(0x9234, 0x10)]);
}

#[test]
fn adjacent_mappings_merge_when_contiguous_in_both_spaces_with_equal_permissions() {
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 42, 87, 123, ReadWrite);
    set(&mut iotlb, 42 + 123, 87 + 123, 234, ReadWrite);
    assert_eq!(entries(&iotlb), [(42, 42 + 357 - 1, 87, ReadWrite)]);
    assert_eq!(hit(&iotlb, 42, 357, ReadWrite), [mapped(87, 357)]);
    // A lookup straddling the old seam sees one piece.
    assert_eq!(hit(&iotlb, 42 + 122, 2, Read), [mapped(87 + 122, 2)]);

    // Inserted right-to-left, and filling a gap between two entries joins all three.
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0x300, 0x1300, 0x100, Read);
    set(&mut iotlb, 0x100, 0x1100, 0x100, Read);
    assert_eq!(iotlb.len(), 2);
    set(&mut iotlb, 0x200, 0x1200, 0x100, Read);
    assert_eq!(entries(&iotlb), [(0x100, 0x3ff, 0x1100, Read)]);
}

#[test]
fn adjacent_mappings_stay_apart_unless_contiguous_in_both_spaces_with_equal_permissions() {
    // Same target for both (a duplicate mapping, which vhost-user front-ends do send).
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 42, 87, 123, ReadWrite);
    set(&mut iotlb, 42 + 123, 87, 234, ReadWrite);
    assert_eq!(
        hit(&iotlb, 42, 357, ReadWrite),
        [mapped(87, 123), mapped(87, 234)]
    );
    // A gap in target space.
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0, 0x1000, 0x100, Read);
    set(&mut iotlb, 0x100, 0x1101, 0x100, Read);
    assert_eq!(iotlb.len(), 2);
    // Contiguous in both spaces but different permissions.
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0, 0x1000, 0x100, Read);
    set(&mut iotlb, 0x100, 0x1100, 0x100, ReadWrite);
    assert_eq!(
        hit(&iotlb, 0, 0x200, Read),
        [mapped(0x1000, 0x100), mapped(0x1100, 0x100)]
    );
    // Contiguous targets but a gap in IOVA space: a miss in between.
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0, 0x1000, 0x100, Read);
    set(&mut iotlb, 0x101, 0x1100, 0x100, Read);
    assert_eq!(iotlb.len(), 2);
    assert_eq!(fails(&iotlb, 0, 0x201, Read).misses, [iova(0x100, 1)]);
}

#[test]
fn lookup_lists_every_miss_and_every_permission_failure_clipped_to_the_request() {
    // miss | R 0x100..0x200 | miss | W 0x300..0x400 | RW 0x400..0x500 (other target) | miss
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0x100, 0x1100, 0x100, Read);
    set(&mut iotlb, 0x300, 0x1300, 0x100, Write);
    set(&mut iotlb, 0x400, 0x5000, 0x100, ReadWrite);

    let f = fails(&iotlb, 0x80, 0x500, Write);
    assert_eq!(
        f.misses,
        [iova(0x80, 0x80), iova(0x200, 0x100), iova(0x500, 0x80)]
    );
    assert_eq!(f.access_fails, [iova(0x100, 0x100)]);

    let f = fails(&iotlb, 0x180, 0x200, ReadWrite);
    assert_eq!(f.misses, [iova(0x200, 0x100)]);
    assert_eq!(f.access_fails, [iova(0x180, 0x80), iova(0x300, 0x80)]);

    // Only permission failures, one per entry, even for two adjacent read-only entries.
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 42, 87, 123, Read);
    set(&mut iotlb, 42 + 123, 87 + 123, 234, Write);
    let f = fails(&iotlb, 42, 357, ReadWrite);
    assert!(f.misses.is_empty());
    assert_eq!(f.access_fails, [iova(42, 123), iova(42 + 123, 234)]);
    assert_eq!(fails(&iotlb, 42, 357, Read).access_fails, [iova(165, 234)]);
    assert_eq!(fails(&iotlb, 42, 357, Write).access_fails, [iova(42, 123)]);
    // `No` asks for nothing, so every mapping allows it.
    assert_eq!(
        hit(&iotlb, 42, 357, No),
        [mapped(87, 123), mapped(87 + 123, 234)]
    );
    // An empty IOTLB misses the whole range.
    assert_eq!(
        fails(&Iotlb::new(), 5, 10, No),
        IotlbFails {
            misses: vec![iova(5, 10)],
            access_fails: vec![],
        }
    );
}

#[test]
fn invalidation_punches_a_hole_and_keeps_the_targets_around_it() {
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 42, 87, 123, ReadWrite);
    iotlb.invalidate_mapping(ga(42 + 61), 3);
    assert!(iotlb.is_canonical());
    assert_eq!(
        entries(&iotlb),
        [(42, 42 + 60, 87, ReadWrite), (106, 164, 87 + 64, ReadWrite)]
    );
    assert_eq!(hit(&iotlb, 42, 61, ReadWrite), [mapped(87, 61)]);
    assert_eq!(hit(&iotlb, 106, 59, ReadWrite), [mapped(151, 59)]);
    let f = fails(&iotlb, 42, 123, ReadWrite);
    assert_eq!((f.misses, f.access_fails), (vec![iova(103, 3)], vec![]));

    // Mapping the hole again the same way restores the single entry.
    set(&mut iotlb, 103, 87 + 61, 3, ReadWrite);
    assert_eq!(entries(&iotlb), [(42, 164, 87, ReadWrite)]);

    iotlb.invalidate_all();
    assert!(iotlb.is_empty());
    assert_eq!(fails(&iotlb, 42, 123, ReadWrite).misses, [iova(42, 123)]);
}

#[test]
fn invalidation_across_several_entries_trims_the_outer_ones_and_drops_the_inner_ones() {
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0x000, 0x8000, 0x100, Read);
    set(&mut iotlb, 0x100, 0x4000, 0x100, Write);
    set(&mut iotlb, 0x200, 0x6000, 0x100, ReadWrite);
    set(&mut iotlb, 0x400, 0x7000, 0x100, ReadWrite);
    iotlb.invalidate_mapping(ga(0x80), 0x3c0);
    assert!(iotlb.is_canonical());
    assert_eq!(
        entries(&iotlb),
        [(0, 0x7f, 0x8000, Read), (0x440, 0x4ff, 0x7040, ReadWrite)]
    );
    // Invalidating exactly one entry, and invalidating where nothing is mapped.
    iotlb.invalidate_mapping(ga(0), 0x80);
    iotlb.invalidate_mapping(ga(0x1000), 0x1000);
    assert_eq!(entries(&iotlb), [(0x440, 0x4ff, 0x7040, ReadWrite)]);
}

#[test]
fn set_mapping_overwrites_what_it_overlaps() {
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0x000, 0x8000, 0x300, Read);
    set(&mut iotlb, 0x100, 0x1000, 0x80, ReadWrite);
    assert_eq!(
        entries(&iotlb),
        [
            (0x000, 0x0ff, 0x8000, Read),
            (0x100, 0x17f, 0x1000, ReadWrite),
            (0x180, 0x2ff, 0x8180, Read),
        ]
    );
    // Over several entries and past their end.
    set(&mut iotlb, 0x80, 0x2000, 0x300, Write);
    assert_eq!(
        entries(&iotlb),
        [(0x000, 0x07f, 0x8000, Read), (0x80, 0x37f, 0x2000, Write)]
    );
    // Overwriting with what was there before merges back.
    set(&mut iotlb, 0x80, 0x8080, 0x280, Read);
    assert_eq!(
        entries(&iotlb),
        [(0x000, 0x2ff, 0x8000, Read), (0x300, 0x37f, 0x2280, Write)]
    );
}

#[test]
fn zero_length_mapping_and_invalidation_do_nothing() {
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0x100, 0x1000, 0x100, Read);
    let before = iotlb.clone();
    for addr in [0, 0x100, 0x180, u64::MAX] {
        iotlb.set_mapping(ga(addr), ga(u64::MAX), 0, Write).unwrap();
        iotlb.invalidate_mapping(ga(addr), 0);
    }
    assert_eq!(iotlb, before);
    // A zero-length lookup succeeds anywhere, with no pieces.
    for addr in [0, 0x180, u64::MAX] {
        assert_eq!(hit(&iotlb, addr, 0, ReadWrite), []);
    }
}

#[test]
fn mappings_that_run_past_the_top_of_either_space_are_refused() {
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0, 0, 0x10, Read);
    let before = iotlb.clone();
    assert_eq!(
        iotlb.set_mapping(ga(u64::MAX - 0xf), ga(0x1000), 0x11, Read),
        Err(Error::MappingOverflow {
            iova_range: iova(u64::MAX - 0xf, 0x11),
            map_to: ga(0x1000),
        })
    );
    assert_eq!(
        iotlb.set_mapping(ga(0x1000), ga(u64::MAX), 2, Read),
        Err(Error::MappingOverflow {
            iova_range: iova(0x1000, 2),
            map_to: ga(u64::MAX),
        })
    );
    assert_eq!(iotlb, before);
}

#[test]
fn a_mapping_may_end_at_the_top_of_both_spaces() {
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, u64::MAX - 0xf, u64::MAX - 0xf, 0x10, ReadWrite);
    assert_eq!(hit(&iotlb, u64::MAX, 1, Write), [mapped(u64::MAX, 1)]);
    assert_eq!(
        hit(&iotlb, u64::MAX - 0xf, 0x10, Read),
        [mapped(u64::MAX - 0xf, 0x10)]
    );
}

#[test]
#[cfg(target_pointer_width = "64")]
fn two_halves_of_the_address_space_merge_into_one_entry() {
    // The merged entry is 2^64 bytes long, more than any `usize` length can describe.
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0, 0, 1 << 20, Read);
    set(
        &mut iotlb,
        1 << 20,
        1 << 20,
        usize::MAX - (1 << 20) + 1,
        Read,
    );
    assert_eq!(entries(&iotlb), [(0, u64::MAX, 0, Read)]);
    assert_eq!(
        hit(&iotlb, u64::MAX - 1, 2, Read),
        [mapped(u64::MAX - 1, 2)]
    );
    assert_eq!(hit(&iotlb, 0, usize::MAX, Read), [mapped(0, usize::MAX)]);
    iotlb.invalidate_mapping(ga(u64::MAX), 1);
    assert_eq!(
        fails(&iotlb, u64::MAX - 1, 2, Read).misses,
        [iova(u64::MAX, 1)]
    );
}

#[test]
fn a_lookup_past_the_top_is_one_miss_over_the_whole_request() {
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, u64::MAX - 0xf, 0, 0x10, ReadWrite);
    assert_eq!(
        fails(&iotlb, u64::MAX - 0xf, 0x11, Read),
        IotlbFails {
            misses: vec![iova(u64::MAX - 0xf, 0x11)],
            access_fails: vec![],
        }
    );
}

#[test]
fn an_invalidation_past_the_top_invalidates_up_to_the_top() {
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, u64::MAX - 0xff, 0, 0x100, ReadWrite);
    iotlb.invalidate_mapping(ga(u64::MAX - 0xf), usize::MAX);
    assert_eq!(
        entries(&iotlb),
        [(u64::MAX - 0xff, u64::MAX - 0x10, 0, ReadWrite)]
    );
}

#[test]
fn the_translation_iterator_clones_and_stays_done() {
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0, 0x100, 0x10, Read);
    set(&mut iotlb, 0x10, 0x300, 0x10, Read);
    let mut pieces = Iotlb::lookup(&iotlb, ga(8), 0x10, Read).unwrap();
    assert_eq!(pieces.next(), Some(mapped(0x108, 8)));
    let copy = pieces.clone();
    assert_eq!(pieces.next(), Some(mapped(0x300, 8)));
    assert_eq!((pieces.next(), pieces.next()), (None, None));
    assert_eq!(copy.collect::<Vec<_>>(), [mapped(0x300, 8)]);
}

#[test]
fn entries_describe_the_mapping() {
    let mut iotlb = Iotlb::new();
    set(&mut iotlb, 0x10, 0x800, 0x20, Write);
    assert_eq!(
        iotlb.entries().collect::<Vec<_>>(),
        [IotlbEntry {
            iova: ga(0x10),
            last: ga(0x2f),
            target: ga(0x800),
            permissions: Write,
        }]
    );
}

#[test]
fn iova_range_from_a_u64_range() {
    assert_eq!(IovaRange::try_from(0x10u64..0x30), Ok(iova(0x10, 0x20)));
    // An end before the start is an empty range, not a panic.
    assert_eq!(
        IovaRange::try_from(core::ops::Range {
            start: 0x30u64,
            end: 0x10,
        }),
        Ok(iova(0x30, 0))
    );
    let too_long = IovaRange::try_from(0..u64::MAX);
    assert_eq!(too_long.is_ok(), usize::BITS == 64);
}

#[test]
fn error_messages_name_the_range() {
    let e = Error::CannotResolve {
        iova_range: iova(0x1000, 0x20),
        reason: "no such page".into(),
    };
    assert_eq!(
        std::format!("{e}"),
        "cannot translate IOVA range 0x1000+0x20: no such page"
    );
    let e = Error::Fragmented {
        iova_range: iova(0x1000, 0x20),
        continuous_length: 0x8,
    };
    assert_eq!(
        std::format!("{e}"),
        "IOVA range 0x1000+0x20 is contiguous for only 0x8 bytes"
    );
    let e = Error::IommuMisconfigured {
        reason: "no IOTLB".into(),
    };
    assert_eq!(std::format!("{e}"), "IOMMU is misconfigured: no IOTLB");
    let e = Error::MappingOverflow {
        iova_range: iova(u64::MAX, 2),
        map_to: ga(0),
    };
    assert_eq!(
        std::format!("{e}"),
        "mapping of IOVA range 0xffffffffffffffff+0x2 to 0x0 runs past the end of the address space"
    );
}
