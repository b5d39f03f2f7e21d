//! Integers stored in a fixed byte order, for device and firmware structures.
//!
//! `Le32` holds a `u32` in little-endian byte order whatever the host's order is; converting
//! with `From`/`Into` or [`Le32::to_native`] swaps bytes where needed.
//!
//! ```
//! use vm_memory_core::{Be16, ByteValued, Le32};
//!
//! let v = Le32::from(0x1122_3344);
//! assert_eq!(v.as_slice(), &[0x44, 0x33, 0x22, 0x11]);
//! assert_eq!(u32::from(v), 0x1122_3344);
//! assert_eq!(Be16::from(0x0102).as_slice(), &[1, 2]);
//! assert!(v == 0x1122_3344u32);
//! ```

use super::ByteValued;

macro_rules! endian_type {
    ($Native:ident, $Name:ident, $to:ident, $from:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Copy, Clone, Eq, PartialEq, Debug, Default)]
        #[repr(transparent)]
        pub struct $Name($Native);

        const _: () = assert!(core::mem::size_of::<$Name>() == core::mem::size_of::<$Native>());
        const _: () = assert!(core::mem::align_of::<$Name>() == core::mem::align_of::<$Native>());

        impl $Name {
            /// Returns the value in the host's byte order.
            #[inline]
            pub fn to_native(self) -> $Native {
                $Native::$from(self.0)
            }
        }

        // SAFETY: a transparent wrapper of an integer: no padding, every bit pattern is valid.
        unsafe impl ByteValued for $Name {}

        impl PartialEq<$Native> for $Name {
            fn eq(&self, other: &$Native) -> bool {
                self.0 == $Native::$to(*other)
            }
        }

        impl PartialEq<$Name> for $Native {
            fn eq(&self, other: &$Name) -> bool {
                $Native::$from(other.0) == *self
            }
        }

        impl From<$Name> for $Native {
            #[inline]
            fn from(v: $Name) -> $Native {
                v.to_native()
            }
        }

        impl From<$Native> for $Name {
            #[inline]
            fn from(v: $Native) -> $Name {
                $Name($Native::$to(v))
            }
        }
    };
}

endian_type!(u16, Le16, to_le, from_le, "A `u16` stored little-endian.");
endian_type!(u32, Le32, to_le, from_le, "A `u32` stored little-endian.");
endian_type!(u64, Le64, to_le, from_le, "A `u64` stored little-endian.");
endian_type!(
    usize,
    LeSize,
    to_le,
    from_le,
    "A `usize` stored little-endian."
);
endian_type!(u16, Be16, to_be, from_be, "A `u16` stored big-endian.");
endian_type!(u32, Be32, to_be, from_be, "A `u32` stored big-endian.");
endian_type!(u64, Be64, to_be, from_be, "A `u64` stored big-endian.");
endian_type!(
    usize,
    BeSize,
    to_be,
    from_be,
    "A `usize` stored big-endian."
);
