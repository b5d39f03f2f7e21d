//! `MemoryBacking`: guest memory the way a production VMM wants it on Linux.

mod error;

pub use error::BackingError;

use std::os::fd::AsFd;

use vm_memory_core::bitmap::NewBitmap;
use vm_memory_core::{Address, FileOffset, GuestAddress, GuestRegionCollection};

use super::guard::map_placed;
use super::hugetlb::HugePageSize;
use super::memfd::Memfd;
use super::thp::{advise_huge_pages, pmd_size, thp_mode};
use super::unix::{Mapping, page_size};
use super::{GuestMemoryMmap, GuestRegionMmap, MmapRegion};

/// Which kind of huge pages to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HugePages {
    None,
    Transparent,
    Hugetlb(HugePageSize),
}

/// How to back guest memory on Linux: private or shared (memfd) memory, huge pages, guard pages.
///
/// - [`anonymous`](Self::anonymous): private anonymous memory (what `from_ranges` gives).
/// - [`memfd`](Self::memfd): one sealed [`Memfd`] for the whole guest, each region at its own
///   offset. Every region's [`file_offset`](crate::GuestMemoryRegion::file_offset) names the
///   descriptor and offset another process needs to map it.
/// - [`hugetlb`](Self::hugetlb): hugetlb pages of a chosen size. Pages are reserved when the
///   region is mapped, so an exhausted pool is an error now rather than a `SIGBUS` later.
/// - [`transparent_huge_pages`](Self::transparent_huge_pages): regions aligned to the PMD size
///   and hinted with `MADV_HUGEPAGE`.
/// - [`guard_pages`](Self::guard_pages): one inaccessible page before and after every region.
///
/// Every option the host cannot provide is an error naming what is missing; nothing silently
/// falls back.
///
/// ```
/// # #[cfg(miri)] fn main() {} // Miri cannot call memfd_create.
/// # #[cfg(not(miri))] fn main() {
/// use vm_memory::mmap::{MemoryBacking, GuestMemoryMmap};
/// use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryRegion};
///
/// let mem: GuestMemoryMmap = MemoryBacking::memfd("guest-ram")
///     .guard_pages(true)
///     .build(&[(GuestAddress(0), 0x10000), (GuestAddress(0x100000), 0x10000)])
///     .unwrap();
/// mem.write_obj(1u64, GuestAddress(0x100008)).unwrap();
/// let high = mem.find_region(GuestAddress(0x100000)).unwrap();
/// let shared = high.file_offset().unwrap(); // fd + offset to hand to another process
/// assert_eq!(shared.start(), 0x10000);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MemoryBacking {
    memfd_name: Option<String>,
    huge_pages: HugePages,
    guard_pages: bool,
}

impl MemoryBacking {
    /// Private anonymous memory, ordinary pages, no guard pages.
    pub fn anonymous() -> MemoryBacking {
        MemoryBacking {
            memfd_name: None,
            huge_pages: HugePages::None,
            guard_pages: false,
        }
    }

    /// Shared memory: one sealed memfd named `name` holds every region of a
    /// [`build`](Self::build).
    pub fn memfd(name: &str) -> MemoryBacking {
        MemoryBacking {
            memfd_name: Some(name.to_owned()),
            ..MemoryBacking::anonymous()
        }
    }

    /// Backs memory with hugetlb pages of `page_size` (replaces a THP request). Region sizes must
    /// be multiples of the page size.
    pub fn hugetlb(mut self, page_size: HugePageSize) -> MemoryBacking {
        self.huge_pages = HugePages::Hugetlb(page_size);
        self
    }

    /// Aligns regions to the transparent-huge-page size and asks for THP with `MADV_HUGEPAGE`
    /// (replaces a hugetlb request).
    pub fn transparent_huge_pages(mut self) -> MemoryBacking {
        self.huge_pages = HugePages::Transparent;
        self
    }

