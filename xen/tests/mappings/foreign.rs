//! Foreign mappings through the fake privcmd.

use vm_memory_core::{Bytes, FileOffset, GuestAddress, VolatileMemory};
use vm_memory_xen::test_utils::{Call, Op, Target};
use vm_memory_xen::{Error, MappingKind, MmapRange, MmapXenFlags, XenMapping};

use crate::common::{DOMID, fake, foreign_range, memory, page};

#[test]
fn foreign_range_is_mapped_whole_with_one_batch_of_its_frames() {
    let fake = fake();
    let p = page() as u64;
    fake.write_memory(10 * p + 4, &[1, 2, 3, 4]);
    let mapping = XenMapping::with_device(&foreign_range(&fake, 10, 3), fake.device()).unwrap();
    assert_eq!(mapping.xen_flags(), MmapXenFlags::FOREIGN);
    assert_eq!(mapping.mmap_data(), DOMID);
    assert!(mapping.lazy_mapping().is_none());

    let calls = fake.take_calls();
    let [
        Call::Mmap {
            len,
            prot,
            flags,
            target: Target::Privcmd,
            offset: 0,
            result: Ok(addr),
        },
        Call::MmapBatchV2 {
            num: 3,
            domid,
            addr: batch_addr,
            frames,
            errors,
            result: Ok(()),
        },
    ] = calls.as_slice()
    else {
        panic!("unexpected calls {calls:#?}");
    };
    assert_eq!(*len, 3 * page());
    assert_eq!(*prot, libc::PROT_READ | libc::PROT_WRITE);
    assert_eq!(*flags, libc::MAP_NORESERVE | libc::MAP_SHARED);
    assert_eq!(u32::from(*domid), DOMID);
    assert_eq!(
        *batch_addr, *addr as u64,
        "the batch fills the privcmd mapping"
    );
    assert_eq!(frames, &[10, 11, 12]);
    assert_eq!(errors, &[0, 0, 0]);
    assert_eq!(mapping.as_ptr().addr(), *addr);

    // The mapping shows the frames' contents and writes reach them.
    let slice = mapping.as_volatile_slice();
    assert_eq!(slice.read_obj::<[u8; 4]>(4).unwrap(), [1, 2, 3, 4]);
    slice.write_obj(0xdead_beef_u32, 2 * page() + 8).unwrap();
    assert_eq!(memory(&fake, 12 * p + 8, 4), 0xdead_beef_u32.to_ne_bytes());

    drop(mapping);
    assert!(matches!(
        fake.take_calls().as_slice(),
        [Call::Munmap { addr: a, len: l, result: Ok(()) }] if a == addr && *l == 3 * page()
    ));
    fake.assert_balanced();
}

#[test]
fn foreign_frame_refused_by_the_hypervisor_fails_the_mapping_and_unmaps() {
    let fake = fake();
    fake.fail_frame(21, libc::EFAULT);
    let err = XenMapping::with_device(&foreign_range(&fake, 20, 4), fake.device()).unwrap_err();
    match &err {
        Error::ForeignFrame {
            domid, page, pfn, ..
        } => {
            assert_eq!((u32::from(*domid), *page, *pfn), (DOMID, 1, 21));
        }
        other => panic!("{other}"),
    }
    assert_eq!(err.raw_os_error(), Some(libc::EFAULT));
    let calls = fake.calls();
    assert!(
        matches!(calls.last(), Some(Call::Munmap { result: Ok(()), .. })),
        "{calls:#?}"
    );
    fake.assert_balanced();
}

#[test]
fn foreign_frames_the_domain_does_not_have_fail_the_mapping() {
    let fake = fake();
    let err = XenMapping::with_device(&foreign_range(&fake, 62, 4), fake.device()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForeignFrame {
                page: 2,
                pfn: 64,
                ..
            }
        ),
        "{err}"
    );
    fake.assert_balanced();
}

#[test]
fn failed_batch_ioctl_unmaps_the_privcmd_mapping() {
    let fake = fake();
    fake.fail_next(Op::MmapBatchV2, libc::ENOENT);
    let err = XenMapping::with_device(&foreign_range(&fake, 0, 2), fake.device()).unwrap_err();
    assert!(
        matches!(err, Error::PrivcmdMmapBatch { pages: 2, .. }),
        "{err}"
    );
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    fake.assert_balanced();
}

