//! `XenMapping`: one region mapped as Unix memory, foreign memory or grants.

use std::os::fd::AsFd;
use std::ptr;
use std::sync::Arc;

use vm_memory_core::bitmap::BitmapSlice;
use vm_memory_core::volatile_memory::{
    LazyMapping, VolatileMemory, VolatileMemoryResult, VolatileSlice,
};

use crate::device::{DeviceMapping, SystemDevice, XenDevice};
use crate::error::{Error, MappingKind};
use crate::flags::MmapXenFlags;
use crate::grant::{AdvanceGrant, Grants, LazyGrant};
use crate::range::MmapRange;
use crate::{foreign, sys};

/// The memory behind a [`XenMapping`].
#[derive(Debug)]
enum Kind {
    /// `mmap(2)` of a file or anonymous memory.
    Unix(DeviceMapping),
    /// privcmd, mapped in advance.
    Foreign(DeviceMapping),
    /// gntdev, mapped in advance.
    Grant(AdvanceGrant),
    /// gntdev, mapped per access.
    LazyGrant(LazyGrant),
}

/// One region of guest memory mapped into this process, of the kind its [`MmapRange`]'s Xen
/// flags ask for:
///
/// - **Unix** (no flag): `mmap(2)` of the range's file, or anonymous memory;
/// - **foreign** (`FOREIGN`): the whole range of domain `mmap_data`'s frames, starting at frame
///   `addr / page_size`, mapped through `/dev/xen/privcmd` (the range's file, at offset 0);
/// - **grant** (`GRANT`): the grant references `(addr & !(1 << 63)) / page_size + i` of domain
///   `mmap_data`, mapped through `/dev/xen/gntdev` (the range's file, at offset 0), either whole
///   for the mapping's life or, with `NO_ADVANCE_MAP`, only for each access.
///
/// A lazily mapped grant region has no address ([`as_ptr`](Self::as_ptr) is null); its slices
/// carry a [`LazyMapping`] hook, and every access maps exactly the pages it touches and unmaps
/// them afterwards. All other kinds are mapped until the value drops.
///
/// All system calls go through a [`XenDevice`]: [`new`](Self::new) uses the real one,
/// [`with_device`](Self::with_device) any other (tests use a recording fake).
///
/// ```
/// use vm_memory_core::{Bytes, GuestAddress, VolatileMemory};
/// use vm_memory_xen::{MmapRange, XenMapping};
///
/// let mapping = XenMapping::new(&MmapRange::new_unix(0x1000, None, GuestAddress(0))).unwrap();
/// mapping.get_slice(0x10, 4).unwrap().write_obj(0xfeed_u32, 0).unwrap();
/// assert_eq!(mapping.as_volatile_slice().read_obj::<u32>(0x10).unwrap(), 0xfeed);
/// ```
#[derive(Debug)]
pub struct XenMapping {
    kind: Kind,
    xen_flags: MmapXenFlags,
    mmap_data: u32,
    size: usize,
    prot: i32,
    flags: i32,
}

impl XenMapping {
    /// Maps `range` with the host's Xen devices ([`SystemDevice`]).
    ///
    /// # Errors
    ///
    /// As [`with_device`](Self::with_device).
    pub fn new(range: &MmapRange) -> Result<Self, Error> {
        Self::with_device(range, SystemDevice::shared())
    }

    /// Maps `range`, making every system call through `device`.
    ///
    /// # Errors
    ///
    /// - `InvalidFlags`: unknown Xen flag bits or an invalid combination;
    /// - `MapFixed`: `MAP_FIXED` in the flags;
    /// - `EmptyRegion`: size 0;
    /// - Unix: `InvalidOffsetLength` (file offset plus size overflows `off_t`), `MappingPastEof`
    ///   (past the end of a regular file), `Stat`, `Mmap`;
    /// - foreign and grant: `MissingDeviceFile`, `FileOffsetNotZero`, `UnalignedSize`,
    ///   `UnalignedGuestAddress`, `AnonymousDeviceMapping`, `TooManyPages`, `Mmap`;
    /// - foreign: `DomainIdTooLarge`, `FrameOverflow`, `PrivcmdMmapBatch`, `ForeignFrame`;
    /// - grant: `GrantRefOverflow`, `GntdevMapGrantRef`.
    ///
    /// Nothing stays mapped after an error.
    pub fn with_device(range: &MmapRange, device: Arc<dyn XenDevice>) -> Result<Self, Error> {
        let xen_flags = range.xen_flags()?;
        let prot = range.prot_or_default();
        let flags = range.flags_or_default();
        if flags & libc::MAP_FIXED != 0 {
            return Err(Error::MapFixed);
        }
        let page_size = sys::page_size();
        let kind = if xen_flags.is_foreign() {
            Kind::Foreign(foreign::map(&device, range, page_size)?)
        } else if xen_flags.is_grant() {
            let grants = Grants::new(&device, range, page_size)?;
            if xen_flags.mmap_in_advance() {
                Kind::Grant(AdvanceGrant::new(grants)?)
            } else {
                Kind::LazyGrant(LazyGrant::new(grants))
            }
        } else {
            Kind::Unix(map_unix(&device, range, prot, flags)?)
        };
        let flags = match kind {
            Kind::Unix(_) => flags,
            _ => (flags & !libc::MAP_TYPE) | libc::MAP_SHARED,
        };
        Ok(XenMapping {
            kind,
            xen_flags,
            mmap_data: range.mmap_data(),
            size: range.size(),
            prot,
            flags,
        })
    }

