//! Iotlb against the history model.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vm_memory_model::check::iotlb::run(data));
