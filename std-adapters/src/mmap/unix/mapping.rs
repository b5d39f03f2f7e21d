//! `Mapping`: one range of the address space obtained from `mmap(2)`, unmapped on drop.
//!
//! This is the only owner of memory that regions unmap. Keeping it a small RAII type means that
//! every error path between "mapped" and "handed to a region" releases the memory.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr;

/// A range of the address space this process mapped and owns.
///
/// # Invariants
///
/// `base..base + len` was returned by (or carved out of) one successful `mmap(2)` call, is not
/// owned by any other `Mapping`, and stays mapped until this value drops.
#[derive(Debug)]
pub(crate) struct Mapping {
    base: *mut u8,
    len: usize,
}

impl Mapping {
    /// Maps `len` bytes anywhere in the address space (`flags` must not contain `MAP_FIXED`).
    ///
    /// # Errors
    ///
    /// The `mmap(2)` error.
    pub(crate) fn new(
        len: usize,
        prot: i32,
        flags: i32,
        file: Option<(BorrowedFd<'_>, libc::off_t)>,
    ) -> io::Result<Self> {
        debug_assert_eq!(
            flags & libc::MAP_FIXED,
            0,
            "MAP_FIXED must go through map_fixed"
        );
        let (fd, offset) = file.map_or((-1, 0), |(fd, offset)| (fd.as_raw_fd(), offset));
        // SAFETY: without MAP_FIXED the kernel picks an unused range, so no existing memory is
        // affected; `fd` is a live descriptor for the call (or -1 for anonymous memory).
        let base = unsafe { libc::mmap(ptr::null_mut(), len, prot, flags, fd, offset) };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // Invariant: the range was just returned by `mmap` and nobody else owns it.
        Ok(Mapping {
            base: base.cast(),
            len,
        })
    }

    /// Replaces `len` bytes at `offset` inside this mapping with a new mapping (`MAP_FIXED`),
    /// and returns the mapping (which owns the new range with the rest) and the range's start.
    ///
    /// If `mmap(2)` fails, the kernel may already have unmapped the old pages of the range, and
    /// another thread may map something there before we could unmap it: so on failure only the
    /// parts before and after the range are unmapped, and the range is left alone (at worst an
    /// inaccessible reservation of address space stays behind).
    ///
    /// # Safety
    ///
    /// No pointer into `offset..offset + len` of this mapping may be used afterwards to access the
    /// old contents (in practice: call this only on a fresh `PROT_NONE` reservation).
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the range is not inside the mapping (then all of it is unmapped), or
    /// the `mmap(2)` error.
    pub(crate) unsafe fn map_fixed(
        self,
        offset: usize,
        len: usize,
        prot: i32,
        flags: i32,
        file: Option<(BorrowedFd<'_>, libc::off_t)>,
    ) -> io::Result<(Self, *mut u8)> {
        let inside = offset
            .checked_add(len)
            .is_some_and(|end| end <= self.len && len > 0);
        if !inside {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let (fd, file_offset) = file.map_or((-1, 0), |(fd, offset)| (fd.as_raw_fd(), offset));
        let target = self.base.wrapping_add(offset);
        // SAFETY: `target..target + len` lies inside a range we own (checked above, type
        // invariant), so MAP_FIXED replaces only our own pages, whose old contents the caller no
        // longer uses; `fd` is live for the call.
        let addr = unsafe {
            libc::mmap(
                target.cast(),
                len,
                prot,
                flags | libc::MAP_FIXED,
                fd,
                file_offset,
            )
        };
        if addr == libc::MAP_FAILED {
            let error = io::Error::last_os_error();
            let (base, total, end) = (self.base, self.len, offset + len);
            // From here on the range may not be ours any more: give up ownership of all of it and
            // release the parts that still are.
            std::mem::forget(self);
            if offset > 0 {
                // SAFETY: `base..base + offset` is the untouched start of our own mapping.
                let _ = unsafe { unmap(base, offset) };
            }
            if total > end {
                // SAFETY: `base + end..base + total` is the untouched end of our own mapping.
                let _ = unsafe { unmap(base.wrapping_add(end), total - end) };
            }
            return Err(error);
        }
        Ok((self, addr.cast()))
    }

    /// Keeps only `offset..offset + len` of the mapping and unmaps the rest.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the range is not inside the mapping, or the `munmap(2)` error; then the
    /// kept range is released too (a tail that failed to unmap stays mapped).
    pub(crate) fn trim(self, offset: usize, len: usize) -> io::Result<Self> {
        let end = offset
            .checked_add(len)
            .filter(|&end| end <= self.len && len > 0)
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        let head = offset;
        let tail = self.len - end;
        if head > 0 {
            // SAFETY: `base..base + head` is part of our own mapping and nothing uses it.
            unsafe { unmap(self.base, head) }?;
        }
        let kept = Mapping {
            base: self.base.wrapping_add(offset),
            len,
        };
        // `self` no longer owns anything: the head is gone and the rest passes to `kept`.
        std::mem::forget(self);
        if tail > 0 {
            // SAFETY: `kept.base + len .. + tail` is the end of our own mapping and nothing uses
            // it; `kept` covers everything before it.
            unsafe { unmap(kept.base.wrapping_add(len), tail) }?;
        }
        Ok(kept)
    }

    /// The first byte of the mapping.
    pub(crate) fn base(&self) -> *mut u8 {
        self.base
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the range is ours (type invariant) and this is its last use. A failure would
        // mean it was not a mapping, which the invariant excludes; a destructor cannot report it.
        let _ = unsafe { unmap(self.base, self.len) };
    }
}

/// `munmap(2)`.
///
/// # Safety
///
/// `base..base + len` must be part of a mapping the caller owns, and no pointer into it may be
/// used afterwards.
unsafe fn unmap(base: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: caller contract: the range is ours and unused, so unmapping it affects nobody else.
    if unsafe { libc::munmap(base.cast(), len) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
