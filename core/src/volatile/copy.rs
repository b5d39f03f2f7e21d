//! The copy engine: the only code in the crate that does pointer arithmetic or touches guest
//! memory through raw pointers.
//!
//! Rules it implements:
//! - A copy of at most 8 bytes is made of volatile accesses of the widest width (8, 4, 2, 1)
//!   that the alignment of both ends allows, so a naturally aligned object of 1, 2, 4 or 8 bytes
//!   moves in exactly one access and never tears.
//! - Larger copies use `copy_nonoverlapping` (memcpy speed); they may tear, as in every peer.
//! - Atomic accesses go through the standard atomic types of the same width.
//! - Pointer offsets use wrapping arithmetic, so that the offset-carrying pseudo pointers of
//!   lazily mapped slices can be sliced without ever being dereferenced.

use core::mem::{MaybeUninit, align_of, size_of};
use core::ptr::{copy, copy_nonoverlapping, read_volatile, write_volatile};
use core::sync::atomic::Ordering;

use crate::bytes::{AtomicAccess, AtomicInteger, ByteValued};

/// Returns `ptr` advanced by `count` bytes (wrapping; never dereferenced here).
#[inline(always)]
pub(crate) fn offset_ptr(ptr: *mut u8, count: usize) -> *mut u8 {
    ptr.wrapping_add(count)
}

/// Whether `ptr` is aligned to `align` (a power of two).
#[inline(always)]
pub(crate) fn is_aligned(ptr: *const u8, align: usize) -> bool {
    ptr.addr() & (align - 1) == 0
}

/// The largest power of two, at most 8, dividing both addresses.
#[inline(always)]
fn common_alignment(a: *const u8, b: *const u8) -> usize {
    let bits = a.addr() | b.addr() | 8;
    bits & bits.wrapping_neg()
}

/// Copies `len <= 8` bytes with the widest volatile accesses the common alignment allows.
///
/// # Safety
///
/// `src` must be valid for reads and `dst` valid for writes of `len` bytes; the ranges must not
/// overlap.
#[inline(always)]
unsafe fn copy_small(mut dst: *mut u8, mut src: *const u8, len: usize) {
    debug_assert!(len <= 8);
    let align = common_alignment(src, dst);
    let mut left = len;
    macro_rules! step {
        ($T:ty) => {
            while left >= size_of::<$T>() && align >= size_of::<$T>() {
                // SAFETY: both pointers are aligned to `align >= size_of::<$T>()` (and stay so,
                // since they advance by multiples of it) and at least `size_of::<$T>()` of the
                // `len` bytes remain valid at each (caller contract).
                unsafe { write_volatile(dst.cast::<$T>(), read_volatile(src.cast::<$T>())) };
                left -= size_of::<$T>();
                dst = dst.wrapping_add(size_of::<$T>());
                src = src.wrapping_add(size_of::<$T>());
            }
        };
    }
    if size_of::<usize>() >= 8 {
        step!(u64);
    }
    step!(u32);
    step!(u16);
    step!(u8);
}

/// Copies `len` bytes from `src` to `dst`; see the module docs for the access widths.
///
/// # Safety
///
/// `src` must be valid for reads and `dst` valid for writes of `len` bytes, and the two ranges
/// must not overlap.
#[inline(always)]
pub(crate) unsafe fn copy_bytes(dst: *mut u8, src: *const u8, len: usize) {
    if len <= 8 {
        // SAFETY: forwarded caller contract.
        unsafe { copy_small(dst, src, len) }
    } else {
        // SAFETY: forwarded caller contract.
        unsafe { copy_nonoverlapping(src, dst, len) }
    }
}

