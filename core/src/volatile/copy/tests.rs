use super::*;

#[test]
fn common_alignment_is_the_lowest_common_power_of_two_up_to_eight() {
    let at = |a: usize| core::ptr::without_provenance::<u8>(a);
    assert_eq!(common_alignment(at(0), at(0)), 8);
    assert_eq!(common_alignment(at(16), at(8)), 8);
    assert_eq!(common_alignment(at(4), at(8)), 4);
    assert_eq!(common_alignment(at(6), at(8)), 2);
    assert_eq!(common_alignment(at(3), at(8)), 1);
    assert_eq!(common_alignment(at(8), at(2)), 2);
}

#[test]
fn copy_bytes_every_small_length_and_misalignment() {
    let mut src = [0u64; 4];
    let mut dst = [0u64; 4];
    let src_p = src.as_mut_ptr().cast::<u8>();
    let dst_p = dst.as_mut_ptr().cast::<u8>();
    for i in 0..32 {
        // SAFETY: `i < 32` bytes of a 32-byte buffer.
        unsafe { src_p.add(i).write(i as u8 + 1) };
    }
    for len in 0..=16 {
        for s_off in 0..8 {
            for d_off in 0..8 {
                // SAFETY: offsets + len <= 8 + 8 + 16 = 32 bytes.
                unsafe {
                    core::ptr::write_bytes(dst_p, 0, 32);
                    copy_bytes(dst_p.add(d_off), src_p.add(s_off), len);
                    for k in 0..32 {
                        let expect = if k >= d_off && k < d_off + len {
                            (k - d_off + s_off) as u8 + 1
                        } else {
                            0
                        };
                        assert_eq!(
                            dst_p.add(k).read(),
                            expect,
                            "len {len} src+{s_off} dst+{d_off} byte {k}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn copy_overlapping_moves_forward_and_backward() {
    let mut buf = [0u64; 4];
    let p = buf.as_mut_ptr().cast::<u8>();
    for len in [1usize, 3, 8, 9, 20] {
        for (src, dst) in [(0usize, 3usize), (3, 0), (4, 5), (5, 4)] {
            // SAFETY: all offsets + len stay within the 32-byte buffer.
            unsafe {
                for i in 0..32 {
                    p.add(i).write(i as u8);
                }
                copy_overlapping(p.add(dst), p.add(src), len);
                for k in 0..len {
                    assert_eq!(
                        p.add(dst + k).read(),
                        (src + k) as u8,
                        "len {len} {src}->{dst}"
                    );
                }
            }
        }
    }
}

#[test]
fn read_and_write_object_at_every_alignment() {
    let mut buf = [0u64; 4];
    let p = buf.as_mut_ptr().cast::<u8>();
    for off in 0..8 {
        // SAFETY: the objects (at most 12 bytes) at `off < 8` fit in 32 bytes.
        unsafe {
            write_object(p.add(off), 0xa5u8);
            assert_eq!(read_object::<u8>(p.add(off)), 0xa5);
            write_object(p.add(off), 0x1234u16);
            assert_eq!(read_object::<u16>(p.add(off)), 0x1234);
            write_object(p.add(off), 0x1234_5678u32);
            assert_eq!(read_object::<u32>(p.add(off)), 0x1234_5678);
            write_object(p.add(off), 0x1122_3344_5566_7788u64);
            assert_eq!(read_object::<u64>(p.add(off)), 0x1122_3344_5566_7788);
            write_object(p.add(off), [1u8, 2, 3, 4, 5, 6, 7]);
            assert_eq!(read_object::<[u8; 7]>(p.add(off)), [1, 2, 3, 4, 5, 6, 7]);
            write_object(p.add(off), [9u32, 8, 7]);
            assert_eq!(read_object::<[u32; 3]>(p.add(off)), [9, 8, 7]);
            write_element(p.add(off), 2, 0xbeefu16);
            assert_eq!(read_element::<u16>(p.add(off), 2), 0xbeef);
        }
    }
}

#[test]
fn atomic_load_and_store_on_raw_pointers() {
    let mut buf = [0u64; 2];
    let p = buf.as_mut_ptr().cast::<u8>();
    // SAFETY: aligned in-bounds accesses to a local buffer.
    unsafe {
        atomic_store::<u32>(p.add(4), 0xfeed, Ordering::SeqCst);
        assert_eq!(atomic_load::<u32>(p.add(4), Ordering::SeqCst), 0xfeed);
        atomic_store::<i8>(p.add(15), -2, Ordering::Release);
        assert_eq!(atomic_load::<i8>(p.add(15), Ordering::Acquire), -2);
    }
}

#[test]
fn offset_ptr_wraps_without_dereferencing() {
    let p = core::ptr::without_provenance_mut::<u8>(usize::MAX);
    assert_eq!(offset_ptr(p, 2).addr(), 1);
    assert!(is_aligned(core::ptr::without_provenance(64), 8));
    assert!(!is_aligned(core::ptr::without_provenance(66), 4));
}
