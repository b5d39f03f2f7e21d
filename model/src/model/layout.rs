//! Region containers as a sorted list of `(start, len)`: validation, insertion, removal and
//! lookup as documented for `RegionTable` and `GuestRegionCollection`.

use vm_memory_core::GuestRegionCollectionError as E;

/// A region's place in the guest address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// First guest address.
    pub start: u64,
    /// Length in bytes (may be 0 or run past `u64::MAX` in invalid input).
    pub len: u64,
}

impl Span {
    /// One past the last address, as `u128`.
    pub fn end(&self) -> u128 {
        self.start as u128 + self.len as u128
    }

    /// Whether `addr` lies in the span.
    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && (addr as u128) < self.end()
    }

    /// The error a container gives for this region alone: `EmptyRegion`, `RegionEndOverflow`.
    pub fn own_error(&self) -> Option<E> {
        if self.len == 0 {
            Some(E::EmptyRegion)
        } else if self.end() > 1 << 64 {
            Some(E::RegionEndOverflow)
        } else {
            None
        }
    }
}

/// The layout rules, for a sequence of regions in the given order: no regions is
/// `NoMemoryRegion`; walking the sequence, each region is first checked alone, then against its
/// predecessor: a descending start is `UnsortedMemoryRegions`, an overlap `MemoryRegionOverlap`
/// (adjacency is fine).
pub fn validate(spans: &[Span]) -> Result<(), E> {
    if spans.is_empty() {
        return Err(E::NoMemoryRegion);
    }
    for (i, span) in spans.iter().enumerate() {
        if let Some(e) = span.own_error() {
            return Err(e);
        }
        if let Some(prev) = i.checked_sub(1).map(|p| spans[p]) {
            if prev.start > span.start {
                return Err(E::UnsortedMemoryRegions);
            }
            if prev.end() > span.start as u128 {
                return Err(E::MemoryRegionOverlap);
            }
        }
    }
    Ok(())
}

/// A valid container: sorted, non-overlapping, non-empty spans.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelLayout {
    /// The spans in address order.
    pub spans: Vec<Span>,
}

impl ModelLayout {
    /// `from_regions` of a table with room for `capacity` regions (`None`: the `alloc`
    /// collection): more regions than room is `TableFull`, checked before the layout.
    pub fn from_spans(spans: &[Span], capacity: Option<usize>) -> Result<Self, E> {
        if capacity.is_some_and(|c| spans.len() > c) {
            return Err(E::TableFull);
        }
        validate(spans)?;
        Ok(ModelLayout {
            spans: spans.to_vec(),
        })
    }

    /// The index of the region holding `addr`.
    pub fn find(&self, addr: u64) -> Option<usize> {
        self.spans.iter().position(|s| s.contains(addr))
    }

    /// `RegionTable::insert` (`capacity: Some`) and `GuestRegionCollection::insert_region`
    /// (`None`): the region's own error first, then an overlap (a duplicate overlaps), then, for
    /// a table, `TableFull`. The container is unchanged on error.
    pub fn insert(&mut self, span: Span, capacity: Option<usize>) -> Result<(), E> {
        if let Some(e) = span.own_error() {
            return Err(e);
        }
        if self
            .spans
            .iter()
            .any(|s| (s.start as u128) < span.end() && (span.start as u128) < s.end())
        {
            return Err(E::MemoryRegionOverlap);
        }
        if capacity.is_some_and(|c| self.spans.len() >= c) {
            return Err(E::TableFull);
        }
        let at = self.spans.partition_point(|s| s.start < span.start);
        self.spans.insert(at, span);
        Ok(())
    }

    /// `remove` / `remove_region`: the region with exactly this start and length, else
    /// `NoMemoryRegion`.
    pub fn remove(&mut self, start: u64, len: u64) -> Result<Span, E> {
        let i = self
            .spans
            .iter()
            .position(|s| s.start == start && s.len == len)
            .ok_or(E::NoMemoryRegion)?;
        Ok(self.spans.remove(i))
    }

    /// `last_addr`: the highest last address, 0 for none.
    pub fn last_addr(&self) -> u64 {
        self.spans
            .iter()
            .map(|s| (s.end() - 1) as u64)
            .max()
            .unwrap_or(0)
    }

    /// `checked_offset`: `base + offset` if it does not overflow and lies in a region.
    pub fn checked_offset(&self, base: u64, offset: usize) -> Option<u64> {
        let addr = u64::try_from(base as u128 + offset as u128).ok()?;
        self.find(addr).map(|_| addr)
    }
}
