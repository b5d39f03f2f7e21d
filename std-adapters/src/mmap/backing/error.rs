//! `BackingError`: why [`MemoryBacking`](super::MemoryBacking) could not build guest memory.

use std::io;

use vm_memory_core::GuestRegionCollectionError;

use crate::mmap::hugetlb::HugePageSize;
use crate::mmap::memfd::MemfdError;
use crate::mmap::thp::ThpMode;

/// Why [`MemoryBacking`](super::MemoryBacking) could not build guest memory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackingError {
    /// A range has size 0.
    #[error("the guest memory range at {addr:#x} is empty")]
    EmptyRegion {
        /// The range's guest address.
        addr: u64,
    },
    /// A range ends past the guest address space.
    #[error("the guest memory range at {addr:#x} of {size:#x} bytes ends past 2^64")]
    InvalidGuestRegion {
        /// The range's guest address.
        addr: u64,
        /// The range's size.
        size: usize,
    },
    /// The ranges add up to more than a memfd or the address space can hold.
    #[error("the guest memory ranges are too large to back")]
    TooLarge,
    /// The host does not support hugetlb pages of this size.
    #[error("this host does not support {page_size} hugetlb pages")]
    HugePageSizeUnsupported {
        /// The requested page size.
        page_size: HugePageSize,
    },
    /// A range's size is not a multiple of the hugetlb page size.
    #[error("size {size:#x} is not a multiple of the {page_size} hugetlb page size")]
    UnalignedSize {
        /// The range's size.
        size: usize,
        /// The hugetlb page size.
        page_size: HugePageSize,
    },
    /// The host's hugetlb pool cannot back the region.
    #[error(
        "not enough {page_size} hugetlb pages: {needed} needed, {available} available \
         (reserve more in /sys/kernel/mm/hugepages)"
    )]
    HugePagesExhausted {
        /// The hugetlb page size.
        page_size: HugePageSize,
        /// Pages the region needs.
        needed: u64,
        /// Pages that were free and unreserved after the failure.
        available: u64,
    },
    /// The kernel has no transparent-huge-page support.
    #[error("this kernel has no transparent huge page support")]
    ThpUnsupported(#[source] io::Error),
    /// The host's THP policy ignores `MADV_HUGEPAGE`.
    #[error("transparent huge pages are disabled on this host: {setting} is {mode:?}")]
    ThpDisabled {
        /// The sysfs file holding the policy.
        setting: &'static str,
        /// The policy.
        mode: ThpMode,
    },
    /// `madvise(MADV_HUGEPAGE)` failed.
    #[error("madvise(MADV_HUGEPAGE) failed")]
    Madvise(#[source] io::Error),
    /// The memfd could not be created.
    #[error(transparent)]
    Memfd(#[from] MemfdError),
    /// Mapping the memory failed.
    #[error("mmap failed")]
    Mmap(#[source] io::Error),
    /// The ranges do not form a valid guest memory layout.
    #[error("invalid guest memory layout")]
    Collection(#[from] GuestRegionCollectionError),
}
