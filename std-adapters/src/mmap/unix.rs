//! Unix: [`MmapRegion`] over `mmap(2)`, its builder and its error.

mod builder;
mod error;
mod mapping;
#[cfg(all(feature = "xen", target_os = "linux"))]
mod xen;

pub use builder::MmapRegionBuilder;
pub use error::MmapRegionError;
pub(crate) use mapping::Mapping;

use std::io;
use std::os::fd::AsRawFd;

use vm_memory_core::FileOffset;
use vm_memory_core::bitmap::{BS, Bitmap, NewBitmap};
use vm_memory_core::region::DirectMapping;
use vm_memory_core::volatile_memory::{VolatileMemory, VolatileMemoryResult, VolatileSlice};

/// Memory mapped into this process with `mmap(2)`: anonymous, or a range of a file.
///
/// A region owns its mapping and unmaps it on drop, except when it was built over an existing
/// mapping with [`build_raw`](Self::build_raw) (see [`owned`](Self::owned)). It hands out memory
/// only as [`VolatileSlice`]s (through [`VolatileMemory`]) and as the raw pointer
/// [`as_ptr`](Self::as_ptr); writes through slices are recorded in the bitmap `B`.
///
/// With the `xen` feature (Linux) a region can also hold a Xen foreign or grant mapping, made
/// by `from_range` from an `MmapRange`; such regions sit next to ordinary ones in one
/// `GuestMemoryMmap`. A grant region mapped per access (`NO_ADVANCE_MAP`) has no lasting
/// address: [`as_ptr`](Self::as_ptr) is null and its slices map the memory for each access.
///
/// The memory must be readable and writable for slice access: a region created with a weaker
/// `prot` faults (the process gets `SIGSEGV`) when a slice touches it.
///
/// # Invariants
///
/// 1. `addr` is valid for reads and writes of `size` bytes for as long as the region lives:
///    either `owner` covers `addr..addr + size`, or the creator of a non-owned region promised
///    it (see [`build_raw`](Self::build_raw)). A lazily mapped Xen region is the exception:
///    `addr` is null and the memory is reached only through the Xen mapping's hook.
/// 2. `addr.addr() + size` does not overflow.
///
/// ```
/// use vm_memory::mmap::MmapRegion;
/// use vm_memory::{Bytes, VolatileMemory};
///
/// let region = MmapRegion::<()>::new(0x1000).unwrap();
/// let slice = region.get_slice(0x100, 4).unwrap();
/// slice.write_obj(0xdead_beef_u32, 0).unwrap();
/// assert_eq!(region.as_volatile_slice().read_obj::<u32>(0x100).unwrap(), 0xdead_beef);
/// ```
#[derive(Debug)]
pub struct MmapRegion<B = ()> {
    addr: *mut u8,
    size: usize,
    bitmap: B,
    file_offset: Option<FileOffset>,
    prot: i32,
    flags: i32,
    hugetlbfs: Option<bool>,
    /// What this region unmaps on drop.
    owner: Owner,
    /// The Xen data of the `MmapRange` the region came from (0 otherwise).
    #[cfg(all(feature = "xen", target_os = "linux"))]
    xen_data: u32,
}

/// The memory a region unmaps on drop.
#[derive(Debug)]
enum Owner {
    /// Nothing: the memory belongs to someone else (`build_raw`).
    Borrowed,
    /// An `mmap(2)` range (may be larger than the region: guard pages).
    Unix(#[expect(dead_code, reason = "held for its drop, which unmaps the range")] Mapping),
    /// A Xen foreign or grant mapping (`from_range`).
    #[cfg(all(feature = "xen", target_os = "linux"))]
    Xen(vm_memory_xen::XenMapping),
}

// SAFETY: the region's memory is only reached through volatile/atomic accesses and raw pointers
// whose users carry their own obligations; the pointer fields are not tied to a thread. The
// bitmap is the only other shared state, hence the bound.
unsafe impl<B: Send> Send for MmapRegion<B> {}
// SAFETY: as above: `&MmapRegion` only gives out slices (volatile access, valid from any thread)
// and `&B`.
unsafe impl<B: Sync> Sync for MmapRegion<B> {}

/// The mmap flags of [`MmapRegion::new`].
#[cfg(not(miri))]
pub(crate) const ANONYMOUS_FLAGS: i32 =
    libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_PRIVATE;
/// The mmap flags of [`MmapRegion::new`]: Miri only supports private anonymous mappings.
#[cfg(miri)]
pub(crate) const ANONYMOUS_FLAGS: i32 = libc::MAP_ANONYMOUS | libc::MAP_PRIVATE;

/// The mmap flags of [`MmapRegion::from_file`].
const FILE_FLAGS: i32 = libc::MAP_NORESERVE | libc::MAP_SHARED;

impl<B: NewBitmap> MmapRegion<B> {
    /// Maps `size` bytes of private anonymous memory, readable and writable, without reserving
    /// swap (`MAP_NORESERVE`).
    ///
    /// # Errors
    ///
    /// `Mmap(EINVAL)` for `size == 0`, or the `mmap(2)` error.
    pub fn new(size: usize) -> Result<Self, MmapRegionError> {
        Self::build(
            None,
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            ANONYMOUS_FLAGS,
        )
    }

