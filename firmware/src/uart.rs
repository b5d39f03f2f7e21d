//! Output through the PL011 UART of QEMU's `virt` board, which QEMU connects to `-serial`.

use core::fmt::{self, Write};
use core::ptr;

/// The UART's MMIO base on `virt`.
const BASE: usize = 0x0900_0000;
/// Data register (byte offset).
const DR: usize = 0x00;
/// Flag register (byte offset).
const FR: usize = 0x18;
/// Flag register bit: the transmit FIFO is full.
const FR_TXFF: u32 = 1 << 5;

/// A writer to the UART. QEMU's model needs no set-up: it is enabled at reset.
#[derive(Debug)]
pub struct Uart;

impl Uart {
    fn register(offset: usize) -> *mut u32 {
        ptr::with_exposed_provenance_mut(BASE + offset)
    }

    fn put(&mut self, byte: u8) {
        // SAFETY: FR is a readable 32-bit device register of the PL011, identity-mapped as
        // device memory; reading it has no side effect.
        while unsafe { ptr::read_volatile(Self::register(FR)) } & FR_TXFF != 0 {}
        // SAFETY: DR is the PL011's 32-bit data register; a write sends one byte.
        unsafe { ptr::write_volatile(Self::register(DR), u32::from(byte)) };
    }
}

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for byte in s.bytes() {
            if byte == b'\n' {
                self.put(b'\r');
            }
            self.put(byte);
        }
        Ok(())
    }
}

/// Writes formatted text to the UART (the program is single-threaded, so no lock is needed).
pub fn print(args: fmt::Arguments<'_>) {
    // Writing to the UART cannot fail.
    let _ = Uart.write_fmt(args);
}

/// `println!` over the UART.
macro_rules! println {
    () => {
        $crate::uart::print(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::uart::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use println;
