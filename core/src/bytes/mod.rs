//! Plain-old-data values and the `Bytes` access trait.
//!
//! [`ByteValued`] marks types for which every bit pattern is a valid value; they can be copied to
//! and from guest memory as raw bytes. [`Bytes`] is the access trait every memory type in this
//! crate implements, over `usize` offsets (volatile slices), [`MemoryRegionAddress`] (regions) and
//! [`GuestAddress`] (whole guest memories).
//!
//! [`MemoryRegionAddress`]: crate::MemoryRegionAddress
//! [`GuestAddress`]: crate::GuestAddress

mod atomic;
mod byte_valued;
mod endian;

pub use atomic::{AtomicAccess, AtomicInteger};
pub use byte_valued::ByteValued;
pub use endian::{Be16, Be32, Be64, BeSize, Le16, Le32, Le64, LeSize};

use core::sync::atomic::Ordering;

use crate::io::{ReadVolatile, WriteVolatile};

/// Reads and writes of bytes, objects and atomics at addresses of type `A`.
///
/// Contract shared by every implementation in this crate:
/// - `write`/`read` may stop early (at the end of the memory, or before a hole) and return how
///   many bytes they moved; an empty buffer returns `Ok(0)` at any address, valid or not.
/// - `write_slice`/`read_slice` succeed only if every byte was moved. When they fail part of the
///   data may already have been copied: the error says how much (`PartialBuffer`).
/// - `read_volatile_from`/`write_volatile_to` move at most `count` bytes between memory and a
///   [`ReadVolatile`]/[`WriteVolatile`] endpoint, retrying on `EINTR`; the `exact`/`all`
///   variants fail unless all `count` bytes were moved.
/// - `store`/`load` are single atomic accesses; they require natural alignment and that the
///   object lies in one piece of memory.
///
/// # Examples
///
/// ```
/// use vm_memory_core::{Bytes, VolatileSlice};
///
/// let mut backing = [0u8; 16];
/// let mem = VolatileSlice::from(&mut backing[..]);
/// mem.write_obj(0x1122_3344u32, 4).unwrap();
/// assert_eq!(mem.read_obj::<u32>(4).unwrap(), 0x1122_3344);
/// assert_eq!(mem.write(&[1, 2, 3], 14).unwrap(), 2); // partial at the end
/// ```
pub trait Bytes<A> {
    /// The error type of the accesses.
    type E;

    /// Writes as much of `buf` as fits at `addr`; returns the number of bytes written.
    ///
    /// # Errors
    ///
    /// If `addr` is not a valid address for a non-empty `buf`.
    fn write(&self, buf: &[u8], addr: A) -> Result<usize, Self::E>;

    /// Reads as much as is available at `addr` into `buf`; returns the number of bytes read.
    ///
    /// # Errors
    ///
    /// If `addr` is not a valid address for a non-empty `buf`.
    fn read(&self, buf: &mut [u8], addr: A) -> Result<usize, Self::E>;

    /// Writes all of `buf` at `addr`.
    ///
    /// # Errors
    ///
    /// If not all of `buf` could be written; a prefix may have been written already.
    fn write_slice(&self, buf: &[u8], addr: A) -> Result<(), Self::E>;

    /// Fills all of `buf` from `addr`.
    ///
    /// # Errors
    ///
    /// If not all of `buf` could be read; a prefix of `buf` may have been filled already.
    fn read_slice(&self, buf: &mut [u8], addr: A) -> Result<(), Self::E>;

    /// Writes an object at `addr`. A naturally aligned object of 1, 2, 4 or 8 bytes is written
    /// with one access and never tears.
    ///
    /// # Errors
    ///
    /// As [`Bytes::write_slice`].
    fn write_obj<T: ByteValued>(&self, val: T, addr: A) -> Result<(), Self::E> {
        self.write_slice(val.as_slice(), addr)
    }

    /// Reads an object from `addr`. A naturally aligned object of 1, 2, 4 or 8 bytes is read
    /// with one access and never tears.
    ///
    /// # Errors
    ///
    /// As [`Bytes::read_slice`].
    fn read_obj<T: ByteValued>(&self, addr: A) -> Result<T, Self::E> {
        let mut result = T::zeroed();
        self.read_slice(result.as_mut_slice(), addr)
            .map(|()| result)
    }

    /// Reads at most `count` bytes from `src` into memory at `addr`; returns the count read.
    ///
    /// # Errors
    ///
    /// If `addr` is invalid or `src` fails.
    fn read_volatile_from<F>(&self, addr: A, src: &mut F, count: usize) -> Result<usize, Self::E>
    where
        F: ReadVolatile;

    /// Reads exactly `count` bytes from `src` into memory at `addr`.
    ///
    /// # Errors
    ///
    /// If the range is invalid, `src` fails, or `src` ends early.
    fn read_exact_volatile_from<F>(
        &self,
        addr: A,
        src: &mut F,
        count: usize,
    ) -> Result<(), Self::E>
    where
        F: ReadVolatile;

    /// Writes at most `count` bytes from memory at `addr` to `dst`; returns the count written.
    ///
    /// # Errors
    ///
    /// If `addr` is invalid or `dst` fails.
    fn write_volatile_to<F>(&self, addr: A, dst: &mut F, count: usize) -> Result<usize, Self::E>
    where
        F: WriteVolatile;

    /// Writes exactly `count` bytes from memory at `addr` to `dst`.
    ///
    /// # Errors
    ///
    /// If the range is invalid, `dst` fails, or `dst` stops accepting data.
    fn write_all_volatile_to<F>(&self, addr: A, dst: &mut F, count: usize) -> Result<(), Self::E>
    where
        F: WriteVolatile;

    /// Atomically stores `val` at `addr` with the given ordering.
    ///
    /// # Errors
    ///
    /// If `addr` is invalid, misaligned for `T`, or the object is not in one piece of memory.
    fn store<T: AtomicAccess>(&self, val: T, addr: A, order: Ordering) -> Result<(), Self::E>;

    /// Atomically loads a value from `addr` with the given ordering.
    ///
    /// # Errors
    ///
    /// If `addr` is invalid, misaligned for `T`, or the object is not in one piece of memory.
    fn load<T: AtomicAccess>(&self, addr: A, order: Ordering) -> Result<T, Self::E>;
}

#[cfg(test)]
mod tests;
