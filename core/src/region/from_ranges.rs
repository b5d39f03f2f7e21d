//! Building a collection from guest address ranges, with regions that allocate their own memory.

use alloc::vec::Vec;
use core::borrow::Borrow;
use core::fmt;

use super::GuestMemoryRegion;
use super::collection::GuestRegionCollection;
use super::error::GuestRegionCollectionError;
use crate::address::GuestAddress;
use crate::guest_memory::FileOffset;

/// A region type that can create the memory for a guest address range itself (for example by
/// mapping anonymous memory or a file).
pub trait RegionFromRange: GuestMemoryRegion + Sized {
    /// Why the memory could not be created.
    type Error;

    /// A region of `size` bytes at `addr`, backed by `file` when given.
    ///
    /// # Errors
    ///
    /// `MmapRegion(_)` when the memory cannot be created; `InvalidGuestRegion` when the range
    /// does not fit the guest address space.
    fn from_range(
        addr: GuestAddress,
        size: usize,
        file: Option<FileOffset>,
    ) -> Result<Self, FromRangesError<Self::Error>>;
}

/// Why a collection could not be built from ranges.
#[derive(Debug)]
pub enum FromRangesError<E> {
    /// The regions do not form a valid collection.
    Collection(GuestRegionCollectionError),
    /// The memory of a region could not be created.
    MmapRegion(E),
    /// The guest address plus the length overflows the guest address space.
    InvalidGuestRegion,
}

impl<E> From<GuestRegionCollectionError> for FromRangesError<E> {
    fn from(e: GuestRegionCollectionError) -> Self {
        FromRangesError::Collection(e)
    }
}

impl<E: fmt::Display> fmt::Display for FromRangesError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Collection(e) => write!(f, "invalid guest region layout: {e}"),
            Self::MmapRegion(e) => write!(f, "cannot create guest region memory: {e}"),
            Self::InvalidGuestRegion => {
                f.write_str("guest address plus region length overflows the address space")
            }
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for FromRangesError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Collection(e) => Some(e),
            Self::MmapRegion(e) => Some(e),
            Self::InvalidGuestRegion => None,
        }
    }
}

impl<R: RegionFromRange> GuestRegionCollection<R> {
    /// A collection with one new region per `(address, size)` range, which must be sorted and
    /// not overlap.
    ///
    /// # Errors
    ///
    /// The first region that cannot be created, or the layout error.
    pub fn from_ranges(
        ranges: &[(GuestAddress, usize)],
    ) -> Result<Self, FromRangesError<R::Error>> {
        Self::from_ranges_with_files(ranges.iter().map(|&(addr, size)| (addr, size, None)))
    }

    /// As [`from_ranges`](Self::from_ranges), with an optional backing file per range.
    ///
    /// # Errors
    ///
    /// As [`from_ranges`](Self::from_ranges).
    pub fn from_ranges_with_files<A, T>(ranges: T) -> Result<Self, FromRangesError<R::Error>>
    where
        A: Borrow<(GuestAddress, usize, Option<FileOffset>)>,
        T: IntoIterator<Item = A>,
    {
        let regions = ranges
            .into_iter()
            .map(|range| {
                let (addr, size, file) = range.borrow();
                R::from_range(*addr, *size, file.clone())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_regions(regions)?)
    }
}
