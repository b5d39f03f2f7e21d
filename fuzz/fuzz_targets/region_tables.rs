//! Region containers: building, inserting, removing and looking up against the layout model.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vm_memory_model::check::region_tables::run(data));
