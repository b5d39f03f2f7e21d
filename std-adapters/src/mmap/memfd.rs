//! `Memfd`: sealed anonymous shared memory with a file descriptor other processes can map.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd};
use std::sync::Arc;

use vm_memory_core::FileOffset;

use super::hugetlb::HugePageSize;

/// The seals every [`Memfd`] carries: its size can never change again.
const SEALS: i32 = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;

/// Why a [`Memfd`] could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MemfdError {
    /// The name contains a NUL byte.
    #[error("the memfd name contains a NUL byte")]
    InvalidName,
    /// The size is zero.
    #[error("a memfd for guest memory cannot be empty")]
    EmptySize,
    /// The host does not support hugetlb pages of this size.
    #[error("this host does not support {page_size} hugetlb pages")]
    HugePageSizeUnsupported {
        /// The requested page size.
        page_size: HugePageSize,
    },
    /// The size is not a multiple of the hugetlb page size.
    #[error("size {size:#x} is not a multiple of the {page_size} hugetlb page size")]
    UnalignedSize {
        /// The requested size.
        size: u64,
        /// The hugetlb page size.
        page_size: HugePageSize,
    },
    /// `memfd_create(2)` failed.
    #[error("memfd_create failed")]
    Create(#[source] io::Error),
    /// The memfd could not be sized.
    #[error("cannot set the memfd size to {size:#x} bytes")]
    Resize {
        /// The requested size.
        size: u64,
        /// The `ftruncate(2)` error.
        #[source]
        source: io::Error,
    },
    /// The memfd could not be sealed.
    #[error("cannot seal the memfd")]
    Seal(#[source] io::Error),
}

/// Anonymous shared memory with a file descriptor (`memfd_create(2)`), sized once and sealed.
///
/// The descriptor and offsets into it can be handed to another process (a vhost-user backend,
/// a sandboxed device), which maps the same memory. The memfd is sealed against shrinking and
/// growing (`F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL`): no process holding the descriptor can
/// truncate it under somebody's mapping, which would turn accesses into `SIGBUS`. Where the
/// kernel supports it (Linux 6.3+) it is also sealed against ever being executable.
///
/// The descriptor is close-on-exec; pass it explicitly (for example with `SCM_RIGHTS`).
///
/// ```
/// # #[cfg(miri)] fn main() {} // Miri cannot call memfd_create.
/// # #[cfg(not(miri))] fn main() {
/// use vm_memory::mmap::{Memfd, MmapRegion};
/// use vm_memory::{Bytes, VolatileMemory};
///
/// let memfd = Memfd::new("guest-ram", 0x2000).unwrap();
/// let a = MmapRegion::<()>::from_file(memfd.file_offset(0x1000), 0x1000).unwrap();
/// let b = MmapRegion::<()>::from_file(memfd.file_offset(0), 0x2000).unwrap();
/// a.as_volatile_slice().write_obj(42u32, 0).unwrap();
/// assert_eq!(b.as_volatile_slice().read_obj::<u32>(0x1000).unwrap(), 42); // same memory
/// assert!(memfd.file().set_len(0).is_err()); // sealed
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Memfd {
    file: Arc<File>,
    size: u64,
    huge_page_size: Option<HugePageSize>,
}

impl Memfd {
    /// A memfd of `size` bytes of ordinary (shmem) pages, named `name` in `/proc/<pid>/fd`.
    ///
    /// # Errors
    ///
    /// `InvalidName`, `EmptySize`, or the failing system call.
    pub fn new(name: &str, size: u64) -> Result<Memfd, MemfdError> {
        Self::create(name, size, None)
    }

    /// A memfd of `size` bytes of hugetlb pages of `page_size`.
    ///
    /// Pages are taken from the host's pool when the memfd is mapped (without `MAP_NORESERVE`),
    /// so a short pool makes the mapping fail instead of a later access.
    ///
    /// # Errors
    ///
    /// `HugePageSizeUnsupported` if the host has no such pages, `UnalignedSize` if `size` is not
    /// a multiple of the page size, or as [`new`](Self::new).
    pub fn with_huge_pages(
        name: &str,
        size: u64,
        page_size: HugePageSize,
    ) -> Result<Memfd, MemfdError> {
        Self::create(name, size, Some(page_size))
    }

    fn create(
        name: &str,
        size: u64,
        huge_page_size: Option<HugePageSize>,
    ) -> Result<Memfd, MemfdError> {
        let name = CString::new(name).map_err(|_| MemfdError::InvalidName)?;
        if size == 0 {
            return Err(MemfdError::EmptySize);
        }
        let mut flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
        if let Some(page_size) = huge_page_size {
            if !page_size.is_supported() {
                return Err(MemfdError::HugePageSizeUnsupported { page_size });
            }
            if !size.is_multiple_of(page_size.bytes()) {
                return Err(MemfdError::UnalignedSize { size, page_size });
            }
            flags |= page_size.memfd_flags();
        }
        // Prefer a memfd that can never become executable; kernels before 6.3 refuse the flag.
        let file = memfd_create(&name, flags | libc::MFD_NOEXEC_SEAL)
            .or_else(|e| match e.raw_os_error() {
                Some(libc::EINVAL) => memfd_create(&name, flags),
                _ => Err(e),
            })
            .map_err(MemfdError::Create)?;
        file.set_len(size)
            .map_err(|source| MemfdError::Resize { size, source })?;
        // SAFETY: `fcntl(F_ADD_SEALS)` only changes the seals of a descriptor we own.
        let ret = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, SEALS) };
        if ret != 0 {
            return Err(MemfdError::Seal(io::Error::last_os_error()));
        }
        Ok(Memfd {
            file: Arc::new(file),
            size,
            huge_page_size,
        })
    }

    /// The size in bytes (fixed by the seals).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The hugetlb page size, or `None` for ordinary pages.
    pub fn huge_page_size(&self) -> Option<HugePageSize> {
        self.huge_page_size
    }

    /// The memfd as a file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The shared file, as [`FileOffset`] holds it.
    pub fn arc(&self) -> &Arc<File> {
        &self.file
    }

    /// A [`FileOffset`] at `start` sharing this memfd, for [`MmapRegion::from_file`] and
    /// `GuestMemoryMmap::from_ranges_with_files`.
    ///
    /// [`MmapRegion::from_file`]: super::MmapRegion::from_file
    pub fn file_offset(&self, start: u64) -> FileOffset {
        FileOffset::from_arc(Arc::clone(&self.file), start)
    }

    /// The seals in force (`F_SEAL_*` bits).
    ///
    /// # Errors
    ///
    /// The `fcntl(2)` error.
    pub fn seals(&self) -> io::Result<i32> {
        // SAFETY: `fcntl(F_GET_SEALS)` only reads the seals of a descriptor we own.
        let ret = unsafe { libc::fcntl(self.file.as_raw_fd(), libc::F_GET_SEALS) };
        if ret < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(ret)
        }
    }
}

impl AsFd for Memfd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

/// `memfd_create(2)`.
fn memfd_create(name: &CString, flags: libc::c_uint) -> io::Result<File> {
    // SAFETY: `name` is a valid NUL-terminated string for the call.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
    Ok(unsafe { File::from_raw_fd(fd) })
}
