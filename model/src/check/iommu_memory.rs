//! `IommuMemory`: `Bytes` at I/O virtual addresses over a table of raw regions, with IOTLB
//! mappings (and invalidations) between accesses and the IOMMU switched on and off; each
//! result, the physical memory, the physical dirty bits (untouched while the IOMMU is on) and
//! the IOVA dirty bitmap compared with the model.

use std::num::NonZeroUsize;
use std::sync::atomic::Ordering;

use arbitrary::{Arbitrary, Unstructured};
use vm_memory_core::bitmap::AtomicBitmap;
use vm_memory_core::{Bytes, GuestAddress, GuestMemory, IommuMemory};

use super::Ctx;
use super::iotlb::{Iova, Length, Perm};
use crate::input::{AddrSpec, CountSpec, Data, LayoutSpec, Len, decode, many};
use crate::model::error::classify_result;
use crate::model::iotlb::ModelIotlb;
use crate::model::memory::Sink;
use crate::model::{ModelBitmap, ModelIommu, ModelMemory};
use crate::real::{self, Iommued, TestIommu};

/// Bytes of IOVA space the IOVA bitmap covers (`Iova::Low` addresses and a little more).
const IOVA_SPACE: usize = 512;

/// Where a mapping points in physical memory.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum PhysTarget {
    /// Inside region `i`, at an offset (modulo its length).
    InRegion(u8, u16),
    /// Near a region's edge, or anywhere.
    Near(AddrSpec),
}

impl PhysTarget {
    fn resolve(self, spans: &[(u64, u64)]) -> u64 {
        match self {
            PhysTarget::InRegion(i, off) => {
                let (start, len) = spans[usize::from(i) % spans.len()];
                start + u64::from(off) % len
            }
            PhysTarget::Near(spec) => spec.resolve(spans),
        }
    }
}

/// An IOMMU permission: mostly `ReadWrite`, so that accesses often succeed.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum MapPerm {
    /// `ReadWrite`.
    Full,
    /// Any permission.
    Some(Perm),
}

/// One operation.
#[derive(Arbitrary, Clone, Debug)]
pub enum IoOp {
    /// `set_mapping` to a physical address inside or near the layout's regions.
    Map(Iova, PhysTarget, Length, MapPerm),
    /// As `Map`, twice as likely.
    Map2(Iova, PhysTarget, Length, MapPerm),
    /// `invalidate_mapping`.
    Invalidate(Iova, Length),
    /// `set_iommu_enabled(!enabled)`.
    Toggle,
    /// `write`.
    Write(Iova, Data),
    /// `read`.
    Read(Iova, Len),
    /// `write_slice`.
    WriteSlice(Iova, Data),
    /// `read_slice`.
    ReadSlice(Iova, Len),
    /// `write_obj::<u64>` (the fast path when one piece holds it).
    WriteObj(Iova, u64),
    /// `read_obj::<u64>`.
    ReadObj(Iova),
    /// `store::<u32>`.
    Store(Iova, u32),
    /// `load::<u32>`.
    Load(Iova),
    /// `read_volatile_from` with a `&[u8]` source.
    ReadVolatileFrom(Iova, Data, CountSpec),
    /// `write_volatile_to` into a `&mut [u8]`.
    WriteVolatileTo(Iova, Len, CountSpec),
    /// `check_range` and `get_slices` for an access.
    Slices(Iova, CountSpec, Perm),
}

/// A whole case.
#[derive(Arbitrary, Clone, Debug)]
pub struct Case {
    /// The physical regions.
    pub layout: LayoutSpec,
    /// Whether the IOMMU starts on.
    pub enabled: bool,
    /// The IOVA bitmap's page size (`1 << (page % 7)`).
    pub page: u8,
    /// The operations.
    #[arbitrary(with = |u: &mut Unstructured<'_>| many(u, 48))]
    pub ops: Vec<IoOp>,
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
    let page = 1usize << (case.page % 7);
    let backed = real::table(&plans)
        .expect("resolved layouts are valid")
        .map(|table| {
            let bitmap = AtomicBitmap::new(IOVA_SPACE, NonZeroUsize::new(page).expect("non-zero"));
            IommuMemory::new(table, TestIommu::default(), case.enabled, bitmap)
        });
    let mem = backed.mem();
    let mut model = real::model_of(mem.get_backend());
    model.iommu = Some(ModelIommu {
        iotlb: ModelIotlb::default(),
        enabled: case.enabled,
        dirty: ModelBitmap::new(IOVA_SPACE, page),
    });
    let spans: Vec<(u64, u64)> = plans.iter().map(|p| (p.start, p.len as u64)).collect();
    let mut ctx = Ctx { case, step: 0 };
    for (step, op) in case.ops.iter().enumerate() {
        ctx.step = step;
        run_op(&ctx, mem, &mut model, &spans, op);
        compare_state(&ctx, mem, &model);
    }
}

