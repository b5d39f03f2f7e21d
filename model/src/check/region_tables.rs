//! Region containers: `RegionTable` (fixed capacity) and `GuestRegionCollection` (`Arc`s) built
//! from arbitrary region lists, then changed by inserts and removals, every answer compared with
//! the layout model, and every region boundary probed after every change. Also `RawRegion::new`'s
//! validation.

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use vm_memory_core::{
    GuestAddress, GuestMemoryBackend, GuestMemoryRegion, GuestRegionCollection, RawRegion,
    RegionTable,
};

use super::Ctx;
use crate::input::{AddrSpec, Wide, decode, many};
use crate::model::layout::{ModelLayout, Span};
use crate::real::SpanRegion;

/// The table's capacity.
const CAPACITY: usize = 8;

/// A region length: often small (0 is invalid), sometimes at an edge.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum LenSpec {
    /// 0..=255 bytes.
    Small(u8),
    /// Any length.
    Wide(Wide),
}

impl LenSpec {
    fn get(self) -> u64 {
        match self {
            LenSpec::Small(n) => u64::from(n),
            LenSpec::Wide(w) => w.get(),
        }
    }
}

/// Where a region of the initial list starts, relative to the previous one.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Placement {
    /// `gap` bytes after the previous region's end.
    After(u8),
    /// `back` bytes before the previous region's end (overlapping it, or unsorted).
    Back(u16),
    /// Anywhere.
    Wide(Wide),
    /// So that the region ends exactly at 2^64 (for lengths `1..`).
    AtTop,
}

/// One region of the initial list.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct InitSpec {
    place: Placement,
    len: LenSpec,
}

/// Where an inserted or removed region starts.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Anchor {
    /// Relative to the current regions.
    Near(AddrSpec),
    /// Anywhere.
    Wide(Wide),
}

/// One change or query.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum TableOp {
    /// Insert a region.
    Insert(Anchor, LenSpec),
    /// Remove the region at `i` (by its exact start and length).
    RemoveExisting(u8),
    /// Remove with a start and length that may not match.
    Remove(Anchor, LenSpec),
    /// Look an address up.
    Lookup(Anchor),
    /// `checked_offset`.
    CheckedOffset(Anchor, Wide),
    /// `RawRegion::new` over a 64-byte buffer: `len % 65` bytes at `start`.
    NewRaw(Wide, u8),
}

/// A whole case.
#[derive(Arbitrary, Clone, Debug)]
pub struct Case {
    /// The regions the containers are built from (in this order).
    #[arbitrary(with = |u: &mut Unstructured<'_>| many(u, 12))]
    pub initial: Vec<InitSpec>,
    /// The changes.
    #[arbitrary(with = |u: &mut Unstructured<'_>| many(u, 48))]
    pub ops: Vec<TableOp>,
}

/// Decodes and runs one case.
pub fn run(data: &[u8]) {
    if let Ok(case) = decode::<Case>(data) {
        run_case(&case);
    }
}

fn initial_spans(specs: &[InitSpec]) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    for spec in specs {
        let prev_end = spans.last().map_or(0, Span::end);
        let start = match spec.place {
            Placement::After(gap) => prev_end + u128::from(gap),
            Placement::Back(back) => prev_end.saturating_sub(u128::from(back)),
            Placement::Wide(w) => u128::from(w.get()),
            Placement::AtTop => (1u128 << 64) - u128::from(spec.len.get().max(1)),
        };
        spans.push(Span {
            start: (start % (1 << 64)) as u64,
            len: spec.len.get(),
        });
    }
    spans
}

fn regions(spans: &[Span]) -> Vec<SpanRegion> {
    spans
        .iter()
        .map(|s| SpanRegion::new(s.start, s.len))
        .collect()
}

/// The containers under test and their models.
struct State {
    table: RegionTable<SpanRegion, CAPACITY>,
    table_model: ModelLayout,
    collection: GuestRegionCollection<SpanRegion>,
    collection_model: ModelLayout,
}

/// Runs one case.
pub fn run_case(case: &Case) {
    let mut ctx = Ctx { case, step: 0 };
    let spans = initial_spans(&case.initial);

    let table_model = ModelLayout::from_spans(&spans, Some(CAPACITY));
    let table = RegionTable::<SpanRegion, CAPACITY>::from_regions(regions(&spans));
    ctx.eq(
        "RegionTable::from_regions",
        table.as_ref().err(),
        table_model.as_ref().err(),
    );
    let collection_model = ModelLayout::from_spans(&spans, None);
    let collection = GuestRegionCollection::from_regions(regions(&spans));
    ctx.eq(
        "GuestRegionCollection::from_regions",
        collection.as_ref().err(),
        collection_model.as_ref().err(),
    );
    from_ranges(&ctx, &spans);
    let mut state = State {
        table: table.unwrap_or_default(),
        table_model: table_model.unwrap_or_default(),
        collection: collection.unwrap_or_default(),
        collection_model: collection_model.unwrap_or_default(),
    };
    probe_all(&ctx, &state);

    for (step, op) in case.ops.iter().enumerate() {
        ctx.step = step;
        apply(&ctx, &mut state, *op);
    }
}

