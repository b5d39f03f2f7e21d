//! The VMM's refusals under KVM: guests that misbehave, and memory KVM cannot take. Skipped,
//! saying why, where KVM cannot run a guest.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use std::time::Duration;

use vm_memory::GuestAddress;
use vm_memory_kvm_example::error::Error;
use vm_memory_kvm_example::layout::{self, CODE_ADDR};
use vm_memory_kvm_example::memory::{Backing, RegionSpec, build_memory, load_program};
use vm_memory_kvm_example::vm::Machine;

use common::host_or_skip;

/// Runs `program` from `CODE_ADDR` on the example's memory layout for at most `limit`.
fn run_program(test: &str, program: &[u8], limit: Duration) -> Option<Error> {
    let host = host_or_skip(test)?;
    let mem = build_memory(&layout::regions()).unwrap();
    load_program(&mem, GuestAddress(CODE_ADDR), program).unwrap();
    let mut machine = Machine::new(&host.kvm, mem).unwrap();
    Some(machine.run(limit).expect_err("the run must fail"))
}

#[test]
fn a_write_to_another_port_is_refused() {
    // mov al, 42; out 0x20, al; hlt
    let program = [0xb0, 42, 0xe6, 0x20, 0xf4];
    let Some(e) = run_program(
        "a_write_to_another_port_is_refused",
        &program,
        Duration::from_secs(10),
    ) else {
        return;
    };
    assert!(
        matches!(&e, Error::UnexpectedPort { port: 0x20, data, expected: 0x10 } if data == &[42]),
        "{e:?}"
    );
}

#[test]
fn a_halt_before_completion_is_refused() {
    let Some(e) = run_program(
        "a_halt_before_completion_is_refused",
        &[0xf4],
        Duration::from_secs(10),
    ) else {
        return;
    };
    assert!(matches!(e, Error::HaltedEarly { rip: 0x1001 }), "{e:?}");
}

#[test]
fn an_access_to_unbacked_memory_is_an_unexpected_exit() {
    // mov ax, 0x1000; mov ds, ax; mov [0], al; hlt: a store to 0x10000, the hole between the
    // regions, which KVM reports as MMIO.
    let program = [0xb8, 0x00, 0x10, 0x8e, 0xd8, 0xa2, 0x00, 0x00, 0xf4];
    let Some(e) = run_program(
        "an_access_to_unbacked_memory_is_an_unexpected_exit",
        &program,
        Duration::from_secs(10),
    ) else {
        return;
    };
    let Error::UnexpectedExit { exit, rip } = &e else {
        panic!("{e:?}");
    };
    assert!(exit.starts_with("MmioWrite(65536"), "{exit}");
    // KVM emulates the store, hands its data to the VMM, and is already past it (0x1005 + 3).
    assert_eq!(*rip, 0x1008);
}

#[test]
fn a_guest_that_never_exits_is_stopped() {
    // jmp $
    let program = [0xeb, 0xfe];
    let start = std::time::Instant::now();
    let Some(e) = run_program(
        "a_guest_that_never_exits_is_stopped",
        &program,
        Duration::from_millis(300),
    ) else {
        return;
    };
    assert!(matches!(e, Error::Timeout { rip: 0x1000, .. }), "{e:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn regions_that_are_not_page_multiples_cannot_be_slots() {
    let Some(host) = host_or_skip("regions_that_are_not_page_multiples_cannot_be_slots") else {
        return;
    };
    let mem = build_memory(&[RegionSpec {
        base: GuestAddress(0),
        size: 0x1800,
        backing: Backing::Anonymous,
    }])
    .unwrap();
    let e = Machine::new(&host.kvm, mem).unwrap_err();
    assert!(
        matches!(
            e,
            Error::UnalignedSlot {
                base: 0,
                size: 0x1800,
                page_size: 0x1000
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("multiples of the 0x1000-byte page"),
        "{e}"
    );
}
