//! Integers that can be accessed atomically in guest memory.

use core::sync::atomic::Ordering;
use core::sync::atomic::{
    AtomicI8, AtomicI16, AtomicI32, AtomicIsize, AtomicU8, AtomicU16, AtomicU32, AtomicUsize,
};
#[cfg(target_has_atomic = "64")]
use core::sync::atomic::{AtomicI64, AtomicU64};

use super::ByteValued;

/// An atomic integer type that can be overlaid on guest memory.
///
/// # Safety
///
/// `Self` must have the same size as `Self::V`, an alignment no stricter than its size, and
/// `load`/`store` must be single atomic accesses to the object's bytes (so that a `&Self` formed
/// over shared guest memory behaves like the standard atomic of that width).
pub unsafe trait AtomicInteger: Sync + Send {
    /// The plain integer type.
    type V;

    /// Creates a new atomic holding `v`.
    fn new(v: Self::V) -> Self;

    /// Atomically loads the value.
    fn load(&self, order: Ordering) -> Self::V;

    /// Atomically stores `val`.
    fn store(&self, val: Self::V, order: Ordering);
}

macro_rules! atomic_integer {
    ($A:ty, $V:ty) => {
        // SAFETY: the standard atomics have the size and alignment of their integer and their
        // `load`/`store` are single atomic accesses.
        unsafe impl AtomicInteger for $A {
            type V = $V;

            #[inline]
            fn new(v: $V) -> Self {
                <$A>::new(v)
            }

            #[inline]
            fn load(&self, order: Ordering) -> $V {
                <$A>::load(self, order)
            }

            #[inline]
            fn store(&self, val: $V, order: Ordering) {
                <$A>::store(self, val, order)
            }
        }
    };
}

atomic_integer!(AtomicI8, i8);
atomic_integer!(AtomicI16, i16);
atomic_integer!(AtomicI32, i32);
atomic_integer!(AtomicIsize, isize);
atomic_integer!(AtomicU8, u8);
atomic_integer!(AtomicU16, u16);
atomic_integer!(AtomicU32, u32);
atomic_integer!(AtomicUsize, usize);
#[cfg(target_has_atomic = "64")]
atomic_integer!(AtomicI64, i64);
#[cfg(target_has_atomic = "64")]
atomic_integer!(AtomicU64, u64);

/// A plain integer that [`Bytes::load`](crate::Bytes::load) and
/// [`Bytes::store`](crate::Bytes::store) can access atomically through its atomic twin `A`.
///
/// Implemented for the integers of 8 to 32 bits and `usize`/`isize` everywhere, and for `u64`/`i64`
/// where the target has 64-bit atomics (`target_has_atomic = "64"`).
///
/// `A` must have the size of `Self`: the accesses check the bounds of `Self` and then touch
/// `A`. A `load` or `store` of a type whose `A` has another size fails to compile.
pub trait AtomicAccess:
    ByteValued
    + From<<<Self as AtomicAccess>::A as AtomicInteger>::V>
    + Into<<<Self as AtomicAccess>::A as AtomicInteger>::V>
{
    /// The atomic type used to access `Self`.
    type A: AtomicInteger;
}

macro_rules! atomic_access {
    ($T:ty, $A:ty) => {
        impl AtomicAccess for $T {
            type A = $A;
        }
    };
}

atomic_access!(i8, AtomicI8);
atomic_access!(i16, AtomicI16);
atomic_access!(i32, AtomicI32);
atomic_access!(isize, AtomicIsize);
atomic_access!(u8, AtomicU8);
atomic_access!(u16, AtomicU16);
atomic_access!(u32, AtomicU32);
atomic_access!(usize, AtomicUsize);
#[cfg(target_has_atomic = "64")]
atomic_access!(i64, AtomicI64);
#[cfg(target_has_atomic = "64")]
atomic_access!(u64, AtomicU64);
