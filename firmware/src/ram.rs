//! The guest RAM the checks work on, described the way firmware describes its RAM: a `static`
//! fixed-capacity table of raw regions, checked at compile time, no allocator.
//!
//! ```text
//! guest address   0x0000     0x4000     0x8000        0x1_0000   0x1_4000
//!                 | LOW      | MID      | (hole)      | HIGH     |
//! ```
//!
//! `LOW` and `MID` are adjacent, so accesses may run from one into the other; `MID` and `HIGH`
//! have a hole between them. Each region is backed by its own page-aligned static buffer and
//! tracks dirty pages in a [`FixedBitmap`] of one word.

use core::num::NonZeroUsize;
use core::ptr;

use vm_memory_core::bitmap::FixedBitmap;
use vm_memory_core::{GuestAddress, GuestRegionCollectionError, RawRegion, RegionTable};

/// Dirty-tracking granule.
pub const PAGE_SIZE: usize = 0x1000;
/// The size of each region (four pages).
pub const REGION_SIZE: usize = 0x4000;
/// Guest address of the low region.
pub const LOW: GuestAddress = GuestAddress(0x0000);
/// Guest address of the middle region, right after the low one.
pub const MID: GuestAddress = GuestAddress(0x4000);
/// First guest address of the hole after the middle region.
pub const HOLE: GuestAddress = GuestAddress(0x8000);
/// Guest address of the high region, after the hole.
pub const HIGH: GuestAddress = GuestAddress(0x1_0000);
/// How many regions the table can hold (one slot is left free).
pub const CAPACITY: usize = 4;

/// The region type: raw host memory with an inline bitmap of one word (up to 64 pages).
pub type Region = RawRegion<FixedBitmap<1>>;

/// Host memory behind one region.
#[repr(C, align(4096))]
pub struct Backing([u8; REGION_SIZE]);

static mut LOW_BACKING: Backing = Backing([0; REGION_SIZE]);
static mut MID_BACKING: Backing = Backing([0; REGION_SIZE]);
static mut HIGH_BACKING: Backing = Backing([0; REGION_SIZE]);

const PAGE: NonZeroUsize = NonZeroUsize::new(PAGE_SIZE).unwrap();

/// Unwraps a region in a `const` context, where an error becomes a compile-time error.
const fn valid(region: Result<Region, GuestRegionCollectionError>) -> Region {
    match region {
        Ok(region) => region,
        Err(_) => panic!("invalid region"),
    }
}

/// Builds one region over `backing`, placed at `start`.
///
/// # Safety
///
/// `backing` must be accessed only through the region it is given to (and, for checking what
/// landed where, [`peek`]).
const unsafe fn region(backing: *mut Backing, start: GuestAddress) -> Region {
    // SAFETY: `backing` points to a static of `REGION_SIZE` bytes, valid for the whole run;
    // the caller keeps every other access away from it.
    valid(unsafe {
        RawRegion::with_bitmap(
            backing.cast(),
            REGION_SIZE,
            start,
            FixedBitmap::new(REGION_SIZE, PAGE),
        )
    })
}

/// The board's RAM.
pub static RAM: RegionTable<Region, CAPACITY> = RegionTable::from_raw_regions([
    // SAFETY: each backing static is private to this module and used by this region only.
    unsafe { region(&raw mut LOW_BACKING, LOW) },
    // SAFETY: as above.
    unsafe { region(&raw mut MID_BACKING, MID) },
    // SAFETY: as above.
    unsafe { region(&raw mut HIGH_BACKING, HIGH) },
]);

/// Which backing buffer to look at.
#[derive(Clone, Copy, Debug)]
pub enum Bank {
    /// Behind [`LOW`].
    Low,
    /// Behind [`MID`].
    Mid,
    /// Behind [`HIGH`].
    High,
}

/// Reads `N` bytes of a backing buffer at `offset` directly, bypassing the region table, to
/// check where an access through the table landed. `None` past the end of the buffer.
pub fn peek<const N: usize>(bank: Bank, offset: usize) -> Option<[u8; N]> {
    let end = offset.checked_add(N)?;
    if end > REGION_SIZE {
        return None;
    }
    let base: *const u8 = match bank {
        Bank::Low => (&raw const LOW_BACKING).cast(),
        Bank::Mid => (&raw const MID_BACKING).cast(),
        Bank::High => (&raw const HIGH_BACKING).cast(),
    };
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        // SAFETY: `offset + i < REGION_SIZE` (checked above), so the address is inside the
        // static buffer; a volatile read of a `u8` forms no reference and, on one CPU, races
        // with nothing.
        *byte = unsafe { ptr::read_volatile(base.add(offset + i)) };
    }
    Some(out)
}
