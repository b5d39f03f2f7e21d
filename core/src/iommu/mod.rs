//! I/O virtual address (IOVA) translation: IOMMUs, their IOTLBs, and guest memory seen through
//! them (`alloc`).
//!
//! - [`Iommu`]: translates IOVA ranges for an access, consulting an [`Iotlb`] first and refilling
//!   it from the real IOMMU (for vhost-user: the front-end) on misses and permission failures.
//! - [`Iotlb`]: the cache, a byte-granular map from IOVAs to target addresses and
//!   [`Permissions`]. [`Iotlb::lookup`] returns the translated pieces
//!   ([`IotlbIterator`] of [`MappedRange`]s) or every miss and every permission failure
//!   ([`IotlbFails`]).
//! - [`IommuMemory`]: a [`GuestMemory`](crate::GuestMemory) whose addresses are IOVAs, over a
//!   [`GuestMemoryBackend`](crate::GuestMemoryBackend) of physical memory, with dirty tracking in
//!   IOVA space.
//!
//! Differences from vm-memory 0.18's `iommu` module:
//! - zero-length `set_mapping` and `invalidate_mapping` do nothing (vm-memory panics);
//! - a mapping whose IOVA or target range runs past `u64::MAX` is refused with
//!   [`Error::MappingOverflow`], lookups of such ranges fail, and `IommuMemory` reports
//!   `GuestAddressOverflow` for them (vm-memory wraps around);
//! - [`Error`] is `#[non_exhaustive]`;
//! - translation failures reach `GuestMemory` users as
//!   [`GuestMemoryError::IommuError`](crate::GuestMemoryError::IommuError), a variant that
//!   exists whenever `alloc` is on. vm-memory only has it with its `iommu` feature, so turning
//!   the feature on breaks exhaustive matches elsewhere in the build; here `GuestMemoryError` is
//!   `#[non_exhaustive]`, so every match already has a wildcard arm and no feature changes what
//!   it must cover;
//! - [`IommuMemory::set_iommu_enabled`] takes `&self`.
//!
//! # Example: a vhost-user style miss, refill and retry
//!
//! ```
//! use std::sync::{Mutex, RwLock, RwLockReadGuard};
//! use vm_memory_core::iommu::{Error, Iommu, IommuMemory, Iotlb, IotlbIterator, IovaRange};
//! use vm_memory_core::{Bytes, GuestAddress, Permissions, RawRegion, RegionTable};
//!
//! /// A back-end's view of the IOMMU: an IOTLB, refilled from the front-end on a miss.
//! #[derive(Debug, Default)]
//! struct BackendIommu {
//!     iotlb: RwLock<Iotlb>,
//!     /// Stands in for the front-end's answers to IOTLB miss messages.
//!     front_end: Mutex<Iotlb>,
//! }
//!
//! impl Iommu for BackendIommu {
//!     type IotlbGuard<'a> = RwLockReadGuard<'a, Iotlb>;
//!
//!     fn translate(
//!         &self,
//!         iova: GuestAddress,
//!         length: usize,
//!         access: Permissions,
//!     ) -> Result<IotlbIterator<Self::IotlbGuard<'_>>, Error> {
//!         if let Ok(hit) = Iotlb::lookup(self.iotlb.read().unwrap(), iova, length, access) {
//!             return Ok(hit);
//!         }
//!         // Miss: ask the front-end, refill, retry once.
//!         let front_end = self.front_end.lock().unwrap();
//!         let unresolved = || Error::CannotResolve {
//!             iova_range: IovaRange { base: iova, length },
//!             reason: "the front-end has no such mapping".into(),
//!         };
//!         let answer = Iotlb::lookup(&*front_end, iova, length, access);
//!         let mut iotlb = self.iotlb.write().unwrap();
//!         let mut at = iova;
//!         for piece in answer.map_err(|_| unresolved())? {
//!             iotlb.set_mapping(at, piece.base, piece.length, access)?;
//!             at = GuestAddress(at.0 + piece.length as u64);
//!         }
//!         drop(iotlb);
//!         let retry = Iotlb::lookup(self.iotlb.read().unwrap(), iova, length, access);
//!         retry.map_err(|_| unresolved())
//!     }
//! }
//!
//! let mut ram = vec![0u64; 512];
//! // SAFETY: `ram` outlives `mem` and is only accessed through it.
//! let region = unsafe { RawRegion::new(ram.as_mut_ptr().cast(), 4096, GuestAddress(0)) }.unwrap();
//! let backend: RegionTable<_, 1> = RegionTable::from_regions([region]).unwrap();
//! let mem = IommuMemory::new(backend, BackendIommu::default(), true, ());
//!
//! // The guest programs its IOMMU; the front-end knows, the back-end's IOTLB does not yet.
//! mem.iommu().front_end.lock().unwrap()
//!     .set_mapping(GuestAddress(0x10000), GuestAddress(0x100), 0x200, Permissions::ReadWrite)
//!     .unwrap();
//! assert!(mem.iommu().iotlb.read().unwrap().is_empty());
//!
//! mem.write_obj(7u64, GuestAddress(0x10008)).unwrap(); // miss, refill, retry
//! assert_eq!(mem.iommu().iotlb.read().unwrap().len(), 1);
//! assert_eq!(mem.get_backend().read_obj::<u64>(GuestAddress(0x108)).unwrap(), 7);
//! ```

mod error;
mod iotlb;
mod map;
mod memory;
mod range;
mod slices;

pub use error::Error;
pub use iotlb::{Iotlb, IotlbEntry, IotlbFails, IotlbIterator};
pub use memory::IommuMemory;
pub use range::{IovaRange, MappedRange};
pub use slices::IommuMemorySliceIterator;

use core::fmt::Debug;
use core::ops::Deref;

use crate::address::GuestAddress;
use crate::guest_memory::Permissions;

/// An IOMMU: translates I/O virtual addresses for an access.
///
/// An implementation keeps an [`Iotlb`] and looks requests up there first. On misses or
/// permission failures ([`IotlbFails`] lists them all) it resolves those ranges with the real
/// IOMMU (page tables, or for vhost-user an IOTLB miss message to the front-end), puts the
/// answers into the IOTLB and looks up again.
pub trait Iommu: Debug + Send + Sync {
    /// What keeps the IOTLB borrowed while a translation is used, for example a
    /// `RwLockReadGuard<'a, Iotlb>`. The returned [`IotlbIterator`] owns it, so the IOTLB cannot
    /// change under a translation.
    type IotlbGuard<'a>: Deref<Target = Iotlb> + 'a
    where
        Self: 'a;

    /// Translates the `length` bytes at `iova` for `access`.
    ///
    /// The iterator must cover the whole range ([`Iotlb::lookup`] of exactly this range
    /// guarantees it). `IommuMemory` never asks for a non-empty range that runs past
    /// `u64::MAX`.
    ///
    /// # Errors
    ///
    /// Any part of the range cannot be translated for `access`; typically
    /// [`Error::CannotResolve`].
    fn translate(
        &self,
        iova: GuestAddress,
        length: usize,
        access: Permissions,
    ) -> Result<IotlbIterator<Self::IotlbGuard<'_>>, Error>;
}

#[cfg(test)]
mod tests;
