//! Bad ranges get clear errors, before anything is mapped.

use std::error::Error as _;

use vm_memory::mmap::{MmapRange, MmapRegion, MmapRegionError, MmapXenFlags};
use vm_memory::{FileOffset, GuestAddress};
use vm_memory_xen::{Error as XenError, MappingKind};

use crate::{DOMID, fake, page, xen_range};

#[test]
fn invalid_flag_combinations_and_unknown_bits_are_refused() {
    let fake = fake();
    for bits in [0x3, 0x8, 0x9, 0xb, 0x4, 0x10, 0x8000_0002] {
        let range = MmapRange::new(page(), Some(fake.gntdev()), GuestAddress(0), bits, DOMID);
        let err = MmapRegion::<()>::from_range_with_device(range, fake.device()).unwrap_err();
        assert!(
            matches!(err, MmapRegionError::Xen(XenError::InvalidFlags(b)) if b == bits),
            "{bits:#x}: {err}"
        );
        assert!(
            err.source()
                .unwrap()
                .to_string()
                .contains("invalid Xen mmap flags")
        );
    }
    assert!(fake.calls().is_empty());
}

#[test]
fn map_fixed_is_refused_for_unix_and_xen_ranges() {
    let fake = fake();
    let mut unix = MmapRange::new_unix(page(), None, GuestAddress(0));
    unix.set_flags(libc::MAP_FIXED | libc::MAP_ANONYMOUS | libc::MAP_PRIVATE);
    let err = MmapRegion::<()>::from_range(unix).unwrap_err();
    assert!(matches!(err, MmapRegionError::MapFixed), "{err}");
    let mut grant = xen_range(&fake, MmapXenFlags::GRANT, 0, 1);
    grant.set_flags(libc::MAP_FIXED | libc::MAP_SHARED);
    let err = MmapRegion::<()>::from_range_with_device(grant, fake.device()).unwrap_err();
    assert!(matches!(err, MmapRegionError::MapFixed), "{err}");
    assert!(fake.calls().is_empty());
}

#[test]
fn a_file_offset_with_a_foreign_mapping_is_refused() {
    let fake = fake();
    let file = FileOffset::from_arc(fake.privcmd().arc().clone(), 0x1000);
    let range = MmapRange::new(page(), Some(file), GuestAddress(0), 1, DOMID);
    let err = MmapRegion::<()>::from_range_with_device(range, fake.device()).unwrap_err();
    assert!(
        matches!(
            err,
            MmapRegionError::Xen(XenError::FileOffsetNotZero {
                kind: MappingKind::Foreign,
                offset: 0x1000
            })
        ),
        "{err}"
    );
    assert!(fake.calls().is_empty());
}

#[test]
fn a_region_size_that_is_not_whole_pages_is_refused() {
    let fake = fake();
    for flags in [
        MmapXenFlags::FOREIGN,
        MmapXenFlags::GRANT,
        MmapXenFlags::GRANT | MmapXenFlags::NO_ADVANCE_MAP,
    ] {
        let file = if flags.is_foreign() {
            fake.privcmd()
        } else {
            fake.gntdev()
        };
        let range = MmapRange::new(
            page() + 0x200,
            Some(file),
            GuestAddress(0),
            flags.bits(),
            DOMID,
        );
        let err = MmapRegion::<()>::from_range_with_device(range, fake.device()).unwrap_err();
        assert!(
            matches!(err, MmapRegionError::Xen(XenError::UnalignedSize { size, .. }) if size == page() + 0x200),
            "{flags:?}: {err}"
        );
        assert!(
            err.source()
                .unwrap()
                .to_string()
                .contains("not a multiple of the page size")
        );
    }
    assert!(fake.calls().is_empty());
}

#[test]
fn a_xen_range_without_its_device_file_is_refused() {
    let range = MmapRange::new(
        page(),
        None,
        GuestAddress(0),
        MmapXenFlags::GRANT.bits(),
        DOMID,
    );
    let err = MmapRegion::<()>::from_range(range).unwrap_err();
    assert!(matches!(
        err,
        MmapRegionError::Xen(XenError::MissingDeviceFile(MappingKind::Grant))
    ));
}

#[test]
fn the_real_device_path_reports_a_file_that_is_not_privcmd() {
    // `from_range` makes real system calls: a memfd is not /dev/xen/privcmd, so the batch ioctl
    // fails (ENOTTY) and the error says which call failed.
    let fake = fake();
    let not_privcmd = FileOffset::from_arc(fake.gntdev().arc().clone(), 0);
    let range = MmapRange::new(page(), Some(not_privcmd), GuestAddress(0), 1, DOMID);
    let err = MmapRegion::<()>::from_range(range).unwrap_err();
    assert!(
        matches!(err, MmapRegionError::Xen(XenError::PrivcmdMmapBatch { .. })),
        "{err}: {:?}",
        err.source()
    );
    assert_eq!(err.raw_os_error(), Some(libc::ENOTTY));
}
