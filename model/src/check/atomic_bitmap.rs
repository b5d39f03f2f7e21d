//! `AtomicBitmap` (and `FixedBitmap` when the pages fit) against a `Vec<bool>`: ranges, bits,
//! harvests, growth, clones, and marks through offset bitmap slices, with the page count kept
//! small and offsets near page boundaries and the top of `usize`.

use std::num::NonZeroUsize;

use arbitrary::{Arbitrary, Unstructured};
use vm_memory_core::bitmap::{AtomicBitmap, Bitmap, FixedBitmap};

use super::Ctx;
use crate::input::{Wide, decode, many};
use crate::model::ModelBitmap;

/// Most pages a case's bitmap may have.
const MAX_PAGES: usize = 4096;
/// Storage words of the `FixedBitmap` run alongside.
const FIXED_WORDS: usize = 4;

/// A page size.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum PageSpec {
    /// 1..=64 bytes.
    Small(u8),
    /// A power of two.
    Pow2(u8),
    /// Any non-zero size.
    Wide(Wide),
}

impl PageSpec {
    fn get(self) -> usize {
        match self {
            PageSpec::Small(n) => usize::from(n) % 64 + 1,
            PageSpec::Pow2(shift) => 1 << (u32::from(shift) % usize::BITS),
            PageSpec::Wide(w) => w.get_usize().max(1),
        }
    }
}

/// A byte offset: near a page boundary, or anywhere.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Off {
    /// `page * page_size + delta` (wrapping).
    Page(u16, i8),
    /// Any offset.
    Wide(Wide),
}

impl Off {
    fn get(self, page: usize) -> usize {
        match self {
            Off::Page(p, d) => usize::from(p)
                .wrapping_mul(page)
                .wrapping_add(d as isize as usize),
            Off::Wide(w) => w.get_usize(),
        }
    }
}

/// One operation.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum BitmapOp {
    /// `set_addr_range`.
    Set(Off, Off),
    /// `reset_addr_range`.
    Reset(Off, Off),
    /// `set_bit`.
    SetBit(Wide),
    /// `reset_bit`.
    ResetBit(Wide),
    /// `is_bit_set`, `is_addr_set`, `dirty_at`.
    Query(Wide, Off),
    /// `get_and_reset`.
    Harvest,
    /// `reset`.
    Clear,
    /// `enlarge` (skipped if the result would have too many pages).
    Enlarge(Off),
    /// Continue on a clone.
    Clone,
    /// `slice_at(base).slice_at(more).mark_dirty(offset, len)` and `dirty_at`.
    SliceMark(Off, Off, Off, Off),
}

/// A whole case.
#[derive(Arbitrary, Clone, Debug)]
pub struct Case {
    /// The page size.
    pub page: PageSpec,
    /// The byte size (clamped to `MAX_PAGES` pages).
    pub bytes: Wide,
    /// The operations.
    #[arbitrary(with = |u: &mut Unstructured<'_>| many(u, 64))]
    pub ops: Vec<BitmapOp>,
}

/// Decodes and runs one case.
pub fn run(data: &[u8]) {
    if let Ok(case) = decode::<Case>(data) {
        run_case(&case);
    }
}

fn pages(bytes: usize, page: usize) -> u128 {
    (bytes as u128).div_ceil(page as u128)
}

