//! A first tour of the `vm-memory` package: guest memory from ranges, an access across a region
//! boundary, dirty-page tracking, and replacing the memory map while a reader holds the old one.
//!
//! Run it from the repository root with `cargo run --example quickstart`.

use std::error::Error;
use std::sync::Arc;

use vm_memory::bitmap::{AtomicBitmap, Bitmap};
use vm_memory::{
    Address, Bytes, GuestAddress, GuestAddressSpace, GuestMemoryAtomic, GuestMemoryBackend,
    GuestMemoryMmap, GuestMemoryRegion, GuestRegionMmap,
};

const PAGE: usize = 0x1000;

fn main() -> Result<(), Box<dyn Error>> {
    cross_boundary()?;
    dirty_tracking()?;
    hot_swap()?;
    Ok(())
}

/// Two 4 KiB regions back to back; five bytes at 0xffc land in both.
fn cross_boundary() -> Result<(), Box<dyn Error>> {
    println!("1. Guest memory from two ranges");
    let mem: GuestMemoryMmap =
        GuestMemoryMmap::from_ranges(&[(GuestAddress(0), PAGE), (GuestAddress(0x1000), PAGE)])?;
    for region in mem.iter() {
        println!(
            "   region {:#07x}..={:#07x} ({} bytes)",
            region.start_addr().raw_value(),
            region.last_addr().raw_value(),
            region.len()
        );
    }

    let addr = GuestAddress(0xffc);
    let written = mem.write(&[1, 2, 3, 4, 5], addr)?;
    let mut back = [0u8; 5];
    mem.read_slice(&mut back, addr)?;
    println!(
        "   wrote {written} bytes at {:#x} across the boundary, read back {back:?}",
        addr.raw_value()
    );
    assert_eq!(back, [1, 2, 3, 4, 5]);
    Ok(())
}

/// Every write through the crate marks the pages it touched.
fn dirty_tracking() -> Result<(), Box<dyn Error>> {
    println!("2. Dirty-page tracking with AtomicBitmap");
    let mem = GuestMemoryMmap::<AtomicBitmap>::from_ranges(&[(GuestAddress(0), 4 * PAGE)])?;
    mem.write_obj(0xfeed_u32, GuestAddress(0x1010))?;
    mem.write_slice(&[0xaa; 8], GuestAddress(0x2ffc))?; // straddles pages 2 and 3

    let region = mem.find_region(GuestAddress(0)).ok_or("no region at 0")?;
    let dirty: Vec<usize> = (0..4)
        .filter(|page| region.bitmap().dirty_at(page * PAGE))
        .collect();
    println!("   wrote at 0x1010 and 0x2ffc..0x3004; dirty pages: {dirty:?}");
    assert_eq!(dirty, [1, 2, 3]);

    // The bitmap of the mapping can be harvested and cleared, as a migration loop would.
    let words = region.get_mmap().bitmap().get_and_reset();
    let words: Vec<String> = words.iter().map(|word| format!("{word:#b}")).collect();
    println!(
        "   harvested bitmap words {words:?} (bit n = page n); page 1 dirty after that: {}",
        region.bitmap().dirty_at(PAGE)
    );
    Ok(())
}

/// Readers keep the snapshot they loaded while a writer publishes a bigger map.
fn hot_swap() -> Result<(), Box<dyn Error>> {
    println!("3. Hot swap with GuestMemoryAtomic");
    let small: GuestMemoryMmap = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), PAGE)])?;
    small.write_obj(1u64, GuestAddress(0))?;
    let atomic = GuestMemoryAtomic::new(small);

    // `memory()` is the `GuestAddressSpace` method every device uses to get a snapshot.
    let before = GuestAddressSpace::memory(&atomic);
    // Plug in a second region; the new map shares the first region (an `Arc`) with the old one.
    let hotplug = GuestRegionMmap::from_range(GuestAddress(0x10_0000), PAGE, None)?;
    let bigger = before.insert_region(Arc::new(hotplug))?;
    atomic.lock().map_err(|_| "writer lock")?.replace(bigger);

    let after = GuestAddressSpace::memory(&atomic);
    println!(
        "   reader snapshot taken before the swap: {} region(s), last address {:#x}",
        before.num_regions(),
        before.last_addr().raw_value()
    );
    println!(
        "   snapshot after the swap: {} region(s), last address {:#x}",
        after.num_regions(),
        after.last_addr().raw_value()
    );
    after.write_obj(2u64, GuestAddress(0x10_0000))?;
    println!(
        "   old data still there: {}; new region holds {}",
        after.read_obj::<u64>(GuestAddress(0))?,
        after.read_obj::<u64>(GuestAddress(0x10_0000))?
    );
    assert_eq!(before.num_regions(), 1);
    assert_eq!(after.num_regions(), 2);
    Ok(())
}
