//! Lazily mapped grants (`GRANT | NO_ADVANCE_MAP`): every access path maps exactly the pages it
//! touches through the fake gntdev and leaves nothing mapped behind.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;

use vm_memory_core::volatile_memory::VolatileMemoryError;
use vm_memory_core::{Bytes, VolatileMemory};
use vm_memory_xen::XenMapping;
use vm_memory_xen::test_utils::{Op, Target};

use crate::common::{READ, WRITE, fake, lazy_grants, memory, page, window, windows};

/// Region of 4 pages over grants 8..12.
const FIRST: u64 = 8;
const PAGES: usize = 4;

fn region_addr(offset: usize) -> u64 {
    FIRST * page() as u64 + offset as u64
}

#[test]
fn nothing_is_mapped_until_an_access() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    assert!(mapping.as_ptr().is_null(), "no lasting address");
    assert!(mapping.lazy_mapping().is_some());
    let slice = mapping.as_volatile_slice();
    assert_eq!(slice.len(), PAGES * page());
    assert!(fake.calls().is_empty());
    drop(mapping);
    fake.assert_balanced();
}

#[test]
fn bytes_objects_map_one_page_with_the_access_they_need() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let s = mapping.as_volatile_slice();
    s.write_obj(0x0102_0304_u32, page() + 16).unwrap();
    assert_eq!(
        memory(&fake, region_addr(page() + 16), 4),
        0x0102_0304_u32.to_ne_bytes()
    );
    assert_eq!(s.read_obj::<u32>(page() + 16).unwrap(), 0x0102_0304);
    assert_eq!(
        windows(&fake.take_calls()),
        [window([9], WRITE), window([9], READ)]
    );
    fake.assert_balanced();
}

#[test]
fn an_access_across_a_page_boundary_maps_both_grants_once() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let s = mapping.as_volatile_slice();
    let at = 3 * page() - 3;
    s.write_slice(b"straddle", at).unwrap();
    let mut back = [0u8; 8];
    s.read_slice(&mut back, at).unwrap();
    assert_eq!(&back, b"straddle");
    assert_eq!(memory(&fake, region_addr(at), 8), b"straddle");
    assert_eq!(
        windows(&fake.take_calls()),
        [window([10, 11], WRITE), window([10, 11], READ)]
    );
    fake.assert_balanced();
}

#[test]
fn read_and_write_report_their_counts_through_the_mapping() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let s = mapping.as_volatile_slice();
    let end = PAGES * page();
    assert_eq!(
        s.write(&[7; 16], end - 8).unwrap(),
        8,
        "short write at the end"
    );
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf, end - 8).unwrap(), 8);
    assert_eq!(&buf[..8], &[7; 8]);
    assert_eq!(
        windows(&fake.take_calls()),
        [window([11], WRITE), window([11], READ)]
    );
    fake.assert_balanced();
}

#[test]
fn whole_region_copies_map_every_grant_in_one_window() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let s = mapping.as_volatile_slice();
    let pattern: Vec<u8> = (0..PAGES * page()).map(|i| (i % 251) as u8).collect();
    s.copy_from(&pattern);
    let mut back = vec![0u8; pattern.len()];
    assert_eq!(s.copy_to(&mut back), pattern.len());
    assert_eq!(back, pattern);
    assert_eq!(memory(&fake, region_addr(0), pattern.len()), pattern);
    assert_eq!(
        windows(&fake.take_calls()),
        [window(8..12, WRITE), window(8..12, READ)]
    );
    fake.assert_balanced();
}

#[test]
fn element_copies_of_multi_byte_types_go_through_one_window() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let s = mapping.get_slice(page() - 8, 16).unwrap();
    s.copy_from(&[0x1111_2222_u32, 0x3333_4444, 0x5555_6666, 0x7777_8888]);
    let mut out = [0u64; 2];
    assert_eq!(s.copy_to(&mut out), 2);
    assert_eq!(out[1].to_ne_bytes()[..4], 0x5555_6666_u32.to_ne_bytes());
    assert_eq!(
        windows(&fake.take_calls()),
        [window([8, 9], WRITE), window([8, 9], READ)]
    );
    fake.assert_balanced();
}