fn iommu(model: &mut ModelMemory) -> &mut ModelIommu {
    model.iommu.as_mut().expect("an IOMMU model")
}

fn run_op<C: std::fmt::Debug>(
    ctx: &Ctx<'_, C>,
    mem: &Iommued,
    model: &mut ModelMemory,
    spans: &[(u64, u64)],
    op: &IoOp,
) {
    match op {
        IoOp::Map(iova, target, len, perm) | IoOp::Map2(iova, target, len, perm) => {
            let perm = match perm {
                MapPerm::Full => vm_memory_core::Permissions::ReadWrite,
                MapPerm::Some(p) => p.get(),
            };
            let (iova, to, len) = (iova.get(), target.resolve(spans), len.get());
            let mut iotlb = mem.iommu().iotlb.write().expect("not poisoned");
            let real = iotlb
                .set_mapping(GuestAddress(iova), GuestAddress(to), len, perm)
                .is_ok();
            let expected = iommu(model).iotlb.set_mapping(iova, to, len, perm).is_ok();
            ctx.eq(("set_mapping", iova, to, len, perm), real, expected);
        }
        IoOp::Invalidate(iova, len) => {
            let (iova, len) = (iova.get(), len.get());
            let mut iotlb = mem.iommu().iotlb.write().expect("not poisoned");
            iotlb.invalidate_mapping(GuestAddress(iova), len);
            iommu(model).iotlb.invalidate_mapping(iova, len);
        }
        IoOp::Toggle => {
            let enabled = !mem.get_iommu_enabled();
            mem.set_iommu_enabled(enabled);
            iommu(model).enabled = enabled;
            ctx.eq(
                "physical_memory",
                GuestMemory::physical_memory(mem).is_some(),
                !enabled,
            );
        }
        IoOp::Write(a, data) => {
            let (addr, data) = (a.get(), data.bytes());
            let real = classify_result(mem.write(&data, GuestAddress(addr)));
            ctx.eq(("write", addr, data.len()), real, model.write(&data, addr));
        }
        IoOp::Read(a, len) => {
            let addr = a.get();
            let (mut real_buf, mut model_buf) = (vec![0xa5; len.get()], vec![0xa5; len.get()]);
            let real = classify_result(mem.read(&mut real_buf, GuestAddress(addr)));
            ctx.eq(("read", addr), real, model.read(&mut model_buf, addr));
            ctx.eq(("read buffer", addr), real_buf, model_buf);
        }
        IoOp::WriteSlice(a, data) => {
            let (addr, data) = (a.get(), data.bytes());
            let real = classify_result(mem.write_slice(&data, GuestAddress(addr)));
            ctx.eq(("write_slice", addr), real, model.write_slice(&data, addr));
        }
        IoOp::ReadSlice(a, len) => {
            let addr = a.get();
            let (mut real_buf, mut model_buf) = (vec![0x5a; len.get()], vec![0x5a; len.get()]);
            let real = classify_result(mem.read_slice(&mut real_buf, GuestAddress(addr)));
            ctx.eq(
                ("read_slice", addr),
                real,
                model.read_slice(&mut model_buf, addr),
            );
            ctx.eq(("read_slice buffer", addr), real_buf, model_buf);
        }
        IoOp::WriteObj(a, v) => {
            let addr = a.get();
            let real = classify_result(mem.write_obj(*v, GuestAddress(addr)));
            let expected = model.write_slice(&v.to_ne_bytes(), addr);
            ctx.eq(("write_obj", addr, v), real, expected);
        }
        IoOp::ReadObj(a) => {
            let addr = a.get();
            let real = classify_result(mem.read_obj::<u64>(GuestAddress(addr)));
            let mut bytes = [0u8; 8];
            let expected = model
                .read_slice(&mut bytes, addr)
                .map(|()| u64::from_ne_bytes(bytes));
            ctx.eq(("read_obj", addr), real, expected);
        }
        IoOp::Store(a, v) => {
            let addr = a.get();
            let real = classify_result(mem.store(*v, GuestAddress(addr), Ordering::Release));
            let expected = model.store(&v.to_ne_bytes(), 4, addr);
            ctx.eq(("store", addr, v), real, expected);
        }
        IoOp::Load(a) => {
            let addr = a.get();
            let real = classify_result(mem.load::<u32>(GuestAddress(addr), Ordering::Acquire));
            let expected = model
                .load(4, 4, addr)
                .map(|b| u32::from_ne_bytes(b.try_into().expect("4 bytes")));
            ctx.eq(("load", addr), real, expected);
        }
        IoOp::ReadVolatileFrom(a, src, count) => {
            let (addr, src, count) = (a.get(), src.bytes(), count.get());
            let (mut real_src, mut model_src) = (&src[..], &src[..]);
            let real =
                classify_result(mem.read_volatile_from(GuestAddress(addr), &mut real_src, count));
            let expected = model.read_volatile_from(addr, &mut model_src, count);
            ctx.eq(("read_volatile_from", addr, count), real, expected);
            ctx.eq("source left", real_src.len(), model_src.len());
        }
        IoOp::WriteVolatileTo(a, len, count) => {
            let (addr, count) = (a.get(), count.get());
            let mut buf = vec![0u8; len.get()];
            let mut real_sink = &mut buf[..];
            let real =
                classify_result(mem.write_volatile_to(GuestAddress(addr), &mut real_sink, count));
            let left = real_sink.len();
            let mut sink = Sink::Slice {
                capacity: len.get(),
                data: Vec::new(),
            };
            let expected = model.write_volatile_to(addr, &mut sink, count);
            ctx.eq(("write_volatile_to", addr, count), real, expected);
            let Sink::Slice { data, .. } = sink else {
                unreachable!()
            };
            ctx.eq(
                "sink",
                (left, &buf[..data.len()]),
                (len.get() - data.len(), &data[..]),
            );
        }
        IoOp::Slices(a, count, perm) => {
            let (addr, count, access) = (a.get(), count.get(), perm.get());
            ctx.eq(
                ("check_range", addr, count, access),
                GuestMemory::check_range(mem, GuestAddress(addr), count, access),
                model.check_range_for(addr, count, access),
            );
            let real = classify_result(
                GuestMemory::get_slices(mem, GuestAddress(addr), count, access).map(|it| {
                    it.map(|item| {
                        classify_result(item.map(|s| (s.ptr_guard().as_ptr().addr(), s.len())))
                    })
                    .collect::<Vec<_>>()
                }),
            );
            let expected = model.items(addr, count, access).map(|items| {
                items
                    .into_iter()
                    .map(|item| item.map(|p| (model.host_of(&p), p.len)))
                    .collect()
            });
            ctx.eq(("get_slices", addr, count, access), real, expected);
        }
    }
}

fn compare_state<C: std::fmt::Debug>(ctx: &Ctx<'_, C>, mem: &Iommued, model: &ModelMemory) {
    let backend = mem.get_backend();
    let contents: Vec<Vec<u8>> = model.regions.iter().map(|r| r.data.clone()).collect();
    ctx.eq("physical memory", real::contents(backend), contents);
    let dirty: Vec<Vec<bool>> = model
        .regions
        .iter()
        .map(|r| r.dirty.bits().to_vec())
        .collect();
    ctx.eq("physical dirty bits", real::dirty_bits(backend), dirty);
    let iova_bitmap = mem.bitmap();
    let bits: Vec<bool> = (0..iova_bitmap.len())
        .map(|i| iova_bitmap.is_bit_set(i))
        .collect();
    let expected = model.iommu.as_ref().expect("an IOMMU model").dirty.bits();
    ctx.eq("IOVA dirty bits", &bits[..], expected);
}
