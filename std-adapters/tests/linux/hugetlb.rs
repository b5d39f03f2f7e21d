//! Hugetlb-backed guest memory with a chosen page size. Hosts without reserved huge pages get a
//! clear error, which is what these tests check there; with a pool they check the memory.

use vm_memory::mmap::{BackingError, HugePageSize, MemoryBacking};
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

use crate::maps::entries_in;

#[test]
fn page_sizes_are_powers_of_two_of_at_least_64_kib() {
    assert_eq!(HugePageSize::new(2 << 20), Some(HugePageSize::SIZE_2M));
    assert_eq!(HugePageSize::new(1 << 30), Some(HugePageSize::SIZE_1G));
    assert_eq!(
        HugePageSize::new(64 << 10).map(HugePageSize::bytes),
        Some(64 << 10)
    );
    assert_eq!(HugePageSize::new(32 << 10), None);
    assert_eq!(HugePageSize::new(3 << 20), None);
    assert_eq!(HugePageSize::new(0), None);
    assert_eq!(HugePageSize::SIZE_2M.to_string(), "2 MiB");
    assert_eq!(HugePageSize::new(64 << 10).unwrap().to_string(), "64 KiB");
    assert!(HugePageSize::SIZE_2M < HugePageSize::SIZE_1G);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read sysfs")]
fn the_host_default_size_is_among_the_supported_sizes() {
    let Ok(supported) = HugePageSize::host_supported() else {
        // No hugetlb in this kernel: then there is no default size either.
        assert!(HugePageSize::host_default().is_err());
        return;
    };
    let default = HugePageSize::host_default().unwrap();
    assert!(
        supported.contains(&default),
        "{default} not in {supported:?}"
    );
    assert!(default.is_supported());
    assert!(default.available_pages().is_ok());
    assert!(
        supported.windows(2).all(|w| w[0] < w[1]),
        "sorted: {supported:?}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read sysfs")]
fn unsupported_page_sizes_are_refused_before_mapping() {
    let absurd = HugePageSize::new(1 << 40).unwrap();
    let err = MemoryBacking::anonymous()
        .hugetlb(absurd)
        .build::<()>(&[(GuestAddress(0), 1 << 20)])
        .unwrap_err();
    assert!(
        matches!(err, BackingError::HugePageSizeUnsupported { page_size } if page_size == absurd)
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read sysfs")]
fn region_sizes_must_be_multiples_of_the_page_size() {
    let Some(size) = host_size_or_refusal() else {
        return;
    };
    let err = MemoryBacking::anonymous()
        .hugetlb(size)
        .build::<()>(&[(GuestAddress(0), 0x1000)])
        .unwrap_err();
    assert!(
        matches!(err, BackingError::UnalignedSize { size: 0x1000, page_size } if page_size == size)
    );
}

/// The host's default hugetlb page size; on a kernel without hugetlb, checks that asking for
/// huge pages is refused with `HugePageSizeUnsupported` and returns `None`.
fn host_size_or_refusal() -> Option<HugePageSize> {
    match HugePageSize::host_default() {
        Ok(size) => Some(size),
        Err(_) => {
            let err = MemoryBacking::anonymous()
                .hugetlb(HugePageSize::SIZE_2M)
                .build::<()>(&[(GuestAddress(0), 2 << 20)])
                .unwrap_err();
            assert!(matches!(err, BackingError::HugePageSizeUnsupported { .. }));
            None
        }
    }
}

/// Builds 2 huge pages of memory with `backing`; checks it if the pool allowed it, or the error
/// if it did not.
fn build_or_explain(backing: MemoryBacking, page_size: HugePageSize) {
    let len = 2 * page_size.bytes() as usize;
    let available = page_size.available_pages().unwrap();
    match backing.build::<()>(&[(GuestAddress(0), len)]) {
        Ok(mem) => {
            assert!(available >= 2, "succeeded with only {available} free pages");
            let mem: GuestMemoryMmap = mem;
            let region = mem.find_region(GuestAddress(0)).unwrap();
            assert_eq!(region.is_hugetlbfs(), Some(true));
            assert_eq!(region.as_ptr().addr() % page_size.bytes() as usize, 0);
            mem.write_obj(0x5a5a_u16, GuestAddress(len as u64 - 2))
                .unwrap();
            assert_eq!(
                mem.read_obj::<u16>(GuestAddress(len as u64 - 2)).unwrap(),
                0x5a5a
            );
            let start = region.as_ptr().addr();
            assert!(!entries_in(start, start + len).is_empty());
        }
        Err(BackingError::HugePagesExhausted {
            page_size: reported,
            needed,
            available: left,
        }) => {
            assert!(available < 2, "failed although {available} pages were free");
            assert_eq!((reported, needed), (page_size, 2));
            assert!(left < 2);
        }
        Err(other) => panic!("unexpected error: {other}"),
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support hugetlb")]
fn anonymous_hugetlb_memory_or_a_clear_shortage_error() {
    let Some(size) = host_size_or_refusal() else {
        return;
    };
    build_or_explain(MemoryBacking::anonymous().hugetlb(size), size);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support hugetlb")]
fn hugetlb_memfd_memory_or_a_clear_shortage_error() {
    let Some(size) = host_size_or_refusal() else {
        return;
    };
    build_or_explain(MemoryBacking::memfd("huge").hugetlb(size), size);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support hugetlb")]
fn hugetlb_with_guard_pages_or_a_clear_shortage_error() {
    let Some(size) = host_size_or_refusal() else {
        return;
    };
    build_or_explain(
        MemoryBacking::anonymous().hugetlb(size).guard_pages(true),
        size,
    );
}
