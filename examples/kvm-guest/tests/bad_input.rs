//! Bad input the VMM refuses before any guest runs: overlapping regions, a program larger than
//! its region, a table larger than the guest handles. No KVM needed.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use vm_memory::{GuestAddress, GuestMemoryBackend, GuestMemoryRegion, GuestRegionCollectionError};
use vm_memory_kvm_example::error::{Error, describe};
use vm_memory_kvm_example::layout::{self, CODE_ADDR, MAX_ENTRIES, TABLE_ADDR};
use vm_memory_kvm_example::memory::{Backing, RegionSpec, build_memory, load_program, write_table};

fn spec(base: u64, size: usize, backing: Backing) -> RegionSpec {
    RegionSpec {
        base: GuestAddress(base),
        size,
        backing,
    }
}

#[test]
fn overlapping_regions_are_refused_with_both_ranges_named() {
    let e = build_memory(&[
        spec(0, 0x10000, Backing::Anonymous),
        spec(0x8000, 0x10000, Backing::Memfd),
    ])
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Layout {
                reason: GuestRegionCollectionError::MemoryRegionOverlap,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "invalid guest memory layout [0x0..0x10000 (anonymous), 0x8000..0x18000 (memfd)]: \
         memory regions overlap"
    );
}

#[test]
fn overlap_is_found_whatever_the_order_of_the_specs() {
    // Given last-first, a one-page overlap at 0x1f000.
    let e = build_memory(&[
        spec(0x1f000, 0x1000, Backing::Memfd),
        spec(0x10000, 0x10000, Backing::Anonymous),
    ])
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Layout {
                reason: GuestRegionCollectionError::MemoryRegionOverlap,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn disjoint_and_adjacent_regions_are_accepted_in_any_order() {
    let mem = build_memory(&[
        spec(0x20000, 0x1000, Backing::Memfd),
        spec(0x1f000, 0x1000, Backing::Anonymous), // ends where the first begins
        spec(0, 0x1000, Backing::Anonymous),
    ])
    .unwrap();
    let bases: Vec<u64> = mem.iter().map(|r| r.start_addr().0).collect();
    assert_eq!(bases, [0, 0x1f000, 0x20000]);
    let file_backed: Vec<bool> = mem.iter().map(|r| r.file_offset().is_some()).collect();
    assert_eq!(file_backed, [false, false, true]);
}

#[test]
fn an_empty_region_is_refused() {
    let e = build_memory(&[spec(0x1000, 0, Backing::Memfd)]).unwrap_err();
    assert!(matches!(e, Error::Backing { .. }), "{e:?}");
    let text = describe(&e);
    assert!(
        text.starts_with("cannot back the guest memory region 0x1000..0x1000 (memfd)"),
        "{text}"
    );
    assert!(text.contains("empty"), "{text}");
}

#[test]
fn a_program_larger_than_its_region_is_refused() {
    let mem = build_memory(&layout::regions()).unwrap();
    // The low region ends at 0x10000: 0xf000 bytes from CODE_ADDR fit, one more does not.
    load_program(&mem, GuestAddress(CODE_ADDR), &vec![0x90; 0xf000]).unwrap();
    let e = load_program(&mem, GuestAddress(CODE_ADDR), &vec![0x90; 0xf001]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ProgramTooLarge {
                len: 0xf001,
                addr: 0x1000,
                region_start: 0,
                region_end: 0x10000,
                room: 0xf000
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "the guest program (61441 bytes) does not fit at 0x1000: its region 0x0..0x10000 has \
         only 61440 bytes from there"
    );
}

#[test]
fn a_program_is_refused_even_if_an_adjacent_region_would_hold_the_rest() {
    let mem = build_memory(&[
        spec(0, 0x1000, Backing::Anonymous),
        spec(0x1000, 0x1000, Backing::Memfd),
    ])
    .unwrap();
    let e = load_program(&mem, GuestAddress(0xf00), &[0x90; 0x200]).unwrap_err();
    assert!(
        matches!(e, Error::ProgramTooLarge { room: 0x100, .. }),
        "{e:?}"
    );
}

#[test]
fn a_program_outside_guest_memory_is_refused() {
    let mem = build_memory(&layout::regions()).unwrap();
    // 0x10000 is the hole between the two regions.
    let e = load_program(&mem, GuestAddress(0x10000), &[0xf4]).unwrap_err();
    assert!(
        matches!(e, Error::ProgramOutsideMemory { addr: 0x10000 }),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("no guest memory region holds it"),
        "{e}"
    );
}

#[test]
fn a_table_larger_than_the_result_area_is_refused() {
    let mem = build_memory(&layout::regions()).unwrap();
    write_table(&mem, GuestAddress(TABLE_ADDR), &[1; MAX_ENTRIES]).unwrap();
    let e = write_table(&mem, GuestAddress(TABLE_ADDR), &[1; MAX_ENTRIES + 1]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TableTooLarge {
                entries: 65,
                max: 64
            }
        ),
        "{e:?}"
    );
}