#[test]
fn copy_between_two_lazily_mapped_slices_maps_each_side() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    fake.write_memory(region_addr(0), b"source");
    let src = mapping.get_slice(0, 6).unwrap();
    let dst = mapping.get_slice(2 * page(), 6).unwrap();
    src.copy_to_volatile_slice(dst);
    assert_eq!(memory(&fake, region_addr(2 * page()), 6), b"source");
    // Both windows are live during the copy: the destination's is undone first.
    let calls = fake.take_calls();
    assert_eq!(calls.len(), 8);
    assert_eq!(windows(&calls[2..6]), [window([10], WRITE)]);
    let outer: Vec<_> = calls[..2].iter().chain(&calls[6..]).cloned().collect();
    assert_eq!(windows(&outer), [window([8], READ)]);
    fake.assert_balanced();
}

#[test]
fn copy_between_lazily_mapped_and_ordinary_memory() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let mut host = *b"host bytes";
    let host_slice = vm_memory_core::VolatileSlice::from(&mut host[..]);
    host_slice.copy_to_volatile_slice(mapping.get_slice(page() + 1, 10).unwrap());
    assert_eq!(memory(&fake, region_addr(page() + 1), 10), b"host bytes");
    let mut other = [0u8; 10];
    mapping
        .get_slice(page() + 1, 10)
        .unwrap()
        .copy_to_volatile_slice(vm_memory_core::VolatileSlice::from(&mut other[..]));
    assert_eq!(&other, b"host bytes");
    assert_eq!(
        windows(&fake.take_calls()),
        [window([9], WRITE), window([9], READ)]
    );
    fake.assert_balanced();
}

#[test]
fn pointer_guards_map_while_they_live_and_unmap_on_drop() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let s = mapping.get_slice(2 * page() + 5, 3).unwrap();
    {
        let guard = s.ptr_guard_mut();
        assert_eq!(guard.len(), 3);
        assert_eq!(fake.live_mappings(), 1, "mapped while the guard lives");
        // SAFETY: the guard is valid for writes of 3 bytes while it lives.
        unsafe { guard.as_ptr().add(2).write_volatile(0x5a) };
    }
    assert_eq!(fake.live_mappings(), 0);
    assert_eq!(memory(&fake, region_addr(2 * page() + 7), 1), [0x5a]);
    {
        let guard = s.ptr_guard();
        // SAFETY: the guard is valid for reads of 3 bytes while it lives.
        assert_eq!(unsafe { guard.as_ptr().add(2).read_volatile() }, 0x5a);
    }
    assert_eq!(
        windows(&fake.take_calls()),
        [window([10], WRITE), window([10], READ)]
    );
    fake.assert_balanced();
}

#[test]
fn guard_pointers_keep_the_in_page_offset_and_alignment() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let s = mapping.get_slice(page() + 0x18, 8).unwrap();
    let guard = s.ptr_guard();
    assert_eq!(guard.as_ptr().addr() % page(), 0x18);
    drop(guard);
    fake.assert_balanced();
}

#[test]
fn an_empty_guard_maps_nothing() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let empty = mapping.get_slice(PAGES * page(), 0).unwrap();
    let guard = empty.try_ptr_guard().unwrap();
    assert_eq!(guard.len(), 0);
    drop(guard);
    assert!(fake.calls().is_empty());
    fake.assert_balanced();
}

#[test]
fn volatile_references_load_and_store_through_the_mapping() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let r = mapping.get_ref::<u64>(3 * page() + 8).unwrap();
    r.store(0x0123_4567_89ab_cdef);
    assert_eq!(r.load(), 0x0123_4567_89ab_cdef);
    assert_eq!(
        memory(&fake, region_addr(3 * page() + 8), 8),
        0x0123_4567_89ab_cdef_u64.to_ne_bytes()
    );
    assert_eq!(r.ptr_guard().len(), 8);
    assert_eq!(
        windows(&fake.take_calls()),
        [window([11], WRITE), window([11], READ), window([11], READ)]
    );
    fake.assert_balanced();
}

