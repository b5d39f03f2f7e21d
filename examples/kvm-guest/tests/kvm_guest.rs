//! The example's whole flow under KVM: the guest's results, KVM's dirty log against the pages
//! the guest wrote, and the VMM's `AtomicBitmap` against the pages the VMM wrote. Each test is
//! skipped, saying why, where KVM cannot run a guest.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use vm_memory_kvm_example::flow::{self, DEFAULT_TABLE};

use common::host_or_skip;

/// `(what, value)` of the report's checked results, for the named ones.
fn result(report: &vm_memory_kvm_example::report::Report, what: &str) -> u64 {
    report
        .results
        .iter()
        .find(|r| r.what.starts_with(what))
        .unwrap_or_else(|| panic!("no result {what}"))
        .value
}

#[test]
fn default_table_end_to_end() {
    let Some(host) = host_or_skip("default_table_end_to_end") else {
        return;
    };
    let report = flow::run(&host, &DEFAULT_TABLE).expect("the guest flow");
    // Values worked out independently of the example's checker.
    assert_eq!(result(&report, "sum"), 0xdfb5);
    assert_eq!(result(&report, "sum of squares"), 0x98b9_6ef3);
    assert_eq!(result(&report, "maximum"), 0xfffe);
    assert_eq!(result(&report, "square of entry 3"), 0xfffc_0004); // 0xfffe^2
    assert_eq!(report.exits, ["IoOut(port 0x10, [b5, df])", "Hlt"]);
    assert_eq!(report.halt_rip, 0x1000 + 78);

    let [low, high] = &report.slots[..] else {
        panic!("expected two slots, got {:?}", report.slots);
    };
    assert!(!low.slot.file_backed && high.slot.file_backed);
    // The VMM's own writes: the program (low page 1), the table (high page 0).
    assert_eq!(low.vmm_pages, [1]);
    assert_eq!(high.vmm_pages, [0]);
    // KVM saw none of them, and exactly the guest's stores afterwards: squares 0x4ff0..0x5030
    // (pages 4, 5), sum 0x6000 (6); sum of squares 0x23000 (high 3), maximum 0x2fffe (high 15).
    assert!(low.kvm_before.is_empty() && high.kvm_before.is_empty());
    assert_eq!(low.guest_pages, [4, 5, 6]);
    assert_eq!(high.guest_pages, [3, 15]);
    assert!(low.kvm_again.is_empty() && high.kvm_again.is_empty());
    assert!(low.vmm_after.is_empty() && high.vmm_after.is_empty());

    let text = report.to_string();
    assert!(text.contains("memfd-backed"), "{text}");
    assert!(text.contains("[4, 5, 6]"), "{text}");
}

#[test]
fn four_entries_leave_page_5_clean() {
    let Some(host) = host_or_skip("four_entries_leave_page_5_clean") else {
        return;
    };
    // Four squares end at 0x4fff, the last byte of page 4.
    let report = flow::run(&host, &[2, 3, 5, 7]).expect("the guest flow");
    assert_eq!(report.slots[0].guest_pages, [4, 6]);
    assert_eq!(report.slots[1].guest_pages, [3, 15]);
    assert_eq!(result(&report, "sum"), 17);
    assert_eq!(result(&report, "sum of squares"), 4 + 9 + 25 + 49);
    assert_eq!(result(&report, "maximum"), 7);
}

#[test]
fn five_entries_reach_page_5() {
    let Some(host) = host_or_skip("five_entries_reach_page_5") else {
        return;
    };
    let report = flow::run(&host, &[2, 3, 5, 7, 11]).expect("the guest flow");
    assert_eq!(report.slots[0].guest_pages, [4, 5, 6]);
    assert_eq!(result(&report, "square of entry 4"), 121);
}

#[test]
fn empty_table_writes_no_squares() {
    let Some(host) = host_or_skip("empty_table_writes_no_squares") else {
        return;
    };
    let report = flow::run(&host, &[]).expect("the guest flow");
    // The guest still stores its (zero) sum, sum of squares and maximum: a store of an
    // unchanged value dirties the page all the same.
    assert_eq!(report.slots[0].guest_pages, [6]);
    assert_eq!(report.slots[1].guest_pages, [3, 15]);
    assert_eq!(report.exits, ["IoOut(port 0x10, [00, 00])", "Hlt"]);
}