    /// Puts an inaccessible (`PROT_NONE`) page before and after each region, so a stray raw
    /// pointer access next to a region faults instead of touching other memory.
    pub fn guard_pages(mut self, enabled: bool) -> MemoryBacking {
        self.guard_pages = enabled;
        self
    }

    /// Guest memory with one region per `(address, size)` range (sorted, not overlapping).
    ///
    /// # Errors
    ///
    /// The first option the host cannot provide, a range that is empty, ends past the guest
    /// address space or does not fit the page size, or an invalid layout.
    pub fn build<B: NewBitmap>(
        &self,
        ranges: &[(GuestAddress, usize)],
    ) -> Result<GuestMemoryMmap<B>, BackingError> {
        self.check_host()?;
        let granule = self.granule();
        let mut total = 0u64;
        for &(addr, size) in ranges {
            self.check_range(addr, size)?;
            total = total
                .checked_add(round_up(size, granule)?)
                .ok_or(BackingError::TooLarge)?;
        }
        let memfd = match &self.memfd_name {
            Some(name) if total > 0 => Some(self.create_memfd(name, total)?),
            _ => None,
        };
        let mut offset = 0u64;
        let mut regions = Vec::with_capacity(ranges.len());
        for &(addr, size) in ranges {
            let file = memfd.as_ref().map(|memfd| memfd.file_offset(offset));
            regions.push(self.map_region(addr, size, file)?);
            offset += round_up(size, granule)?;
        }
        Ok(GuestRegionCollection::from_regions(regions)?)
    }

    /// One region of `size` bytes at `addr` (with memfd backing, in a memfd of its own), for
    /// example to hot-plug it into existing guest memory.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build).
    pub fn build_region<B: NewBitmap>(
        &self,
        addr: GuestAddress,
        size: usize,
    ) -> Result<GuestRegionMmap<B>, BackingError> {
        self.check_host()?;
        self.check_range(addr, size)?;
        let file = match &self.memfd_name {
            Some(name) => {
                let len = round_up(size, self.granule())?;
                Some(self.create_memfd(name, len)?.file_offset(0))
            }
            None => None,
        };
        self.map_region(addr, size, file)
    }

    /// The unit regions are laid out and aligned in: the huge page size, or the base page size.
    fn granule(&self) -> usize {
        match self.huge_pages {
            HugePages::None => page_size(),
            HugePages::Transparent => pmd_size().max(page_size()),
            // A page size that does not fit `usize` is refused by `check_host`.
            HugePages::Hugetlb(page) => usize::try_from(page.bytes()).unwrap_or(usize::MAX),
        }
    }

    /// Fails if the host cannot provide the requested kind of huge pages.
    fn check_host(&self) -> Result<(), BackingError> {
        match self.huge_pages {
            HugePages::None => Ok(()),
            HugePages::Hugetlb(page_size) => {
                let fits = usize::try_from(page_size.bytes()).is_ok();
                if fits && page_size.is_supported() {
                    Ok(())
                } else {
                    Err(BackingError::HugePageSizeUnsupported { page_size })
                }
            }
            HugePages::Transparent => {
                let shared = self.memfd_name.is_some();
                let mode = thp_mode(shared).map_err(BackingError::ThpUnsupported)?;
                if mode.honours_hint() {
                    Ok(())
                } else {
                    Err(BackingError::ThpDisabled {
                        setting: thp_setting(shared),
                        mode,
                    })
                }
            }
        }
    }

    /// Fails for a range that cannot become a region with these options.
    fn check_range(&self, addr: GuestAddress, size: usize) -> Result<(), BackingError> {
        if size == 0 {
            return Err(BackingError::EmptyRegion { addr: addr.0 });
        }
        let fits = u64::try_from(size)
            .ok()
            .and_then(|size| addr.checked_add(size))
            .is_some();
        if !fits {
            return Err(BackingError::InvalidGuestRegion { addr: addr.0, size });
        }
        if let HugePages::Hugetlb(page_size) = self.huge_pages
            && !size.is_multiple_of(self.granule())
        {
            return Err(BackingError::UnalignedSize { size, page_size });
        }
        Ok(())
    }

