//! Xen regions in the std face (feature `xen`, Linux): `MmapRegion::from_range`, its Xen
//! accessors, and Unix and Xen regions in one `GuestMemoryMmap`. Foreign and grant regions are
//! driven through `vm_memory_xen::test_utils::FakeXenDevice`. Miri supports neither memfds nor
//! `MAP_FIXED`.

#![cfg(all(feature = "xen", target_os = "linux", not(miri)))]

mod errors;
mod mixed;
mod regions;

use std::sync::Arc;

use vm_memory::mmap::{MmapRange, MmapRegion, MmapXenFlags};
use vm_memory::{GuestAddress, GuestRegionMmap};
use vm_memory_xen::test_utils::FakeXenDevice;

/// The domain the tests map.
pub const DOMID: u32 = 3;

/// The host page size.
pub fn page() -> usize {
    vm_memory_xen::sys::page_size()
}

/// A fake Xen host with 64 frames.
pub fn fake() -> Arc<FakeXenDevice> {
    FakeXenDevice::new(64)
}

/// A Xen range of `pages` pages at `addr` through the fake's device file for the flags.
pub fn xen_range(fake: &FakeXenDevice, flags: MmapXenFlags, addr: u64, pages: usize) -> MmapRange {
    let file = if flags.is_foreign() {
        fake.privcmd()
    } else {
        fake.gntdev()
    };
    MmapRange::new(
        pages * page(),
        Some(file),
        GuestAddress(addr),
        flags.bits(),
        DOMID,
    )
}

/// A guest region for a Xen range, at the range's guest address.
pub fn xen_region<B: vm_memory::bitmap::NewBitmap>(
    fake: &Arc<FakeXenDevice>,
    flags: MmapXenFlags,
    addr: u64,
    pages: usize,
) -> GuestRegionMmap<B> {
    let range = xen_range(fake, flags, addr, pages);
    let region = MmapRegion::from_range_with_device(range, fake.device()).unwrap();
    GuestRegionMmap::new(region, GuestAddress(addr)).unwrap()
}
