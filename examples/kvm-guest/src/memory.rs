//! Guest memory for the example: `GuestMemoryMmap<AtomicBitmap>` from region specs, and the
//! VMM's writes into it (the program and the table) through `Bytes`.

use std::fmt;

use vm_memory::bitmap::AtomicBitmap;
use vm_memory::mmap::MemoryBacking;
use vm_memory::{
    Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion, GuestRegionMmap,
};

use crate::error::Error;
use crate::layout::{MAX_ENTRIES, TABLE_ENTRIES_OFFSET};

/// Guest memory whose regions record every write the VMM makes through `Bytes`.
pub type Memory = GuestMemoryMmap<AtomicBitmap>;

/// What backs a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Private anonymous memory.
    Anonymous,
    /// A sealed memfd of its own, as a VMM would share with a vhost-user backend.
    Memfd,
}

/// One region to build: where, how large, and backed by what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionSpec {
    /// Guest physical address of the first byte.
    pub base: GuestAddress,
    /// Size in bytes.
    pub size: usize,
    /// The memory behind it.
    pub backing: Backing,
}

impl fmt::Display for RegionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backing = match self.backing {
            Backing::Anonymous => "anonymous",
            Backing::Memfd => "memfd",
        };
        let end = self.base.0 as u128 + self.size as u128;
        write!(f, "{:#x}..{end:#x} ({backing})", self.base.0)
    }
}

/// Name of the memfds, as `/proc/<pid>/fd` shows them.
const MEMFD_NAME: &str = "vm-memory-kvm-example";

/// Maps every region of `specs` and puts them together in one guest memory. The specs may come
/// in any order; they are placed by address.
///
/// # Errors
///
/// `Backing` if a region cannot be mapped (an empty one, or one ending past the guest address
/// space, is refused there); `Layout`, with `GuestRegionCollection`'s reason, if regions overlap.
pub fn build_memory(specs: &[RegionSpec]) -> Result<Memory, Error> {
    let mut specs = specs.to_vec();
    specs.sort_by_key(|spec| spec.base);
    let regions = specs
        .iter()
        .map(|spec| {
            map_region(spec).map_err(|source| Error::Backing {
                region: *spec,
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    GuestMemoryMmap::from_regions(regions).map_err(|reason| Error::Layout {
        layout: specs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        reason,
    })
}

fn map_region(
    spec: &RegionSpec,
) -> Result<GuestRegionMmap<AtomicBitmap>, vm_memory::mmap::BackingError> {
    let backing = match spec.backing {
        Backing::Anonymous => MemoryBacking::anonymous(),
        Backing::Memfd => MemoryBacking::memfd(MEMFD_NAME),
    };
    backing.build_region(spec.base, spec.size)
}

/// Writes `program` at `addr`, which must lie in one region together with the whole program.
///
/// # Errors
///
/// `ProgramOutsideMemory` if no region holds `addr`, `ProgramTooLarge` if the program runs past
/// the end of that region (it is refused even if another region follows right after: the
/// program is loaded into one region), `Access` if the write fails.
pub fn load_program(mem: &Memory, addr: GuestAddress, program: &[u8]) -> Result<(), Error> {
    let region = mem
        .find_region(addr)
        .ok_or(Error::ProgramOutsideMemory { addr: addr.0 })?;
    let room = region.last_addr().0 - addr.0 + 1;
    if program.len() as u64 > room {
        return Err(Error::ProgramTooLarge {
            len: program.len(),
            addr: addr.0,
            region_start: region.start_addr().0,
            region_end: region.last_addr().0 + 1,
            room,
        });
    }
    mem.write_slice(program, addr)
        .map_err(|source| Error::Access {
            what: "writing the guest program",
            source,
        })
}

/// Writes the table the guest reads at `addr`: the `u16` entry count, a reserved `u16`, then the
/// entries, little-endian.
///
/// # Errors
///
/// `TableTooLarge` for more than [`MAX_ENTRIES`] entries, `Access` if the write fails.
pub fn write_table(mem: &Memory, addr: GuestAddress, entries: &[u16]) -> Result<(), Error> {
    if entries.len() > MAX_ENTRIES {
        return Err(Error::TableTooLarge {
            entries: entries.len(),
            max: MAX_ENTRIES,
        });
    }
    let access = |source| Error::Access {
        what: "writing the table",
        source,
    };
    let mut bytes = Vec::with_capacity(TABLE_ENTRIES_OFFSET as usize + 2 * entries.len());
    bytes.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    bytes.extend_from_slice(&0u16.to_le_bytes());
    for entry in entries {
        bytes.extend_from_slice(&entry.to_le_bytes());
    }
    mem.write_slice(&bytes, addr).map_err(access)
}
