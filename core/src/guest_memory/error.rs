//! Errors of guest memory access.

use core::fmt;

use crate::address::{Address, GuestAddress};
use crate::volatile::VolatileMemoryError;

/// Why a guest memory access failed.
///
/// Variants and conversions follow vm-memory 0.18. The enum is `#[non_exhaustive]` so that
/// the `std`-only `IOError(std::io::Error)` and the `alloc`-only `IommuError` variants do not
/// change what a `match` must cover when a crate elsewhere in the build turns a feature on.
#[derive(Debug)]
#[non_exhaustive]
pub enum GuestMemoryError {
    /// No region holds this guest address.
    InvalidGuestAddress(GuestAddress),
    /// An I/O endpoint failed.
    #[cfg(feature = "std")]
    IOError(std::io::Error),
    /// Only `completed` of `expected` bytes were moved.
    PartialBuffer {
        /// The bytes requested.
        expected: usize,
        /// The bytes actually moved.
        completed: usize,
    },
    /// The access does not fit the region's memory (out of bounds, misaligned, or too large).
    InvalidBackendAddress,
    /// The region has no host mapping to hand out.
    HostAddressNotAvailable,
    /// The callback given to the deprecated `try_access` reported more bytes than it was given.
    CallbackOutOfRange,
    /// The access runs past the top of the 64-bit guest address space.
    GuestAddressOverflow,
    /// A lazily mapped region could not be mapped for the access.
    MappingFailed {
        /// Offset of the range inside the lazily mapped object.
        offset: usize,
        /// Length of the range.
        len: usize,
        /// The backend's error number (0 when there is none).
        errno: i32,
    },
    /// An IOMMU could not translate the I/O virtual address range (`alloc`).
    ///
    /// vm-memory 0.18 has this variant only with its `iommu` feature. Here it exists whenever
    /// `alloc` is on, and because the enum is `#[non_exhaustive]`, matches outside this crate
    /// always have a wildcard arm: turning `alloc` on cannot break them.
    #[cfg(feature = "alloc")]
    IommuError(crate::iommu::Error),
}

/// Result of a guest memory access.
pub type GuestMemoryResult<T> = Result<T, GuestMemoryError>;

impl fmt::Display for GuestMemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidGuestAddress(addr) => {
                write!(
                    f,
                    "guest address {:#x} is not in any region",
                    addr.raw_value()
                )
            }
            #[cfg(feature = "std")]
            Self::IOError(e) => write!(f, "guest memory I/O error: {e}"),
            Self::PartialBuffer {
                expected,
                completed,
            } => write!(
                f,
                "guest memory access moved {completed} of {expected} bytes"
            ),
            Self::InvalidBackendAddress => {
                f.write_str("access does not fit the memory backing the guest region")
            }
            Self::HostAddressNotAvailable => f.write_str("guest region has no host address"),
            Self::CallbackOutOfRange => {
                f.write_str("try_access callback reported more bytes than it was given")
            }
            Self::GuestAddressOverflow => f.write_str("access runs past the last guest address"),
            Self::MappingFailed { offset, len, errno } => write!(
                f,
                "could not map {len:#x} bytes at offset {offset:#x} of guest memory (errno {errno})"
            ),
            #[cfg(feature = "alloc")]
            Self::IommuError(e) => write!(f, "IOMMU translation failed: {e}"),
        }
    }
}

impl core::error::Error for GuestMemoryError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            #[cfg(feature = "std")]
            Self::IOError(e) => Some(e),
            #[cfg(feature = "alloc")]
            Self::IommuError(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(feature = "alloc")]
impl From<crate::iommu::Error> for GuestMemoryError {
    fn from(e: crate::iommu::Error) -> Self {
        Self::IommuError(e)
    }
}

impl From<VolatileMemoryError> for GuestMemoryError {
    fn from(e: VolatileMemoryError) -> Self {
        match e {
            VolatileMemoryError::OutOfBounds { .. }
            | VolatileMemoryError::Overflow { .. }
            | VolatileMemoryError::TooBig { .. }
            | VolatileMemoryError::Misaligned { .. } => Self::InvalidBackendAddress,
            #[cfg(feature = "std")]
            VolatileMemoryError::IOError(e) => Self::IOError(e),
            VolatileMemoryError::PartialBuffer {
                expected,
                completed,
            } => Self::PartialBuffer {
                expected,
                completed,
            },
            VolatileMemoryError::MappingFailed { offset, len, errno } => {
                Self::MappingFailed { offset, len, errno }
            }
            VolatileMemoryError::LazilyMapped { .. } => Self::HostAddressNotAvailable,
        }
    }
}
