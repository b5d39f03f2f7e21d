//! Guest memory through an IOMMU: Bytes at I/O virtual addresses, mappings changing in between,
//! physical memory, physical and IOVA dirty bits against the model.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vm_memory_model::check::iommu_memory::run(data));
