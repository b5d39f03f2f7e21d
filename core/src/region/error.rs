//! Errors of region containers.

use core::fmt;

/// Why a region container could not be built or changed.
///
/// The first three variants are vm-memory 0.18's. The enum is `#[non_exhaustive]`: this crate
/// also refuses regions that upstream silently accepted and mis-handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GuestRegionCollectionError {
    /// No regions were given, or no region matched the request.
    NoMemoryRegion,
    /// Two regions overlap.
    MemoryRegionOverlap,
    /// The regions are not sorted by start address.
    UnsortedMemoryRegions,
    /// A region has length zero.
    EmptyRegion,
    /// A region's end lies past `u64::MAX`.
    RegionEndOverflow,
    /// A fixed-capacity table has no room for another region.
    TableFull,
}

impl fmt::Display for GuestRegionCollectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::NoMemoryRegion => "no memory region given or found",
            Self::MemoryRegionOverlap => "memory regions overlap",
            Self::UnsortedMemoryRegions => "memory regions are not sorted by start address",
            Self::EmptyRegion => "a memory region has length zero",
            Self::RegionEndOverflow => "a memory region ends past the last guest address",
            Self::TableFull => "the region table is full",
        };
        f.write_str(text)
    }
}

impl core::error::Error for GuestRegionCollectionError {}
