//! What ran and what was checked, printed as a short report.

use std::fmt;

use crate::layout::{CODE_ADDR, GuestWrite, PAGE_SIZE, TABLE_ADDR};
use crate::vm::Slot;

/// One value the guest produced, read back through `Bytes` and found equal to the VMM's own
/// computation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// What it is.
    pub what: String,
    /// Where the guest stored it.
    pub addr: u64,
    /// The value.
    pub value: u64,
}

/// The dirty pages of one memory slot at each point of the run (page indices from its base).
/// Every list was checked against the writes the VMM or the guest made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotReport {
    /// The slot.
    pub slot: Slot,
    /// The VMM's `AtomicBitmap` after loading the program and the table.
    pub vmm_pages: Vec<u64>,
    /// KVM's dirty log before the run.
    pub kvm_before: Vec<u64>,
    /// KVM's dirty log after the run: the pages the guest wrote.
    pub guest_pages: Vec<u64>,
    /// KVM's dirty log read once more.
    pub kvm_again: Vec<u64>,
    /// The VMM's `AtomicBitmap` after the run and the reads of the results.
    pub vmm_after: Vec<u64>,
}

/// A successful run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// `KVM_GET_API_VERSION`.
    pub api_version: i32,
    /// KVM's memory slot limit.
    pub memory_slots: usize,
    /// The guest program's size.
    pub program_len: usize,
    /// The table the guest read.
    pub table: Vec<u16>,
    /// The vCPU exits, in order.
    pub exits: Vec<String>,
    /// `rip` when the guest halted.
    pub halt_rip: u64,
    /// The results, each checked.
    pub results: Vec<Checked>,
    /// The VMM's stores through `Bytes` before the run.
    pub vmm_writes: Vec<GuestWrite>,
    /// The guest's stores.
    pub guest_writes: Vec<GuestWrite>,
    /// Dirty pages per slot.
    pub slots: Vec<SlotReport>,
}

/// A line of the dirty page table: its title and the list it shows for a slot.
type Row = (&'static str, fn(&SlotReport) -> &[u64]);

/// Page indices as `[a, b]`, or `none`.
struct Pages<'a>(&'a [u64]);

impl fmt::Display for Pages<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("none")
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "KVM API {}, {} memory slots; guest memory is GuestMemoryMmap<AtomicBitmap>:",
            self.api_version, self.memory_slots
        )?;
        for s in &self.slots {
            let slot = &s.slot;
            let backing = if slot.file_backed {
                "memfd-backed, shared"
            } else {
                "anonymous, private"
            };
            writeln!(
                f,
                "  slot {}: {:#07x}..{:#07x} ({} KiB, {backing}), KVM_MEM_LOG_DIRTY_PAGES",
                slot.id,
                slot.base,
                slot.base + slot.size,
                slot.size / 1024,
            )?;
        }
        writeln!(
            f,
            "VMM wrote through Bytes: the {}-byte real-mode program at {CODE_ADDR:#x}, \
             a table of {} u16 entries at {TABLE_ADDR:#x}",
            self.program_len,
            self.table.len()
        )?;
        writeln!(f, "  table: {:?}", self.table)?;
        writeln!(
            f,
            "guest ran: exits {} (halted at rip {:#x}, just past its hlt)",
            self.exits.join(", "),
            self.halt_rip
        )?;
        writeln!(
            f,
            "results read back through Bytes, each equal to the VMM's computation:"
        )?;
        let is_square = |r: &&Checked| r.what.starts_with("square of");
        let squares: Vec<String> = self
            .results
            .iter()
            .filter(is_square)
            .map(|r| r.value.to_string())
            .collect();
        if let Some(first) = self.results.iter().find(is_square) {
            writeln!(f, "  squares at {:#x}: {}", first.addr, squares.join(", "))?;
        }
        for r in self.results.iter().filter(|r| !is_square(r)) {
            writeln!(f, "  {} at {:#x}: {:#x}", r.what, r.addr, r.value)?;
        }
        writeln!(f, "stores, as each side made them:")?;
        for (who, writes) in [("VMM  ", &self.vmm_writes), ("guest", &self.guest_writes)] {
            let list: Vec<String> = writes
                .iter()
                .map(|w| format!("{} {:#x}..{:#x}", w.what, w.addr, w.addr + w.len))
                .collect();
            writeln!(f, "  {who} {}", list.join(", "))?;
        }
        writeln!(
            f,
            "dirty pages ({} KiB, index from the slot's base), each list equal to the expected one:",
            PAGE_SIZE / 1024
        )?;
        let mut header = format!("  {:<44}", "");
        for s in &self.slots {
            header.push_str(&format!("{:<12}", format!("slot {}", s.slot.id)));
        }
        writeln!(f, "{}", header.trim_end())?;
        let rows: [Row; 5] = [
            ("VMM's AtomicBitmap after loading", |s| &s.vmm_pages),
            ("KVM's log before the run", |s| &s.kvm_before),
            ("KVM's log after the run = guest's stores", |s| {
                &s.guest_pages
            }),
            ("KVM's log read again", |s| &s.kvm_again),
            ("AtomicBitmap after the run and the reads", |s| &s.vmm_after),
        ];
        for (name, pages) in rows {
            let mut line = format!("  {name:<44}");
            for s in &self.slots {
                line.push_str(&format!("{:<12}", Pages(pages(s)).to_string()));
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}
