//! Where everything lives in guest physical memory, and which pages the guest writes.
//!
//! Two regions with a hole between them, both reachable from 16-bit real mode:
//!
//! | region | guest range | backing | holds |
//! |---|---|---|---|
//! | low  | `0x00000..0x10000` | private anonymous memory | the program (page 1); the squares (pages 4-5); the sum (page 6) |
//! | high | `0x20000..0x30000` | a sealed memfd | the table (page 0); the sum of squares (page 3); the maximum (page 15) |
//!
//! The VMM writes the program and the table; the guest writes only the results. It uses no
//! stack, takes no interrupts and runs without paging, so nothing else in guest memory is
//! written: the pages of [`guest_writes`] are exactly the pages KVM's dirty log must report.

use vm_memory::GuestAddress;

use crate::memory::{Backing, RegionSpec};

/// The page size of KVM's dirty log and of the VMM's `AtomicBitmap` on x86.
pub const PAGE_SIZE: u64 = 0x1000;

/// Guest address of the low region.
pub const LOW_BASE: u64 = 0x0;
/// Size of the low region.
pub const LOW_SIZE: usize = 0x1_0000;
/// Guest address of the high region (16-byte aligned and below 1 MiB: a real-mode segment).
pub const HIGH_BASE: u64 = 0x2_0000;
/// Size of the high region (one real-mode segment: every byte has a 16-bit offset).
pub const HIGH_SIZE: usize = 0x1_0000;

/// Where the VMM loads the guest program, and where the vCPU starts (low region, page 1).
pub const CODE_ADDR: u64 = 0x1000;
/// The table the VMM writes: `u16` entry count, `u16` reserved, then the `u16` entries.
pub const TABLE_ADDR: u64 = HIGH_BASE;
/// Offset of the first entry from [`TABLE_ADDR`].
pub const TABLE_ENTRIES_OFFSET: u64 = 4;
/// The guest's `u32` squares, one per entry. Starts 16 bytes before a page boundary, so the
/// fifth square is the first one on the next page.
pub const SQUARES_ADDR: u64 = 0x4ff0;
/// The guest's `u16` sum of the entries (wrapping).
pub const SUM_ADDR: u64 = 0x6000;
/// The guest's `u32` sum of the squares (wrapping).
pub const SUM_OF_SQUARES_ADDR: u64 = HIGH_BASE + 0x3000;
/// The guest's `u16` largest entry, in the last two bytes of the high region.
pub const MAX_ADDR: u64 = HIGH_BASE + 0xfffe;

/// The port the guest writes its 16-bit sum to when it is done.
pub const DONE_PORT: u16 = 0x10;

/// The most entries a table may have: the squares then end at `0x50f0`, inside page 5.
pub const MAX_ENTRIES: usize = 64;

/// The two regions the example runs on.
pub fn regions() -> [RegionSpec; 2] {
    [
        RegionSpec {
            base: GuestAddress(LOW_BASE),
            size: LOW_SIZE,
            backing: Backing::Anonymous,
        },
        RegionSpec {
            base: GuestAddress(HIGH_BASE),
            size: HIGH_SIZE,
            backing: Backing::Memfd,
        },
    ]
}

/// One store the guest program makes into guest memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestWrite {
    /// What is stored.
    pub what: &'static str,
    /// First guest address written.
    pub addr: u64,
    /// Bytes written.
    pub len: u64,
}

/// Every store the guest makes for a table of `entries` entries (the squares only if there is
/// at least one entry: the program skips its loop for an empty table).
pub fn guest_writes(entries: usize) -> Vec<GuestWrite> {
    let mut writes = Vec::with_capacity(4);
    if entries > 0 {
        writes.push(GuestWrite {
            what: "squares",
            addr: SQUARES_ADDR,
            len: 4 * entries as u64,
        });
    }
    writes.extend([
        GuestWrite {
            what: "sum",
            addr: SUM_ADDR,
            len: 2,
        },
        GuestWrite {
            what: "sum of squares",
            addr: SUM_OF_SQUARES_ADDR,
            len: 4,
        },
        GuestWrite {
            what: "maximum",
            addr: MAX_ADDR,
            len: 2,
        },
    ]);
    writes
}

/// The pages (indices from `region_base`) of a region of `region_size` bytes that `writes`
/// touch, sorted and without duplicates.
pub fn pages_touched(writes: &[GuestWrite], region_base: u64, region_size: u64) -> Vec<u64> {
    let end = region_base + region_size;
    let mut pages: Vec<u64> = writes
        .iter()
        .filter(|w| w.len > 0 && w.addr >= region_base && w.addr < end)
        .flat_map(|w| {
            let first = (w.addr - region_base) / PAGE_SIZE;
            let last = (w.addr + w.len - 1 - region_base) / PAGE_SIZE;
            first..=last
        })
        .collect();
    pages.sort_unstable();
    pages.dedup();
    pages
}

// The real-mode program addresses the high region through one segment and the low region
// through segment 0: every address must be reachable that way.
const _: () = assert!(HIGH_BASE.is_multiple_of(16) && HIGH_BASE + HIGH_SIZE as u64 <= 0x10_0000);
const _: () = assert!(LOW_BASE == 0 && LOW_SIZE <= 0x1_0000);
const _: () = assert!(TABLE_ADDR >= HIGH_BASE && MAX_ADDR + 2 <= HIGH_BASE + HIGH_SIZE as u64);
const _: () = assert!(SQUARES_ADDR + 4 * MAX_ENTRIES as u64 <= SUM_ADDR);
const _: () = assert!(CODE_ADDR + 0x100 <= SQUARES_ADDR);

#[cfg(test)]
mod tests {
    use super::*;

    fn low_pages(entries: usize) -> Vec<u64> {
        pages_touched(&guest_writes(entries), LOW_BASE, LOW_SIZE as u64)
    }

    fn high_pages(entries: usize) -> Vec<u64> {
        pages_touched(&guest_writes(entries), HIGH_BASE, HIGH_SIZE as u64)
    }

    #[test]
    fn squares_cross_into_page_5_with_the_fifth_entry() {
        assert_eq!(low_pages(0), [6]);
        assert_eq!(low_pages(1), [4, 6]);
        assert_eq!(low_pages(4), [4, 6]); // 0x4ff0..=0x4fff
        assert_eq!(low_pages(5), [4, 5, 6]); // 0x4ff0..=0x5003
        assert_eq!(low_pages(MAX_ENTRIES), [4, 5, 6]);
    }

    #[test]
    fn high_region_pages_do_not_depend_on_the_table() {
        assert_eq!(high_pages(0), [3, 15]);
        assert_eq!(high_pages(MAX_ENTRIES), [3, 15]);
    }

    #[test]
    fn writes_outside_a_region_are_not_counted() {
        let w = [GuestWrite {
            what: "x",
            addr: 0x1_0000,
            len: 8,
        }];
        assert!(pages_touched(&w, LOW_BASE, LOW_SIZE as u64).is_empty());
        assert!(pages_touched(&w, HIGH_BASE, HIGH_SIZE as u64).is_empty());
    }
}
