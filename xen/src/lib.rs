//! Xen mappings of guest memory for `vm-memory`: foreign memory through `/dev/xen/privcmd`,
//! grant references through `/dev/xen/gntdev` (mapped in advance or per access), and ordinary
//! Unix mappings, all behind one region type, [`XenMapping`].
//!
//! A vhost-user backend serving a Xen guest receives, for each memory region, Xen flags and data
//! (the `XEN_MMAP` protocol feature). [`MmapRange`] carries them with the rest of the region's
//! description, [`MmapXenFlags`] checks them, and [`XenMapping`] maps the region accordingly.
//! The std crate `vm-memory` (feature `xen`) wraps `XenMapping` in its `MmapRegion`, so one
//! `GuestMemoryMmap` can hold Unix and Xen regions together.
//!
//! # Lazily mapped grants
//!
//! With `GRANT | NO_ADVANCE_MAP` nothing is mapped up front. The region's slices carry a
//! [`LazyMapping`](vm_memory_core::volatile_memory::LazyMapping) hook, and every access of the
//! core (`Bytes`, copies, references, arrays, fd I/O, atomics) maps exactly the pages it touches
//! for the duration of the access: read-only for reads, read-write for writes. Failures are
//! errors (`MappingFailed`) on the fallible paths, never leaks.
//!
//! # Testing without Xen
//!
//! Every system call goes through the [`XenDevice`] trait. [`SystemDevice`] makes the real
//! calls; the `test-utils` feature adds `test_utils::FakeXenDevice`, which backs foreign frames
//! and grants with the pages of a memfd and records and checks every call.
//!
//! # Platform
//!
//! Linux only; on other targets the crate is empty.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

#[cfg(target_os = "linux")]
mod device;
#[cfg(target_os = "linux")]
mod error;
#[cfg(target_os = "linux")]
mod flags;
#[cfg(target_os = "linux")]
mod foreign;
#[cfg(target_os = "linux")]
mod grant;
#[cfg(target_os = "linux")]
mod mapping;
#[cfg(target_os = "linux")]
mod range;
#[cfg(target_os = "linux")]
pub mod sys;
#[cfg(all(target_os = "linux", feature = "test-utils"))]
pub mod test_utils;

#[cfg(target_os = "linux")]
pub use device::{SystemDevice, XenDevice};
#[cfg(target_os = "linux")]
pub use error::{Error, MappingKind};
#[cfg(target_os = "linux")]
pub use flags::MmapXenFlags;
#[cfg(target_os = "linux")]
pub use grant::{GRANT_ADDR_BIT, grant_ref};
#[cfg(target_os = "linux")]
pub use mapping::XenMapping;
#[cfg(target_os = "linux")]
pub use range::{DEFAULT_FLAGS, DEFAULT_PROT, MmapRange};
