//! `std::io` endpoints: `Cursor` and `Stdout`.

use std::io::{Cursor, Stdout, Write};

use crate::bitmap::BitmapSlice;
use crate::volatile::{VolatileMemoryError, VolatileSlice};

use super::{ReadVolatile, WriteVolatile};

/// The unread part of a cursor's data (empty when the position is past the end).
fn unread<T: AsRef<[u8]>>(cursor: &Cursor<T>) -> &[u8] {
    let data = cursor.get_ref().as_ref();
    let pos = usize::try_from(cursor.position()).map_or(data.len(), |p| p.min(data.len()));
    &data[pos..]
}

/// Moves the cursor forward by `n` bytes.
fn advance_cursor<T>(cursor: &mut Cursor<T>, n: usize) {
    let n = u64::try_from(n).unwrap_or(u64::MAX);
    cursor.set_position(cursor.position().saturating_add(n));
}

impl<T: AsRef<[u8]>> ReadVolatile for Cursor<T> {
    fn read_volatile<B: BitmapSlice>(
        &mut self,
        buf: &mut VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError> {
        let n = unread(self).read_volatile(buf)?;
        advance_cursor(self, n);
        Ok(n)
    }

    fn read_exact_volatile<B: BitmapSlice>(
        &mut self,
        buf: &mut VolatileSlice<'_, B>,
    ) -> Result<(), VolatileMemoryError> {
        unread(self).read_exact_volatile(buf)?;
        advance_cursor(self, buf.len());
        Ok(())
    }
}

impl WriteVolatile for Cursor<&mut [u8]> {
    fn write_volatile<B: BitmapSlice>(
        &mut self,
        buf: &VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError> {
        let len = self.get_ref().len();
        let pos = usize::try_from(self.position()).map_or(len, |p| p.min(len));
        let n = (&mut self.get_mut()[pos..]).write_volatile(buf)?;
        advance_cursor(self, n);
        Ok(n)
    }
}

/// Bytes moved per call through the stack bounce buffer of `Stdout`.
const STDOUT_CHUNK: usize = 4096;

/// Writes up to one chunk of `buf` through the locked standard output.
fn write_stdout<B: BitmapSlice>(
    out: &Stdout,
    buf: &VolatileSlice<'_, B>,
) -> Result<usize, VolatileMemoryError> {
    let mut bounce = [0u8; STDOUT_CHUNK];
    let n = buf.read_prefix(&mut bounce)?;
    out.lock()
        .write(&bounce[..n])
        .map_err(VolatileMemoryError::IOError)
}

impl WriteVolatile for Stdout {
    /// Writes through the locked standard output, so the bytes keep their order with
    /// `println!`. Moves at most 4 KiB per call.
    fn write_volatile<B: BitmapSlice>(
        &mut self,
        buf: &VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError> {
        write_stdout(self, buf)
    }
}

impl WriteVolatile for &Stdout {
    fn write_volatile<B: BitmapSlice>(
        &mut self,
        buf: &VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError> {
        write_stdout(self, buf)
    }
}
