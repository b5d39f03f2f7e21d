//! `MmapRegion::from_range` for each kind, and the Xen accessors.

use std::fs::File;
use std::io::Write;

use vm_memory::mmap::{MmapRange, MmapRegion, MmapXenFlags};
use vm_memory::{
    Bytes, FileOffset, GuestAddress, GuestMemoryError, GuestMemoryRegion, GuestRegionMmap,
    MemoryRegionAddress, VolatileMemory,
};
use vm_memory_xen::GRANT_ADDR_BIT;
use vm_memory_xen::test_utils::{Call, Target};

use crate::{DOMID, fake, page, xen_range, xen_region};

fn temp_file(len: usize) -> File {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "vm-memory-xen-face-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    file.write_all(&vec![0; len]).unwrap();
    file
}

#[test]
fn unix_range_gives_the_same_region_as_new_and_from_file() {
    let anon =
        MmapRegion::<()>::from_range(MmapRange::new_unix(page(), None, GuestAddress(0))).unwrap();
    let new = MmapRegion::<()>::new(page()).unwrap();
    assert_eq!((anon.prot(), anon.flags()), (new.prot(), new.flags()));
    assert!(anon.owned() && !anon.as_ptr().is_null());
    assert_eq!((anon.xen_mmap_flags(), anon.xen_mmap_data()), (0, 0));

    let file = FileOffset::new(temp_file(2 * page()), page() as u64);
    let shared =
        MmapRegion::<()>::from_range(MmapRange::new_unix(page(), Some(file), GuestAddress(0)))
            .unwrap();
    assert_eq!(shared.flags(), libc::MAP_NORESERVE | libc::MAP_SHARED);
    assert_eq!(shared.file_offset().unwrap().start(), page() as u64);
    shared.as_volatile_slice().write_obj(9u8, 0).unwrap();
}

#[test]
fn unix_range_keeps_its_xen_data_hugetlbfs_label_and_prot() {
    let mut range = MmapRange::new(page(), None, GuestAddress(0), 0, 42);
    range.set_flags(libc::MAP_ANONYMOUS | libc::MAP_PRIVATE);
    range.set_prot(libc::PROT_READ);
    range.set_hugetlbfs(false);
    let region = MmapRegion::<()>::from_range(range).unwrap();
    assert_eq!(region.xen_mmap_flags(), MmapXenFlags::UNIX.bits());
    assert_eq!(region.xen_mmap_data(), 42);
    assert_eq!(region.prot(), libc::PROT_READ);
    assert_eq!(region.is_hugetlbfs(), Some(false));
}

#[test]
fn guest_region_from_range_is_the_same_with_xen() {
    let region = GuestRegionMmap::<()>::from_range(GuestAddress(0x10000), page(), None).unwrap();
    let reference = MmapRegion::<()>::new(page()).unwrap();
    assert_eq!(region.flags(), reference.flags());
    assert_eq!(region.xen_mmap_flags(), 0);
    let file = FileOffset::new(temp_file(page()), 0);
    let backed = GuestRegionMmap::<()>::from_range(GuestAddress(0), page(), Some(file)).unwrap();
    assert_eq!(backed.flags(), libc::MAP_NORESERVE | libc::MAP_SHARED);
}

#[test]
fn foreign_region_reports_its_flags_and_domain_and_maps_in_advance() {
    let fake = fake();
    let p = page() as u64;
    let region = xen_region::<()>(&fake, MmapXenFlags::FOREIGN, 4 * p, 2);
    assert_eq!(region.xen_mmap_flags(), MmapXenFlags::FOREIGN.bits());
    assert_eq!(region.xen_mmap_data(), DOMID);
    assert!(region.owned());
    assert_eq!(region.flags(), libc::MAP_NORESERVE | libc::MAP_SHARED);
    assert!(
        region.file_offset().is_some(),
        "the privcmd file stays with the region"
    );
    let host = region.get_host_address(MemoryRegionAddress(8)).unwrap();
    assert_eq!(host, region.as_ptr().wrapping_add(8));
    region
        .write_obj(0x1122_u16, MemoryRegionAddress(p + 2))
        .unwrap();
    let mut raw = [0u8; 2];
    fake.read_memory(5 * p + 2, &mut raw);
    assert_eq!(u16::from_ne_bytes(raw), 0x1122);
    drop(region);
    fake.assert_balanced();
}

#[test]
fn lazily_mapped_grant_region_has_no_host_address_but_works() {
    let fake = fake();
    let p = page() as u64;
    let flags = MmapXenFlags::GRANT | MmapXenFlags::NO_ADVANCE_MAP;
    let region = xen_region::<()>(&fake, flags, GRANT_ADDR_BIT | (12 * p), 2);
    assert_eq!(region.xen_mmap_flags(), 0xa);
    assert!(region.as_ptr().is_null());
    assert!(matches!(
        region.get_host_address(MemoryRegionAddress(0)),
        Err(GuestMemoryError::HostAddressNotAvailable)
    ));
    assert!(fake.calls().is_empty(), "nothing mapped in advance");
    region
        .write_obj(0xbeef_u16, MemoryRegionAddress(p))
        .unwrap();
    assert_eq!(
        region.read_obj::<u16>(MemoryRegionAddress(p)).unwrap(),
        0xbeef
    );
    let maps: Vec<_> = fake
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            Call::MapGrantRef { refs, .. } => {
                Some(refs.iter().map(|r| (r.domid, r.r#ref)).collect::<Vec<_>>())
            }
            _ => None,
        })
        .collect();
    assert_eq!(maps, [vec![(DOMID, 13)], vec![(DOMID, 13)]]);
    fake.assert_balanced();
}

#[test]
fn grant_region_mapped_in_advance_maps_once_and_unmaps_on_drop() {
    let fake = fake();
    let p = page() as u64;
    let region = xen_region::<()>(&fake, MmapXenFlags::GRANT, GRANT_ADDR_BIT | (2 * p), 3);
    assert!(!region.as_ptr().is_null());
    region
        .write_slice(&[5; 16], MemoryRegionAddress(3 * p - 8))
        .unwrap_err();
    region
        .write_slice(&[5; 8], MemoryRegionAddress(3 * p - 8))
        .unwrap();
    assert!(matches!(
        fake.calls().as_slice(),
        [
            Call::MapGrantRef { count: 3, .. },
            Call::Mmap {
                target: Target::Gntdev,
                ..
            }
        ]
    ));
    drop(region);
    fake.assert_balanced();
}

#[test]
fn regions_are_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let fake = fake();
    let flags = MmapXenFlags::GRANT | MmapXenFlags::NO_ADVANCE_MAP;
    let region = std::sync::Arc::new(xen_region::<()>(&fake, flags, 0, 4));
    assert_send_sync(&region);
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let region = &region;
            s.spawn(move || {
                let at = MemoryRegionAddress(t * page() as u64);
                region.write_obj(t, at).unwrap();
                assert_eq!(region.read_obj::<u64>(at).unwrap(), t);
            });
        }
    });
    drop(region);
    fake.assert_balanced();
}

#[test]
fn ranges_passed_to_the_fake_come_back_unchanged() {
    let fake = fake();
    let range = xen_range(&fake, MmapXenFlags::FOREIGN, 0, 1);
    assert_eq!(range.mmap_data(), DOMID);
    assert_eq!(range.size(), page());
}
