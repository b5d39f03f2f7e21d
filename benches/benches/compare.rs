//! Wall-clock benchmarks: the same workload through our `vm-memory` (`ours`), upstream
//! vm-memory 0.18.0 (`upstream`) and, where there is one, the hardware reference (`memcpy` for
//! bulk copies, `raw` for a plain volatile or atomic access or a plain `read`/`write` call).
//!
//! Benchmark ids are `<group>/<implementation>/<case>`; the report pairs the implementations of
//! one `<group>/<case>`. Each pair runs back to back, so their ratio is taken under the same
//! machine load. A short pass: `benches/run.sh`.

use std::fs::File;
use std::hint::black_box;
use std::io::{Read, Seek, Write};
use std::mem::size_of;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use upstream::{
    Bytes as _, GuestAddressSpace as _, GuestMemoryBackend as _, GuestMemoryRegion as _,
};
// Ours and upstream's guest address types.
use upstream::GuestAddress as UA;
use vm_memory::GuestAddress as OA;
use vm_memory::{
    Bytes as _, GuestAddressSpace as _, GuestMemoryBackend as _, GuestMemoryRegion as _,
};
use vm_memory_benches::{
    BULK_ADDR, BULK_REGIONS, Blob96, Descriptor, LOOKUP_ADDRS, MIB, Place, REGION_COUNTS,
    StopOnDrop, ours, random_region_addrs, same_region_addrs, up,
};

/// Memories of every region count in [`REGION_COUNTS`], built once for all benchmarks.
struct Fixtures {
    ours: Vec<ours::Mem>,
    up: Vec<up::Mem>,
}

impl Fixtures {
    fn new() -> Self {
        Fixtures {
            ours: REGION_COUNTS.iter().map(|&n| ours::memory(n)).collect(),
            up: REGION_COUNTS.iter().map(|&n| up::memory(n)).collect(),
        }
    }

    fn ours(&self, regions: usize) -> &ours::Mem {
        &self.ours[REGION_COUNTS.iter().position(|&n| n == regions).unwrap()]
    }

    fn up(&self, regions: usize) -> &up::Mem {
        &self.up[REGION_COUNTS.iter().position(|&n| n == regions).unwrap()]
    }
}

/// The host address of guest address `addr` in our memory (for the hardware references).
fn host(mem: &ours::Mem, addr: u64) -> *mut u8 {
    mem.get_host_address(OA(addr)).expect("mapped")
}

/// `read_obj`/`write_obj` of one object type at every place and region count, plus a `raw`
/// volatile access of the same type as the hardware reference.
fn objects<T>(c: &mut Criterion, fx: &Fixtures, name: &str)
where
    T: vm_memory::ByteValued + upstream::ByteValued + Default,
{
    let size = size_of::<T>();
    let mut read = c.benchmark_group(format!("read_obj_{name}"));
    for n in REGION_COUNTS {
        let (o, u) = (fx.ours(n), fx.up(n));
        for place in Place::ALL {
            let Some(a) = place.addr(n, size) else {
                continue;
            };
            let id = format!("{n}r-{}", place.name());
            o.read_obj::<T>(OA(a)).expect("ours read_obj");
            u.read_obj::<T>(UA(a)).expect("upstream read_obj");
            read.bench_function(BenchmarkId::new("ours", &id), |b| {
                b.iter(|| o.read_obj::<T>(black_box(OA(a))))
            });
            read.bench_function(BenchmarkId::new("upstream", &id), |b| {
                b.iter(|| u.read_obj::<T>(black_box(UA(a))))
            });
            if n == 1 {
                let p = host(o, a).cast::<T>();
                read.bench_function(BenchmarkId::new("raw", &id), |b| {
                    // SAFETY: `p` points into a live 1 MiB mapping, `OFFSET` leaves room for any
                    // of the benchmarked types and is aligned for them.
                    b.iter(|| unsafe { ptr::read_volatile(black_box(p)) })
                });
            }
        }
    }
    read.finish();

    let mut write = c.benchmark_group(format!("write_obj_{name}"));
    for n in REGION_COUNTS {
        let (o, u) = (fx.ours(n), fx.up(n));
        for place in Place::ALL {
            let Some(a) = place.addr(n, size) else {
                continue;
            };
            let id = format!("{n}r-{}", place.name());
            o.write_obj(T::default(), OA(a)).expect("ours write_obj");
            u.write_obj(T::default(), UA(a))
                .expect("upstream write_obj");
            write.bench_function(BenchmarkId::new("ours", &id), |b| {
                b.iter(|| o.write_obj(black_box(T::default()), black_box(OA(a))))
            });
            write.bench_function(BenchmarkId::new("upstream", &id), |b| {
                b.iter(|| u.write_obj(black_box(T::default()), black_box(UA(a))))
            });
            if n == 1 {
                let p = host(o, a).cast::<T>();
                write.bench_function(BenchmarkId::new("raw", &id), |b| {
                    // SAFETY: as for the read above; nothing else uses this memory meanwhile.
                    b.iter(|| unsafe { ptr::write_volatile(black_box(p), black_box(T::default())) })
                });
            }
        }
    }
    write.finish();
}

