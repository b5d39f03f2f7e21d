//! `MmapRegionBuilder`: every `mmap(2)` knob of an [`MmapRegion`].

use std::os::fd::AsFd;

use vm_memory_core::FileOffset;
use vm_memory_core::bitmap::Bitmap;

use super::{Mapping, MmapRegion, MmapRegionError, einval, page_size};

/// Builds an [`MmapRegion`] with chosen protection, flags, file, hugetlbfs label, or over an
/// existing mapping.
///
/// Defaults: `PROT_READ | PROT_WRITE` (vm-memory 0.18 defaults to `PROT_NONE`, which makes every
/// slice access fault), `MAP_ANONYMOUS | MAP_PRIVATE`, no file, hugetlbfs unknown.
///
/// ```
/// use vm_memory::mmap::MmapRegionBuilder;
///
/// let region = MmapRegionBuilder::<()>::new(0x2000)
///     .with_mmap_prot(libc::PROT_READ | libc::PROT_WRITE)
///     .with_mmap_flags(libc::MAP_ANONYMOUS | libc::MAP_PRIVATE)
///     .build()
///     .unwrap();
/// assert!(region.owned());
/// assert_eq!(region.size(), 0x2000);
/// ```
#[derive(Debug)]
pub struct MmapRegionBuilder<B = ()> {
    size: usize,
    prot: i32,
    flags: i32,
    file_offset: Option<FileOffset>,
    raw_ptr: Option<*mut u8>,
    hugetlbfs: Option<bool>,
    bitmap: B,
}

impl<B: Bitmap + Default> MmapRegionBuilder<B> {
    /// A builder for a region of `size` bytes with a default bitmap.
    pub fn new(size: usize) -> Self {
        Self::new_with_bitmap(size, B::default())
    }
}

impl<B: Bitmap> MmapRegionBuilder<B> {
    /// A builder for a region of `size` bytes tracked by `bitmap`.
    pub fn new_with_bitmap(size: usize, bitmap: B) -> Self {
        MmapRegionBuilder {
            size,
            prot: libc::PROT_READ | libc::PROT_WRITE,
            flags: libc::MAP_ANONYMOUS | libc::MAP_PRIVATE,
            file_offset: None,
            raw_ptr: None,
            hugetlbfs: None,
            bitmap,
        }
    }

    /// Sets the `prot` argument of `mmap(2)`.
    pub fn with_mmap_prot(mut self, prot: i32) -> Self {
        self.prot = prot;
        self
    }

    /// Sets the `flags` argument of `mmap(2)`. `MAP_FIXED` is refused by [`build`](Self::build).
    pub fn with_mmap_flags(mut self, flags: i32) -> Self {
        self.flags = flags;
        self
    }

    /// Maps a range of this file instead of anonymous memory.
    pub fn with_file_offset(mut self, file_offset: FileOffset) -> Self {
        self.file_offset = Some(file_offset);
        self
    }

    /// Labels the region as hugetlbfs-backed (or not).
    pub fn with_hugetlbfs(mut self, hugetlbfs: bool) -> Self {
        self.hugetlbfs = Some(hugetlbfs);
        self
    }

    /// Uses an existing mapping at `raw_ptr` instead of mapping memory; the region will not
    /// unmap it.
    ///
    /// # Safety
    ///
    /// As [`MmapRegion::build_raw`]: `raw_ptr..raw_ptr + size` must stay valid for reads and
    /// writes for the life of the region and be accessed only with volatile or atomic operations
    /// meanwhile.
    pub unsafe fn with_raw_mmap_pointer(mut self, raw_ptr: *mut u8) -> Self {
        self.raw_ptr = Some(raw_ptr);
        self
    }

    /// Creates the region.
    ///
    /// # Errors
    ///
    /// - `InvalidPointer`: an existing mapping's pointer is not page-aligned;
    /// - `MapFixed`: the flags contain `MAP_FIXED`;
    /// - `Mmap(EINVAL)`: the size is 0;
    /// - `InvalidOffsetLength`: the file offset does not fit `off_t` or offset plus size
    ///   overflows;
    /// - `MappingPastEof`: the range does not lie inside a regular file (mapping it would succeed
    ///   and the first access past the end would raise `SIGBUS`);
    /// - `Mmap(_)`: the `fstat(2)` or `mmap(2)` error.
    pub fn build(self) -> Result<MmapRegion<B>, MmapRegionError> {
        if let Some(ptr) = self.raw_ptr {
            return self.build_raw(ptr);
        }
        if self.flags & libc::MAP_FIXED != 0 {
            return Err(MmapRegionError::MapFixed);
        }
        if self.size == 0 {
            return Err(MmapRegionError::Mmap(einval()));
        }
        let mapping = match &self.file_offset {
            Some(file_offset) => {
                let offset = checked_file_range(file_offset, self.size)?;
                let file = (file_offset.file().as_fd(), offset);
                Mapping::new(self.size, self.prot, self.flags, Some(file))
            }
            None => Mapping::new(self.size, self.prot, self.flags, None),
        }
        .map_err(MmapRegionError::Mmap)?;
        // SAFETY: `mapping` is a fresh mapping of exactly `size` bytes at its base, which the
        // region owns from now on (invariants 1 and 2: a mapping never wraps).
        Ok(unsafe {
            MmapRegion::from_parts(
                mapping.base(),
                self.size,
                self.bitmap,
                self.file_offset,
                self.prot,
                self.flags,
                self.hugetlbfs,
                Some(mapping),
            )
        })
    }

    fn build_raw(self, ptr: *mut u8) -> Result<MmapRegion<B>, MmapRegionError> {
        if !ptr.addr().is_multiple_of(page_size()) {
            return Err(MmapRegionError::InvalidPointer);
        }
        if ptr.addr().checked_add(self.size).is_none() {
            return Err(MmapRegionError::InvalidOffsetLength);
        }
        // SAFETY: the creator of the builder promised (`with_raw_mmap_pointer`) that the range is
        // valid for the region's life (invariant 1); it does not wrap (checked, invariant 2).
        Ok(unsafe {
            MmapRegion::from_parts(
                ptr,
                self.size,
                self.bitmap,
                self.file_offset,
                self.prot,
                self.flags,
                self.hugetlbfs,
                None,
            )
        })
    }
}

/// Checks that `size` bytes at the file offset can be mapped, and returns the offset as `off_t`.
pub(crate) fn checked_file_range(
    file_offset: &FileOffset,
    size: usize,
) -> Result<libc::off_t, MmapRegionError> {
    let start = file_offset.start();
    let end = u64::try_from(size)
        .ok()
        .and_then(|size| start.checked_add(size))
        .ok_or(MmapRegionError::InvalidOffsetLength)?;
    let offset = libc::off_t::try_from(start).map_err(|_| MmapRegionError::InvalidOffsetLength)?;
    libc::off_t::try_from(end).map_err(|_| MmapRegionError::InvalidOffsetLength)?;
    let metadata = file_offset
        .file()
        .metadata()
        .map_err(MmapRegionError::Mmap)?;
    if metadata.file_type().is_file() && end > metadata.len() {
        return Err(MmapRegionError::MappingPastEof);
    }
    Ok(offset)
}
