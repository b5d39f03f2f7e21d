//! Guest memory: a layout on one of three backends, a sequence of operations, each result and
//! error, the memory contents and the dirty bits compared with the model after every step.

use std::mem::{align_of, size_of};
use std::sync::atomic::Ordering;

use arbitrary::Arbitrary;
use vm_memory_core::bitmap::Bitmap;
use vm_memory_core::{
    AtomicAccess, ByteValued, Bytes, GuestAddress, GuestMemory, GuestMemoryBackend,
    GuestMemoryRegion, MemoryRegionAddress, Permissions,
};

use super::Ctx;
use arbitrary::Unstructured;

use crate::endpoints::{Script, ScriptedSink, ScriptedSource, Steps};
use crate::input::{AddrSpec, CountSpec, Data, LayoutSpec, Len, decode, many};
use crate::model::error::classify_result;
use crate::model::io::{ModelSink, ModelSource};
use crate::model::memory::{AccessCall, Sink};
use crate::model::{MemError, ModelMemory};
use crate::real::{self, DirtyRegion};

/// Which container holds the regions.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Backend {
    /// `RegionTable<RawRegion<AtomicBitmap>, _>`.
    Table,
    /// `GuestRegionCollection<RawRegion<AtomicBitmap>>`.
    Collection,
    /// `GuestMemoryMmap<AtomicBitmap>` (std face, `from_ranges`).
    Mmap,
}

/// A value for `write_obj`.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Obj {
    /// 1 byte.
    U8(u8),
    /// 2 bytes.
    U16(u16),
    /// 4 bytes.
    U32(u32),
    /// 8 bytes.
    U64(u64),
    /// 16 bytes.
    U128(u128),
    /// 3 bytes, alignment 1.
    Arr3([u8; 3]),
    /// 12 bytes, alignment 4.
    Arr12([u32; 3]),
}

/// A type for `read_obj`.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum ObjKind {
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `u128`.
    U128,
    /// `[u8; 3]`.
    Arr3,
    /// `[u32; 3]`.
    Arr12,
}

/// A value for `store`.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum AtomicVal {
    /// `u8`.
    U8(u8),
    /// `i16`.
    I16(i16),
    /// `u32`.
    U32(u32),
    /// `u64`.
    U64(u64),
    /// `usize`.
    Usize(usize),
}

/// A type for `load`.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum AtomicKind {
    /// `u8`.
    U8,
    /// `i16`.
    I16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `usize`.
    Usize,
}

/// The sink of `write_volatile_to`.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum SinkSpec {
    /// A `&mut [u8]` of this length.
    Slice(Len),
    /// A `Vec<u8>`.
    Vec,
}

/// One operation.
#[derive(Arbitrary, Clone, Debug)]
pub enum MemOp {
    /// `write`.
    Write(AddrSpec, Data),
    /// `read`.
    Read(AddrSpec, Len),
    /// `write_slice`.
    WriteSlice(AddrSpec, Data),
    /// `read_slice`.
    ReadSlice(AddrSpec, Len),
    /// `write_obj`.
    WriteObj(AddrSpec, Obj),
    /// `read_obj`.
    ReadObj(AddrSpec, ObjKind),
    /// `store` (`SeqCst` when the flag is set, else `Release`/`Relaxed` by value parity).
    Store(AddrSpec, AtomicVal, bool),
    /// `load`.
    Load(AddrSpec, AtomicKind, bool),
    /// `read_volatile_from` (`exact`: `read_exact_volatile_from`) with a `&[u8]` source.
    ReadVolatileFrom(AddrSpec, Data, CountSpec, bool),
    /// `write_volatile_to` (`all`: `write_all_volatile_to`).
    WriteVolatileTo(AddrSpec, SinkSpec, CountSpec, bool),
    /// `get_slices`, through the backend and through `GuestMemory`.
    GetSlices(AddrSpec, CountSpec),
    /// `GuestMemoryBackend::get_slice`.
    GetSlice(AddrSpec, CountSpec),
    /// `check_range`, through the backend and through `GuestMemory`.
    CheckRange(AddrSpec, CountSpec),
    /// `checked_offset`.
    CheckedOffset(AddrSpec, CountSpec),
    /// `find_region`, `to_region_addr`, `address_in_range`, `check_address`,
    /// `get_host_address`, `last_addr`, `num_regions`.
    Lookup(AddrSpec),
    /// The deprecated `try_access`, with a callback that answers from the list.
    TryAccess(AddrSpec, CountSpec, Vec<u8>),
    /// `get_and_reset` of one region's bitmap.
    Harvest(u8),
    /// `Bytes<MemoryRegionAddress>` of one region.
    Region(u8, super::region_bytes::RegionOp),
    /// `read_volatile_from` (`exact`: `read_exact_volatile_from`) from a scripted source.
    ScriptedRead(AddrSpec, Data, CountSpec, Steps, bool),
    /// `write_volatile_to` (`all`: `write_all_volatile_to`) to a scripted sink of some capacity.
    ScriptedWrite(AddrSpec, Len, CountSpec, Steps, bool),
}