/// An integer type with both crates' `AtomicAccess` and a raw atomic reference access.
trait AtomicInt:
    vm_memory::AtomicAccess + upstream::AtomicAccess + Default + Copy + Send + Sync
{
    /// A relaxed atomic load at `p`.
    ///
    /// # Safety
    ///
    /// `p` is valid for reads and aligned for `Self`, and only accessed atomically meanwhile.
    unsafe fn raw_load(p: *mut Self) -> Self;
    /// A relaxed atomic store at `p`.
    ///
    /// # Safety
    ///
    /// As for [`raw_load`](Self::raw_load), and valid for writes.
    unsafe fn raw_store(p: *mut Self, v: Self);
}

macro_rules! atomic_int {
    ($t:ty, $a:ty) => {
        impl AtomicInt for $t {
            unsafe fn raw_load(p: *mut Self) -> Self {
                // SAFETY: the caller guarantees validity, alignment and atomic-only access.
                unsafe { <$a>::from_ptr(p) }.load(Ordering::Relaxed)
            }
            unsafe fn raw_store(p: *mut Self, v: Self) {
                // SAFETY: as above.
                unsafe { <$a>::from_ptr(p) }.store(v, Ordering::Relaxed)
            }
        }
    };
}
atomic_int!(u16, AtomicU16);
atomic_int!(u32, AtomicU32);
atomic_int!(u64, AtomicU64);

/// `load`/`store` (relaxed) of one integer type in the first region of one region and in the
/// last region of more, plus a `raw` atomic access.
fn atomics<T: AtomicInt>(c: &mut Criterion, fx: &Fixtures, name: &str) {
    for op in ["load", "store"] {
        let mut g = c.benchmark_group(format!("{op}_{name}"));
        for n in REGION_COUNTS {
            let (o, u) = (fx.ours(n), fx.up(n));
            let place = if n == 1 { Place::First } else { Place::Last };
            let a = place.addr(n, size_of::<T>()).unwrap();
            let id = format!("{n}r-{}", place.name());
            o.load::<T>(OA(a), Ordering::Relaxed).expect("ours load");
            u.load::<T>(UA(a), Ordering::Relaxed)
                .expect("upstream load");
            let p = host(o, a).cast::<T>();
            if op == "load" {
                g.bench_function(BenchmarkId::new("ours", &id), |b| {
                    b.iter(|| o.load::<T>(black_box(OA(a)), Ordering::Relaxed))
                });
                g.bench_function(BenchmarkId::new("upstream", &id), |b| {
                    b.iter(|| u.load::<T>(black_box(UA(a)), Ordering::Relaxed))
                });
                if n == 1 {
                    g.bench_function(BenchmarkId::new("raw", &id), |b| {
                        // SAFETY: `p` is in a live mapping, aligned (`OFFSET` is), and the
                        // benchmarks access it only atomically while this runs.
                        b.iter(|| unsafe { T::raw_load(black_box(p)) })
                    });
                }
            } else {
                g.bench_function(BenchmarkId::new("ours", &id), |b| {
                    b.iter(|| o.store(black_box(T::default()), black_box(OA(a)), Ordering::Relaxed))
                });
                g.bench_function(BenchmarkId::new("upstream", &id), |b| {
                    b.iter(|| u.store(black_box(T::default()), black_box(UA(a)), Ordering::Relaxed))
                });
                if n == 1 {
                    g.bench_function(BenchmarkId::new("raw", &id), |b| {
                        // SAFETY: as for the load.
                        b.iter(|| unsafe { T::raw_store(black_box(p), black_box(T::default())) })
                    });
                }
            }
        }
        g.finish();
    }
}

