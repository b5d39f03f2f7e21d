//! The Linux ABI of `/dev/xen/privcmd` and `/dev/xen/gntdev`, and the raw system calls.
//!
//! The structures follow `include/uapi/xen/privcmd.h` and `include/uapi/xen/gntdev.h`; their
//! sizes and field offsets are checked at compile time below, for 64-bit and 32-bit hosts. The
//! request numbers are computed with the kernel's `_IOC` encoding. This is the only module that
//! calls into libc.

use std::io;
use std::mem::{offset_of, size_of};
use std::os::fd::RawFd;
use std::ptr::{self, NonNull};

use libc::{c_int, c_ulong, c_void};
use static_assertions::{assert_eq_size, const_assert_eq};

/// `domid_t`: a Xen domain id as privcmd takes it.
pub type DomId = u16;

/// `xen_pfn_t`: a guest frame number (`unsigned long` on x86, 64 bits on Arm).
#[cfg(any(target_arch = "arm", target_arch = "aarch64"))]
pub type XenPfn = u64;
/// `xen_pfn_t`: a guest frame number (`unsigned long` on x86, 64 bits on Arm).
#[cfg(not(any(target_arch = "arm", target_arch = "aarch64")))]
pub type XenPfn = c_ulong;

/// `struct privcmd_mmapbatch_v2`: map `num` frames of domain `dom` at `addr`, which must be the
/// start of a mapping of the privcmd device; per-frame errors come back in `err`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PrivcmdMmapBatchV2 {
    /// Number of frames.
    pub num: u32,
    /// Target domain.
    pub dom: DomId,
    /// Virtual address of the privcmd mapping to populate.
    pub addr: u64,
    /// `num` frame numbers.
    pub arr: *const XenPfn,
    /// `num` error codes, written by the kernel (0 or a negative errno).
    pub err: *mut c_int,
}

/// `struct ioctl_gntdev_grant_ref`: one grant of one domain.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GntdevGrantRef {
    /// The granting domain.
    pub domid: u32,
    /// The grant reference.
    pub r#ref: u32,
}

/// `struct ioctl_gntdev_map_grant_ref` with its one-element trailing array: `count` grants to
/// map; the kernel returns in `index` the offset to pass to `mmap(2)`. Calls with more grants use
/// a longer buffer with the same header ([`MapGrantRefBuf`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GntdevMapGrantRef {
    /// Number of grants.
    pub count: u32,
    /// Padding.
    pub pad: u32,
    /// Output: the `mmap(2)` offset of the grants.
    pub index: u64,
    /// The grants (`count` of them in the real buffer).
    pub refs: [GntdevGrantRef; 1],
}

/// `struct ioctl_gntdev_unmap_grant_ref`: release grants mapped at `index`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GntdevUnmapGrantRef {
    /// The `index` returned by the map call.
    pub index: u64,
    /// The number of grants.
    pub count: u32,
    /// Padding.
    pub pad: u32,
}

// The kernel headers' layouts. Pointers are 8 bytes on 64-bit hosts and 4 on 32-bit ones; `__u64`
// fields are at offset 8 either way (4-byte aligned on i686, but `dom` ends at 6).
const_assert_eq!(offset_of!(PrivcmdMmapBatchV2, num), 0);
const_assert_eq!(offset_of!(PrivcmdMmapBatchV2, dom), 4);
const_assert_eq!(offset_of!(PrivcmdMmapBatchV2, addr), 8);
const_assert_eq!(offset_of!(PrivcmdMmapBatchV2, arr), 16);
#[cfg(target_pointer_width = "64")]
const _: () = {
    const_assert_eq!(offset_of!(PrivcmdMmapBatchV2, err), 24);
    assert_eq_size!(PrivcmdMmapBatchV2, [u8; 32]);
};
#[cfg(target_pointer_width = "32")]
const _: () = {
    const_assert_eq!(offset_of!(PrivcmdMmapBatchV2, err), 20);
    assert_eq_size!(PrivcmdMmapBatchV2, [u8; 24]);
};
#[cfg(any(target_arch = "arm", target_arch = "aarch64"))]
assert_eq_size!(XenPfn, u64);

