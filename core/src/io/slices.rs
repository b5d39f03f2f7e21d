//! `ReadVolatile` for `&[u8]`, `WriteVolatile` for `&mut [u8]` and (with `alloc`) `Vec<u8>`.

use crate::bitmap::BitmapSlice;
use crate::volatile::{VolatileMemoryError, VolatileSlice};

use super::{ReadVolatile, WriteVolatile};

impl ReadVolatile for &[u8] {
    /// Copies `min(len)` bytes into `buf`, marks them dirty and advances `self` past them.
    fn read_volatile<B: BitmapSlice>(
        &mut self,
        buf: &mut VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError> {
        let n = buf.write_prefix(self)?;
        *self = &self[n..];
        Ok(n)
    }

    /// Fails with `PartialBuffer { expected, completed: 0 }` **before copying anything** when
    /// `self` is shorter than `buf`.
    fn read_exact_volatile<B: BitmapSlice>(
        &mut self,
        buf: &mut VolatileSlice<'_, B>,
    ) -> Result<(), VolatileMemoryError> {
        if buf.len() > self.len() {
            return Err(VolatileMemoryError::PartialBuffer {
                expected: buf.len(),
                completed: 0,
            });
        }
        self.read_volatile(buf).map(|_| ())
    }
}

impl WriteVolatile for &mut [u8] {
    /// Copies `min(len)` bytes from `buf` and advances `self` past them.
    fn write_volatile<B: BitmapSlice>(
        &mut self,
        buf: &VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError> {
        let n = buf.read_prefix(self)?;
        *self = &mut core::mem::take(self)[n..];
        Ok(n)
    }

    /// Writes what fits, then fails with `PartialBuffer` if that was not all of `buf` (the
    /// prefix stays written, as upstream).
    fn write_all_volatile<B: BitmapSlice>(
        &mut self,
        buf: &VolatileSlice<'_, B>,
    ) -> Result<(), VolatileMemoryError> {
        let completed = self.write_volatile(buf)?;
        VolatileMemoryError::check_complete(buf.len(), completed)
    }
}

#[cfg(feature = "alloc")]
impl WriteVolatile for alloc::vec::Vec<u8> {
    /// Appends all of `buf`.
    fn write_volatile<B: BitmapSlice>(
        &mut self,
        buf: &VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError> {
        let old = self.len();
        self.resize(old + buf.len(), 0);
        match buf.read_prefix(&mut self[old..]) {
            Ok(n) => {
                debug_assert_eq!(n, buf.len());
                Ok(n)
            }
            Err(e) => {
                self.truncate(old);
                Err(e)
            }
        }
    }
}
