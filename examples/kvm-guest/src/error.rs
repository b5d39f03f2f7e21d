//! Everything that can go wrong, each with a message that says what and where.

use vm_memory::GuestMemoryError;
use vm_memory::GuestRegionCollectionError;
use vm_memory::mmap::BackingError;

use crate::memory::RegionSpec;

/// Why the example could not set up, run or verify its guest.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A region could not be mapped.
    #[error("cannot back the guest memory region {region}")]
    Backing {
        /// The region.
        region: RegionSpec,
        /// Why.
        #[source]
        source: BackingError,
    },
    /// The regions do not form a valid guest memory (they overlap, for example).
    #[error("invalid guest memory layout [{layout}]: {reason}")]
    Layout {
        /// The regions, sorted by address.
        layout: String,
        /// `GuestRegionCollection`'s reason.
        reason: GuestRegionCollectionError,
    },
    /// No region holds the program's load address.
    #[error("cannot load the guest program at {addr:#x}: no guest memory region holds it")]
    ProgramOutsideMemory {
        /// The load address.
        addr: u64,
    },
    /// The program does not fit in its region.
    #[error(
        "the guest program ({len} bytes) does not fit at {addr:#x}: its region \
         {region_start:#x}..{region_end:#x} has only {room} bytes from there"
    )]
    ProgramTooLarge {
        /// Program length.
        len: usize,
        /// The load address.
        addr: u64,
        /// The region's first address.
        region_start: u64,
        /// One past the region's last address.
        region_end: u64,
        /// Bytes from `addr` to the end of the region.
        room: u64,
    },
    /// The table has more entries than the guest's result area holds.
    #[error("the table has {entries} entries; the guest handles at most {max}")]
    TableTooLarge {
        /// Entries given.
        entries: usize,
        /// The limit.
        max: usize,
    },
    /// A `Bytes` access to guest memory failed.
    #[error("guest memory access failed while {what}")]
    Access {
        /// What the VMM was doing.
        what: &'static str,
        /// The access error.
        #[source]
        source: GuestMemoryError,
    },
    /// A region cannot be a KVM memory slot (KVM wants page-aligned slots).
    #[error(
        "guest memory region {base:#x} (+{size:#x}) cannot be a KVM memory slot: its address and \
         size must be multiples of the {page_size:#x}-byte page"
    )]
    UnalignedSlot {
        /// The region's guest address.
        base: u64,
        /// The region's size.
        size: u64,
        /// The page size.
        page_size: u64,
    },
    /// More regions than KVM has memory slots.
    #[error("{regions} guest memory regions, but this KVM has only {slots} memory slots")]
    TooManySlots {
        /// Regions to register.
        regions: usize,
        /// Slots KVM offers.
        slots: usize,
    },
    /// A KVM ioctl failed.
    #[error("KVM: {what} failed")]
    Kvm {
        /// The operation.
        what: &'static str,
        /// The errno.
        #[source]
        source: kvm_ioctls::Error,
    },
    /// The vCPU stopped for a reason the VMM does not handle.
    #[error("the vCPU exited unexpectedly: {exit} (rip {rip:#x})")]
    UnexpectedExit {
        /// The exit, as KVM reported it.
        exit: String,
        /// The guest's instruction pointer then, if it could be read.
        rip: u64,
    },
    /// The guest wrote to a port other than the completion port.
    #[error(
        "the guest wrote {data:02x?} to port {port:#x}; it may only write to port {expected:#x}"
    )]
    UnexpectedPort {
        /// The port.
        port: u16,
        /// The data.
        data: Vec<u8>,
        /// The completion port.
        expected: u16,
    },
    /// The guest halted without signalling completion.
    #[error("the guest halted at rip {rip:#x} without writing to the completion port")]
    HaltedEarly {
        /// Where it halted.
        rip: u64,
    },
    /// The guest did not halt in time.
    #[error("the guest did not halt within {secs} s (stopped at rip {rip:#x})")]
    Timeout {
        /// The limit.
        secs: u64,
        /// Where it was stopped.
        rip: u64,
    },
    /// The time limit on the vCPU could not be set up.
    #[error("the vCPU watchdog failed: {0}")]
    Watchdog(String),
    /// A value the guest produced differs from the VMM's own computation.
    #[error("the guest's {what} is {found:#x}, expected {expected:#x}")]
    WrongResult {
        /// Which value.
        what: String,
        /// The VMM's computation.
        expected: u64,
        /// What the guest wrote.
        found: u64,
    },
    /// A set of dirty pages differs from the expected one.
    #[error("{log} for the region at {region:#x} has pages {found:?}, expected {expected:?}")]
    DirtyMismatch {
        /// Which log (KVM's, or the VMM's `AtomicBitmap`).
        log: &'static str,
        /// The region's guest address.
        region: u64,
        /// The expected page indices.
        expected: Vec<u64>,
        /// The page indices found.
        found: Vec<u64>,
    },
}

/// `e` and its sources, joined with `": "`, for one-line messages.
pub fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
