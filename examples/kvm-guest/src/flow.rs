//! The whole run: build memory, load the guest and its table through `Bytes`, run it under KVM,
//! check its results, and compare both dirty logs with the writes each side made.

use std::time::Duration;

use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend};

use crate::dirty::harvest_vmm_pages;
use crate::error::Error;
use crate::layout::{
    self, CODE_ADDR, DONE_PORT, GuestWrite, MAX_ADDR, SQUARES_ADDR, SUM_ADDR, SUM_OF_SQUARES_ADDR,
    TABLE_ADDR, TABLE_ENTRIES_OFFSET,
};
use crate::memory::{Memory, build_memory, load_program, write_table};
use crate::probe::Host;
use crate::program::{PROGRAM_LEN, guest_program};
use crate::report::{Checked, Report, SlotReport};
use crate::vm::{Machine, Slot};

/// The table the example binary gives the guest: 16 entries, so the squares cross from page 4
/// into page 5; values up to `0xfffe`, so squares need 32 bits and the sums wrap.
pub const DEFAULT_TABLE: [u16; 16] = [
    3, 255, 0x1234, 0xfffe, 256, 0x7fff, 0x8000, 1, 1234, 0, 10_000, 0xabcd, 66, 50_000, 7, 12_345,
];

/// How long the guest may run before it is stopped and the run fails.
pub const RUN_LIMIT: Duration = Duration::from_secs(10);

/// Runs the guest on `table` and checks everything; the report says what ran and what matched.
///
/// # Errors
///
/// The first setup step or check that failed.
pub fn run(host: &Host, table: &[u16]) -> Result<Report, Error> {
    let mem = build_memory(&layout::regions())?;
    load_program(&mem, GuestAddress(CODE_ADDR), &guest_program())?;
    write_table(&mem, GuestAddress(TABLE_ADDR), table)?;
    let vmm_writes = vmm_writes(table.len());
    let guest_writes = layout::guest_writes(table.len());

    let mut machine = Machine::new(&host.kvm, mem)?;
    let mut reports = Vec::with_capacity(machine.slots().len());
    for (slot, region) in machine.slots().iter().zip(machine.memory().iter()) {
        let vmm_pages = expect_pages(
            "the VMM's AtomicBitmap",
            slot,
            harvest_vmm_pages(region),
            &vmm_writes,
        )?;
        // KVM only logs the guest's writes: the VMM's are invisible to it.
        let kvm_before = expect_pages(
            "KVM's dirty log before the run",
            slot,
            machine.take_dirty_pages(slot)?,
            &[],
        )?;
        reports.push(SlotReport {
            slot: slot.clone(),
            vmm_pages,
            kvm_before,
            guest_pages: Vec::new(),
            kvm_again: Vec::new(),
            vmm_after: Vec::new(),
        });
    }

    let summary = machine.run(RUN_LIMIT)?;
    let results = check_results(machine.memory(), table, &summary.done_writes)?;
    let halt_expected = CODE_ADDR + PROGRAM_LEN as u64;
    if summary.halt_rip != halt_expected {
        return Err(Error::WrongResult {
            what: "halt address (rip after hlt)".into(),
            expected: halt_expected,
            found: summary.halt_rip,
        });
    }

    for (report, region) in reports.iter_mut().zip(machine.memory().iter()) {
        let slot = &report.slot;
        report.guest_pages = expect_pages(
            "KVM's dirty log",
            slot,
            machine.take_dirty_pages(slot)?,
            &guest_writes,
        )?;
        // Reading the log cleared it.
        report.kvm_again = expect_pages(
            "KVM's dirty log read a second time",
            slot,
            machine.take_dirty_pages(slot)?,
            &[],
        )?;
        // The guest's writes bypass the VMM's bitmap, and reading results does not mark it.
        report.vmm_after = expect_pages(
            "the VMM's AtomicBitmap after the run",
            slot,
            harvest_vmm_pages(region),
            &[],
        )?;
    }

    Ok(Report {
        api_version: host.api_version,
        memory_slots: host.memory_slots,
        program_len: PROGRAM_LEN,
        table: table.to_vec(),
        exits: summary.exits,
        halt_rip: summary.halt_rip,
        results,
        vmm_writes: vmm_writes.to_vec(),
        guest_writes,
        slots: reports,
    })
}

