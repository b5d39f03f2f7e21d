//! Address arithmetic for guest and region addresses.
//!
//! Addresses are newtypes over `u64` on every host, 32-bit included. They deliberately have no
//! `+`/`-` operators: every step is either checked (`checked_*`), reports the overflow
//! (`overflowing_*`) or is spelled `unchecked_*` and follows Rust's integer semantics (a debug
//! build panics with "attempt to add with overflow", a release build wraps; neither is UB).

use core::fmt::Debug;
use core::ops::{Add, BitAnd, BitOr, Not, Sub};

/// The raw integer type behind an address type.
pub trait AddressValue {
    /// The raw value: `u64` for every address type in this crate.
    type V: Copy
        + PartialEq
        + Eq
        + PartialOrd
        + Ord
        + Not<Output = Self::V>
        + Add<Output = Self::V>
        + Sub<Output = Self::V>
        + BitAnd<Output = Self::V>
        + BitOr<Output = Self::V>
        + Debug
        + From<u8>;

    /// The value zero.
    fn zero() -> Self::V {
        0u8.into()
    }

    /// The value one.
    fn one() -> Self::V {
        1u8.into()
    }
}

/// Arithmetic on an address type.
///
/// # Examples
///
/// ```
/// use vm_memory_core::{Address, GuestAddress};
///
/// let a = GuestAddress(0x1000);
/// assert_eq!(a.checked_add(0x10), Some(GuestAddress(0x1010)));
/// assert_eq!(GuestAddress(u64::MAX).checked_add(1), None);
/// assert_eq!(GuestAddress(0x1234).checked_align_up(0x1000), Some(GuestAddress(0x2000)));
/// assert_eq!(a.checked_offset_from(GuestAddress(0x800)), Some(0x800));
/// ```
pub trait Address:
    AddressValue
    + Sized
    + Default
    + Copy
    + Eq
    + PartialEq
    + Ord
    + PartialOrd
    + BitAnd<<Self as AddressValue>::V, Output = Self>
    + BitOr<<Self as AddressValue>::V, Output = Self>
{
    /// Creates an address from its raw value.
    fn new(addr: Self::V) -> Self;

    /// Returns the raw value of the address.
    fn raw_value(&self) -> Self::V;

    /// Returns the bitwise AND of the address with `mask`.
    fn mask(&self, mask: Self::V) -> Self::V {
        self.raw_value() & mask
    }

    /// Returns `self - base`, or `None` if `base` lies above `self`.
    fn checked_offset_from(&self, base: Self) -> Option<Self::V>;

    /// Returns `self - base` with Rust's integer semantics.
    ///
    /// # Panics
    ///
    /// In debug builds, if `base` lies above `self` ("attempt to subtract with overflow"); release
    /// builds wrap.
    fn unchecked_offset_from(&self, base: Self) -> Self::V {
        self.raw_value() - base.raw_value()
    }

    /// Rounds the address up to a multiple of `power_of_two`; `None` if that overflows.
    ///
    /// # Panics
    ///
    /// If `power_of_two` is zero or not a power of two.
    fn checked_align_up(&self, power_of_two: Self::V) -> Option<Self> {
        assert_ne!(power_of_two, Self::zero(), "alignment must not be zero");
        let mask = power_of_two - Self::one();
        assert_eq!(
            power_of_two & mask,
            Self::zero(),
            "alignment must be a power of two"
        );
        self.checked_add(mask).map(|x| x & !mask)
    }

    /// Rounds the address up to a multiple of `power_of_two` with Rust's integer semantics.
    ///
    /// The alignment is not validated; a value that is not a power of two gives a meaningless
    /// (but defined) result.
    ///
    /// # Panics
    ///
    /// In debug builds, if rounding overflows or `power_of_two` is zero.
    fn unchecked_align_up(&self, power_of_two: Self::V) -> Self {
        let mask = power_of_two - Self::one();
        self.unchecked_add(mask) & !mask
    }

    /// Adds `other`; `None` on overflow.
    fn checked_add(&self, other: Self::V) -> Option<Self>;

    /// Adds `other`, returning the wrapped sum and whether it overflowed.
    fn overflowing_add(&self, other: Self::V) -> (Self, bool);

    /// Adds `offset` with Rust's integer semantics.
    ///
    /// # Panics
    ///
    /// In debug builds, on overflow ("attempt to add with overflow"); release builds wrap.
    fn unchecked_add(&self, offset: Self::V) -> Self;

    /// Subtracts `other`; `None` on underflow.
    fn checked_sub(&self, other: Self::V) -> Option<Self>;

    /// Subtracts `other`, returning the wrapped difference and whether it underflowed.
    fn overflowing_sub(&self, other: Self::V) -> (Self, bool);

    /// Subtracts `other` with Rust's integer semantics.
    ///
    /// # Panics
    ///
    /// In debug builds, on underflow ("attempt to subtract with overflow"); release builds wrap.
    fn unchecked_sub(&self, other: Self::V) -> Self;
}

