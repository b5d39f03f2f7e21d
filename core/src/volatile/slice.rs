//! `VolatileSlice`: a bounded window of memory that is only accessed through volatile or atomic
//! operations.

use core::mem::size_of;

use super::copy;
use super::error::{VolatileMemoryError, VolatileMemoryResult};
use super::guard::{LazyMapping, PtrGuard, PtrGuardMut};
use crate::bitmap::BitmapSlice;
use crate::bytes::ByteValued;

pub use def::VolatileSlice;

mod def {
    use super::LazyMapping;

    /// A window of `len` bytes of memory, accessed only through volatile and atomic operations.
    ///
    /// A `VolatileSlice` never hands out Rust references to the memory it covers (the guest may
    /// change it at any time), only copies and guarded raw pointers. Writes through it are
    /// recorded in its bitmap slice `B`.
    ///
    /// # Invariants
    ///
    /// 1. If `lazy` is `None`, `ptr` is valid for volatile and atomic reads and writes of `len`
    ///    bytes for `'a`, and `ptr.addr() + len` does not overflow.
    /// 2. If `lazy` is `Some(hook)`, `ptr.addr()` is the offset of the slice inside `hook`'s
    ///    object, and `hook` can map any subrange of `ptr.addr()..ptr.addr() + len` during `'a`.
    /// 3. Offset 0 of `bitmap` corresponds to the first byte of the slice.
    ///
    /// Only `unsafe` constructors can build a slice, so safe code cannot break these.
    #[derive(Clone, Copy, Debug)]
    pub struct VolatileSlice<'a, B = ()> {
        ptr: *mut u8,
        len: usize,
        bitmap: B,
        lazy: Option<&'a dyn LazyMapping>,
    }

    impl<'a, B> VolatileSlice<'a, B> {
        /// Builds a slice from its parts.
        ///
        /// # Safety
        ///
        /// The parts must satisfy the type's invariants for `'a`.
        #[inline(always)]
        pub(crate) const unsafe fn from_parts(
            ptr: *mut u8,
            len: usize,
            bitmap: B,
            lazy: Option<&'a dyn LazyMapping>,
        ) -> Self {
            VolatileSlice {
                ptr,
                len,
                bitmap,
                lazy,
            }
        }

        /// The pointer field: a host pointer, or an offset for lazily mapped slices.
        #[inline(always)]
        pub(crate) fn raw_ptr(&self) -> *mut u8 {
            self.ptr
        }

        /// The number of bytes in the slice.
        #[inline(always)]
        pub fn len(&self) -> usize {
            self.len
        }

        /// Whether the slice covers no bytes.
        #[inline(always)]
        pub fn is_empty(&self) -> bool {
            self.len == 0
        }

        /// The slice's dirty bitmap (offset 0 is the slice's first byte).
        #[inline(always)]
        pub fn bitmap(&self) -> &B {
            &self.bitmap
        }

        /// The hook that maps this slice per access, if it is lazily mapped.
        #[inline(always)]
        pub fn lazy_mapping(&self) -> Option<&'a dyn LazyMapping> {
            self.lazy
        }

        /// Consumes the slice, returning its bitmap.
        #[inline(always)]
        pub(crate) fn into_bitmap(self) -> B {
            self.bitmap
        }
    }
}

impl<'a> VolatileSlice<'a, ()> {
    /// Creates a slice over `len` bytes at `ptr`, without dirty tracking.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for volatile reads and writes of `len` bytes for `'a`, and during `'a`
    /// no Rust reference may be used to access that memory in a way that conflicts with
    /// concurrent volatile accesses (in practice: treat it as shared, externally mutable memory).
    /// `ptr.addr() + len` must not overflow.
    #[inline(always)]
    pub unsafe fn new(ptr: *mut u8, len: usize) -> VolatileSlice<'a> {
        // SAFETY: forwarded caller contract (invariant 1); `()` tracks nothing (invariant 3).
        unsafe { VolatileSlice::from_parts(ptr, len, (), None) }
    }
}

