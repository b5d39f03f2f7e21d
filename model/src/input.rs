//! `arbitrary` inputs: region layouts, addresses and sizes near the edges that matter, and
//! operations.
//!
//! Raw values are rarely interesting; the specs here name an edge (a region's start or end, the
//! top of the address space, a power of two) plus a small delta, and resolve it against the
//! layout at hand.

use arbitrary::{Arbitrary, Unstructured};

/// The largest region the memory checks build (bytes).
pub const MAX_REGION_LEN: usize = 300;
/// The most regions in one layout.
pub const MAX_REGIONS: usize = 12;
/// The largest host buffer an operation allocates (bytes).
pub const MAX_BUFFER: usize = 700;

/// A `u64` that is often an edge: 0, a power of two, or the top of the range, plus a delta.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Wide {
    /// A small value.
    Small(u8),
    /// `2^shift + delta` (wrapping).
    Pow2(u8, i8),
    /// `u64::MAX - down`.
    Top(u8),
    /// Any value.
    Raw(u64),
}

impl Wide {
    /// The value.
    pub fn get(self) -> u64 {
        match self {
            Wide::Small(v) => u64::from(v),
            Wide::Pow2(shift, delta) => (1u64 << (shift % 64)).wrapping_add(delta as i64 as u64),
            Wide::Top(down) => u64::MAX - u64::from(down),
            Wide::Raw(v) => v,
        }
    }

    /// The value as a `usize`, truncated to the host's width.
    pub fn get_usize(self) -> usize {
        match self {
            Wide::Top(down) => usize::MAX - usize::from(down),
            other => other.get() as usize,
        }
    }
}

/// The gap before a region.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Gap {
    /// Adjacent to the previous region (or at the base).
    None,
    /// A few bytes.
    Small(u8),
    /// Up to 4 GiB.
    Large(u32),
    /// Any distance.
    Huge(Wide),
}

impl Gap {
    fn get(self) -> u128 {
        match self {
            Gap::None => 0,
            Gap::Small(v) => u128::from(v),
            Gap::Large(v) => u128::from(v),
            Gap::Huge(w) => u128::from(w.get()),
        }
    }
}

/// One region of a layout.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct RegionSpec {
    gap: Gap,
    len: u16,
    page: u8,
}

/// A layout of guest memory: 1 to [`MAX_REGIONS`] regions, adjacent or with holes, optionally
/// moved so that the last one ends at `u64::MAX`.
#[derive(Arbitrary, Clone, Debug)]
pub struct LayoutSpec {
    base: Wide,
    first: RegionSpec,
    #[arbitrary(with = |u: &mut Unstructured<'_>| many(u, MAX_REGIONS - 1))]
    more: Vec<RegionSpec>,
    at_top: bool,
}

/// A resolved region: start, length and the page size of its dirty bitmap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionPlan {
    /// First guest address.
    pub start: u64,
    /// Length (1..=`MAX_REGION_LEN`).
    pub len: usize,
    /// Dirty bitmap page size.
    pub page: usize,
}

/// Page sizes for region bitmaps: small ones so that a few hundred bytes span several pages.
const PAGES: [usize; 6] = [1, 2, 8, 16, 64, 4096];

impl LayoutSpec {
    /// The regions: sorted, non-overlapping, non-empty, inside the address space. Regions that
    /// would not fit are dropped (there is always at least one).
    pub fn resolve(&self) -> Vec<RegionPlan> {
        let specs = std::iter::once(&self.first).chain(&self.more);
        let mut plans: Vec<(u128, usize, usize)> = Vec::new();
        let mut cursor = u128::from(self.base.get());
        for spec in specs {
            let start = cursor + spec.gap.get();
            let len = usize::from(spec.len) % MAX_REGION_LEN + 1;
            if start + len as u128 > 1 << 64 {
                break;
            }
            plans.push((start, len, PAGES[usize::from(spec.page) % PAGES.len()]));
            cursor = start + len as u128;
        }
        if plans.is_empty() {
            let len = usize::from(self.first.len) % MAX_REGION_LEN + 1;
            plans.push(((1u128 << 64) - len as u128, len, 1));
        }
        if self.at_top {
            let (start, len, _) = *plans.last().expect("not empty");
            let shift = (1u128 << 64) - (start + len as u128);
            for plan in &mut plans {
                plan.0 += shift;
            }
        }
        plans
            .into_iter()
            .map(|(start, len, page)| RegionPlan {
                start: start as u64,
                len,
                page,
            })
            .collect()
    }
}

/// A guest address, relative to the layout.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum AddrSpec {
    /// Region `i`'s start plus a delta.
    Start(u8, i16),
    /// Region `i`'s end (one past its last byte) plus a delta.
    End(u8, i16),
    /// An address near an edge of the whole space.
    Wide(Wide),
}

impl AddrSpec {
    /// The address for the given regions (wrapping arithmetic: deltas may cross 0 or 2^64).
    pub fn resolve(self, regions: &[(u64, u64)]) -> u64 {
        let pick = |i: u8| regions[usize::from(i) % regions.len()];
        match self {
            AddrSpec::Start(i, d) => pick(i).0.wrapping_add(d as i64 as u64),
            AddrSpec::End(i, d) => {
                let (start, len) = pick(i);
                start.wrapping_add(len).wrapping_add(d as i64 as u64)
            }
            AddrSpec::Wide(w) => w.get(),
        }
    }
}

/// A byte count for operations that do not allocate it.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum CountSpec {
    /// A small count.
    Small(u16),
    /// Any count, often at an edge.
    Wide(Wide),
}

impl CountSpec {
    /// The count.
    pub fn get(self) -> usize {
        match self {
            CountSpec::Small(n) => usize::from(n) % (2 * MAX_BUFFER),
            CountSpec::Wide(w) => w.get_usize(),
        }
    }
}

/// A buffer length (allocated by the operation).
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct Len(u16);

impl Len {
    /// The length, at most [`MAX_BUFFER`].
    pub fn get(self) -> usize {
        usize::from(self.0) % (MAX_BUFFER + 1)
    }
}

/// Takes a whole case from raw fuzzer bytes.
///
/// # Errors
///
/// When the bytes do not decode (the fuzzer then tries other bytes).
pub fn decode<'a, T: Arbitrary<'a>>(data: &'a [u8]) -> arbitrary::Result<T> {
    T::arbitrary_take_rest(Unstructured::new(data))
}

/// Up to `max` values, as many as the data has: a count byte first, so that random bytes give
/// long sequences too (`arbitrary`'s own `Vec` continues with probability 1/2 per element).
///
/// # Errors
///
/// When the data runs out in the middle of a value.
pub fn many<'a, T: Arbitrary<'a>>(
    u: &mut Unstructured<'a>,
    max: usize,
) -> arbitrary::Result<Vec<T>> {
    let count = u.int_in_range(0..=max)?;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if u.is_empty() {
            break;
        }
        out.push(u.arbitrary()?);
    }
    Ok(out)
}

/// Buffer contents: a length and a pattern (cheap to decode, so buffers are long even when the
/// data is short).
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct Data {
    len: Len,
    seed: u8,
    step: u8,
}

impl Data {
    /// The bytes: `seed`, `seed + step`, `seed + 2 * step`, ...
    pub fn bytes(self) -> Vec<u8> {
        (0..self.len.get())
            .map(|i| self.seed.wrapping_add(self.step.wrapping_mul(i as u8)))
            .collect()
    }
}
