//! Fixtures shared by the benchmarks of this workspace's `vm-memory` against upstream
//! vm-memory 0.18.0 (crates.io, renamed `upstream`).
//!
//! The same guest layouts are built with both crates by one macro ([`ours`] and [`up`] have the
//! same items), so a benchmark runs identical workloads through both in one process. The layout is
//! `n` regions of 1 MiB placed back to back from guest address 0; objects sit at [`OFFSET`]
//! inside a region, or straddle the boundary between the two middle regions.
//!
//! The pages a benchmark touches are written once when the memory is built, so no benchmark
//! measures a page fault or reads the kernel's shared zero page.

use std::sync::atomic::{AtomicBool, Ordering};

/// One MiB: the size of every region.
pub const MIB: usize = 1 << 20;

/// The region counts the per-object and lookup benchmarks use.
pub const REGION_COUNTS: [usize; 4] = [1, 8, 64, 1024];

/// Where objects sit inside a region (a cache-line aligned offset that is not the first byte).
pub const OFFSET: u64 = 0x100;

/// The bulk benchmarks copy to or from the start of region 1 of an 8-region memory, so that a
/// 1 MiB copy fills exactly one region.
pub const BULK_REGIONS: usize = 8;

/// Guest address of the bulk copies (the start of region 1).
pub const BULK_ADDR: u64 = MIB as u64;

/// Number of addresses in each lookup address list (a power of two; 32 KiB of addresses).
pub const LOOKUP_ADDRS: usize = 4096;

/// A virtio split-queue descriptor: 16 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// Guest address of the buffer.
    pub addr: u64,
    /// Length of the buffer.
    pub len: u32,
    /// `VIRTQ_DESC_F_*` flags.
    pub flags: u16,
    /// Index of the next descriptor of the chain.
    pub next: u16,
}

/// A 96-byte plain-data struct (a typical device request header or small config block).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Blob96 {
    /// Twelve words.
    pub words: [u64; 12],
}

// SAFETY: `repr(C)` struct of integers laid out without padding (8 + 4 + 2 + 2 = 16 bytes, all
// fields naturally aligned); every bit pattern is a valid value.
unsafe impl vm_memory::ByteValued for Descriptor {}
// SAFETY: as above.
unsafe impl upstream::ByteValued for Descriptor {}
// SAFETY: `repr(C)` struct holding one array of `u64`, so no padding; every bit pattern is valid.
unsafe impl vm_memory::ByteValued for Blob96 {}
// SAFETY: as above.
unsafe impl upstream::ByteValued for Blob96 {}

/// Where an object sits in a layout of `n` regions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// At [`OFFSET`] in the first region.
    First,
    /// At [`OFFSET`] in the last region.
    Last,
    /// Straddling the boundary between regions `n / 2 - 1` and `n / 2`, half on each side (needs
    /// two or more regions).
    Boundary,
}

impl Place {
    /// All places.
    pub const ALL: [Place; 3] = [Place::First, Place::Last, Place::Boundary];

    /// The name used in benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            Place::First => "first",
            Place::Last => "last",
            Place::Boundary => "boundary",
        }
    }

    /// The guest address of a `size`-byte object at this place in a layout of `regions`
    /// regions; `None` where the place does not exist (a boundary with one region, or a
    /// one-byte object, which cannot straddle anything) or repeats another one (the last region
    /// of a one-region layout is the first).
    pub fn addr(self, regions: usize, size: usize) -> Option<u64> {
        let mib = MIB as u64;
        match self {
            Place::First => Some(OFFSET),
            Place::Last if regions > 1 => Some((regions as u64 - 1) * mib + OFFSET),
            Place::Boundary if regions > 1 && size > 1 => {
                Some((regions as u64 / 2) * mib - (size as u64 / 2))
            }
            _ => None,
        }
    }
}

/// A xorshift64* generator: reproducible pseudo-random addresses with no dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// The small in-region offsets the lookup lists cycle through: 48 cache lines of the first page,
/// starting at [`OFFSET`], all aligned to 64 bytes.
fn lookup_offset(k: usize) -> u64 {
    OFFSET + (k as u64 % 48) * 64
}

/// [`LOOKUP_ADDRS`] addresses that keep hitting one region (the last one), as a device does
/// with its queue: varying small offsets inside one page.
pub fn same_region_addrs(regions: usize) -> Vec<u64> {
    let base = (regions as u64 - 1) * MIB as u64;
    (0..LOOKUP_ADDRS).map(|k| base + lookup_offset(k)).collect()
}

/// [`LOOKUP_ADDRS`] addresses in regions chosen at random over all `regions`, at the same small
/// offsets as [`same_region_addrs`]: the lookup sees random regions while the data touched stays
/// a few cache lines per region, so the benchmark measures the lookup rather than cache and TLB
/// misses on the guest data.
pub fn random_region_addrs(regions: usize) -> Vec<u64> {
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15 ^ regions as u64);
    (0..LOOKUP_ADDRS)
        .map(|k| rng.below(regions as u64) * MIB as u64 + lookup_offset(k))
        .collect()
}

/// The pages of a region every fixture writes once: its first and last 8 KiB.
const EDGE: u64 = 8 << 10;