/// A whole case.
#[derive(Arbitrary, Clone, Debug)]
pub struct Case {
    /// The container.
    pub backend: Backend,
    /// The regions.
    pub layout: LayoutSpec,
    /// The operations.
    #[arbitrary(with = |u: &mut Unstructured<'_>| many(u, 64))]
    pub ops: Vec<MemOp>,
}

/// Decodes and runs one case.
pub fn run(data: &[u8]) {
    if let Ok(case) = decode::<Case>(data) {
        run_case(&case);
    }
}

/// Runs one case.
pub fn run_case(case: &Case) {
    let plans = case.layout.resolve();
    // Miri cannot run the mmap backend (foreign `mmap` flags); it checks the raw regions.
    let backend = match case.backend {
        Backend::Mmap if cfg!(miri) => Backend::Table,
        other => other,
    };
    match backend {
        Backend::Table => {
            let mem = real::table(&plans).expect("resolved layouts are valid");
            run_ops(case, mem.mem());
        }
        Backend::Collection => {
            let mem = real::collection(&plans).expect("resolved layouts are valid");
            run_ops(case, mem.mem());
        }
        Backend::Mmap => {
            // `GuestRegionMmap` refuses a region that ends exactly at 2^64 (as vm-memory 0.18).
            let ends_at_top = plans
                .iter()
                .any(|p| u128::from(p.start) + p.len as u128 == 1 << 64);
            match real::mmap(&plans) {
                Ok(mem) => {
                    assert!(
                        !ends_at_top,
                        "a region ending at 2^64 was accepted: {plans:?}"
                    );
                    run_ops(case, &mem);
                }
                Err(vm_memory_core::region::FromRangesError::InvalidGuestRegion) if ends_at_top => {
                }
                Err(e) => panic!("from_ranges({plans:?}) failed: {e:?}"),
            }
        }
    }
}

fn run_ops<M>(case: &Case, mem: &M)
where
    M: GuestMemoryBackend,
    M::R: DirtyRegion,
{
    let mut model = real::model_of(mem);
    let spans: Vec<(u64, u64)> = mem.iter().map(|r| (r.start_addr().0, r.len())).collect();
    let mut ctx = Ctx { case, step: 0 };
    for (step, op) in case.ops.iter().enumerate() {
        ctx.step = step;
        let changed = run_op(&ctx, mem, &mut model, &spans, op);
        if changed {
            ctx.eq(
                "memory contents",
                real::contents(mem),
                model_contents(&model),
            );
            ctx.eq("dirty bits", real::dirty_bits(mem), model_dirty(&model));
        }
    }
    ctx.step = usize::MAX;
    ctx.eq(
        "final memory contents",
        real::contents(mem),
        model_contents(&model),
    );
    ctx.eq(
        "final dirty bits",
        real::dirty_bits(mem),
        model_dirty(&model),
    );
}

fn model_contents(model: &ModelMemory) -> Vec<Vec<u8>> {
    model.regions.iter().map(|r| r.data.clone()).collect()
}

