//! Address ranges on either side of a translation.

use core::num::TryFromIntError;
use core::ops::Range;

use crate::address::GuestAddress;

/// A range of I/O virtual addresses: `length` bytes from `base`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
pub struct IovaRange {
    /// The first IOVA of the range.
    pub base: GuestAddress,
    /// The length of the range in bytes.
    pub length: usize,
}

/// A range of the address space an IOMMU translates into: `length` bytes from `base`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
pub struct MappedRange {
    /// The first target address of the range.
    pub base: GuestAddress,
    /// The length of the range in bytes.
    pub length: usize,
}

impl TryFrom<Range<u64>> for IovaRange {
    type Error = TryFromIntError;

    /// The IOVA range `range.start..range.end`. A range whose end lies before its start is
    /// empty, as [`Range::is_empty`] says (vm-memory 0.18 panics in debug builds instead).
    ///
    /// # Errors
    ///
    /// The length does not fit in `usize` (only possible on hosts narrower than 64 bits).
    ///
    /// ```
    /// use vm_memory_core::GuestAddress;
    /// use vm_memory_core::iommu::IovaRange;
    ///
    /// let range = IovaRange::try_from(0x1000..0x1800).unwrap();
    /// assert_eq!(range, IovaRange { base: GuestAddress(0x1000), length: 0x800 });
    /// assert_eq!(IovaRange::try_from(0x20..0x10).unwrap().length, 0);
    /// ```
    fn try_from(range: Range<u64>) -> Result<Self, Self::Error> {
        Ok(IovaRange {
            base: GuestAddress(range.start),
            length: usize::try_from(range.end.saturating_sub(range.start))?,
        })
    }
}

/// The number of bytes in `first..=last`, where the caller knows it is at most `usize::MAX`
/// (a piece of a request whose length is a `usize`); saturates otherwise.
pub(super) fn span_len(first: u64, last: u64) -> usize {
    usize::try_from(last.saturating_sub(first)).map_or(usize::MAX, |n| n.saturating_add(1))
}
