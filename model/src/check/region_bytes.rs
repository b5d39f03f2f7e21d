//! `Bytes<MemoryRegionAddress>` of single regions, as part of the guest memory check: offsets
//! near the region's start and end and at the edges of `u64`, against the model's per-region
//! semantics.

use std::mem::{align_of, size_of};
use std::sync::atomic::Ordering;

use arbitrary::Arbitrary;
use vm_memory_core::{AtomicAccess, ByteValued, GuestMemoryRegion, MemoryRegionAddress};

use super::Ctx;
use super::guest_memory::{AtomicKind, AtomicVal, Obj, ObjKind, SinkSpec};
use crate::input::{CountSpec, Data, Len, Wide};
use crate::model::ModelMemory;
use crate::model::error::classify_result;
use crate::model::memory::Sink;

/// An offset inside (or just outside) a region.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum RegOff {
    /// From the start.
    Start(u16),
    /// The region's length plus a small delta (-3..=3, wrapping).
    End(i8),
    /// Any offset.
    Wide(Wide),
}

impl RegOff {
    fn get(self, len: u64) -> u64 {
        match self {
            RegOff::Start(v) => u64::from(v),
            RegOff::End(d) => len.wrapping_add((d % 4) as i64 as u64),
            RegOff::Wide(w) => w.get(),
        }
    }
}

/// One access to one region.
#[derive(Arbitrary, Clone, Debug)]
pub enum RegionOp {
    /// `write`.
    Write(RegOff, Data),
    /// `read`.
    Read(RegOff, Len),
    /// `write_slice`.
    WriteSlice(RegOff, Data),
    /// `read_slice`.
    ReadSlice(RegOff, Len),
    /// `write_obj`.
    WriteObj(RegOff, Obj),
    /// `read_obj`.
    ReadObj(RegOff, ObjKind),
    /// `store`.
    Store(RegOff, AtomicVal),
    /// `load`.
    Load(RegOff, AtomicKind),
    /// `read_volatile_from` (`exact`: `read_exact_volatile_from`) with a `&[u8]` source.
    ReadVolatileFrom(RegOff, Data, CountSpec, bool),
    /// `write_volatile_to` (`all`: `write_all_volatile_to`).
    WriteVolatileTo(RegOff, SinkSpec, CountSpec, bool),
}