/// Copies `len` bytes between ranges that may overlap (both may be guest memory).
///
/// # Safety
///
/// `src` must be valid for reads and `dst` valid for writes of `len` bytes.
#[inline]
pub(crate) unsafe fn copy_overlapping(dst: *mut u8, src: *const u8, len: usize) {
    if len <= 8 {
        // Read everything first so that an overlap cannot feed back into the source.
        let mut tmp = MaybeUninit::<u64>::uninit();
        let tmp_ptr = tmp.as_mut_ptr().cast::<u8>();
        // SAFETY: `tmp` is a local of 8 bytes, valid and aligned for `len <= 8` bytes, and
        // cannot overlap `src` or `dst`; `src` is valid for `len` bytes (caller contract).
        unsafe { copy_small(tmp_ptr, src, len) };
        // SAFETY: `dst` is valid for `len` bytes (caller contract); `tmp` now holds them.
        unsafe { copy_small(dst, tmp_ptr, len) };
    } else {
        // SAFETY: forwarded caller contract; `copy` allows overlap.
        unsafe { copy(src, dst, len) }
    }
}

/// Reads a `T` from `src` (any alignment).
///
/// # Safety
///
/// `src` must be valid for reads of `size_of::<T>()` bytes.
#[inline(always)]
pub(crate) unsafe fn read_object<T: ByteValued>(src: *const u8) -> T {
    let size = size_of::<T>();
    if size <= 8 && size.is_power_of_two() && is_aligned(src, size) {
        // One access of exactly the object's width. The integer type is chosen by size;
        // `transmute_copy` reinterprets its bytes as `T` (valid: `T` is `ByteValued`).
        macro_rules! one {
            ($U:ty) => {{
                // SAFETY: `src` is aligned to `size == size_of::<$U>()` and valid for that many
                // bytes (caller contract).
                let v: $U = unsafe { read_volatile(src.cast::<$U>()) };
                // SAFETY: `$U` and `T` have the same size and `T` accepts every bit pattern.
                return unsafe { core::mem::transmute_copy::<$U, T>(&v) };
            }};
        }
        match size {
            1 => one!(u8),
            2 => one!(u16),
            4 => one!(u32),
            _ => {
                if size_of::<usize>() >= 8 {
                    one!(u64)
                }
            }
        }
    }
    let mut value = MaybeUninit::<T>::uninit();
    // SAFETY: `value` is a local valid for `size` bytes that cannot overlap `src`; `src` is valid
    // for `size` bytes (caller contract).
    unsafe { copy_bytes(value.as_mut_ptr().cast::<u8>(), src, size) };
    // SAFETY: all `size` bytes were written, and any bit pattern is a valid `T` (`ByteValued`).
    unsafe { value.assume_init() }
}

/// Writes `val` to `dst` (any alignment).
///
/// # Safety
///
/// `dst` must be valid for writes of `size_of::<T>()` bytes.
#[inline(always)]
pub(crate) unsafe fn write_object<T: ByteValued>(dst: *mut u8, val: T) {
    let size = size_of::<T>();
    if size <= 8 && size.is_power_of_two() && is_aligned(dst, size) {
        macro_rules! one {
            ($U:ty) => {{
                // SAFETY: `$U` has the size of `T`, and `T` has no padding (`ByteValued`), so
                // every byte read is initialised.
                let v: $U = unsafe { core::mem::transmute_copy::<T, $U>(&val) };
                // SAFETY: `dst` is aligned to `size == size_of::<$U>()` and valid for that many
                // bytes (caller contract).
                unsafe { write_volatile(dst.cast::<$U>(), v) };
                return;
            }};
        }
        match size {
            1 => one!(u8),
            2 => one!(u16),
            4 => one!(u32),
            _ => {
                if size_of::<usize>() >= 8 {
                    one!(u64)
                }
            }
        }
    }
    // SAFETY: `val` is a local of `size` initialised bytes (no padding, `ByteValued`) that
    // cannot overlap `dst`; `dst` is valid for `size` bytes (caller contract).
    unsafe { copy_bytes(dst, core::ptr::from_ref(&val).cast::<u8>(), size) }
}

/// Reads element `index` of an array of `T` starting at `base` (any alignment).
///
/// # Safety
///
/// `base` must be valid for reads of `(index + 1) * size_of::<T>()` bytes.
#[inline(always)]
pub(crate) unsafe fn read_element<T: ByteValued>(base: *const u8, index: usize) -> T {
    let at = base.wrapping_add(index * size_of::<T>());
    // SAFETY: `at` is in bounds by the caller's contract.
    unsafe { read_object(at) }
}

