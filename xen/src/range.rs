//! `MmapRange`: everything needed to map one region, as a vhost-user memory-region message
//! describes it.

use vm_memory_core::{FileOffset, GuestAddress};

use crate::error::{Error, MappingKind};
use crate::flags::MmapXenFlags;

/// The `prot` used when a range does not set one.
pub const DEFAULT_PROT: i32 = libc::PROT_READ | libc::PROT_WRITE;
/// The `flags` used when a range does not set them.
pub const DEFAULT_FLAGS: i32 = libc::MAP_NORESERVE | libc::MAP_SHARED;

/// The arguments of one mapping: its size, file, guest address, `mmap(2)` protection and flags,
/// hugetlbfs label, and the Xen flags and data (the domain id) of the vhost-user message.
///
/// ```
/// use vm_memory_core::GuestAddress;
/// use vm_memory_xen::{MmapRange, MmapXenFlags};
///
/// let range = MmapRange::new(0x10000, None, GuestAddress(0x8000_0000), MmapXenFlags::FOREIGN.bits(), 7);
/// assert_eq!(range.xen_flags().unwrap(), MmapXenFlags::FOREIGN);
/// assert_eq!(range.mmap_data(), 7);
/// assert_eq!(range.prot(), None); // read and write unless set
/// ```
#[derive(Clone, Debug)]
pub struct MmapRange {
    size: usize,
    file_offset: Option<FileOffset>,
    prot: Option<i32>,
    flags: Option<i32>,
    hugetlbfs: Option<bool>,
    addr: GuestAddress,
    mmap_flags: u32,
    mmap_data: u32,
}

impl MmapRange {
    /// A range of `size` bytes at guest address `addr`, with the Xen flags and data of a
    /// vhost-user memory region. `file_offset` is the region's file: for foreign and grant
    /// mappings the opened `/dev/xen/privcmd` or `/dev/xen/gntdev`, at offset 0.
    pub fn new(
        size: usize,
        file_offset: Option<FileOffset>,
        addr: GuestAddress,
        mmap_flags: u32,
        mmap_data: u32,
    ) -> Self {
        MmapRange {
            size,
            file_offset,
            prot: None,
            flags: None,
            hugetlbfs: None,
            addr,
            mmap_flags,
            mmap_data,
        }
    }

    /// An ordinary Unix range: a shared mapping of `file_offset` (`MAP_NORESERVE | MAP_SHARED`)
    /// or, without a file, private anonymous memory (`MAP_ANONYMOUS | MAP_NORESERVE |
    /// MAP_PRIVATE`, the flags of `MmapRegion::new`; vm-memory 0.18 leaves out `MAP_NORESERVE`
    /// here).
    pub fn new_unix(size: usize, file_offset: Option<FileOffset>, addr: GuestAddress) -> Self {
        let flags = match file_offset {
            Some(_) => libc::MAP_NORESERVE | libc::MAP_SHARED,
            None => libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_PRIVATE,
        };
        let mut range = MmapRange::new(size, file_offset, addr, MmapXenFlags::UNIX.bits(), 0);
        range.flags = Some(flags);
        range
    }

    /// Sets the `prot` argument of `mmap(2)` (default [`DEFAULT_PROT`]).
    pub fn set_prot(&mut self, prot: i32) {
        self.prot = Some(prot);
    }

    /// Sets the `flags` argument of `mmap(2)` (default [`DEFAULT_FLAGS`]). Foreign and grant
    /// mappings are always shared: their mapping type becomes `MAP_SHARED`.
    pub fn set_flags(&mut self, flags: i32) {
        self.flags = Some(flags);
    }

    /// Labels the range as hugetlbfs-backed (or not).
    pub fn set_hugetlbfs(&mut self, hugetlbfs: bool) {
        self.hugetlbfs = Some(hugetlbfs);
    }

    /// The size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The file and offset to map, if any.
    pub fn file_offset(&self) -> Option<&FileOffset> {
        self.file_offset.as_ref()
    }