impl<'a> From<&'a mut [u8]> for VolatileSlice<'a, ()> {
    /// Wraps a byte slice; the borrow keeps everyone else away for `'a`.
    fn from(value: &'a mut [u8]) -> Self {
        // SAFETY: the exclusive borrow makes `value` valid for reads and writes of its length
        // for `'a` and excludes every other access; an allocation never wraps the address space.
        unsafe { VolatileSlice::new(value.as_mut_ptr(), value.len()) }
    }
}

impl<'a, B: BitmapSlice> VolatileSlice<'a, B> {
    /// Creates a slice with a bitmap slice and, for lazily mapped memory, a mapping hook.
    ///
    /// Callers without a hook pass `None`.
    ///
    /// # Safety
    ///
    /// Without `lazy`: as [`VolatileSlice::new`]. With `lazy`: `ptr.addr()` must be the slice's
    /// offset inside the hook's object and the hook must be able to map every subrange of
    /// `ptr.addr()..ptr.addr() + len` during `'a`. Offset 0 of `bitmap` must be the slice's
    /// first byte.
    #[inline(always)]
    pub unsafe fn with_bitmap(
        ptr: *mut u8,
        len: usize,
        bitmap: B,
        lazy: Option<&'a dyn LazyMapping>,
    ) -> VolatileSlice<'a, B> {
        // SAFETY: forwarded caller contract.
        unsafe { VolatileSlice::from_parts(ptr, len, bitmap, lazy) }
    }

    /// A guarded pointer for reading the whole slice.
    ///
    /// # Panics
    ///
    /// If the slice is lazily mapped and its backend cannot map it; use
    /// [`try_ptr_guard`](Self::try_ptr_guard) to get an error instead.
    #[inline(always)]
    pub fn ptr_guard(&self) -> PtrGuard<'a> {
        match self.try_ptr_guard() {
            Ok(guard) => guard,
            Err(e) => panic!("cannot map guest memory for reading: {e}"),
        }
    }

    /// A guarded pointer for writing the whole slice. Writes through it are not dirty-tracked:
    /// call `bitmap().mark_dirty(..)` for what you write.
    ///
    /// # Panics
    ///
    /// If the slice is lazily mapped and its backend cannot map it; use
    /// [`try_ptr_guard_mut`](Self::try_ptr_guard_mut) to get an error instead.
    #[inline(always)]
    pub fn ptr_guard_mut(&self) -> PtrGuardMut<'a> {
        match self.try_ptr_guard_mut() {
            Ok(guard) => guard,
            Err(e) => panic!("cannot map guest memory for writing: {e}"),
        }
    }

    /// A guarded pointer for reading the whole slice.
    ///
    /// # Errors
    ///
    /// `MappingFailed` if the slice is lazily mapped and its backend cannot map it.
    #[inline(always)]
    pub fn try_ptr_guard(&self) -> VolatileMemoryResult<PtrGuard<'a>> {
        PtrGuard::new(self.lazy_mapping(), self.raw_ptr(), self.len(), false)
    }

    /// A guarded pointer for writing the whole slice (not dirty-tracked).
    ///
    /// # Errors
    ///
    /// `MappingFailed` if the slice is lazily mapped and its backend cannot map it.
    #[inline(always)]
    pub fn try_ptr_guard_mut(&self) -> VolatileMemoryResult<PtrGuardMut<'a>> {
        PtrGuardMut::new(self.lazy_mapping(), self.raw_ptr(), self.len())
    }

    /// Runs `access` on the host address of the whole slice, mapping it for the call if it is
    /// lazily mapped (see [`guard::with_host_ptr`](super::guard::with_host_ptr)).
    #[inline(always)]
    pub(crate) fn with_host_ptr<R>(
        &self,
        write: bool,
        access: impl FnOnce(*mut u8) -> R,
    ) -> VolatileMemoryResult<R> {
        super::guard::with_host_ptr(
            self.lazy_mapping(),
            self.raw_ptr(),
            self.len(),
            write,
            access,
        )
    }

    /// Splits the slice at `mid`: `[0, mid)` and `[mid, len)`. `mid == len` gives an empty tail.
    ///
    /// # Errors
    ///
    /// As [`offset`](Self::offset) when `mid > len`.
    pub fn split_at(&self, mid: usize) -> VolatileMemoryResult<(Self, Self)> {
        let tail = self.offset(mid)?;
        // SAFETY: `mid <= len` (checked by `offset`), so the head is a prefix of `self` with the
        // same pointer, hook and bitmap origin.
        let head = unsafe {
            VolatileSlice::from_parts(
                self.raw_ptr(),
                mid,
                self.bitmap().clone(),
                self.lazy_mapping(),
            )
        };
        Ok((head, tail))
    }

    /// The sub-slice of `count` bytes at `offset`.
    ///
    /// # Errors
    ///
    /// `Overflow { base: offset, offset: count }` if the end overflows, and
    /// `OutOfBounds { addr: offset + count }` if it is past the end.
    pub fn subslice(&self, offset: usize, count: usize) -> VolatileMemoryResult<Self> {
        let _end = compute_end(self.len(), offset, count)?;
        Ok(self.subslice_unchecked(offset, count))
    }

    /// As `subslice`, after the caller has checked `offset + count <= len`.
    #[inline(always)]
    pub(crate) fn subslice_unchecked(&self, offset: usize, count: usize) -> Self {
        debug_assert!(
            offset
                .checked_add(count)
                .is_some_and(|end| end <= self.len())
        );
        // SAFETY: the caller checked that `offset..offset + count` lies inside the slice, so the
        // result covers a subrange of memory (or of the lazily mapped object) that `self` covers,
        // and its bitmap is re-based at `offset`.
        unsafe {
            VolatileSlice::from_parts(
                copy::offset_ptr(self.raw_ptr(), offset),
                count,
                self.bitmap().slice_at(offset),
                self.lazy_mapping(),
            )
        }
    }

    /// The slice without its first `count` bytes; `count == len` gives an empty slice.
    ///
    /// # Errors
    ///
    /// `Overflow { base, offset: count }` if the pointer plus `count` overflows, and
    /// `OutOfBounds { addr }` if `count > len`, where `base` and `addr` are host addresses (the
    /// pointer and the pointer plus `count`), as in vm-memory 0.18.
    pub fn offset(&self, count: usize) -> VolatileMemoryResult<VolatileSlice<'a, B>> {
        let base = self.raw_ptr().addr();
        let new_addr = base
            .checked_add(count)
            .ok_or(VolatileMemoryError::Overflow {
                base,
                offset: count,
            })?;
        let new_len = self
            .len()
            .checked_sub(count)
            .ok_or(VolatileMemoryError::OutOfBounds { addr: new_addr })?;
        Ok(self.subslice_unchecked(count, new_len))
    }

    /// Copies `min(buf.len(), len / size_of::<T>())` elements into `buf`; returns that count.
    ///
    /// Each naturally aligned element of 1, 2, 4 or 8 bytes is read in one access.
    ///
    /// # Panics
    ///
    /// If the slice is lazily mapped and cannot be mapped.
    pub fn copy_to<T: ByteValued>(&self, buf: &mut [T]) -> usize {
        if size_of::<T>() == 0 {
            return 0;
        }
        let count = buf.len().min(self.len() / size_of::<T>());
        if count == 0 {
            return 0;
        }
        let guard = self.ptr_guard();
        if size_of::<T>() == 1 {
            // SAFETY: the guard is valid for reads of `len >= count` bytes and `buf` for writes
            // of `count` bytes; `buf` is host memory, disjoint from the guarded range.
            unsafe { copy::copy_bytes(buf.as_mut_ptr().cast::<u8>(), guard.as_ptr(), count) };
        } else {
            for (i, slot) in buf.iter_mut().take(count).enumerate() {
                // SAFETY: `(i + 1) * size_of::<T>() <= count * size_of::<T>() <= len`.
                *slot = unsafe { copy::read_element::<T>(guard.as_ptr(), i) };
            }
        }
        count
    }

    /// Copies `min(len, dst.len())` bytes into `dst` and marks them dirty in `dst`'s bitmap.
    /// The two slices may overlap.
    ///
    /// # Panics
    ///
    /// If either slice is lazily mapped and cannot be mapped.
    pub fn copy_to_volatile_slice<S: BitmapSlice>(&self, dst: VolatileSlice<'_, S>) {
        let count = self.len().min(dst.len());
        if count == 0 {
            return;
        }
        let src_guard = self.ptr_guard();
        let dst_guard = dst.ptr_guard_mut();
        // SAFETY: both guards are valid for `count` bytes (each covers its whole slice, whose
        // length is at least `count`); `copy_overlapping` allows the ranges to overlap.
        unsafe { copy::copy_overlapping(dst_guard.as_ptr(), src_guard.as_ptr(), count) };
        dst.bitmap().mark_dirty(0, count);
    }

    /// Copies `min(buf.len(), len / size_of::<T>())` elements from `buf` into the slice and
    /// marks them dirty.
    ///
    /// Each naturally aligned element of 1, 2, 4 or 8 bytes is written in one access.
    ///
    /// # Panics
    ///
    /// If the slice is lazily mapped and cannot be mapped.
    pub fn copy_from<T: ByteValued>(&self, buf: &[T]) {
        if size_of::<T>() == 0 {
            return;
        }
        let count = buf.len().min(self.len() / size_of::<T>());
        if count == 0 {
            return;
        }
        let guard = self.ptr_guard_mut();
        if size_of::<T>() == 1 {
            // SAFETY: the guard is valid for writes of `len >= count` bytes, `buf` for reads of
            // `count` bytes; host buffer and guest range are disjoint.
            unsafe { copy::copy_bytes(guard.as_ptr(), buf.as_ptr().cast::<u8>(), count) };
        } else {
            for (i, value) in buf.iter().take(count).enumerate() {
                // SAFETY: `(i + 1) * size_of::<T>() <= count * size_of::<T>() <= len`.
                unsafe { copy::write_element::<T>(guard.as_ptr(), i, *value) };
            }
        }
        self.bitmap().mark_dirty(0, count * size_of::<T>());
    }

    /// Returns `Misaligned` unless the slice's address is a multiple of `alignment`.
    #[inline(always)]
    pub(crate) fn check_alignment(&self, alignment: usize) -> VolatileMemoryResult<()> {
        if copy::is_aligned(self.raw_ptr(), alignment) {
            Ok(())
        } else {
            Err(VolatileMemoryError::Misaligned {
                addr: self.raw_ptr().addr(),
                alignment,
            })
        }
    }

    /// The same memory with another bitmap slice (IOMMU dirty tracking in IOVA space).
    #[inline(always)]
    pub fn with_replaced_bitmap<NB: BitmapSlice>(self, bitmap: NB) -> VolatileSlice<'a, NB> {
        let (ptr, len, lazy) = (self.raw_ptr(), self.len(), self.lazy_mapping());
        // SAFETY: same memory and hook as `self`; the caller supplies a bitmap whose offset 0 is
        // the slice's first byte (a wrong bitmap only misplaces dirty bits, it is not unsound).
        unsafe { VolatileSlice::from_parts(ptr, len, bitmap, lazy) }
    }
}

/// Checks that `offset + count` neither overflows nor exceeds `len`; returns the end.
///
/// # Errors
///
/// `Overflow { base: offset, offset: count }` or `OutOfBounds { addr: offset + count }`.
#[inline(always)]
pub(crate) fn compute_end(len: usize, offset: usize, count: usize) -> VolatileMemoryResult<usize> {
    let end = offset
        .checked_add(count)
        .ok_or(VolatileMemoryError::Overflow {
            base: offset,
            offset: count,
        })?;
    if end > len {
        return Err(VolatileMemoryError::OutOfBounds { addr: end });
    }
    Ok(end)
}

/// The byte size of `count` elements of `T`, which must fit in `isize`.
///
/// # Errors
///
/// `TooBig { nelements: count, size }` otherwise.
#[inline]
pub(crate) fn array_bytes<T>(count: usize) -> VolatileMemoryResult<usize> {
    let size = size_of::<T>();
    count
        .checked_mul(size)
        .filter(|&bytes| isize::try_from(bytes).is_ok() && isize::try_from(count).is_ok())
        .ok_or(VolatileMemoryError::TooBig {
            nelements: count,
            size,
        })
}
