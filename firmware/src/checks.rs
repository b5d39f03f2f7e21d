//! The checks: each exercises one part of `vm-memory-core` on the board's RAM ([`crate::ram`])
//! and compares the outcome with vm-memory 0.18's documented behaviour.

use core::sync::atomic::Ordering;

use vm_memory_core::{
    Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryError, GuestRegionCollectionError,
    RawRegion, RegionTable,
};

use crate::ram::{Bank, CAPACITY, HIGH, HOLE, LOW, MID, PAGE_SIZE, RAM, REGION_SIZE, peek};
use crate::report::{Check, Report};

/// Runs every check.
pub fn run(report: &mut Report) {
    report.run("region table layout", layout);
    report.run("objects inside a region", objects);
    report.run("byte ranges across adjacent regions", across_regions);
    report.run("objects in and into the hole", hole_objects);
    report.run("byte ranges into the hole", hole_ranges);
    report.run("atomic load and store", atomics);
    report.run("dirty bitmap", dirty_bitmap);
    report.run("region table on the stack", stack_table);
}

/// `base + offset`.
const fn at(base: GuestAddress, offset: usize) -> GuestAddress {
    GuestAddress(base.0 + offset as u64)
}

/// `base - offset`.
const fn below(base: GuestAddress, offset: usize) -> GuestAddress {
    GuestAddress(base.0 - offset as u64)
}

fn layout(c: &mut Check) {
    c.expect_eq("number of regions", RAM.num_regions(), 3);
    c.expect_eq("capacity", RAM.capacity(), CAPACITY);
    let placed: [(GuestAddress, usize); 3] = core::array::from_fn(|i| {
        RAM.regions()
            .get(i)
            .map_or((GuestAddress(0), 0), |r| (r.start(), r.size()))
    });
    c.expect_eq(
        "region starts and sizes",
        placed,
        [(LOW, REGION_SIZE), (MID, REGION_SIZE), (HIGH, REGION_SIZE)],
    );
    c.expect_eq("last address", RAM.last_addr(), at(HIGH, REGION_SIZE - 1));
    c.expect_eq(
        "byte before the hole mapped",
        RAM.address_in_range(below(HOLE, 1)),
        true,
    );
    c.expect_eq(
        "first byte of the hole mapped",
        RAM.address_in_range(HOLE),
        false,
    );
    c.expect_eq(
        "last byte of the hole mapped",
        RAM.address_in_range(below(HIGH, 1)),
        false,
    );
    c.expect_eq(
        "start of the region holding MID + 5",
        RAM.find_region(at(MID, 5)).map(RawRegion::start),
        Some(MID),
    );
    c.expect_eq(
        "check_range across adjacent regions",
        RAM.check_range(below(MID, 0x10), 0x20),
        true,
    );
    c.expect_eq(
        "check_range into the hole",
        RAM.check_range(below(HOLE, 0x10), 0x20),
        false,
    );
}

fn objects(c: &mut Check) {
    let value = 0x0123_4567_89ab_cdef_u64;
    let addr = at(LOW, 0x100);
    c.expect(
        RAM.write_obj(value, addr).is_ok(),
        format_args!("write_obj u64 at {addr:?}"),
    );
    c.expect_eq("read_obj u64", RAM.read_obj::<u64>(addr).ok(), Some(value));
    c.expect_eq(
        "host bytes of the u64",
        peek(Bank::Low, 0x100),
        Some(value.to_le_bytes()),
    );

    // Objects need no alignment: a u32 at an address that is 2 but not 4 aligned.
    let value = 0xdead_beef_u32;
    let addr = at(MID, 0x2002);
    c.expect(
        RAM.write_obj(value, addr).is_ok(),
        format_args!("write_obj u32 at {addr:?}"),
    );
    c.expect_eq("read_obj u32", RAM.read_obj::<u32>(addr).ok(), Some(value));
    c.expect_eq(
        "host bytes of the u32",
        peek(Bank::Mid, 0x2002),
        Some(value.to_le_bytes()),
    );

    // The very last byte of the last region.
    let addr = at(HIGH, REGION_SIZE - 1);
    c.expect(
        RAM.write_obj(0xa5_u8, addr).is_ok(),
        format_args!("write_obj u8 at {addr:?}"),
    );
    c.expect_eq("read_obj u8", RAM.read_obj::<u8>(addr).ok(), Some(0xa5));
    c.expect_eq("host byte", peek(Bank::High, REGION_SIZE - 1), Some([0xa5]));
}