    /// Maps `size` bytes of `file_offset`'s file, starting at its offset, shared and writable.
    ///
    /// # Errors
    ///
    /// `InvalidOffsetLength` if offset plus size overflows, `MappingPastEof` if the range does
    /// not lie inside a regular file, or the `mmap(2)` error.
    pub fn from_file(file_offset: FileOffset, size: usize) -> Result<Self, MmapRegionError> {
        Self::build(
            Some(file_offset),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            FILE_FLAGS,
        )
    }

    /// Maps `size` bytes with the given `prot` and `flags`, of a file if `file_offset` is given.
    ///
    /// # Errors
    ///
    /// As [`MmapRegionBuilder::build`].
    pub fn build(
        file_offset: Option<FileOffset>,
        size: usize,
        prot: i32,
        flags: i32,
    ) -> Result<Self, MmapRegionError> {
        let mut builder = MmapRegionBuilder::new_with_bitmap(size, B::with_len(size))
            .with_mmap_prot(prot)
            .with_mmap_flags(flags);
        if let Some(file_offset) = file_offset {
            builder = builder.with_file_offset(file_offset);
        }
        builder.build()
    }

    /// Wraps an existing mapping that someone else created and will unmap; the region never
    /// unmaps it ([`owned`](Self::owned) is `false`).
    ///
    /// `prot` and `flags` are only recorded; they should describe the existing mapping.
    ///
    /// # Safety
    ///
    /// `addr..addr + size` must be memory valid for reads and writes for the whole life of the
    /// region, and must only be accessed with volatile or atomic operations (or through this
    /// crate) while the region lives.
    ///
    /// # Errors
    ///
    /// `InvalidPointer` if `addr` is not page-aligned.
    pub unsafe fn build_raw(
        addr: *mut u8,
        size: usize,
        prot: i32,
        flags: i32,
    ) -> Result<Self, MmapRegionError> {
        let builder = MmapRegionBuilder::new_with_bitmap(size, B::with_len(size));
        // SAFETY: forwarded caller contract.
        unsafe { builder.with_raw_mmap_pointer(addr) }
            .with_mmap_prot(prot)
            .with_mmap_flags(flags)
            .build()
    }
}

impl<B> MmapRegion<B> {
    /// Assembles a region from its parts.
    ///
    /// # Safety
    ///
    /// The parts must satisfy the type invariants; with `mapping: None` the memory must stay
    /// valid for the region's life by other means.
    #[expect(clippy::too_many_arguments, reason = "one argument per field")]
    pub(crate) unsafe fn from_parts(
        addr: *mut u8,
        size: usize,
        bitmap: B,
        file_offset: Option<FileOffset>,
        prot: i32,
        flags: i32,
        hugetlbfs: Option<bool>,
        mapping: Option<Mapping>,
    ) -> Self {
        MmapRegion {
            addr,
            size,
            bitmap,
            file_offset,
            prot,
            flags,
            hugetlbfs,
            owner: mapping.map_or(Owner::Borrowed, Owner::Unix),
            #[cfg(all(feature = "xen", target_os = "linux"))]
            xen_data: 0,
        }
    }
}

impl<B: Bitmap> MmapRegion<B> {
    /// The first byte of the region. Writes through it are not recorded in the bitmap; it is
    /// meant for handing the region to the kernel (for example `KVM_SET_USER_MEMORY_REGION`).
    ///
    /// Null for a Xen grant region mapped per access, which has no lasting address.
    pub fn as_ptr(&self) -> *mut u8 {
        self.addr
    }

