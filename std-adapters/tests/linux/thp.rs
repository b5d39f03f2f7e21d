//! Transparent huge pages: aligned regions with a `MADV_HUGEPAGE` hint, or an error naming the
//! host setting that refuses them.

use vm_memory::mmap::{BackingError, MemoryBacking, ThpMode, thp_mode};
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

/// 2 MiB, the PMD size of x86-64 and of arm64 with 4 KiB pages.
const HUGE: usize = 2 << 20;

fn check(backing: MemoryBacking, shared: bool) {
    let mode = thp_mode(shared);
    let result = backing.build::<()>(&[(GuestAddress(0), 2 * HUGE), (GuestAddress(1 << 30), HUGE)]);
    match (mode, result) {
        (Ok(mode), Ok(mem)) => {
            assert!(mode.honours_hint(), "built although THP is {mode:?}");
            let mem: GuestMemoryMmap = mem;
            for region in mem.iter() {
                assert_eq!(
                    region.as_ptr().addr() % HUGE,
                    0,
                    "aligned for a PMD mapping"
                );
                assert_eq!(region.is_hugetlbfs(), Some(false));
            }
            mem.write_obj(1u64, GuestAddress(2 * HUGE as u64 - 8))
                .unwrap();
            assert_eq!(
                mem.read_obj::<u64>(GuestAddress(2 * HUGE as u64 - 8))
                    .unwrap(),
                1
            );
        }
        (
            Ok(mode),
            Err(BackingError::ThpDisabled {
                setting,
                mode: reported,
            }),
        ) => {
            assert!(!mode.honours_hint());
            assert_eq!(reported, mode);
            let file = if shared { "shmem_enabled" } else { "enabled" };
            assert!(setting.ends_with(file), "{setting}");
        }
        (Err(_), Err(BackingError::ThpUnsupported(_))) => {}
        (mode, result) => panic!("THP mode {mode:?} but result {:?}", result.err()),
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support madvise")]
fn anonymous_thp_memory_or_the_setting_that_refuses_it() {
    check(MemoryBacking::anonymous().transparent_huge_pages(), false);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support madvise")]
fn memfd_thp_memory_or_the_setting_that_refuses_it() {
    check(MemoryBacking::memfd("thp").transparent_huge_pages(), true);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support madvise")]
fn thp_with_guard_pages_keeps_both_properties() {
    if !thp_mode(false).is_ok_and(ThpMode::honours_hint) {
        let err = MemoryBacking::anonymous()
            .transparent_huge_pages()
            .guard_pages(true)
            .build::<()>(&[(GuestAddress(0), HUGE)])
            .unwrap_err();
        assert!(matches!(
            err,
            BackingError::ThpDisabled { .. } | BackingError::ThpUnsupported(_)
        ));
        return;
    }
    let region = MemoryBacking::anonymous()
        .transparent_huge_pages()
        .guard_pages(true)
        .build_region::<()>(GuestAddress(0), HUGE)
        .unwrap();
    let start = region.as_ptr().addr();
    assert_eq!(start % HUGE, 0);
    let page = crate::maps::page_size();
    assert_eq!(
        crate::maps::perms_at(start - page)
            .as_deref()
            .map(|p| &p[..3]),
        Some("---")
    );
    assert_eq!(
        crate::maps::perms_at(start + HUGE)
            .as_deref()
            .map(|p| &p[..3]),
        Some("---")
    );
}