/// Runs `op` on region `i` of the memory (`region`) and of the model; returns whether memory or
/// dirty bits may have changed.
pub(crate) fn run<R: GuestMemoryRegion, C: std::fmt::Debug>(
    ctx: &Ctx<'_, C>,
    region: &R,
    i: usize,
    model: &mut ModelMemory,
    op: &RegionOp,
) -> bool {
    let len = region.len();
    let at = |o: &RegOff| o.get(len);
    match op {
        RegionOp::Write(o, data) => {
            let (off, data) = (at(o), data.bytes());
            let real = classify_result(region.write(&data, MemoryRegionAddress(off)));
            ctx.eq(
                ("region write", i, off),
                real,
                model.region_write(i, &data, off),
            );
            true
        }
        RegionOp::Read(o, n) => {
            let off = at(o);
            let (mut a, mut b) = (vec![0xa5; n.get()], vec![0xa5; n.get()]);
            let real = classify_result(region.read(&mut a, MemoryRegionAddress(off)));
            ctx.eq(
                ("region read", i, off),
                real,
                model.region_read(i, &mut b, off),
            );
            ctx.eq("region read buffer", a, b);
            false
        }
        RegionOp::WriteSlice(o, data) => {
            let (off, data) = (at(o), data.bytes());
            let real = classify_result(region.write_slice(&data, MemoryRegionAddress(off)));
            let expected = model.region_write_slice(i, &data, off);
            ctx.eq(("region write_slice", i, off), real, expected);
            true
        }
        RegionOp::ReadSlice(o, n) => {
            let off = at(o);
            let (mut a, mut b) = (vec![0x5a; n.get()], vec![0x5a; n.get()]);
            let real = classify_result(region.read_slice(&mut a, MemoryRegionAddress(off)));
            let expected = model.region_read_slice(i, &mut b, off);
            ctx.eq(("region read_slice", i, off), real, expected);
            ctx.eq("region read_slice buffer", a, b);
            false
        }
        RegionOp::WriteObj(o, obj) => {
            let off = at(o);
            match *obj {
                Obj::U8(v) => write_obj(ctx, region, i, model, off, v),
                Obj::U16(v) => write_obj(ctx, region, i, model, off, v),
                Obj::U32(v) => write_obj(ctx, region, i, model, off, v),
                Obj::U64(v) => write_obj(ctx, region, i, model, off, v),
                Obj::U128(v) => write_obj(ctx, region, i, model, off, v),
                Obj::Arr3(v) => write_obj(ctx, region, i, model, off, v),
                Obj::Arr12(v) => write_obj(ctx, region, i, model, off, v),
            }
            true
        }
        RegionOp::ReadObj(o, kind) => {
            let off = at(o);
            match kind {
                ObjKind::U8 => read_obj::<_, u8, _>(ctx, region, i, model, off),
                ObjKind::U16 => read_obj::<_, u16, _>(ctx, region, i, model, off),
                ObjKind::U32 => read_obj::<_, u32, _>(ctx, region, i, model, off),
                ObjKind::U64 => read_obj::<_, u64, _>(ctx, region, i, model, off),
                ObjKind::U128 => read_obj::<_, u128, _>(ctx, region, i, model, off),
                ObjKind::Arr3 => read_obj::<_, [u8; 3], _>(ctx, region, i, model, off),
                ObjKind::Arr12 => read_obj::<_, [u32; 3], _>(ctx, region, i, model, off),
            }
            false
        }
        RegionOp::Store(o, val) => {
            let off = at(o);
            match *val {
                AtomicVal::U8(v) => store(ctx, region, i, model, off, v),
                AtomicVal::I16(v) => store(ctx, region, i, model, off, v),
                AtomicVal::U32(v) => store(ctx, region, i, model, off, v),
                AtomicVal::U64(v) => store(ctx, region, i, model, off, v),
                AtomicVal::Usize(v) => store(ctx, region, i, model, off, v),
            }
            true
        }
        RegionOp::Load(o, kind) => {
            let off = at(o);
            match kind {
                AtomicKind::U8 => load::<_, u8, _>(ctx, region, i, model, off),
                AtomicKind::I16 => load::<_, i16, _>(ctx, region, i, model, off),
                AtomicKind::U32 => load::<_, u32, _>(ctx, region, i, model, off),
                AtomicKind::U64 => load::<_, u64, _>(ctx, region, i, model, off),
                AtomicKind::Usize => load::<_, usize, _>(ctx, region, i, model, off),
            }
            false
        }
        RegionOp::ReadVolatileFrom(o, src, count, exact) => {
            let (off, src, count) = (at(o), src.bytes(), count.get());
            let (mut a, mut b) = (&src[..], &src[..]);
            let what = ("region read_volatile_from", i, off, count, *exact);
            if *exact {
                let real = region.read_exact_volatile_from(MemoryRegionAddress(off), &mut a, count);
                let expected = model.region_read_exact_volatile_from(i, off, &mut b, count);
                ctx.eq(what, classify_result(real), expected);
            } else {
                let real = region.read_volatile_from(MemoryRegionAddress(off), &mut a, count);
                let expected = model.region_read_volatile_from(i, off, &mut b, count);
                ctx.eq(what, classify_result(real), expected);
            }
            ctx.eq("region source left", a.len(), b.len());
            true
        }
        RegionOp::WriteVolatileTo(o, sink, count, all) => {
            let (off, count) = (at(o), count.get());
            write_volatile_to(ctx, region, i, model, off, *sink, count, *all);
            false
        }
    }
}

