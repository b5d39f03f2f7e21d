//! Address arithmetic against `u128` arithmetic: `GuestAddress` and `MemoryRegionAddress`
//! (every `Address` method), `compute_offset`, `VolatileSlice` bounds (`subslice`, `offset`,
//! `split_at`), and the address helpers of `GuestMemoryRegion`.

use std::fmt::Debug;

use arbitrary::{Arbitrary, Unstructured};
use vm_memory_core::volatile_memory::compute_offset;
use vm_memory_core::{
    Address, GuestAddress, GuestMemoryRegion, MemoryRegionAddress, VolatileMemoryError,
    VolatileSlice,
};

use super::Ctx;
use crate::input::{Wide, decode, many};
use crate::model::address as m;
use crate::real::SpanRegion;

/// The length of the volatile slice the bounds checks use.
const SLICE_LEN: usize = 64;

/// One computation.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum AddrOp {
    /// `checked_add`, `overflowing_add`, `unchecked_add` (when it does not overflow).
    Add(Wide, Wide),
    /// `checked_sub`, `overflowing_sub`, `unchecked_sub` (when it does not underflow).
    Sub(Wide, Wide),
    /// `checked_offset_from`, `unchecked_offset_from` (when `base <= addr`).
    OffsetFrom(Wide, Wide),
    /// `checked_align_up` and `unchecked_align_up` to `2^(shift % 64)`.
    AlignUp(Wide, u8),
    /// `mask`, `&`, `|`, ordering, equality.
    Bits(Wide, Wide),
    /// `volatile_memory::compute_offset`.
    ComputeOffset(Wide, Wide),
    /// `VolatileSlice::subslice(offset, count)` of a 64-byte slice.
    Subslice(Wide, Wide),
    /// `VolatileSlice::offset(count)` and `split_at(count)` of a 64-byte slice.
    Offset(Wide),
    /// `GuestMemoryRegion` helpers of a region at `start` of `len` bytes: `checked_offset`,
    /// `to_region_addr`, `address_in_range`, `check_address`, `last_addr`.
    Region(Wide, Wide, Wide, Wide),
}

/// A whole case.
#[derive(Arbitrary, Clone, Debug)]
pub struct Case {
    /// The computations.
    #[arbitrary(with = |u: &mut Unstructured<'_>| many(u, 64))]
    pub ops: Vec<AddrOp>,
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
    for (step, op) in case.ops.iter().enumerate() {
        ctx.step = step;
        match *op {
            AddrOp::Add(a, b) => {
                add::<GuestAddress, _>(&ctx, a.get(), b.get());
                add::<MemoryRegionAddress, _>(&ctx, a.get(), b.get());
            }
            AddrOp::Sub(a, b) => {
                sub::<GuestAddress, _>(&ctx, a.get(), b.get());
                sub::<MemoryRegionAddress, _>(&ctx, a.get(), b.get());
            }
            AddrOp::OffsetFrom(a, b) => {
                offset_from::<GuestAddress, _>(&ctx, a.get(), b.get());
                offset_from::<MemoryRegionAddress, _>(&ctx, a.get(), b.get());
            }
            AddrOp::AlignUp(a, shift) => {
                let align = 1u64 << (shift % 64);
                align_up::<GuestAddress, _>(&ctx, a.get(), align);
                align_up::<MemoryRegionAddress, _>(&ctx, a.get(), align);
            }
            AddrOp::Bits(a, b) => {
                bits::<GuestAddress, _>(&ctx, a.get(), b.get());
                bits::<MemoryRegionAddress, _>(&ctx, a.get(), b.get());
            }
            AddrOp::ComputeOffset(a, b) => {
                let (base, offset) = (a.get_usize(), b.get_usize());
                let real = compute_offset(base, offset).map_err(|e| verr(&e));
                let model = m::usize_add(base, offset).ok_or(VErr::Overflow { base, offset });
                ctx.eq(("compute_offset", base, offset), real, model);
            }
            AddrOp::Subslice(a, b) => subslice(&ctx, a.get_usize(), b.get_usize()),
            AddrOp::Offset(a) => offset(&ctx, a.get_usize()),
            AddrOp::Region(start, len, a, b) => region(&ctx, start.get(), len.get(), a, b),
        }
    }
}