    fn create_memfd(&self, name: &str, size: u64) -> Result<Memfd, BackingError> {
        Ok(match self.huge_pages {
            HugePages::Hugetlb(page_size) => Memfd::with_huge_pages(name, size, page_size)?,
            HugePages::None | HugePages::Transparent => Memfd::new(name, size)?,
        })
    }

    /// Maps one region (checked by `check_range`), of `file` if given.
    fn map_region<B: NewBitmap>(
        &self,
        addr: GuestAddress,
        size: usize,
        file: Option<FileOffset>,
    ) -> Result<GuestRegionMmap<B>, BackingError> {
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        let hugetlb = match self.huge_pages {
            HugePages::Hugetlb(page_size) => Some(page_size),
            HugePages::None | HugePages::Transparent => None,
        };
        // Hugetlb mappings reserve their pages up front (no MAP_NORESERVE), so a short pool
        // fails here instead of raising SIGBUS on first touch.
        let flags = match (&file, hugetlb) {
            (None, Some(page_size)) => {
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | page_size.mmap_flags()
            }
            (None, None) => libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            (Some(_), Some(_)) => libc::MAP_SHARED,
            (Some(_), None) => libc::MAP_SHARED | libc::MAP_NORESERVE,
        };
        let fd = match &file {
            Some(file_offset) => {
                let offset = libc::off_t::try_from(file_offset.start())
                    .map_err(|_| BackingError::TooLarge)?;
                Some((file_offset.file().as_fd(), offset))
            }
            None => None,
        };
        let guard = if self.guard_pages { page_size() } else { 0 };
        let align = self.granule();
        let placed = if guard == 0 && (hugetlb.is_some() || align == page_size()) {
            // The kernel aligns hugetlb mappings itself; ordinary ones need nothing.
            Mapping::new(size, prot, flags, fd).map(|mapping| {
                let start = mapping.base();
                (mapping, start)
            })
        } else {
            map_placed(size, prot, flags, fd, guard, align)
        };
        let (mapping, start) = placed.map_err(|e| match hugetlb {
            Some(page_size) if e.raw_os_error() == Some(libc::ENOMEM) => {
                BackingError::HugePagesExhausted {
                    page_size,
                    needed: size as u64 / page_size.bytes(),
                    available: page_size.available_pages().unwrap_or(0),
                }
            }
            _ => BackingError::Mmap(e),
        })?;
        if self.huge_pages == HugePages::Transparent {
            // SAFETY: `start..start + size` is the region inside the mapping we just made.
            unsafe { advise_huge_pages(start, size) }.map_err(BackingError::Madvise)?;
        }
        // SAFETY: `mapping` owns `start..start + size` (plus guard pages), which is readable and
        // writable and does not wrap; the region takes ownership of it.
        let region = unsafe {
            MmapRegion::from_parts(
                start,
                size,
                B::with_len(size),
                file,
                prot,
                flags,
                Some(hugetlb.is_some()),
                Some(mapping),
            )
        };
        GuestRegionMmap::new(region, addr)
            .ok_or(BackingError::InvalidGuestRegion { addr: addr.0, size })
    }
}

/// The sysfs file holding the THP policy that applies.
fn thp_setting(shared: bool) -> &'static str {
    if shared {
        "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
    } else {
        "/sys/kernel/mm/transparent_hugepage/enabled"
    }
}

/// `size` rounded up to a multiple of `granule`, as `u64`.
fn round_up(size: usize, granule: usize) -> Result<u64, BackingError> {
    size.checked_next_multiple_of(granule)
        .and_then(|size| u64::try_from(size).ok())
        .ok_or(BackingError::TooLarge)
}