fn write_obj<R, T, C>(ctx: &Ctx<'_, C>, r: &R, i: usize, model: &mut ModelMemory, off: u64, v: T)
where
    R: GuestMemoryRegion,
    T: ByteValued + std::fmt::Debug,
    C: std::fmt::Debug,
{
    let real = classify_result(r.write_obj(v, MemoryRegionAddress(off)));
    let expected = model.region_write_slice(i, v.as_slice(), off);
    ctx.eq(("region write_obj", i, off, v), real, expected);
}

fn read_obj<R, T, C>(ctx: &Ctx<'_, C>, r: &R, i: usize, model: &ModelMemory, off: u64)
where
    R: GuestMemoryRegion,
    T: ByteValued + std::fmt::Debug + PartialEq,
    C: std::fmt::Debug,
{
    let real = classify_result(r.read_obj::<T>(MemoryRegionAddress(off)));
    let mut value = T::zeroed();
    let expected = model
        .region_read_slice(i, value.as_mut_slice(), off)
        .map(|()| value);
    ctx.eq(("region read_obj", i, off, size_of::<T>()), real, expected);
}

fn store<R, T, C>(ctx: &Ctx<'_, C>, r: &R, i: usize, model: &mut ModelMemory, off: u64, v: T)
where
    R: GuestMemoryRegion,
    T: AtomicAccess + std::fmt::Debug,
    C: std::fmt::Debug,
{
    let real = classify_result(r.store(v, MemoryRegionAddress(off), Ordering::SeqCst));
    let expected = model.region_store(i, v.as_slice(), align_of::<T::A>(), off);
    ctx.eq(("region store", i, off, v), real, expected);
}

fn load<R, T, C>(ctx: &Ctx<'_, C>, r: &R, i: usize, model: &ModelMemory, off: u64)
where
    R: GuestMemoryRegion,
    T: AtomicAccess + std::fmt::Debug + PartialEq,
    C: std::fmt::Debug,
{
    let real = classify_result(r.load::<T>(MemoryRegionAddress(off), Ordering::SeqCst));
    let expected = model
        .region_load(i, size_of::<T>(), align_of::<T::A>(), off)
        .map(|b| *T::from_slice(&b).expect("size matches"));
    ctx.eq(("region load", i, off, size_of::<T>()), real, expected);
}

#[allow(clippy::too_many_arguments)]
fn write_volatile_to<R, C>(
    ctx: &Ctx<'_, C>,
    r: &R,
    i: usize,
    model: &ModelMemory,
    off: u64,
    sink: SinkSpec,
    count: usize,
    all: bool,
) where
    R: GuestMemoryRegion,
    C: std::fmt::Debug,
{
    let what = ("region write_volatile_to", i, off, count, all, sink);
    let addr = MemoryRegionAddress(off);
    let mut model_sink = match sink {
        SinkSpec::Slice(n) => Sink::Slice {
            capacity: n.get(),
            data: Vec::new(),
        },
        SinkSpec::Vec => Sink::Vec(Vec::new()),
    };
    let expected = if all {
        model
            .region_write_all_volatile_to(i, off, &mut model_sink, count)
            .map(|()| count)
    } else {
        model.region_write_volatile_to(i, off, &mut model_sink, count)
    };
    let real_sink = match sink {
        SinkSpec::Slice(n) => {
            let mut buf = vec![0u8; n.get()];
            let mut dst = &mut buf[..];
            let real = if all {
                r.write_all_volatile_to(addr, &mut dst, count)
                    .map(|()| count)
            } else {
                r.write_volatile_to(addr, &mut dst, count)
            };
            ctx.eq(what, classify_result(real), expected);
            let written = n.get() - dst.len();
            buf.truncate(written);
            Sink::Slice {
                capacity: n.get(),
                data: buf,
            }
        }
        SinkSpec::Vec => {
            let mut dst = Vec::new();
            let real = if all {
                r.write_all_volatile_to(addr, &mut dst, count)
                    .map(|()| count)
            } else {
                r.write_volatile_to(addr, &mut dst, count)
            };
            ctx.eq(what, classify_result(real), expected);
            Sink::Vec(dst)
        }
    };
    ctx.eq("region sink", real_sink, model_sink);
}
