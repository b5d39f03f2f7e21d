//! Unix and Xen regions in one `GuestMemoryMmap`.

use std::sync::atomic::Ordering;

use vm_memory::bitmap::{AtomicBitmap, Bitmap};
use vm_memory::mmap::{MmapRange, MmapRegion, MmapXenFlags};
use vm_memory::{
    Bytes, GuestAddress, GuestMemory, GuestMemoryBackend, GuestMemoryError, GuestMemoryMmap,
    GuestMemoryRegion, GuestRegionMmap, Permissions,
};
use vm_memory_xen::GRANT_ADDR_BIT;

use crate::{fake, page, xen_region};

/// Unix memory at 0 (2 pages), foreign frames 2..4 right after it, and at the grant addresses
/// grants 8..10 mapped in advance followed by grants 10..12 mapped per access.
fn mixed_memory<B: vm_memory::bitmap::NewBitmap>(
    fake: &std::sync::Arc<vm_memory_xen::test_utils::FakeXenDevice>,
) -> GuestMemoryMmap<B> {
    let p = page() as u64;
    let unix = GuestRegionMmap::new(
        MmapRegion::<B>::from_range(MmapRange::new_unix(2 * page(), None, GuestAddress(0)))
            .unwrap(),
        GuestAddress(0),
    )
    .unwrap();
    let lazy = MmapXenFlags::GRANT | MmapXenFlags::NO_ADVANCE_MAP;
    GuestMemoryMmap::from_regions(vec![
        unix,
        xen_region(fake, MmapXenFlags::FOREIGN, 2 * p, 2),
        xen_region(fake, MmapXenFlags::GRANT, GRANT_ADDR_BIT | (8 * p), 2),
        xen_region(fake, lazy, GRANT_ADDR_BIT | (10 * p), 2),
    ])
    .unwrap()
}

#[test]
fn one_guest_memory_holds_unix_foreign_and_grant_regions() {
    let fake = fake();
    let mem = mixed_memory::<()>(&fake);
    let kinds: Vec<u32> = mem.iter().map(|r| r.xen_mmap_flags()).collect();
    assert_eq!(kinds, [0x0, 0x1, 0x2, 0xa]);
    assert_eq!(mem.num_regions(), 4);
    drop(mem);
    fake.assert_balanced();
}

#[test]
fn accesses_cross_from_unix_into_foreign_memory() {
    let fake = fake();
    let mem = mixed_memory::<()>(&fake);
    let p = page() as u64;
    mem.write_slice(b"unix|frgn", GuestAddress(2 * p - 5))
        .unwrap();
    let mut back = [0u8; 9];
    mem.read_slice(&mut back, GuestAddress(2 * p - 5)).unwrap();
    assert_eq!(&back, b"unix|frgn");
    let mut frame = [0u8; 4];
    fake.read_memory(2 * p, &mut frame);
    assert_eq!(&frame, b"frgn", "the foreign part landed in frame 2");
    drop(mem);
    fake.assert_balanced();
}

#[test]
fn accesses_cross_from_advance_grants_into_lazily_mapped_grants() {
    let fake = fake();
    let mem = mixed_memory::<()>(&fake);
    let p = page() as u64;
    let at = GuestAddress(GRANT_ADDR_BIT | (10 * p - 4));
    mem.write_slice(&[0xab; 8], at).unwrap();
    assert_eq!(
        mem.read_obj::<u64>(at).unwrap(),
        u64::from_ne_bytes([0xab; 8])
    );
    let mut raw = [0u8; 8];
    fake.read_memory(10 * p - 4, &mut raw);
    assert_eq!(raw, [0xab; 8], "grants 9 and 10 hold the bytes");
    // Only the lazily mapped part was mapped per access, and nothing is left mapped but the
    // regions mapped in advance (the foreign and the grant region).
    assert_eq!(fake.live_mappings(), 2);
    drop(mem);
    fake.assert_balanced();
}

#[test]
fn guest_memory_paths_work_on_lazily_mapped_grants() {
    let fake = fake();
    let mem = mixed_memory::<()>(&fake);
    let p = page() as u64;
    let base = GRANT_ADDR_BIT | (10 * p);
    mem.store(0x5555_aaaa_u32, GuestAddress(base + 8), Ordering::SeqCst)
        .unwrap();
    assert_eq!(
        mem.load::<u32>(GuestAddress(base + 8), Ordering::SeqCst)
            .unwrap(),
        0x5555_aaaa
    );
    mem.read_volatile_from(GuestAddress(base + p - 2), &mut &b"fd!!"[..], 4)
        .unwrap();
    let mut out = Vec::new();
    mem.write_all_volatile_to(GuestAddress(base + p - 2), &mut out, 4)
        .unwrap();
    assert_eq!(out, b"fd!!");
    let slices: Vec<_> =
        GuestMemory::get_slices(&mem, GuestAddress(base), 2 * page(), Permissions::ReadWrite)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    assert_eq!(slices.len(), 1);
    assert_eq!(slices[0].read_obj::<u32>(8).unwrap(), 0x5555_aaaa);
    assert!(matches!(
        mem.get_host_address(GuestAddress(base)),
        Err(GuestMemoryError::HostAddressNotAvailable)
    ));
    assert!(
        mem.get_host_address(GuestAddress(2 * p)).is_ok(),
        "foreign memory has one"
    );
    assert_eq!(fake.live_mappings(), 2, "only the advance mappings stay");
    drop(mem);
    fake.assert_balanced();
}

#[test]
fn writes_to_every_kind_mark_the_dirty_bitmap() {
    let fake = fake();
    let mem = mixed_memory::<AtomicBitmap>(&fake);
    let p = page() as u64;
    let targets = [
        p,
        3 * p,
        GRANT_ADDR_BIT | (9 * p),
        GRANT_ADDR_BIT | (11 * p),
    ];
    for addr in targets {
        mem.write_obj(1u8, GuestAddress(addr)).unwrap();
    }
    for addr in targets {
        let (region, offset) = mem.to_region_addr(GuestAddress(addr)).unwrap();
        assert!(region.bitmap().dirty_at(offset.0 as usize), "{addr:#x}");
        assert!(
            !region.bitmap().dirty_at(offset.0 as usize - page()),
            "{addr:#x} page before"
        );
    }
    drop(mem);
    fake.assert_balanced();
}

#[test]
fn a_failing_grant_map_is_an_error_not_a_panic() {
    let fake = fake();
    let mem = mixed_memory::<()>(&fake);
    let p = page() as u64;
    fake.fail_next(vm_memory_xen::test_utils::Op::MapGrantRef, libc::ENOMEM);
    let err = mem
        .write_obj(1u32, GuestAddress(GRANT_ADDR_BIT | (10 * p)))
        .unwrap_err();
    assert!(
        matches!(
            err,
            GuestMemoryError::MappingFailed {
                errno: libc::ENOMEM,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(fake.live_mappings(), 2);
    drop(mem);
    fake.assert_balanced();
}