#[test]
fn array_guards_cover_every_byte_of_multi_byte_elements() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    // 8 u32s ending 16 bytes into page 1: 32 bytes over two grants.
    let array = mapping.get_array_ref::<u32>(page() - 16, 8).unwrap();
    assert_eq!(array.len(), 8);
    assert_eq!(array.ptr_guard().len(), 32, "bytes, not elements");
    array.copy_from(&[1, 2, 3, 4, 5, 6, 7, 8]);
    array.store(7, 80);
    assert_eq!(array.load(7), 80);
    let mut out = [0u32; 8];
    assert_eq!(array.copy_to(&mut out), 8);
    assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 80]);
    assert_eq!(
        memory(&fake, region_addr(page() + 12), 4),
        80u32.to_ne_bytes()
    );
    assert_eq!(
        windows(&fake.take_calls()),
        [
            window([8, 9], READ),  // the length check above
            window([8, 9], WRITE), // copy_from: all 32 bytes
            window([9], WRITE),    // store(7): the last element only
            window([9], READ),     // load(7)
            window([8, 9], READ),  // copy_to
        ]
    );
    fake.assert_balanced();
}

#[test]
fn reading_from_and_writing_to_byte_slices_and_vectors() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let s = mapping.as_volatile_slice();
    let src = [9u8; 20];
    assert_eq!(
        s.read_volatile_from(page() - 10, &mut &src[..], 20)
            .unwrap(),
        20
    );
    let mut sink: Vec<u8> = Vec::new();
    s.write_all_volatile_to(page() - 10, &mut sink, 20).unwrap();
    assert_eq!(sink, src);
    s.read_exact_volatile_from(0, &mut &b"exact"[..], 5)
        .unwrap();
    let mut out = [0u8; 5];
    assert_eq!(s.write_volatile_to(0, &mut &mut out[..], 5).unwrap(), 5);
    assert_eq!(&out, b"exact");
    let w = windows(&fake.take_calls());
    assert_eq!(&w[..2], [window([8, 9], WRITE), window([8, 9], READ)]);
    assert_eq!(&w[2..], [window([8], WRITE), window([8], READ)]);
    fake.assert_balanced();
}

#[test]
fn reading_from_and_writing_to_files_goes_through_the_mapping() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let s = mapping.as_volatile_slice();
    let mut file = scratch_file();
    file.write_all(b"from a file").unwrap();
    file.seek(SeekFrom::Start(0)).unwrap();
    s.read_exact_volatile_from(2 * page() - 4, &mut file, 11)
        .unwrap();
    assert_eq!(
        memory(&fake, region_addr(2 * page() - 4), 11),
        b"from a file"
    );
    let mut out = scratch_file();
    s.write_all_volatile_to(2 * page() - 4, &mut out, 11)
        .unwrap();
    out.seek(SeekFrom::Start(0)).unwrap();
    let mut text = String::new();
    out.read_to_string(&mut text).unwrap();
    assert_eq!(text, "from a file");
    assert_eq!(
        windows(&fake.take_calls()),
        [window([9, 10], WRITE), window([9, 10], READ)]
    );
    fake.assert_balanced();
}

#[test]
fn atomic_loads_and_stores_work_and_keep_alignment_checks() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let s = mapping.as_volatile_slice();
    s.store(0xfeed_f00d_u32, page() + 4, Ordering::SeqCst)
        .unwrap();
    assert_eq!(
        s.load::<u32>(page() + 4, Ordering::Acquire).unwrap(),
        0xfeed_f00d
    );
    s.store(u64::MAX, 8, Ordering::Release).unwrap();
    assert_eq!(s.load::<u64>(8, Ordering::Relaxed).unwrap(), u64::MAX);
    assert_eq!(
        memory(&fake, region_addr(page() + 4), 4),
        0xfeed_f00d_u32.to_ne_bytes()
    );
    assert!(
        s.load::<u32>(page() + 2, Ordering::SeqCst).is_err(),
        "misaligned"
    );
    assert_eq!(
        windows(&fake.take_calls()),
        [
            window([9], WRITE),
            window([9], READ),
            window([8], WRITE),
            window([8], READ)
        ]
    );
    fake.assert_balanced();
}

#[test]
fn long_lived_references_are_refused() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    assert!(matches!(
        mapping.get_atomic_ref::<AtomicU32>(page()),
        Err(VolatileMemoryError::LazilyMapped { offset }) if offset == page()
    ));
    // SAFETY: the call is refused before any reference is made.
    let refused = unsafe { mapping.aligned_as_ref::<u32>(0) };
    assert!(matches!(
        refused,
        Err(VolatileMemoryError::LazilyMapped { offset: 0 })
    ));
    assert!(fake.calls().is_empty());
}

