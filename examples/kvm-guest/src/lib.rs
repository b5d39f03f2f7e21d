//! A real guest on `vm-memory`: a KVM virtual machine whose memory is this project's
//! `GuestMemoryMmap<AtomicBitmap>`, with KVM's dirty log checked against the pages the guest
//! wrote.
//!
//! The VMM builds guest memory from two regions (one anonymous, one a sealed memfd), registers
//! each as a KVM memory slot with `KVM_MEM_LOG_DIRTY_PAGES`, writes a hand-assembled real-mode
//! program and a table through `Bytes`, and runs one vCPU. The guest squares and sums the table,
//! stores results in pages of both regions and writes the sum to an I/O port. The VMM then reads
//! the results back through `Bytes`, checks every one, and compares:
//!
//! - KVM's dirty log with exactly the pages the guest wrote ([`layout::guest_writes`]);
//! - the VMM's `AtomicBitmap` with exactly the pages the VMM wrote (the program and the table),
//!   which KVM's log must not show.
//!
//! Run it with `cargo run -p vm-memory-kvm-example`. It needs Linux on x86-64 and a `/dev/kvm`
//! that can run a guest; elsewhere it says why it cannot run. [`probe::probe`] tells the two
//! apart.

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod dirty;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod error;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod flow;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod layout;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod memory;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod probe;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod program;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod report;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod vcpu;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod vm;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod watchdog;

/// Why this build cannot run the example at all, or `None` on Linux x86-64 (where
/// [`probe::probe`] still has to find a working `/dev/kvm`).
pub const PLATFORM_UNSUPPORTED: Option<&str> = if cfg!(all(
    target_os = "linux",
    target_arch = "x86_64"
)) {
    None
} else {
    Some(
        "the example's guest is x86 real-mode code run through Linux KVM; this is not a Linux x86_64 build",
    )
};
