//! `Iotlb` against the history model: mappings and invalidations at small IOVAs (so that ranges
//! overlap, split and merge) and near the top of the address space, the canonical entries
//! compared after every step, and lookups compared piece by piece or failure by failure.

use std::ops::Deref;

use arbitrary::{Arbitrary, Unstructured};
use vm_memory_core::iommu::{Error, Iotlb, IovaRange};
use vm_memory_core::{GuestAddress, Permissions};

use super::Ctx;
use crate::input::{Wide, decode, many};
use crate::model::iotlb::{MapError, ModelEntry, ModelFails, ModelIotlb};

/// An IOVA or target address: mostly in a small window, sometimes at an edge.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Iova {
    /// `0..=255`.
    Low(u8),
    /// `u64::MAX - down`.
    High(u8),
    /// Any address.
    Wide(Wide),
}

impl Iova {
    pub(crate) fn get(self) -> u64 {
        match self {
            Iova::Low(v) => u64::from(v),
            Iova::High(v) => u64::MAX - u64::from(v),
            Iova::Wide(w) => w.get(),
        }
    }
}

/// A length: mostly short, sometimes at an edge.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Length {
    /// `0..=63`.
    Short(u8),
    /// Any length.
    Wide(Wide),
}

impl Length {
    pub(crate) fn get(self) -> usize {
        match self {
            Length::Short(v) => usize::from(v % 64),
            Length::Wide(w) => w.get_usize(),
        }
    }
}

/// A permission value.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Perm {
    /// `No`.
    No,
    /// `Read`.
    Read,
    /// `Write`.
    Write,
    /// `ReadWrite`.
    ReadWrite,
}

impl Perm {
    pub(crate) fn get(self) -> Permissions {
        match self {
            Perm::No => Permissions::No,
            Perm::Read => Permissions::Read,
            Perm::Write => Permissions::Write,
            Perm::ReadWrite => Permissions::ReadWrite,
        }
    }
}

/// Where a mapping points: relative to its IOVA (so that neighbours continue each other) or
/// anywhere.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Target {
    /// `iova + 8 * k` (wrapping).
    Near(u8),
    /// Any address.
    At(Iova),
}

/// One operation.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum IotlbOp {
    /// `set_mapping`.
    Map(Iova, Target, Length, Perm),
    /// `invalidate_mapping`.
    Invalidate(Iova, Length),
    /// `invalidate_all`.
    InvalidateAll,
    /// `lookup`.
    Lookup(Iova, Length, Perm),
}

/// A whole case.
#[derive(Arbitrary, Clone, Debug)]
pub struct Case {
    /// The operations.
    #[arbitrary(with = |u: &mut Unstructured<'_>| many(u, 48))]
    pub ops: Vec<IotlbOp>,
}

/// Decodes and runs one case.
pub fn run(data: &[u8]) {
    if let Ok(case) = decode::<Case>(data) {
        run_case(&case);
    }
}

/// Runs one case.
pub fn run_case(case: &Case) {
    let mut ctx = Ctx { case, step: 0 };
    let mut iotlb = Iotlb::new();
    let mut model = ModelIotlb::default();
    for (step, op) in case.ops.iter().enumerate() {
        ctx.step = step;
        match *op {
            IotlbOp::Map(iova, target, len, perm) => {
                let (iova, len, perm) = (iova.get(), len.get(), perm.get());
                let to = match target {
                    Target::Near(k) => iova.wrapping_add(8 * u64::from(k % 4)),
                    Target::At(t) => t.get(),
                };
                let real = iotlb.set_mapping(GuestAddress(iova), GuestAddress(to), len, perm);
                let real = real.map_err(|e| match e {
                    Error::MappingOverflow { iova_range, map_to }
                        if iova_range
                            == (IovaRange {
                                base: GuestAddress(iova),
                                length: len,
                            })
                            && map_to == GuestAddress(to) =>
                    {
                        Ok(MapError::Overflow)
                    }
                    other => Err(other),
                });
                let expected = model.set_mapping(iova, to, len, perm).map_err(Ok);
                ctx.eq(("set_mapping", iova, to, len, perm), real, expected);
            }
            IotlbOp::Invalidate(iova, len) => {
                let (iova, len) = (iova.get(), len.get());
                iotlb.invalidate_mapping(GuestAddress(iova), len);
                model.invalidate_mapping(iova, len);
            }
            IotlbOp::InvalidateAll => {
                iotlb.invalidate_all();
                model.invalidate_all();
            }
            IotlbOp::Lookup(iova, len, access) => {
                let (iova, len, access) = (iova.get(), len.get(), access.get());
                ctx.eq(
                    ("lookup", iova, len, access),
                    lookup(&iotlb, iova, len, access),
                    model.lookup(iova, len, access),
                );
            }
        }
        let entries: Vec<ModelEntry> = iotlb
            .entries()
            .map(|e| ModelEntry {
                first: e.iova.0,
                last: e.last.0,
                target: e.target.0,
                perm: e.permissions,
            })
            .collect();
        let expected = model.entries();
        ctx.eq(
            "len",
            (iotlb.len(), iotlb.is_empty()),
            (expected.len(), expected.is_empty()),
        );
        ctx.eq("entries", entries, expected);
    }
}

fn lookup(
    iotlb: &Iotlb,
    iova: u64,
    len: usize,
    access: Permissions,
) -> Result<Vec<(u64, usize)>, ModelFails> {
    let pairs = |ranges: &[IovaRange]| ranges.iter().map(|r| (r.base.0, r.length)).collect();
    match Iotlb::lookup(Guard(iotlb), GuestAddress(iova), len, access) {
        Ok(pieces) => Ok(pieces.map(|p| (p.base.0, p.length)).collect()),
        Err(fails) => Err(ModelFails {
            misses: pairs(&fails.misses),
            access_fails: pairs(&fails.access_fails),
        }),
    }
}

/// A `Deref` guard, as an IOMMU would pass (a lock guard).
struct Guard<'a>(&'a Iotlb);

impl Deref for Guard<'_> {
    type Target = Iotlb;

    fn deref(&self) -> &Iotlb {
        self.0
    }
}
