//! `Iotlb`: the cache of IOVA mappings that an IOMMU consults first.

use alloc::vec::Vec;
use core::iter::FusedIterator;
use core::ops::Deref;

use super::map::RangeMap;
use super::range::span_len;
use super::{Error, IovaRange, MappedRange};
use crate::address::GuestAddress;
use crate::guest_memory::Permissions;

/// A cache of IOMMU mappings from I/O virtual addresses (IOVAs) to target addresses.
///
/// Semantically it is a partial function from each IOVA byte to a target address and
/// [`Permissions`]; [`set_mapping`](Self::set_mapping) and
/// [`invalidate_mapping`](Self::invalidate_mapping) change it byte range by byte range, with no
/// page granularity. It is stored as the shortest list of ranges that are contiguous in both
/// spaces with equal permissions, so neighbouring mappings merge exactly when they continue each
/// other, and two `Iotlb`s compare equal exactly when they map every IOVA the same way.
///
/// The owner must invalidate mappings that the IOMMU removes or restricts. Mappings that it adds
/// or widens need no update: an access that needs them misses or fails here, and the [`Iommu`]
/// then refills the IOTLB from the real IOMMU and retries.
///
/// ```
/// use vm_memory_core::iommu::{Iotlb, MappedRange};
/// use vm_memory_core::{GuestAddress, Permissions};
///
/// let (read, write) = (Permissions::Read, Permissions::Write);
/// let mut iotlb = Iotlb::new();
/// iotlb.set_mapping(GuestAddress(0x1000), GuestAddress(0x8000), 0x1000, read).unwrap();
/// iotlb.set_mapping(GuestAddress(0x2000), GuestAddress(0x4000), 0x1000, read).unwrap();
///
/// let pieces: Vec<_> =
///     Iotlb::lookup(&iotlb, GuestAddress(0x1800), 0x1000, read).unwrap().collect();
/// assert_eq!(pieces, [
///     MappedRange { base: GuestAddress(0x8800), length: 0x800 },
///     MappedRange { base: GuestAddress(0x4000), length: 0x800 },
/// ]);
///
/// let fails = Iotlb::lookup(&iotlb, GuestAddress(0x2800), 0x1000, write).unwrap_err();
/// assert_eq!(fails.access_fails.len(), 1); // 0x2800..0x3000 is read-only
/// assert_eq!(fails.misses.len(), 1); // 0x3000..0x3800 is not mapped
/// ```
///
/// [`Iommu`]: super::Iommu
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Iotlb {
    map: RangeMap,
}

/// One entry of an [`Iotlb`]: the IOVAs `iova..=last` map to `target..` with `permissions`.
///
/// Entries are maximal: the next entry never continues this one in both address spaces with the
/// same permissions.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
pub struct IotlbEntry {
    /// The first IOVA of the entry.
    pub iova: GuestAddress,
    /// The last IOVA of the entry (inclusive, so that an entry can end at `u64::MAX`).
    pub last: GuestAddress,
    /// The target address of `iova`.
    pub target: GuestAddress,
    /// The accesses the entry allows.
    pub permissions: Permissions,
}

/// Why an IOTLB lookup failed: every part of the range that is not mapped, and every part that
/// is mapped without the requested permissions, each clipped to the range and in ascending
/// order.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct IotlbFails {
    /// The maximal unmapped parts of the range.
    pub misses: Vec<IovaRange>,
    /// The mapped parts that do not allow the access, one per IOTLB entry.
    pub access_fails: Vec<IovaRange>,
}

/// The target ranges of a successful translation, one per IOTLB entry the IOVA range crosses,
/// clipped to the range.
///
/// It carries the IOTLB (or a lock guard of it, `D`), so the mappings cannot change while it
/// lives. Returned by [`Iotlb::lookup`] and [`Iommu::translate`](super::Iommu::translate).
#[derive(Clone, Debug)]
pub struct IotlbIterator<D: Deref<Target = Iotlb>> {
    iotlb: D,
    /// The next IOVA to translate.
    next: u64,
    /// The bytes left to translate.
    remaining: usize,
    access: Permissions,
}

impl Iotlb {
    /// An empty IOTLB.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps the `length` bytes at `iova` to the `length` bytes at `map_to` with `perm`,
    /// replacing any mapping of those bytes. `length == 0` does nothing (vm-memory 0.18
    /// panics).
    ///
    /// # Errors
    ///
    /// `MappingOverflow` if either range runs past `u64::MAX`; the IOTLB is then unchanged.
    pub fn set_mapping(
        &mut self,
        iova: GuestAddress,
        map_to: GuestAddress,
        length: usize,
        perm: Permissions,
    ) -> Result<(), Error> {
        let Some(span) = (length as u64).checked_sub(1) else {
            return Ok(());
        };
        match (iova.0.checked_add(span), map_to.0.checked_add(span)) {
            (Some(last), Some(_)) => {
                self.map.insert(iova.0, last, map_to.0, perm);
                Ok(())
            }
            _ => Err(Error::MappingOverflow {
                iova_range: IovaRange { base: iova, length },
                map_to,
            }),
        }
    }

