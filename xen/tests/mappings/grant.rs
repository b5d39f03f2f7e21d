//! Grant mappings made in advance, through the fake gntdev.

use vm_memory_core::{Bytes, GuestAddress, VolatileMemory};
use vm_memory_xen::test_utils::{Call, Op, Target};
use vm_memory_xen::{
    Error, GRANT_ADDR_BIT, MappingKind, MmapRange, MmapXenFlags, XenMapping, grant_ref,
};

use crate::common::{DOMID, WRITE, fake, grant_range, memory, page, window, windows};

#[test]
fn advance_grants_are_mapped_once_and_released_after_munmap_on_drop() {
    let fake = fake();
    let p = page() as u64;
    fake.write_memory(7 * p, b"granted");
    let mapping = XenMapping::with_device(&grant_range(&fake, 6, 3, false), fake.device()).unwrap();
    assert!(mapping.xen_flags().is_grant() && mapping.xen_flags().mmap_in_advance());
    assert!(mapping.lazy_mapping().is_none() && !mapping.as_ptr().is_null());

    let slice = mapping.as_volatile_slice();
    let mut buf = [0u8; 7];
    slice.read_slice(&mut buf, page()).unwrap();
    assert_eq!(&buf, b"granted");
    slice.write_obj(0x1234_5678_u32, 2 * page() + 12).unwrap();
    assert_eq!(memory(&fake, 8 * p + 12, 4), 0x1234_5678_u32.to_ne_bytes());
    // Nothing more happens per access.
    assert_eq!(fake.calls().len(), 2);

    drop(mapping);
    assert_eq!(windows(&fake.take_calls()), [window([6, 7, 8], WRITE)]);
    fake.assert_balanced();
}

#[test]
fn grant_references_come_from_the_guest_address_without_bit_63() {
    let fake = fake();
    let p = page() as u64;
    assert_eq!(grant_ref(GRANT_ADDR_BIT | (40 * p), page()), Some(40));
    let range = MmapRange::new(
        2 * page(),
        Some(fake.gntdev()),
        GuestAddress(GRANT_ADDR_BIT | (40 * p)),
        MmapXenFlags::GRANT.bits(),
        DOMID,
    );
    let mapping = XenMapping::with_device(&range, fake.device()).unwrap();
    assert!(matches!(
        fake.calls().first(),
        Some(Call::MapGrantRef { count: 2, refs, .. })
            if refs.iter().map(|r| (r.domid, r.r#ref)).eq([(DOMID, 40), (DOMID, 41)])
    ));
    drop(mapping);
    fake.assert_balanced();
}

#[test]
fn failed_map_ioctl_maps_nothing() {
    let fake = fake();
    fake.fail_next(Op::MapGrantRef, libc::ENOSPC);
    let err = XenMapping::with_device(&grant_range(&fake, 0, 2, false), fake.device()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::GntdevMapGrantRef {
                domid: DOMID,
                first_ref: 0,
                count: 2,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
    assert_eq!(fake.calls().len(), 1);
    fake.assert_balanced();
}

#[test]
fn failed_gntdev_mmap_releases_the_grants() {
    let fake = fake();
    fake.fail_next(Op::Mmap(Target::Gntdev), libc::ENOMEM);
    let err = XenMapping::with_device(&grant_range(&fake, 3, 2, false), fake.device()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Mmap {
                kind: MappingKind::Grant,
                ..
            }
        ),
        "{err}"
    );
    let calls = fake.calls();
    assert!(
        matches!(
            calls.as_slice(),
            [
                Call::MapGrantRef { result: Ok(index), .. },
                Call::Mmap { result: Err(libc::ENOMEM), .. },
                Call::UnmapGrantRef { index: released, count: 2, result: Ok(()) },
            ] if index == released
        ),
        "{calls:#?}"
    );
    fake.assert_balanced();
}

#[test]
fn grants_the_domain_does_not_have_fail_the_mapping() {
    let fake = fake();
    let err =
        XenMapping::with_device(&grant_range(&fake, 63, 2, false), fake.device()).unwrap_err();
    assert!(matches!(err, Error::GntdevMapGrantRef { .. }), "{err}");
    fake.assert_balanced();
}

#[test]
fn grant_references_that_do_not_fit_32_bits_are_refused() {
    let fake = fake();
    let p = page() as u64;
    for (first_page, pages) in [(1u64 << 32, 1), (u64::from(u32::MAX), 2)] {
        for lazy in [false, true] {
            let flags = if lazy { 0xa } else { 0x2 };
            let range = MmapRange::new(
                pages * page(),
                Some(fake.gntdev()),
                GuestAddress(GRANT_ADDR_BIT | (first_page * p)),
                flags,
                DOMID,
            );
            let err = XenMapping::with_device(&range, fake.device()).unwrap_err();
            assert!(
                matches!(err, Error::GrantRefOverflow { .. }),
                "{first_page:#x}: {err}"
            );
        }
    }
    assert!(fake.calls().is_empty());
}

#[test]
fn grant_ranges_need_the_gntdev_file_at_offset_zero_and_whole_pages() {
    let fake = fake();
    let no_file = MmapRange::new(page(), None, GuestAddress(0), 0x2, DOMID);
    let err = XenMapping::with_device(&no_file, fake.device()).unwrap_err();
    assert!(
        matches!(err, Error::MissingDeviceFile(MappingKind::Grant)),
        "{err}"
    );

    let offset = vm_memory_core::FileOffset::from_arc(fake.gntdev().arc().clone(), 8);
    let with_offset = MmapRange::new(page(), Some(offset), GuestAddress(0), 0xa, DOMID);
    let err = XenMapping::with_device(&with_offset, fake.device()).unwrap_err();
    assert!(
        matches!(err, Error::FileOffsetNotZero { offset: 8, .. }),
        "{err}"
    );

    for size in [1, page() - 1, page() + 1] {
        let unaligned = MmapRange::new(size, Some(fake.gntdev()), GuestAddress(0), 0xa, DOMID);
        let err = XenMapping::with_device(&unaligned, fake.device()).unwrap_err();
        assert!(
            matches!(err, Error::UnalignedSize { kind: MappingKind::Grant, size: s, .. } if s == size),
            "{size:#x}: {err}"
        );
    }
    assert!(fake.calls().is_empty());
}

#[test]
fn error_messages_name_what_failed() {
    let fake = fake();
    let range = MmapRange::new(page() + 1, Some(fake.gntdev()), GuestAddress(0), 0x2, DOMID);
    let err = XenMapping::with_device(&range, fake.device()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("grant") && text.contains("page size"),
        "{text}"
    );
    let err = XenMapping::with_device(
        &MmapRange::new(page(), None, GuestAddress(0), 0x9, 0),
        fake.device(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "invalid Xen mmap flags 0x9");
}
