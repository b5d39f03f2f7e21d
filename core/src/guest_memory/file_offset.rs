//! `FileOffset`: the file and offset behind a file-backed region.

#[cfg(feature = "std")]
use alloc::sync::Arc;
#[cfg(feature = "std")]
use std::fs::File;

/// A file and an offset into it, describing where a region's memory comes from.
///
/// The region trait names this type on every build, but only `std` builds can create one
/// (there are no files without `std`).
#[derive(Clone, Debug)]
pub struct FileOffset {
    #[cfg(feature = "std")]
    file: Arc<File>,
    start: u64,
    #[cfg(not(feature = "std"))]
    _uninhabited: core::convert::Infallible,
}

impl FileOffset {
    /// The offset into the file.
    pub fn start(&self) -> u64 {
        self.start
    }
}

#[cfg(feature = "std")]
impl FileOffset {
    /// Wraps `file` with `start` as the offset.
    pub fn new(file: File, start: u64) -> Self {
        FileOffset::from_arc(Arc::new(file), start)
    }

    /// Wraps a shared `file` with `start` as the offset.
    pub fn from_arc(file: Arc<File>, start: u64) -> Self {
        FileOffset { file, start }
    }

    /// The file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The shared file.
    pub fn arc(&self) -> &Arc<File> {
        &self.file
    }
}
