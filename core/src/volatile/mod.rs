//! Volatile access to memory that someone else may change at any time.
//!
//! Guest memory is shared with the guest (and with other host threads), so this crate never
//! forms `&`/`&mut` references into it from safe code: it copies with volatile or atomic
//! accesses ([`VolatileSlice`], [`VolatileRef`], [`VolatileArrayRef`]) and hands out raw
//! pointers only inside guards ([`PtrGuard`], [`PtrGuardMut`]). All pointer arithmetic lives in
//! one private module (the copy engine); see its rules in the crate's `DESIGN.md`.
//!
//! Lazily mapped backends plug in through [`LazyMapping`].

mod copy;
mod error;
mod guard;
mod reference;
mod slice;
mod slice_bytes;

pub use error::{VolatileMemoryError, VolatileMemoryResult};
pub use guard::{LazyMapping, MapError, MappedWindow, PtrGuard, PtrGuardMut};
pub use reference::{VolatileArrayRef, VolatileRef};
pub use slice::VolatileSlice;

pub(crate) use copy::offset_ptr;
pub(crate) use slice::compute_end;

/// vm-memory 0.18's name for [`VolatileMemoryError`].
pub type Error = VolatileMemoryError;
/// vm-memory 0.18's name for [`VolatileMemoryResult`].
pub type Result<T> = VolatileMemoryResult<T>;

use core::mem::{align_of, size_of};

use crate::bitmap::{BS, Bitmap};
use crate::bytes::{AtomicInteger, ByteValued};

/// Returns `base + offset`.
///
/// # Errors
///
/// `Overflow { base, offset }` if the sum overflows `usize`.
pub fn compute_offset(base: usize, offset: usize) -> VolatileMemoryResult<usize> {
    base.checked_add(offset)
        .ok_or(VolatileMemoryError::Overflow { base, offset })
}

/// Memory that can hand out [`VolatileSlice`]s of itself.
///
/// Implementations provide [`len`](Self::len) and [`get_slice`](Self::get_slice); everything
/// else is derived. The provided methods check that `get_slice` honours its contract (a slice of
/// exactly `count` bytes) and panic if it does not, because trusting a wrong length would be
/// unsound.
pub trait VolatileMemory {
    /// The bitmap type of the memory.
    type B: Bitmap;

    /// The size of the memory in bytes.
    fn len(&self) -> usize;

    /// Whether the memory is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A slice of `count` bytes at `offset`. Must return exactly `count` bytes or an error.
    ///
    /// # Errors
    ///
    /// If the range is not inside the memory.
    fn get_slice(
        &self,
        offset: usize,
        count: usize,
    ) -> VolatileMemoryResult<VolatileSlice<'_, BS<'_, Self::B>>>;

    /// The whole memory as one slice.
    ///
    /// # Panics
    ///
    /// If `get_slice(0, len())` fails, which only a broken implementation does.
    fn as_volatile_slice(&self) -> VolatileSlice<'_, BS<'_, Self::B>> {
        match self.get_slice(0, self.len()) {
            Ok(slice) => slice,
            Err(e) => panic!("get_slice(0, len) failed: {e}"),
        }
    }

    /// A reference to the `T` at `offset` (no alignment needed).
    ///
    /// # Errors
    ///
    /// If the object is not inside the memory.
    fn get_ref<T: ByteValued>(
        &self,
        offset: usize,
    ) -> VolatileMemoryResult<VolatileRef<'_, T, BS<'_, Self::B>>> {
        let slice = checked_slice(self, offset, size_of::<T>())?;
        let (ptr, lazy) = (slice.raw_ptr(), slice.lazy_mapping());
        // SAFETY: `slice` covers exactly `size_of::<T>()` bytes at `ptr`, with this bitmap and
        // hook.
        Ok(unsafe { VolatileRef::with_bitmap(ptr, slice.into_bitmap(), lazy) })
    }

    /// A reference to an array of `n` elements of `T` at `offset`.
    ///
    /// # Errors
    ///
    /// `TooBig` if `n * size_of::<T>()` overflows `isize`, or if the array is not inside the
    /// memory.
    fn get_array_ref<T: ByteValued>(
        &self,
        offset: usize,
        n: usize,
    ) -> VolatileMemoryResult<VolatileArrayRef<'_, T, BS<'_, Self::B>>> {
        let bytes = slice::array_bytes::<T>(n)?;
        let slice = checked_slice(self, offset, bytes)?;
        let (ptr, lazy) = (slice.raw_ptr(), slice.lazy_mapping());
        // SAFETY: `slice` covers exactly `n * size_of::<T>()` bytes (fits `isize`) at `ptr`.
        Ok(unsafe { VolatileArrayRef::with_bitmap(ptr, n, slice.into_bitmap(), lazy) })
    }

