//! A test IOMMU in the style of a vhost-user back-end, and test memory.

use std::sync::{Mutex, RwLock, RwLockReadGuard};
use std::vec::Vec;

use crate::address::GuestAddress;
use crate::guest_memory::{GuestMemoryBackend, Permissions};
use crate::iommu::{Error, Iommu, IotlbFails, IotlbIterator, IovaRange};
use crate::region::test_regions::region;
use crate::region::{GuestRegionCollection, RawRegion};
use crate::{Bytes, Iotlb};

/// An IOMMU whose IOTLB is refilled from "page tables" (what a vhost-user front-end knows).
///
/// `translate` looks the range up in the IOTLB; on failure it records the [`IotlbFails`],
/// copies the page-table entries behind every failed range into the IOTLB (with their own
/// permissions) and looks up again, once.
#[derive(Debug, Default)]
pub(super) struct MockIommu {
    pub(super) iotlb: RwLock<Iotlb>,
    pub(super) tables: Mutex<Iotlb>,
    /// Every failed IOTLB lookup, in order.
    pub(super) seen: Mutex<Vec<IotlbFails>>,
    /// Every `translate` call, in order.
    pub(super) requests: Mutex<Vec<(IovaRange, Permissions)>>,
}

impl MockIommu {
    /// Adds a page-table mapping (not in the IOTLB yet).
    pub(super) fn map_in_tables(&self, iova: u64, to: u64, len: usize, perm: Permissions) {
        self.tables
            .lock()
            .unwrap()
            .set_mapping(GuestAddress(iova), GuestAddress(to), len, perm)
            .unwrap();
    }

    /// Adds an IOTLB mapping directly.
    pub(super) fn map_in_iotlb(&self, iova: u64, to: u64, len: usize, perm: Permissions) {
        self.iotlb
            .write()
            .unwrap()
            .set_mapping(GuestAddress(iova), GuestAddress(to), len, perm)
            .unwrap();
    }

    /// The failed lookups so far, cleared.
    pub(super) fn take_seen(&self) -> Vec<IotlbFails> {
        core::mem::take(&mut *self.seen.lock().unwrap())
    }

    /// Copies the page-table entries behind `range` into `iotlb`.
    fn refill(
        tables: &Iotlb,
        iotlb: &mut Iotlb,
        range: IovaRange,
        access: Permissions,
    ) -> Result<(), Error> {
        if let Err(fails) = Iotlb::lookup(tables, range.base, range.length, access) {
            let first = fails
                .misses
                .iter()
                .chain(&fails.access_fails)
                .min_by_key(|r| r.base.0);
            return Err(Error::CannotResolve {
                iova_range: *first.unwrap_or(&range),
                reason: "not mapped for this access in the page tables".into(),
            });
        }
        let last = range.base.0 + (range.length as u64 - 1);
        for entry in tables.entries() {
            if entry.last.0 < range.base.0 || entry.iova.0 > last {
                continue;
            }
            let from = entry.iova.0.max(range.base.0);
            let to = entry.last.0.min(last);
            let target = entry.target.0 + (from - entry.iova.0);
            let length = usize::try_from(to - from + 1).unwrap();
            iotlb.set_mapping(
                GuestAddress(from),
                GuestAddress(target),
                length,
                entry.permissions,
            )?;
        }
        Ok(())
    }
}

impl Iommu for MockIommu {
    type IotlbGuard<'a> = RwLockReadGuard<'a, Iotlb>;

    fn translate(
        &self,
        iova: GuestAddress,
        length: usize,
        access: Permissions,
    ) -> Result<IotlbIterator<Self::IotlbGuard<'_>>, Error> {
        let request = IovaRange { base: iova, length };
        self.requests.lock().unwrap().push((request, access));
        let fails = match Iotlb::lookup(self.iotlb.read().unwrap(), iova, length, access) {
            Ok(hit) => return Ok(hit),
            Err(fails) => fails,
        };
        self.seen.lock().unwrap().push(fails.clone());
        {
            let tables = self.tables.lock().unwrap();
            let mut iotlb = self.iotlb.write().unwrap();
            for &range in fails.misses.iter().chain(&fails.access_fails) {
                Self::refill(&tables, &mut iotlb, range, access)?;
            }
        }
        Iotlb::lookup(self.iotlb.read().unwrap(), iova, length, access).map_err(|_| {
            Error::CannotResolve {
                iova_range: request,
                reason: "still failing after a refill".into(),
            }
        })
    }
}

/// The byte that test memory holds at physical address `addr` before any write.
pub(super) fn pattern(addr: u64) -> u8 {
    (addr % 251) as u8
}

/// Physical memory, small for Miri: `[0x1000, 0x1200)` as two adjacent regions, a hole,
/// `[0x8000, 0x8100)`; each byte holds [`pattern`] of its address.
pub(super) fn phys_mem() -> GuestRegionCollection<RawRegion> {
    let mem = GuestRegionCollection::from_regions(std::vec![
        region(0x1000, 0x100),
        region(0x1100, 0x100),
        region(0x8000, 0x100),
    ])
    .unwrap();
    fill(&mem);
    mem
}

/// Writes [`pattern`] into every byte of `mem`.
pub(super) fn fill<M: GuestMemoryBackend>(mem: &M) {
    for region in mem.iter() {
        let start = crate::GuestMemoryRegion::start_addr(region).0;
        let len = crate::GuestMemoryRegion::len(region);
        let bytes: Vec<u8> = (start..start + len).map(pattern).collect();
        mem.write_slice(&bytes, GuestAddress(start)).unwrap();
    }
}

/// The bytes [`pattern`] puts at `len` physical addresses from `addr`.
pub(super) fn expected(addr: u64, len: usize) -> Vec<u8> {
    (addr..addr + len as u64).map(pattern).collect()
}
