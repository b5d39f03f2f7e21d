//! `MmapRegion` on Windows: `VirtualAlloc` memory and file views.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use vm_memory::bitmap::{AtomicBitmap, Bitmap};
use vm_memory::mmap::MmapRegion;
use vm_memory::{Bytes, FileOffset, VolatileMemory};

use crate::common::temp_file;

#[test]
fn new_with_size_zero_is_invalid_input() {
    let err = MmapRegion::<()>::new(0).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn new_commits_zeroed_writable_memory() {
    let region = MmapRegion::<AtomicBitmap>::new(0x10000).unwrap();
    let slice = region.as_volatile_slice();
    assert_eq!(slice.read_obj::<u64>(0xfff8).unwrap(), 0);
    slice.write_obj(5u64, 0x2000).unwrap();
    assert_eq!(slice.read_obj::<u64>(0x2000).unwrap(), 5);
    assert!(region.bitmap().dirty_at(0x2000));
    assert!(!region.bitmap().dirty_at(0x1000));
}

#[test]
fn two_views_of_one_file_share_memory_and_reach_the_file() {
    // View offsets must be multiples of the 64 KiB allocation granularity.
    let file = Arc::new(temp_file(0x20000));
    let whole =
        MmapRegion::<()>::from_file(FileOffset::from_arc(Arc::clone(&file), 0), 0x20000).unwrap();
    let upper =
        MmapRegion::<()>::from_file(FileOffset::from_arc(Arc::clone(&file), 0x10000), 0x10000)
            .unwrap();
    assert_eq!(upper.file_offset().unwrap().start(), 0x10000);
    whole
        .as_volatile_slice()
        .write_obj(0xabcd_u16, 0x10010)
        .unwrap();
    assert_eq!(
        upper.as_volatile_slice().read_obj::<u16>(0x10).unwrap(),
        0xabcd
    );
    drop((whole, upper));

    let mut file = Arc::try_unwrap(file).unwrap();
    file.seek(SeekFrom::Start(0x10010)).unwrap();
    let mut buf = [0u8; 2];
    file.read_exact(&mut buf).unwrap();
    assert_eq!(u16::from_ne_bytes(buf), 0xabcd);
}

#[test]
fn file_views_of_size_zero_are_invalid_input() {
    let err = MmapRegion::<()>::from_file(FileOffset::new(temp_file(0x10000), 0), 0).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