/// The bulk copy sizes.
const BULK_SIZES: [usize; 4] = [64, 4 << 10, 64 << 10, 1 << 20];

/// `read`/`write`/`read_slice`/`write_slice` at the start of a region, against
/// `ptr::copy_nonoverlapping` between the same host buffers.
fn bulk(c: &mut Criterion, fx: &Fixtures) {
    let (o, u) = (fx.ours(BULK_REGIONS), fx.up(BULK_REGIONS));
    let guest = host(o, BULK_ADDR);
    for op in ["read", "write", "read_slice", "write_slice"] {
        let mut g = c.benchmark_group(format!("bulk_{op}"));
        for size in BULK_SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            let mut buf = vec![0xa5u8; size];
            let (oa, ua) = (OA(BULK_ADDR), UA(BULK_ADDR));
            match op {
                "read" => {
                    g.bench_function(BenchmarkId::new("ours", size), |b| {
                        b.iter(|| o.read(black_box(&mut buf), black_box(oa)))
                    });
                    g.bench_function(BenchmarkId::new("upstream", size), |b| {
                        b.iter(|| u.read(black_box(&mut buf), black_box(ua)))
                    });
                }
                "write" => {
                    g.bench_function(BenchmarkId::new("ours", size), |b| {
                        b.iter(|| o.write(black_box(&buf), black_box(oa)))
                    });
                    g.bench_function(BenchmarkId::new("upstream", size), |b| {
                        b.iter(|| u.write(black_box(&buf), black_box(ua)))
                    });
                }
                "read_slice" => {
                    g.bench_function(BenchmarkId::new("ours", size), |b| {
                        b.iter(|| o.read_slice(black_box(&mut buf), black_box(oa)))
                    });
                    g.bench_function(BenchmarkId::new("upstream", size), |b| {
                        b.iter(|| u.read_slice(black_box(&mut buf), black_box(ua)))
                    });
                }
                _ => {
                    g.bench_function(BenchmarkId::new("ours", size), |b| {
                        b.iter(|| o.write_slice(black_box(&buf), black_box(oa)))
                    });
                    g.bench_function(BenchmarkId::new("upstream", size), |b| {
                        b.iter(|| u.write_slice(black_box(&buf), black_box(ua)))
                    });
                }
            }
            let to_guest = op.starts_with("write");
            let b_ptr = buf.as_mut_ptr();
            g.bench_function(BenchmarkId::new("memcpy", size), |b| {
                b.iter(|| {
                    let (src, dst) = if to_guest {
                        (b_ptr.cast_const(), guest)
                    } else {
                        (guest.cast_const(), b_ptr)
                    };
                    // SAFETY: both buffers hold `size` bytes (`size` <= 1 MiB, which region 1
                    // has from its start) and are distinct allocations.
                    unsafe { ptr::copy_nonoverlapping(black_box(src), black_box(dst), size) }
                })
            });
        }
        g.finish();
    }
}

/// The file I/O sizes.
const IO_SIZES: [usize; 2] = [4 << 10, 64 << 10];

