//! Turns the MMU and caches on with an identity map, so that RAM is normal cacheable memory.
//!
//! With the MMU off every data access is to device memory, where the exclusive loads and stores
//! behind atomic read-modify-write operations (the dirty bitmap's `fetch_or`) are not
//! architecturally guaranteed to work. Real firmware maps RAM as normal memory first; so do we.
//!
//! The map uses 4 KiB granules and a 4 GiB input range (`T0SZ = 32`), so translation starts at
//! level 1 with four 1 GiB blocks: `0..1 GiB` (the board's devices, among them the UART) as
//! device memory, `1..2 GiB` (RAM on `virt`) as normal write-back memory, the rest unmapped.

use core::arch::asm;

/// `MAIR_EL1`: attribute 0 is Device-nGnRnE, attribute 1 normal write-back read/write-allocate.
const MAIR: u64 = 0xff << 8;
const ATTR_DEVICE: u64 = 0 << 2;
const ATTR_NORMAL: u64 = 1 << 2;
/// Level-1 block descriptor.
const BLOCK: u64 = 0b01;
/// Access flag (no access-flag faults).
const AF: u64 = 1 << 10;
const INNER_SHAREABLE: u64 = 0b11 << 8;
/// Never execute, at EL1 and EL0.
const XN: u64 = (1 << 53) | (1 << 54);

const GIB: u64 = 1 << 30;

/// `TCR_EL1`: `T0SZ = 32`, table walks inner/outer write-back and inner shareable, 4 KiB
/// granule, walks through `TTBR1_EL1` disabled (`EPD1`, with a valid `TG1` of 4 KiB all the
/// same), 32-bit physical addresses.
const TCR: u64 = 32 | (0b01 << 8) | (0b01 << 10) | (0b11 << 12) | (1 << 23) | (0b10 << 30);

/// `SCTLR_EL1` bits: MMU, data cache, instruction cache.
const SCTLR_M: u64 = 1 << 0;
const SCTLR_C: u64 = 1 << 2;
const SCTLR_I: u64 = 1 << 12;

/// The level-1 table of four entries; `TTBR0_EL1` needs it aligned to its size, and to at
/// least 64 bytes.
#[repr(C, align(64))]
struct Table([u64; 4]);

static LEVEL1: Table = Table([
    BLOCK | AF | ATTR_DEVICE | XN,
    GIB | BLOCK | AF | ATTR_NORMAL | INNER_SHAREABLE,
    0,
    0,
]);

/// Installs the identity map and enables the MMU and caches.
///
/// # Safety
///
/// Call once, at EL1 with the MMU off, before anything relies on memory attributes. The code,
/// data and stack must lie in `1..2 GiB` and every device used in `0..1 GiB`.
pub unsafe fn enable() {
    let table = (&raw const LEVEL1).addr() as u64;
    // SAFETY: the caller guarantees EL1 with the MMU off. The table is static and valid, and
    // maps everything the program touches at its own address, so execution continues
    // unchanged once translation is on.
    unsafe {
        asm!(
            "msr mair_el1, {mair}",
            "msr tcr_el1, {tcr}",
            "msr ttbr0_el1, {table}",
            "dsb ish",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            "mrs {sctlr}, sctlr_el1",
            "orr {sctlr}, {sctlr}, {bits}",
            "msr sctlr_el1, {sctlr}",
            "isb",
            mair = in(reg) MAIR,
            tcr = in(reg) TCR,
            table = in(reg) table,
            bits = in(reg) SCTLR_M | SCTLR_C | SCTLR_I,
            sctlr = out(reg) _,
            options(nostack),
        );
    }
}
