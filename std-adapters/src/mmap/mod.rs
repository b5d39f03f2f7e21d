//! Guest memory mapped into this process (feature `backend-mmap`).
//!
//! - [`MmapRegion`]: one mapping. On Unix it comes from `mmap(2)` (anonymous or a file range,
//!   with every knob in [`MmapRegionBuilder`]); on Windows from `VirtualAlloc` or a view of a
//!   file mapping.
//! - [`GuestRegionMmap`]: a mapping placed at a guest physical address.
//! - [`GuestMemoryMmap`]: the guest's memory as a collection of such regions, built with
//!   `from_ranges` / `from_ranges_with_files`.
//!
//! On Linux, [`MemoryBacking`] builds guest memory the way production VMMs want it: one sealed
//! memfd shared with other processes ([`Memfd`]), hugetlb pages of a chosen size
//! ([`HugePageSize`]), a transparent-huge-page hint, and `PROT_NONE` guard pages around each
//! region. Each option fails with a clear error when the host cannot provide it.
//!
//! With the `xen` feature (Linux), `MmapRegion::from_range` maps an `MmapRange` as ordinary
//! memory, Xen foreign memory or Xen grants, and one [`GuestMemoryMmap`] holds all of them.

#[cfg(target_os = "linux")]
mod backing;
#[cfg(target_os = "linux")]
mod guard;
mod guest_region;
#[cfg(target_os = "linux")]
mod hugetlb;
#[cfg(target_os = "linux")]
mod memfd;
#[cfg(target_os = "linux")]
mod thp;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

pub use guest_region::GuestRegionMmap;
/// Re-exported here for vm-memory 0.17 and older, where it lived in this module.
pub use vm_memory_core::bitmap::NewBitmap;

#[cfg(target_os = "linux")]
pub use backing::{BackingError, MemoryBacking};
#[cfg(target_os = "linux")]
pub use hugetlb::HugePageSize;
#[cfg(target_os = "linux")]
pub use memfd::{Memfd, MemfdError};
/// Why a Windows mapping could not be created (vm-memory 0.18 uses `std::io::Error` here).
#[cfg(windows)]
pub use std::io::Error as MmapRegionError;
#[cfg(target_os = "linux")]
pub use thp::{ThpMode, thp_mode};
#[cfg(unix)]
pub use unix::{MmapRegion, MmapRegionBuilder, MmapRegionError};
/// Xen mappings (feature `xen`, Linux): the range and flags of `MmapRegion::from_range`, and the
/// device trait through which foreign and grant mappings make their system calls.
#[cfg(all(feature = "xen", target_os = "linux"))]
#[cfg_attr(docsrs, doc(cfg(feature = "xen")))]
pub use vm_memory_xen::{MmapRange, MmapXenFlags, SystemDevice, XenDevice};
#[cfg(windows)]
pub use windows::MmapRegion;

use vm_memory_core::GuestRegionCollection;

/// The guest's memory as a collection of [`GuestRegionMmap`]s.
///
/// ```
/// use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};
///
/// let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0x1000), 0x1000)]).unwrap();
/// mem.write_obj(0x1234_u16, GuestAddress(0x1ffe)).unwrap();
/// assert_eq!(mem.read_obj::<u16>(GuestAddress(0x1ffe)).unwrap(), 0x1234);
/// assert!(mem.write_obj(0u16, GuestAddress(0x1fff)).is_err()); // one byte past the end
/// assert_eq!(mem.last_addr(), GuestAddress(0x1fff));
/// ```
pub type GuestMemoryMmap<B = ()> = GuestRegionCollection<GuestRegionMmap<B>>;

/// Why [`GuestMemoryMmap::from_ranges`] or [`GuestRegionMmap::from_range`] failed.
pub type FromRangesError = vm_memory_core::region::FromRangesError<MmapRegionError>;

#[cfg(unix)]
impl From<MmapRegionError> for FromRangesError {
    fn from(e: MmapRegionError) -> Self {
        FromRangesError::MmapRegion(e)
    }
}
