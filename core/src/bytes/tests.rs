extern crate std;

use core::mem::{align_of, size_of};

use super::*;

fn check_from_slice_rejects_wrong_length_and_every_misalignment<
    T: ByteValued + PartialEq + core::fmt::Debug,
>() {
    let mut buf = [0u64; 8];
    // SAFETY: viewing an initialised `[u64; 8]` as 64 bytes.
    let bytes = unsafe { core::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), 64) };
    let size = size_of::<T>();
    for offset in 0..align_of::<T>().max(1) {
        let window = &bytes[offset..offset + size];
        let aligned = offset % align_of::<T>() == 0;
        assert_eq!(T::from_slice(window).is_some(), aligned, "offset {offset}");
        let window = &mut bytes[offset..offset + size];
        assert_eq!(
            T::from_mut_slice(window).is_some(),
            aligned,
            "offset {offset}"
        );
    }
    assert!(T::from_slice(&bytes[..size + 1]).is_none());
    if size > 0 {
        assert!(T::from_slice(&bytes[..size - 1]).is_none());
    }
    assert_eq!(*T::from_slice(&bytes[..size]).unwrap(), T::zeroed());
}

#[test]
fn from_slice_and_from_mut_slice_check_length_and_alignment_for_all_integers() {
    check_from_slice_rejects_wrong_length_and_every_misalignment::<u8>();
    check_from_slice_rejects_wrong_length_and_every_misalignment::<u16>();
    check_from_slice_rejects_wrong_length_and_every_misalignment::<u32>();
    check_from_slice_rejects_wrong_length_and_every_misalignment::<u64>();
    check_from_slice_rejects_wrong_length_and_every_misalignment::<usize>();
    check_from_slice_rejects_wrong_length_and_every_misalignment::<i8>();
    check_from_slice_rejects_wrong_length_and_every_misalignment::<i16>();
    check_from_slice_rejects_wrong_length_and_every_misalignment::<i32>();
    check_from_slice_rejects_wrong_length_and_every_misalignment::<i64>();
    check_from_slice_rejects_wrong_length_and_every_misalignment::<isize>();
    check_from_slice_rejects_wrong_length_and_every_misalignment::<[u16; 3]>();
    check_from_slice_rejects_wrong_length_and_every_misalignment::<Le32>();
    check_from_slice_rejects_wrong_length_and_every_misalignment::<Be64>();
}

#[test]
fn from_mut_slice_writes_through() {
    let mut bytes = [0u8; 4];
    *u8::from_mut_slice(&mut bytes[1..2]).unwrap() = 9;
    assert_eq!(bytes, [0, 9, 0, 0]);
}

#[test]
fn zero_sized_types_are_byte_valued() {
    let empty: [u32; 0] = ByteValued::zeroed();
    assert_eq!(ByteValued::as_slice(&empty).len(), 0);
    assert!(<[u32; 0]>::from_slice(&[1]).is_none());
}

#[test]
fn as_slice_and_as_mut_slice_view_the_object_bytes() {
    let mut v = 0x0102_0304u32;
    assert_eq!(v.as_slice(), 0x0102_0304u32.to_ne_bytes());
    v.as_mut_slice()[0] = 0xff;
    assert_eq!(v.to_ne_bytes()[0], 0xff);
}

#[test]
fn arrays_of_any_length_and_nested_arrays_are_byte_valued() {
    let big = [7u8; 100];
    assert_eq!(ByteValued::as_slice(&big).len(), 100);
    let nested = [[1u16; 3]; 2];
    // Arrays have an inherent `as_slice` (elements), so name the trait method.
    assert_eq!(ByteValued::as_slice(&nested).len(), 12);
    assert_eq!(<[[u16; 3]; 2]>::zeroed(), [[0; 3]; 2]);
    assert_eq!(<[u128; 2]>::zeroed(), [0; 2]);
}

