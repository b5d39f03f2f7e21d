//! Pointer guards and the hook through which lazily mapped memory is mapped per access.
//!
//! Most memory is mapped for as long as its region lives, and a [`VolatileSlice`] over it carries
//! a real host pointer. Some backends (Xen grant mappings without advance mapping) can only map a
//! range for the duration of one access. Their slices carry a [`LazyMapping`] hook instead, and
//! the pointer field of such a slice holds the *offset* of the slice inside the lazily mapped
//! object. Every access goes through a guard: [`PtrGuard`]/[`PtrGuardMut`] ask the hook to map
//! the range, hand out the real pointer, and unmap it when dropped. For ordinary memory the guard
//! is the pointer itself and costs one never-taken branch.
//!
//! [`VolatileSlice`]: super::VolatileSlice

use core::fmt;

use super::error::{VolatileMemoryError, VolatileMemoryResult};

/// Why a [`LazyMapping`] could not map a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapError {
    /// The operating system's error number, or 0 when there is none.
    pub errno: i32,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mapping failed (errno {})", self.errno)
    }
}

impl core::error::Error for MapError {}

/// A range mapped by a [`LazyMapping`] for the life of a guard.
#[derive(Debug)]
pub struct MappedWindow {
    /// Host pointer to the first byte of the requested range.
    pub ptr: *mut u8,
    /// Backend-defined value handed back to [`LazyMapping::unmap`].
    pub token: usize,
}

/// A backend that maps ranges of its memory only for the duration of an access.
///
/// # Safety
///
/// An implementation must guarantee that a successful `map(offset, len, write)` returns a
/// pointer valid for reads (and, if `write`, writes) of `len` bytes, holding the contents of the
/// object at `offset..offset + len`, until `unmap` is called with the returned window; that for
/// `len > 0` the pointer has the alignment of `offset` up to 8 (`ptr % 8 == offset % 8`, as any
/// mapping at page granularity gives), because atomic accesses check alignment on the offset;
/// and that
/// `unmap` makes no other window invalid.
pub unsafe trait LazyMapping: fmt::Debug {
    /// Maps `len` bytes at `offset` of the object, for reading or for writing.
    ///
    /// # Errors
    ///
    /// When the backend cannot map the range.
    fn map(&self, offset: usize, len: usize, write: bool) -> Result<MappedWindow, MapError>;

    /// Unmaps a window returned by [`LazyMapping::map`] for `len` bytes.
    ///
    /// # Safety
    ///
    /// `window` must come from `self.map(_, len, _)` and must not have been unmapped before; no
    /// pointer derived from it may be used afterwards.
    unsafe fn unmap(&self, window: &MappedWindow, len: usize);
}

/// Runs `access` on the host address of the `len` bytes at `ptr`: directly for ordinary memory
/// (`lazy` is `None`), inside a window mapped for the call otherwise.
///
/// The copy paths use this rather than a [`PtrGuard`]: the branch comes before any guard exists,
/// so ordinary memory carries no guard state. A guard built on both paths lives in memory across
/// an opaque copy, and its drop check then reloads the `Option` that was just stored in two
/// halves, a failed store-to-load forward costing about 4 ns per copy.
#[inline(always)]
pub(crate) fn with_host_ptr<R>(
    lazy: Option<&dyn LazyMapping>,
    ptr: *mut u8,
    len: usize,
    write: bool,
    access: impl FnOnce(*mut u8) -> R,
) -> VolatileMemoryResult<R> {
    match lazy {
        None => Ok(access(ptr)),
        Some(hook) => {
            let guard = PtrGuard::map(hook, ptr, len, write)?;
            Ok(access(guard.ptr))
        }
    }
}

/// The mapping a guard has to undo on drop.
struct Unmap<'a> {
    hook: &'a dyn LazyMapping,
    window: MappedWindow,
}

/// A read-only pointer to memory that stays valid while the guard lives.
///
/// For ordinary memory this is just the pointer. For lazily mapped memory the range is mapped
/// when the guard is made and unmapped when it drops.
pub struct PtrGuard<'a> {
    ptr: *mut u8,
    len: usize,
    unmap: Option<Unmap<'a>>,
}

impl<'a> PtrGuard<'a> {
    /// Builds a guard over `ptr..ptr + len`, mapping through `lazy` when present.
    ///
    /// # Errors
    ///
    /// `MappingFailed` when the hook cannot map the range.
    #[inline(always)]
    pub(crate) fn new(
        lazy: Option<&'a dyn LazyMapping>,
        ptr: *mut u8,
        len: usize,
        write: bool,
    ) -> VolatileMemoryResult<Self> {
        match lazy {
            None => Ok(PtrGuard {
                ptr,
                len,
                unmap: None,
            }),
            Some(hook) => Self::map(hook, ptr, len, write),
        }
    }

    #[cold]
    fn map(
        hook: &'a dyn LazyMapping,
        pseudo: *mut u8,
        len: usize,
        write: bool,
    ) -> VolatileMemoryResult<Self> {
        let offset = pseudo.addr();
        let window =
            hook.map(offset, len, write)
                .map_err(|e| VolatileMemoryError::MappingFailed {
                    offset,
                    len,
                    errno: e.errno,
                })?;
        debug_assert!(
            len == 0 || window.ptr.addr() % 8 == offset % 8,
            "LazyMapping::map must keep the alignment of the offset"
        );
        Ok(PtrGuard {
            ptr: window.ptr,
            len,
            unmap: Some(Unmap { hook, window }),
        })
    }

    /// The host pointer; valid for reads of [`len`](Self::len) bytes while the guard lives.
    #[inline(always)]
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr
    }

    /// The number of bytes the guard covers.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }
}

impl Drop for PtrGuard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(unmap) = &self.unmap {
            // SAFETY: the window came from `unmap.hook.map(_, self.len, _)` in `PtrGuard::map`
            // and is unmapped exactly once, here; pointers handed out by the guard cannot be used
            // past its life by safe code.
            unsafe { unmap.hook.unmap(&unmap.window, self.len) };
        }
    }
}

impl fmt::Debug for PtrGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PtrGuard")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .field("lazily_mapped", &self.unmap.is_some())
            .finish()
    }
}

/// A writable pointer to memory that stays valid while the guard lives.
///
/// Writes through [`as_ptr`](Self::as_ptr) are **not** recorded in any dirty bitmap: mark them
/// with the slice's `bitmap().mark_dirty(..)`.
#[derive(Debug)]
pub struct PtrGuardMut<'a>(PtrGuard<'a>);

impl<'a> PtrGuardMut<'a> {
    #[inline(always)]
    pub(crate) fn new(
        lazy: Option<&'a dyn LazyMapping>,
        ptr: *mut u8,
        len: usize,
    ) -> VolatileMemoryResult<Self> {
        PtrGuard::new(lazy, ptr, len, true).map(PtrGuardMut)
    }

    /// The host pointer; valid for reads and writes of [`len`](Self::len) bytes while the guard
    /// lives.
    #[inline(always)]
    pub fn as_ptr(&self) -> *mut u8 {
        self.0.ptr
    }

    /// The number of bytes the guard covers.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.0.len
    }
}
