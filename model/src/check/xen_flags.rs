//! Xen flags and `MmapRange` validation (to come).

/// Decodes and runs one case.
pub fn run(_data: &[u8]) {}
