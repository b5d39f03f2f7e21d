//! Errors of volatile memory access.

use core::fmt;

/// Why a volatile access failed.
///
/// The variants and their fields follow vm-memory 0.18. The enum is `#[non_exhaustive]` because
/// the `std` feature adds `IOError(std::io::Error)`: without it the core has no `std::io`, and
/// marking the enum non-exhaustive keeps that addition from breaking anyone's `match`.
#[derive(Debug)]
#[non_exhaustive]
pub enum VolatileMemoryError {
    /// `addr` is past the end of the memory.
    OutOfBounds {
        /// The offending offset (for [`VolatileSlice::offset`](super::VolatileSlice::offset), the
        /// host address, as upstream).
        addr: usize,
    },
    /// `base + offset` overflows `usize`.
    Overflow {
        /// The base of the computation.
        base: usize,
        /// The offset added to it.
        offset: usize,
    },
    /// `nelements` elements of `size` bytes overflow `isize`.
    TooBig {
        /// The number of elements requested.
        nelements: usize,
        /// The size of one element.
        size: usize,
    },
    /// `addr` is not aligned to `alignment`.
    Misaligned {
        /// The host address (or lazily mapped offset) that is misaligned.
        addr: usize,
        /// The alignment required.
        alignment: usize,
    },
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
    /// A lazily mapped backend could not map `len` bytes at `offset`.
    MappingFailed {
        /// Offset of the range inside the lazily mapped object.
        offset: usize,
        /// Length of the range.
        len: usize,
        /// The backend's error number (0 when there is none).
        errno: i32,
    },
    /// A long-lived reference was requested into memory that is only mapped per access.
    LazilyMapped {
        /// Offset of the range inside the lazily mapped object.
        offset: usize,
    },
}

/// Result of a volatile access.
pub type VolatileMemoryResult<T> = Result<T, VolatileMemoryError>;

impl VolatileMemoryError {
    /// `Ok` if all `expected` bytes were moved, else `PartialBuffer { expected, completed }`.
    #[inline]
    pub(crate) fn check_complete(expected: usize, completed: usize) -> Result<(), Self> {
        if completed == expected {
            Ok(())
        } else {
            Err(Self::PartialBuffer {
                expected,
                completed,
            })
        }
    }
}

impl fmt::Display for VolatileMemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfBounds { addr } => write!(f, "offset {addr:#x} is past the end of memory"),
            Self::Overflow { base, offset } => {
                write!(f, "{base:#x} + {offset:#x} overflows the address width")
            }
            Self::TooBig { nelements, size } => {
                write!(f, "{nelements} elements of {size} bytes overflow isize")
            }
            Self::Misaligned { addr, alignment } => {
                write!(f, "address {addr:#x} is not aligned to {alignment} bytes")
            }
            #[cfg(feature = "std")]
            Self::IOError(e) => write!(f, "I/O error: {e}"),
            Self::PartialBuffer {
                expected,
                completed,
            } => write!(f, "moved {completed} of {expected} bytes"),
            Self::MappingFailed { offset, len, errno } => write!(
                f,
                "could not map {len:#x} bytes at offset {offset:#x} (errno {errno})"
            ),
            Self::LazilyMapped { offset } => write!(
                f,
                "memory at offset {offset:#x} is mapped per access; no reference can be formed"
            ),
        }
    }
}

impl core::error::Error for VolatileMemoryError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            #[cfg(feature = "std")]
            Self::IOError(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(feature = "std")]
impl From<std::io::Error> for VolatileMemoryError {
    fn from(e: std::io::Error) -> Self {
        Self::IOError(e)
    }
}