fn model_dirty(model: &ModelMemory) -> Vec<Vec<bool>> {
    model
        .regions
        .iter()
        .map(|r| r.dirty.bits().to_vec())
        .collect()
}

/// Runs `op` on both; returns whether it may have changed memory or dirty bits.
fn run_op<M, C>(
    ctx: &Ctx<'_, C>,
    mem: &M,
    model: &mut ModelMemory,
    spans: &[(u64, u64)],
    op: &MemOp,
) -> bool
where
    M: GuestMemoryBackend,
    M::R: DirtyRegion,
    C: std::fmt::Debug,
{
    let at = |a: &AddrSpec| a.resolve(spans);
    match op {
        MemOp::Write(a, data) => {
            let (addr, data) = (at(a), &data.bytes()[..]);
            let real = classify_result(mem.write(data, GuestAddress(addr)));
            ctx.eq(("write", addr, data.len()), real, model.write(data, addr));
            true
        }
        MemOp::Read(a, len) => {
            let addr = at(a);
            let (mut real_buf, mut model_buf) = (vec![0xa5; len.get()], vec![0xa5; len.get()]);
            let real = classify_result(mem.read(&mut real_buf, GuestAddress(addr)));
            ctx.eq(("read", addr), real, model.read(&mut model_buf, addr));
            ctx.eq(("read buffer", addr), real_buf, model_buf);
            false
        }
        MemOp::WriteSlice(a, data) => {
            let (addr, data) = (at(a), &data.bytes()[..]);
            let real = classify_result(mem.write_slice(data, GuestAddress(addr)));
            ctx.eq(("write_slice", addr), real, model.write_slice(data, addr));
            true
        }
        MemOp::ReadSlice(a, len) => {
            let addr = at(a);
            let (mut real_buf, mut model_buf) = (vec![0x5a; len.get()], vec![0x5a; len.get()]);
            let real = classify_result(mem.read_slice(&mut real_buf, GuestAddress(addr)));
            ctx.eq(
                ("read_slice", addr),
                real,
                model.read_slice(&mut model_buf, addr),
            );
            ctx.eq(("read_slice buffer", addr), real_buf, model_buf);
            false
        }
        MemOp::WriteObj(a, obj) => {
            let addr = at(a);
            match *obj {
                Obj::U8(v) => write_obj(ctx, mem, model, addr, v),
                Obj::U16(v) => write_obj(ctx, mem, model, addr, v),
                Obj::U32(v) => write_obj(ctx, mem, model, addr, v),
                Obj::U64(v) => write_obj(ctx, mem, model, addr, v),
                Obj::U128(v) => write_obj(ctx, mem, model, addr, v),
                Obj::Arr3(v) => write_obj(ctx, mem, model, addr, v),
                Obj::Arr12(v) => write_obj(ctx, mem, model, addr, v),
            }
            true
        }
        MemOp::ReadObj(a, kind) => {
            let addr = at(a);
            match kind {
                ObjKind::U8 => read_obj::<_, u8, _>(ctx, mem, model, addr),
                ObjKind::U16 => read_obj::<_, u16, _>(ctx, mem, model, addr),
                ObjKind::U32 => read_obj::<_, u32, _>(ctx, mem, model, addr),
                ObjKind::U64 => read_obj::<_, u64, _>(ctx, mem, model, addr),
                ObjKind::U128 => read_obj::<_, u128, _>(ctx, mem, model, addr),
                ObjKind::Arr3 => read_obj::<_, [u8; 3], _>(ctx, mem, model, addr),
                ObjKind::Arr12 => read_obj::<_, [u32; 3], _>(ctx, mem, model, addr),
            }
            false
        }
        MemOp::Store(a, val, seq) => {
            let addr = at(a);
            match *val {
                AtomicVal::U8(v) => store(ctx, mem, model, addr, v, *seq),
                AtomicVal::I16(v) => store(ctx, mem, model, addr, v, *seq),
                AtomicVal::U32(v) => store(ctx, mem, model, addr, v, *seq),
                AtomicVal::U64(v) => store(ctx, mem, model, addr, v, *seq),
                AtomicVal::Usize(v) => store(ctx, mem, model, addr, v, *seq),
            }
            true
        }
        MemOp::Load(a, kind, seq) => {
            let addr = at(a);
            match kind {
                AtomicKind::U8 => load::<_, u8, _>(ctx, mem, model, addr, *seq),
                AtomicKind::I16 => load::<_, i16, _>(ctx, mem, model, addr, *seq),
                AtomicKind::U32 => load::<_, u32, _>(ctx, mem, model, addr, *seq),
                AtomicKind::U64 => load::<_, u64, _>(ctx, mem, model, addr, *seq),
                AtomicKind::Usize => load::<_, usize, _>(ctx, mem, model, addr, *seq),
            }
            false
        }
        MemOp::ReadVolatileFrom(a, src, count, exact) => {
            let (addr, src, count) = (at(a), &src.bytes()[..], count.get());
            let (mut real_src, mut model_src) = (src, src);
            if *exact {
                let real = classify_result(mem.read_exact_volatile_from(
                    GuestAddress(addr),
                    &mut real_src,
                    count,
                ));
                let model = model.read_exact_volatile_from(addr, &mut model_src, count);
                ctx.eq(("read_exact_volatile_from", addr, count), real, model);
            } else {
                let real = classify_result(mem.read_volatile_from(
                    GuestAddress(addr),
                    &mut real_src,
                    count,
                ));
                let model = model.read_volatile_from(addr, &mut model_src, count);
                ctx.eq(("read_volatile_from", addr, count), real, model);
            }
            ctx.eq("source left", real_src.len(), model_src.len());
            true
        }
        MemOp::WriteVolatileTo(a, sink, count, all) => {
            let (addr, count) = (at(a), count.get());
            write_volatile_to(ctx, mem, model, addr, *sink, count, *all);
            false
        }
        MemOp::GetSlices(a, count) => {
            let (addr, count) = (at(a), count.get());
            get_slices(ctx, mem, model, addr, count);
            true
        }
        MemOp::GetSlice(a, count) => {
            let (addr, count) = (at(a), count.get());
            let real = classify_result(
                GuestMemoryBackend::get_slice(mem, GuestAddress(addr), count)
                    .map(|s| (s.ptr_guard().as_ptr().addr(), s.len())),
            );
            let model = model
                .get_slice(addr, count)
                .map(|p| (model.host_of(&p), p.len));
            ctx.eq(("get_slice", addr, count), real, model);
            false
        }
        MemOp::CheckRange(a, count) => {
            let (addr, count) = (at(a), count.get());
            let expected = model.check_range(addr, count);
            let backend = GuestMemoryBackend::check_range(mem, GuestAddress(addr), count);
            ctx.eq(("check_range", addr, count), backend, expected);
            let io = GuestMemory::check_range(mem, GuestAddress(addr), count, Permissions::Read);
            ctx.eq(("GuestMemory::check_range", addr, count), io, expected);
            false
        }
        MemOp::CheckedOffset(a, offset) => {
            let (addr, offset) = (at(a), offset.get());
            let real = mem.checked_offset(GuestAddress(addr), offset).map(|a| a.0);
            ctx.eq(
                ("checked_offset", addr, offset),
                real,
                model.checked_offset(addr, offset),
            );
            false
        }
        MemOp::Lookup(a) => {
            lookup(ctx, mem, model, at(a));
            false
        }
        MemOp::TryAccess(a, count, answers) => {
            try_access(ctx, mem, model, at(a), count.get(), answers);
            false
        }
        MemOp::Region(i, op) => {
            let i = usize::from(*i) % model.regions.len();
            let region = mem.iter().nth(i).expect("region");
            super::region_bytes::run(ctx, region, i, model, op)
        }
        MemOp::ScriptedRead(a, data, count, steps, exact) => {
            let (addr, count) = (at(a), count.get());
            let data = data.bytes();
            let mut real_src = ScriptedSource {
                data: data.clone(),
                pos: 0,
                script: Script::new(&steps.0),
            };
            let mut model_src = ModelSource {
                data,
                pos: 0,
                script: Script::new(&steps.0),
            };
            let what = ("scripted read_volatile_from", addr, count, *exact);
            let expected = model.read_volatile_from_scripted(addr, &mut model_src, count);
            if *exact {
                let real = mem.read_exact_volatile_from(GuestAddress(addr), &mut real_src, count);
                let expected = expected.and_then(|n| {
                    if n == count {
                        Ok(())
                    } else {
                        Err(MemError::PartialBuffer {
                            expected: count,
                            completed: n,
                        })
                    }
                });
                ctx.eq(what, classify_result(real), expected);
            } else {
                let real = mem.read_volatile_from(GuestAddress(addr), &mut real_src, count);
                ctx.eq(what, classify_result(real), expected);
            }
            ctx.eq("source consumed", real_src.pos, model_src.pos);
            true
        }
        MemOp::ScriptedWrite(a, capacity, count, steps, all) => {
            let (addr, count, capacity) = (at(a), count.get(), capacity.get());
            let mut real_sink = ScriptedSink {
                data: Vec::new(),
                capacity,
                script: Script::new(&steps.0),
            };
            let mut model_sink = ModelSink {
                data: Vec::new(),
                capacity,
                script: Script::new(&steps.0),
            };
            let what = ("scripted write_volatile_to", addr, count, *all);
            let expected = model.write_volatile_to_scripted(addr, &mut model_sink, count);
            if *all {
                let real = mem.write_all_volatile_to(GuestAddress(addr), &mut real_sink, count);
                let expected = expected.and_then(|n| {
                    if n == count {
                        Ok(())
                    } else {
                        Err(MemError::PartialBuffer {
                            expected: count,
                            completed: n,
                        })
                    }
                });
                ctx.eq(what, classify_result(real), expected);
            } else {
                let real = mem.write_volatile_to(GuestAddress(addr), &mut real_sink, count);
                ctx.eq(what, classify_result(real), expected);
            }
            ctx.eq("sink contents", real_sink.data, model_sink.data);
            false
        }
        MemOp::Harvest(i) => {
            let i = usize::from(*i) % model.regions.len();
            let region = mem.iter().nth(i).expect("region");
            let real = region.dirty_bitmap().get_and_reset();
            ctx.eq(
                ("get_and_reset", i),
                real,
                model.regions[i].dirty.get_and_reset(),
            );
            true
        }
    }
}

