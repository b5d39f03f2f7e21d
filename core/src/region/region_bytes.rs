//! `Bytes<MemoryRegionAddress>` for every region that opts in with `GuestMemoryRegionBytes`.

use core::sync::atomic::Ordering;

use super::GuestMemoryRegion;
use crate::address::MemoryRegionAddress;
use crate::bytes::{AtomicAccess, ByteValued, Bytes};
use crate::guest_memory::{GuestMemoryError, GuestMemoryResult};
use crate::io::{ReadVolatile, WriteVolatile};

/// Marker for regions whose `Bytes<MemoryRegionAddress>` is derived from
/// [`GuestMemoryRegion::get_slice`].
///
/// The derived methods run on [`as_volatile_slice`](GuestMemoryRegion::as_volatile_slice) with
/// the offset as slice offset; volatile errors convert with `From` (out of bounds becomes
/// `InvalidBackendAddress`).
pub trait GuestMemoryRegionBytes: GuestMemoryRegion {}

/// The offset as a host `usize`; offsets beyond the host's width cannot be in any mapping.
#[inline(always)]
fn host_offset(addr: MemoryRegionAddress) -> GuestMemoryResult<usize> {
    usize::try_from(addr.0).map_err(|_| GuestMemoryError::InvalidBackendAddress)
}

impl<R: GuestMemoryRegionBytes> Bytes<MemoryRegionAddress> for R {
    type E = GuestMemoryError;

    fn write(&self, buf: &[u8], addr: MemoryRegionAddress) -> GuestMemoryResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        Ok(self.as_volatile_slice()?.write(buf, host_offset(addr)?)?)
    }

    fn read(&self, buf: &mut [u8], addr: MemoryRegionAddress) -> GuestMemoryResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        Ok(self.as_volatile_slice()?.read(buf, host_offset(addr)?)?)
    }

    fn write_slice(&self, buf: &[u8], addr: MemoryRegionAddress) -> GuestMemoryResult<()> {
        if buf.is_empty() {
            return Ok(());
        }
        Ok(self
            .as_volatile_slice()?
            .write_slice(buf, host_offset(addr)?)?)
    }

    fn read_slice(&self, buf: &mut [u8], addr: MemoryRegionAddress) -> GuestMemoryResult<()> {
        if buf.is_empty() {
            return Ok(());
        }
        Ok(self
            .as_volatile_slice()?
            .read_slice(buf, host_offset(addr)?)?)
    }

    fn write_obj<T: ByteValued>(&self, val: T, addr: MemoryRegionAddress) -> GuestMemoryResult<()> {
        Ok(self
            .as_volatile_slice()?
            .write_obj(val, host_offset(addr)?)?)
    }

    fn read_obj<T: ByteValued>(&self, addr: MemoryRegionAddress) -> GuestMemoryResult<T> {
        Ok(self.as_volatile_slice()?.read_obj(host_offset(addr)?)?)
    }

    fn read_volatile_from<F>(
        &self,
        addr: MemoryRegionAddress,
        src: &mut F,
        count: usize,
    ) -> GuestMemoryResult<usize>
    where
        F: ReadVolatile,
    {
        Ok(self
            .as_volatile_slice()?
            .read_volatile_from(host_offset(addr)?, src, count)?)
    }

    fn read_exact_volatile_from<F>(
        &self,
        addr: MemoryRegionAddress,
        src: &mut F,
        count: usize,
    ) -> GuestMemoryResult<()>
    where
        F: ReadVolatile,
    {
        Ok(self
            .as_volatile_slice()?
            .read_exact_volatile_from(host_offset(addr)?, src, count)?)
    }

    fn write_volatile_to<F>(
        &self,
        addr: MemoryRegionAddress,
        dst: &mut F,
        count: usize,
    ) -> GuestMemoryResult<usize>
    where
        F: WriteVolatile,
    {
        Ok(self
            .as_volatile_slice()?
            .write_volatile_to(host_offset(addr)?, dst, count)?)
    }

    fn write_all_volatile_to<F>(
        &self,
        addr: MemoryRegionAddress,
        dst: &mut F,
        count: usize,
    ) -> GuestMemoryResult<()>
    where
        F: WriteVolatile,
    {
        Ok(self
            .as_volatile_slice()?
            .write_all_volatile_to(host_offset(addr)?, dst, count)?)
    }

    fn store<T: AtomicAccess>(
        &self,
        val: T,
        addr: MemoryRegionAddress,
        order: Ordering,
    ) -> GuestMemoryResult<()> {
        Ok(self
            .as_volatile_slice()?
            .store(val, host_offset(addr)?, order)?)
    }

    fn load<T: AtomicAccess>(
        &self,
        addr: MemoryRegionAddress,
        order: Ordering,
    ) -> GuestMemoryResult<T> {
        Ok(self.as_volatile_slice()?.load(host_offset(addr)?, order)?)
    }
}
