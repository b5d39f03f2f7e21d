//! Ending the QEMU run with a status code, through Arm semihosting (`qemu -semihosting`).

use core::arch::asm;

/// Semihosting operation `SYS_EXIT`.
const SYS_EXIT: u64 = 0x18;
/// `SYS_EXIT` reason: the application exited; QEMU then exits with the given code.
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x2_0026;

/// Exits QEMU with status `code`.
pub fn exit(code: u32) -> ! {
    // On AArch64, SYS_EXIT takes a pointer to the pair (reason, exit code).
    let block = [ADP_STOPPED_APPLICATION_EXIT, u64::from(code)];
    // SAFETY: `hlt #0xf000` is the AArch64 semihosting trap; with operation SYS_EXIT, QEMU
    // reads the two words at `x1` (valid and live for the call) and ends the program.
    unsafe {
        asm!(
            "hlt #0xf000",
            in("x0") SYS_EXIT,
            in("x1") block.as_ptr(),
            options(nostack, readonly),
        );
    }
    // Not reached: QEMU has exited. (Without `-semihosting` the trap raises an exception,
    // which `fault.rs` reports; then the caller's timeout ends the run.)
    loop {
        core::hint::spin_loop();
    }
}
