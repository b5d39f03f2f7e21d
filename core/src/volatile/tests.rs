extern crate std;

use core::mem::align_of;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::vec;
use std::vec::Vec;

use super::*;
use crate::bitmap::recording::RecordingBitmap;
use crate::bitmap::{Bitmap, RefSlice};
use crate::bytes::Bytes;
use crate::region::test_regions::leak_buffer;

/// A slice over a fresh zeroed 8-byte aligned buffer.
fn slice(len: usize) -> VolatileSlice<'static> {
    // SAFETY: the buffer is valid for the rest of the process and only used by this slice.
    unsafe { VolatileSlice::new(leak_buffer(len), len) }
}

/// A slice whose writes are recorded.
fn recorded<'a>(
    len: usize,
    bitmap: &'a RecordingBitmap,
) -> VolatileSlice<'a, RefSlice<'a, RecordingBitmap>> {
    // SAFETY: as in `slice`; the bitmap's offset 0 is the slice's first byte.
    unsafe { VolatileSlice::with_bitmap(leak_buffer(len), len, bitmap.slice_at(0), None) }
}

fn fill(s: &VolatileSlice<'_>) {
    let bytes: Vec<u8> = (0..s.len()).map(|i| i as u8).collect();
    s.copy_from(&bytes);
}

fn contents<B: crate::bitmap::BitmapSlice>(s: &VolatileSlice<'_, B>) -> Vec<u8> {
    let mut out = vec![0u8; s.len()];
    s.copy_to(&mut out);
    out
}

#[test]
fn compute_offset_overflow_reports_base_and_offset() {
    assert_eq!(compute_offset(1, 2).unwrap(), 3);
    assert!(matches!(
        compute_offset(usize::MAX, 2),
        Err(VolatileMemoryError::Overflow {
            base: usize::MAX,
            offset: 2
        })
    ));
}

#[test]
fn compute_end_offset_allows_every_pair_up_to_len_including_empty_at_end() {
    let s = slice(16);
    for base in 0..=16 {
        for len in 0..=16 - base {
            assert_eq!(s.compute_end_offset(base, len).unwrap(), base + len);
        }
    }
    assert!(matches!(
        s.compute_end_offset(16, 1),
        Err(VolatileMemoryError::OutOfBounds { addr: 17 })
    ));
    assert!(matches!(
        s.compute_end_offset(usize::MAX, 1),
        Err(VolatileMemoryError::Overflow {
            base: usize::MAX,
            offset: 1
        })
    ));
}

#[test]
fn split_at_zero_len_and_past_len() {
    let s = slice(32);
    fill(&s);
    let (head, tail) = s.split_at(0).unwrap();
    assert_eq!((head.len(), tail.len()), (0, 32));
    let (head, tail) = s.split_at(31).unwrap();
    assert_eq!((head.len(), tail.len()), (31, 1));
    assert_eq!(contents(&tail), [31]);
    let (head, tail) = s.split_at(32).unwrap();
    assert_eq!((head.len(), tail.len()), (32, 0));
    let err = s.split_at(33).unwrap_err();
    let expected = s.ptr_guard().as_ptr().addr() + 33;
    assert!(matches!(err, VolatileMemoryError::OutOfBounds { addr } if addr == expected));
}

#[test]
fn subslice_errors_carry_relative_end() {
    let s = slice(100);
    assert_eq!(s.subslice(10, 90).unwrap().len(), 90);
    assert_eq!(s.subslice(100, 0).unwrap().len(), 0);
    assert!(matches!(
        s.subslice(10, 91),
        Err(VolatileMemoryError::OutOfBounds { addr: 101 })
    ));
    assert!(matches!(
        s.subslice(101, 0),
        Err(VolatileMemoryError::OutOfBounds { addr: 101 })
    ));
    assert!(matches!(
        s.subslice(usize::MAX, 1),
        Err(VolatileMemoryError::Overflow {
            base: usize::MAX,
            offset: 1
        })
    ));
}

#[test]
fn subslice_sees_the_same_bytes_at_the_offset() {
    let s = slice(16);
    fill(&s);
    assert_eq!(contents(&s.subslice(4, 4).unwrap()), [4, 5, 6, 7]);
}

