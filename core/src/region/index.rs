//! Layout validation shared by the region containers, and the bucketed lookup index of the
//! `alloc` collection.

use super::GuestMemoryRegion;
use super::error::GuestRegionCollectionError;
use crate::address::GuestAddress;

/// The first and last address of a region, or why the region is unusable.
#[inline]
pub(crate) fn bounds_of<R: GuestMemoryRegion + ?Sized>(
    region: &R,
) -> Result<(u64, u64), GuestRegionCollectionError> {
    let start = region.start_addr().0;
    let len = region.len();
    if len == 0 {
        return Err(GuestRegionCollectionError::EmptyRegion);
    }
    let last = start
        .checked_add(len - 1)
        .ok_or(GuestRegionCollectionError::RegionEndOverflow)?;
    Ok((start, last))
}

/// Checks a sequence of regions the way vm-memory 0.18 does (non-empty; for each neighbour pair,
/// sorted first, then not overlapping; adjacency is fine), after checking that each region has
/// a length and ends inside the 64-bit address space.
pub(crate) fn check_layout<'r, R: GuestMemoryRegion + 'r>(
    regions: impl IntoIterator<Item = &'r R>,
) -> Result<(), GuestRegionCollectionError> {
    let mut prev: Option<(u64, u64)> = None;
    let mut any = false;
    for region in regions {
        any = true;
        let (start, last) = bounds_of(region)?;
        if let Some((prev_start, prev_last)) = prev {
            if prev_start > start {
                return Err(GuestRegionCollectionError::UnsortedMemoryRegions);
            }
            if prev_last >= start {
                return Err(GuestRegionCollectionError::MemoryRegionOverlap);
            }
        }
        prev = Some((start, last));
    }
    if any {
        Ok(())
    } else {
        Err(GuestRegionCollectionError::NoMemoryRegion)
    }
}

/// Binary search over regions sorted by start: the index of the region holding `addr`.
#[inline]
pub(crate) fn search<R: GuestMemoryRegion>(regions: &[R], addr: GuestAddress) -> Option<usize> {
    let after = regions.partition_point(|r| r.start_addr() <= addr);
    let i = after.checked_sub(1)?;
    let r = regions.get(i)?;
    (addr.0 - r.start_addr().0 < r.len()).then_some(i)
}

#[cfg(feature = "alloc")]
pub(crate) use bucketed::RegionIndex;

#[cfg(feature = "alloc")]
mod bucketed {
    use alloc::vec::Vec;

    use crate::address::GuestAddress;

    /// Most buckets per region; more buckets make long runs of small regions rarer.
    const BUCKETS_PER_REGION: usize = 4;
    /// Upper bound on the bucket table (256 KiB of `u32`s).
    const MAX_BUCKETS: usize = 1 << 16;
    /// Candidate runs up to this length are scanned linearly, longer ones binary-searched.
    const LINEAR_RUN: usize = 8;

    /// A region's bounds next to its payload, so a lookup touches one entry.
    #[derive(Clone, Debug)]
    pub(crate) struct Entry<T> {
        pub(crate) start: u64,
        pub(crate) last: u64,
        pub(crate) value: T,
    }

    /// Constant-time region lookup for typical layouts, logarithmic in the worst case.
    ///
    /// The span from the first region's start to the last region's end is cut into a power of
    /// two number of equal, power-of-two-sized buckets. `first[b]` is the first region whose
    /// last address is at or after the start of bucket `b`; the regions that can hold an address
    /// in bucket `b` are `first[b]` up to `first[b + 1]` (the last region for the last bucket).
    /// With regions of similar size the first candidate is nearly always the answer, so the fast
    /// path is one subtraction, one shift, one table load and one bounds check; other cases go
    /// to a cold path that scans a short run or binary-searches a long one.
    #[derive(Clone, Debug)]
    pub(crate) struct RegionIndex<T> {
        /// The regions, sorted by start, with their bounds.
        entries: Vec<Entry<T>>,
        base: u64,
        shift: u32,
        first: Vec<u32>,
    }

    impl<T> Default for RegionIndex<T> {
        fn default() -> Self {
            RegionIndex {
                entries: Vec::new(),
                base: 0,
                shift: 0,
                first: Vec::new(),
            }
        }
    }

    impl<T> RegionIndex<T> {
        /// Builds the index for regions given as sorted, non-overlapping `(start, last, value)`.
        pub(crate) fn new(regions: impl IntoIterator<Item = (u64, u64, T)>) -> Self {
            let entries: Vec<Entry<T>> = regions
                .into_iter()
                .map(|(start, last, value)| Entry { start, last, value })
                .collect();
            let (Some(lowest), Some(highest)) = (entries.first(), entries.last()) else {
                return Self::default();
            };
            let (base, top) = (lowest.start, highest.last);
            let wanted = (entries.len() * BUCKETS_PER_REGION)
                .next_power_of_two()
                .min(MAX_BUCKETS) as u64;
            let span_minus_one = top - base;
            // Smallest shift such that the span fits in `wanted` buckets.
            let mut shift = 0u32;
            while shift < 64 && (span_minus_one >> shift) >= wanted {
                shift += 1;
            }
            let buckets = (span_minus_one >> shift) as usize + 1;
            let mut first = Vec::with_capacity(buckets);
            let mut region = 0usize;
            for b in 0..buckets {
                let bucket_start = base + ((b as u64) << shift);
                while region < entries.len() && entries[region].last < bucket_start {
                    region += 1;
                }
                first.push(region as u32);
            }
            RegionIndex {
                entries,
                base,
                shift,
                first,
            }
        }

        /// The entry of the region that holds `addr`.
        #[inline(always)]
        pub(crate) fn find(&self, addr: GuestAddress) -> Option<&Entry<T>> {
            self.find_position(addr).map(|(_, entry)| entry)
        }

        /// The position in [`entries`](Self::entries) and the entry of the region that holds
        /// `addr`.
        #[inline(always)]
        pub(crate) fn find_position(&self, addr: GuestAddress) -> Option<(usize, &Entry<T>)> {
            // Addresses below `base` wrap to huge offsets and miss the table too.
            let bucket = usize::try_from(addr.0.wrapping_sub(self.base) >> self.shift).ok()?;
            let i = *self.first.get(bucket)? as usize;
            let entry = self.entries.get(i)?;
            if entry.start <= addr.0 && addr.0 <= entry.last {
                return Some((i, entry));
            }
            self.find_in_run(addr, bucket)
        }

        /// The rest of the candidates of `bucket`, after the first one missed.
        #[cold]
        #[inline(never)]
        fn find_in_run(&self, addr: GuestAddress, bucket: usize) -> Option<(usize, &Entry<T>)> {
            let lo = *self.first.get(bucket)? as usize;
            let hi = self
                .first
                .get(bucket + 1)
                .map_or(self.entries.len() - 1, |&next| next as usize);
            let run = self.entries.get(lo..=hi)?;
            let i = if run.len() <= LINEAR_RUN {
                run.iter().position(|e| e.last >= addr.0)?
            } else {
                run.partition_point(|e| e.last < addr.0)
            };
            run.get(i)
                .filter(|e| e.start <= addr.0 && addr.0 <= e.last)
                .map(|e| (lo + i, e))
        }

        /// The entries in address order.
        pub(crate) fn entries(&self) -> &[Entry<T>] {
            &self.entries
        }
    }
}