fn anchor(a: Anchor, layout: &ModelLayout) -> u64 {
    match a {
        Anchor::Wide(w) => w.get(),
        Anchor::Near(spec) if !layout.spans.is_empty() => {
            let spans: Vec<(u64, u64)> = layout.spans.iter().map(|s| (s.start, s.len)).collect();
            spec.resolve(&spans)
        }
        Anchor::Near(spec) => spec.resolve(&[(0, 0)]),
    }
}

fn apply<C: std::fmt::Debug>(ctx: &Ctx<'_, C>, state: &mut State, op: TableOp) {
    match op {
        TableOp::Insert(at, len) => {
            let span = Span {
                start: anchor(at, &state.collection_model),
                len: len.get(),
            };
            let real = state.table.insert(SpanRegion::new(span.start, span.len));
            let model = state.table_model.insert(span, Some(CAPACITY));
            ctx.eq(("RegionTable::insert", span), real, model);

            let before = listing(&state.collection);
            let real = state
                .collection
                .insert_region(Arc::new(SpanRegion::new(span.start, span.len)));
            ctx.eq(
                "insert_region leaves the original",
                listing(&state.collection),
                before,
            );
            let model = state.collection_model.insert(span, None);
            ctx.eq(
                ("insert_region", span),
                real.as_ref().err(),
                model.as_ref().err(),
            );
            if let Ok(new) = real {
                state.collection = new;
            }
            probe_all(ctx, state);
        }
        TableOp::RemoveExisting(i) => {
            if let Some(&span) = state
                .collection_model
                .spans
                .get(usize::from(i) % state.collection_model.spans.len().max(1))
            {
                remove(ctx, state, span.start, span.len);
            }
        }
        TableOp::Remove(at, len) => {
            let start = anchor(at, &state.collection_model);
            remove(ctx, state, start, len.get());
        }
        TableOp::Lookup(at) => {
            let addr = anchor(at, &state.collection_model);
            probe(ctx, state, addr);
        }
        TableOp::CheckedOffset(at, offset) => {
            let (base, offset) = (anchor(at, &state.collection_model), offset.get_usize());
            let what = ("checked_offset", base, offset);
            let real = state.table.checked_offset(GuestAddress(base), offset);
            let model = state.table_model.checked_offset(base, offset);
            ctx.eq(what, real.map(|a| a.0), model);
            let real = state.collection.checked_offset(GuestAddress(base), offset);
            let model = state.collection_model.checked_offset(base, offset);
            ctx.eq(what, real.map(|a| a.0), model);
        }
        TableOp::NewRaw(start, len) => {
            let mut buffer = [0u64; 8];
            let (start, len) = (start.get(), usize::from(len) % 65);
            // SAFETY: `buffer` holds 64 bytes, at least `len`, and outlives the region, which is
            // dropped at the end of this block without being accessed.
            let real =
                unsafe { RawRegion::new(buffer.as_mut_ptr().cast(), len, GuestAddress(start)) };
            let model = Span {
                start,
                len: len as u64,
            }
            .own_error();
            ctx.eq(("RawRegion::new", start, len), real.err(), model);
        }
    }
}

fn remove<C: std::fmt::Debug>(ctx: &Ctx<'_, C>, state: &mut State, start: u64, len: u64) {
    let real = state
        .table
        .remove(GuestAddress(start), len)
        .map(|r| span_of(&r));
    let model = state.table_model.remove(start, len);
    ctx.eq(("RegionTable::remove", start, len), real, model);

    let before = listing(&state.collection);
    let real = state.collection.remove_region(GuestAddress(start), len);
    ctx.eq(
        "remove_region leaves the original",
        listing(&state.collection),
        before,
    );
    let model = state.collection_model.remove(start, len);
    ctx.eq(
        ("remove_region", start, len),
        real.as_ref().map(|(_, r)| span_of(r)).map_err(|e| *e),
        model,
    );
    if let Ok((new, _)) = real {
        state.collection = new;
    }
    probe_all(ctx, state);
}

fn span_of(r: &SpanRegion) -> Span {
    Span {
        start: r.start_addr().0,
        len: r.len(),
    }
}

fn listing<M: GuestMemoryBackend<R = SpanRegion>>(mem: &M) -> Vec<Span> {
    mem.iter().map(span_of).collect()
}

