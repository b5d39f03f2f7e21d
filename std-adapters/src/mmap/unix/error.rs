//! `MmapRegionError`: why a Unix mapping could not be created.

use std::io;

/// Why an [`MmapRegion`](super::MmapRegion) could not be created.
///
/// The variants are vm-memory 0.18's. Unlike vm-memory 0.18, which leaves file checks to the
/// kernel, file-backed mappings are checked up front, because `mmap(2)` accepts a range past the
/// end of a regular file and the first access there kills the process with `SIGBUS`.
///
/// The enum is `#[non_exhaustive]`: the `xen` feature (Linux) adds [`Xen`](Self::Xen) for
/// foreign and grant mappings, and turning a feature on must not break a `match` elsewhere.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MmapRegionError {
    /// The file offset does not fit `off_t`, or offset plus length overflows.
    #[error("the file offset plus the mapping length overflows")]
    InvalidOffsetLength,
    /// The pointer of an existing mapping is not page-aligned.
    #[error("the pointer of the existing mapping is not page-aligned")]
    InvalidPointer,
    /// `MAP_FIXED` was requested; it could silently replace other mappings of the process.
    #[error("MAP_FIXED is not allowed: it could replace existing mappings")]
    MapFixed,
    /// Two mappings of the same file overlap (reserved: nothing in this crate refuses overlap).
    #[error("mappings of the same file overlap")]
    MappingOverlap,
    /// The mapping would extend past the end of the (regular) file.
    #[error("the mapping extends past the end of the file")]
    MappingPastEof,
    /// `mmap(2)` failed (size 0 is reported as `EINVAL`, like the kernel does).
    #[error("mmap failed")]
    Mmap(#[source] io::Error),
    /// The Xen flags of an `MmapRange` are invalid, or a foreign or grant mapping failed (the
    /// inner error names what went wrong).
    #[cfg(all(feature = "xen", target_os = "linux"))]
    #[cfg_attr(docsrs, doc(cfg(feature = "xen")))]
    #[error("Xen mapping failed")]
    Xen(#[from] vm_memory_xen::Error),
}

impl MmapRegionError {
    /// The `errno` of an `Mmap` error, if any.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            MmapRegionError::Mmap(e) => e.raw_os_error(),
            #[cfg(all(feature = "xen", target_os = "linux"))]
            MmapRegionError::Xen(e) => e.raw_os_error(),
            _ => None,
        }
    }
}
