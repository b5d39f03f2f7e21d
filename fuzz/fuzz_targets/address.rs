//! Address arithmetic against u128 arithmetic.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vm_memory_model::check::address::run(data));
