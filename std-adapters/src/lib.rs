//! Guest memory for virtual machine monitors: a drop-in replacement for rust-vmm's `vm-memory`
//! 0.18, built on the `no_std` core `vm-memory-core`.
//!
//! Everything that does not need the operating system (addresses, [`Bytes`], volatile access,
//! regions, guest memory, dirty bitmaps, hot swap) comes from the core and is re-exported here
//! under vm-memory's module paths and root names, so `use vm_memory::...` lines written for
//! vm-memory 0.18 keep compiling. This crate adds the [`mmap`] module (feature `backend-mmap`):
//! regions mapped into the process with `mmap(2)` on Unix and `VirtualAlloc`/`MapViewOfFile` on
//! Windows, and on Linux guest memory backed by a sealed memfd, hugetlb pages of a chosen size,
//! transparent huge pages, and optional guard pages.
//!
//! No Rust reference into guest memory is ever formed from safe code: the guest may change that
//! memory at any time, so it is only read and written through volatile and atomic accesses.
//!
//! # Features
//!
//! | feature | adds |
//! |---|---|
//! | `rawfd` (default) | `ReadVolatile`/`WriteVolatile` for files, sockets and fds (Unix) |
//! | `backend-mmap` (alias `mmap`) | the [`mmap`] module and [`GuestMemoryMmap`] |
//! | `backend-bitmap` | [`bitmap::AtomicBitmap`], [`bitmap::RefSlice`], [`bitmap::ArcSlice`] |
//! | `backend-atomic` | the [`atomic`] module: [`GuestMemoryAtomic`] |
//! | `iommu` | the [`iommu`] module: [`Iommu`], [`Iotlb`], [`IommuMemory`] |
//! | `xen` | Xen foreign and grant regions next to Unix ones (Linux, crate `vm-memory-xen`); implies `backend-mmap` |
//!
//! Every feature only adds items. Unlike vm-memory, `rawfd` is not an error on Windows (it adds
//! nothing there) and the crate builds on 32-bit hosts.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "backend-mmap")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};
//!
//! let mem: GuestMemoryMmap = GuestMemoryMmap::from_ranges(&[
//!     (GuestAddress(0), 0x1000),
//!     (GuestAddress(0x1000), 0x1000),
//! ])?;
//! mem.write_slice(b"hello", GuestAddress(0xffc))?; // crosses into the second region
//! let mut buf = [0u8; 5];
//! mem.read_slice(&mut buf, GuestAddress(0xffc))?;
//! assert_eq!(&buf, b"hello");
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "backend-mmap"))]
//! # fn main() {}
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod bitmap;
pub mod endian;
#[cfg(all(feature = "backend-mmap", any(unix, windows)))]
pub mod mmap;

#[cfg(feature = "backend-atomic")]
pub use vm_memory_core::atomic;
pub use vm_memory_core::{address, bytes, guest_memory, io, region, volatile_memory};

/// I/O virtual address translation: guest memory seen through an IOMMU.
#[cfg(feature = "iommu")]
pub mod iommu {
    pub use vm_memory_core::iommu::{
        Error, Iommu, IommuMemory, IommuMemorySliceIterator, Iotlb, IotlbEntry, IotlbFails,
        IotlbIterator, IovaRange, MappedRange,
    };
}
#[cfg(feature = "iommu")]
pub use iommu::{Iommu, IommuMemory, Iotlb};

pub use vm_memory_core::{
    Address, AddressValue, AtomicAccess, AtomicInteger, Be16, Be32, Be64, BeSize, ByteValued,
    Bytes, FileOffset, GuestAddress, GuestAddressSpace, GuestMemory, GuestMemoryBackend,
    GuestMemoryError, GuestMemoryRegion, GuestMemoryRegionBytes, GuestMemoryResult,
    GuestRegionCollection, GuestRegionCollectionError, GuestUsize, Le16, Le32, Le64, LeSize,
    MemoryRegionAddress, Permissions, ReadVolatile, VolatileArrayRef, VolatileMemory,
    VolatileMemoryError, VolatileMemoryResult, VolatileRef, VolatileSlice, WriteVolatile,
};

#[cfg(feature = "backend-atomic")]
pub use vm_memory_core::{GuestMemoryAtomic, GuestMemoryLoadGuard};

#[cfg(all(feature = "backend-mmap", any(unix, windows)))]
pub use mmap::{GuestMemoryMmap, GuestRegionMmap, MmapRegion};
#[cfg(all(feature = "xen", target_os = "linux"))]
pub use mmap::{MmapRange, MmapXenFlags};
