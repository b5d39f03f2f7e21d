//! `Bytes<GuestAddress>` for every `GuestMemory`.
//!
//! Accesses that lie inside one piece of memory take a fast path: one lookup
//! ([`GuestMemory::first_slice`]) and one copy. Objects that straddle two pieces take two
//! lookups. Everything else walks [`GuestMemory::get_slices`]. All paths give the same results
//! and errors.

use core::mem::size_of;
use core::sync::atomic::Ordering;

use super::{GuestMemory, GuestMemoryError, GuestMemorySliceIterator, Permissions, Result};
use crate::address::GuestAddress;
use crate::bytes::{AtomicAccess, ByteValued, Bytes};
use crate::io::{ReadVolatile, WriteVolatile};
use crate::volatile::VolatileMemoryError;

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
    #[inline]
    fn write(&self, buf: &[u8], addr: GuestAddress) -> Result<usize> {
        if !buf.is_empty()
            && let Some(slice) = self.first_slice(addr, buf.len(), Permissions::Write)
            && slice.len() == buf.len()
        {
            return Ok(slice.write_prefix(buf)?);
        }
        slow::write(self, buf, addr)
    }

    /// Reads across regions; stops at the first hole and returns the count so far.
    #[inline]
    fn read(&self, buf: &mut [u8], addr: GuestAddress) -> Result<usize> {
        if !buf.is_empty()
            && let Some(slice) = self.first_slice(addr, buf.len(), Permissions::Read)
            && slice.len() == buf.len()
        {
            return Ok(slice.read_prefix(buf)?);
        }
        slow::read(self, buf, addr)
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
        if let Some(slice) = self.first_slice(addr, size_of::<O>(), Permissions::Write)
            && slice.len() == size_of::<O>()
        {
            return Ok(slice.write_obj_in_bounds(val)?);
        }
        // The slow path looks the first piece up again: handing it over costs the fast path
        // more than the second lookup costs the slow one.
        slow::write_obj(self, val, addr)
    }

    #[inline(always)]
    fn read_obj<O: ByteValued>(&self, addr: GuestAddress) -> Result<O> {
        if size_of::<O>() == 0 {
            return Ok(O::zeroed());
        }
        if let Some(slice) = self.first_slice(addr, size_of::<O>(), Permissions::Read)
            && slice.len() == size_of::<O>()
        {
            return Ok(slice.read_obj_in_bounds()?);
        }
        slow::read_obj(self, addr)
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
            match slice.write_all_volatile_to(0, dst, slice.len()) {
                Ok(()) => done += slice.len(),
                // A sink that stops accepting data: report the count of the whole request, not
                // of the piece it stopped in.
                Err(VolatileMemoryError::PartialBuffer { completed, .. }) => {
                    return Err(GuestMemoryError::PartialBuffer {
                        expected: count,
                        completed: done + completed,
                    });
                }
                Err(e) => return Err(e.into()),
            }
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
        if let Some(slice) = self.first_slice(addr, size_of::<O>(), Permissions::Write)
            && slice.len() == size_of::<O>()
        {
            return Ok(slice.store_in_bounds(val, order)?);
        }
        slow::store(self, val, addr, order)
    }

    /// Fails with `InvalidBackendAddress` if the object straddles two regions or is misaligned.
    #[inline(always)]
    fn load<O: AtomicAccess>(&self, addr: GuestAddress, order: Ordering) -> Result<O> {
        if let Some(slice) = self.first_slice(addr, size_of::<O>(), Permissions::Read)
            && slice.len() == size_of::<O>()
        {
            return Ok(slice.load_in_bounds(order)?);
        }
        slow::load(self, addr, order)
    }
}

/// The general paths of the object and atomic accesses, kept out of line so that the fast paths
/// stay small enough to inline.
mod slow {
    use super::*;

    /// The general write: every piece of the range, up to the first hole.
    #[inline(never)]
    pub(super) fn write<T: GuestMemory + ?Sized>(
        mem: &T,
        buf: &[u8],
        addr: GuestAddress,
    ) -> Result<usize> {
        let mut done = 0;
        for slice in mem
            .get_slices(addr, buf.len(), Permissions::Write)?
            .stop_on_error()?
        {
            done += slice.write_prefix(&buf[done..])?;
        }
        Ok(done)
    }

    /// The general read: every piece of the range, up to the first hole.
    #[inline(never)]
    pub(super) fn read<T: GuestMemory + ?Sized>(
        mem: &T,
        buf: &mut [u8],
        addr: GuestAddress,
    ) -> Result<usize> {
        let mut done = 0;
        for slice in mem
            .get_slices(addr, buf.len(), Permissions::Read)?
            .stop_on_error()?
        {
            done += slice.read_prefix(&mut buf[done..])?;
        }
        Ok(done)
    }

    /// An object across two adjacent regions, else the general path (which reports the error).
    /// Not `#[cold]`: objects on region boundaries are a normal case, and a cold function
    /// would not inline its copies.
    #[inline(never)]
    pub(super) fn write_obj<T: GuestMemory + ?Sized, O: ByteValued>(
        mem: &T,
        val: O,
        addr: GuestAddress,
    ) -> Result<()> {
        let bytes = val.as_slice();
        if let Some((head, tail)) = mem.first_two_slices(addr, bytes.len(), Permissions::Write) {
            let (first, second) = bytes.split_at(head.len());
            head.write_prefix(first)?;
            tail.write_prefix(second)?;
            return Ok(());
        }
        complete(bytes.len(), write(mem, bytes, addr)?)
    }

    /// An object across two adjacent regions, else the general path (which reports the error).
    /// Not `#[cold]`: objects on region boundaries are a normal case, and a cold function
    /// would not inline its copies.
    #[inline(never)]
    pub(super) fn read_obj<T: GuestMemory + ?Sized, O: ByteValued>(
        mem: &T,
        addr: GuestAddress,
    ) -> Result<O> {
        let mut value = O::zeroed();
        let bytes = value.as_mut_slice();
        if let Some((head, tail)) = mem.first_two_slices(addr, bytes.len(), Permissions::Read) {
            let (first, second) = bytes.split_at_mut(head.len());
            head.read_prefix(first)?;
            tail.read_prefix(second)?;
            return Ok(value);
        }
        let bytes = value.as_mut_slice();
        complete(bytes.len(), read(mem, bytes, addr)?)?;
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
        // The iterator lives until the access is done: it may hold an IOMMU's IOTLB guard.
        let mut pieces = mem.get_slices(addr, size_of::<O>(), Permissions::Write)?;
        let first = pieces
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
        // As in `store`: the iterator outlives the access.
        let mut pieces = mem.get_slices(addr, size_of::<O>(), Permissions::Read)?;
        let first = pieces
            .next()
            .ok_or(GuestMemoryError::InvalidGuestAddress(addr))??;
        Ok(Bytes::load(&first, 0, order)?)
    }
}
