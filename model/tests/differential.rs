//! The fuzz targets' differential checks as property tests, so that `cargo test` on stable runs
//! them. proptest generates the raw bytes the fuzzers would; the checks decode them with
//! `arbitrary` exactly as the fuzz targets do, and shrinking the bytes shrinks the case.
//!
//! `PROPTEST_CASES` raises or lowers the number of cases (default 256 per check). Under Miri
//! (a few cases, e.g. `PROPTEST_CASES=4`) the checks also look for undefined behaviour on the
//! paths the random operations take.

use proptest::collection::vec;
use proptest::prelude::*;
use vm_memory_model::check;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

proptest! {
    #[test]
    fn guest_memory_matches_the_model(data in bytes(2048)) {
        check::guest_memory::run(&data);
    }

    #[test]
    fn region_tables_match_the_model(data in bytes(2048)) {
        check::region_tables::run(&data);
    }

    #[test]
    fn address_arithmetic_matches_u128(data in bytes(1024)) {
        check::address::run(&data);
    }

    #[test]
    fn atomic_bitmap_matches_a_vec_of_bool(data in bytes(1024)) {
        check::atomic_bitmap::run(&data);
    }

    #[test]
    fn iotlb_matches_the_history_model(data in bytes(1024)) {
        check::iotlb::run(&data);
    }
}

// The fake Xen device makes real memfd and mmap calls, which Miri does not support.
#[cfg(all(target_os = "linux", not(miri)))]
proptest! {
    #[test]
    fn xen_flags_and_ranges_match_the_model(data in bytes(512)) {
        check::xen_flags::run(&data);
    }
}

proptest! {
    #[test]
    fn iommu_memory_matches_the_model(data in bytes(2048)) {
        check::iommu_memory::run(&data);
    }
}