/// Implements `AddressValue`, `Address`, `Default`, `BitAnd<V>` and `BitOr<V>` for a
/// single-field tuple newtype over an unsigned integer.
macro_rules! address_newtype {
    ($T:ident, $V:ty) => {
        impl AddressValue for $T {
            type V = $V;
        }

        impl Address for $T {
            #[inline]
            fn new(value: $V) -> $T {
                $T(value)
            }

            #[inline]
            fn raw_value(&self) -> $V {
                self.0
            }

            #[inline]
            fn checked_offset_from(&self, base: $T) -> Option<$V> {
                self.0.checked_sub(base.0)
            }

            #[inline]
            fn checked_add(&self, other: $V) -> Option<$T> {
                self.0.checked_add(other).map($T)
            }

            #[inline]
            fn overflowing_add(&self, other: $V) -> ($T, bool) {
                let (sum, overflow) = self.0.overflowing_add(other);
                ($T(sum), overflow)
            }

            #[inline]
            #[track_caller]
            fn unchecked_add(&self, offset: $V) -> $T {
                $T(self.0 + offset)
            }

            #[inline]
            fn checked_sub(&self, other: $V) -> Option<$T> {
                self.0.checked_sub(other).map($T)
            }

            #[inline]
            fn overflowing_sub(&self, other: $V) -> ($T, bool) {
                let (diff, overflow) = self.0.overflowing_sub(other);
                ($T(diff), overflow)
            }

            #[inline]
            #[track_caller]
            fn unchecked_sub(&self, other: $V) -> $T {
                $T(self.0 - other)
            }
        }

        impl Default for $T {
            fn default() -> $T {
                $T(0)
            }
        }

        impl BitAnd<$V> for $T {
            type Output = $T;

            fn bitand(self, other: $V) -> $T {
                $T(self.0 & other)
            }
        }

        impl BitOr<$V> for $T {
            type Output = $T;

            fn bitor(self, other: $V) -> $T {
                $T(self.0 | other)
            }
        }
    };
}

/// An address in the guest's physical address space.
///
/// ```
/// use vm_memory_core::{Address, GuestAddress};
///
/// let gpa = GuestAddress(0xfff0);
/// assert_eq!(gpa.raw_value(), 0xfff0);
/// assert_eq!(gpa & 0xff, GuestAddress(0xf0));
/// ```
#[derive(Clone, Copy, Debug, Eq, PartialEq, Ord, PartialOrd, Hash)]
pub struct GuestAddress(pub u64);
address_newtype!(GuestAddress, u64);

/// An offset inside one guest memory region (0 is the region's first byte).
#[derive(Clone, Copy, Debug, Eq, PartialEq, Ord, PartialOrd, Hash)]
pub struct MemoryRegionAddress(pub u64);
address_newtype!(MemoryRegionAddress, u64);

/// A size or offset in the guest's address space.
pub type GuestUsize = <GuestAddress as AddressValue>::V;

#[cfg(test)]
mod tests;
