//! `Bytes<MemoryRegionAddress>` of one region (vm-memory 0.18 §1.6: every method runs on the
//! region's whole volatile slice with the offset as slice offset, §1.3 semantics, volatile
//! errors becoming `InvalidBackendAddress`).

use super::error::MemError;
use super::memory::{ModelMemory, Sink};

const OOB: MemError = MemError::InvalidBackendAddress;

impl ModelMemory {
    fn region_len(&self, r: usize) -> usize {
        self.regions[r].len()
    }

    fn region_mark(&mut self, r: usize, offset: usize, len: usize) {
        self.regions[r].dirty.update_range(offset, len, true);
    }

    /// `offset` as a start inside the region: `OutOfBounds` unless `offset < len`.
    fn inside(&self, r: usize, offset: u64) -> Result<usize, MemError> {
        usize::try_from(offset)
            .ok()
            .filter(|&o| o < self.region_len(r))
            .ok_or(OOB)
    }

    /// `offset..offset + count` must lie in the region (`subslice`, `object_at`).
    fn exact(&self, r: usize, offset: u64, count: usize) -> Result<usize, MemError> {
        let o = usize::try_from(offset).map_err(|_| OOB)?;
        if o as u128 + count as u128 > self.region_len(r) as u128 {
            return Err(OOB);
        }
        Ok(o)
    }

    /// `offset <= len` (`VolatileSlice::offset`; the empty tail at the end is fine).
    fn tail(&self, r: usize, offset: u64) -> Result<usize, MemError> {
        usize::try_from(offset)
            .ok()
            .filter(|&o| o <= self.region_len(r))
            .ok_or(OOB)
    }

    /// `write`: `Ok(0)` for an empty buffer anywhere; the offset must be inside; copies what
    /// fits and returns the count.
    pub fn region_write(&mut self, r: usize, buf: &[u8], offset: u64) -> Result<usize, MemError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let o = self.inside(r, offset)?;
        let n = buf.len().min(self.region_len(r) - o);
        self.regions[r].data[o..o + n].copy_from_slice(&buf[..n]);
        self.region_mark(r, o, n);
        Ok(n)
    }

    /// `read`: as [`region_write`](Self::region_write).
    pub fn region_read(&self, r: usize, buf: &mut [u8], offset: u64) -> Result<usize, MemError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let o = self.inside(r, offset)?;
        let n = buf.len().min(self.region_len(r) - o);
        buf[..n].copy_from_slice(&self.regions[r].data[o..o + n]);
        Ok(n)
    }

    /// `write_slice` and `write_obj`: `write`, then `PartialBuffer` if short (the prefix that
    /// fitted stays written).
    pub fn region_write_slice(
        &mut self,
        r: usize,
        buf: &[u8],
        offset: u64,
    ) -> Result<(), MemError> {
        let n = self.region_write(r, buf, offset)?;
        partial(buf.len(), n)
    }

    /// `read_slice` and `read_obj`.
    pub fn region_read_slice(&self, r: usize, buf: &mut [u8], offset: u64) -> Result<(), MemError> {
        let n = self.region_read(r, buf, offset)?;
        partial(buf.len(), n)
    }

    /// `store`: the object must lie in the region and its host address be aligned.
    pub fn region_store(
        &mut self,
        r: usize,
        bytes: &[u8],
        align: usize,
        offset: u64,
    ) -> Result<(), MemError> {
        let o = self.exact(r, offset, bytes.len())?;
        if !(self.regions[r].host + o).is_multiple_of(align) {
            return Err(OOB);
        }
        self.regions[r].data[o..o + bytes.len()].copy_from_slice(bytes);
        self.region_mark(r, o, bytes.len());
        Ok(())
    }

    /// `load`.
    pub fn region_load(
        &self,
        r: usize,
        size: usize,
        align: usize,
        offset: u64,
    ) -> Result<Vec<u8>, MemError> {
        let o = self.exact(r, offset, size)?;
        if !(self.regions[r].host + o).is_multiple_of(align) {
            return Err(OOB);
        }
        Ok(self.regions[r].data[o..o + size].to_vec())
    }

    /// `read_volatile_from` with a `&[u8]` source: the offset may be the end; one read of
    /// `min(count, len - offset)` bytes (a `&[u8]` gives what it has).
    pub fn region_read_volatile_from(
        &mut self,
        r: usize,
        offset: u64,
        src: &mut &[u8],
        count: usize,
    ) -> Result<usize, MemError> {
        let o = self.tail(r, offset)?;
        let n = count.min(self.region_len(r) - o).min(src.len());
        self.regions[r].data[o..o + n].copy_from_slice(&src[..n]);
        self.region_mark(r, o, n);
        *src = &src[n..];
        Ok(n)
    }

    /// `read_exact_volatile_from`: the whole range must lie in the region; a `&[u8]` shorter
    /// than `count` fails with `PartialBuffer { count, 0 }` before copying anything.
    pub fn region_read_exact_volatile_from(
        &mut self,
        r: usize,
        offset: u64,
        src: &mut &[u8],
        count: usize,
    ) -> Result<(), MemError> {
        let o = self.exact(r, offset, count)?;
        if count > src.len() {
            return partial(count, 0);
        }
        self.regions[r].data[o..o + count].copy_from_slice(&src[..count]);
        self.region_mark(r, o, count);
        *src = &src[count..];
        Ok(())
    }

    /// `write_volatile_to`: the offset may be the end; one write of `min(count, len - offset)`
    /// bytes, of which a `&mut [u8]` takes what fits (a `Vec` takes all).
    pub fn region_write_volatile_to(
        &self,
        r: usize,
        offset: u64,
        sink: &mut Sink,
        count: usize,
    ) -> Result<usize, MemError> {
        let o = self.tail(r, offset)?;
        let window = &self.regions[r].data[o..o + count.min(self.region_len(r) - o)];
        Ok(sink.write_some(window))
    }

    /// `write_all_volatile_to`: the whole range must lie in the region; then the sink's
    /// `write_all_volatile` (a `&mut [u8]` writes what fits, then reports `PartialBuffer`).
    pub fn region_write_all_volatile_to(
        &self,
        r: usize,
        offset: u64,
        sink: &mut Sink,
        count: usize,
    ) -> Result<(), MemError> {
        let o = self.exact(r, offset, count)?;
        sink.write_all(&self.regions[r].data[o..o + count])
    }
}

fn partial(expected: usize, completed: usize) -> Result<(), MemError> {
    if expected == completed {
        Ok(())
    } else {
        Err(MemError::PartialBuffer {
            expected,
            completed,
        })
    }
}
