//! `Bytes<GuestAddress>` for every `GuestMemory`.
//!
//! Objects and atomics that lie inside one piece of memory take a fast path: one lookup
//! ([`GuestMemory::single_slice`]) and one copy. Everything else walks
//! [`GuestMemory::get_slices`]. Both paths give the same results and errors.

use core::mem::size_of;
use core::sync::atomic::Ordering;

use super::{GuestMemory, GuestMemoryError, GuestMemorySliceIterator, Permissions, Result};
use crate::address::GuestAddress;
use crate::bytes::{AtomicAccess, ByteValued, Bytes};
use crate::io::{ReadVolatile, WriteVolatile};

/// Turns a short count into `PartialBuffer`.
#[inline]
fn complete(expected: usize, completed: usize) -> Result<()> {
    if completed == expected {
        Ok(())
    } else {
        Err(GuestMemoryError::PartialBuffer {
            expected,
            completed,
        })
    }
}

impl<T: GuestMemory + ?Sized> Bytes<GuestAddress> for T {
    type E = GuestMemoryError;

    /// Writes across regions; stops at the first hole and returns the count so far.
    /// `InvalidGuestAddress(addr)` if `addr` itself is unmapped and `buf` is not empty.
    fn write(&self, buf: &[u8], addr: GuestAddress) -> Result<usize> {
        let mut done = 0;
        for slice in self
            .get_slices(addr, buf.len(), Permissions::Write)?
            .stop_on_error()?
        {
            done += slice.write_prefix(&buf[done..])?;
        }
        Ok(done)
    }

    /// Reads across regions; stops at the first hole and returns the count so far.
    fn read(&self, buf: &mut [u8], addr: GuestAddress) -> Result<usize> {
        let mut done = 0;
        for slice in self
            .get_slices(addr, buf.len(), Permissions::Read)?
            .stop_on_error()?
        {
            done += slice.read_prefix(&mut buf[done..])?;
        }
        Ok(done)
    }

    fn write_slice(&self, buf: &[u8], addr: GuestAddress) -> Result<()> {
        complete(buf.len(), self.write(buf, addr)?)
    }

    fn read_slice(&self, buf: &mut [u8], addr: GuestAddress) -> Result<()> {
        complete(buf.len(), self.read(buf, addr)?)
    }

    #[inline(always)]
    fn write_obj<O: ByteValued>(&self, val: O, addr: GuestAddress) -> Result<()> {
        if size_of::<O>() == 0 {
            return Ok(());
        }
        match self.single_slice(addr, size_of::<O>(), Permissions::Write) {
            Some(slice) => Ok(slice.write_obj_in_bounds(val)?),
            None => slow::write_obj(self, val, addr),
        }
    }

    #[inline(always)]
    fn read_obj<O: ByteValued>(&self, addr: GuestAddress) -> Result<O> {
        if size_of::<O>() == 0 {
            return Ok(O::zeroed());
        }
        match self.single_slice(addr, size_of::<O>(), Permissions::Read) {
            Some(slice) => Ok(slice.read_obj_in_bounds()?),
            None => slow::read_obj(self, addr),
        }
    }

    /// One read from `src` per region piece; the counts are summed. A short read does not stop
    /// the loop, as in vm-memory 0.18 (the next piece reads the next bytes of `src`).
    fn read_volatile_from<F>(&self, addr: GuestAddress, src: &mut F, count: usize) -> Result<usize>
    where
        F: ReadVolatile,
    {
        let mut done = 0;
        for slice in self
            .get_slices(addr, count, Permissions::Write)?
            .stop_on_error()?
        {
            done += slice.read_volatile_from(0, src, slice.len())?;
        }
        Ok(done)
    }

    fn read_exact_volatile_from<F>(
        &self,
        addr: GuestAddress,
        src: &mut F,
        count: usize,
    ) -> Result<()>
    where
        F: ReadVolatile,
    {
        complete(count, self.read_volatile_from(addr, src, count)?)
    }

    /// Writes each region piece completely to `dst` (reading memory may have side effects, so
    /// no piece is read twice); returns the bytes written.
    fn write_volatile_to<F>(&self, addr: GuestAddress, dst: &mut F, count: usize) -> Result<usize>
    where
        F: WriteVolatile,
    {
        let mut done = 0;
        for slice in self
            .get_slices(addr, count, Permissions::Read)?
            .stop_on_error()?
        {
            slice.write_all_volatile_to(0, dst, slice.len())?;
            done += slice.len();
        }
        Ok(done)
    }

    fn write_all_volatile_to<F>(&self, addr: GuestAddress, dst: &mut F, count: usize) -> Result<()>
    where
        F: WriteVolatile,
    {
        complete(count, self.write_volatile_to(addr, dst, count)?)
    }

    /// Fails with `InvalidBackendAddress` if the object straddles two regions or is misaligned.
    #[inline(always)]
    fn store<O: AtomicAccess>(&self, val: O, addr: GuestAddress, order: Ordering) -> Result<()> {
        match self.single_slice(addr, size_of::<O>(), Permissions::Write) {
            Some(slice) => Ok(slice.store_in_bounds(val, order)?),
            None => slow::store(self, val, addr, order),
        }
    }

    /// Fails with `InvalidBackendAddress` if the object straddles two regions or is misaligned.
    #[inline(always)]
    fn load<O: AtomicAccess>(&self, addr: GuestAddress, order: Ordering) -> Result<O> {
        match self.single_slice(addr, size_of::<O>(), Permissions::Read) {
            Some(slice) => Ok(slice.load_in_bounds(order)?),
            None => slow::load(self, addr, order),
        }
    }
}

/// The general paths of the object and atomic accesses, kept out of line so that the fast paths
/// stay small enough to inline.
mod slow {
    use super::*;

    #[cold]
    #[inline(never)]
    pub(super) fn write_obj<T: GuestMemory + ?Sized, O: ByteValued>(
        mem: &T,
        val: O,
        addr: GuestAddress,
    ) -> Result<()> {
        mem.write_slice(val.as_slice(), addr)
    }

    #[cold]
    #[inline(never)]
    pub(super) fn read_obj<T: GuestMemory + ?Sized, O: ByteValued>(
        mem: &T,
        addr: GuestAddress,
    ) -> Result<O> {
        let mut value = O::zeroed();
        mem.read_slice(value.as_mut_slice(), addr)?;
        Ok(value)
    }

    /// vm-memory 0.18's semantics: only the first piece is used, so an object that straddles
    /// two regions (or runs into a hole) is too short for the access (`InvalidBackendAddress`).
    #[cold]
    #[inline(never)]
    pub(super) fn store<T: GuestMemory + ?Sized, O: AtomicAccess>(
        mem: &T,
        val: O,
        addr: GuestAddress,
        order: Ordering,
    ) -> Result<()> {
        let first = mem
            .get_slices(addr, size_of::<O>(), Permissions::Write)?
            .next()
            .ok_or(GuestMemoryError::InvalidGuestAddress(addr))??;
        Ok(Bytes::store(&first, val, 0, order)?)
    }

    /// As [`store`].
    #[cold]
    #[inline(never)]
    pub(super) fn load<T: GuestMemory + ?Sized, O: AtomicAccess>(
        mem: &T,
        addr: GuestAddress,
        order: Ordering,
    ) -> Result<O> {
        let first = mem
            .get_slices(addr, size_of::<O>(), Permissions::Read)?
            .next()
            .ok_or(GuestMemoryError::InvalidGuestAddress(addr))??;
        Ok(Bytes::load(&first, 0, order)?)
    }
}
