//! A bare-metal aarch64 image for QEMU's `virt` board that uses `vm-memory-core` the way
//! firmware does — a `static` region table over the board's RAM, no allocator — and checks it.
//!
//! It prints one line per check over the UART, then `PASS: ...` or `FAIL: ...`, and ends QEMU
//! through semihosting with status 0 when every check passed. `.ci/firmware.sh` builds and
//! runs it.
//!
//! Modules: `start` (entry, vectors), `mmu` (identity map), `uart` (output), `semihosting`
//! (exit), `fault` (panics and exceptions), `ram` (the region table), `report` (the check
//! harness) and `checks`.

#![no_std]
#![no_main]
#![cfg_attr(
    feature = "size-baseline",
    expect(
        dead_code,
        reason = "the baseline leaves out the checks that use the harness"
    )
)]

mod fault;
mod mmu;
mod report;
mod semihosting;
mod start;
mod uart;

#[cfg(not(feature = "size-baseline"))]
mod checks;
#[cfg(not(feature = "size-baseline"))]
mod ram;

use report::Report;
use uart::println;

/// Exit status when a check failed.
const EXIT_CHECK_FAILED: u32 = 2;

/// Entered from `start.rs` on the boot CPU at EL1, with the stack set and `.bss` cleared.
#[unsafe(no_mangle)]
extern "C" fn kmain() -> ! {
    // SAFETY: called once, at EL1 with the MMU off (`start.rs`); the image, its stack and the
    // UART lie where `mmu` maps them (`link.ld` places the image in RAM at 0x4008_0000).
    unsafe { mmu::enable() };
    println!("vm-memory-firmware-demo: vm-memory-core on bare-metal aarch64 (QEMU virt)");

    #[cfg_attr(feature = "size-baseline", expect(unused_mut))]
    let mut report = Report::default();
    #[cfg(not(feature = "size-baseline"))]
    checks::run(&mut report);

    if report.finish() {
        semihosting::exit(0)
    } else {
        semihosting::exit(EXIT_CHECK_FAILED)
    }
}
