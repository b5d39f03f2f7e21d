//! What happens when something goes wrong: the panic handler and the exception handler report
//! over the UART and end the run with a failure status.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::semihosting;
use crate::uart::println;

/// Exit status after a panic.
pub const EXIT_PANIC: u32 = 3;
/// Exit status after an unexpected CPU exception.
pub const EXIT_EXCEPTION: u32 = 4;

/// Set by the first failure, so that a failure while reporting one does not loop.
static FAILING: AtomicBool = AtomicBool::new(false);

fn park_if_nested() {
    // One CPU and no interrupts: a plain load and store suffice.
    if FAILING.load(Ordering::Relaxed) {
        loop {
            core::hint::spin_loop();
        }
    }
    FAILING.store(true, Ordering::Relaxed);
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    park_if_nested();
    println!("panic: {info}");
    println!("FAIL: panicked");
    semihosting::exit(EXIT_PANIC)
}

/// Called from the exception vectors (`start.rs`) with the vector index, `ESR_EL1`, `ELR_EL1`
/// and `FAR_EL1`. The program expects no exception at all, so every one is a failure.
#[unsafe(no_mangle)]
extern "C" fn exception(index: u64, esr: u64, elr: u64, far: u64) -> ! {
    park_if_nested();
    println!("exception: vector {index}, ESR_EL1={esr:#x}, ELR_EL1={elr:#x}, FAR_EL1={far:#x}");
    println!("FAIL: unexpected exception");
    semihosting::exit(EXIT_EXCEPTION)
}
