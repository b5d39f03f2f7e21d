//! `VolatileRef` and `VolatileArrayRef`: typed views of one object or an array of objects.

use core::marker::PhantomData;
use core::mem::size_of;

use super::copy;
use super::guard::{LazyMapping, PtrGuard, PtrGuardMut};
use super::slice::VolatileSlice;
use crate::bitmap::BitmapSlice;
use crate::bytes::ByteValued;

/// A reference to one `T` in memory, accessed only by volatile loads and stores.
///
/// The object need not be aligned. A naturally aligned `T` of 1, 2, 4 or 8 bytes is loaded and
/// stored in one access.
///
/// ```
/// use vm_memory_core::{VolatileMemory, VolatileSlice};
///
/// let mut backing = [0u8; 8];
/// let mem = VolatileSlice::from(&mut backing[..]);
/// let r = mem.get_ref::<u32>(4).unwrap();
/// r.store(0xdead_beef);
/// assert_eq!(r.load(), 0xdead_beef);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct VolatileRef<'a, T, B = ()> {
    ptr: *mut u8,
    bitmap: B,
    lazy: Option<&'a dyn LazyMapping>,
    phantom: PhantomData<*mut T>,
}

impl<T: ByteValued> VolatileRef<'_, T, ()> {
    /// Creates a reference to the `T` at `ptr`, without dirty tracking.
    ///
    /// # Safety
    ///
    /// As [`VolatileSlice::new`] for `size_of::<T>()` bytes.
    pub unsafe fn new(ptr: *mut u8) -> Self {
        // SAFETY: forwarded caller contract.
        unsafe { Self::with_bitmap(ptr, (), None) }
    }
}

impl<'a, T: ByteValued, B: BitmapSlice> VolatileRef<'a, T, B> {
    /// Creates a reference with a bitmap slice and an optional lazy-mapping hook.
    ///
    /// # Safety
    ///
    /// As [`VolatileSlice::with_bitmap`] for `size_of::<T>()` bytes.
    pub unsafe fn with_bitmap(ptr: *mut u8, bitmap: B, lazy: Option<&'a dyn LazyMapping>) -> Self {
        VolatileRef {
            ptr,
            bitmap,
            lazy,
            phantom: PhantomData,
        }
    }

    /// A guarded pointer for reading the object.
    ///
    /// # Panics
    ///
    /// If the memory is lazily mapped and cannot be mapped.
    pub fn ptr_guard(&self) -> PtrGuard<'a> {
        // Straight to the guard: going through `to_slice` would clone the bitmap slice.
        match PtrGuard::new(self.lazy, self.ptr, size_of::<T>(), false) {
            Ok(guard) => guard,
            Err(e) => panic!("cannot map guest memory for reading: {e}"),
        }
    }

    /// A guarded pointer for writing the object (not dirty-tracked).
    ///
    /// # Panics
    ///
    /// If the memory is lazily mapped and cannot be mapped.
    pub fn ptr_guard_mut(&self) -> PtrGuardMut<'a> {
        match PtrGuardMut::new(self.lazy, self.ptr, size_of::<T>()) {
            Ok(guard) => guard,
            Err(e) => panic!("cannot map guest memory for writing: {e}"),
        }
    }

    /// The size of `T` in bytes.
    pub fn len(&self) -> usize {
        size_of::<T>()
    }

    /// The reference's bitmap slice.
    pub fn bitmap(&self) -> &B {
        &self.bitmap
    }

    /// Stores `v` and marks the object dirty.
    ///
    /// # Panics
    ///
    /// If the memory is lazily mapped and cannot be mapped.
    #[inline(always)]
    pub fn store(&self, v: T) {
        let guard = self.ptr_guard_mut();
        // SAFETY: the guard is valid for writes of `size_of::<T>()` bytes.
        unsafe { copy::write_object(guard.as_ptr(), v) };
        self.bitmap.mark_dirty(0, size_of::<T>());
    }

    /// Loads the object.
    ///
    /// # Panics
    ///
    /// If the memory is lazily mapped and cannot be mapped.
    #[inline(always)]
    pub fn load(&self) -> T {
        let guard = self.ptr_guard();
        // SAFETY: the guard is valid for reads of `size_of::<T>()` bytes.
        unsafe { copy::read_object(guard.as_ptr()) }
    }

    /// The object as a byte slice.
    pub fn to_slice(&self) -> VolatileSlice<'a, B> {
        // SAFETY: the reference's own contract covers `size_of::<T>()` bytes at `ptr` with this
        // bitmap and hook, which is what the slice needs.
        unsafe {
            VolatileSlice::with_bitmap(self.ptr, size_of::<T>(), self.bitmap.clone(), self.lazy)
        }
    }
}

/// A reference to an array of `T` in memory, accessed only by volatile loads and stores.
///
/// ```
/// use vm_memory_core::{VolatileMemory, VolatileSlice};
///
/// let mut backing = [0u8; 16];
/// let mem = VolatileSlice::from(&mut backing[..]);
/// let arr = mem.get_array_ref::<u16>(0, 8).unwrap();
/// arr.copy_from(&[1, 2, 3]);
/// assert_eq!(arr.load(2), 3);
/// let mut out = [0u16; 8];
/// assert_eq!(arr.copy_to(&mut out), 8);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct VolatileArrayRef<'a, T, B = ()> {
    ptr: *mut u8,
    nelem: usize,
    bitmap: B,
    lazy: Option<&'a dyn LazyMapping>,
    phantom: PhantomData<&'a T>,
}