fn across_regions(c: &mut Check) {
    let pattern: [u8; 16] = core::array::from_fn(|i| 0x40 + i as u8);
    let addr = below(MID, 8);
    c.expect(
        RAM.write_slice(&pattern, addr).is_ok(),
        format_args!("write_slice of 16 bytes at {addr:?}, across LOW and MID"),
    );
    let mut back = [0u8; 16];
    c.expect(
        RAM.read_slice(&mut back, addr).is_ok(),
        format_args!("read_slice back"),
    );
    c.expect_eq("bytes read back", back, pattern);
    c.expect_eq(
        "end of LOW's memory",
        peek::<8>(Bank::Low, REGION_SIZE - 8),
        Some([0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47]),
    );
    c.expect_eq(
        "start of MID's memory",
        peek::<8>(Bank::Mid, 0),
        Some([0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f]),
    );
    c.expect_eq(
        "read_obj u64 straddling LOW and MID",
        RAM.read_obj::<u64>(below(MID, 4)).ok(),
        Some(0x4b4a_4948_4746_4544),
    );
    c.expect(
        RAM.write_obj(0x1122_3344_u32, below(MID, 2)).is_ok(),
        format_args!("write_obj u32 straddling LOW and MID"),
    );
    c.expect_eq(
        "its low half",
        peek(Bank::Low, REGION_SIZE - 2),
        Some([0x44, 0x33]),
    );
    c.expect_eq("its high half", peek(Bank::Mid, 0), Some([0x22, 0x11]));
}

fn hole_objects(c: &mut Check) {
    let read = RAM.read_obj::<u32>(HOLE);
    if let Err(e) = &read {
        c.note(format_args!("read_obj u32 at {:#x}: {e}", HOLE.0));
    }
    c.expect(
        matches!(read, Err(GuestMemoryError::InvalidGuestAddress(a)) if a == HOLE),
        format_args!("read_obj in the hole is InvalidGuestAddress({HOLE:?}): {read:?}"),
    );

    let addr = at(HOLE, 0x100);
    let write = RAM.write_obj(7_u64, addr);
    c.expect(
        matches!(write, Err(GuestMemoryError::InvalidGuestAddress(a)) if a == addr),
        format_args!("write_obj in the hole is InvalidGuestAddress({addr:?}): {write:?}"),
    );

    // An object that starts in MID and ends in the hole: a short copy, reported as such.
    let read = RAM.read_obj::<u64>(below(HOLE, 4));
    if let Err(e) = &read {
        c.note(format_args!("read_obj u64 at HOLE - 4: {e}"));
    }
    c.expect(
        matches!(
            read,
            Err(GuestMemoryError::PartialBuffer {
                expected: 8,
                completed: 4
            })
        ),
        format_args!("read_obj into the hole is PartialBuffer {{ 8, 4 }}: {read:?}"),
    );

    // The top of the 64-bit guest address space.
    let top = GuestAddress(u64::MAX - 1);
    let read = RAM.read_obj::<u32>(top);
    c.expect(
        matches!(read, Err(GuestMemoryError::InvalidGuestAddress(a)) if a == top),
        format_args!("read_obj at u64::MAX - 1 is InvalidGuestAddress: {read:?}"),
    );
}

fn hole_ranges(c: &mut Check) {
    let start = below(HOLE, 4);
    c.expect(
        RAM.write_slice(&[1, 2, 3, 4], start).is_ok(),
        format_args!("write_slice of MID's last 4 bytes"),
    );

    // `read`/`write` stop at the hole and return the count so far.
    let mut buf = [0u8; 8];
    c.expect_eq("read at HOLE - 4", RAM.read(&mut buf, start).ok(), Some(4));
    c.expect_eq("bytes read", buf, [1, 2, 3, 4, 0, 0, 0, 0]);

    // `read_slice`/`write_slice` report the short copy as PartialBuffer.
    let mut buf = [0u8; 8];
    let read = RAM.read_slice(&mut buf, start);
    if let Err(e) = &read {
        c.note(format_args!("read_slice of 8 bytes at HOLE - 4: {e}"));
    }
    c.expect(
        matches!(
            read,
            Err(GuestMemoryError::PartialBuffer {
                expected: 8,
                completed: 4
            })
        ),
        format_args!("read_slice into the hole is PartialBuffer {{ 8, 4 }}: {read:?}"),
    );
    let write = RAM.write_slice(&[0xee; 8], start);
    c.expect(
        matches!(
            write,
            Err(GuestMemoryError::PartialBuffer {
                expected: 8,
                completed: 4
            })
        ),
        format_args!("write_slice into the hole is PartialBuffer {{ 8, 4 }}: {write:?}"),
    );
    // As documented upstream, the bytes before the hole were written.
    c.expect_eq(
        "MID's last 4 bytes",
        peek(Bank::Mid, REGION_SIZE - 4),
        Some([0xee; 4]),
    );

    // A range that starts in the hole fails as a whole, even if it reaches HIGH.
    let addr = below(HIGH, 8);
    let read = RAM.read_slice(&mut [0u8; 16], addr);
    c.expect(
        matches!(read, Err(GuestMemoryError::InvalidGuestAddress(a)) if a == addr),
        format_args!("read_slice from the hole into HIGH is InvalidGuestAddress: {read:?}"),
    );
    c.expect_eq(
        "empty read_slice in the hole",
        RAM.read_slice(&mut [], HOLE).ok(),
        Some(()),
    );
}

