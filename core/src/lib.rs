//! The `no_std` core of a guest-memory library for virtual machine monitors and firmware.
//!
//! It describes a guest's physical memory as regions, and reads and writes it without ever
//! forming Rust references into memory that the guest can change under us:
//!
//! - addresses: [`GuestAddress`], [`MemoryRegionAddress`] and checked [`Address`] arithmetic;
//! - values: [`ByteValued`] plain data, the endian types, and the [`Bytes`] access trait;
//! - volatile access: [`VolatileSlice`], [`VolatileRef`], [`VolatileArrayRef`], guarded raw
//!   pointers, and the hook for backends that map memory per access ([`LazyMapping`]);
//! - I/O without bounce buffers: [`ReadVolatile`] and [`WriteVolatile`];
//! - dirty tracking: the [`bitmap`] traits and, with `alloc`, [`bitmap::AtomicBitmap`];
//! - regions and guest memory: [`GuestMemoryRegion`], [`RawRegion`], the allocation-free
//!   [`RegionTable`], [`GuestRegionCollection`] (`alloc`), [`GuestMemoryBackend`] and the
//!   permission-aware [`GuestMemory`] with `Bytes<GuestAddress>` across regions;
//! - hot swap: [`atomic::GuestMemoryAtomic`] (`alloc`) with a lock-free read side;
//! - I/O virtual addresses: [`iommu`] (`alloc`), guest memory seen through an IOMMU.
//!
//! The API follows rust-vmm's `vm-memory` 0.18; the std crate `vm-memory` re-exports it under
//! upstream's paths and adds mmap-backed regions.
//!
//! # Features
//!
//! - `alloc`: the `Vec`/`Arc` based types.
//! - `std`: `std::io` endpoints and `std::io::Error` inside the error types.
//! - `rawfd`: `ReadVolatile`/`WriteVolatile` for file descriptors (Unix).
//!
//! Every feature only adds items; none changes what an existing item means.
//!
//! # Example: firmware RAM without an allocator
//!
//! ```
//! use vm_memory_core::{Bytes, GuestAddress, RawRegion, RegionTable};
//!
//! let mut low = [0u64; 512];
//! let mut high = [0u64; 512];
//! // SAFETY: both arrays outlive `ram` and are only accessed through it.
//! let ram: RegionTable<_, 2> = unsafe {
//!     RegionTable::from_raw_regions([
//!         RawRegion::new(low.as_mut_ptr().cast(), 4096, GuestAddress(0)).unwrap(),
//!         RawRegion::new(high.as_mut_ptr().cast(), 4096, GuestAddress(0x1000)).unwrap(),
//!     ])
//! };
//! ram.write_slice(b"hello", GuestAddress(0xffc)).unwrap(); // crosses into the second region
//! let mut buf = [0u8; 5];
//! ram.read_slice(&mut buf, GuestAddress(0xffc)).unwrap();
//! assert_eq!(&buf, b"hello");
//! ```

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]
// Tests run on the host with std on purpose.
#![cfg_attr(
    test,
    allow(clippy::std_instead_of_core, clippy::alloc_instead_of_core)
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod address;
#[cfg(feature = "alloc")]
pub mod atomic;
pub mod bitmap;
pub mod bytes;
pub mod guest_memory;
pub mod io;
#[cfg(feature = "alloc")]
pub mod iommu;
pub mod region;
mod sync;
pub mod volatile;

/// vm-memory 0.18's name for the [`volatile`] module.
pub use volatile as volatile_memory;

pub use address::{Address, AddressValue, GuestAddress, GuestUsize, MemoryRegionAddress};
#[cfg(feature = "alloc")]
pub use atomic::{GuestMemoryAtomic, GuestMemoryLoadGuard};
pub use bytes::{
    AtomicAccess, AtomicInteger, Be16, Be32, Be64, BeSize, ByteValued, Bytes, Le16, Le32, Le64,
    LeSize,
};
pub use guest_memory::{
    FileOffset, GuestAddressSpace, GuestMemory, GuestMemoryBackend, GuestMemoryError,
    GuestMemoryResult, GuestMemorySliceIterator, Permissions,
};
pub use io::{ReadVolatile, WriteVolatile};
#[cfg(feature = "alloc")]
pub use iommu::{Iommu, IommuMemory, Iotlb};
#[cfg(feature = "alloc")]
pub use region::GuestRegionCollection;
pub use region::{
    GuestMemoryRegion, GuestMemoryRegionBytes, GuestRegionCollectionError, RawRegion, RegionTable,
};
pub use volatile::{
    LazyMapping, VolatileArrayRef, VolatileMemory, VolatileMemoryError, VolatileMemoryResult,
    VolatileRef, VolatileSlice,
};
