//! Unix mappings (no Xen flag) through the device.

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use vm_memory_core::{Bytes, FileOffset, GuestAddress, VolatileMemory};
use vm_memory_xen::test_utils::{Call, Op, Target};
use vm_memory_xen::{Error, MmapRange, MmapXenFlags, XenMapping};

use crate::common::{fake, page};

fn temp_file(len: usize) -> File {
    let mut file = tempfile();
    file.write_all(&vec![0xa5; len]).unwrap();
    file
}

/// An unlinked file in the temporary directory.
fn tempfile() -> File {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "vm-memory-xen-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    file
}

#[test]
fn anonymous_unix_range_is_one_private_mmap_undone_on_drop() {
    let fake = fake();
    let range = MmapRange::new_unix(2 * page(), None, GuestAddress(0x10_0000));
    let mapping = XenMapping::with_device(&range, fake.device()).unwrap();
    assert_eq!(mapping.xen_flags(), MmapXenFlags::UNIX);
    assert!(mapping.lazy_mapping().is_none() && !mapping.as_ptr().is_null());
    mapping
        .as_volatile_slice()
        .write_obj(0x55aa_u16, 0x1ffe)
        .unwrap();
    assert_eq!(
        mapping.as_volatile_slice().read_obj::<u16>(0x1ffe).unwrap(),
        0x55aa
    );
    let calls = fake.calls();
    assert!(
        matches!(
            calls.as_slice(),
            [Call::Mmap { len, prot, flags, target: Target::Anonymous, offset: 0, result: Ok(_) }]
                if *len == 2 * page()
                && *prot == libc::PROT_READ | libc::PROT_WRITE
                && *flags == libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_PRIVATE
        ),
        "{calls:#?}"
    );
    drop(mapping);
    fake.assert_balanced();
}

#[test]
fn file_backed_unix_range_maps_the_file_at_its_offset() {
    let fake = fake();
    let file = temp_file(3 * page());
    let range = MmapRange::new_unix(
        page(),
        Some(FileOffset::new(file, page() as u64)),
        GuestAddress(0),
    );
    let mapping = XenMapping::with_device(&range, fake.device()).unwrap();
    assert_eq!(mapping.as_volatile_slice().read_obj::<u8>(7).unwrap(), 0xa5);
    assert_eq!(mapping.flags(), libc::MAP_NORESERVE | libc::MAP_SHARED);
    assert!(matches!(
        fake.calls().as_slice(),
        [Call::Mmap { target: Target::OtherFile, offset, .. }] if *offset == page() as u64
    ));
    drop(mapping);
    fake.assert_balanced();
}

#[test]
fn unix_range_past_the_end_of_its_file_is_refused_before_mapping() {
    let fake = fake();
    let range = MmapRange::new_unix(
        2 * page(),
        Some(FileOffset::new(temp_file(page()), 0)),
        GuestAddress(0),
    );
    let err = XenMapping::with_device(&range, fake.device()).unwrap_err();
    assert!(matches!(err, Error::MappingPastEof), "{err}");
    assert!(fake.calls().is_empty());
}

#[test]
fn unix_range_whose_offset_plus_size_overflows_is_refused() {
    let fake = fake();
    let range = MmapRange::new_unix(
        page(),
        Some(FileOffset::new(temp_file(page()), u64::MAX - 1)),
        GuestAddress(0),
    );
    let err = XenMapping::with_device(&range, fake.device()).unwrap_err();
    assert!(matches!(err, Error::InvalidOffsetLength), "{err}");
}

#[test]
fn empty_unix_range_is_refused() {
    let fake = fake();
    let range = MmapRange::new_unix(0, None, GuestAddress(0));
    let err = XenMapping::with_device(&range, fake.device()).unwrap_err();
    assert!(matches!(err, Error::EmptyRegion), "{err}");
    assert!(fake.calls().is_empty());
}

#[test]
fn map_fixed_is_refused_for_every_kind() {
    let fake = fake();
    for bits in [0x0, 0x1, 0x2, 0xa] {
        let file = (bits & 1 != 0)
            .then(|| fake.privcmd())
            .or((bits & 2 != 0).then(|| fake.gntdev()));
        let mut range = MmapRange::new(page(), file, GuestAddress(0), bits, 1);
        range.set_flags(libc::MAP_FIXED | libc::MAP_SHARED);
        let err = XenMapping::with_device(&range, fake.device()).unwrap_err();
        assert!(matches!(err, Error::MapFixed), "{bits:#x}: {err}");
    }
    assert!(fake.calls().is_empty());
}

#[test]
fn failed_unix_mmap_reports_the_errno() {
    let fake = fake();
    fake.fail_next(Op::Mmap(Target::Anonymous), libc::ENOMEM);
    let err = XenMapping::with_device(
        &MmapRange::new_unix(page(), None, GuestAddress(0)),
        fake.device(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Mmap { .. }), "{err}");
    assert_eq!(err.raw_os_error(), Some(libc::ENOMEM));
    fake.assert_balanced();
}
