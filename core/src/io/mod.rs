//! Moving data between memory and I/O endpoints without bounce buffers.
//!
//! `std::io::Read`/`Write` take `&[u8]`/`&mut [u8]`, which would mean forming references into
//! guest memory. [`ReadVolatile`] and [`WriteVolatile`] take [`VolatileSlice`]s instead, and
//! their implementations move the bytes with volatile copies or with one `read(2)`/`write(2)` on
//! a guarded pointer.
//!
//! Implementations here: `&[u8]` and `&mut [u8]` (always), `Vec<u8>` (`alloc`), `Cursor` and
//! `Stdout` (`std`), and on Unix `File`, `TcpStream`, `UnixStream`, `OwnedFd`, `BorrowedFd` and
//! references to them (`rawfd`).

#[cfg(all(unix, feature = "rawfd"))]
mod fd;
mod slices;
#[cfg(feature = "std")]
mod std_impls;

use crate::bitmap::BitmapSlice;
use crate::volatile::{VolatileMemoryError, VolatileSlice};

/// A source of bytes that can fill a [`VolatileSlice`] directly.
pub trait ReadVolatile {
    /// Reads some bytes into `buf`; returns how many. 0 means end of input (or an empty `buf`).
    ///
    /// # Errors
    ///
    /// When the source fails.
    fn read_volatile<B: BitmapSlice>(
        &mut self,
        buf: &mut VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError>;

    /// Fills all of `buf`, calling [`read_volatile`](Self::read_volatile) as often as needed and
    /// retrying interrupted calls.
    ///
    /// # Errors
    ///
    /// When the source fails, or `PartialBuffer { expected, completed }` when it ends early
    /// (upstream reports an `UnexpectedEof` I/O error here; see `DESIGN.md`).
    fn read_exact_volatile<B: BitmapSlice>(
        &mut self,
        buf: &mut VolatileSlice<'_, B>,
    ) -> Result<(), VolatileMemoryError> {
        let expected = buf.len();
        let mut rest = buf.clone();
        while !rest.is_empty() {
            match retry_interrupted(|| self.read_volatile(&mut rest))? {
                0 => {
                    return Err(VolatileMemoryError::PartialBuffer {
                        expected,
                        completed: expected - rest.len(),
                    });
                }
                n => rest = advance(&rest, n)?,
            }
        }
        Ok(())
    }
}

/// A sink of bytes that can take them from a [`VolatileSlice`] directly.
pub trait WriteVolatile {
    /// Writes some bytes from `buf`; returns how many.
    ///
    /// # Errors
    ///
    /// When the sink fails.
    fn write_volatile<B: BitmapSlice>(
        &mut self,
        buf: &VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError>;

    /// Writes all of `buf`, calling [`write_volatile`](Self::write_volatile) as often as needed
    /// and retrying interrupted calls.
    ///
    /// # Errors
    ///
    /// When the sink fails, or `PartialBuffer { expected, completed }` when it stops accepting
    /// data (upstream reports a `WriteZero` I/O error here; see `DESIGN.md`).
    fn write_all_volatile<B: BitmapSlice>(
        &mut self,
        buf: &VolatileSlice<'_, B>,
    ) -> Result<(), VolatileMemoryError> {
        let expected = buf.len();
        let mut rest = buf.clone();
        while !rest.is_empty() {
            match retry_interrupted(|| self.write_volatile(&rest))? {
                0 => {
                    return Err(VolatileMemoryError::PartialBuffer {
                        expected,
                        completed: expected - rest.len(),
                    });
                }
                n => rest = advance(&rest, n)?,
            }
        }
        Ok(())
    }
}

/// An endpoint's count of bytes moved, checked against the `given` bytes it was handed: one
/// that claims more gets an error, not a count past the end of memory.
#[inline]
pub(crate) fn checked_count(n: usize, given: usize) -> Result<usize, VolatileMemoryError> {
    if n > given {
        return Err(VolatileMemoryError::OutOfBounds { addr: n });
    }
    Ok(n)
}

/// Drops the first `n` bytes of `slice`, checked with [`checked_count`].
fn advance<'a, B: BitmapSlice>(
    slice: &VolatileSlice<'a, B>,
    n: usize,
) -> Result<VolatileSlice<'a, B>, VolatileMemoryError> {
    let n = checked_count(n, slice.len())?;
    Ok(slice.subslice_unchecked(n, slice.len() - n))
}

/// Calls `op` again while it fails with an interrupted I/O error (`EINTR`).
#[inline(always)]
pub(crate) fn retry_interrupted<T>(
    mut op: impl FnMut() -> Result<T, VolatileMemoryError>,
) -> Result<T, VolatileMemoryError> {
    #[cfg(feature = "std")]
    loop {
        let result = op();
        if let Err(VolatileMemoryError::IOError(e)) = &result
            && e.kind() == std::io::ErrorKind::Interrupted
        {
            continue;
        }
        return result;
    }
    // Without `std` there is no `EINTR` to see.
    #[cfg(not(feature = "std"))]
    op()
}

#[cfg(test)]
mod tests;