#[test]
fn offset_at_len_is_empty_and_past_len_reports_host_address() {
    let s = slice(100);
    assert_eq!(s.offset(0).unwrap().len(), 100);
    assert_eq!(s.offset(100).unwrap().len(), 0);
    let base = s.ptr_guard().as_ptr().addr();
    assert!(matches!(
        s.offset(101),
        Err(VolatileMemoryError::OutOfBounds { addr }) if addr == base + 101
    ));
    assert!(matches!(
        s.offset(usize::MAX),
        Err(VolatileMemoryError::Overflow { base: b, offset: usize::MAX }) if b == base
    ));
}

#[test]
fn get_slice_is_subslice() {
    let s = slice(8);
    assert_eq!(VolatileMemory::get_slice(&s, 2, 6).unwrap().len(), 6);
    assert!(matches!(
        VolatileMemory::get_slice(&s, 2, 7),
        Err(VolatileMemoryError::OutOfBounds { addr: 9 })
    ));
    assert_eq!(s.as_volatile_slice().len(), 8);
}

#[test]
fn get_ref_needs_no_alignment_and_checks_bounds() {
    let s = slice(16);
    let r = s.get_ref::<u32>(3).unwrap();
    r.store(0xa1b2_c3d4);
    assert_eq!(r.load(), 0xa1b2_c3d4);
    assert_eq!(s.read_obj::<u32>(3).unwrap(), 0xa1b2_c3d4);
    assert_eq!(r.len(), 4);
    assert!(matches!(
        s.get_ref::<u64>(9),
        Err(VolatileMemoryError::OutOfBounds { addr: 17 })
    ));
}

#[test]
fn get_array_ref_too_big_and_out_of_bounds() {
    let s = slice(16);
    assert!(matches!(
        s.get_array_ref::<u32>(0, usize::MAX),
        Err(VolatileMemoryError::TooBig {
            nelements: usize::MAX,
            size: 4
        })
    ));
    assert!(matches!(
        s.get_array_ref::<u8>(0, usize::MAX),
        Err(VolatileMemoryError::TooBig {
            nelements: usize::MAX,
            size: 1
        })
    ));
    assert!(matches!(
        s.get_array_ref::<u32>(8, 3),
        Err(VolatileMemoryError::OutOfBounds { addr: 20 })
    ));
    let arr = s.get_array_ref::<u32>(4, 3).unwrap();
    assert_eq!(
        (arr.len(), arr.element_size(), arr.is_empty()),
        (3, 4, false)
    );
}

#[test]
fn aligned_as_ref_and_mut_check_alignment() {
    let s = slice(16);
    let base = s.ptr_guard().as_ptr().addr();
    // SAFETY: nothing else accesses the buffer while the references live.
    unsafe {
        *s.aligned_as_mut::<u64>(8).unwrap() = 0x55;
        assert_eq!(*s.aligned_as_ref::<u64>(8).unwrap(), 0x55);
        assert!(matches!(
            s.aligned_as_ref::<u64>(1),
            Err(VolatileMemoryError::Misaligned { addr, alignment })
                if addr == base + 1 && alignment == align_of::<u64>()
        ));
        assert!(matches!(
            s.aligned_as_mut::<u32>(12 + 4),
            Err(VolatileMemoryError::OutOfBounds { addr: 20 })
        ));
    }
}

#[test]
fn get_atomic_ref_checks_bounds_then_alignment() {
    let s = slice(16);
    let base = s.ptr_guard().as_ptr().addr();
    let a = s
        .get_atomic_ref::<core::sync::atomic::AtomicU32>(4)
        .unwrap();
    a.store(9, Ordering::SeqCst);
    assert_eq!(s.read_obj::<u32>(4).unwrap(), 9);
    assert!(matches!(
        s.get_atomic_ref::<core::sync::atomic::AtomicU32>(2),
        Err(VolatileMemoryError::Misaligned { addr, alignment: 4 }) if addr == base + 2
    ));
    // The object does not fit: bounds are reported before alignment.
    assert!(matches!(
        s.get_atomic_ref::<core::sync::atomic::AtomicU64>(9),
        Err(VolatileMemoryError::OutOfBounds { addr: 17 })
    ));
}

