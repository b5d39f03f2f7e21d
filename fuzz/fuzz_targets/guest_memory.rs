//! Guest memory on a table, a collection or mmap regions: every operation, the memory and the dirty bits against the model.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vm_memory_model::check::guest_memory::run(data));