fn atomics(c: &mut Check) {
    let addr = at(HIGH, PAGE_SIZE + 8);
    let value = 0x1122_3344_5566_7788_u64;
    c.expect(
        RAM.store(value, addr, Ordering::Release).is_ok(),
        format_args!("store u64 at {addr:?}"),
    );
    c.expect_eq(
        "load u64",
        RAM.load::<u64>(addr, Ordering::Acquire).ok(),
        Some(value),
    );
    c.expect_eq(
        "read_obj of it",
        RAM.read_obj::<u64>(addr).ok(),
        Some(value),
    );
    c.expect_eq(
        "host bytes",
        peek(Bank::High, PAGE_SIZE + 8),
        Some(value.to_le_bytes()),
    );

    let addr32 = at(addr, 8);
    c.expect(
        RAM.store(0xcafe_u32, addr32, Ordering::SeqCst).is_ok(),
        format_args!("store u32"),
    );
    c.expect_eq(
        "load u32",
        RAM.load::<u32>(addr32, Ordering::SeqCst).ok(),
        Some(0xcafe),
    );

    // An atomic cannot straddle two regions, even adjacent ones; nothing is written.
    let straddling = below(MID, 4);
    let before = RAM.read_obj::<u64>(straddling).ok();
    let store = RAM.store(u64::MAX, straddling, Ordering::SeqCst);
    if let Err(e) = &store {
        c.note(format_args!("store u64 across LOW and MID: {e}"));
    }
    c.expect(
        matches!(store, Err(GuestMemoryError::InvalidBackendAddress)),
        format_args!("store across LOW and MID is InvalidBackendAddress: {store:?}"),
    );
    c.expect_eq(
        "memory after the failed store",
        RAM.read_obj::<u64>(straddling).ok(),
        before,
    );
    let load = RAM.load::<u64>(straddling, Ordering::SeqCst);
    c.expect(
        matches!(load, Err(GuestMemoryError::InvalidBackendAddress)),
        format_args!("load across LOW and MID is InvalidBackendAddress: {load:?}"),
    );

    // Misaligned atomics.
    let load = RAM.load::<u32>(at(HIGH, 2), Ordering::Relaxed);
    c.expect(
        matches!(load, Err(GuestMemoryError::InvalidBackendAddress)),
        format_args!("misaligned u32 load is InvalidBackendAddress: {load:?}"),
    );
    let store = RAM.store(1_u64, at(HIGH, 4), Ordering::Relaxed);
    c.expect(
        matches!(store, Err(GuestMemoryError::InvalidBackendAddress)),
        format_args!("u64 store at a 4-aligned address is InvalidBackendAddress: {store:?}"),
    );

    let load = RAM.load::<u32>(HOLE, Ordering::Relaxed);
    c.expect(
        matches!(load, Err(GuestMemoryError::InvalidGuestAddress(a)) if a == HOLE),
        format_args!("load in the hole is InvalidGuestAddress: {load:?}"),
    );
}

/// Takes and clears the dirty bits of region `index`.
fn harvest(index: usize) -> usize {
    let mut words = [0usize; 1];
    if let Some(region) = RAM.regions().get(index) {
        region.bitmap().get_and_reset_into(&mut words);
    }
    words[0]
}

fn dirty_bitmaps() -> [usize; 3] {
    [harvest(0), harvest(1), harvest(2)]
}