#[test]
fn copy_to_and_copy_from_u8_with_short_and_long_buffers() {
    let s = slice(8);
    s.copy_from(&[1u8, 2, 3]);
    let mut long = [0u8; 12];
    assert_eq!(s.copy_to(&mut long), 8);
    assert_eq!(long, [1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut short = [0u8; 2];
    assert_eq!(s.copy_to(&mut short), 2);
    assert_eq!(short, [1, 2]);
    s.copy_from(&[9u8; 20]);
    assert_eq!(contents(&s), [9; 8]);
}

#[test]
fn copy_to_u16_from_nine_byte_slice_copies_four_elements() {
    let s = slice(9);
    fill(&s);
    let mut out = [0u16; 8];
    assert_eq!(s.copy_to(&mut out), 4);
    assert_eq!(
        out[..4],
        [[0, 1], [2, 3], [4, 5], [6, 7]].map(u16::from_ne_bytes)
    );
    let t = slice(9);
    t.copy_from(&[0xffffu16; 8]);
    assert_eq!(
        contents(&t),
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0]
    );
}

#[test]
fn copy_to_volatile_slice_copies_the_shorter_length_and_marks_destination() {
    let src = slice(8);
    fill(&src);
    let bitmap = RecordingBitmap::default();
    let dst = recorded(4, &bitmap);
    src.copy_to_volatile_slice(dst);
    assert_eq!(contents(&dst), [0, 1, 2, 3]);
    assert_eq!(bitmap.take(), [(0, 4)]);
}

#[test]
fn copy_to_volatile_slice_handles_overlap() {
    let s = slice(16);
    fill(&s);
    let src = s.subslice(0, 12).unwrap();
    let dst = s.subslice(4, 12).unwrap();
    src.copy_to_volatile_slice(dst);
    assert_eq!(
        contents(&s),
        [0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    );
}

#[test]
fn write_and_read_past_end_return_partial_count() {
    let s = slice(8);
    assert_eq!(s.write(&[1, 2, 3, 4], 6).unwrap(), 2);
    let mut buf = [0u8; 4];
    assert_eq!(s.read(&mut buf, 6).unwrap(), 2);
    assert_eq!(buf, [1, 2, 0, 0]);
    assert_eq!(s.write(&[5], 7).unwrap(), 1);
}

#[test]
fn write_and_read_at_len_are_out_of_bounds() {
    let s = slice(8);
    assert!(matches!(
        s.write(&[1], 8),
        Err(VolatileMemoryError::OutOfBounds { addr: 8 })
    ));
    assert!(matches!(
        s.read(&mut [0u8; 1], usize::MAX),
        Err(VolatileMemoryError::OutOfBounds { addr: usize::MAX })
    ));
}

#[test]
fn empty_buffers_succeed_even_out_of_range_and_on_empty_slices() {
    let s = slice(8);
    assert_eq!(s.write(&[], 100).unwrap(), 0);
    assert_eq!(s.read(&mut [], usize::MAX).unwrap(), 0);
    s.write_slice(&[], 100).unwrap();
    s.read_slice(&mut [], 100).unwrap();
    let empty = s.subslice(8, 0).unwrap();
    assert_eq!(empty.write(&[], 0).unwrap(), 0);
    empty.write_obj([0u8; 0], 0).unwrap();
    s.write_obj([0u8; 0], 100).unwrap();
    assert_eq!(s.read_obj::<[u8; 0]>(100).unwrap(), []);
}

#[test]
fn write_obj_partial_reports_partial_buffer_and_writes_the_prefix() {
    let s = slice(5);
    assert!(matches!(
        s.write_obj(0xaabbu16, 4),
        Err(VolatileMemoryError::PartialBuffer {
            expected: 2,
            completed: 1
        })
    ));
    assert_eq!(contents(&s)[4], 0xaabbu16.to_ne_bytes()[0]);
    assert!(matches!(
        s.read_obj::<u16>(4),
        Err(VolatileMemoryError::PartialBuffer {
            expected: 2,
            completed: 1
        })
    ));
    assert!(matches!(
        s.write_obj(1u8, usize::MAX),
        Err(VolatileMemoryError::OutOfBounds { addr: usize::MAX })
    ));
}

#[test]
fn read_obj_and_write_obj_round_trip_every_size_and_alignment() {
    let s = slice(64);
    for offset in 0..16 {
        s.write_obj(0x11u8, offset).unwrap();
        assert_eq!(s.read_obj::<u8>(offset).unwrap(), 0x11);
        s.write_obj(0x2233u16, offset).unwrap();
        assert_eq!(s.read_obj::<u16>(offset).unwrap(), 0x2233);
        s.write_obj(0x4455_6677u32, offset).unwrap();
        assert_eq!(s.read_obj::<u32>(offset).unwrap(), 0x4455_6677);
        s.write_obj(0x8899_aabb_ccdd_eeffu64, offset).unwrap();
        assert_eq!(s.read_obj::<u64>(offset).unwrap(), 0x8899_aabb_ccdd_eeff);
        s.write_obj([7u8; 3], offset).unwrap();
        assert_eq!(s.read_obj::<[u8; 3]>(offset).unwrap(), [7; 3]);
        let big = [offset as u32; 12];
        s.write_obj(big, offset).unwrap();
        assert_eq!(s.read_obj::<[u32; 12]>(offset).unwrap(), big);
    }
}

#[test]
fn store_and_load_check_bounds_and_alignment() {
    let s = slice(16);
    s.store(0x1234_5678u32, 4, Ordering::SeqCst).unwrap();
    assert_eq!(s.load::<u32>(4, Ordering::SeqCst).unwrap(), 0x1234_5678);
    s.store(-5i16, 14, Ordering::Relaxed).unwrap();
    assert_eq!(s.load::<i16>(14, Ordering::Acquire).unwrap(), -5);
    let base = s.ptr_guard().as_ptr().addr();
    assert!(matches!(
        s.load::<u32>(2, Ordering::SeqCst),
        Err(VolatileMemoryError::Misaligned { addr, alignment: 4 }) if addr == base + 2
    ));
    assert!(matches!(
        s.store(1u32, 16, Ordering::SeqCst),
        Err(VolatileMemoryError::OutOfBounds { addr: 20 })
    ));
    assert!(matches!(
        s.load::<u16>(usize::MAX, Ordering::SeqCst),
        Err(VolatileMemoryError::Overflow {
            base: usize::MAX,
            offset: 2
        })
    ));
}

#[cfg(target_has_atomic = "64")]
#[test]
fn store_and_load_u64() {
    let s = slice(16);
    s.store(u64::MAX - 1, 8, Ordering::SeqCst).unwrap();
    assert_eq!(s.load::<u64>(8, Ordering::SeqCst).unwrap(), u64::MAX - 1);
}

#[test]
fn every_write_path_marks_the_right_bytes_dirty() {
    let bitmap = RecordingBitmap::default();
    let s = recorded(64, &bitmap);
    s.write(&[1, 2, 3], 10).unwrap();
    assert_eq!(bitmap.take(), [(10, 3)]);
    s.write(&[1, 2, 3], 62).unwrap();
    assert_eq!(bitmap.take(), [(62, 2)]);
    s.write_slice(&[1; 5], 20).unwrap();
    assert_eq!(bitmap.take(), [(20, 5)]);
    s.write_obj(7u32, 30).unwrap();
    assert_eq!(bitmap.take(), [(30, 4)]);
    s.write_obj([7u8; 24], 1).unwrap();
    assert_eq!(bitmap.take(), [(1, 24)]);
    let _ = s.write_obj(7u32, 62);
    assert_eq!(bitmap.take(), [(62, 2)]);
    s.store(7u16, 40, Ordering::SeqCst).unwrap();
    assert_eq!(bitmap.take(), [(40, 2)]);
    s.copy_from(&[1u16, 2]);
    assert_eq!(bitmap.take(), [(0, 4)]);
    s.subslice(8, 8).unwrap().copy_from(&[1u8; 3]);
    assert_eq!(bitmap.take(), [(8, 3)]);
    s.offset(50).unwrap().write_obj(1u8, 2).unwrap();
    assert_eq!(bitmap.take(), [(52, 1)]);
    let (_, tail) = s.split_at(60).unwrap();
    tail.write(&[1], 1).unwrap();
    assert_eq!(bitmap.take(), [(61, 1)]);
    s.get_ref::<u16>(44).unwrap().store(3);
    assert_eq!(bitmap.take(), [(44, 2)]);
    let arr = s.get_array_ref::<u32>(16, 4).unwrap();
    arr.store(2, 5);
    assert_eq!(bitmap.take(), [(24, 4)]);
    arr.copy_from(&[1, 2]);
    assert_eq!(bitmap.take(), [(16, 8)]);
    arr.ref_at(3).store(1);
    assert_eq!(bitmap.take(), [(28, 4)]);
    s.read_volatile_from(4, &mut &[1u8, 2, 3][..], 10).unwrap();
    assert_eq!(bitmap.take(), [(4, 3)]);
    s.read_exact_volatile_from(5, &mut &[1u8, 2][..], 2)
        .unwrap();
    assert_eq!(bitmap.take(), [(5, 2)]);
}

#[test]
fn read_paths_mark_nothing() {
    let bitmap = RecordingBitmap::default();
    let s = recorded(16, &bitmap);
    let _ = s.read_obj::<u64>(0).unwrap();
    let _ = s.read(&mut [0u8; 4], 2).unwrap();
    let _ = s.load::<u32>(4, Ordering::SeqCst).unwrap();
    let mut out = [0u8; 16];
    s.write_all_volatile_to(0, &mut &mut out[..], 16).unwrap();
    assert!(bitmap.take().is_empty());
}

#[test]
fn read_volatile_from_clamps_to_count_and_the_slice() {
    let s = slice(8);
    let mut src: &[u8] = &[1, 2, 3, 4, 5, 6, 7, 8, 9];
    assert_eq!(s.read_volatile_from(6, &mut src, 100).unwrap(), 2);
    assert_eq!(src.len(), 7);
    assert_eq!(s.read_volatile_from(0, &mut src, 3).unwrap(), 3);
    assert_eq!(contents(&s), [3, 4, 5, 0, 0, 0, 1, 2]);
    assert!(s.read_volatile_from(9, &mut src, 1).is_err());
}

#[test]
fn read_exact_volatile_from_is_strict_up_front() {
    let s = slice(8);
    let mut src: &[u8] = &[1, 2, 3, 4];
    assert!(matches!(
        s.read_exact_volatile_from(6, &mut src, 4),
        Err(VolatileMemoryError::OutOfBounds { addr: 10 })
    ));
    assert_eq!(src.len(), 4);
    assert!(matches!(
        s.read_exact_volatile_from(0, &mut &[1u8, 2][..], 4),
        Err(VolatileMemoryError::PartialBuffer {
            expected: 4,
            completed: 0
        })
    ));
    assert_eq!(contents(&s), [0; 8]);
}

#[test]
fn write_volatile_to_and_write_all_volatile_to() {
    let s = slice(8);
    fill(&s);
    let mut out = [0u8; 3];
    assert_eq!(s.write_volatile_to(6, &mut &mut out[..], 10).unwrap(), 2);
    assert_eq!(out, [6, 7, 0]);
    let mut out = [0u8; 3];
    assert!(matches!(
        s.write_all_volatile_to(0, &mut &mut out[..], 4),
        Err(VolatileMemoryError::PartialBuffer {
            expected: 4,
            completed: 3
        })
    ));
    assert_eq!(out, [0, 1, 2]);
    let mut out = [0u8; 6];
    s.write_all_volatile_to(2, &mut &mut out[..], 6).unwrap();
    assert_eq!(out, [2, 3, 4, 5, 6, 7]);
}

#[test]
fn volatile_ref_unaligned_u32() {
    let s = slice(8);
    let r = s.get_ref::<u32>(1).unwrap();
    r.store(0xdead_beef);
    assert_eq!(r.load(), 0xdead_beef);
    assert_eq!(contents(&r.to_slice()), 0xdead_beefu32.to_ne_bytes());
}

#[test]
fn volatile_array_ref_load_store_and_copies() {
    let s = slice(16);
    let arr = s.get_array_ref::<u16>(2, 7).unwrap();
    arr.copy_from(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(arr.load(6), 7);
    arr.store(0, 42);
    let mut out = [0u16; 3];
    assert_eq!(arr.copy_to(&mut out), 3);
    assert_eq!(out, [42, 2, 3]);
    assert_eq!(arr.to_slice().len(), 14);
    let dst = slice(4);
    arr.copy_to_volatile_slice(dst);
    assert_eq!(dst.read_obj::<u16>(2).unwrap(), 2);
    let bytes: VolatileArrayRef<'_, u8> = s.subslice(0, 3).unwrap().into();
    assert_eq!(bytes.len(), 3);
}

#[test]
#[should_panic(expected = "out of bounds")]
fn volatile_array_ref_at_len_panics() {
    let s = slice(16);
    let arr = s.get_array_ref::<u16>(0, 8).unwrap();
    let _ = arr.ref_at(8);
}

#[test]
fn from_mut_slice_writes_reach_the_host_buffer() {
    let mut buf = [0u8; 4];
    {
        let s = VolatileSlice::from(&mut buf[..]);
        s.write_obj(0x0102_0304u32.to_be(), 0).unwrap();
    }
    assert_eq!(buf, [1, 2, 3, 4]);
}

#[test]
fn errors_display_their_fields() {
    use std::string::ToString;
    let text = VolatileMemoryError::PartialBuffer {
        expected: 8,
        completed: 4,
    }
    .to_string();
    assert!(text.contains('8') && text.contains('4'));
    assert!(
        VolatileMemoryError::OutOfBounds { addr: 0x20 }
            .to_string()
            .contains("0x20")
    );
}

/// A `LazyMapping` over a host buffer that counts maps and unmaps and can be told to fail.
#[derive(Debug)]
struct CountingLazy {
    backing: *mut u8,
    len: usize,
    maps: AtomicUsize,
    unmaps: AtomicUsize,
    writes: AtomicUsize,
    fail: bool,
}

impl CountingLazy {
    fn new(len: usize, fail: bool) -> Self {
        CountingLazy {
            backing: leak_buffer(len),
            len,
            maps: AtomicUsize::new(0),
            unmaps: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
            fail,
        }
    }

    /// A slice over `offset..offset + len` of the lazily mapped object.
    fn slice(&self, offset: usize, len: usize) -> VolatileSlice<'_> {
        // SAFETY: the pseudo pointer carries the offset; `map` checks every range against the
        // object's length.
        unsafe {
            VolatileSlice::with_bitmap(
                core::ptr::without_provenance_mut(offset),
                len,
                (),
                Some(self),
            )
        }
    }

    fn balanced(&self) -> bool {
        self.maps.load(Ordering::SeqCst) == self.unmaps.load(Ordering::SeqCst)
    }
}

// SAFETY: `map` hands out pointers into the leaked backing buffer, which never goes away, and
// checks the range against the buffer's length.
unsafe impl LazyMapping for CountingLazy {
    fn map(
        &self,
        offset: usize,
        len: usize,
        write: bool,
    ) -> core::result::Result<MappedWindow, MapError> {
        if self.fail || offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(MapError { errno: 14 });
        }
        self.maps.fetch_add(1, Ordering::SeqCst);
        if write {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(MappedWindow {
            ptr: self.backing.wrapping_add(offset),
            token: offset,
        })
    }

    unsafe fn unmap(&self, window: &MappedWindow, _len: usize) {
        assert_eq!(window.ptr, self.backing.wrapping_add(window.token));
        self.unmaps.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn lazily_mapped_slice_maps_for_each_access_and_unmaps() {
    let lazy = CountingLazy::new(64, false);
    let s = lazy.slice(8, 32);
    s.write_obj(0x1122_3344u32, 4).unwrap();
    assert_eq!(s.read_obj::<u32>(4).unwrap(), 0x1122_3344);
    s.write_slice(&[9; 10], 20).unwrap();
    let mut buf = [0u8; 10];
    s.read_slice(&mut buf, 20).unwrap();
    assert_eq!(buf, [9; 10]);
    s.store(5u16, 2, Ordering::SeqCst).unwrap();
    assert_eq!(s.load::<u16>(2, Ordering::SeqCst).unwrap(), 5);
    // The slice starts at byte 8 of the object: check the store through the backing buffer.
    // SAFETY: the backing buffer is 64 bytes and not accessed concurrently.
    let raw = unsafe { core::ptr::read_unaligned(lazy.backing.add(8 + 2).cast::<u16>()) };
    assert_eq!(raw, 5);
    let r = s.get_ref::<u64>(8).unwrap();
    r.store(77);
    assert_eq!(r.load(), 77);
    let arr = s.get_array_ref::<u32>(0, 8).unwrap();
    assert_eq!(
        arr.ptr_guard().len(),
        32,
        "guard covers all bytes of the array"
    );
    arr.copy_from(&[1, 2, 3]);
    assert_eq!(arr.load(2), 3);
    let mut out = [0u8; 32];
    s.write_all_volatile_to(0, &mut &mut out[..], 32).unwrap();
    assert_eq!(out[..4], 1u32.to_ne_bytes());
    s.read_volatile_from(0, &mut &[1u8, 2][..], 2).unwrap();
    s.subslice(0, 4)
        .unwrap()
        .copy_to_volatile_slice(s.subslice(4, 4).unwrap());
    assert!(lazy.maps.load(Ordering::SeqCst) > 10);
    assert!(lazy.balanced());
}

#[test]
fn lazily_mapped_guards_request_write_access_only_for_writes() {
    let lazy = CountingLazy::new(16, false);
    let s = lazy.slice(0, 16);
    let _ = s.read_obj::<u64>(0).unwrap();
    let _ = s.load::<u32>(0, Ordering::SeqCst).unwrap();
    assert_eq!(lazy.writes.load(Ordering::SeqCst), 0);
    s.write_obj(1u8, 0).unwrap();
    assert_eq!(lazy.writes.load(Ordering::SeqCst), 1);
}

#[test]
fn lazily_mapped_failures_are_errors_and_leave_nothing_mapped() {
    let lazy = CountingLazy::new(16, true);
    let s = lazy.slice(0, 16);
    assert!(matches!(
        s.write_obj(1u32, 0),
        Err(VolatileMemoryError::MappingFailed {
            offset: 0,
            len: 4,
            errno: 14
        })
    ));
    assert!(matches!(
        s.read(&mut [0u8; 4], 8),
        Err(VolatileMemoryError::MappingFailed {
            offset: 8,
            len: 4,
            ..
        })
    ));
    assert!(s.load::<u16>(0, Ordering::SeqCst).is_err());
    assert!(s.try_ptr_guard().is_err());
    assert!(lazy.balanced());
}

#[test]
fn lazily_mapped_memory_refuses_long_lived_references() {
    let lazy = CountingLazy::new(16, false);
    let s = lazy.slice(0, 16);
    assert!(matches!(
        s.get_atomic_ref::<core::sync::atomic::AtomicU32>(4),
        Err(VolatileMemoryError::LazilyMapped { offset: 4 })
    ));
    // SAFETY: the call fails before any reference is formed.
    assert!(unsafe { s.aligned_as_ref::<u32>(0) }.is_err());
}

#[test]
#[should_panic(expected = "cannot map guest memory")]
fn lazily_mapped_ptr_guard_panics_when_mapping_fails() {
    let lazy = CountingLazy::new(16, true);
    let _ = lazy.slice(0, 16).ptr_guard();
}

/// Writers store one of two patterns with single accesses; readers must never see a mix.
#[cfg_attr(
    miri,
    ignore = "concurrent volatile accesses are data races in Miri's model"
)]
#[test]
fn aligned_volatile_accesses_never_tear() {
    fn check<T: ByteValued + PartialEq + core::fmt::Debug + Send + 'static>(a: T, b: T) {
        let s = slice(64);
        let offset = 16;
        s.write_obj(a, offset).unwrap();
        struct SendPtr(*mut u8);
        // SAFETY: the pointer targets a leaked buffer that stays valid; the thread only uses it
        // for volatile accesses.
        unsafe impl Send for SendPtr {}
        let ptr = SendPtr(s.ptr_guard_mut().as_ptr());
        let stop = std::sync::Arc::new(core::sync::atomic::AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let ptr = ptr;
                // SAFETY: the buffer is leaked, valid for the whole process.
                let s = unsafe { VolatileSlice::new(ptr.0, 64) };
                let r = s.get_ref::<T>(offset).unwrap();
                let mut flip = false;
                while !stop.load(Ordering::Relaxed) {
                    r.store(if flip { a } else { b });
                    flip = !flip;
                }
            })
        };
        let r = s.get_ref::<T>(offset).unwrap();
        for _ in 0..200_000 {
            let v = r.load();
            assert!(v == a || v == b, "torn value {v:?}");
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
    }
    check(0u16, u16::MAX);
    check(0x0000_0000u32, u32::MAX);
    #[cfg(target_pointer_width = "64")]
    check(0u64, u64::MAX);
}
