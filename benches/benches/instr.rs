//! Instruction counts (callgrind, through gungraun) of the small-object paths, ours against
//! upstream vm-memory 0.18.0: deterministic numbers on a noisy machine.
//!
//! Each benchmark is one call on a memory of 1, 8, 64 or 1024 regions of 1 MiB, at [`OFFSET`]
//! in the last region (the first when there is one), plus a few objects straddling a boundary
//! and the bare lookup (`find_region`). The memory is built by the setup function (not counted)
//! and leaked, so its teardown is not counted either. Function names end in `_ours` or
//! `_upstream`; the report pairs them.
//!
//! Run: `cargo bench -p vm-memory-benches --bench instr` (needs `gungraun-runner` 0.20.0 and
//! valgrind; see `.ci/bench.sh`).
//!
//! [`OFFSET`]: vm_memory_benches::OFFSET

// The lint exceptions of this crate, for gungraun's generated code only.
#![expect(
    unused_qualifications,
    reason = "gungraun's #[library_benchmark] expands each setup path to `super::<setup>` with \
              this file's spans"
)]
#![expect(
    missing_docs,
    reason = "#[library_benchmark] rejects doc comments and, used inside macro_rules, generates \
              an undocumented `pub mod` per benchmark"
)]

use std::hint::black_box;
use std::mem::size_of;
use std::sync::atomic::Ordering;

use gungraun::{library_benchmark, library_benchmark_group, main};
use upstream::{Bytes as _, GuestMemoryBackend as _};
use vm_memory::{Bytes as _, GuestMemoryBackend as _};
use vm_memory_benches::{Blob96, Descriptor, Place, ours, up};

use upstream::GuestAddress as UA;
use vm_memory::GuestAddress as OA;

/// The place the per-region-count benchmarks use.
fn place(regions: usize) -> Place {
    if regions == 1 {
        Place::First
    } else {
        Place::Last
    }
}

/// Our memory of `regions` regions (leaked) and the address of objects in its last region.
fn ours_last(regions: usize) -> (&'static ours::Mem, u64) {
    let addr = place(regions).addr(regions, 8).unwrap();
    (Box::leak(Box::new(ours::memory(regions))), addr)
}

/// As [`ours_last`], with upstream.
fn up_last(regions: usize) -> (&'static up::Mem, u64) {
    let addr = place(regions).addr(regions, 8).unwrap();
    (Box::leak(Box::new(up::memory(regions))), addr)
}

/// Setups for objects that straddle the middle boundary, per object size.
macro_rules! boundary_setups {
    ($($ours:ident, $up:ident, $t:ty;)*) => {$(
        fn $ours(regions: usize) -> (&'static ours::Mem, u64) {
            let addr = Place::Boundary.addr(regions, size_of::<$t>()).unwrap();
            (Box::leak(Box::new(ours::memory(regions))), addr)
        }
        fn $up(regions: usize) -> (&'static up::Mem, u64) {
            let addr = Place::Boundary.addr(regions, size_of::<$t>()).unwrap();
            (Box::leak(Box::new(up::memory(regions))), addr)
        }
    )*};
}
boundary_setups! {
    ours_boundary_u64, up_boundary_u64, u64;
    ours_boundary_desc16, up_boundary_desc16, Descriptor;
}

