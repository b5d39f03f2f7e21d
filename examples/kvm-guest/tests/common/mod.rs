//! The skip rule shared by the KVM tests.

use std::io::Write;

use vm_memory_kvm_example::probe::{Host, probe};

/// Set to 1 to make a host without a working KVM fail the tests instead of skipping them.
const REQUIRE_VAR: &str = "VM_MEMORY_KVM_REQUIRED";

/// KVM, if it can run a guest here. Otherwise prints `skipped: <reason>` where `cargo test`
/// shows it (the harness captures `println!`, not writes to the real stderr) and returns
/// `None`, or panics if `VM_MEMORY_KVM_REQUIRED=1`.
pub fn host_or_skip(test: &str) -> Option<Host> {
    let reason = match vm_memory_kvm_example::PLATFORM_UNSUPPORTED {
        Some(reason) => reason.to_owned(),
        None => match probe() {
            Ok(host) => return Some(host),
            Err(reason) => reason.to_string(),
        },
    };
    if std::env::var(REQUIRE_VAR).as_deref() == Ok("1") {
        panic!("{test}: KVM is required ({REQUIRE_VAR}=1) but cannot run a guest: {reason}");
    }
    // One write, so that parallel tests do not interleave inside the line.
    let line = format!("{test}: skipped: {reason}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    None
}