fn add<A: Address<V = u64> + Debug, C: Debug>(ctx: &Ctx<'_, C>, a: u64, b: u64) {
    let addr = A::new(a);
    let what = ("add", a, b);
    ctx.eq(
        what,
        addr.checked_add(b).map(|x| x.raw_value()),
        m::checked_add(a, b),
    );
    let (sum, overflow) = addr.overflowing_add(b);
    ctx.eq(what, (sum.raw_value(), overflow), m::overflowing_add(a, b));
    if let Some(sum) = m::checked_add(a, b) {
        ctx.eq(what, addr.unchecked_add(b).raw_value(), sum);
    }
}

fn sub<A: Address<V = u64> + Debug, C: Debug>(ctx: &Ctx<'_, C>, a: u64, b: u64) {
    let addr = A::new(a);
    let what = ("sub", a, b);
    ctx.eq(
        what,
        addr.checked_sub(b).map(|x| x.raw_value()),
        m::checked_sub(a, b),
    );
    let (diff, underflow) = addr.overflowing_sub(b);
    ctx.eq(
        what,
        (diff.raw_value(), underflow),
        m::overflowing_sub(a, b),
    );
    if let Some(diff) = m::checked_sub(a, b) {
        ctx.eq(what, addr.unchecked_sub(b).raw_value(), diff);
    }
}

fn offset_from<A: Address<V = u64> + Debug, C: Debug>(ctx: &Ctx<'_, C>, a: u64, b: u64) {
    let (addr, base) = (A::new(a), A::new(b));
    let what = ("offset_from", a, b);
    ctx.eq(what, addr.checked_offset_from(base), m::checked_sub(a, b));
    if let Some(diff) = m::checked_sub(a, b) {
        ctx.eq(what, addr.unchecked_offset_from(base), diff);
    }
}

fn align_up<A: Address<V = u64> + Debug, C: Debug>(ctx: &Ctx<'_, C>, a: u64, align: u64) {
    let addr = A::new(a);
    let what = ("align_up", a, align);
    let expected = m::checked_align_up(a, align);
    ctx.eq(
        what,
        addr.checked_align_up(align).map(|x| x.raw_value()),
        expected,
    );
    if let Some(aligned) = expected {
        ctx.eq(what, addr.unchecked_align_up(align).raw_value(), aligned);
    }
}

fn bits<A: Address<V = u64> + Debug, C: Debug>(ctx: &Ctx<'_, C>, a: u64, b: u64) {
    let (x, y) = (A::new(a), A::new(b));
    let what = ("bits", a, b);
    ctx.eq(what, x.mask(b), a & b);
    ctx.eq(what, (x & b).raw_value(), a & b);
    ctx.eq(what, (x | b).raw_value(), a | b);
    ctx.eq(what, x.cmp(&y), a.cmp(&b));
    ctx.eq(what, x == y, a == b);
    ctx.eq(what, A::default().raw_value(), 0);
    ctx.eq(what, x.partial_cmp(&y), Some(a.cmp(&b)));
}

/// A volatile error as the model predicts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VErr {
    /// `OutOfBounds { addr }`.
    OutOfBounds(usize),
    /// `Overflow { base, offset }`.
    Overflow {
        /// The base.
        base: usize,
        /// The offset.
        offset: usize,
    },
    /// Anything else.
    Other(String),
}