/// `read_obj`/`write_obj` benchmarks of one type, ours and upstream, at 1/8/64/1024 regions.
macro_rules! object_benches {
    ($read_ours:ident, $read_up:ident, $write_ours:ident, $write_up:ident, $t:ty) => {
        #[library_benchmark]
        #[bench::r1(args = (1), setup = ours_last)]
        #[bench::r8(args = (8), setup = ours_last)]
        #[bench::r64(args = (64), setup = ours_last)]
        #[bench::r1024(args = (1024), setup = ours_last)]
        fn $read_ours(fx: (&'static ours::Mem, u64)) {
            black_box(fx.0.read_obj::<$t>(black_box(OA(fx.1))).unwrap());
        }

        #[library_benchmark]
        #[bench::r1(args = (1), setup = up_last)]
        #[bench::r8(args = (8), setup = up_last)]
        #[bench::r64(args = (64), setup = up_last)]
        #[bench::r1024(args = (1024), setup = up_last)]
        fn $read_up(fx: (&'static up::Mem, u64)) {
            black_box(fx.0.read_obj::<$t>(black_box(UA(fx.1))).unwrap());
        }

        #[library_benchmark]
        #[bench::r1(args = (1), setup = ours_last)]
        #[bench::r8(args = (8), setup = ours_last)]
        #[bench::r64(args = (64), setup = ours_last)]
        #[bench::r1024(args = (1024), setup = ours_last)]
        fn $write_ours(fx: (&'static ours::Mem, u64)) {
            fx.0.write_obj(black_box(<$t>::default()), black_box(OA(fx.1)))
                .unwrap();
        }

        #[library_benchmark]
        #[bench::r1(args = (1), setup = up_last)]
        #[bench::r8(args = (8), setup = up_last)]
        #[bench::r64(args = (64), setup = up_last)]
        #[bench::r1024(args = (1024), setup = up_last)]
        fn $write_up(fx: (&'static up::Mem, u64)) {
            fx.0.write_obj(black_box(<$t>::default()), black_box(UA(fx.1)))
                .unwrap();
        }
    };
}

object_benches!(
    read_u8_ours,
    read_u8_upstream,
    write_u8_ours,
    write_u8_upstream,
    u8
);
object_benches!(
    read_u32_ours,
    read_u32_upstream,
    write_u32_ours,
    write_u32_upstream,
    u32
);
object_benches!(
    read_u64_ours,
    read_u64_upstream,
    write_u64_ours,
    write_u64_upstream,
    u64
);
object_benches!(
    read_desc16_ours,
    read_desc16_upstream,
    write_desc16_ours,
    write_desc16_upstream,
    Descriptor
);
object_benches!(
    read_obj96_ours,
    read_obj96_upstream,
    write_obj96_ours,
    write_obj96_upstream,
    Blob96
);

// Objects straddling the boundary between the two middle regions (the setups are spelled out:
// gungraun's attribute does not accept a macro variable as `setup`).
#[library_benchmark]
#[bench::r8(args = (8), setup = ours_boundary_u64)]
#[bench::r1024(args = (1024), setup = ours_boundary_u64)]
fn read_boundary_u64_ours(fx: (&'static ours::Mem, u64)) {
    black_box(fx.0.read_obj::<u64>(black_box(OA(fx.1))).unwrap());
}

#[library_benchmark]
#[bench::r8(args = (8), setup = up_boundary_u64)]
#[bench::r1024(args = (1024), setup = up_boundary_u64)]
fn read_boundary_u64_upstream(fx: (&'static up::Mem, u64)) {
    black_box(fx.0.read_obj::<u64>(black_box(UA(fx.1))).unwrap());
}

#[library_benchmark]
#[bench::r8(args = (8), setup = ours_boundary_desc16)]
#[bench::r1024(args = (1024), setup = ours_boundary_desc16)]
fn read_boundary_desc16_ours(fx: (&'static ours::Mem, u64)) {
    black_box(fx.0.read_obj::<Descriptor>(black_box(OA(fx.1))).unwrap());
}

#[library_benchmark]
#[bench::r8(args = (8), setup = up_boundary_desc16)]
#[bench::r1024(args = (1024), setup = up_boundary_desc16)]
fn read_boundary_desc16_upstream(fx: (&'static up::Mem, u64)) {
    black_box(fx.0.read_obj::<Descriptor>(black_box(UA(fx.1))).unwrap());
}

/// Relaxed `load`/`store` of one integer type, ours and upstream, at 1/8/64/1024 regions.
macro_rules! atomic_benches {
    ($load_ours:ident, $load_up:ident, $store_ours:ident, $store_up:ident, $t:ty) => {
        #[library_benchmark]
        #[bench::r1(args = (1), setup = ours_last)]
        #[bench::r8(args = (8), setup = ours_last)]
        #[bench::r64(args = (64), setup = ours_last)]
        #[bench::r1024(args = (1024), setup = ours_last)]
        fn $load_ours(fx: (&'static ours::Mem, u64)) {
            black_box(
                fx.0.load::<$t>(black_box(OA(fx.1)), Ordering::Relaxed)
                    .unwrap(),
            );
        }

        #[library_benchmark]
        #[bench::r1(args = (1), setup = up_last)]
        #[bench::r8(args = (8), setup = up_last)]
        #[bench::r64(args = (64), setup = up_last)]
        #[bench::r1024(args = (1024), setup = up_last)]
        fn $load_up(fx: (&'static up::Mem, u64)) {
            black_box(
                fx.0.load::<$t>(black_box(UA(fx.1)), Ordering::Relaxed)
                    .unwrap(),
            );
        }

        #[library_benchmark]
        #[bench::r1(args = (1), setup = ours_last)]
        #[bench::r8(args = (8), setup = ours_last)]
        #[bench::r64(args = (64), setup = ours_last)]
        #[bench::r1024(args = (1024), setup = ours_last)]
        fn $store_ours(fx: (&'static ours::Mem, u64)) {
            fx.0.store(
                black_box(<$t>::default()),
                black_box(OA(fx.1)),
                Ordering::Relaxed,
            )
            .unwrap();
        }

        #[library_benchmark]
        #[bench::r1(args = (1), setup = up_last)]
        #[bench::r8(args = (8), setup = up_last)]
        #[bench::r64(args = (64), setup = up_last)]
        #[bench::r1024(args = (1024), setup = up_last)]
        fn $store_up(fx: (&'static up::Mem, u64)) {
            fx.0.store(
                black_box(<$t>::default()),
                black_box(UA(fx.1)),
                Ordering::Relaxed,
            )
            .unwrap();
        }
    };
}

atomic_benches!(
    load_u16_ours,
    load_u16_upstream,
    store_u16_ours,
    store_u16_upstream,
    u16
);
atomic_benches!(
    load_u32_ours,
    load_u32_upstream,
    store_u32_ours,
    store_u32_upstream,
    u32
);
atomic_benches!(
    load_u64_ours,
    load_u64_upstream,
    store_u64_ours,
    store_u64_upstream,
    u64
);

#[library_benchmark]
#[bench::r1(args = (1), setup = ours_last)]
#[bench::r8(args = (8), setup = ours_last)]
#[bench::r64(args = (64), setup = ours_last)]
#[bench::r1024(args = (1024), setup = ours_last)]
fn find_region_ours(fx: (&'static ours::Mem, u64)) {
    black_box(fx.0.find_region(black_box(OA(fx.1))).unwrap());
}

#[library_benchmark]
#[bench::r1(args = (1), setup = up_last)]
#[bench::r8(args = (8), setup = up_last)]
#[bench::r64(args = (64), setup = up_last)]
#[bench::r1024(args = (1024), setup = up_last)]
fn find_region_upstream(fx: (&'static up::Mem, u64)) {
    black_box(fx.0.find_region(black_box(UA(fx.1))).unwrap());
}

// The harness alone: what every count above includes besides the call itself (the address
// passed through `black_box`, the result through `black_box`).
#[library_benchmark]
#[bench::r1(args = (1), setup = ours_last)]
fn harness(fx: (&'static ours::Mem, u64)) {
    black_box(black_box(OA(fx.1)).0);
}

library_benchmark_group!(
    name = read_obj,
    benchmarks = [
        read_u8_ours,
        read_u8_upstream,
        read_u32_ours,
        read_u32_upstream,
        read_u64_ours,
        read_u64_upstream,
        read_desc16_ours,
        read_desc16_upstream,
        read_obj96_ours,
        read_obj96_upstream,
        read_boundary_u64_ours,
        read_boundary_u64_upstream,
        read_boundary_desc16_ours,
        read_boundary_desc16_upstream
    ]
);

library_benchmark_group!(
    name = write_obj,
    benchmarks = [
        write_u8_ours,
        write_u8_upstream,
        write_u32_ours,
        write_u32_upstream,
        write_u64_ours,
        write_u64_upstream,
        write_desc16_ours,
        write_desc16_upstream,
        write_obj96_ours,
        write_obj96_upstream
    ]
);

library_benchmark_group!(
    name = atomics,
    benchmarks = [
        load_u16_ours,
        load_u16_upstream,
        load_u32_ours,
        load_u32_upstream,
        load_u64_ours,
        load_u64_upstream,
        store_u16_ours,
        store_u16_upstream,
        store_u32_ours,
        store_u32_upstream,
        store_u64_ours,
        store_u64_upstream
    ]
);

library_benchmark_group!(
    name = lookup,
    benchmarks = [harness, find_region_ours, find_region_upstream]
);

main!(
    library_benchmark_groups = read_obj,
    write_obj,
    atomics,
    lookup
);