    /// The first byte of the mapping, or null for a lazily mapped grant region (which has no
    /// lasting address). Writes through it are not dirty-tracked.
    ///
    /// Unless null, `as_ptr()..as_ptr() + size()` stays mapped with [`prot`](Self::prot) for
    /// the life of `self`.
    pub fn as_ptr(&self) -> *mut u8 {
        match &self.kind {
            Kind::Unix(m) | Kind::Foreign(m) => m.ptr().as_ptr(),
            Kind::Grant(g) => g.ptr().as_ptr(),
            Kind::LazyGrant(_) => ptr::null_mut(),
        }
    }

    /// The size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The Xen flags the mapping was made with.
    pub fn xen_flags(&self) -> MmapXenFlags {
        self.xen_flags
    }

    /// The Xen data of the range (the domain id for foreign and grant mappings).
    pub fn mmap_data(&self) -> u32 {
        self.mmap_data
    }

    /// The `prot` of the mapping (for lazily mapped grants: the most any access may get).
    pub fn prot(&self) -> i32 {
        self.prot
    }

    /// The `flags` of the mapping (foreign and grant mappings are always `MAP_SHARED`).
    pub fn flags(&self) -> i32 {
        self.flags
    }

    /// The hook of a lazily mapped grant region, `None` for memory mapped in advance.
    pub fn lazy_mapping(&self) -> Option<&dyn LazyMapping> {
        match &self.kind {
            Kind::LazyGrant(lazy) => Some(lazy),
            _ => None,
        }
    }

    /// A slice of `count` bytes at `offset`, tracked by `bitmap` (whose offset 0 must be the
    /// slice's first byte). Slices of lazily mapped grant regions carry the mapping hook.
    ///
    /// # Errors
    ///
    /// `Overflow` or `OutOfBounds` if the range does not fit the mapping.
    pub fn get_slice_with_bitmap<B: BitmapSlice>(
        &self,
        offset: usize,
        count: usize,
        bitmap: B,
    ) -> VolatileMemoryResult<VolatileSlice<'_, B>> {
        self.compute_end_offset(offset, count)?;
        Ok(match self.lazy_mapping() {
            // SAFETY: the pointer field carries the slice's offset inside the region; the hook
            // maps any subrange of `offset..offset + count` (inside the region, checked above)
            // while `self` is borrowed.
            Some(hook) => unsafe {
                VolatileSlice::with_bitmap(
                    ptr::without_provenance_mut(offset),
                    count,
                    bitmap,
                    Some(hook),
                )
            },
            // SAFETY: `as_ptr()..+ size` stays mapped for the life of `self` (see `as_ptr`), and
            // `offset + count <= size`; the memory is shared with the guest and only accessed
            // through volatile operations and guards.
            None => unsafe {
                VolatileSlice::with_bitmap(self.as_ptr().wrapping_add(offset), count, bitmap, None)
            },
        })
    }
}

impl VolatileMemory for XenMapping {
    type B = ();

    fn len(&self) -> usize {
        self.size
    }

    fn get_slice(&self, offset: usize, count: usize) -> VolatileMemoryResult<VolatileSlice<'_>> {
        self.get_slice_with_bitmap(offset, count, ())
    }
}

/// `mmap(2)` of the range's file (or anonymous memory) through the device.
fn map_unix(
    device: &Arc<dyn XenDevice>,
    range: &MmapRange,
    prot: i32,
    flags: i32,
) -> Result<DeviceMapping, Error> {
    let size = range.size();
    if size == 0 {
        return Err(Error::EmptyRegion);
    }
    let file = match range.file_offset() {
        Some(file_offset) => {
            let start = file_offset.start();
            let end = u64::try_from(size)
                .ok()
                .and_then(|size| start.checked_add(size))
                .filter(|&end| libc::off_t::try_from(end).is_ok())
                .ok_or(Error::InvalidOffsetLength)?;
            let metadata = file_offset.file().metadata().map_err(Error::Stat)?;
            if metadata.file_type().is_file() && end > metadata.len() {
                return Err(Error::MappingPastEof);
            }
            Some((file_offset.file().as_fd(), start))
        }
        None => None,
    };
    let (fd, offset) = file.map_or((None, 0), |(fd, offset)| (Some(fd), offset));
    DeviceMapping::new(device, size, prot, flags, fd, offset).map_err(|source| Error::Mmap {
        kind: MappingKind::Unix,
        len: size,
        source,
    })
}

// The mapped pointers are process memory, usable from any thread; the device is `Send + Sync`.
// SAFETY: see above; `XenMapping` hands out only slices (volatile access) and raw pointers.
unsafe impl Send for XenMapping {}
// SAFETY: as above: `&XenMapping` allows only volatile access, guarded mapping through the hook
// (which is stateless apart from the device), and reading the plain fields.
unsafe impl Sync for XenMapping {}
