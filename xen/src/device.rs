//! `XenDevice`: the system calls a Xen mapping makes, behind a trait so that tests can record and
//! check them, and `SystemDevice`, the real one.

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::Arc;

use libc::{c_int, c_ulong, c_void};

use crate::sys;

/// The memory-mapping system calls of the Xen devices: `mmap(2)`, `munmap(2)` and `ioctl(2)`.
///
/// Production code uses [`SystemDevice`]. Tests pass a fake (see the `test-utils` feature) to
/// [`XenMapping::with_device`](crate::XenMapping::with_device) and run the same code.
///
/// # Safety
///
/// Callers rely on an implementation behaving like Linux with the Xen drivers:
///
/// - a successful [`mmap`](Self::mmap) returns `len` bytes of memory that nothing else in the
///   process uses, mapped with at least `prot` until [`munmap`](Self::munmap) is called on them,
///   and changes no other memory;
/// - a successful `IOCTL_PRIVCMD_MMAPBATCH_V2` leaves the privcmd mapping it names mapped (each
///   frame whose error slot is 0 holds the frame's contents) and writes only the error array;
/// - a successful `IOCTL_GNTDEV_MAP_GRANT_REF` writes only the `index` field, and a later `mmap`
///   of the gntdev file at that offset maps the grants;
/// - no call touches memory other than what its arguments describe.
pub unsafe trait XenDevice: fmt::Debug + Send + Sync {
    /// `mmap(2)` of `len` bytes at an address of the kernel's choice (`flags` never contains
    /// `MAP_FIXED`), of `fd` at `offset`, or anonymous memory when `fd` is `None`.
    ///
    /// # Errors
    ///
    /// The system error.
    fn mmap(
        &self,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: Option<BorrowedFd<'_>>,
        offset: u64,
    ) -> io::Result<NonNull<u8>>;

    /// `munmap(2)` of a range returned by [`mmap`](Self::mmap).
    ///
    /// # Safety
    ///
    /// `addr..addr + len` must be a whole mapping returned by this device's `mmap` and not yet
    /// unmapped; no pointer into it may be used afterwards.
    ///
    /// # Errors
    ///
    /// The system error.
    unsafe fn munmap(&self, addr: NonNull<u8>, len: usize) -> io::Result<()>;

    /// `ioctl(2)` with a pointer argument.
    ///
    /// # Safety
    ///
    /// `arg` must point to the structure `request` expects (see [`sys`](crate::sys)), valid for
    /// reads and writes of its whole size for the duration of the call, and every buffer it
    /// points to must be valid likewise.
    ///
    /// # Errors
    ///
    /// The system error.
    unsafe fn ioctl(
        &self,
        fd: BorrowedFd<'_>,
        request: c_ulong,
        arg: *mut c_void,
    ) -> io::Result<c_int>;
}

/// The host's `/dev/xen/privcmd` and `/dev/xen/gntdev`, through the real system calls.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemDevice;

impl SystemDevice {
    /// The real device, shared.
    pub fn shared() -> Arc<dyn XenDevice> {
        Arc::new(SystemDevice)
    }
}

// SAFETY: these are the system calls themselves.
unsafe impl XenDevice for SystemDevice {
    fn mmap(
        &self,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: Option<BorrowedFd<'_>>,
        offset: u64,
    ) -> io::Result<NonNull<u8>> {
        sys::mmap(len, prot, flags, fd.map(|fd| fd.as_raw_fd()), offset)
    }

    unsafe fn munmap(&self, addr: NonNull<u8>, len: usize) -> io::Result<()> {
        // SAFETY: forwarded caller contract.
        unsafe { sys::munmap(addr, len) }
    }

    unsafe fn ioctl(
        &self,
        fd: BorrowedFd<'_>,
        request: c_ulong,
        arg: *mut c_void,
    ) -> io::Result<c_int> {
        // SAFETY: forwarded caller contract.
        unsafe { sys::ioctl(fd.as_raw_fd(), request, arg) }
    }
}

/// Memory mapped through a device, unmapped through it on drop.
///
/// # Invariants
///
/// `ptr..ptr + len` was returned by `device.mmap` and is owned by this value until it drops.
#[derive(Debug)]
pub(crate) struct DeviceMapping {
    device: Arc<dyn XenDevice>,
    ptr: NonNull<u8>,
    len: usize,
}

impl DeviceMapping {
    /// Maps through `device`; see [`XenDevice::mmap`].
    pub(crate) fn new(
        device: &Arc<dyn XenDevice>,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: Option<BorrowedFd<'_>>,
        offset: u64,
    ) -> io::Result<Self> {
        let ptr = device.mmap(len, prot, flags, fd, offset)?;
        Ok(DeviceMapping {
            device: Arc::clone(device),
            ptr,
            len,
        })
    }

    /// The first byte.
    pub(crate) fn ptr(&self) -> NonNull<u8> {
        self.ptr
    }
}

impl Drop for DeviceMapping {
    fn drop(&mut self) {
        // SAFETY: the range came from `device.mmap` and this is its last use (type invariant). A
        // failure cannot be reported from a destructor; it would leave the range mapped.
        let _ = unsafe { self.device.munmap(self.ptr, self.len) };
    }
}
