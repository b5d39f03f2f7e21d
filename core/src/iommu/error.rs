//! Errors of IOVA translation.

use alloc::string::String;
use core::fmt;

use super::IovaRange;
use crate::address::GuestAddress;

/// Why an IOMMU could not translate a range, or an IOTLB refused a mapping.
///
/// The first three variants are vm-memory 0.18's. The enum is `#[non_exhaustive]`: callers
/// match the variants they handle and keep a wildcard arm, so a later variant cannot break them.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The IOMMU has no mapping, or no mapping that allows the access, for this range.
    CannotResolve {
        /// The range that could not be translated.
        iova_range: IovaRange,
        /// What went wrong, for humans.
        reason: String,
    },
    /// The range was asked for as one contiguous piece but is split across mappings.
    Fragmented {
        /// The whole range asked for.
        iova_range: IovaRange,
        /// How many bytes from its start are contiguous.
        continuous_length: usize,
    },
    /// The IOMMU is not set up to translate anything.
    IommuMisconfigured {
        /// What went wrong, for humans.
        reason: String,
    },
    /// A mapping whose IOVA range or target range runs past the top of the 64-bit address
    /// space (vm-memory 0.18 does not check this and wraps around).
    MappingOverflow {
        /// The IOVA range of the mapping.
        iova_range: IovaRange,
        /// The target address the range was to map to.
        map_to: GuestAddress,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CannotResolve { iova_range, reason } => write!(
                f,
                "cannot translate IOVA range {:#x}+{:#x}: {reason}",
                iova_range.base.0, iova_range.length
            ),
            Self::Fragmented {
                iova_range,
                continuous_length,
            } => write!(
                f,
                "IOVA range {:#x}+{:#x} is contiguous for only {continuous_length:#x} bytes",
                iova_range.base.0, iova_range.length
            ),
            Self::IommuMisconfigured { reason } => {
                write!(f, "IOMMU is misconfigured: {reason}")
            }
            Self::MappingOverflow { iova_range, map_to } => write!(
                f,
                "mapping of IOVA range {:#x}+{:#x} to {:#x} runs past the end of the address space",
                iova_range.base.0, iova_range.length, map_to.0
            ),
        }
    }
}

impl core::error::Error for Error {}