fn write_obj<M, T, C>(ctx: &Ctx<'_, C>, mem: &M, model: &mut ModelMemory, addr: u64, val: T)
where
    M: GuestMemoryBackend,
    T: ByteValued + std::fmt::Debug,
    C: std::fmt::Debug,
{
    let real = classify_result(mem.write_obj(val, GuestAddress(addr)));
    let expected = model.write_slice(val.as_slice(), addr);
    ctx.eq(("write_obj", addr, val), real, expected);
}

fn read_obj<M, T, C>(ctx: &Ctx<'_, C>, mem: &M, model: &ModelMemory, addr: u64)
where
    M: GuestMemoryBackend,
    T: ByteValued + std::fmt::Debug + PartialEq,
    C: std::fmt::Debug,
{
    let real = classify_result(mem.read_obj::<T>(GuestAddress(addr)));
    let mut expected = T::zeroed();
    let expected = model
        .read_slice(expected.as_mut_slice(), addr)
        .map(|()| expected);
    ctx.eq(("read_obj", addr, size_of::<T>()), real, expected);
}

fn orders(seq: bool, store: bool) -> Ordering {
    match (seq, store) {
        (true, _) => Ordering::SeqCst,
        (false, true) => Ordering::Release,
        (false, false) => Ordering::Acquire,
    }
}

fn store<M, T, C>(ctx: &Ctx<'_, C>, mem: &M, model: &mut ModelMemory, addr: u64, val: T, seq: bool)
where
    M: GuestMemoryBackend,
    T: AtomicAccess + std::fmt::Debug,
    C: std::fmt::Debug,
{
    let real = classify_result(mem.store(val, GuestAddress(addr), orders(seq, true)));
    let expected = model.store(val.as_slice(), align_of::<T::A>(), addr);
    ctx.eq(("store", addr, val), real, expected);
}

fn load<M, T, C>(ctx: &Ctx<'_, C>, mem: &M, model: &ModelMemory, addr: u64, seq: bool)
where
    M: GuestMemoryBackend,
    T: AtomicAccess + std::fmt::Debug + PartialEq,
    C: std::fmt::Debug,
{
    let real = classify_result(mem.load::<T>(GuestAddress(addr), orders(seq, false)));
    let expected = model
        .load(size_of::<T>(), align_of::<T::A>(), addr)
        .map(|bytes| *T::from_slice(&bytes).expect("size matches"));
    ctx.eq(("load", addr, size_of::<T>()), real, expected);
}

fn write_volatile_to<M, C>(
    ctx: &Ctx<'_, C>,
    mem: &M,
    model: &ModelMemory,
    addr: u64,
    sink: SinkSpec,
    count: usize,
    all: bool,
) where
    M: GuestMemoryBackend,
    C: std::fmt::Debug,
{
    let what = ("write_volatile_to", addr, count, all, sink);
    match sink {
        SinkSpec::Slice(len) => {
            let mut buf = vec![0u8; len.get()];
            let mut real_sink = &mut buf[..];
            let real = classify_result(if all {
                mem.write_all_volatile_to(GuestAddress(addr), &mut real_sink, count)
                    .map(|()| count)
            } else {
                mem.write_volatile_to(GuestAddress(addr), &mut real_sink, count)
            });
            let left = real_sink.len();
            let mut model_sink = Sink::Slice {
                capacity: len.get(),
                data: Vec::new(),
            };
            let expected = if all {
                model
                    .write_all_volatile_to(addr, &mut model_sink, count)
                    .map(|()| count)
            } else {
                model.write_volatile_to(addr, &mut model_sink, count)
            };
            ctx.eq(what, real, expected);
            let Sink::Slice { data, .. } = model_sink else {
                unreachable!()
            };
            ctx.eq("sink left", left, len.get() - data.len());
            ctx.eq("sink contents", &buf[..data.len()], &data[..]);
        }
        SinkSpec::Vec => {
            let mut real_sink = Vec::new();
            let real = classify_result(if all {
                mem.write_all_volatile_to(GuestAddress(addr), &mut real_sink, count)
                    .map(|()| count)
            } else {
                mem.write_volatile_to(GuestAddress(addr), &mut real_sink, count)
            });
            let mut model_sink = Sink::Vec(Vec::new());
            let expected = if all {
                model
                    .write_all_volatile_to(addr, &mut model_sink, count)
                    .map(|()| count)
            } else {
                model.write_volatile_to(addr, &mut model_sink, count)
            };
            ctx.eq(what, real, expected);
            ctx.eq("sink contents", Sink::Vec(real_sink), model_sink);
        }
    }
}

/// `get_slices` through the backend and through `GuestMemory`: the same pieces (host pointer and
/// length), errors, and fusing. Each slice's bitmap is checked by marking its first byte.
fn get_slices<M, C>(ctx: &Ctx<'_, C>, mem: &M, model: &mut ModelMemory, addr: u64, count: usize)
where
    M: GuestMemoryBackend,
    C: std::fmt::Debug,
{
    let expected: Vec<Result<(usize, usize), MemError>> = model
        .pieces(addr, count)
        .iter()
        .map(|item| item.clone().map(|p| (model.host_of(&p), p.len)))
        .collect();
    let mut it = GuestMemoryBackend::get_slices(mem, GuestAddress(addr), count);
    let mut real = Vec::new();
    for item in it.by_ref() {
        real.push(classify_result(item.map(|s| {
            s.bitmap().mark_dirty(0, 1);
            (s.ptr_guard().as_ptr().addr(), s.len())
        })));
    }
    ctx.eq(("get_slices", addr, count), &real, &expected);
    ctx.eq("get_slices fused", it.next().is_none(), true);
    for piece in model.pieces(addr, count).into_iter().flatten() {
        model.regions[piece.region]
            .dirty
            .update_range(piece.offset, 1, true);
    }

    let through_io = GuestMemory::get_slices(mem, GuestAddress(addr), count, Permissions::Write)
        .map(|it| {
            it.map(|item| classify_result(item.map(|s| (s.ptr_guard().as_ptr().addr(), s.len()))))
                .collect::<Vec<_>>()
        });
    ctx.eq(
        ("GuestMemory::get_slices", addr, count),
        classify_result(through_io),
        Ok(expected),
    );
}

fn lookup<M, C>(ctx: &Ctx<'_, C>, mem: &M, model: &ModelMemory, addr: u64)
where
    M: GuestMemoryBackend,
    C: std::fmt::Debug,
{
    let expected = model.to_region_addr(addr);
    let region = |i: usize| {
        let r = &model.regions[i];
        (r.start, r.len() as u64)
    };
    let found = mem
        .find_region(GuestAddress(addr))
        .map(|r| (r.start_addr().0, r.len()));
    ctx.eq(
        ("find_region", addr),
        found,
        expected.map(|(i, _)| region(i)),
    );
    let real = mem
        .to_region_addr(GuestAddress(addr))
        .map(|(r, offset)| (r.start_addr().0, r.len(), offset.0));
    let model_answer = expected.map(|(i, offset)| {
        let (start, len) = region(i);
        (start, len, offset)
    });
    ctx.eq(("to_region_addr", addr), real, model_answer);
    if let Some(r) = mem.find_region(GuestAddress(addr)) {
        let offset = r.to_region_addr(GuestAddress(addr)).map(|o| o.0);
        ctx.eq(
            ("region to_region_addr", addr),
            offset,
            expected.map(|e| e.1),
        );
        ctx.eq(
            "region checked_offset",
            r.checked_offset(MemoryRegionAddress(0), 0).is_some(),
            true,
        );
    }
    ctx.eq(
        ("address_in_range", addr),
        mem.address_in_range(GuestAddress(addr)),
        expected.is_some(),
    );
    ctx.eq(
        ("check_address", addr),
        mem.check_address(GuestAddress(addr)).map(|a| a.0),
        expected.map(|_| addr),
    );
    ctx.eq(
        ("get_host_address", addr),
        classify_result(mem.get_host_address(GuestAddress(addr)).map(|p| p.addr())),
        model.host_address(addr),
    );
    ctx.eq("last_addr", mem.last_addr().0, model.last_addr());
    ctx.eq("num_regions", mem.num_regions(), model.regions.len());
}

/// The callback's answer on call `k`: from the list (0 stops, 255 reports one byte more than it
/// was given, other values at most `len`), or `len` when the list is empty.
fn answer(answers: &[u8], k: usize, len: usize) -> usize {
    match answers.get(k % answers.len().max(1)) {
        None => len,
        Some(0) => 0,
        Some(255) => len.saturating_add(1),
        Some(&b) => len.min(usize::from(b)),
    }
}

#[allow(deprecated)]
fn try_access<M, C>(
    ctx: &Ctx<'_, C>,
    mem: &M,
    model: &ModelMemory,
    addr: u64,
    count: usize,
    answers: &[u8],
) where
    M: GuestMemoryBackend,
    C: std::fmt::Debug,
{
    let starts: Vec<u64> = model.regions.iter().map(|r| r.start).collect();
    let mut real_calls: Vec<AccessCall> = Vec::new();
    let real =
        classify_result(
            mem.try_access(count, GuestAddress(addr), |done, len, offset, r| {
                let region = starts
                    .iter()
                    .position(|&s| s == r.start_addr().0)
                    .expect("a region of the memory");
                real_calls.push((done, len, region, offset.0));
                Ok(answer(answers, real_calls.len() - 1, len))
            }),
        );
    let mut model_calls = Vec::new();
    let mut k = 0;
    let expected = model.try_access(
        count,
        addr,
        |_, len| {
            k += 1;
            answer(answers, k - 1, len)
        },
        &mut model_calls,
    );
    ctx.eq(("try_access", addr, count), real, expected);
    ctx.eq("try_access calls", real_calls, model_calls);
}