assert_eq_size!(GntdevGrantRef, [u8; 8]);
const_assert_eq!(offset_of!(GntdevGrantRef, domid), 0);
const_assert_eq!(offset_of!(GntdevGrantRef, r#ref), 4);

assert_eq_size!(GntdevMapGrantRef, [u8; 24]);
const_assert_eq!(offset_of!(GntdevMapGrantRef, count), 0);
const_assert_eq!(offset_of!(GntdevMapGrantRef, pad), 4);
const_assert_eq!(offset_of!(GntdevMapGrantRef, index), 8);
const_assert_eq!(offset_of!(GntdevMapGrantRef, refs), 16);

assert_eq_size!(GntdevUnmapGrantRef, [u8; 16]);
const_assert_eq!(offset_of!(GntdevUnmapGrantRef, index), 0);
const_assert_eq!(offset_of!(GntdevUnmapGrantRef, count), 8);
const_assert_eq!(offset_of!(GntdevUnmapGrantRef, pad), 12);

/// The `_IOC` encoding of the host: where the size and direction bits sit, and `_IOC_NONE`.
#[cfg(any(
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "sparc",
    target_arch = "sparc64"
))]
mod ioc {
    pub const SIZE_BITS: u32 = 13;
    pub const DIR_SHIFT: u32 = 29;
    pub const NONE: u32 = 1;
}
/// The `_IOC` encoding of the host (asm-generic: x86, Arm, RISC-V, ...).
#[cfg(not(any(
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "sparc",
    target_arch = "sparc64"
)))]
mod ioc {
    pub const SIZE_BITS: u32 = 14;
    pub const DIR_SHIFT: u32 = 30;
    pub const NONE: u32 = 0;
}

/// `_IOC(_IOC_NONE, ty, nr, size)`.
const fn ioc_none(ty: u8, nr: u8, size: usize) -> c_ulong {
    assert!(size < 1 << ioc::SIZE_BITS, "ioctl argument too large");
    ((ioc::NONE << ioc::DIR_SHIFT) | ((size as u32) << 16) | ((ty as u32) << 8) | nr as u32)
        as c_ulong
}

/// `IOCTL_PRIVCMD_MMAPBATCH_V2`.
pub const IOCTL_PRIVCMD_MMAPBATCH_V2: c_ulong = ioc_none(b'P', 4, size_of::<PrivcmdMmapBatchV2>());
/// `IOCTL_GNTDEV_MAP_GRANT_REF`.
pub const IOCTL_GNTDEV_MAP_GRANT_REF: c_ulong = ioc_none(b'G', 0, size_of::<GntdevMapGrantRef>());
/// `IOCTL_GNTDEV_UNMAP_GRANT_REF`.
pub const IOCTL_GNTDEV_UNMAP_GRANT_REF: c_ulong =
    ioc_none(b'G', 1, size_of::<GntdevUnmapGrantRef>());

// The numbers a 64-bit x86 or Arm kernel expects.
#[cfg(all(
    target_pointer_width = "64",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
const _: () = {
    const_assert_eq!(IOCTL_PRIVCMD_MMAPBATCH_V2, 0x0020_5004);
    const_assert_eq!(IOCTL_GNTDEV_MAP_GRANT_REF, 0x0018_4700);
    const_assert_eq!(IOCTL_GNTDEV_UNMAP_GRANT_REF, 0x0010_4701);
};

/// Two `u32` fields in one 8-byte word, in memory order.
fn pack(first: u32, second: u32) -> u64 {
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&first.to_ne_bytes());
    bytes[4..].copy_from_slice(&second.to_ne_bytes());
    u64::from_ne_bytes(bytes)
}

/// The argument of `IOCTL_GNTDEV_MAP_GRANT_REF` for any number of grants: the
/// [`GntdevMapGrantRef`] header followed by `count` [`GntdevGrantRef`]s, in 8-byte words so that
/// the buffer is aligned like the kernel structure.
#[derive(Debug)]
pub struct MapGrantRefBuf {
    words: Vec<u64>,
}

impl MapGrantRefBuf {
    /// Words before the first grant: `count`, `pad` and `index`.
    const HEADER_WORDS: usize = offset_of!(GntdevMapGrantRef, refs) / 8;