/// Writes element `index` of an array of `T` starting at `base` (any alignment).
///
/// # Safety
///
/// `base` must be valid for writes of `(index + 1) * size_of::<T>()` bytes.
#[inline(always)]
pub(crate) unsafe fn write_element<T: ByteValued>(base: *mut u8, index: usize, val: T) {
    let at = base.wrapping_add(index * size_of::<T>());
    // SAFETY: `at` is in bounds by the caller's contract.
    unsafe { write_object(at, val) }
}

/// Atomically loads a `T` from `src`.
///
/// # Safety
///
/// `src` must be valid for reads of `size_of::<T>()` bytes and aligned to
/// `align_of::<T::A>()`, and the memory must only ever be accessed atomically or volatilely
/// while this call runs (guest memory never has Rust references into it).
#[inline(always)]
pub(crate) unsafe fn atomic_load<T: AtomicAccess>(src: *const u8, order: Ordering) -> T {
    // `AtomicAccess` is a safe trait, so nothing else ties the two sizes together.
    const {
        assert!(
            size_of::<T>() == size_of::<T::A>(),
            "AtomicAccess::A must have the size of Self"
        )
    };
    debug_assert!(is_aligned(src, align_of::<T::A>()));
    // SAFETY: `src` is valid for `size_of::<T>()` bytes, which is the size of `T::A` (asserted
    // above), and aligned for `T::A` (caller contract). A shared reference to an atomic type
    // only asserts that the bytes are accessed atomically while it lives, which holds for the
    // duration of this call.
    let atomic = unsafe { &*src.cast::<T::A>() };
    T::from(atomic.load(order))
}

/// Atomically stores `val` to `dst`.
///
/// # Safety
///
/// As for [`atomic_load`], with `dst` valid for writes.
#[inline(always)]
pub(crate) unsafe fn atomic_store<T: AtomicAccess>(dst: *mut u8, val: T, order: Ordering) {
    const {
        assert!(
            size_of::<T>() == size_of::<T::A>(),
            "AtomicAccess::A must have the size of Self"
        )
    };
    debug_assert!(is_aligned(dst, align_of::<T::A>()));
    // SAFETY: as in `atomic_load`; atomics have interior mutability, so a shared reference is
    // enough to store through.
    let atomic = unsafe { &*dst.cast_const().cast::<T::A>() };
    atomic.store(val.into(), order);
}

/// Forms a shared reference to an atomic integer in memory.
///
/// # Safety
///
/// `src` must be valid for reads and writes of `size_of::<T>()` bytes for `'a`, aligned to
/// `align_of::<T>()`, and only accessed atomically or volatilely during `'a`.
#[inline(always)]
pub(crate) unsafe fn atomic_ref<'a, T: AtomicInteger>(src: *const u8) -> &'a T {
    // SAFETY: forwarded caller contract.
    unsafe { &*src.cast::<T>() }
}

/// Forms a reference to a `T` in memory (the `aligned_as_*` escape hatches).
///
/// # Safety
///
/// `src` must be valid and aligned for `T` during `'a`, and no access may contradict the
/// reference kind during `'a` (no writes at all for `&T`; no other access for `&mut T`).
#[inline(always)]
pub(crate) unsafe fn object_ref<'a, T>(src: *const u8) -> &'a T {
    // SAFETY: forwarded caller contract.
    unsafe { &*src.cast::<T>() }
}

/// As [`object_ref`], for a mutable reference.
///
/// # Safety
///
/// As [`object_ref`] for `&mut T`.
#[inline(always)]
#[allow(clippy::mut_from_ref)]
pub(crate) unsafe fn object_mut<'a, T>(src: *mut u8) -> &'a mut T {
    // SAFETY: forwarded caller contract.
    unsafe { &mut *src.cast::<T>() }
}

#[cfg(test)]
mod tests;