    /// Removes every mapping of the `length` bytes at `iova`, splitting entries that reach
    /// outside the range. `length == 0` does nothing (vm-memory 0.18 panics); a range that runs
    /// past `u64::MAX` is invalidated up to `u64::MAX`, the part of it that exists (dropping
    /// less could leave a stale mapping in use).
    pub fn invalidate_mapping(&mut self, iova: GuestAddress, length: usize) {
        if let Some(span) = (length as u64).checked_sub(1) {
            self.map.remove(iova.0, iova.0.saturating_add(span));
        }
    }

    /// Removes every mapping.
    pub fn invalidate_all(&mut self) {
        self.map.clear();
    }

    /// The entries, in ascending IOVA order.
    pub fn entries(&self) -> impl Iterator<Item = IotlbEntry> + '_ {
        self.map.iter().map(|(first, entry)| IotlbEntry {
            iova: GuestAddress(first),
            last: GuestAddress(entry.last),
            target: GuestAddress(entry.target),
            permissions: entry.perm,
        })
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// Translates the `length` bytes at `iova` for `access`, keeping `this` (the IOTLB or a
    /// guard of it) inside the returned iterator.
    ///
    /// `length == 0` succeeds with no pieces at any `iova`.
    ///
    /// # Errors
    ///
    /// If any byte is unmapped or does not allow `access`: every such part, listed in
    /// [`IotlbFails`]. A range that runs past `u64::MAX` can never be mapped; it is reported as
    /// one miss covering the whole range.
    pub fn lookup<D: Deref<Target = Iotlb>>(
        this: D,
        iova: GuestAddress,
        length: usize,
        access: Permissions,
    ) -> Result<IotlbIterator<D>, IotlbFails> {
        let Some(span) = (length as u64).checked_sub(1) else {
            return Ok(IotlbIterator::new(this, iova.0, 0, access));
        };
        let Some(last) = iova.0.checked_add(span) else {
            return Err(IotlbFails {
                misses: alloc::vec![IovaRange { base: iova, length }],
                access_fails: Vec::new(),
            });
        };
        let fails = this.fails(iova.0, last, access);
        if fails.misses.is_empty() && fails.access_fails.is_empty() {
            Ok(IotlbIterator::new(this, iova.0, length, access))
        } else {
            Err(fails)
        }
    }

    /// The misses and permission failures in `first..=last` (allocates only for failures).
    fn fails(&self, first: u64, last: u64, access: Permissions) -> IotlbFails {
        let mut fails = IotlbFails::default();
        let range = |from: u64, to: u64| IovaRange {
            base: GuestAddress(from),
            length: span_len(from, to),
        };
        // The first IOVA not yet accounted for; `None` once the walk passed `u64::MAX`.
        let mut cursor = Some(first);
        for (start, entry) in self.map.overlapping(first, last) {
            let Some(from) = cursor else { break };
            let clipped_first = start.max(first);
            let clipped_last = entry.last.min(last);
            if clipped_first > from {
                fails.misses.push(range(from, clipped_first - 1));
            }
            if !entry.perm.allow(access) {
                fails.access_fails.push(range(clipped_first, clipped_last));
            }
            cursor = clipped_last.checked_add(1);
        }
        if let Some(from) = cursor
            && from <= last
        {
            fails.misses.push(range(from, last));
        }
        fails
    }
}

impl<D: Deref<Target = Iotlb>> IotlbIterator<D> {
    fn new(iotlb: D, next: u64, remaining: usize, access: Permissions) -> Self {
        IotlbIterator {
            iotlb,
            next,
            remaining,
            access,
        }
    }
}

impl<D: Deref<Target = Iotlb>> Iterator for IotlbIterator<D> {
    type Item = MappedRange;

    fn next(&mut self) -> Option<MappedRange> {
        if self.remaining == 0 {
            return None;
        }
        // `lookup` checked the whole range and `D` pins the IOTLB, so this finds an allowed
        // entry. Should a strange `Deref` hand out another IOTLB, the translation just ends
        // early; `IommuMemory` reports a short translation as an error.
        let Some((first, entry)) = self
            .iotlb
            .map
            .entry_at(self.next)
            .filter(|(_, entry)| entry.perm.allow(self.access))
        else {
            self.remaining = 0;
            return None;
        };
        let length = span_len(self.next, entry.last).min(self.remaining);
        let base = GuestAddress(entry.target_of(first, self.next));
        self.remaining -= length;
        // Wraps to 0 only after the last piece of a range that ends at `u64::MAX`.
        self.next = self.next.wrapping_add(length as u64);
        Some(MappedRange { base, length })
    }
}

impl<D: Deref<Target = Iotlb>> FusedIterator for IotlbIterator<D> {}

#[cfg(test)]
impl Iotlb {
    /// Whether the interval map keeps its invariants.
    pub(super) fn is_canonical(&self) -> bool {
        self.map.is_canonical()
    }
}
