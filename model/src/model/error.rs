//! Guest memory errors as the model predicts them.

use vm_memory_core::{GuestAddress, GuestMemoryError};

/// A guest memory error, comparable with `==`.
///
/// `GuestMemoryError` is not `PartialEq` (it can hold an `std::io::Error`); [`classify`] maps it
/// to this type. Errors the model never predicts (I/O, mapping and IOMMU failures) become
/// [`Unexpected`](Self::Unexpected) and fail every comparison with a prediction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemError {
    /// No region holds the address.
    InvalidGuestAddress(u64),
    /// Only `completed` of `expected` bytes were moved.
    PartialBuffer {
        /// Bytes asked for.
        expected: usize,
        /// Bytes moved.
        completed: usize,
    },
    /// The access does not fit the region (straddles, runs off the end, misaligned).
    InvalidBackendAddress,
    /// The region has no host memory.
    HostAddressNotAvailable,
    /// A `try_access` callback reported more than it was given.
    CallbackOutOfRange,
    /// The range runs past `u64::MAX`.
    GuestAddressOverflow,
    /// An IOMMU could not translate the range (for the access).
    IommuError,
    /// An I/O endpoint failed with an error of this kind.
    IOError(std::io::ErrorKind),
    /// Anything else, with its description.
    Unexpected(String),
}

/// The model's view of a real error.
pub fn classify(e: &GuestMemoryError) -> MemError {
    match e {
        GuestMemoryError::InvalidGuestAddress(GuestAddress(a)) => MemError::InvalidGuestAddress(*a),
        GuestMemoryError::PartialBuffer {
            expected,
            completed,
        } => MemError::PartialBuffer {
            expected: *expected,
            completed: *completed,
        },
        GuestMemoryError::InvalidBackendAddress => MemError::InvalidBackendAddress,
        GuestMemoryError::HostAddressNotAvailable => MemError::HostAddressNotAvailable,
        GuestMemoryError::CallbackOutOfRange => MemError::CallbackOutOfRange,
        GuestMemoryError::GuestAddressOverflow => MemError::GuestAddressOverflow,
        GuestMemoryError::IommuError(_) => MemError::IommuError,
        GuestMemoryError::IOError(e) => MemError::IOError(e.kind()),
        other => MemError::Unexpected(format!("{other:?}")),
    }
}

/// The model's view of a real result.
pub fn classify_result<T>(r: Result<T, GuestMemoryError>) -> Result<T, MemError> {
    r.map_err(|e| classify(&e))
}