#[test]
fn a_failing_map_ioctl_is_an_error_and_leaves_nothing_mapped() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    let s = mapping.as_volatile_slice();
    fake.fail_next(Op::MapGrantRef, libc::ENOSPC);
    let err = s.write_obj(1u16, page()).unwrap_err();
    assert!(
        matches!(err, VolatileMemoryError::MappingFailed { offset, len: 2, errno: libc::ENOSPC } if offset == page()),
        "{err}"
    );
    fake.fail_next(Op::MapGrantRef, libc::ENOSPC);
    assert!(s.load::<u32>(0, Ordering::SeqCst).is_err());
    fake.fail_next(Op::MapGrantRef, libc::ENOSPC);
    assert!(s.try_ptr_guard().is_err());
    fake.fail_next(Op::MapGrantRef, libc::ENOSPC);
    assert!(s.read_volatile_from(0, &mut &[1u8][..], 1).is_err());
    fake.assert_balanced();
    // The next access works again.
    s.write_obj(1u16, page()).unwrap();
    fake.assert_balanced();
}

#[test]
fn a_failing_gntdev_mmap_releases_the_grants_it_took() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    fake.fail_next(Op::Mmap(Target::Gntdev), libc::ENOMEM);
    let err = mapping.as_volatile_slice().read_obj::<u64>(0).unwrap_err();
    assert!(
        matches!(
            err,
            VolatileMemoryError::MappingFailed {
                errno: libc::ENOMEM,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(fake.calls().len(), 3, "map ioctl, failed mmap, unmap ioctl");
    fake.assert_balanced();
}

#[test]
#[should_panic(expected = "cannot map guest memory for reading")]
fn the_infallible_guard_panics_with_a_clear_message_when_mapping_fails() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    fake.fail_next(Op::MapGrantRef, libc::ENOSPC);
    let _guard = mapping.as_volatile_slice().ptr_guard();
}

#[test]
fn read_only_grants_refuse_write_access_without_calling_the_device() {
    let fake = fake();
    let mut range = crate::common::grant_range(&fake, FIRST, PAGES, true);
    range.set_prot(libc::PROT_READ);
    let mapping = XenMapping::with_device(&range, fake.device()).unwrap();
    let s = mapping.as_volatile_slice();
    let err = s.write_obj(1u8, 0).unwrap_err();
    assert!(
        matches!(
            err,
            VolatileMemoryError::MappingFailed {
                errno: libc::EACCES,
                ..
            }
        ),
        "{err}"
    );
    assert!(fake.calls().is_empty());
    assert_eq!(s.read_obj::<u8>(0).unwrap(), 0);
    assert_eq!(windows(&fake.take_calls()), [window([8], READ)]);
    fake.assert_balanced();
}

#[test]
fn concurrent_accesses_map_separately_and_all_unmap() {
    let fake = fake();
    let mapping = lazy_grants(&fake, FIRST, PAGES);
    thread::scope(|scope| {
        for t in 0..PAGES {
            let mapping = &mapping;
            scope.spawn(move || {
                let s = mapping.as_volatile_slice();
                for i in 0..50u32 {
                    s.write_obj(i, t * page() + 4 * (i as usize % 16)).unwrap();
                    assert_eq!(
                        s.read_obj::<u32>(t * page() + 4 * (i as usize % 16))
                            .unwrap(),
                        i
                    );
                }
            });
        }
    });
    assert_eq!(fake.calls().len(), PAGES * 50 * 2 * 4);
    fake.assert_balanced();
}

#[test]
fn two_regions_over_the_same_grants_see_the_same_bytes() {
    let fake = fake();
    let lazy = lazy_grants(&fake, FIRST, PAGES);
    let advance = XenMapping::with_device(
        &crate::common::grant_range(&fake, FIRST, PAGES, false),
        fake.device(),
    )
    .unwrap();
    lazy.as_volatile_slice()
        .write_obj(0xabcd_u16, 3 * page())
        .unwrap();
    assert_eq!(
        advance
            .as_volatile_slice()
            .read_obj::<u16>(3 * page())
            .unwrap(),
        0xabcd
    );
    drop(advance);
    fake.assert_balanced();
}

/// An unlinked file in the temporary directory.
fn scratch_file() -> File {
    use std::sync::atomic::AtomicUsize;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "vm-memory-xen-lazy-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    file
}