/// Every region's boundaries (and one byte either side), plus the lists and totals.
fn probe_all<C: std::fmt::Debug>(ctx: &Ctx<'_, C>, state: &State) {
    ctx.eq(
        "table regions",
        listing(&state.table),
        state.table_model.spans.clone(),
    );
    ctx.eq(
        "collection regions",
        listing(&state.collection),
        state.collection_model.spans.clone(),
    );
    ctx.eq(
        "table num_regions / last_addr",
        (state.table.num_regions(), state.table.last_addr().0),
        (state.table_model.spans.len(), state.table_model.last_addr()),
    );
    ctx.eq(
        "collection num_regions / last_addr",
        (
            state.collection.num_regions(),
            state.collection.last_addr().0,
        ),
        (
            state.collection_model.spans.len(),
            state.collection_model.last_addr(),
        ),
    );
    let mut addrs = vec![0, u64::MAX];
    for span in state
        .table_model
        .spans
        .iter()
        .chain(&state.collection_model.spans)
    {
        let last = (span.end() - 1) as u64;
        addrs.extend([
            span.start.wrapping_sub(1),
            span.start,
            span.start.wrapping_add(1),
            last.wrapping_sub(1),
            last,
            last.wrapping_add(1),
            span.start.wrapping_add(span.len / 2),
        ]);
    }
    for addr in addrs {
        probe(ctx, state, addr);
    }
}

fn probe<C: std::fmt::Debug>(ctx: &Ctx<'_, C>, state: &State, addr: u64) {
    check_lookup(ctx, "table", &state.table, &state.table_model, addr);
    check_lookup(
        ctx,
        "collection",
        &state.collection,
        &state.collection_model,
        addr,
    );
}

fn check_lookup<M, C>(ctx: &Ctx<'_, C>, name: &str, mem: &M, model: &ModelLayout, addr: u64)
where
    M: GuestMemoryBackend<R = SpanRegion>,
    C: std::fmt::Debug,
{
    let expected = model.find(addr).map(|i| model.spans[i]);
    let found = mem.find_region(GuestAddress(addr)).map(span_of);
    ctx.eq((name, "find_region", addr), found, expected);
    let real = mem
        .to_region_addr(GuestAddress(addr))
        .map(|(r, offset)| (span_of(r), offset.0));
    ctx.eq(
        (name, "to_region_addr", addr),
        real,
        expected.map(|s| (s, addr - s.start)),
    );
    ctx.eq(
        (name, "address_in_range", addr),
        mem.address_in_range(GuestAddress(addr)),
        expected.is_some(),
    );
}

/// What `GuestMemoryMmap::from_ranges` gives.
#[derive(Debug, PartialEq, Eq)]
enum Built {
    /// A memory with these regions.
    Ok(Vec<Span>),
    /// A region's memory could not be mapped (size 0).
    MmapRegion,
    /// A region would end at or past 2^64 (`GuestRegionMmap` refuses both, as vm-memory 0.18).
    InvalidGuestRegion,
    /// The layout error.
    Collection(vm_memory_core::GuestRegionCollectionError),
}

/// The std face's `from_ranges` on the initial list (when every region is at most 1 MiB):
/// regions are created in order, the first failure wins (size 0 cannot be mapped, a region
/// may not end at or past 2^64), then the layout is checked.
fn from_ranges<C: std::fmt::Debug>(ctx: &Ctx<'_, C>, spans: &[Span]) {
    use vm_memory_core::region::FromRangesError;

    if spans.iter().any(|s| s.len > 1 << 20) {
        return;
    }
    let expected = spans
        .iter()
        .find_map(|s| {
            if s.len == 0 {
                Some(Built::MmapRegion)
            } else if s.end() >= 1 << 64 {
                Some(Built::InvalidGuestRegion)
            } else {
                None
            }
        })
        .unwrap_or_else(|| match crate::model::layout::validate(spans) {
            Ok(()) => Built::Ok(spans.to_vec()),
            Err(e) => Built::Collection(e),
        });
    let ranges: Vec<(GuestAddress, usize)> = spans
        .iter()
        .map(|s| (GuestAddress(s.start), s.len as usize))
        .collect();
    let real = match crate::real::Mmap::from_ranges(&ranges) {
        Ok(mem) => Built::Ok(
            mem.iter()
                .map(|r| Span {
                    start: r.start_addr().0,
                    len: r.len(),
                })
                .collect(),
        ),
        Err(FromRangesError::MmapRegion(_)) => Built::MmapRegion,
        Err(FromRangesError::InvalidGuestRegion) => Built::InvalidGuestRegion,
        Err(FromRangesError::Collection(e)) => Built::Collection(e),
    };
    ctx.eq(("GuestMemoryMmap::from_ranges", spans), real, expected);
}