    /// The guest physical address of the first byte.
    pub fn addr(&self) -> GuestAddress {
        self.addr
    }

    /// The `prot` argument, if set.
    pub fn prot(&self) -> Option<i32> {
        self.prot
    }

    /// The `flags` argument, if set.
    pub fn flags(&self) -> Option<i32> {
        self.flags
    }

    /// The hugetlbfs label, if set.
    pub fn hugetlbfs(&self) -> Option<bool> {
        self.hugetlbfs
    }

    /// The raw Xen flags.
    pub fn mmap_flags(&self) -> u32 {
        self.mmap_flags
    }

    /// The Xen data: the domain id for foreign and grant mappings.
    pub fn mmap_data(&self) -> u32 {
        self.mmap_data
    }

    /// The Xen flags, checked.
    ///
    /// # Errors
    ///
    /// `InvalidFlags` for unknown bits or an invalid combination.
    pub fn xen_flags(&self) -> Result<MmapXenFlags, Error> {
        MmapXenFlags::from_bits(self.mmap_flags)
            .filter(MmapXenFlags::is_valid)
            .ok_or(Error::InvalidFlags(self.mmap_flags))
    }

    /// The `prot` argument, or [`DEFAULT_PROT`].
    pub fn prot_or_default(&self) -> i32 {
        self.prot.unwrap_or(DEFAULT_PROT)
    }

    /// The `flags` argument, or [`DEFAULT_FLAGS`].
    pub fn flags_or_default(&self) -> i32 {
        self.flags.unwrap_or(DEFAULT_FLAGS)
    }

    /// Consumes the range, returning its file.
    pub fn into_file_offset(self) -> Option<FileOffset> {
        self.file_offset
    }
}

/// A foreign or grant range after its checks.
#[derive(Debug)]
pub(crate) struct DeviceRange {
    /// The device file (`/dev/xen/privcmd` or `/dev/xen/gntdev`).
    pub(crate) file: FileOffset,
    /// Size in bytes, a whole number of pages.
    pub(crate) size: usize,
    /// Number of pages; fits `u32`.
    pub(crate) pages: u32,
    /// The host page size.
    pub(crate) page_size: usize,
    /// `mmap(2)` protection.
    pub(crate) prot: i32,
    /// `mmap(2)` flags, with the mapping type forced to `MAP_SHARED`.
    pub(crate) flags: i32,
}

impl MmapRange {
    /// Checks what foreign and grant mappings share: a device file at offset 0, a non-empty
    /// size of whole pages, a page-aligned guest address, and flags without `MAP_FIXED` or
    /// `MAP_ANONYMOUS`.
    pub(crate) fn device_range(
        &self,
        kind: MappingKind,
        page_size: usize,
    ) -> Result<DeviceRange, Error> {
        let flags = self.flags_or_default();
        if flags & libc::MAP_FIXED != 0 {
            return Err(Error::MapFixed);
        }
        if flags & libc::MAP_ANONYMOUS != 0 {
            return Err(Error::AnonymousDeviceMapping(kind));
        }
        let file = self
            .file_offset
            .clone()
            .ok_or(Error::MissingDeviceFile(kind))?;
        if file.start() != 0 {
            return Err(Error::FileOffsetNotZero {
                kind,
                offset: file.start(),
            });
        }
        if self.size == 0 {
            return Err(Error::EmptyRegion);
        }
        if !self.size.is_multiple_of(page_size) {
            return Err(Error::UnalignedSize {
                kind,
                size: self.size,
                page_size,
            });
        }
        if !self.addr.0.is_multiple_of(page_size as u64) {
            return Err(Error::UnalignedGuestAddress {
                kind,
                addr: self.addr.0,
            });
        }
        let pages = self.size / page_size;
        let pages = u32::try_from(pages).map_err(|_| Error::TooManyPages(pages))?;
        Ok(DeviceRange {
            file,
            size: self.size,
            pages,
            page_size,
            prot: self.prot_or_default(),
            flags: (flags & !libc::MAP_TYPE) | libc::MAP_SHARED,
        })
    }
}
