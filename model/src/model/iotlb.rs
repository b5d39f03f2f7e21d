//! An IOTLB as the history of its mappings: the value of an IOVA is what the last operation
//! that covered it said. Canonical entries and lookups are derived from that by cutting the
//! address space at every operation's boundaries, in `u128` so that ranges ending at
//! `u64::MAX` need no care.

use vm_memory_core::Permissions;

const TOP: u128 = 1 << 64;

/// One mapping operation: `first..end` (end exclusive) maps to `target..`, or is unmapped.
#[derive(Clone, Copy, Debug)]
struct Layer {
    first: u128,
    end: u128,
    mapping: Option<(u128, Permissions)>,
}

/// A canonical entry: `first..=last` maps to `target..` with `perm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelEntry {
    /// First IOVA.
    pub first: u64,
    /// Last IOVA (inclusive).
    pub last: u64,
    /// Target of `first`.
    pub target: u64,
    /// Permissions.
    pub perm: Permissions,
}

/// Why a lookup failed, as `(base, length)` lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelFails {
    /// Maximal unmapped parts of the request.
    pub misses: Vec<(u64, usize)>,
    /// Mapped parts without the permission, one per entry, clipped.
    pub access_fails: Vec<(u64, usize)>,
}

/// Errors of `set_mapping`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The IOVA or the target range runs past `u64::MAX`.
    Overflow,
}

/// The IOTLB model.
#[derive(Clone, Debug, Default)]
pub struct ModelIotlb {
    layers: Vec<Layer>,
}

impl ModelIotlb {
    /// `set_mapping`: `length == 0` does nothing; a range (IOVA or target) past `u64::MAX` is
    /// refused and changes nothing; otherwise the range now maps to `map_to..`.
    pub fn set_mapping(
        &mut self,
        iova: u64,
        map_to: u64,
        length: usize,
        perm: Permissions,
    ) -> Result<(), MapError> {
        if length == 0 {
            return Ok(());
        }
        let end = iova as u128 + length as u128;
        if end > TOP || map_to as u128 + length as u128 > TOP {
            return Err(MapError::Overflow);
        }
        self.layers.push(Layer {
            first: iova as u128,
            end,
            mapping: Some((map_to as u128, perm)),
        });
        Ok(())
    }

    /// `invalidate_mapping`: unmaps the range, clipped at `u64::MAX`; `length == 0` does nothing.
    pub fn invalidate_mapping(&mut self, iova: u64, length: usize) {
        if length == 0 {
            return;
        }
        self.layers.push(Layer {
            first: iova as u128,
            end: (iova as u128 + length as u128).min(TOP),
            mapping: None,
        });
    }

    /// `invalidate_all`.
    pub fn invalidate_all(&mut self) {
        self.layers.clear();
    }

    /// What `addr` maps to: `(target, perm)`.
    fn value_at(&self, addr: u128) -> Option<(u128, Permissions)> {
        let layer = self
            .layers
            .iter()
            .rev()
            .find(|l| l.first <= addr && addr < l.end)?;
        layer
            .mapping
            .map(|(target, perm)| (target + (addr - layer.first), perm))
    }

    /// The elementary intervals of `first..end`: cut at every layer boundary, so that each
    /// interval is mapped uniformly (contiguously, one permission) or unmapped.
    fn cuts(&self, first: u128, end: u128) -> Vec<(u128, u128)> {
        let mut points: Vec<u128> = vec![first, end];
        for l in &self.layers {
            for p in [l.first, l.end] {
                if first < p && p < end {
                    points.push(p);
                }
            }
        }
        points.sort_unstable();
        points.dedup();
        points.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// The canonical entries: maximal runs that are contiguous in both spaces with one
    /// permission.
    pub fn entries(&self) -> Vec<ModelEntry> {
        let mut out: Vec<(u128, u128, u128, Permissions)> = Vec::new();
        for (a, b) in self.cuts(0, TOP) {
            let Some((target, perm)) = self.value_at(a) else {
                continue;
            };
            if let Some(last) = out.last_mut()
                && last.1 == a
                && last.3 == perm
                && last.2 + (a - last.0) == target
            {
                last.1 = b;
                continue;
            }
            out.push((a, b, target, perm));
        }
        out.into_iter()
            .map(|(a, b, target, perm)| ModelEntry {
                first: a as u64,
                last: (b - 1) as u64,
                target: target as u64,
                perm,
            })
            .collect()
    }

    /// `lookup`: `length == 0` succeeds with nothing; a range past `u64::MAX` fails with one miss
    /// that is the whole request; otherwise either one piece `(target, length)` per entry the
    /// range crosses (clipped), or every miss and every forbidden entry part.
    pub fn lookup(
        &self,
        iova: u64,
        length: usize,
        access: Permissions,
    ) -> Result<Vec<(u64, usize)>, ModelFails> {
        if length == 0 {
            return Ok(Vec::new());
        }
        let first = iova as u128;
        let end = first + length as u128;
        if end > TOP {
            return Err(ModelFails {
                misses: vec![(iova, length)],
                access_fails: Vec::new(),
            });
        }
        let mut fails = ModelFails::default();
        let mut pieces = Vec::new();
        let mut miss_start: Option<u128> = None;
        let mut cursor = first;
        let entries = self.entries();
        let clip = |a: u128, b: u128| (a as u64, (b - a) as usize);
        while cursor < end {
            let entry = entries
                .iter()
                .find(|e| e.first as u128 <= cursor && cursor <= e.last as u128);
            match entry {
                None => {
                    miss_start.get_or_insert(cursor);
                    // The next entry start, or the end.
                    let next = entries
                        .iter()
                        .map(|e| e.first as u128)
                        .filter(|&s| s > cursor)
                        .min()
                        .unwrap_or(end)
                        .min(end);
                    cursor = next;
                }
                Some(e) => {
                    if let Some(m) = miss_start.take() {
                        fails.misses.push(clip(m, cursor));
                    }
                    let stop = (e.last as u128 + 1).min(end);
                    if e.perm.allow(access) {
                        let target = e.target as u128 + (cursor - e.first as u128);
                        pieces.push((target as u64, (stop - cursor) as usize));
                    } else {
                        fails.access_fails.push(clip(cursor, stop));
                    }
                    cursor = stop;
                }
            }
        }
        if let Some(m) = miss_start {
            fails.misses.push(clip(m, end));
        }
        if fails.misses.is_empty() && fails.access_fails.is_empty() {
            Ok(pieces)
        } else {
            Err(fails)
        }
    }
}
