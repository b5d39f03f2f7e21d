//! Xen flags and MmapRange validation against the model.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vm_memory_model::check::xen_flags::run(data));
