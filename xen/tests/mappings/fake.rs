//! The fake device itself catches what the drivers would refuse, so the other tests can trust
//! `assert_balanced`.

use std::os::fd::AsFd;

use vm_memory_xen::sys::{self, GntdevUnmapGrantRef, MapGrantRefBuf};
use vm_memory_xen::test_utils::Call;

use crate::common::{fake, page};

#[test]
fn releasing_grants_before_unmapping_them_is_a_violation() {
    let fake = fake();
    let device = fake.device();
    let gntdev = fake.gntdev();
    let fd = gntdev.file().as_fd();
    let mut map = MapGrantRefBuf::new(1, 4, 1).unwrap();
    // SAFETY: a map request for one grant, valid for the call.
    unsafe { device.ioctl(fd, sys::IOCTL_GNTDEV_MAP_GRANT_REF, map.as_mut_ptr()) }.unwrap();
    let ptr = device
        .mmap(
            page(),
            libc::PROT_READ,
            libc::MAP_SHARED,
            Some(fd),
            map.index(),
        )
        .unwrap();
    let mut unmap = GntdevUnmapGrantRef {
        index: map.index(),
        count: 1,
        pad: 0,
    };
    // SAFETY: an unmap request, valid for the call.
    let early = unsafe {
        device.ioctl(
            fd,
            sys::IOCTL_GNTDEV_UNMAP_GRANT_REF,
            (&raw mut unmap).cast(),
        )
    };
    assert!(early.is_err());
    assert_eq!(fake.violations().len(), 1, "{:?}", fake.violations());
    // SAFETY: the whole mapping made above, not used afterwards.
    unsafe { device.munmap(ptr, page()) }.unwrap();
    // SAFETY: as above.
    unsafe {
        device.ioctl(
            fd,
            sys::IOCTL_GNTDEV_UNMAP_GRANT_REF,
            (&raw mut unmap).cast(),
        )
    }
    .unwrap();
    assert_eq!(fake.live_mappings() + fake.live_grant_maps(), 0);
}

#[test]
fn mapping_gntdev_at_an_unknown_index_or_a_partial_munmap_are_violations() {
    let fake = fake();
    let device = fake.device();
    let gntdev = fake.gntdev();
    let fd = gntdev.file().as_fd();
    assert!(
        device
            .mmap(page(), libc::PROT_READ, libc::MAP_SHARED, Some(fd), 0x7000)
            .is_err()
    );
    let anon = device
        .mmap(
            2 * page(),
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            None,
            0,
        )
        .unwrap();
    // SAFETY: refused by the fake before it reaches the kernel (only half the mapping).
    assert!(unsafe { device.munmap(anon, page()) }.is_err());
    assert_eq!(fake.violations().len(), 2, "{:?}", fake.violations());
    assert!(matches!(
        fake.calls().last(),
        Some(Call::Munmap {
            result: Err(libc::EINVAL),
            ..
        })
    ));
    // SAFETY: the whole mapping made above.
    unsafe { device.munmap(anon, 2 * page()) }.unwrap();
}

#[test]
#[should_panic(expected = "fake Xen device unbalanced")]
fn a_mapping_left_behind_fails_the_balance_check() {
    let fake = fake();
    let device = fake.device();
    let _leaked = device
        .mmap(
            page(),
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            None,
            0,
        )
        .unwrap();
    fake.assert_balanced();
}

#[test]
fn an_ioctl_on_the_wrong_device_is_refused() {
    let fake = fake();
    let device = fake.device();
    let privcmd = fake.privcmd();
    let mut map = MapGrantRefBuf::new(1, 0, 1).unwrap();
    // SAFETY: a map request for one grant, valid for the call.
    let result = unsafe {
        device.ioctl(
            privcmd.file().as_fd(),
            sys::IOCTL_GNTDEV_MAP_GRANT_REF,
            map.as_mut_ptr(),
        )
    };
    assert!(result.is_err());
    assert_eq!(fake.violations().len(), 1);
    assert_eq!(fake.live_grant_maps(), 0);
}