fn verr(e: &VolatileMemoryError) -> VErr {
    match e {
        VolatileMemoryError::OutOfBounds { addr } => VErr::OutOfBounds(*addr),
        VolatileMemoryError::Overflow { base, offset } => VErr::Overflow {
            base: *base,
            offset: *offset,
        },
        other => VErr::Other(format!("{other:?}")),
    }
}

/// `subslice(offset, count)`: `Overflow { base: offset, offset: count }` if the end overflows,
/// `OutOfBounds { addr: end }` past the end (offsets relative to the slice).
fn subslice<C: Debug>(ctx: &Ctx<'_, C>, offset: usize, count: usize) {
    let mut buf = [0u8; SLICE_LEN];
    let slice = VolatileSlice::from(&mut buf[..]);
    let base = slice.ptr_guard().as_ptr().addr();
    let real = slice
        .subslice(offset, count)
        .map(|s| (s.ptr_guard().as_ptr().addr() - base, s.len()))
        .map_err(|e| verr(&e));
    let model = match m::usize_add(offset, count) {
        None => Err(VErr::Overflow {
            base: offset,
            offset: count,
        }),
        Some(end) if end > SLICE_LEN => Err(VErr::OutOfBounds(end)),
        Some(_) => Ok((offset, count)),
    };
    ctx.eq(("subslice", offset, count), real, model);
}

/// `offset(count)` and `split_at(count)`: errors carry host addresses (as vm-memory 0.18):
/// `Overflow { base: ptr, offset: count }`, `OutOfBounds { addr: ptr + count }`.
fn offset<C: Debug>(ctx: &Ctx<'_, C>, count: usize) {
    let mut buf = [0u8; SLICE_LEN];
    let slice = VolatileSlice::from(&mut buf[..]);
    let base = slice.ptr_guard().as_ptr().addr();
    let model = match m::usize_add(base, count) {
        None => Err(VErr::Overflow {
            base,
            offset: count,
        }),
        Some(addr) if count > SLICE_LEN => Err(VErr::OutOfBounds(addr)),
        Some(_) => Ok((count, SLICE_LEN - count)),
    };
    let real = slice
        .offset(count)
        .map(|s| (s.ptr_guard().as_ptr().addr() - base, s.len()))
        .map_err(|e| verr(&e));
    ctx.eq(("offset", count), real, model.clone());
    let real = slice
        .split_at(count)
        .map(|(head, tail)| {
            assert_eq!(head.ptr_guard().as_ptr().addr(), base);
            (
                tail.ptr_guard().as_ptr().addr() - base,
                tail.len() + head.len() - count,
            )
        })
        .map_err(|e| verr(&e));
    ctx.eq(("split_at", count), real, model);
}

fn region<C: Debug>(ctx: &Ctx<'_, C>, start: u64, len: u64, a: Wide, b: Wide) {
    let r = SpanRegion::new(start, len);
    let (base, offset) = (a.get(), b.get_usize());
    let what = ("region", start, len, base, offset);
    let inside = |x: u64| x < len;
    let expected = m::checked_add(base, offset as u64).filter(|&x| inside(x));
    ctx.eq(
        what,
        r.checked_offset(MemoryRegionAddress(base), offset)
            .map(|x| x.0),
        expected,
    );
    ctx.eq(
        what,
        r.address_in_range(MemoryRegionAddress(base)),
        inside(base),
    );
    ctx.eq(
        what,
        r.check_address(MemoryRegionAddress(base)).map(|x| x.0),
        inside(base).then_some(base),
    );
    let expected = m::checked_sub(base, start).filter(|&x| inside(x));
    ctx.eq(
        what,
        r.to_region_addr(GuestAddress(base)).map(|x| x.0),
        expected,
    );
    if len > 0
        && let Some(last) = m::checked_add(start, len - 1)
    {
        ctx.eq(what, r.last_addr().0, last);
    }
    ctx.eq(
        what,
        GuestAddress(base).cmp(&GuestAddress(start)),
        base.cmp(&start),
    );
}
