//! Windows: [`MmapRegion`] over `VirtualAlloc` (anonymous) or a view of a file mapping.

use std::io;
use std::os::windows::io::AsRawHandle;
use std::ptr;

use vm_memory_core::FileOffset;
use vm_memory_core::bitmap::{BS, Bitmap, NewBitmap};
use vm_memory_core::region::DirectMapping;
use vm_memory_core::volatile_memory::{VolatileMemory, VolatileMemoryResult, VolatileSlice};
use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::System::Memory::{
    CreateFileMappingW, FILE_MAP_READ, FILE_MAP_WRITE, MEM_COMMIT, MEM_RELEASE, MEM_RESERVE,
    MEMORY_MAPPED_VIEW_ADDRESS, MapViewOfFile, PAGE_READWRITE, UnmapViewOfFile, VirtualAlloc,
    VirtualFree,
};
use windows_sys::Win32::System::SystemInformation::{GetSystemInfo, SYSTEM_INFO};

/// How the memory was obtained, which decides how it is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `VirtualAlloc`; released with `VirtualFree(MEM_RELEASE)`.
    Allocated,
    /// `MapViewOfFile`; released with `UnmapViewOfFile`.
    FileView,
}

/// Memory mapped into this process: committed anonymous memory, or a view of a file.
///
/// # Invariants
///
/// `addr` is valid for reads and writes of `size` bytes until drop, was obtained as `kind`
/// says, and `addr.addr() + size` does not overflow.
#[derive(Debug)]
pub struct MmapRegion<B = ()> {
    addr: *mut u8,
    size: usize,
    bitmap: B,
    file_offset: Option<FileOffset>,
    kind: Kind,
}

// SAFETY: the memory is only reached through volatile/atomic accesses and raw pointers whose
// users carry their own obligations; the pointer is not tied to a thread.
unsafe impl<B: Send> Send for MmapRegion<B> {}
// SAFETY: as above; `&MmapRegion` only hands out slices and `&B`.
unsafe impl<B: Sync> Sync for MmapRegion<B> {}

fn os_error(code: u32) -> io::Error {
    // Win32 error codes are small positive numbers, so the cast keeps the value.
    io::Error::from_raw_os_error(code as i32)
}

impl<B: NewBitmap> MmapRegion<B> {
    /// Commits `size` bytes of zeroed, readable and writable memory.
    ///
    /// # Errors
    ///
    /// `ERROR_INVALID_PARAMETER` for size 0 or a size beyond the user address space, or the
    /// `VirtualAlloc` error.
    pub fn new(size: usize) -> io::Result<Self> {
        if size == 0 || size > highest_user_address() {
            return Err(os_error(ERROR_INVALID_PARAMETER));
        }
        // SAFETY: a null address lets the system choose a free range; nothing existing changes.
        let addr =
            unsafe { VirtualAlloc(ptr::null(), size, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE) };
        if addr.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(MmapRegion {
            addr: addr.cast(),
            size,
            bitmap: B::with_len(size),
            file_offset: None,
            kind: Kind::Allocated,
        })
    }

    /// Maps `size` bytes of the file at its offset, readable and writable and shared with every
    /// other view of the file. As on Windows in general, the file grows if it is shorter than
    /// offset plus size; the offset must be a multiple of the allocation granularity (64 KiB).
    ///
    /// # Errors
    ///
    /// `ERROR_INVALID_HANDLE` for an invalid file handle, `ERROR_INVALID_PARAMETER` for size 0 or
    /// an offset plus size that overflows, or the `CreateFileMappingW`/`MapViewOfFile` error.
    pub fn from_file(file_offset: FileOffset, size: usize) -> io::Result<Self> {
        let handle: HANDLE = file_offset.file().as_raw_handle();
        if handle == INVALID_HANDLE_VALUE || handle.is_null() {
            return Err(os_error(ERROR_INVALID_HANDLE));
        }
        let start = file_offset.start();
        let end = u64::try_from(size)
            .ok()
            .and_then(|size| start.checked_add(size))
            .filter(|_| size > 0)
            .ok_or_else(|| os_error(ERROR_INVALID_PARAMETER))?;
        // SAFETY: `handle` is the live handle of the file `file_offset` keeps open; a null
        // security descriptor and name create an unnamed mapping object.
        let mapping = unsafe {
            CreateFileMappingW(
                handle,
                ptr::null(),
                PAGE_READWRITE,
                (end >> 32) as u32,
                end as u32,
                ptr::null(),
            )
        };
        if mapping.is_null() {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `mapping` is the mapping object just created; the system picks the address.
        let view = unsafe {
            MapViewOfFile(
                mapping,
                FILE_MAP_READ | FILE_MAP_WRITE,
                (start >> 32) as u32,
                start as u32,
                size,
            )
        };
        let view_error = view.Value.is_null().then(io::Error::last_os_error);
        // The view keeps the mapping object alive; our handle to it is no longer needed.
        // SAFETY: `mapping` is a handle we own and do not use again.
        unsafe { CloseHandle(mapping) };
        if let Some(error) = view_error {
            return Err(error);
        }
        Ok(MmapRegion {
            addr: view.Value.cast(),
            size,
            bitmap: B::with_len(size),
            file_offset: Some(file_offset),
            kind: Kind::FileView,
        })
    }
}

impl<B: Bitmap> MmapRegion<B> {
    /// The first byte of the region. Writes through it are not recorded in the bitmap.
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

    /// The region's whole bitmap.
    pub fn bitmap(&self) -> &B {
        &self.bitmap
    }
}

impl<B> MmapRegion<B> {
    /// The region's memory as one lasting host mapping.
    pub(crate) fn direct_mapping(&self) -> Option<DirectMapping<'_>> {
        // A view of more than `isize::MAX` bytes (possible for 32-bit large-address-aware
        // programs) takes the `get_slice` path instead.
        if isize::try_from(self.size).is_err() {
            return None;
        }
        // SAFETY: the type invariant keeps `addr` valid for `size` bytes for as long as the
        // region lives; it is only reached through volatile accesses, `size` is at most
        // `isize::MAX` (checked above), and `get_slice` accesses exactly `addr + offset`.
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
        // SAFETY: `offset + count <= size`, so the slice lies inside the region's memory, valid
        // for the borrow of `self` (type invariant); the bitmap slice starts at its first byte.
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

impl<B> Drop for MmapRegion<B> {
    fn drop(&mut self) {
        // Failures cannot be reported from a destructor and would mean the invariant was broken.
        match self.kind {
            Kind::Allocated => {
                // SAFETY: `addr` came from `VirtualAlloc` (invariant) and is not used again.
                unsafe { VirtualFree(self.addr.cast(), 0, MEM_RELEASE) };
            }
            Kind::FileView => {
                let view = MEMORY_MAPPED_VIEW_ADDRESS {
                    Value: self.addr.cast(),
                };
                // SAFETY: `addr` came from `MapViewOfFile` (invariant) and is not used again.
                unsafe { UnmapViewOfFile(view) };
            }
        }
    }
}

/// The highest address user code can map.
fn highest_user_address() -> usize {
    // SAFETY: `SYSTEM_INFO` is plain data for which all-zero bytes are a valid value.
    let mut info: SYSTEM_INFO = unsafe { std::mem::zeroed() };
    // SAFETY: `GetSystemInfo` only writes the structure we pass.
    unsafe { GetSystemInfo(&mut info) };
    info.lpMaximumApplicationAddress.addr()
}
