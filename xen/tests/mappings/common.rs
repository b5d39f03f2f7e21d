//! Helpers shared by the tests.

use std::sync::Arc;

use vm_memory_core::GuestAddress;
use vm_memory_xen::test_utils::{Call, FakeXenDevice, Target};
use vm_memory_xen::{MmapRange, MmapXenFlags, XenMapping};

/// Frames (and grant references) of the fake domain.
pub const FRAMES: u64 = 64;

/// A fake host with [`FRAMES`] frames.
pub fn fake() -> Arc<FakeXenDevice> {
    FakeXenDevice::new(FRAMES)
}

/// The host page size.
pub fn page() -> usize {
    vm_memory_xen::sys::page_size()
}

/// A grant range of `pages` pages whose first grant reference is `first_ref`, of domain `domid`.
pub fn grant_range(fake: &FakeXenDevice, first_ref: u64, pages: usize, lazy: bool) -> MmapRange {
    let mut flags = MmapXenFlags::GRANT;
    if lazy {
        flags |= MmapXenFlags::NO_ADVANCE_MAP;
    }
    MmapRange::new(
        pages * page(),
        Some(fake.gntdev()),
        GuestAddress(first_ref * page() as u64),
        flags.bits(),
        DOMID,
    )
}

/// A foreign range of `pages` pages from frame `first_frame`.
pub fn foreign_range(fake: &FakeXenDevice, first_frame: u64, pages: usize) -> MmapRange {
    MmapRange::new(
        pages * page(),
        Some(fake.privcmd()),
        GuestAddress(first_frame * page() as u64),
        MmapXenFlags::FOREIGN.bits(),
        DOMID,
    )
}

/// The domain id the helpers use.
pub const DOMID: u32 = 5;

/// A lazily mapped grant region of `pages` pages from grant `first_ref`.
pub fn lazy_grants(fake: &Arc<FakeXenDevice>, first_ref: u64, pages: usize) -> XenMapping {
    XenMapping::with_device(&grant_range(fake, first_ref, pages, true), fake.device()).unwrap()
}

/// The domain memory at `addr`, `len` bytes.
pub fn memory(fake: &FakeXenDevice, addr: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    fake.read_memory(addr, &mut buf);
    buf
}

/// One per-access grant mapping as the calls show it: the grants mapped, the protection, and
/// whether the calls came in the order map ioctl, mmap at the index, munmap, unmap ioctl.
#[derive(Debug, PartialEq, Eq)]
pub struct Window {
    /// The grant references mapped.
    pub refs: Vec<u32>,
    /// The `mmap` protection.
    pub prot: i32,
}

/// Splits recorded calls into per-access windows, checking each window's four calls: map ioctl
/// with the domain id, `mmap` of the gntdev at the returned index for exactly the grants,
/// `munmap` of that mapping, and the unmap ioctl of the same index and count.
pub fn windows(calls: &[Call]) -> Vec<Window> {
    assert_eq!(calls.len() % 4, 0, "calls come in fours: {calls:#?}");
    calls
        .chunks(4)
        .map(|c| match c {
            [
                Call::MapGrantRef {
                    count,
                    refs,
                    result: Ok(index),
                },
                Call::Mmap {
                    len,
                    prot,
                    target: Target::Gntdev,
                    offset,
                    result: Ok(addr),
                    ..
                },
                Call::Munmap {
                    addr: unmapped,
                    len: unmapped_len,
                    result: Ok(()),
                },
                Call::UnmapGrantRef {
                    index: released,
                    count: released_count,
                    result: Ok(()),
                },
            ] => {
                assert_eq!(*count as usize, refs.len());
                assert!(refs.iter().all(|r| r.domid == DOMID), "{refs:?}");
                assert_eq!((offset, *len), (index, refs.len() * page()));
                assert_eq!((unmapped, unmapped_len), (addr, len));
                assert_eq!((released, released_count), (index, count));
                Window {
                    refs: refs.iter().map(|r| r.r#ref).collect(),
                    prot: *prot,
                }
            }
            other => panic!("not a map/mmap/munmap/unmap window: {other:#?}"),
        })
        .collect()
}

/// Read-only protection of a read access.
pub const READ: i32 = libc::PROT_READ;
/// Read-write protection of a write access.
pub const WRITE: i32 = libc::PROT_READ | libc::PROT_WRITE;

/// A window of grants `refs` with protection `prot`.
pub fn window(refs: impl IntoIterator<Item = u32>, prot: i32) -> Window {
    Window {
        refs: refs.into_iter().collect(),
        prot,
    }
}