#[test]
fn failed_privcmd_mmap_issues_no_ioctl() {
    let fake = fake();
    fake.fail_next(Op::Mmap(Target::Privcmd), libc::ENOMEM);
    let err = XenMapping::with_device(&foreign_range(&fake, 0, 2), fake.device()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Mmap {
                kind: MappingKind::Foreign,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(fake.calls().len(), 1, "only the failed mmap");
    fake.assert_balanced();
}

#[test]
fn foreign_range_without_the_privcmd_file_is_refused() {
    let fake = fake();
    let range = MmapRange::new(
        page(),
        None,
        GuestAddress(0),
        MmapXenFlags::FOREIGN.bits(),
        1,
    );
    let err = XenMapping::with_device(&range, fake.device()).unwrap_err();
    assert!(
        matches!(err, Error::MissingDeviceFile(MappingKind::Foreign)),
        "{err}"
    );
    assert!(fake.calls().is_empty());
}

#[test]
fn foreign_range_with_a_file_offset_is_refused() {
    let fake = fake();
    let file = FileOffset::from_arc(fake.privcmd().arc().clone(), page() as u64);
    let range = MmapRange::new(
        page(),
        Some(file),
        GuestAddress(0),
        MmapXenFlags::FOREIGN.bits(),
        1,
    );
    let err = XenMapping::with_device(&range, fake.device()).unwrap_err();
    assert!(
        matches!(err, Error::FileOffsetNotZero { kind: MappingKind::Foreign, offset } if offset == page() as u64),
        "{err}"
    );
    assert!(fake.calls().is_empty());
}

#[test]
fn foreign_range_that_is_not_whole_pages_is_refused() {
    let fake = fake();
    let mut range = foreign_range(&fake, 0, 1);
    range = MmapRange::new(
        page() + 0x400,
        range.into_file_offset(),
        GuestAddress(0),
        MmapXenFlags::FOREIGN.bits(),
        1,
    );
    let err = XenMapping::with_device(&range, fake.device()).unwrap_err();
    assert!(
        matches!(err, Error::UnalignedSize { kind: MappingKind::Foreign, size, .. } if size == page() + 0x400),
        "{err}"
    );
    assert!(fake.calls().is_empty());
}

#[test]
fn foreign_range_at_an_unaligned_guest_address_is_refused() {
    let fake = fake();
    let range = MmapRange::new(
        page(),
        Some(fake.privcmd()),
        GuestAddress(0x800),
        MmapXenFlags::FOREIGN.bits(),
        1,
    );
    let err = XenMapping::with_device(&range, fake.device()).unwrap_err();
    assert!(
        matches!(err, Error::UnalignedGuestAddress { addr: 0x800, .. }),
        "{err}"
    );
}

#[test]
fn foreign_domain_id_must_fit_sixteen_bits() {
    let fake = fake();
    let range = MmapRange::new(
        page(),
        Some(fake.privcmd()),
        GuestAddress(0),
        MmapXenFlags::FOREIGN.bits(),
        0x1_0000,
    );
    let err = XenMapping::with_device(&range, fake.device()).unwrap_err();
    assert!(matches!(err, Error::DomainIdTooLarge(0x1_0000)), "{err}");
    assert!(fake.calls().is_empty());
}

#[test]
fn empty_and_anonymous_foreign_ranges_are_refused() {
    let fake = fake();
    let empty = MmapRange::new(0, Some(fake.privcmd()), GuestAddress(0), 1, 1);
    let err = XenMapping::with_device(&empty, fake.device()).unwrap_err();
    assert!(matches!(err, Error::EmptyRegion), "{err}");
    let mut anonymous = foreign_range(&fake, 0, 1);
    anonymous.set_flags(libc::MAP_ANONYMOUS | libc::MAP_SHARED);
    let err = XenMapping::with_device(&anonymous, fake.device()).unwrap_err();
    assert!(
        matches!(err, Error::AnonymousDeviceMapping(MappingKind::Foreign)),
        "{err}"
    );
    assert!(fake.calls().is_empty());
}

#[test]
fn foreign_mapping_is_always_shared() {
    let fake = fake();
    let mut range = foreign_range(&fake, 0, 1);
    range.set_flags(libc::MAP_PRIVATE | libc::MAP_NORESERVE);
    let mapping = XenMapping::with_device(&range, fake.device()).unwrap();
    assert_eq!(mapping.flags(), libc::MAP_SHARED | libc::MAP_NORESERVE);
    assert!(matches!(
        fake.calls().first(),
        Some(Call::Mmap { flags, .. }) if *flags == libc::MAP_SHARED | libc::MAP_NORESERVE
    ));
    drop(mapping);
    fake.assert_balanced();
}