/// The same fixtures for both crates; `$krate` is the crate's name.
macro_rules! fixtures {
    ($krate:ident) => {
        use std::sync::atomic::{AtomicBool, Ordering};

        use ::$krate::bitmap::AtomicBitmap;
        use ::$krate::{Bytes, GuestAddress, GuestMemoryAtomic, GuestMemoryMmap};

        /// Guest memory without dirty tracking.
        pub type Mem = GuestMemoryMmap<()>;
        /// Guest memory with an `AtomicBitmap` per region.
        pub type MemBitmap = GuestMemoryMmap<AtomicBitmap>;
        /// The hot-swappable handle.
        pub type Atomic = GuestMemoryAtomic<Mem>;

        fn ranges(regions: usize) -> Vec<(GuestAddress, usize)> {
            (0..regions)
                .map(|i| (GuestAddress((i * $crate::MIB) as u64), $crate::MIB))
                .collect()
        }

        /// Writes one byte per 4 KiB page of `start..start + len`.
        fn touch<M: Bytes<GuestAddress>>(mem: &M, start: u64, len: u64)
        where
            M::E: std::fmt::Debug,
        {
            for page in (start..start + len).step_by(4096) {
                mem.write_obj(0u8, GuestAddress(page)).expect("touch");
            }
        }

        fn touch_layout<M: Bytes<GuestAddress>>(mem: &M, regions: usize)
        where
            M::E: std::fmt::Debug,
        {
            let mib = $crate::MIB as u64;
            for i in 0..regions as u64 {
                touch(mem, i * mib, $crate::EDGE);
                touch(mem, (i + 1) * mib - $crate::EDGE, $crate::EDGE);
            }
            // The bulk copies use all of region 1 (or region 0 when alone).
            let bulk = if regions > 1 { mib } else { 0 };
            touch(mem, bulk, mib);
        }

        /// `regions` regions of 1 MiB from address 0, with the benchmarks' pages written.
        pub fn memory(regions: usize) -> Mem {
            let mem = Mem::from_ranges(&ranges(regions)).expect("guest memory");
            touch_layout(&mem, regions);
            mem
        }

        /// As [`memory`], with an `AtomicBitmap` per region.
        pub fn memory_with_bitmap(regions: usize) -> MemBitmap {
            let mem = MemBitmap::from_ranges(&ranges(regions)).expect("guest memory");
            touch_layout(&mem, regions);
            mem
        }

        /// [`memory`] behind a `GuestMemoryAtomic`.
        pub fn atomic(regions: usize) -> Atomic {
            GuestMemoryAtomic::new(memory(regions))
        }

        /// Replaces the map of `handle` with clones of `map` until `stop` is set; returns the
        /// number of replacements.
        pub fn replace_until(handle: &Atomic, map: &Mem, stop: &AtomicBool) -> u64 {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                handle.lock().expect("writer lock").replace(map.clone());
                n += 1;
            }
            n
        }
    };
}

/// Fixtures built with this workspace's `vm-memory`.
pub mod ours {
    fixtures!(vm_memory);
}

/// The same fixtures built with upstream vm-memory 0.18.0.
pub mod up {
    fixtures!(upstream);
}

/// Keeps a flag set on drop, to stop a helper thread even when a benchmark panics.
#[derive(Debug)]
pub struct StopOnDrop<'a>(pub &'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places() {
        assert_eq!(Place::First.addr(1, 8), Some(OFFSET));
        assert_eq!(Place::Last.addr(1, 8), None);
        assert_eq!(Place::Boundary.addr(1, 8), None);
        assert_eq!(Place::Last.addr(8, 8), Some(7 * MIB as u64 + OFFSET));
        assert_eq!(Place::Boundary.addr(8, 8), Some(4 * MIB as u64 - 4));
        assert_eq!(Place::Boundary.addr(8, 1), None);
    }

    #[test]
    fn lookup_lists_stay_in_their_regions() {
        for n in REGION_COUNTS {
            let same = same_region_addrs(n);
            assert!(same.iter().all(|a| a / MIB as u64 == n as u64 - 1));
            let random = random_region_addrs(n);
            assert!(random.iter().all(|a| a / (MIB as u64) < n as u64));
            assert!(
                random
                    .iter()
                    .all(|a| a % (MIB as u64) < 2 * OFFSET + 48 * 64)
            );
            if n > 1 {
                let distinct: std::collections::BTreeSet<u64> =
                    random.iter().map(|a| a / MIB as u64).collect();
                assert!(distinct.len() > n / 2);
            }
        }
    }

    #[test]
    fn both_crates_read_back_the_same_objects() {
        use upstream::Bytes as _;
        use vm_memory::Bytes as _;

        let a = ours::memory(8);
        let b = up::memory(8);
        let d = Descriptor {
            addr: 0x1234,
            len: 7,
            flags: 1,
            next: 3,
        };
        let at = Place::Boundary.addr(8, 16).unwrap();
        a.write_obj(d, vm_memory::GuestAddress(at)).unwrap();
        b.write_obj(d, upstream::GuestAddress(at)).unwrap();
        let x: Descriptor = a.read_obj(vm_memory::GuestAddress(at)).unwrap();
        let y: Descriptor = b.read_obj(upstream::GuestAddress(at)).unwrap();
        assert_eq!((x, y), (d, d));
    }
}
