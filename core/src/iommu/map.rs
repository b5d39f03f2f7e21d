//! The interval map behind `Iotlb`: disjoint IOVA ranges, each mapped to a target range with
//! permissions, kept in a canonical form.
//!
//! Invariants, which every method keeps:
//! 1. entries are disjoint and `first <= last`;
//! 2. `target + (last - first)` does not overflow (targets never wrap);
//! 3. canonical form: no two entries are *mergeable*, i.e. adjacent in IOVA space
//!    (`left.last + 1 == right.first`), contiguous in target space and with equal permissions.
//!
//! So the map is the unique shortest description of a byte-wise function
//! `IOVA -> (target, permissions)`: two maps are equal exactly when they map every IOVA the same
//! way, and lookups report one piece per maximal run that is contiguous in both spaces.

use alloc::collections::BTreeMap;

use crate::guest_memory::Permissions;

/// One mapped IOVA range; its key in the map is its first IOVA.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) struct Entry {
    /// The last IOVA of the range (inclusive, so that a range may end at `u64::MAX`).
    pub(super) last: u64,
    /// The target address of the first IOVA.
    pub(super) target: u64,
    /// What the range allows.
    pub(super) perm: Permissions,
}

impl Entry {
    /// The target address of `iova`, which lies in the entry starting at `first`.
    pub(super) fn target_of(&self, first: u64, iova: u64) -> u64 {
        // Cannot overflow: `iova - first <= last - first` and invariant 2.
        self.target.wrapping_add(iova.wrapping_sub(first))
    }
}

/// Disjoint, canonical IOVA ranges keyed by their first IOVA.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub(super) struct RangeMap {
    entries: BTreeMap<u64, Entry>,
}

impl RangeMap {
    /// The entry holding `iova`, with its first IOVA.
    pub(super) fn entry_at(&self, iova: u64) -> Option<(u64, Entry)> {
        let (&first, &entry) = self.entries.range(..=iova).next_back()?;
        (entry.last >= iova).then_some((first, entry))
    }

    /// The entries that intersect `first..=last`, in ascending order, unclipped.
    pub(super) fn overlapping(&self, first: u64, last: u64) -> impl Iterator<Item = (u64, Entry)> {
        let head = self
            .entries
            .range(..first)
            .next_back()
            .filter(|(_, entry)| entry.last >= first);
        head.into_iter()
            .chain(self.entries.range(first..=last))
            .map(|(&start, &entry)| (start, entry))
    }

    /// All entries in ascending order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, Entry)> {
        self.entries.iter().map(|(&first, &entry)| (first, entry))
    }

    /// The number of entries.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Removes every mapping of `first..=last`, keeping the parts of entries outside it.
    pub(super) fn remove(&mut self, first: u64, last: u64) {
        if let Some((start, entry)) = self.entry_at(first)
            && start < first
        {
            // Keep the head of an entry that begins before the hole.
            self.entries.insert(
                start,
                Entry {
                    last: first - 1,
                    ..entry
                },
            );
            if entry.last > last {
                // The hole lies inside this entry: keep its tail too, and nothing else overlaps.
                self.insert_tail(start, entry, last);
                return;
            }
        }
        while let Some((&start, &entry)) = self.entries.range(first..=last).next() {
            self.entries.remove(&start);
            if entry.last > last {
                self.insert_tail(start, entry, last);
                break;
            }
        }
    }

    /// Re-inserts the part after `cut` of `entry` (which starts at `first`, ends after `cut`).
    fn insert_tail(&mut self, first: u64, entry: Entry, cut: u64) {
        // `cut < entry.last <= u64::MAX`, so `cut + 1` does not overflow.
        let tail = cut + 1;
        self.entries.insert(
            tail,
            Entry {
                target: entry.target_of(first, tail),
                ..entry
            },
        );
    }

    /// Maps `first..=last` to `target..` with `perm`, replacing whatever mapped it before, and
    /// merges with neighbours that continue it in both spaces with the same permissions.
    ///
    /// The caller checks that `target + (last - first)` does not overflow.
    pub(super) fn insert(&mut self, first: u64, last: u64, target: u64, perm: Permissions) {
        self.remove(first, last);
        let mut new_first = first;
        let mut new = Entry { last, target, perm };
        if let Some(prev) = first.checked_sub(1)
            && let Some((prev_first, left)) = self.entry_at(prev)
            && left.perm == perm
            && left.target.checked_add(first - prev_first) == Some(target)
        {
            self.entries.remove(&prev_first);
            new_first = prev_first;
            new.target = left.target;
        }
        if let Some(next) = last.checked_add(1)
            && let Some(right) = self.entries.get(&next).copied()
            && right.perm == perm
            && new.target_of(new_first, last).checked_add(1) == Some(right.target)
        {
            self.entries.remove(&next);
            new.last = right.last;
        }
        self.entries.insert(new_first, new);
    }

    /// Removes every entry.
    pub(super) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Whether the invariants of this module hold (for tests).
    #[cfg(test)]
    pub(super) fn is_canonical(&self) -> bool {
        let mut prev: Option<(u64, Entry)> = None;
        for (first, entry) in self.iter() {
            if first > entry.last || entry.target.checked_add(entry.last - first).is_none() {
                return false;
            }
            if let Some((prev_first, p)) = prev {
                if p.last >= first {
                    return false;
                }
                let mergeable = p.last + 1 == first
                    && p.perm == entry.perm
                    && p.target_of(prev_first, p.last).checked_add(1) == Some(entry.target);
                if mergeable {
                    return false;
                }
            }
            prev = Some((first, entry));
        }
        true
    }
}
