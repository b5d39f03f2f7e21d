//! `ReadVolatile`/`WriteVolatile` for file descriptors: one `read(2)`/`write(2)` per call on the
//! guarded pointer.

use std::fs::File;
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

use crate::bitmap::BitmapSlice;
use crate::volatile::{VolatileMemoryError, VolatileSlice};

use super::{ReadVolatile, WriteVolatile};

/// One `read(2)` into `buf`.
///
/// Dirty marking: the bytes read on success; the **whole** buffer on failure, because the
/// kernel may have written part of it before failing.
fn read_fd<B: BitmapSlice>(
    fd: BorrowedFd<'_>,
    buf: &mut VolatileSlice<'_, B>,
) -> Result<usize, VolatileMemoryError> {
    let guard = buf.try_ptr_guard_mut()?;
    // SAFETY: the guard is valid for writes of `buf.len()` bytes while it lives, which covers
    // the call; `fd` is a live descriptor for the borrow.
    let ret = unsafe { libc::read(fd.as_raw_fd(), guard.as_ptr().cast(), buf.len()) };
    // Take errno before the guard's drop can run other system calls.
    let result = usize::try_from(ret).map_err(|_| std::io::Error::last_os_error());
    drop(guard);
    match result {
        Ok(n) => {
            buf.bitmap().mark_dirty(0, n);
            Ok(n)
        }
        Err(err) => {
            buf.bitmap().mark_dirty(0, buf.len());
            Err(VolatileMemoryError::IOError(err))
        }
    }
}

/// One `write(2)` from `buf`.
fn write_fd<B: BitmapSlice>(
    fd: BorrowedFd<'_>,
    buf: &VolatileSlice<'_, B>,
) -> Result<usize, VolatileMemoryError> {
    let guard = buf.try_ptr_guard()?;
    // SAFETY: the guard is valid for reads of `buf.len()` bytes while it lives, which covers the
    // call; `fd` is a live descriptor for the borrow.
    let ret = unsafe { libc::write(fd.as_raw_fd(), guard.as_ptr().cast(), buf.len()) };
    // Take errno before the guard's drop can run other system calls.
    let result = usize::try_from(ret).map_err(|_| std::io::Error::last_os_error());
    drop(guard);
    result.map_err(VolatileMemoryError::IOError)
}

macro_rules! fd_endpoint {
    ($($T:ty),*) => {
        $(
            impl ReadVolatile for $T {
                fn read_volatile<B: BitmapSlice>(
                    &mut self,
                    buf: &mut VolatileSlice<'_, B>,
                ) -> Result<usize, VolatileMemoryError> {
                    read_fd(self.as_fd(), buf)
                }
            }

            impl WriteVolatile for $T {
                fn write_volatile<B: BitmapSlice>(
                    &mut self,
                    buf: &VolatileSlice<'_, B>,
                ) -> Result<usize, VolatileMemoryError> {
                    write_fd(self.as_fd(), buf)
                }
            }
        )*
    };
}

fd_endpoint!(
    File,
    &File,
    &mut File,
    TcpStream,
    &TcpStream,
    &mut TcpStream,
    UnixStream,
    &UnixStream,
    &mut UnixStream,
    OwnedFd,
    &OwnedFd,
    &mut OwnedFd,
    BorrowedFd<'_>,
    &BorrowedFd<'_>,
    &mut BorrowedFd<'_>
);