    /// A request for the grants `first_ref..first_ref + count` of `domid`; `None` if the
    /// references would pass `u32::MAX`.
    pub fn new(domid: u32, first_ref: u32, count: u32) -> Option<Self> {
        first_ref.checked_add(count.checked_sub(1)?)?;
        let mut words = Vec::with_capacity(Self::HEADER_WORDS + count as usize);
        words.push(pack(count, 0));
        words.push(0);
        words.extend((0..count).map(|i| pack(domid, first_ref + i)));
        Some(MapGrantRefBuf { words })
    }

    /// The pointer to pass to `ioctl(2)`.
    pub fn as_mut_ptr(&mut self) -> *mut c_void {
        self.words.as_mut_ptr().cast()
    }

    /// The `index` field (the kernel's output).
    pub fn index(&self) -> u64 {
        self.words[1]
    }
}

/// Reads the header and grants of an `IOCTL_GNTDEV_MAP_GRANT_REF` argument.
///
/// # Safety
///
/// `arg` must point to a readable [`GntdevMapGrantRef`] header followed by `count` readable
/// grants, where `count` is the header's first field.
pub unsafe fn read_map_grant_ref(arg: *const c_void) -> (GntdevMapGrantRef, Vec<GntdevGrantRef>) {
    let header = arg.cast::<GntdevMapGrantRef>();
    // SAFETY: caller contract: the header is readable; `read_unaligned` needs no alignment.
    let head = unsafe { ptr::read_unaligned(header) };
    // SAFETY: `refs` is inside the header (same allocation); computing its address is in bounds.
    let first = unsafe { &raw const (*header).refs }.cast::<GntdevGrantRef>();
    let refs = (0..head.count as usize)
        // SAFETY: caller contract: `count` grants follow the header; `i < count`.
        .map(|i| unsafe { ptr::read_unaligned(first.wrapping_add(i)) })
        .collect();
    (head, refs)
}

/// The host page size.
pub fn page_size() -> usize {
    // SAFETY: `sysconf` only reads a configuration value.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// `mmap(2)` at an address of the kernel's choice (`flags` must not contain `MAP_FIXED`).
///
/// # Errors
///
/// The system error; `EINVAL` for `MAP_FIXED`, `EOVERFLOW` for an offset beyond `off_t`.
pub fn mmap(
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: Option<RawFd>,
    offset: u64,
) -> io::Result<NonNull<u8>> {
    if flags & libc::MAP_FIXED != 0 {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let offset =
        libc::off_t::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EOVERFLOW))?;
    // SAFETY: without MAP_FIXED the kernel picks an unused range, so no existing memory changes;
    // a bad descriptor or argument only makes the call fail.
    let addr = unsafe { libc::mmap(ptr::null_mut(), len, prot, flags, fd.unwrap_or(-1), offset) };
    if addr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    NonNull::new(addr.cast()).ok_or_else(|| io::Error::from_raw_os_error(libc::EFAULT))
}

/// `munmap(2)`.
///
/// # Safety
///
/// `addr..addr + len` must be mapped memory the caller owns, and no pointer into it may be used
/// afterwards.
///
/// # Errors
///
/// The system error.
pub unsafe fn munmap(addr: NonNull<u8>, len: usize) -> io::Result<()> {
    // SAFETY: caller contract: the range is ours and unused from now on.
    if unsafe { libc::munmap(addr.as_ptr().cast(), len) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `ioctl(2)` with a pointer argument.
///
/// # Safety
///
/// `arg` must point to what `request` expects on `fd`, valid for the kernel to read and write
/// for the duration of the call, including every buffer it points to.
///
/// # Errors
///
/// The system error.
pub unsafe fn ioctl(fd: RawFd, request: c_ulong, arg: *mut c_void) -> io::Result<c_int> {
    // The request type differs between C libraries (`c_ulong` on glibc, `c_int` on musl); the
    // numbers above fit both.
    let request = request as libc::Ioctl;
    // SAFETY: caller contract: `arg` is what the request expects and stays valid for the call.
    let ret = unsafe { libc::ioctl(fd, request, arg) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}