#[test]
fn as_bytes_gives_a_volatile_slice_over_the_object() {
    let mut v = 0u32;
    v.as_bytes().copy_from(&[1u8, 2, 3, 4]);
    assert_eq!(v, u32::from_ne_bytes([1, 2, 3, 4]));
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
struct Descriptor {
    addr: u64,
    len: u32,
    flags: u16,
    next: u16,
}
// SAFETY: repr(C), integer fields only, no padding (8 + 4 + 2 + 2 = 16).
unsafe impl ByteValued for Descriptor {}

#[test]
fn user_structs_round_trip_through_bytes() {
    let d = Descriptor {
        addr: 0x1000,
        len: 8,
        flags: 1,
        next: 3,
    };
    let copy = Descriptor::from_slice(d.as_slice()).copied();
    // `as_slice` of a 16-byte struct on the stack may be unaligned for `from_slice` only if
    // the struct is; repr(C) with a u64 field is 8-aligned.
    assert_eq!(copy, Some(d));
    assert_eq!(Descriptor::zeroed(), Descriptor::default());
}

#[cfg(feature = "std")]
#[test]
fn write_all_to_and_read_exact_from_use_std_io() {
    let v = 0x1122_3344u32;
    let mut out = std::vec::Vec::new();
    v.write_all_to(&mut out).unwrap();
    assert_eq!(out, v.to_ne_bytes());
    assert_eq!(u32::read_exact_from(&out[..]).unwrap(), v);
    let short = [1u8, 2, 3];
    assert_eq!(
        u32::read_exact_from(&short[..]).unwrap_err().kind(),
        std::io::ErrorKind::UnexpectedEof
    );
    let mut tiny = [0u8; 2];
    assert_eq!(
        v.write_all_to(&mut tiny[..]).unwrap_err().kind(),
        std::io::ErrorKind::WriteZero
    );
}

macro_rules! endian_round_trip {
    ($name:ident, $T:ident, $N:ty, $value:expr, $bytes:expr) => {
        #[test]
        fn $name() {
            let v = $T::from($value);
            assert_eq!(v.as_slice(), &$bytes[..]);
            assert_eq!(<$N>::from(v), $value);
            assert_eq!(v.to_native(), $value);
            assert!(v == $value);
            assert!($value == v);
            assert_eq!($T::default().to_native(), 0);
            assert_eq!(size_of::<$T>(), size_of::<$N>());
            assert_eq!(align_of::<$T>(), align_of::<$N>());
        }
    };
}

endian_round_trip!(le16_stores_little_endian, Le16, u16, 0x0102u16, [2u8, 1]);
endian_round_trip!(
    le32_stores_little_endian,
    Le32,
    u32,
    0x0102_0304u32,
    [4u8, 3, 2, 1]
);
endian_round_trip!(
    le64_stores_little_endian,
    Le64,
    u64,
    0x0102_0304_0506_0708u64,
    [8u8, 7, 6, 5, 4, 3, 2, 1]
);
endian_round_trip!(be16_stores_big_endian, Be16, u16, 0x0102u16, [1u8, 2]);
endian_round_trip!(
    be32_stores_big_endian,
    Be32,
    u32,
    0x0102_0304u32,
    [1u8, 2, 3, 4]
);
endian_round_trip!(
    be64_stores_big_endian,
    Be64,
    u64,
    0x0102_0304_0506_0708u64,
    [1u8, 2, 3, 4, 5, 6, 7, 8]
);
endian_round_trip!(
    lesize_stores_little_endian,
    LeSize,
    usize,
    0x0102usize,
    0x0102usize.to_le_bytes()
);
endian_round_trip!(
    besize_stores_big_endian,
    BeSize,
    usize,
    0x0102usize,
    0x0102usize.to_be_bytes()
);

#[test]
fn atomic_access_types_match_their_atomics() {
    fn check<T: AtomicAccess>() {
        assert_eq!(size_of::<T>(), size_of::<T::A>());
        assert!(align_of::<T::A>() <= size_of::<T>());
    }
    check::<u8>();
    check::<i16>();
    check::<u32>();
    check::<usize>();
    check::<isize>();
    #[cfg(target_has_atomic = "64")]
    check::<u64>();
}

#[test]
fn atomic_integer_new_load_store() {
    use core::sync::atomic::{AtomicU16, Ordering};
    let a = <AtomicU16 as AtomicInteger>::new(3);
    AtomicInteger::store(&a, 9, Ordering::SeqCst);
    assert_eq!(AtomicInteger::load(&a, Ordering::SeqCst), 9);
}

/// A `Bytes` container that checks the provided `write_obj`/`read_obj` forward to the slice
/// methods with the object's bytes.
struct Recorder {
    data: core::cell::RefCell<[u8; 16]>,
}

impl Bytes<usize> for Recorder {
    type E = ();

    fn write(&self, buf: &[u8], addr: usize) -> Result<usize, ()> {
        let mut data = self.data.borrow_mut();
        let n = buf.len().min(16usize.checked_sub(addr).ok_or(())?);
        data[addr..addr + n].copy_from_slice(&buf[..n]);
        Ok(n)
    }

    fn read(&self, buf: &mut [u8], addr: usize) -> Result<usize, ()> {
        let data = self.data.borrow();
        let n = buf.len().min(16usize.checked_sub(addr).ok_or(())?);
        buf[..n].copy_from_slice(&data[addr..addr + n]);
        Ok(n)
    }

    fn write_slice(&self, buf: &[u8], addr: usize) -> Result<(), ()> {
        (self.write(buf, addr)? == buf.len())
            .then_some(())
            .ok_or(())
    }

    fn read_slice(&self, buf: &mut [u8], addr: usize) -> Result<(), ()> {
        (self.read(buf, addr)? == buf.len()).then_some(()).ok_or(())
    }

    fn read_volatile_from<F: ReadVolatile>(
        &self,
        _: usize,
        _: &mut F,
        _: usize,
    ) -> Result<usize, ()> {
        Err(())
    }

    fn read_exact_volatile_from<F: ReadVolatile>(
        &self,
        _: usize,
        _: &mut F,
        _: usize,
    ) -> Result<(), ()> {
        Err(())
    }

    fn write_volatile_to<F: WriteVolatile>(
        &self,
        _: usize,
        _: &mut F,
        _: usize,
    ) -> Result<usize, ()> {
        Err(())
    }

    fn write_all_volatile_to<F: WriteVolatile>(
        &self,
        _: usize,
        _: &mut F,
        _: usize,
    ) -> Result<(), ()> {
        Err(())
    }

    fn store<T: AtomicAccess>(&self, _: T, _: usize, _: Ordering) -> Result<(), ()> {
        Err(())
    }

    fn load<T: AtomicAccess>(&self, _: usize, _: Ordering) -> Result<T, ()> {
        Err(())
    }
}

#[test]
fn provided_write_obj_and_read_obj_forward_to_the_slice_methods() {
    let r = Recorder {
        data: core::cell::RefCell::new([0; 16]),
    };
    r.write_obj(0x0a0b_0c0du32, 2).unwrap();
    assert_eq!(&r.data.borrow()[2..6], &0x0a0b_0c0du32.to_ne_bytes());
    assert_eq!(r.read_obj::<u32>(2).unwrap(), 0x0a0b_0c0d);
    assert!(r.write_obj(1u64, 12).is_err());
    assert!(r.read_obj::<u64>(12).is_err());
}
