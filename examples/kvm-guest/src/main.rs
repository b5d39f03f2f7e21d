//! `cargo run -p vm-memory-kvm-example`: runs the guest and prints what ran and what was checked.
//!
//! Exit status: 0 when everything checked out, 1 when a step or check failed, 2 when this host
//! cannot run a KVM guest (the reason is printed).

use std::process::ExitCode;

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn main() -> ExitCode {
    use vm_memory_kvm_example::error::describe;
    use vm_memory_kvm_example::{flow, probe};

    println!("vm-memory KVM example: a real-mode x86 guest on GuestMemoryMmap<AtomicBitmap>");
    println!("bad input, refused before any guest runs:");
    if let Err(message) = bad_input::show() {
        println!("error: {message}");
        return ExitCode::FAILURE;
    }
    let host = match probe::probe() {
        Ok(host) => host,
        Err(reason) => {
            println!("cannot run the guest on this host: {reason}");
            return ExitCode::from(2);
        }
    };
    match flow::run(&host, &flow::DEFAULT_TABLE) {
        Ok(report) => {
            print!("{report}");
            println!("all checks passed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("error: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod bad_input {
    use vm_memory::GuestAddress;
    use vm_memory_kvm_example::error::describe;
    use vm_memory_kvm_example::layout::{self, CODE_ADDR, LOW_SIZE};
    use vm_memory_kvm_example::memory::{Backing, RegionSpec, build_memory, load_program};

    /// Shows that overlapping regions and an oversized program are refused; `Err` if either is
    /// accepted or fails for another reason.
    pub fn show() -> Result<(), String> {
        let overlapping = [
            RegionSpec {
                base: GuestAddress(0),
                size: 0x1_0000,
                backing: Backing::Anonymous,
            },
            RegionSpec {
                base: GuestAddress(0x8000),
                size: 0x1_0000,
                backing: Backing::Memfd,
            },
        ];
        match build_memory(&overlapping) {
            Ok(_) => return Err("overlapping regions were accepted".into()),
            Err(e) => println!("  overlapping regions: {}", describe(&e)),
        }
        let mem = build_memory(&layout::regions()).map_err(|e| describe(&e))?;
        let program = vec![0x90; LOW_SIZE]; // nops: as large as the whole low region
        match load_program(&mem, GuestAddress(CODE_ADDR), &program) {
            Ok(()) => Err("an oversized program was accepted".into()),
            Err(e) => {
                println!("  oversized program: {}", describe(&e));
                Ok(())
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn main() -> ExitCode {
    let reason = vm_memory_kvm_example::PLATFORM_UNSUPPORTED.unwrap_or("unsupported platform");
    println!("cannot run the guest: {reason}");
    ExitCode::from(2)
}