fn dirty_bitmap(c: &mut Check) {
    for region in RAM.regions() {
        region.bitmap().reset();
    }
    c.expect_eq("bitmaps after reset", dirty_bitmaps(), [0, 0, 0]);

    // Reads and failed writes mark nothing.
    let _ = RAM.read_obj::<u64>(at(HIGH, 3 * PAGE_SIZE));
    let _ = RAM.load::<u32>(at(LOW, PAGE_SIZE), Ordering::Relaxed);
    let _ = RAM.store(1_u64, below(MID, 4), Ordering::Relaxed);
    let _ = RAM.store(1_u32, at(HIGH, 2), Ordering::Relaxed);
    let _ = RAM.write_obj(1_u8, HOLE);
    c.expect_eq(
        "bitmaps after reads and failed writes",
        dirty_bitmaps(),
        [0, 0, 0],
    );

    let results = [
        // LOW page 2.
        RAM.write_obj(1_u32, at(LOW, 2 * PAGE_SIZE + 8)),
        // LOW page 3 and MID page 0.
        RAM.write_slice(&[0x5a; 8], below(MID, 4)),
        // HIGH page 1.
        RAM.store(9_u64, at(HIGH, PAGE_SIZE), Ordering::Relaxed),
    ];
    c.expect(
        results.iter().all(Result::is_ok),
        format_args!("writes succeed: {results:?}"),
    );
    // MID page 3: a write that runs into the hole fails, but marks what it wrote.
    let partial = RAM.write_slice(&[1; 8], below(HOLE, 4));
    c.expect(
        matches!(partial, Err(GuestMemoryError::PartialBuffer { .. })),
        format_args!("partial write into the hole: {partial:?}"),
    );

    if let Some(low) = RAM.regions().first() {
        let bitmap = low.bitmap();
        c.expect(
            bitmap.is_addr_set(2 * PAGE_SIZE),
            format_args!("LOW page 2 is dirty"),
        );
        c.expect(
            !bitmap.is_addr_set(PAGE_SIZE),
            format_args!("LOW page 1 is clean"),
        );
        c.expect(bitmap.is_bit_set(3), format_args!("LOW page 3 is dirty"));
    }
    c.expect_eq(
        "dirty pages of LOW, MID, HIGH",
        dirty_bitmaps(),
        [0b1100, 0b1001, 0b0010],
    );
    c.expect_eq("bitmaps after harvesting", dirty_bitmaps(), [0, 0, 0]);
}

fn stack_table(c: &mut Check) {
    // 1 KiB of 8-aligned stack memory, cut into four regions of 256 bytes.
    let mut memory = [0u64; 128];
    let base: *mut u8 = memory.as_mut_ptr().cast();
    let quarter = |i: usize, start: u64| {
        // SAFETY: quarter `i < 4` of `memory`, which outlives `table` and is not used otherwise
        // until `table` is dropped.
        unsafe { RawRegion::new(base.wrapping_add(i * 256), 256, GuestAddress(start)) }
    };

    // SAFETY: a length of zero is refused before the pointer could matter.
    let empty = unsafe { RawRegion::new(base, 0, GuestAddress(0)) };
    c.expect_eq(
        "empty region",
        empty.err(),
        Some(GuestRegionCollectionError::EmptyRegion),
    );
    let past_end = quarter(0, u64::MAX - 0x7f);
    c.expect_eq(
        "region ending past u64::MAX",
        past_end.err(),
        Some(GuestRegionCollectionError::RegionEndOverflow),
    );

    let mut table = RegionTable::<RawRegion, 3>::new();
    // Inserted out of order; the table keeps them sorted.
    for (i, start) in [(1, 0x2000), (0, 0x1000), (2, 0x3000)] {
        let inserted = quarter(i, start).and_then(|r| table.insert(r));
        c.expect_eq("insert", inserted, Ok(()));
    }
    let overlapping = quarter(3, 0x10f0).and_then(|r| table.insert(r));
    c.expect_eq(
        "insert overlapping",
        overlapping,
        Err(GuestRegionCollectionError::MemoryRegionOverlap),
    );
    let fourth = quarter(3, 0x4000).and_then(|r| table.insert(r));
    c.expect_eq(
        "insert into a full table",
        fourth,
        Err(GuestRegionCollectionError::TableFull),
    );
    let starts: [Option<GuestAddress>; 3] =
        core::array::from_fn(|i| table.regions().get(i).map(RawRegion::start));
    c.expect_eq(
        "sorted starts",
        starts,
        [
            Some(GuestAddress(0x1000)),
            Some(GuestAddress(0x2000)),
            Some(GuestAddress(0x3000)),
        ],
    );

    let value = 0x0102_0304_0506_0708_u64;
    c.expect(
        table.write_obj(value, GuestAddress(0x2000)).is_ok(),
        format_args!("write_obj u64 at 0x2000"),
    );
    let partial = table.write_slice(&[0xff; 16], GuestAddress(0x10f8));
    c.expect(
        matches!(
            partial,
            Err(GuestMemoryError::PartialBuffer {
                expected: 16,
                completed: 8
            })
        ),
        format_args!("write_slice into the hole after 0x1100: {partial:?}"),
    );
    drop(table);
    // The table is gone: the memory is ours again. Word 31 ends quarter 0 (guest
    // 0x10f8..0x1100); word 32 starts quarter 1 (guest 0x2000). The two are adjacent in host
    // memory, so word 32 still holding `value` shows that the partial write stopped at the
    // guest hole instead of running on in host memory.
    c.expect_eq(
        "stack memory at 0x10f8",
        memory.get(31).copied(),
        Some(u64::MAX),
    );
    c.expect_eq(
        "stack memory at 0x2000",
        memory.get(32).copied(),
        Some(value),
    );
}
