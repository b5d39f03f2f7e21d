//! Memfd-backed guest memory: seals, one descriptor for the whole guest, and another process
//! reading and writing the guest's memory through that descriptor and the region offsets.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};

use vm_memory::mmap::{HugePageSize, Memfd, MemfdError, MemoryBacking, MmapRegion};
use vm_memory::{
    Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion, VolatileMemory,
};

use crate::maps::page_size;

#[test]
#[cfg_attr(miri, ignore = "Miri does not support memfd")]
fn a_memfd_is_sized_once_and_sealed() {
    let memfd = Memfd::new("sealed", 0x3000).unwrap();
    assert_eq!(memfd.size(), 0x3000);
    assert_eq!(memfd.file().metadata().unwrap().len(), 0x3000);
    let seals = memfd.seals().unwrap();
    for seal in [libc::F_SEAL_SHRINK, libc::F_SEAL_GROW, libc::F_SEAL_SEAL] {
        assert_ne!(seals & seal, 0, "seal {seal:#x} missing from {seals:#x}");
    }
    let shrink = memfd.file().set_len(0x1000).unwrap_err();
    assert_eq!(shrink.raw_os_error(), Some(libc::EPERM));
    let grow = memfd.file().set_len(0x4000).unwrap_err();
    assert_eq!(grow.raw_os_error(), Some(libc::EPERM));
    assert_eq!(memfd.huge_page_size(), None);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support memfd")]
fn bad_memfd_requests_get_clear_errors() {
    assert!(matches!(Memfd::new("empty", 0), Err(MemfdError::EmptySize)));
    assert!(matches!(
        Memfd::new("nul\0name", 0x1000),
        Err(MemfdError::InvalidName)
    ));
    let huge = HugePageSize::SIZE_2M;
    if huge.is_supported() {
        assert!(matches!(
            Memfd::with_huge_pages("odd", 0x1000, huge),
            Err(MemfdError::UnalignedSize { size: 0x1000, .. })
        ));
    }
    // 2^40-byte pages exist nowhere.
    let absurd = HugePageSize::new(1 << 40).unwrap();
    let err = Memfd::with_huge_pages("absurd", 1 << 40, absurd).unwrap_err();
    assert!(
        matches!(err, MemfdError::HugePageSizeUnsupported { page_size } if page_size == absurd)
    );
    assert_eq!(
        err.to_string(),
        "this host does not support 1024 GiB hugetlb pages"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support memfd")]
fn all_regions_share_one_memfd_at_consecutive_page_aligned_offsets() {
    let page = page_size();
    let mem: GuestMemoryMmap = MemoryBacking::memfd("guest")
        .build(&[
            (GuestAddress(0), 2 * page),
            (GuestAddress(0x10_0000), 100), // rounded up to a page inside the memfd
            (GuestAddress(0x20_0000), page),
        ])
        .unwrap();
    let files: Vec<_> = mem
        .iter()
        .map(|r| {
            let f = r.file_offset().unwrap();
            (f.file().as_raw_fd(), f.start())
        })
        .collect();
    let fd = files[0].0;
    assert_eq!(
        files,
        [(fd, 0), (fd, 2 * page as u64), (fd, 3 * page as u64)]
    );
    let file = mem.iter().next().unwrap().file_offset().unwrap().file();
    assert_eq!(file.metadata().unwrap().len(), 4 * page as u64);
    for region in mem.iter() {
        assert_eq!(region.flags(), libc::MAP_SHARED | libc::MAP_NORESERVE);
        assert_eq!(region.is_hugetlbfs(), Some(false));
    }
    assert_eq!(mem.iter().nth(1).unwrap().len(), 100);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support memfd")]
fn a_second_mapping_of_the_fd_and_offset_sees_the_guest_memory() {
    let mem: GuestMemoryMmap = MemoryBacking::memfd("remap")
        .build(&[(GuestAddress(0), 0x1000), (GuestAddress(0x8000), 0x1000)])
        .unwrap();
    mem.write_obj(0xc0ffee_u32, GuestAddress(0x8010)).unwrap();
    let region = mem.find_region(GuestAddress(0x8000)).unwrap();
    // What another process would do with the descriptor and offset it was sent.
    let view = MmapRegion::<()>::from_file(region.file_offset().unwrap().clone(), 0x1000).unwrap();
    assert_eq!(
        view.as_volatile_slice().read_obj::<u32>(0x10).unwrap(),
        0xc0ffee
    );
    view.as_volatile_slice().write_obj(7u8, 0xfff).unwrap();
    assert_eq!(mem.read_obj::<u8>(GuestAddress(0x8fff)).unwrap(), 7);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn another_process_reads_and_writes_guest_memory_through_the_fd() {
    let mem: GuestMemoryMmap = MemoryBacking::memfd("shared")
        .build(&[(GuestAddress(0), 0x1000), (GuestAddress(0x4000), 0x1000)])
        .unwrap();
    mem.write_slice(b"from the guest", GuestAddress(0x4100))
        .unwrap();
    let region = mem.find_region(GuestAddress(0x4000)).unwrap();
    let shared = region.file_offset().unwrap();
    let offset = shared.start() + 0x100;

    // The child gets the memfd as its stdin and opens it again by path, like a device process
    // that received the descriptor over a socket.
    let read = Command::new("dd")
        .args(["if=/dev/stdin", "bs=1", "status=none"])
        .arg(format!("skip={offset}"))
        .arg("count=14")
        .stdin(Stdio::from(shared.file().try_clone().unwrap()))
        .output()
        .expect("run dd");
    assert!(read.status.success(), "dd failed: {read:?}");
    assert_eq!(read.stdout, b"from the guest");

    let mut child = Command::new("dd")
        .args(["of=/dev/stdout", "bs=1", "conv=notrunc", "status=none"])
        .arg(format!("seek={}", shared.start() + 0x200))
        .stdin(Stdio::piped())
        .stdout(Stdio::from(shared.file().try_clone().unwrap()))
        .spawn()
        .expect("run dd");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from the device")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let mut buf = [0u8; 15];
    mem.read_slice(&mut buf, GuestAddress(0x4200)).unwrap();
    assert_eq!(&buf, b"from the device");
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support memfd")]
fn build_region_gives_each_hotplugged_region_its_own_memfd() {
    let backing = MemoryBacking::memfd("hotplug");
    let a = backing.build_region::<()>(GuestAddress(0), 0x1000).unwrap();
    let b = backing
        .build_region::<()>(GuestAddress(0x1000), 0x1000)
        .unwrap();
    let fd = |r: &vm_memory::GuestRegionMmap| r.file_offset().unwrap().file().as_raw_fd();
    assert_ne!(fd(&a), fd(&b));
    assert_eq!(a.file_offset().unwrap().start(), 0);
}
