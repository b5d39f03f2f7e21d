//! The privcmd/gntdev ABI: layouts (also asserted at compile time), request numbers and the grant
//! map buffer.

use std::mem::{offset_of, size_of};

use vm_memory_xen::sys::{
    self, GntdevGrantRef, GntdevMapGrantRef, GntdevUnmapGrantRef, MapGrantRefBuf,
    PrivcmdMmapBatchV2,
};

/// `_IOC(_IOC_NONE, ty, nr, size)` with the asm-generic encoding of x86 and Arm.
fn ioc_none(ty: u8, nr: u8, size: usize) -> libc::c_ulong {
    ((size as libc::c_ulong) << 16) | (libc::c_ulong::from(ty) << 8) | libc::c_ulong::from(nr)
}

#[test]
fn structures_have_the_kernel_header_layouts() {
    let ptr = size_of::<usize>();
    assert_eq!(
        (
            offset_of!(PrivcmdMmapBatchV2, num),
            offset_of!(PrivcmdMmapBatchV2, dom),
            offset_of!(PrivcmdMmapBatchV2, addr),
            offset_of!(PrivcmdMmapBatchV2, arr),
            offset_of!(PrivcmdMmapBatchV2, err),
            size_of::<PrivcmdMmapBatchV2>()
        ),
        (0, 4, 8, 16, 16 + ptr, 16 + 2 * ptr)
    );
    assert_eq!(size_of::<GntdevGrantRef>(), 8);
    assert_eq!(size_of::<GntdevMapGrantRef>(), 24);
    assert_eq!(offset_of!(GntdevMapGrantRef, index), 8);
    assert_eq!(offset_of!(GntdevMapGrantRef, refs), 16);
    assert_eq!(
        (
            offset_of!(GntdevUnmapGrantRef, index),
            offset_of!(GntdevUnmapGrantRef, count),
            size_of::<GntdevUnmapGrantRef>()
        ),
        (0, 8, 16)
    );
}

#[cfg(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "arm"
))]
#[test]
fn request_numbers_encode_type_number_and_size() {
    assert_eq!(
        sys::IOCTL_PRIVCMD_MMAPBATCH_V2,
        ioc_none(b'P', 4, size_of::<PrivcmdMmapBatchV2>())
    );
    assert_eq!(sys::IOCTL_GNTDEV_MAP_GRANT_REF, ioc_none(b'G', 0, 24));
    assert_eq!(sys::IOCTL_GNTDEV_UNMAP_GRANT_REF, ioc_none(b'G', 1, 16));
}

#[test]
fn grant_map_buffer_is_the_header_followed_by_every_reference() {
    let mut buf = MapGrantRefBuf::new(9, 100, 3).unwrap();
    // SAFETY: the buffer holds a header and the 3 grants it announces.
    let (head, refs) = unsafe { sys::read_map_grant_ref(buf.as_mut_ptr()) };
    assert_eq!((head.count, head.pad, head.index), (3, 0, 0));
    let want: Vec<_> = (100..103)
        .map(|r| GntdevGrantRef { domid: 9, r#ref: r })
        .collect();
    assert_eq!(refs, want);
    // The first reference also sits in the header's one-element array, as in the C structure.
    assert_eq!(head.refs[0], want[0]);
    assert_eq!(buf.index(), 0);
}

#[test]
fn grant_map_buffer_refuses_empty_and_overflowing_requests() {
    assert!(MapGrantRefBuf::new(1, 0, 0).is_none(), "no grants");
    assert!(
        MapGrantRefBuf::new(1, u32::MAX, 2).is_none(),
        "refs past u32::MAX"
    );
    assert!(
        MapGrantRefBuf::new(1, u32::MAX, 1).is_some(),
        "the last reference alone"
    );
}
