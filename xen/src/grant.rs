//! Grant mappings: pages a domain granted, mapped through `/dev/xen/gntdev`, either for the
//! region's whole life or for each access through the core's [`LazyMapping`] hook.

use std::io;
use std::os::fd::AsFd;
use std::ptr::NonNull;
use std::sync::Arc;

use vm_memory_core::FileOffset;
use vm_memory_core::volatile_memory::{LazyMapping, MapError, MappedWindow};

use crate::device::XenDevice;
use crate::error::{Error, MappingKind};
use crate::range::MmapRange;
use crate::sys::{self, GntdevUnmapGrantRef, MapGrantRefBuf};

/// Bit 63 of a guest address marks the address as made of grant references.
pub const GRANT_ADDR_BIT: u64 = 1 << 63;

/// The grant reference of the page at guest address `addr`: the address without
/// [`GRANT_ADDR_BIT`], in pages. `None` if it does not fit 32 bits, or if `page_size` is 0.
///
/// ```
/// use vm_memory_xen::{GRANT_ADDR_BIT, grant_ref};
///
/// assert_eq!(grant_ref(GRANT_ADDR_BIT | 0x5000, 0x1000), Some(5));
/// assert_eq!(grant_ref(0x5000, 0x1000), Some(5));
/// assert_eq!(grant_ref(1 << 50, 0x1000), None);
/// assert_eq!(grant_ref(0x5000, 0), None);
/// ```
pub fn grant_ref(addr: u64, page_size: usize) -> Option<u32> {
    let page = (addr & !GRANT_ADDR_BIT).checked_div(page_size as u64)?;
    u32::try_from(page).ok()
}

/// The grants of one region: which references, of which domain, through which gntdev file.
#[derive(Debug)]
pub(crate) struct Grants {
    device: Arc<dyn XenDevice>,
    file: FileOffset,
    domid: u32,
    first_ref: u32,
    size: usize,
    pages: u32,
    page_size: usize,
    prot: i32,
    flags: i32,
}

impl Grants {
    /// Checks the range and derives its grant references from its guest address.
    pub(crate) fn new(
        device: &Arc<dyn XenDevice>,
        range: &MmapRange,
        page_size: usize,
    ) -> Result<Self, Error> {
        let checked = range.device_range(MappingKind::Grant, page_size)?;
        let addr = range.addr().0;
        // The first and the last page's grant references must fit 32 bits.
        let first_ref = grant_ref(addr, page_size)
            .filter(|first| first.checked_add(checked.pages - 1).is_some())
            .ok_or(Error::GrantRefOverflow {
                addr,
                pages: checked.pages as usize,
            })?;
        Ok(Grants {
            device: Arc::clone(device),
            file: checked.file,
            domid: range.mmap_data(),
            first_ref,
            size: checked.size,
            pages: checked.pages,
            page_size: checked.page_size,
            prot: checked.prot,
            flags: checked.flags,
        })
    }

    /// Maps `count` pages from page `first_page` of the region: `IOCTL_GNTDEV_MAP_GRANT_REF`,
    /// then `mmap(2)` of the gntdev file at the returned index. Returns the mapping and the
    /// index; if `mmap` fails, the grants are released again.
    fn map_pages(
        &self,
        first_page: u32,
        count: u32,
        prot: i32,
    ) -> Result<(NonNull<u8>, u64), Error> {
        let first_ref = self.first_ref + first_page;
        let ioctl_error = |source| Error::GntdevMapGrantRef {
            domid: self.domid,
            first_ref,
            count,
            source,
        };
        let mut request = MapGrantRefBuf::new(self.domid, first_ref, count)
            .ok_or_else(|| ioctl_error(io::Error::from_raw_os_error(libc::EINVAL)))?;
        let fd = self.file.file().as_fd();
        // SAFETY: the buffer is a map request for `count` grants, valid for the call.
        unsafe {
            self.device
                .ioctl(fd, sys::IOCTL_GNTDEV_MAP_GRANT_REF, request.as_mut_ptr())
        }
        .map_err(ioctl_error)?;
        let index = request.index();
        let len = count as usize * self.page_size;
        match self.device.mmap(len, prot, self.flags, Some(fd), index) {
            Ok(ptr) => Ok((ptr, index)),
            Err(source) => {
                self.release(count, index);
                Err(Error::Mmap {
                    kind: MappingKind::Grant,
                    len,
                    source,
                })
            }
        }
    }

    /// Unmaps `count` pages at `ptr` mapped at `index`: `munmap(2)` first, then
    /// `IOCTL_GNTDEV_UNMAP_GRANT_REF`, in the order the driver needs.
    ///
    /// # Safety
    ///
    /// `ptr`, `count` and `index` must come from one successful `map_pages` that was not undone
    /// yet, and no pointer into the mapping may be used afterwards.
    unsafe fn unmap_pages(&self, ptr: NonNull<u8>, count: u32, index: u64) {
        // SAFETY: caller contract: a whole mapping from `self.device.mmap`, unused from now on.
        // Failures cannot be reported from the destructors that call this; they leave the pages
        // mapped, which is safe.
        let _ = unsafe { self.device.munmap(ptr, count as usize * self.page_size) };
        self.release(count, index);
    }

