//! `Error`: why a Xen mapping could not be made.

use std::io;

/// The mapping kinds named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MappingKind {
    /// An ordinary `mmap(2)`.
    Unix,
    /// Foreign memory through `/dev/xen/privcmd`.
    Foreign,
    /// Grant references through `/dev/xen/gntdev`.
    Grant,
}

impl std::fmt::Display for MappingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MappingKind::Unix => "Unix",
            MappingKind::Foreign => "foreign (privcmd)",
            MappingKind::Grant => "grant (gntdev)",
        })
    }
}

/// Why a [`XenMapping`](crate::XenMapping) could not be created.
///
/// vm-memory 0.18 calls this `mmap::xen::Error`; its variants map as follows: `MmapFlags` is
/// [`InvalidFlags`](Self::InvalidFlags), `InvalidFileOffset` is
/// [`MissingDeviceFile`](Self::MissingDeviceFile), the foreign/grant use of
/// `InvalidOffsetLength` is [`FileOffsetNotZero`](Self::FileOffsetNotZero), and `Mmap` is split
/// by the call that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Xen flags have unknown bits or an invalid combination (see
    /// [`MmapXenFlags::is_valid`](crate::MmapXenFlags::is_valid)).
    #[error("invalid Xen mmap flags {0:#x}")]
    InvalidFlags(u32),
    /// `MAP_FIXED` was requested; it could silently replace other mappings of the process.
    #[error("MAP_FIXED is not allowed: it could replace existing mappings")]
    MapFixed,
    /// `MAP_ANONYMOUS` was requested for a mapping of a Xen device.
    #[error("MAP_ANONYMOUS cannot be used for a {0} mapping")]
    AnonymousDeviceMapping(MappingKind),
    /// The region has no bytes.
    #[error("the region is empty")]
    EmptyRegion,
    /// A foreign or grant region must cover whole pages.
    #[error("{kind} region size {size:#x} is not a multiple of the page size {page_size:#x}")]
    UnalignedSize {
        /// The mapping kind.
        kind: MappingKind,
        /// The requested size.
        size: usize,
        /// The host page size.
        page_size: usize,
    },
    /// A foreign or grant region must start at a page boundary of the guest.
    #[error("{kind} region guest address {addr:#x} is not page-aligned")]
    UnalignedGuestAddress {
        /// The mapping kind.
        kind: MappingKind,
        /// The region's guest address.
        addr: u64,
    },
    /// A foreign or grant mapping needs the device file (`/dev/xen/privcmd` or
    /// `/dev/xen/gntdev`) as its file offset.
    #[error("a {0} mapping needs the Xen device file as its file offset")]
    MissingDeviceFile(MappingKind),
    /// A foreign or grant mapping of the device file must start at offset 0.
    #[error("a {kind} mapping must use file offset 0, not {offset:#x}")]
    FileOffsetNotZero {
        /// The mapping kind.
        kind: MappingKind,
        /// The offset that was given.
        offset: u64,
    },
    /// The file offset plus the size overflows, or does not fit `off_t`.
    #[error("the file offset plus the mapping length overflows")]
    InvalidOffsetLength,
    /// A Unix mapping would extend past the end of its (regular) file.
    #[error("the mapping extends past the end of the file")]
    MappingPastEof,
    /// privcmd takes 16-bit domain ids.
    #[error("domain id {0:#x} does not fit privcmd's 16-bit domid_t")]
    DomainIdTooLarge(u32),
    /// The region has more pages than one ioctl can describe (`u32` counts).
    #[error("the region has {0} pages, more than one Xen ioctl can map")]
    TooManyPages(usize),
    /// The grant references derived from the guest address do not fit 32 bits.
    #[error("grant references for guest address {addr:#x} and {pages} pages do not fit 32 bits")]
    GrantRefOverflow {
        /// The region's guest address.
        addr: u64,
        /// The region's page count.
        pages: usize,
    },
    /// The guest frame numbers of a foreign region do not fit `xen_pfn_t`.
    #[error("frame numbers for guest address {addr:#x} and {pages} pages do not fit xen_pfn_t")]
    FrameOverflow {
        /// The region's guest address.
        addr: u64,
        /// The region's page count.
        pages: usize,
    },
    /// `mmap(2)` failed.
    #[error("mmap of {len:#x} bytes for a {kind} mapping failed")]
    Mmap {
        /// The mapping kind.
        kind: MappingKind,
        /// The requested length.
        len: usize,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// `fstat(2)` of the region's file failed.
    #[error("cannot inspect the region's file")]
    Stat(#[source] io::Error),
    /// `IOCTL_PRIVCMD_MMAPBATCH_V2` failed as a whole.
    #[error("IOCTL_PRIVCMD_MMAPBATCH_V2 for {pages} frames of domain {domid} failed")]
    PrivcmdMmapBatch {
        /// The domain.
        domid: u16,
        /// The number of frames.
        pages: u32,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// `IOCTL_PRIVCMD_MMAPBATCH_V2` could not map one frame (the first that failed is named).
    #[error("frame {pfn:#x} of domain {domid} (page {page} of the region) could not be mapped")]
    ForeignFrame {
        /// The domain.
        domid: u16,
        /// The page of the region.
        page: usize,
        /// The guest frame number.
        pfn: u64,
        /// The error the hypervisor reported for the frame.
        #[source]
        source: io::Error,
    },
    /// `IOCTL_GNTDEV_MAP_GRANT_REF` failed.
    #[error(
        "IOCTL_GNTDEV_MAP_GRANT_REF for {count} references from {first_ref:#x} of domain {domid} failed"
    )]
    GntdevMapGrantRef {
        /// The granting domain.
        domid: u32,
        /// The first grant reference.
        first_ref: u32,
        /// The number of references.
        count: u32,
        /// The system error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// The `errno` of the failed system call, if the error comes from one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Mmap { source, .. }
            | Error::Stat(source)
            | Error::PrivcmdMmapBatch { source, .. }
            | Error::ForeignFrame { source, .. }
            | Error::GntdevMapGrantRef { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}