/// Runs one case.
pub fn run_case(case: &Case) {
    let page = case.page.get();
    let mut bytes = case.bytes.get_usize();
    if pages(bytes, page) > MAX_PAGES as u128 {
        bytes %= page.saturating_mul(MAX_PAGES).max(1);
    }
    let page_size = NonZeroUsize::new(page).expect("non-zero");
    let mut real = AtomicBitmap::new(bytes, page_size);
    let mut model = ModelBitmap::new(bytes, page);
    let fixed_fits = model.len() <= FIXED_WORDS * usize::BITS as usize;
    let mut fixed = fixed_fits.then(|| FixedBitmap::<FIXED_WORDS>::new(bytes, page_size));
    let mut ctx = Ctx {
        case,
        step: usize::MAX,
    };
    compare(&ctx, &real, fixed.as_ref(), &model);
    for (step, op) in case.ops.iter().enumerate() {
        ctx.step = step;
        match *op {
            BitmapOp::Set(start, len) | BitmapOp::Reset(start, len) => {
                let set = matches!(op, BitmapOp::Set(..));
                let (start, len) = (start.get(page), len.get(page));
                if set {
                    real.set_addr_range(start, len);
                    if let Some(f) = &fixed {
                        f.set_addr_range(start, len);
                    }
                } else {
                    real.reset_addr_range(start, len);
                    if let Some(f) = &fixed {
                        f.reset_addr_range(start, len);
                    }
                }
                model.update_range(start, len, set);
            }
            BitmapOp::SetBit(i) => {
                let i = i.get_usize();
                real.set_bit(i);
                if let Some(f) = &fixed {
                    f.set_bit(i);
                }
                model.update_bit(i, true);
            }
            BitmapOp::ResetBit(i) => {
                let i = i.get_usize();
                real.reset_bit(i);
                if let Some(f) = &fixed {
                    f.reset_bit(i);
                }
                model.update_bit(i, false);
            }
            BitmapOp::Query(i, addr) => {
                let (i, addr) = (i.get_usize(), addr.get(page));
                ctx.eq(("is_bit_set", i), real.is_bit_set(i), model.is_bit_set(i));
                ctx.eq(
                    ("is_addr_set", addr),
                    real.is_addr_set(addr),
                    model.is_addr_set(addr),
                );
                ctx.eq(
                    ("dirty_at", addr),
                    real.dirty_at(addr),
                    model.is_addr_set(addr),
                );
                if let Some(f) = &fixed {
                    ctx.eq(
                        ("fixed is_bit_set", i),
                        f.is_bit_set(i),
                        model.is_bit_set(i),
                    );
                    ctx.eq(
                        ("fixed dirty_at", addr),
                        f.dirty_at(addr),
                        model.is_addr_set(addr),
                    );
                }
            }
            BitmapOp::Harvest => {
                let expected = model.get_and_reset();
                if let Some(f) = &fixed {
                    let mut words = [0usize; FIXED_WORDS];
                    f.get_and_reset_into(&mut words);
                    ctx.eq(
                        "fixed get_and_reset_into",
                        as_u64_words(&words, expected.len()),
                        expected.clone(),
                    );
                }
                ctx.eq("get_and_reset", real.get_and_reset(), expected);
            }
            BitmapOp::Clear => {
                real.reset();
                if let Some(f) = &fixed {
                    f.reset();
                }
                model.reset();
            }
            BitmapOp::Enlarge(add) => {
                let add = add.get(page);
                if pages(model.byte_size().saturating_add(add), page) <= MAX_PAGES as u128 {
                    real.enlarge(add);
                    model.enlarge(add);
                    // A `FixedBitmap` cannot grow: it leaves the comparison.
                    fixed = None;
                }
            }
            BitmapOp::Clone => {
                real = real.clone();
            }
            BitmapOp::SliceMark(base, more, offset, len) => {
                let (base, more) = (base.get(page), more.get(page));
                let (offset, len) = (offset.get(page), len.get(page));
                let slice = real.slice_at(base).slice_at(more);
                slice.mark_dirty(offset, len);
                let at = base.wrapping_add(more).wrapping_add(offset);
                model.update_range(at, len, true);
                if let Some(f) = &fixed {
                    f.slice_at(base).slice_at(more).mark_dirty(offset, len);
                }
                ctx.eq(
                    ("slice dirty_at", at),
                    slice.dirty_at(offset),
                    model.is_addr_set(at),
                );
            }
        }
        compare(&ctx, &real, fixed.as_ref(), &model);
    }
}

/// The fixed bitmap's words as 64-bit words, `count` of them.
fn as_u64_words(words: &[usize], count: usize) -> Vec<u64> {
    let bits: Vec<bool> = words
        .iter()
        .flat_map(|&w| (0..usize::BITS).map(move |i| w >> i & 1 == 1))
        .collect();
    (0..count)
        .map(|k| {
            (0..64)
                .filter(|&i| bits.get(k * 64 + i).copied().unwrap_or(false))
                .fold(0u64, |acc, i| acc | 1 << i)
        })
        .collect()
}

fn compare<C: std::fmt::Debug>(
    ctx: &Ctx<'_, C>,
    real: &AtomicBitmap,
    fixed: Option<&FixedBitmap<FIXED_WORDS>>,
    model: &ModelBitmap,
) {
    ctx.eq(
        "len, byte_size, page_size",
        (real.len(), real.byte_size(), real.page_size().get()),
        (model.len(), model.byte_size(), model.page_size()),
    );
    let bits: Vec<bool> = (0..model.len() + 2).map(|i| real.is_bit_set(i)).collect();
    let mut expected = model.bits().to_vec();
    expected.extend([false, false]);
    ctx.eq("bits", bits, expected.clone());
    if let Some(f) = fixed {
        let bits: Vec<bool> = (0..model.len() + 2).map(|i| f.is_bit_set(i)).collect();
        ctx.eq("fixed bits", bits, expected);
    }
}
