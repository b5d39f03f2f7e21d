//! Guest memory as plain bytes: regions with a byte vector and dirty flags each.
//!
//! Every method states the documented behaviour it models. Ranges are walked with `u128`
//! cursors, so a range that reaches the top of the address space is visible as a cursor equal to
//! 2^64 rather than as a wrap.

use vm_memory_core::Permissions;

use super::bitmap::ModelBitmap;
use super::error::MemError;
use super::iotlb::ModelIotlb;

/// One past the last guest address.
const TOP: u128 = 1 << 64;

/// One region of the model.
#[derive(Clone, Debug)]
pub struct ModelRegion {
    /// First guest address.
    pub start: u64,
    /// Host address of the first byte (only alignment and slice pointers depend on it).
    pub host: usize,
    /// The contents.
    pub data: Vec<u8>,
    /// The dirty flags, at region-relative offsets.
    pub dirty: ModelBitmap,
}

impl ModelRegion {
    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the region has no bytes (never true for a valid region).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// One past the last guest address, as `u128`.
    pub fn end(&self) -> u128 {
        self.start as u128 + self.data.len() as u128
    }

    fn contains(&self, addr: u128) -> bool {
        self.start as u128 <= addr && addr < self.end()
    }
}

/// A contiguous piece of a range inside one region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Index of the region (in address order).
    pub region: usize,
    /// Offset inside the region.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
    /// The I/O virtual address of the first byte, when an IOMMU translated the range.
    pub iova: Option<u64>,
}

/// An IOMMU in front of the memory (`IommuMemory`).
#[derive(Clone, Debug)]
pub struct ModelIommu {
    /// The IOTLB the IOMMU translates with.
    pub iotlb: ModelIotlb,
    /// Whether addresses are translated (else they are physical).
    pub enabled: bool,
    /// The dirty bitmap in IOVA space.
    pub dirty: ModelBitmap,
}

/// What a `try_access` callback was given: `(done, len, region, offset)`.
pub type AccessCall = (usize, usize, usize, u64);

/// Guest memory: sorted, non-overlapping, non-empty regions.
#[derive(Clone, Debug, Default)]
pub struct ModelMemory {
    /// The regions in address order.
    pub regions: Vec<ModelRegion>,
    /// The IOMMU, for `IommuMemory`.
    pub iommu: Option<ModelIommu>,
}

impl ModelMemory {
    /// The index of the region holding `addr`.
    pub fn find(&self, addr: u64) -> Option<usize> {
        self.find_wide(addr as u128)
    }

    fn find_wide(&self, addr: u128) -> Option<usize> {
        self.regions.iter().position(|r| r.contains(addr))
    }

    /// The region holding `addr` and the offset inside it.
    pub fn to_region_addr(&self, addr: u64) -> Option<(usize, u64)> {
        let i = self.find(addr)?;
        Some((i, addr - self.regions[i].start))
    }

    /// The highest last address of any region, 0 for none.
    pub fn last_addr(&self) -> u64 {
        self.regions
            .iter()
            .map(|r| (r.end() - 1) as u64)
            .max()
            .unwrap_or(0)
    }

    /// The pieces of `addr..addr + count`, split at region boundaries (`get_slices`):
    /// nothing for `count == 0`; `InvalidGuestAddress(cursor)` at a hole; pieces up to the top of
    /// the address space, then `GuestAddressOverflow` (our deliberate difference: no wrap to 0).
    /// An error is the last item.
    pub fn pieces(&self, addr: u64, count: usize) -> Vec<Result<Piece, MemError>> {
        let mut out = Vec::new();
        let mut cursor = addr as u128;
        let mut remaining = count as u128;
        while remaining > 0 {
            if cursor >= TOP {
                out.push(Err(MemError::GuestAddressOverflow));
                break;
            }
            let Some(i) = self.find_wide(cursor) else {
                out.push(Err(MemError::InvalidGuestAddress(cursor as u64)));
                break;
            };
            let region = &self.regions[i];
            let len = remaining.min(region.end() - cursor);
            out.push(Ok(Piece {
                region: i,
                offset: (cursor - region.start as u128) as usize,
                len: len as usize,
                iova: None,
            }));
            cursor += len;
            remaining -= len;
        }
        out
    }

