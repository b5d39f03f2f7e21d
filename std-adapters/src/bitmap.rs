//! Dirty-page tracking: the bitmap traits, and with `backend-bitmap` the atomic page bitmap.
//!
//! Memory types are generic over a [`Bitmap`] that records which parts of guest memory were
//! written through this crate; `()` records nothing. Offsets are relative to the object that
//! owns the bitmap (a region, or a [`VolatileSlice`](crate::VolatileSlice)).

pub use vm_memory_core::bitmap::{
    BS, BaseSlice, Bitmap, BitmapSlice, FixedBitmap, MS, NewBitmap, WithBitmapSlice,
};

#[cfg(feature = "backend-bitmap")]
pub use vm_memory_core::bitmap::{ArcSlice, AtomicBitmap, DEFAULT_PAGE_SIZE, RefSlice};
