//! Firmware-style guest RAM: a fixed table of raw regions in a `static`, no allocator.
//!
//! The same code builds for bare-metal targets (see `firmware/` for an image that runs under
//! QEMU); here it runs on the host and prints what it did.
//!
//! ```text
//! cargo run -p vm-memory-core --example firmware_ram
//! ```

use core::num::NonZeroUsize;
use core::sync::atomic::Ordering;

use vm_memory_core::bitmap::FixedBitmap;
use vm_memory_core::{
    Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryError, GuestMemoryRegion, RawRegion,
    RegionTable,
};

const PAGE: NonZeroUsize = NonZeroUsize::new(0x1000).unwrap();
const RAM_SIZE: usize = 0x4000;

/// Backing store of the two RAM banks (8-byte aligned).
static mut LOW_BANK: [u64; RAM_SIZE / 8] = [0; RAM_SIZE / 8];
static mut HIGH_BANK: [u64; RAM_SIZE / 8] = [0; RAM_SIZE / 8];

/// A bank at `base`, or a compile-time error if it is invalid.
const fn bank(ptr: *mut u64, base: u64) -> RawRegion<FixedBitmap<1>> {
    // SAFETY: `ptr` is one of the two statics above, `RAM_SIZE` bytes long; each is used only
    // through `RAM`, for the whole program.
    match unsafe {
        RawRegion::with_bitmap(
            ptr.cast(),
            RAM_SIZE,
            GuestAddress(base),
            FixedBitmap::new(RAM_SIZE, PAGE),
        )
    } {
        Ok(region) => region,
        Err(_) => panic!("invalid RAM bank"),
    }
}

/// The board's RAM: 16 KiB at 0, a hole, 16 KiB at 0x10000. Checked at compile time.
static RAM: RegionTable<RawRegion<FixedBitmap<1>>, 2> = RegionTable::from_raw_regions([
    bank((&raw mut LOW_BANK).cast(), 0),
    bank((&raw mut HIGH_BANK).cast(), 0x1_0000),
]);

fn main() -> Result<(), GuestMemoryError> {
    println!(
        "RAM: {} regions, last address {:#x}",
        RAM.num_regions(),
        RAM.last_addr().0
    );

    // Objects and byte ranges at guest addresses.
    RAM.write_obj(0x1234_5678_u32, GuestAddress(0x1000))?;
    RAM.write_slice(b"boot", GuestAddress(0x1_0ffe))?;
    println!(
        "read back {:#x} and {:?}",
        RAM.read_obj::<u32>(GuestAddress(0x1000))?,
        core::str::from_utf8(&{
            let mut b = [0u8; 4];
            RAM.read_slice(&mut b, GuestAddress(0x1_0ffe))?;
            b
        })
        .unwrap_or("?")
    );

    // The hole between the banks is reported, not silently accessed.
    match RAM.read_obj::<u64>(GuestAddress(0x8000)) {
        Err(GuestMemoryError::InvalidGuestAddress(addr)) => {
            println!("read at {:#x}: not in any region, as expected", addr.0)
        }
        other => panic!("the hole must be refused, got {other:?}"),
    }
    match RAM.write_obj(0u64, GuestAddress(RAM_SIZE as u64 - 4)) {
        Err(GuestMemoryError::PartialBuffer {
            expected,
            completed,
        }) => println!("write running into the hole: {completed} of {expected} bytes written"),
        other => panic!("a write into the hole must be partial, got {other:?}"),
    }

    // Atomics.
    RAM.store(7u64, GuestAddress(0x1_2000), Ordering::Release)?;
    println!(
        "atomic load: {}",
        RAM.load::<u64>(GuestAddress(0x1_2000), Ordering::Acquire)?
    );

    // Dirty pages, per bank.
    for region in RAM.iter() {
        let mut bits = [0usize; 1];
        // The inherent `RawRegion::bitmap` is the region's own `FixedBitmap`.
        region.bitmap().get_and_reset_into(&mut bits);
        println!(
            "bank at {:#x}: dirty pages {:#06b}",
            region.start_addr().0,
            bits[0]
        );
    }
    Ok(())
}