    /// `IOCTL_GNTDEV_UNMAP_GRANT_REF` for `count` grants mapped at `index`.
    fn release(&self, count: u32, index: u64) {
        let mut request = GntdevUnmapGrantRef {
            index,
            count,
            pad: 0,
        };
        // SAFETY: `request` is the structure the request expects, valid for the call. A failure
        // leaves the grants with the driver until the file is closed; nothing to report it to.
        let _ = unsafe {
            self.device.ioctl(
                self.file.file().as_fd(),
                sys::IOCTL_GNTDEV_UNMAP_GRANT_REF,
                (&raw mut request).cast(),
            )
        };
    }
}

/// A grant region mapped whole for its life.
///
/// # Invariants
///
/// `ptr`, `grants.pages` and `index` come from one successful `grants.map_pages(0, pages, _)`,
/// undone only on drop.
#[derive(Debug)]
pub(crate) struct AdvanceGrant {
    grants: Grants,
    ptr: NonNull<u8>,
    index: u64,
}

impl AdvanceGrant {
    /// Maps all the region's grants.
    pub(crate) fn new(grants: Grants) -> Result<Self, Error> {
        let (ptr, index) = grants.map_pages(0, grants.pages, grants.prot)?;
        Ok(AdvanceGrant { grants, ptr, index })
    }

    /// The first byte of the mapping.
    pub(crate) fn ptr(&self) -> NonNull<u8> {
        self.ptr
    }
}

impl Drop for AdvanceGrant {
    fn drop(&mut self) {
        // SAFETY: the mapping came from `map_pages` and is undone only here (type invariant).
        unsafe {
            self.grants
                .unmap_pages(self.ptr, self.grants.pages, self.index)
        };
    }
}

/// A grant region mapped only for each access (`NO_ADVANCE_MAP`): the [`LazyMapping`] hook of
/// its slices.
///
/// Each guard maps the pages covering the bytes it accesses, read-only for reads and
/// read-write for writes, and unmaps them when it drops. The window's token is the gntdev index.
#[derive(Debug)]
pub(crate) struct LazyGrant {
    grants: Grants,
}

impl LazyGrant {
    pub(crate) fn new(grants: Grants) -> Self {
        LazyGrant { grants }
    }
}

// SAFETY: `map` checks the range against the region, maps the pages holding it through gntdev
// (the grants' contents) with read access, plus write access for writers, and returns the pointer
// to the first requested byte; the mapping stays until `unmap` undoes exactly that mapping, and
// every window is a mapping of its own, so unmapping one affects no other.
unsafe impl LazyMapping for LazyGrant {
    fn map(&self, offset: usize, len: usize, write: bool) -> Result<MappedWindow, MapError> {
        let g = &self.grants;
        if len == 0 {
            // Nothing to access: nothing is mapped, and `unmap` knows it from `len`.
            return Ok(MappedWindow {
                ptr: NonNull::dangling().as_ptr(),
                token: 0,
            });
        }
        let end = offset
            .checked_add(len)
            .filter(|&end| end <= g.size)
            .ok_or(MapError {
                errno: libc::EFAULT,
            })?;
        let prot = if write {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        if g.prot & prot != prot {
            return Err(MapError {
                errno: libc::EACCES,
            });
        }
        // Both fit `u32`: the region has at most `u32::MAX` pages.
        let first_page = (offset / g.page_size) as u32;
        let count = ((end - 1) / g.page_size) as u32 - first_page + 1;
        let (base, index) = g.map_pages(first_page, count, prot).map_err(|e| MapError {
            errno: e.raw_os_error().unwrap_or(0),
        })?;
        let Ok(token) = usize::try_from(index) else {
            // SAFETY: just mapped by `map_pages`, never handed out.
            unsafe { g.unmap_pages(base, count, index) };
            return Err(MapError {
                errno: libc::EOVERFLOW,
            });
        };
        Ok(MappedWindow {
            ptr: base.as_ptr().wrapping_add(offset % g.page_size),
            token,
        })
    }

    unsafe fn unmap(&self, window: &MappedWindow, len: usize) {
        if len == 0 {
            return;
        }
        let g = &self.grants;
        // `map` returned the page-aligned base plus the in-page offset of the first byte.
        let in_page = window.ptr.addr() % g.page_size;
        let Some(base) = NonNull::new(window.ptr.wrapping_sub(in_page)) else {
            return;
        };
        let count = (in_page + len).div_ceil(g.page_size) as u32;
        // SAFETY: caller contract: the window came from `map(_, len, _)` and is unmapped once;
        // `base`, `count` and the index (the token) are what `map_pages` returned there.
        unsafe { g.unmap_pages(base, count, window.token as u64) };
    }
}