    /// The pieces of `GuestMemory::get_slices(addr, count, access)`: the outer error is an
    /// up-front failure. Without an enabled IOMMU, [`pieces`](Self::pieces). With one (vm-memory
    /// 0.18 §1.12 and our `iommu` module docs): `count == 0` has no pieces; a range past
    /// `u64::MAX` is `GuestAddressOverflow`; the whole range is translated first (any part
    /// unmapped or without `access` fails it as `IommuError`); then each translated piece is
    /// split at physical region boundaries, each piece carrying its IOVA.
    pub fn items(
        &self,
        addr: u64,
        count: usize,
        access: Permissions,
    ) -> Result<Vec<Result<Piece, MemError>>, MemError> {
        let Some(iommu) = self.iommu.as_ref().filter(|i| i.enabled) else {
            return Ok(self.pieces(addr, count));
        };
        if count == 0 {
            return Ok(Vec::new());
        }
        if addr as u128 + count as u128 > TOP {
            return Err(MemError::GuestAddressOverflow);
        }
        let translated = iommu
            .iotlb
            .lookup(addr, count, access)
            .map_err(|_| MemError::IommuError)?;
        let mut out = Vec::new();
        let mut iova = addr;
        for (target, len) in translated {
            for item in self.pieces(target, len) {
                match item {
                    Ok(mut piece) => {
                        piece.iova = Some(iova);
                        iova = iova.wrapping_add(piece.len as u64);
                        out.push(Ok(piece));
                    }
                    Err(e) => {
                        out.push(Err(e));
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The pieces up to the first error; an error on the first piece (or up front) is the
    /// result (`stop_on_error`).
    pub(crate) fn pieces_until_error_for(
        &self,
        addr: u64,
        count: usize,
        access: Permissions,
    ) -> Result<Vec<Piece>, MemError> {
        self.pieces_until_error(addr, count, access)
    }

    /// Writes `bytes` at the start of `piece` (and marks them dirty).
    pub(crate) fn write_piece_prefix(&mut self, piece: &Piece, bytes: &[u8]) {
        self.write_piece(piece, bytes);
    }

    /// The bytes of `piece`.
    pub(crate) fn piece_bytes(&self, piece: &Piece) -> Vec<u8> {
        self.read_piece(piece, piece.len).to_vec()
    }

    fn pieces_until_error(
        &self,
        addr: u64,
        count: usize,
        access: Permissions,
    ) -> Result<Vec<Piece>, MemError> {
        let mut pieces = Vec::new();
        for item in self.items(addr, count, access)? {
            match item {
                Ok(piece) => pieces.push(piece),
                Err(e) if pieces.is_empty() => return Err(e),
                Err(_) => break,
            }
        }
        Ok(pieces)
    }

    /// `GuestMemory::check_range`: the translation succeeds and every piece is valid.
    pub fn check_range_for(&self, addr: u64, count: usize, access: Permissions) -> bool {
        self.items(addr, count, access)
            .is_ok_and(|items| items.iter().all(Result::is_ok))
    }

    /// `check_range`: every piece is valid (so `count == 0` is valid anywhere).
    pub fn check_range(&self, addr: u64, count: usize) -> bool {
        self.pieces(addr, count).iter().all(Result::is_ok)
    }

    /// `checked_offset`: `base + offset` if it does not overflow and some region holds it.
    pub fn checked_offset(&self, base: u64, offset: usize) -> Option<u64> {
        let addr = u64::try_from(base as u128 + offset as u128).ok()?;
        self.find(addr).map(|_| addr)
    }

    /// `GuestMemoryBackend::get_slice`: the whole range in the region holding `addr`
    /// (`InvalidGuestAddress(addr)` if none, `InvalidBackendAddress` if it runs past the end).
    pub fn get_slice(&self, addr: u64, count: usize) -> Result<Piece, MemError> {
        let (i, offset) = self
            .to_region_addr(addr)
            .ok_or(MemError::InvalidGuestAddress(addr))?;
        let offset = offset as usize;
        if offset as u128 + count as u128 > self.regions[i].len() as u128 {
            return Err(MemError::InvalidBackendAddress);
        }
        Ok(Piece {
            region: i,
            offset,
            len: count,
            iova: None,
        })
    }

    /// `get_host_address`: the host address of `addr`, `InvalidGuestAddress` if unmapped.
    pub fn host_address(&self, addr: u64) -> Result<usize, MemError> {
        let (i, offset) = self
            .to_region_addr(addr)
            .ok_or(MemError::InvalidGuestAddress(addr))?;
        Ok(self.regions[i].host + offset as usize)
    }

    /// The host address of a piece's first byte.
    pub fn host_of(&self, piece: &Piece) -> usize {
        self.regions[piece.region].host + piece.offset
    }

    /// Copies `bytes` into the piece and marks them dirty: in the IOVA bitmap for translated
    /// pieces (physical bitmaps are not touched then), else in the region's bitmap.
    fn write_piece(&mut self, piece: &Piece, bytes: &[u8]) {
        let region = &mut self.regions[piece.region];
        region.data[piece.offset..piece.offset + bytes.len()].copy_from_slice(bytes);
        match (piece.iova, self.iommu.as_mut()) {
            (Some(iova), Some(iommu)) => iommu.dirty.update_range(iova as usize, bytes.len(), true),
            _ => region.dirty.update_range(piece.offset, bytes.len(), true),
        }
    }

    fn read_piece(&self, piece: &Piece, len: usize) -> &[u8] {
        &self.regions[piece.region].data[piece.offset..piece.offset + len]
    }

    /// `write`: `Ok(0)` for an empty buffer at any address; `InvalidGuestAddress(addr)` for an
    /// unmapped start; otherwise copies up to the first hole (or the top of the address space)
    /// and returns the count. Marks the written bytes dirty.
    pub fn write(&mut self, buf: &[u8], addr: u64) -> Result<usize, MemError> {
        let mut done = 0;
        for piece in self.pieces_until_error(addr, buf.len(), Permissions::Write)? {
            self.write_piece(&piece, &buf[done..done + piece.len]);
            done += piece.len;
        }
        Ok(done)
    }

    /// `read`: as [`write`](Self::write), into `buf` (bytes past the count are untouched).
    pub fn read(&self, buf: &mut [u8], addr: u64) -> Result<usize, MemError> {
        let mut done = 0;
        for piece in self.pieces_until_error(addr, buf.len(), Permissions::Read)? {
            buf[done..done + piece.len].copy_from_slice(self.read_piece(&piece, piece.len));
            done += piece.len;
        }
        Ok(done)
    }

    /// `write_slice` (and `write_obj`): `write`, then `PartialBuffer` if short. The prefix up to
    /// the first hole stays written.
    pub fn write_slice(&mut self, buf: &[u8], addr: u64) -> Result<(), MemError> {
        complete(buf.len(), self.write(buf, addr)?)
    }

    /// `read_slice` (and `read_obj`): `read`, then `PartialBuffer` if short.
    pub fn read_slice(&self, buf: &mut [u8], addr: u64) -> Result<(), MemError> {
        complete(buf.len(), self.read(buf, addr)?)
    }

    /// The piece an atomic access of `size` bytes (alignment `align`) at `addr` uses: only the
    /// first piece of the range; `InvalidGuestAddress(addr)` if unmapped,
    /// `InvalidBackendAddress` if that piece is shorter than the object (it straddles regions
    /// or runs into a hole or the top) or its host address is misaligned.
    fn atomic_piece(
        &self,
        addr: u64,
        size: usize,
        align: usize,
        access: Permissions,
    ) -> Result<Piece, MemError> {
        let first = self
            .items(addr, size, access)?
            .into_iter()
            .next()
            .expect("atomic objects are not empty")?;
        if first.len < size || !self.host_of(&first).is_multiple_of(align) {
            return Err(MemError::InvalidBackendAddress);
        }
        Ok(first)
    }

    /// `store`: only the first piece of the range is used; `InvalidGuestAddress(addr)` if
    /// unmapped, `InvalidBackendAddress` if that piece is shorter than the object (it straddles
    /// regions or runs into a hole or the top) or its host address is misaligned. Marks the
    /// object dirty.
    pub fn store(&mut self, bytes: &[u8], align: usize, addr: u64) -> Result<(), MemError> {
        let piece = self.atomic_piece(addr, bytes.len(), align, Permissions::Write)?;
        self.write_piece(&piece, bytes);
        Ok(())
    }

    /// `load`: the object's bytes.
    pub fn load(&self, size: usize, align: usize, addr: u64) -> Result<Vec<u8>, MemError> {
        let piece = self.atomic_piece(addr, size, align, Permissions::Read)?;
        Ok(self.read_piece(&piece, size).to_vec())
    }

    /// `read_volatile_from` with a `&[u8]` source: one read per piece (a `&[u8]` read copies
    /// `min` of both lengths and advances the source), summed; a short read does not stop the
    /// loop. Errors as `write`. Returns the count; `src` is advanced past what was consumed.
    pub fn read_volatile_from(
        &mut self,
        addr: u64,
        src: &mut &[u8],
        count: usize,
    ) -> Result<usize, MemError> {
        let mut done = 0;
        for piece in self.pieces_until_error(addr, count, Permissions::Write)? {
            let n = piece.len.min(src.len());
            self.write_piece(&piece, &src[..n]);
            *src = &src[n..];
            done += n;
        }
        Ok(done)
    }

    /// `read_exact_volatile_from`: `read_volatile_from`, then `PartialBuffer` if short (what was
    /// read stays written).
    pub fn read_exact_volatile_from(
        &mut self,
        addr: u64,
        src: &mut &[u8],
        count: usize,
    ) -> Result<(), MemError> {
        complete(count, self.read_volatile_from(addr, src, count)?)
    }

    /// `write_volatile_to` with a `&mut [u8]` sink: each piece is written completely with the
    /// sink's `write_all_volatile`; when the sink is full it reports
    /// `PartialBuffer { expected: count, completed: bytes written in all }`; returns the bytes
    /// written.
    /// With `sink == None` the sink is a `Vec<u8>`, which takes everything.
    pub fn write_volatile_to(
        &self,
        addr: u64,
        sink: &mut Sink,
        count: usize,
    ) -> Result<usize, MemError> {
        let mut done = 0;
        for piece in self.pieces_until_error(addr, count, Permissions::Read)? {
            let bytes = self.read_piece(&piece, piece.len);
            match sink.write_all(bytes) {
                Ok(()) => done += piece.len,
                Err(MemError::PartialBuffer { completed, .. }) => {
                    return Err(MemError::PartialBuffer {
                        expected: count,
                        completed: done + completed,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// `write_all_volatile_to`: `write_volatile_to`, then `PartialBuffer` if short.
    pub fn write_all_volatile_to(
        &self,
        addr: u64,
        sink: &mut Sink,
        count: usize,
    ) -> Result<(), MemError> {
        complete(count, self.write_volatile_to(addr, sink, count)?)
    }

    /// The deprecated `try_access` with a callback that answers `answer(done, len)`: walks region
    /// by region from `addr`; stops at `Ok(0)`, at the end of the range, or where no region holds
    /// the cursor (`InvalidGuestAddress(addr)` if nothing was done); `CallbackOutOfRange` if the
    /// total would exceed `count`; the cursor may wrap to exactly 0 (upstream's behaviour, kept
    /// for this deprecated method), any other wrap is `GuestAddressOverflow`.
    pub fn try_access(
        &self,
        count: usize,
        addr: u64,
        mut answer: impl FnMut(usize, usize) -> usize,
        calls: &mut Vec<AccessCall>,
    ) -> Result<usize, MemError> {
        let mut cursor = addr as u128;
        let mut total = 0usize;
        while let Some(i) = self.find_wide(cursor) {
            let region = &self.regions[i];
            let offset = cursor - region.start as u128;
            let len = (region.end() - cursor).min((count - total) as u128) as usize;
            calls.push((total, len, i, offset as u64));
            let done = answer(total, len);
            if done == 0 {
                return Ok(total);
            }
            let sum = total as u128 + done as u128;
            if sum > count as u128 {
                return Err(MemError::CallbackOutOfRange);
            }
            if sum == count as u128 {
                return Ok(count);
            }
            total = sum as usize;
            cursor += done as u128;
            if cursor == TOP {
                cursor = 0;
            } else if cursor > TOP {
                return Err(MemError::GuestAddressOverflow);
            }
        }
        if total == 0 {
            Err(MemError::InvalidGuestAddress(addr))
        } else {
            Ok(total)
        }
    }
}

/// The sink of `write_volatile_to`: a fixed `&mut [u8]` buffer or a growing `Vec<u8>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sink {
    /// A `&mut [u8]` of `capacity` bytes: `data` holds what was written so far.
    Slice {
        /// The buffer length.
        capacity: usize,
        /// The bytes written (a prefix of the buffer).
        data: Vec<u8>,
    },
    /// A `Vec<u8>`.
    Vec(Vec<u8>),
}

impl Sink {
    /// `write_volatile` of `bytes`: what fits; returns the count.
    pub(crate) fn write_some(&mut self, bytes: &[u8]) -> usize {
        match self {
            Sink::Slice { capacity, data } => {
                let n = bytes.len().min(*capacity - data.len());
                data.extend_from_slice(&bytes[..n]);
                n
            }
            Sink::Vec(data) => {
                data.extend_from_slice(bytes);
                bytes.len()
            }
        }
    }

    /// `write_all_volatile` of `bytes`.
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<(), MemError> {
        match self {
            Sink::Slice { capacity, data } => {
                let n = bytes.len().min(*capacity - data.len());
                data.extend_from_slice(&bytes[..n]);
                if n == bytes.len() {
                    Ok(())
                } else {
                    Err(MemError::PartialBuffer {
                        expected: bytes.len(),
                        completed: n,
                    })
                }
            }
            Sink::Vec(data) => {
                data.extend_from_slice(bytes);
                Ok(())
            }
        }
    }
}

fn complete(expected: usize, completed: usize) -> Result<(), MemError> {
    if expected == completed {
        Ok(())
    } else {
        Err(MemError::PartialBuffer {
            expected,
            completed,
        })
    }
}
