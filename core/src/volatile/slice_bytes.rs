//! `Bytes<usize>` for `VolatileSlice`: offsets are relative to the slice's first byte.

use core::mem::{align_of, size_of};
use core::sync::atomic::Ordering;

use super::copy;
use super::error::{VolatileMemoryError, VolatileMemoryResult};
use super::slice::VolatileSlice;
use crate::bitmap::BitmapSlice;
use crate::bytes::{AtomicAccess, ByteValued, Bytes};
use crate::io::{ReadVolatile, WriteVolatile, checked_count, retry_interrupted};

impl<'a, B: BitmapSlice> VolatileSlice<'a, B> {
    /// The part of the slice from `addr` on, at most `count` bytes long; `OutOfBounds` when
    /// `addr >= len` (so non-empty accesses need a valid start).
    #[inline(always)]
    fn tail_for(&self, addr: usize, count: usize) -> VolatileMemoryResult<VolatileSlice<'a, B>> {
        if addr >= self.len() {
            return Err(VolatileMemoryError::OutOfBounds { addr });
        }
        Ok(self.subslice_unchecked(addr, count.min(self.len() - addr)))
    }

    /// The exact range `addr..addr + size_of::<T>()`, for object accesses.
    #[inline(always)]
    fn object_at<T>(&self, addr: usize) -> VolatileMemoryResult<VolatileSlice<'a, B>> {
        self.subslice(addr, size_of::<T>())
    }

    /// Reads the `T` at `addr`, which the caller has bounds-checked.
    #[inline(always)]
    pub(crate) fn read_obj_in_bounds<T: ByteValued>(&self) -> VolatileMemoryResult<T> {
        debug_assert_eq!(self.len(), size_of::<T>());
        // SAFETY: the pointer is valid for reads of the slice's `size_of::<T>()` bytes.
        self.with_host_ptr(false, |p| unsafe { copy::read_object::<T>(p) })
    }

    /// Writes `val` over the whole slice (exactly `size_of::<T>()` bytes) and marks it dirty.
    #[inline(always)]
    pub(crate) fn write_obj_in_bounds<T: ByteValued>(&self, val: T) -> VolatileMemoryResult<()> {
        debug_assert_eq!(self.len(), size_of::<T>());
        // SAFETY: the pointer is valid for writes of the slice's `size_of::<T>()` bytes.
        self.with_host_ptr(true, |p| unsafe { copy::write_object::<T>(p, val) })?;
        self.bitmap().mark_dirty(0, size_of::<T>());
        Ok(())
    }

    /// Atomically loads a `T` from the start of the slice (which covers `size_of::<T>()` bytes).
    #[inline(always)]
    pub(crate) fn load_in_bounds<T: AtomicAccess>(
        &self,
        order: Ordering,
    ) -> VolatileMemoryResult<T> {
        self.check_alignment(align_of::<T::A>())?;
        // SAFETY: the pointer is valid for `size_of::<T>()` bytes and aligned for `T::A` (checked
        // on the slice address; a lazily mapped window keeps the in-page offset).
        self.with_host_ptr(false, |p| unsafe { copy::atomic_load::<T>(p, order) })
    }

    /// Atomically stores a `T` at the start of the slice and marks it dirty.
    #[inline(always)]
    pub(crate) fn store_in_bounds<T: AtomicAccess>(
        &self,
        val: T,
        order: Ordering,
    ) -> VolatileMemoryResult<()> {
        self.check_alignment(align_of::<T::A>())?;
        // SAFETY: as in `load_in_bounds`, for writes.
        self.with_host_ptr(true, |p| unsafe { copy::atomic_store::<T>(p, val, order) })?;
        self.bitmap().mark_dirty(0, size_of::<T>());
        Ok(())
    }

    /// Copies `buf` into the start of the slice (`buf.len() <= len`) and marks it dirty.
    #[inline(always)]
    pub(crate) fn write_prefix(&self, buf: &[u8]) -> VolatileMemoryResult<usize> {
        let n = buf.len().min(self.len());
        if n == 0 {
            return Ok(0);
        }
        let dst = self.subslice_unchecked(0, n);
        // SAFETY: the pointer covers `n` writable bytes; `buf` is host memory of at least `n`
        // bytes, disjoint from guest memory.
        dst.with_host_ptr(true, |p| unsafe { copy::copy_bytes(p, buf.as_ptr(), n) })?;
        self.bitmap().mark_dirty(0, n);
        Ok(n)
    }

    /// Copies the start of the slice into `buf`; returns the count.
    #[inline(always)]
    pub(crate) fn read_prefix(&self, buf: &mut [u8]) -> VolatileMemoryResult<usize> {
        let n = buf.len().min(self.len());
        if n == 0 {
            return Ok(0);
        }
        let src = self.subslice_unchecked(0, n);
        // SAFETY: the pointer covers `n` readable bytes; `buf` is host memory of at least `n`
        // bytes, disjoint from guest memory.
        src.with_host_ptr(false, |p| unsafe {
            copy::copy_bytes(buf.as_mut_ptr(), p, n)
        })?;
        Ok(n)
    }
}

