//! Guard pages: an inaccessible page right before and right after every region.

use vm_memory::mmap::{MemoryBacking, MmapRegion};
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

use crate::maps::{page_size, perms_at};

/// Asserts that the pages around `region` are `PROT_NONE` and the region itself is read-write.
fn assert_guarded(region: &MmapRegion) {
    let page = page_size();
    let start = region.as_ptr().addr();
    let end = start + region.size().next_multiple_of(page);
    assert_eq!(
        perms_at(start - page).as_deref().map(|p| &p[..3]),
        Some("---"),
        "leading guard"
    );
    assert_eq!(
        perms_at(end).as_deref().map(|p| &p[..3]),
        Some("---"),
        "trailing guard"
    );
    assert_eq!(perms_at(start).as_deref().map(|p| &p[..3]), Some("rw-"));
    assert_eq!(perms_at(end - 1).as_deref().map(|p| &p[..3]), Some("rw-"));
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support PROT_NONE mappings")]
fn anonymous_regions_sit_between_two_guard_pages() {
    let mem: GuestMemoryMmap = MemoryBacking::anonymous()
        .guard_pages(true)
        .build(&[(GuestAddress(0), 0x4000), (GuestAddress(0x4000), 0x3000)])
        .unwrap();
    for region in mem.iter() {
        assert_guarded(region);
        assert!(region.owned());
    }
    // Adjacent in the guest, separated in the host: the access across the boundary still works.
    mem.write_slice(&[0xa5; 16], GuestAddress(0x3ff8)).unwrap();
    let mut buf = [0u8; 16];
    mem.read_slice(&mut buf, GuestAddress(0x3ff8)).unwrap();
    assert_eq!(buf, [0xa5; 16]);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support memfd")]
fn memfd_regions_sit_between_two_guard_pages() {
    let mem: GuestMemoryMmap = MemoryBacking::memfd("guarded")
        .guard_pages(true)
        .build(&[(GuestAddress(0), 0x2000), (GuestAddress(0x10_0000), 0x1000)])
        .unwrap();
    for region in mem.iter() {
        assert_guarded(region);
        assert!(region.file_offset().is_some());
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support PROT_NONE mappings")]
fn a_region_whose_size_is_not_a_page_multiple_is_guarded_after_its_last_page() {
    let size = page_size() + 100;
    let region = MemoryBacking::anonymous()
        .guard_pages(true)
        .build_region::<()>(GuestAddress(0), size)
        .unwrap();
    assert_eq!(region.len(), size as u64);
    assert_guarded(&region);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn touching_a_guard_page_kills_the_process() {
    let region = MemoryBacking::anonymous()
        .guard_pages(true)
        .build_region::<()>(GuestAddress(0), page_size())
        .unwrap();
    let guard = region.as_ptr().wrapping_add(page_size());
    // SAFETY: the child only reads memory and exits; it touches no locks or allocator state
    // that other threads of the parent might have held at the fork.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: the address is mapped (PROT_NONE): reading it faults, which is the point.
        unsafe { std::ptr::read_volatile(guard) };
        // SAFETY: `_exit` ends the child without running the parent's destructors.
        unsafe { libc::_exit(42) };
    }
    let mut status = 0;
    // SAFETY: waits for the child we just forked.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSEGV,
        "the child read the guard page without faulting (status {status:#x})"
    );
}