    /// The size of the region in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The file and offset the region maps, if it is file-backed.
    pub fn file_offset(&self) -> Option<&FileOffset> {
        self.file_offset.as_ref()
    }

    /// The `prot` argument the region was mapped with.
    pub fn prot(&self) -> i32 {
        self.prot
    }

    /// The `flags` argument the region was mapped with (without `MAP_FIXED`, which this crate
    /// only uses internally to place a region between guard pages).
    pub fn flags(&self) -> i32 {
        self.flags
    }

    /// Whether the region unmaps its memory on drop (`false` for [`build_raw`](Self::build_raw)).
    pub fn owned(&self) -> bool {
        !matches!(self.owner, Owner::Borrowed)
    }

    /// Whether both regions map overlapping ranges of the same file descriptor.
    ///
    /// Only a sanity check: two different descriptors can refer to the same file.
    pub fn fds_overlap<T: Bitmap>(&self, other: &MmapRegion<T>) -> bool {
        let (Some(a), Some(b)) = (self.file_offset(), other.file_offset()) else {
            return false;
        };
        if a.file().as_raw_fd() != b.file().as_raw_fd() {
            return false;
        }
        let end = |start: u64, len: usize| start.saturating_add(len as u64);
        a.start() < end(b.start(), other.size) && b.start() < end(a.start(), self.size)
    }

    /// Records whether the region is backed by hugetlbfs (the caller knows; the crate does not
    /// check files).
    pub fn set_hugetlbfs(&mut self, hugetlbfs: bool) {
        self.hugetlbfs = Some(hugetlbfs);
    }

    /// Whether the region is backed by hugetlbfs: `None` when unknown.
    pub fn is_hugetlbfs(&self) -> Option<bool> {
        self.hugetlbfs
    }

    /// The region's whole bitmap.
    pub fn bitmap(&self) -> &B {
        &self.bitmap
    }

    /// The region's memory as one lasting host mapping; `None` for a lazily mapped Xen region.
    pub(crate) fn direct_mapping(&self) -> Option<DirectMapping<'_>> {
        #[cfg(all(feature = "xen", target_os = "linux"))]
        if let Owner::Xen(xen) = &self.owner
            && xen.lazy_mapping().is_some()
        {
            return None;
        }
        // A mapping of more than `isize::MAX` bytes (possible on 32-bit hosts) takes the
        // `get_slice` path instead.
        if isize::try_from(self.size).is_err() {
            return None;
        }
        // SAFETY: invariant 1: `addr` is valid for `size` bytes for as long as the region lives
        // (the lazily mapped exception was handled above), it is only reached through volatile
        // accesses, `size` is at most `isize::MAX` (checked above), and `get_slice` accesses
        // exactly `addr + offset`.
        Some(unsafe { DirectMapping::new(self.addr, self.size) })
    }
}

impl<B: Bitmap> VolatileMemory for MmapRegion<B> {
    type B = B;

    fn len(&self) -> usize {
        self.size
    }

    fn get_slice(
        &self,
        offset: usize,
        count: usize,
    ) -> VolatileMemoryResult<VolatileSlice<'_, BS<'_, B>>> {
        self.compute_end_offset(offset, count)?;
        #[cfg(all(feature = "xen", target_os = "linux"))]
        if let Owner::Xen(xen) = &self.owner {
            // The Xen mapping attaches its hook when the region is mapped per access.
            return xen.get_slice_with_bitmap(offset, count, self.bitmap.slice_at(offset));
        }
        // SAFETY: `offset + count <= size`, so the slice lies inside the region's memory, which
        // is valid for the borrow of `self` (invariant 1) and does not wrap (invariant 2); the
        // bitmap slice starts at the slice's first byte.
        Ok(unsafe {
            VolatileSlice::with_bitmap(
                self.addr.wrapping_add(offset),
                count,
                self.bitmap.slice_at(offset),
                None,
            )
        })
    }
}

/// The size of a page of this host.
pub(crate) fn page_size() -> usize {
    // SAFETY: `sysconf` only reads a configuration value.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// `EINVAL`, as the kernel reports it for impossible mapping requests.
pub(crate) fn einval() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}
