//! AtomicBitmap and FixedBitmap against a Vec<bool>.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vm_memory_model::check::atomic_bitmap::run(data));
