//! Xen regions (feature `xen`, Linux): [`MmapRegion::from_range`] and the Xen accessors.

use std::sync::Arc;

use vm_memory_core::bitmap::{Bitmap, NewBitmap};
use vm_memory_xen::{MmapRange, MmapXenFlags, SystemDevice, XenDevice, XenMapping};

use super::{MmapRegion, MmapRegionBuilder, MmapRegionError, Owner};

impl<B: NewBitmap> MmapRegion<B> {
    /// Maps `range` as its Xen flags say: Unix memory (no flag), foreign memory through
    /// `/dev/xen/privcmd`, or grants through `/dev/xen/gntdev`, in advance or per access. The
    /// range's file is the mapped file for Unix ranges and the opened device, at offset 0, for
    /// Xen ones. `prot` defaults to `PROT_READ | PROT_WRITE`, `flags` to
    /// `MAP_NORESERVE | MAP_SHARED`.
    ///
    /// ```
    /// use vm_memory::mmap::{MmapRange, MmapRegion, MmapXenFlags};
    /// use vm_memory::{Bytes, GuestAddress, VolatileMemory};
    ///
    /// let region = MmapRegion::<()>::from_range(MmapRange::new_unix(0x1000, None, GuestAddress(0)))
    ///     .unwrap();
    /// assert_eq!(region.xen_mmap_flags(), MmapXenFlags::UNIX.bits());
    /// region.as_volatile_slice().write_obj(1u32, 0x10).unwrap();
    ///
    /// // Foreign memory needs /dev/xen/privcmd as the range's file.
    /// let range = MmapRange::new(0x1000, None, GuestAddress(0), MmapXenFlags::FOREIGN.bits(), 1);
    /// assert!(MmapRegion::<()>::from_range(range).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// - `MapFixed`: `MAP_FIXED` in the flags;
    /// - `Xen(InvalidFlags)`: unknown Xen flag bits or an invalid combination;
    /// - Unix ranges: as [`MmapRegionBuilder::build`];
    /// - foreign and grant ranges: `Xen(_)`, naming what failed (see `vm_memory_xen::Error`):
    ///   no device file, a file offset, a size that is not whole pages, a failed `mmap` or
    ///   ioctl...
    pub fn from_range(range: MmapRange) -> Result<Self, MmapRegionError> {
        Self::from_range_with_device(range, SystemDevice::shared())
    }

    /// As [`from_range`](Self::from_range), making the foreign and grant system calls through
    /// `device` (for example the recording fake of `vm_memory_xen::test_utils`). Unix ranges
    /// are mapped as by [`MmapRegionBuilder`].
    ///
    /// # Errors
    ///
    /// As [`from_range`](Self::from_range).
    pub fn from_range_with_device(
        range: MmapRange,
        device: Arc<dyn XenDevice>,
    ) -> Result<Self, MmapRegionError> {
        let xen_flags = range.xen_flags()?;
        let (prot, flags) = (range.prot_or_default(), range.flags_or_default());
        if flags & libc::MAP_FIXED != 0 {
            return Err(MmapRegionError::MapFixed);
        }
        let size = range.size();
        let xen_data = range.mmap_data();
        let hugetlbfs = range.hugetlbfs();
        if xen_flags.is_unix() {
            let mut builder = MmapRegionBuilder::new_with_bitmap(size, B::with_len(size))
                .with_mmap_prot(prot)
                .with_mmap_flags(flags);
            if let Some(hugetlbfs) = hugetlbfs {
                builder = builder.with_hugetlbfs(hugetlbfs);
            }
            if let Some(file_offset) = range.into_file_offset() {
                builder = builder.with_file_offset(file_offset);
            }
            let mut region = builder.build()?;
            region.xen_data = xen_data;
            return Ok(region);
        }
        let xen = XenMapping::with_device(&range, device)?;
        Ok(MmapRegion {
            // Invariant 1: the Xen mapping keeps `as_ptr()..+ size` mapped for its life, or is
            // lazily mapped with a null address. Invariant 2: a mapping never wraps.
            addr: xen.as_ptr(),
            size,
            bitmap: B::with_len(size),
            prot: xen.prot(),
            flags: xen.flags(),
            hugetlbfs,
            file_offset: range.into_file_offset(),
            owner: Owner::Xen(xen),
            xen_data,
        })
    }
}

impl<B: Bitmap> MmapRegion<B> {
    /// The Xen flags the region was mapped with (`MmapXenFlags::UNIX`, 0, for ordinary
    /// regions).
    pub fn xen_mmap_flags(&self) -> u32 {
        match &self.owner {
            Owner::Xen(xen) => xen.xen_flags().bits(),
            _ => MmapXenFlags::UNIX.bits(),
        }
    }

    /// The Xen data of the range the region was made from (the domain id of foreign and grant
    /// regions; 0 for regions not made by `from_range`).
    pub fn xen_mmap_data(&self) -> u32 {
        self.xen_data
    }
}