/// `read_volatile_from` a file of zeros (rewound before each read) and `write_volatile_to`
/// `/dev/null`, against the same `read`/`write` calls into a plain buffer (`raw`).
fn file_io(c: &mut Criterion, fx: &Fixtures) {
    let (o, u) = (fx.ours(BULK_REGIONS), fx.up(BULK_REGIONS));
    let path = std::env::temp_dir().join(format!("vm-memory-bench-zeros-{}", std::process::id()));
    std::fs::write(&path, vec![0u8; MIB]).expect("zero file");
    let mut zeros = File::open(&path).expect("zero file");
    let _ = std::fs::remove_file(&path);
    let mut sink = File::options()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null");
    let (oa, ua) = (OA(BULK_ADDR), UA(BULK_ADDR));

    let mut g = c.benchmark_group("read_volatile_from");
    for size in IO_SIZES {
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::new("ours", size), |b| {
            b.iter(|| {
                zeros.rewind().unwrap();
                o.read_volatile_from(black_box(oa), &mut zeros, size)
            })
        });
        g.bench_function(BenchmarkId::new("upstream", size), |b| {
            b.iter(|| {
                zeros.rewind().unwrap();
                u.read_volatile_from(black_box(ua), &mut zeros, size)
            })
        });
        let mut buf = vec![0xa5u8; size];
        g.bench_function(BenchmarkId::new("raw", size), |b| {
            b.iter(|| {
                zeros.rewind().unwrap();
                zeros.read(black_box(&mut buf))
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("write_volatile_to");
    for size in IO_SIZES {
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::new("ours", size), |b| {
            b.iter(|| o.write_volatile_to(black_box(oa), &mut sink, size))
        });
        g.bench_function(BenchmarkId::new("upstream", size), |b| {
            b.iter(|| u.write_volatile_to(black_box(ua), &mut sink, size))
        });
        let buf = vec![0xa5u8; size];
        g.bench_function(BenchmarkId::new("raw", size), |b| {
            b.iter(|| sink.write(black_box(&buf)))
        });
    }
    g.finish();
}

/// `GuestMemoryBackend::get_slices` over 3 MiB from the middle of region 1 to the middle of
/// region 4 (four pieces), consuming every piece.
fn get_slices(c: &mut Criterion, fx: &Fixtures) {
    let start = BULK_ADDR + (MIB as u64) / 2;
    let len = 3 * MIB;
    let mut g = c.benchmark_group("get_slices_4_regions");
    for n in [8, 1024] {
        let (o, u) = (fx.ours(n), fx.up(n));
        assert_eq!(
            vm_memory::GuestMemoryBackend::get_slices(o, OA(start), len).count(),
            4
        );
        assert_eq!(
            upstream::GuestMemoryBackend::get_slices(u, UA(start), len).count(),
            4
        );
        g.bench_function(BenchmarkId::new("ours", format!("{n}r")), |b| {
            b.iter(|| {
                let mut total = 0;
                for s in vm_memory::GuestMemoryBackend::get_slices(o, black_box(OA(start)), len) {
                    total += black_box(s.unwrap()).len();
                }
                total
            })
        });
        g.bench_function(BenchmarkId::new("upstream", format!("{n}r")), |b| {
            b.iter(|| {
                let mut total = 0;
                for s in upstream::GuestMemoryBackend::get_slices(u, black_box(UA(start)), len) {
                    total += black_box(s.unwrap()).len();
                }
                total
            })
        });
    }
    g.finish();
}

/// `GuestAddressSpace::memory()` plus dropping the guard: alone, while a writer replaces the
/// map in a loop, and while a second reader does the same as this one.
fn atomic(c: &mut Criterion) {
    let (om, um) = (ours::memory(8), up::memory(8));
    let (oh, uh) = (ours::atomic(8), up::atomic(8));
    let mut g = c.benchmark_group("memory");
    g.bench_function(BenchmarkId::new("ours", "alone"), |b| {
        b.iter(|| drop(black_box(oh.memory())))
    });
    g.bench_function(BenchmarkId::new("upstream", "alone"), |b| {
        b.iter(|| drop(black_box(uh.memory())))
    });

    // One helper thread runs `helper` until the benchmark is done.
    fn with_helper(helper: impl FnOnce(&AtomicBool) + Send, bench: impl FnOnce()) {
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            let stop = &stop;
            s.spawn(move || helper(stop));
            let _stop = StopOnDrop(stop);
            bench();
        });
    }

    with_helper(
        |stop| {
            ours::replace_until(&oh, &om, stop);
        },
        || {
            g.bench_function(BenchmarkId::new("ours", "writer"), |b| {
                b.iter(|| drop(black_box(oh.memory())))
            });
        },
    );
    with_helper(
        |stop| {
            up::replace_until(&uh, &um, stop);
        },
        || {
            g.bench_function(BenchmarkId::new("upstream", "writer"), |b| {
                b.iter(|| drop(black_box(uh.memory())))
            });
        },
    );
    with_helper(
        |stop| {
            while !stop.load(Ordering::Relaxed) {
                drop(black_box(oh.memory()));
            }
        },
        || {
            g.bench_function(BenchmarkId::new("ours", "2-readers"), |b| {
                b.iter(|| drop(black_box(oh.memory())))
            });
        },
    );
    with_helper(
        |stop| {
            while !stop.load(Ordering::Relaxed) {
                drop(black_box(uh.memory()));
            }
        },
        || {
            g.bench_function(BenchmarkId::new("upstream", "2-readers"), |b| {
                b.iter(|| drop(black_box(uh.memory())))
            });
        },
    );
    g.finish();
}

/// Writes with an `AtomicBitmap` (dirty tracking) against writes with `()`.
fn dirty(c: &mut Criterion, fx: &Fixtures) {
    let (o, u) = (fx.ours(BULK_REGIONS), fx.up(BULK_REGIONS));
    let (ob, ub) = (
        ours::memory_with_bitmap(BULK_REGIONS),
        up::memory_with_bitmap(BULK_REGIONS),
    );
    let a = BULK_ADDR + vm_memory_benches::OFFSET;
    let (oa, ua) = (OA(a), UA(a));

    let mut g = c.benchmark_group("dirty_write_obj_u64");
    g.bench_function(BenchmarkId::new("ours", "no-bitmap"), |b| {
        b.iter(|| o.write_obj(black_box(0u64), black_box(oa)))
    });
    g.bench_function(BenchmarkId::new("upstream", "no-bitmap"), |b| {
        b.iter(|| u.write_obj(black_box(0u64), black_box(ua)))
    });
    g.bench_function(BenchmarkId::new("ours", "atomic-bitmap"), |b| {
        b.iter(|| ob.write_obj(black_box(0u64), black_box(oa)))
    });
    g.bench_function(BenchmarkId::new("upstream", "atomic-bitmap"), |b| {
        b.iter(|| ub.write_obj(black_box(0u64), black_box(ua)))
    });
    g.finish();

    let buf = vec![0xa5u8; 64 << 10];
    let (oa, ua) = (OA(BULK_ADDR), UA(BULK_ADDR));
    let mut g = c.benchmark_group("dirty_write_slice_64k");
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function(BenchmarkId::new("ours", "no-bitmap"), |b| {
        b.iter(|| o.write_slice(black_box(&buf), black_box(oa)))
    });
    g.bench_function(BenchmarkId::new("upstream", "no-bitmap"), |b| {
        b.iter(|| u.write_slice(black_box(&buf), black_box(ua)))
    });
    g.bench_function(BenchmarkId::new("ours", "atomic-bitmap"), |b| {
        b.iter(|| ob.write_slice(black_box(&buf), black_box(oa)))
    });
    g.bench_function(BenchmarkId::new("upstream", "atomic-bitmap"), |b| {
        b.iter(|| ub.write_slice(black_box(&buf), black_box(ua)))
    });
    g.finish();
}

/// Lookup cost against the number of regions: `find_region`, `read_obj::<u64>` and
/// `load::<u32>` over [`LOOKUP_ADDRS`] addresses that keep hitting one region (`same`) or fall
/// in random regions at small offsets (`random`; see `random_region_addrs`). `raw` reads the same
/// addresses through plain pointers: the cost of the data accesses alone.
fn lookup(c: &mut Criterion, fx: &Fixtures) {
    const MASK: usize = LOOKUP_ADDRS - 1;
    let mut find = c.benchmark_group("lookup_find_region");
    for n in REGION_COUNTS {
        let (o, u) = (fx.ours(n), fx.up(n));
        for (kind, list) in [
            ("same", same_region_addrs(n)),
            ("random", random_region_addrs(n)),
        ] {
            let id = format!("{n}r-{kind}");
            let oa: Vec<OA> = list.iter().map(|&a| OA(a)).collect();
            let ua: Vec<UA> = list.iter().map(|&a| UA(a)).collect();
            let mut k = 0;
            find.bench_function(BenchmarkId::new("ours", &id), |b| {
                b.iter(|| {
                    k = (k + 1) & MASK;
                    o.find_region(oa[k]).map(|r| r.start_addr())
                })
            });
            find.bench_function(BenchmarkId::new("upstream", &id), |b| {
                b.iter(|| {
                    k = (k + 1) & MASK;
                    u.find_region(ua[k]).map(|r| r.start_addr())
                })
            });
        }
    }
    find.finish();

    for op in ["read_obj_u64", "load_u32"] {
        let mut g = c.benchmark_group(format!("lookup_{op}"));
        for n in REGION_COUNTS {
            let (o, u) = (fx.ours(n), fx.up(n));
            for (kind, list) in [
                ("same", same_region_addrs(n)),
                ("random", random_region_addrs(n)),
            ] {
                let id = format!("{n}r-{kind}");
                let oa: Vec<OA> = list.iter().map(|&a| OA(a)).collect();
                let ua: Vec<UA> = list.iter().map(|&a| UA(a)).collect();
                let ptrs: Vec<*mut u8> = list.iter().map(|&a| host(o, a)).collect();
                let mut k = 0;
                if op == "read_obj_u64" {
                    g.bench_function(BenchmarkId::new("ours", &id), |b| {
                        b.iter(|| {
                            k = (k + 1) & MASK;
                            o.read_obj::<u64>(oa[k])
                        })
                    });
                    g.bench_function(BenchmarkId::new("upstream", &id), |b| {
                        b.iter(|| {
                            k = (k + 1) & MASK;
                            u.read_obj::<u64>(ua[k])
                        })
                    });
                    g.bench_function(BenchmarkId::new("raw", &id), |b| {
                        b.iter(|| {
                            k = (k + 1) & MASK;
                            // SAFETY: every pointer is 8-byte aligned inside a live mapping.
                            unsafe { ptr::read_volatile(ptrs[k].cast::<u64>()) }
                        })
                    });
                } else {
                    g.bench_function(BenchmarkId::new("ours", &id), |b| {
                        b.iter(|| {
                            k = (k + 1) & MASK;
                            o.load::<u32>(oa[k], Ordering::Relaxed)
                        })
                    });
                    g.bench_function(BenchmarkId::new("upstream", &id), |b| {
                        b.iter(|| {
                            k = (k + 1) & MASK;
                            u.load::<u32>(ua[k], Ordering::Relaxed)
                        })
                    });
                    g.bench_function(BenchmarkId::new("raw", &id), |b| {
                        b.iter(|| {
                            k = (k + 1) & MASK;
                            // SAFETY: every pointer is 4-byte aligned inside a live mapping,
                            // accessed only atomically while this runs.
                            unsafe { u32::raw_load(ptrs[k].cast::<u32>()) }
                        })
                    });
                }
            }
        }
        g.finish();
    }
}

/// Every benchmark; criterion's filter argument selects among them.
fn all(c: &mut Criterion) {
    let start = Instant::now();
    let fx = Fixtures::new();
    eprintln!("fixtures built in {:?}", start.elapsed());
    objects::<u8>(c, &fx, "u8");
    objects::<u32>(c, &fx, "u32");
    objects::<u64>(c, &fx, "u64");
    objects::<Descriptor>(c, &fx, "desc16");
    objects::<Blob96>(c, &fx, "obj96");
    atomics::<u16>(c, &fx, "u16");
    atomics::<u32>(c, &fx, "u32");
    atomics::<u64>(c, &fx, "u64");
    bulk(c, &fx);
    file_io(c, &fx);
    get_slices(c, &fx);
    atomic(c);
    dirty(c, &fx);
    lookup(c, &fx);
}

fn main() {
    // Fewer bootstrap resamples than criterion's 100 000: the report reads point estimates, and
    // the analysis of ~400 benchmarks would otherwise take minutes on two cores. The command line
    // (`--warm-up-time`, `--measurement-time`, a filter) overrides these settings.
    let mut c = Criterion::default()
        .nresamples(5_000)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    all(&mut c);
    c.final_summary();
}