impl<T: ByteValued> VolatileArrayRef<'_, T> {
    /// Creates a reference to `nelem` elements at `ptr`, without dirty tracking.
    ///
    /// # Safety
    ///
    /// As [`VolatileSlice::new`] for `nelem * size_of::<T>()` bytes, which must not overflow
    /// `isize`.
    pub unsafe fn new(ptr: *mut u8, nelem: usize) -> Self {
        // SAFETY: forwarded caller contract.
        unsafe { Self::with_bitmap(ptr, nelem, (), None) }
    }
}

impl<'a, T: ByteValued, B: BitmapSlice> VolatileArrayRef<'a, T, B> {
    /// Creates an array reference with a bitmap slice and an optional lazy-mapping hook.
    ///
    /// # Safety
    ///
    /// As [`VolatileSlice::with_bitmap`] for `nelem * size_of::<T>()` bytes, which must not
    /// overflow `isize`.
    pub unsafe fn with_bitmap(
        ptr: *mut u8,
        nelem: usize,
        bitmap: B,
        lazy: Option<&'a dyn LazyMapping>,
    ) -> Self {
        VolatileArrayRef {
            ptr,
            nelem,
            bitmap,
            lazy,
            phantom: PhantomData,
        }
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.nelem == 0
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.nelem
    }

    /// The size of one element in bytes.
    pub fn element_size(&self) -> usize {
        size_of::<T>()
    }

    /// A guarded pointer for reading the whole array (all `len() * element_size()` bytes).
    ///
    /// # Panics
    ///
    /// If the memory is lazily mapped and cannot be mapped.
    pub fn ptr_guard(&self) -> PtrGuard<'a> {
        self.to_slice().ptr_guard()
    }

    /// A guarded pointer for writing the whole array (not dirty-tracked).
    ///
    /// # Panics
    ///
    /// If the memory is lazily mapped and cannot be mapped.
    pub fn ptr_guard_mut(&self) -> PtrGuardMut<'a> {
        self.to_slice().ptr_guard_mut()
    }

    /// The array's bitmap slice.
    pub fn bitmap(&self) -> &B {
        &self.bitmap
    }

    /// The array as a byte slice.
    pub fn to_slice(&self) -> VolatileSlice<'a, B> {
        // SAFETY: the array's own contract covers `nelem * size_of::<T>()` bytes (no overflow)
        // at `ptr` with this bitmap and hook.
        unsafe {
            VolatileSlice::with_bitmap(
                self.ptr,
                self.nelem * size_of::<T>(),
                self.bitmap.clone(),
                self.lazy,
            )
        }
    }

    /// A reference to element `index`.
    ///
    /// # Panics
    ///
    /// If `index >= len()`.
    pub fn ref_at(&self, index: usize) -> VolatileRef<'a, T, B> {
        assert!(
            index < self.nelem,
            "index {index} out of bounds for an array of {}",
            self.nelem
        );
        let offset = index * size_of::<T>();
        // SAFETY: `index < nelem`, so the element lies inside the array's memory; its bitmap is
        // re-based at the element's offset.
        unsafe {
            VolatileRef::with_bitmap(
                copy::offset_ptr(self.ptr, offset),
                self.bitmap.slice_at(offset),
                self.lazy,
            )
        }
    }

    /// Loads element `index`.
    ///
    /// # Panics
    ///
    /// If `index >= len()`, or the memory is lazily mapped and cannot be mapped.
    pub fn load(&self, index: usize) -> T {
        self.ref_at(index).load()
    }

    /// Stores `value` at element `index` and marks it dirty.
    ///
    /// # Panics
    ///
    /// If `index >= len()`, or the memory is lazily mapped and cannot be mapped.
    pub fn store(&self, index: usize, value: T) {
        self.ref_at(index).store(value)
    }

    /// Copies `min(len(), buf.len())` elements into `buf`; returns that count.
    ///
    /// # Panics
    ///
    /// If the memory is lazily mapped and cannot be mapped.
    pub fn copy_to(&self, buf: &mut [T]) -> usize {
        self.to_slice().copy_to(buf)
    }

    /// Copies `min(len() * element_size(), dst.len())` bytes into `dst`, marking them dirty in
    /// `dst`.
    ///
    /// # Panics
    ///
    /// If either side is lazily mapped and cannot be mapped.
    pub fn copy_to_volatile_slice<S: BitmapSlice>(&self, dst: VolatileSlice<'_, S>) {
        self.to_slice().copy_to_volatile_slice(dst)
    }

    /// Copies `min(len(), buf.len())` elements from `buf`, marking them dirty.
    ///
    /// # Panics
    ///
    /// If the memory is lazily mapped and cannot be mapped.
    pub fn copy_from(&self, buf: &[T]) {
        self.to_slice().copy_from(buf)
    }
}

impl<'a, B: BitmapSlice> From<VolatileSlice<'a, B>> for VolatileArrayRef<'a, u8, B> {
    fn from(slice: VolatileSlice<'a, B>) -> Self {
        let (ptr, len, lazy) = (slice.raw_ptr(), slice.len(), slice.lazy_mapping());
        // SAFETY: the slice covers `len` bytes, i.e. `len` elements of `u8`, with this bitmap
        // and hook; a slice never exceeds `isize` bytes because it lies in one allocation or
        // mapping.
        unsafe { VolatileArrayRef::with_bitmap(ptr, len, slice.into_bitmap(), lazy) }
    }
}