/// What the VMM writes through `Bytes` before the run: the program and the table.
fn vmm_writes(entries: usize) -> [GuestWrite; 2] {
    [
        GuestWrite {
            what: "program",
            addr: CODE_ADDR,
            len: PROGRAM_LEN as u64,
        },
        GuestWrite {
            what: "table",
            addr: TABLE_ADDR,
            len: TABLE_ENTRIES_OFFSET + 2 * entries as u64,
        },
    ]
}

/// Checks that `found` (page indices of `slot`) are exactly the pages `writes` touch there.
fn expect_pages(
    log: &'static str,
    slot: &Slot,
    found: Vec<u64>,
    writes: &[GuestWrite],
) -> Result<Vec<u64>, Error> {
    let expected = layout::pages_touched(writes, slot.base, slot.size);
    if found == expected {
        Ok(found)
    } else {
        Err(Error::DirtyMismatch {
            log,
            region: slot.base,
            expected,
            found,
        })
    }
}

/// Reads the guest's results through `Bytes` and compares them with the VMM's own computation.
fn check_results(mem: &Memory, table: &[u16], done: &[Vec<u8>]) -> Result<Vec<Checked>, Error> {
    let read = |addr: u64, len: usize| -> Result<u64, Error> {
        let mut bytes = [0u8; 8];
        mem.read_slice(&mut bytes[..len], GuestAddress(addr))
            .map_err(|source| Error::Access {
                what: "reading the guest's results",
                source,
            })?;
        Ok(u64::from_le_bytes(bytes))
    };
    let check = |what: String, addr: u64, len: usize, expected: u64| -> Result<Checked, Error> {
        let found = read(addr, len)?;
        if found != expected {
            return Err(Error::WrongResult {
                what,
                expected,
                found,
            });
        }
        Ok(Checked {
            what,
            addr,
            value: found,
        })
    };

    let mut checked = Vec::with_capacity(table.len() + 5);
    for (i, &x) in table.iter().enumerate() {
        let square = u64::from(u32::from(x) * u32::from(x));
        let addr = SQUARES_ADDR + 4 * i as u64;
        checked.push(check(
            format!("square of entry {i} ({x})"),
            addr,
            4,
            square,
        )?);
    }
    // The word after the last square must be untouched: the guest wrote exactly one per entry.
    let after = SQUARES_ADDR + 4 * table.len() as u64;
    checked.push(check("word after the squares".into(), after, 4, 0)?);
    let sum = table.iter().fold(0u16, |a, &x| a.wrapping_add(x));
    checked.push(check("sum (mod 2^16)".into(), SUM_ADDR, 2, sum.into())?);
    let sum_sq = table
        .iter()
        .fold(0u32, |a, &x| a.wrapping_add(u32::from(x) * u32::from(x)));
    checked.push(check(
        "sum of squares (mod 2^32)".into(),
        SUM_OF_SQUARES_ADDR,
        4,
        sum_sq.into(),
    )?);
    let max = table.iter().copied().max().unwrap_or(0);
    checked.push(check("maximum".into(), MAX_ADDR, 2, max.into())?);

    let [write] = done else {
        return Err(Error::WrongResult {
            what: format!("number of writes to port {DONE_PORT:#x}"),
            expected: 1,
            found: done.len() as u64,
        });
    };
    let value = match write.as_slice() {
        [lo, hi] => u16::from_le_bytes([*lo, *hi]),
        other => {
            return Err(Error::WrongResult {
                what: format!("size of the write to port {DONE_PORT:#x}"),
                expected: 2,
                found: other.len() as u64,
            });
        }
    };
    if value != sum {
        return Err(Error::WrongResult {
            what: format!("value written to port {DONE_PORT:#x}"),
            expected: sum.into(),
            found: value.into(),
        });
    }
    Ok(checked)
}