    /// A shared reference to the `T` at `offset`.
    ///
    /// # Safety
    ///
    /// Nothing may write the object (guest included) while the reference lives, and the memory
    /// must stay mapped for the borrow. Prefer [`get_ref`](Self::get_ref).
    ///
    /// # Errors
    ///
    /// If the object is outside the memory, misaligned for `T` (`Misaligned`), or lazily mapped
    /// (`LazilyMapped`).
    unsafe fn aligned_as_ref<T: ByteValued>(&self, offset: usize) -> VolatileMemoryResult<&T> {
        let slice = direct_slice::<Self, T>(self, offset)?;
        // SAFETY: `slice` is a directly mapped, aligned range of `size_of::<T>()` bytes that
        // stays valid for the borrow of `self`; the caller guarantees nobody writes it meanwhile.
        Ok(unsafe { copy::object_ref(slice.raw_ptr()) })
    }

    /// A mutable reference to the `T` at `offset`. Writes through it are not dirty-tracked.
    ///
    /// # Safety
    ///
    /// Nothing else may access the object (guest included) while the reference lives.
    ///
    /// # Errors
    ///
    /// As [`aligned_as_ref`](Self::aligned_as_ref).
    #[allow(clippy::mut_from_ref)]
    unsafe fn aligned_as_mut<T: ByteValued>(&self, offset: usize) -> VolatileMemoryResult<&mut T> {
        let slice = direct_slice::<Self, T>(self, offset)?;
        // SAFETY: as in `aligned_as_ref`, with exclusive access guaranteed by the caller.
        Ok(unsafe { copy::object_mut(slice.raw_ptr()) })
    }

    /// A reference to the atomic integer at `offset`. Stores through it are not dirty-tracked.
    ///
    /// This is sound from safe code because atomics only ever access the memory atomically.
    ///
    /// # Errors
    ///
    /// If the object is outside the memory, misaligned (`Misaligned`), or lazily mapped
    /// (`LazilyMapped`: a long-lived reference cannot cover memory that is mapped per access).
    fn get_atomic_ref<T: AtomicInteger>(&self, offset: usize) -> VolatileMemoryResult<&T> {
        let slice = direct_slice::<Self, T>(self, offset)?;
        // SAFETY: `slice` is directly mapped (valid for the borrow of `self`), aligned for `T`
        // and exactly `size_of::<T>()` bytes; an atomic reference only accesses it atomically.
        Ok(unsafe { copy::atomic_ref(slice.raw_ptr()) })
    }

    /// Returns `base + offset` if it does not overflow and is at most `len()` (an empty access at
    /// the very end is allowed).
    ///
    /// # Errors
    ///
    /// `Overflow { base, offset }` or `OutOfBounds { addr: base + offset }`.
    fn compute_end_offset(&self, base: usize, offset: usize) -> VolatileMemoryResult<usize> {
        compute_end(self.len(), base, offset)
    }
}

/// `get_slice` with its length contract enforced.
fn checked_slice<M: VolatileMemory + ?Sized>(
    mem: &M,
    offset: usize,
    count: usize,
) -> VolatileMemoryResult<VolatileSlice<'_, BS<'_, M::B>>> {
    let slice = mem.get_slice(offset, count)?;
    assert_eq!(
        slice.len(),
        count,
        "VolatileMemory::get_slice returned a slice of the wrong length"
    );
    Ok(slice)
}

/// A directly mapped, `T`-aligned slice of `size_of::<T>()` bytes for long-lived references.
fn direct_slice<M: VolatileMemory + ?Sized, T>(
    mem: &M,
    offset: usize,
) -> VolatileMemoryResult<VolatileSlice<'_, BS<'_, M::B>>> {
    let slice = checked_slice(mem, offset, size_of::<T>())?;
    if slice.lazy_mapping().is_some() {
        return Err(VolatileMemoryError::LazilyMapped {
            offset: slice.raw_ptr().addr(),
        });
    }
    slice.check_alignment(align_of::<T>())?;
    Ok(slice)
}

impl<B: crate::bitmap::BitmapSlice> VolatileMemory for VolatileSlice<'_, B> {
    type B = B;

    fn len(&self) -> usize {
        VolatileSlice::len(self)
    }

    fn get_slice(&self, offset: usize, count: usize) -> VolatileMemoryResult<VolatileSlice<'_, B>> {
        self.subslice(offset, count)
    }
}

#[cfg(test)]
mod tests;