impl<B: BitmapSlice> Bytes<usize> for VolatileSlice<'_, B> {
    type E = VolatileMemoryError;

    fn write(&self, buf: &[u8], addr: usize) -> VolatileMemoryResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.tail_for(addr, buf.len())?.write_prefix(buf)
    }

    fn read(&self, buf: &mut [u8], addr: usize) -> VolatileMemoryResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.tail_for(addr, buf.len())?.read_prefix(buf)
    }

    fn write_slice(&self, buf: &[u8], addr: usize) -> VolatileMemoryResult<()> {
        let completed = self.write(buf, addr)?;
        VolatileMemoryError::check_complete(buf.len(), completed)
    }

    fn read_slice(&self, buf: &mut [u8], addr: usize) -> VolatileMemoryResult<()> {
        let completed = self.read(buf, addr)?;
        VolatileMemoryError::check_complete(buf.len(), completed)
    }

    #[inline]
    fn write_obj<T: ByteValued>(&self, val: T, addr: usize) -> VolatileMemoryResult<()> {
        if size_of::<T>() == 0 {
            return Ok(());
        }
        match self.object_at::<T>(addr) {
            Ok(slice) => slice.write_obj_in_bounds(val),
            // Keep the documented partial-write behaviour for objects that run off the end.
            Err(_) => self.write_slice(val.as_slice(), addr),
        }
    }

    #[inline]
    fn read_obj<T: ByteValued>(&self, addr: usize) -> VolatileMemoryResult<T> {
        if size_of::<T>() == 0 {
            return Ok(T::zeroed());
        }
        match self.object_at::<T>(addr) {
            Ok(slice) => slice.read_obj_in_bounds(),
            Err(_) => {
                let mut value = T::zeroed();
                self.read_slice(value.as_mut_slice(), addr)?;
                Ok(value)
            }
        }
    }

    fn read_volatile_from<F>(
        &self,
        addr: usize,
        src: &mut F,
        count: usize,
    ) -> VolatileMemoryResult<usize>
    where
        F: ReadVolatile,
    {
        let tail = self.offset(addr)?;
        let given = count.min(tail.len());
        let mut window = tail.subslice_unchecked(0, given);
        checked_count(retry_interrupted(|| src.read_volatile(&mut window))?, given)
    }

    fn read_exact_volatile_from<F>(
        &self,
        addr: usize,
        src: &mut F,
        count: usize,
    ) -> VolatileMemoryResult<()>
    where
        F: ReadVolatile,
    {
        let mut window = self.subslice(addr, count)?;
        src.read_exact_volatile(&mut window)
    }

    fn write_volatile_to<F>(
        &self,
        addr: usize,
        dst: &mut F,
        count: usize,
    ) -> VolatileMemoryResult<usize>
    where
        F: WriteVolatile,
    {
        let tail = self.offset(addr)?;
        let given = count.min(tail.len());
        let window = tail.subslice_unchecked(0, given);
        checked_count(retry_interrupted(|| dst.write_volatile(&window))?, given)
    }

    fn write_all_volatile_to<F>(
        &self,
        addr: usize,
        dst: &mut F,
        count: usize,
    ) -> VolatileMemoryResult<()>
    where
        F: WriteVolatile,
    {
        let window = self.subslice(addr, count)?;
        dst.write_all_volatile(&window)
    }

    #[inline]
    fn store<T: AtomicAccess>(
        &self,
        val: T,
        addr: usize,
        order: Ordering,
    ) -> VolatileMemoryResult<()> {
        self.object_at::<T>(addr)?.store_in_bounds(val, order)
    }

    #[inline]
    fn load<T: AtomicAccess>(&self, addr: usize, order: Ordering) -> VolatileMemoryResult<T> {
        self.object_at::<T>(addr)?.load_in_bounds(order)
    }
}
