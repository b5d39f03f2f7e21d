//! The vCPU: real-mode start state and the run loop (port writes and `hlt`; anything else is an
//! error).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kvm_ioctls::{VcpuExit, VcpuFd};

use crate::error::Error;
use crate::layout::DONE_PORT;
use crate::vm::kvm_error;
use crate::watchdog;

/// What the guest did until it halted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSummary {
    /// The exits in order, as text.
    pub exits: Vec<String>,
    /// The data of each write to [`DONE_PORT`], in order.
    pub done_writes: Vec<Vec<u8>>,
    /// The instruction pointer when the guest halted (just past its `hlt`).
    pub halt_rip: u64,
}

/// Puts the vCPU in real mode with `CS:IP = 0:entry`, interrupts off.
///
/// # Errors
///
/// `Kvm` if the registers cannot be read or set.
pub fn enter_real_mode(vcpu: &mut VcpuFd, entry: u64) -> Result<(), Error> {
    debug_assert!(entry < 0x1_0000, "entry must be in segment 0");
    // The reset state is real mode at the reset vector, CS base 0xffff0000; move CS to 0.
    let mut sregs = vcpu.get_sregs().map_err(kvm_error("KVM_GET_SREGS"))?;
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    vcpu.set_sregs(&sregs).map_err(kvm_error("KVM_SET_SREGS"))?;
    let mut regs = vcpu.get_regs().map_err(kvm_error("KVM_GET_REGS"))?;
    regs.rip = entry;
    regs.rflags = 0x2; // bit 1 is reserved and set; IF clear
    vcpu.set_regs(&regs).map_err(kvm_error("KVM_SET_REGS"))
}

/// One vCPU exit, copied out of the `kvm_run` page.
enum Exit {
    Out(u16, Vec<u8>),
    Halt,
    Interrupted,
    Other(String),
}

/// Runs the vCPU until the guest halts after writing to [`DONE_PORT`], for at most `limit`.
///
/// # Errors
///
/// `UnexpectedPort` for a write to another port, `HaltedEarly` for a `hlt` before any write to
/// the completion port, `UnexpectedExit` for any other exit, `Timeout` after `limit`, `Kvm` if
/// `KVM_RUN` fails.
pub fn run(vcpu: &mut VcpuFd, limit: Duration) -> Result<RunSummary, Error> {
    watchdog::limit(limit, |expired| run_until_halt(vcpu, expired, limit))?
}

fn run_until_halt(
    vcpu: &mut VcpuFd,
    expired: &AtomicBool,
    limit: Duration,
) -> Result<RunSummary, Error> {
    let mut summary = RunSummary {
        exits: Vec::new(),
        done_writes: Vec::new(),
        halt_rip: 0,
    };
    loop {
        if expired.load(Ordering::SeqCst) {
            return Err(Error::Timeout {
                secs: limit.as_secs(),
                rip: rip(vcpu)?,
            });
        }
        let exit = match vcpu.run() {
            Ok(VcpuExit::IoOut(port, data)) => Exit::Out(port, data.to_vec()),
            Ok(VcpuExit::Hlt) => Exit::Halt,
            Ok(VcpuExit::Intr) => Exit::Interrupted,
            Ok(other) => Exit::Other(format!("{other:?}")),
            Err(e) if e.errno() == libc::EINTR => Exit::Interrupted,
            Err(source) => {
                return Err(Error::Kvm {
                    what: "KVM_RUN",
                    source,
                });
            }
        };
        match exit {
            Exit::Out(DONE_PORT, data) => {
                summary
                    .exits
                    .push(format!("IoOut(port {DONE_PORT:#x}, {data:02x?})"));
                summary.done_writes.push(data);
            }
            Exit::Out(port, data) => {
                return Err(Error::UnexpectedPort {
                    port,
                    data,
                    expected: DONE_PORT,
                });
            }
            Exit::Halt => {
                let rip = rip(vcpu)?;
                if summary.done_writes.is_empty() {
                    return Err(Error::HaltedEarly { rip });
                }
                summary.exits.push("Hlt".into());
                summary.halt_rip = rip;
                return Ok(summary);
            }
            // The watchdog's signal; the flag is checked above.
            Exit::Interrupted => {}
            Exit::Other(exit) => {
                return Err(Error::UnexpectedExit {
                    exit,
                    rip: rip(vcpu)?,
                });
            }
        }
    }
}

fn rip(vcpu: &VcpuFd) -> Result<u64, Error> {
    Ok(vcpu.get_regs().map_err(kvm_error("KVM_GET_REGS"))?.rip)
}
