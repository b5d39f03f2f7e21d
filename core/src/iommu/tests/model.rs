//! `Iotlb` against its definition: a partial function from IOVA bytes to a target address and
//! permissions, compared after every step of a pseudo-random sequence of operations.

use std::collections::BTreeMap;
use std::vec::Vec;

use crate::address::GuestAddress;
use crate::guest_memory::Permissions;
use crate::iommu::{Iotlb, IotlbFails, IovaRange, MappedRange};

/// Byte `iova` maps to `(target, permissions)`.
#[derive(Default)]
struct Model(BTreeMap<u64, (u64, Permissions)>);

/// A maximal run of bytes: unmapped, or mapped contiguously with one permission.
struct Run {
    first: u64,
    last: u64,
    /// Target of `first` and the permissions, if mapped.
    mapping: Option<(u64, Permissions)>,
}

impl Model {
    fn set(&mut self, iova: u64, to: u64, len: usize, perm: Permissions) {
        for i in 0..len as u64 {
            self.0.insert(iova + i, (to + i, perm));
        }
    }

    fn invalidate(&mut self, iova: u64, len: usize) {
        for i in 0..len as u64 {
            self.0.remove(&(iova + i));
        }
    }

    /// The maximal runs of `first..=last`.
    fn runs(&self, first: u64, last: u64) -> Vec<Run> {
        let mut runs: Vec<Run> = Vec::new();
        for byte in first..=last {
            let here = self.0.get(&byte).copied();
            if let Some(run) = runs.last_mut() {
                let continues = match (run.mapping, here) {
                    (None, None) => true,
                    (Some((target, perm)), Some((t, p))) => {
                        p == perm && t == target + (byte - run.first)
                    }
                    _ => false,
                };
                if continues {
                    run.last = byte;
                    continue;
                }
            }
            runs.push(Run {
                first: byte,
                last: byte,
                mapping: here,
            });
        }
        runs
    }

    /// What `Iotlb::lookup` must answer.
    fn lookup(
        &self,
        iova: u64,
        len: usize,
        access: Permissions,
    ) -> Result<Vec<MappedRange>, IotlbFails> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let runs = self.runs(iova, iova + len as u64 - 1);
        let range = |run: &Run| IovaRange {
            base: GuestAddress(run.first),
            length: (run.last - run.first + 1) as usize,
        };
        let fails = IotlbFails {
            misses: runs
                .iter()
                .filter(|r| r.mapping.is_none())
                .map(range)
                .collect(),
            access_fails: runs
                .iter()
                .filter(|r| r.mapping.is_some_and(|(_, p)| !p.allow(access)))
                .map(range)
                .collect(),
        };
        if fails.misses.is_empty() && fails.access_fails.is_empty() {
            Ok(runs
                .iter()
                .map(|r| MappedRange {
                    base: GuestAddress(r.mapping.unwrap().0),
                    length: range(r).length,
                })
                .collect())
        } else {
            Err(fails)
        }
    }

    /// The canonical entries: the mapped maximal runs.
    fn entries(&self) -> Vec<(u64, u64, u64, Permissions)> {
        let (Some(&first), Some(&last)) = (self.0.keys().next(), self.0.keys().next_back()) else {
            return Vec::new();
        };
        self.runs(first, last)
            .into_iter()
            .filter_map(|r| r.mapping.map(|(t, p)| (r.first, r.last, t, p)))
            .collect()
    }
}

/// xorshift64: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn perm(&mut self) -> Permissions {
        [
            Permissions::No,
            Permissions::Read,
            Permissions::Write,
            Permissions::ReadWrite,
        ][self.below(4) as usize]
    }
}

#[test]
fn iotlb_matches_a_bytewise_model() {
    let steps = if cfg!(miri) { 12 } else { 2000 };
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut iotlb = Iotlb::new();
    let mut model = Model::default();
    for step in 0..steps {
        let iova = rng.below(96);
        let len = rng.below(24) as usize;
        match rng.below(10) {
            0..=5 => {
                // Targets near the IOVA (offsets multiple of 8) so that neighbours often
                // continue each other and must merge.
                let to = iova + 8 * rng.below(3);
                let perm = if rng.below(2) == 0 {
                    Permissions::Read
                } else {
                    rng.perm()
                };
                iotlb
                    .set_mapping(GuestAddress(iova), GuestAddress(to), len, perm)
                    .unwrap();
                model.set(iova, to, len, perm);
            }
            6..=8 => {
                iotlb.invalidate_mapping(GuestAddress(iova), len);
                model.invalidate(iova, len);
            }
            _ => {
                if rng.below(4) == 0 {
                    iotlb.invalidate_all();
                    model = Model::default();
                }
            }
        }
        assert!(iotlb.is_canonical(), "step {step}");
        let entries: Vec<_> = iotlb
            .entries()
            .map(|e| (e.iova.0, e.last.0, e.target.0, e.permissions))
            .collect();
        assert_eq!(entries, model.entries(), "step {step}");
        for _ in 0..3 {
            let (iova, len, access) = (rng.below(120), rng.below(40) as usize, rng.perm());
            let got = Iotlb::lookup(&iotlb, GuestAddress(iova), len, access)
                .map(Iterator::collect::<Vec<_>>);
            assert_eq!(
                got,
                model.lookup(iova, len, access),
                "step {step}: {iova:#x}+{len:#x}"
            );
        }
    }
}
