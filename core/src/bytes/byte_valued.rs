//! The `ByteValued` marker for plain-old-data types.

use core::mem::{MaybeUninit, align_of, size_of};
use core::slice::{from_raw_parts, from_raw_parts_mut};

use crate::volatile::VolatileSlice;

/// Types that can be built from any bit pattern of their size.
///
/// Guest memory holds whatever the guest wrote, so only such types may be read from it by value.
///
/// # Safety
///
/// Implement this only for types that
/// - are valid for every bit pattern of `size_of::<Self>()` bytes (no `bool`, `char`, enums,
///   references, pointers to data the type relies on, or niche-carrying types), and
/// - have no padding bytes (padding is uninitialised, and `as_slice` exposes every byte).
///
/// `#[repr(C)]` or `#[repr(transparent)]` structs whose fields are all `ByteValued` and leave no
/// padding qualify.
///
/// # Examples
///
/// ```
/// use vm_memory_core::ByteValued;
///
/// #[derive(Clone, Copy, Default)]
/// #[repr(C)]
/// struct Descriptor {
///     addr: u64,
///     len: u32,
///     flags: u16,
///     next: u16,
/// }
/// // SAFETY: repr(C), every field is an integer, and 8 + 4 + 2 + 2 leaves no padding.
/// unsafe impl ByteValued for Descriptor {}
///
/// let d = Descriptor { addr: 0x1000, len: 4, flags: 1, next: 2 };
/// assert_eq!(d.as_slice().len(), 16);
/// assert_eq!(Descriptor::zeroed().addr, 0);
/// ```
pub unsafe trait ByteValued: Copy + Send + Sync {
    /// Views `data` as `&Self`; `None` if the length is not `size_of::<Self>()` or `data` is not
    /// aligned for `Self`.
    fn from_slice(data: &[u8]) -> Option<&Self> {
        if data.len() != size_of::<Self>() || data.as_ptr().align_offset(align_of::<Self>()) != 0 {
            return None;
        }
        // SAFETY: `data` is exactly `size_of::<Self>()` initialised bytes, aligned for `Self`,
        // and any bit pattern is a valid `Self` (trait contract). The returned reference borrows
        // `data`, so it cannot outlive it or alias a mutable borrow.
        Some(unsafe { &*data.as_ptr().cast::<Self>() })
    }

    /// Views `data` as `&mut Self`; `None` if the length is not `size_of::<Self>()` or `data` is
    /// not aligned for `Self`.
    fn from_mut_slice(data: &mut [u8]) -> Option<&mut Self> {
        if data.len() != size_of::<Self>() || data.as_ptr().align_offset(align_of::<Self>()) != 0 {
            return None;
        }
        // SAFETY: as in `from_slice`; additionally any value written through the result is a
        // valid byte pattern for `data` because `Self` has no padding (trait contract).
        Some(unsafe { &mut *data.as_mut_ptr().cast::<Self>() })
    }

    /// The object's bytes, in memory order.
    fn as_slice(&self) -> &[u8] {
        // SAFETY: `self` is valid for `size_of::<Self>()` bytes, all of them initialised because
        // `Self` has no padding (trait contract); the slice borrows `self`.
        unsafe { from_raw_parts(core::ptr::from_ref(self).cast::<u8>(), size_of::<Self>()) }
    }

    /// The object's bytes, writable. Any bytes written leave a valid `Self`.
    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and every bit pattern is a valid `Self` (trait contract), so
        // writes through the slice cannot create an invalid value.
        unsafe { from_raw_parts_mut(core::ptr::from_mut(self).cast::<u8>(), size_of::<Self>()) }
    }

    /// The object as a [`VolatileSlice`], for use with [`ReadVolatile`](crate::ReadVolatile).
    fn as_bytes(&mut self) -> VolatileSlice<'_> {
        VolatileSlice::from(self.as_mut_slice())
    }

    /// The all-zero value.
    fn zeroed() -> Self {
        // SAFETY: all-zero bytes are one of the bit patterns that the trait contract declares
        // valid for `Self`.
        unsafe { MaybeUninit::<Self>::zeroed().assume_init() }
    }

    /// Writes the object's bytes to `writer`.
    ///
    /// # Errors
    ///
    /// Whatever `writer.write_all` returns.
    #[cfg(feature = "std")]
    fn write_all_to<W: std::io::Write>(&self, mut writer: W) -> std::io::Result<()> {
        writer.write_all(self.as_slice())
    }

    /// Reads an object from `reader`.
    ///
    /// # Errors
    ///
    /// Whatever `reader.read_exact` returns (`UnexpectedEof` when `reader` is too short).
    #[cfg(feature = "std")]
    fn read_exact_from<R: std::io::Read>(mut reader: R) -> std::io::Result<Self> {
        let mut value = Self::zeroed();
        reader.read_exact(value.as_mut_slice())?;
        Ok(value)
    }
}

macro_rules! byte_valued_integers {
    ($($T:ty),*) => {
        $(
            // SAFETY: primitive integers are valid for every bit pattern and have no padding.
            unsafe impl ByteValued for $T {}
        )*
    };
}

byte_valued_integers!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);

// SAFETY: an array of `ByteValued` elements has no padding between or after its elements (array
// layout is `N` back-to-back elements of `size_of::<T>()`, a multiple of the alignment) and is
// valid for every bit pattern because each element is.
unsafe impl<T: ByteValued, const N: usize> ByteValued for [T; N] {}
