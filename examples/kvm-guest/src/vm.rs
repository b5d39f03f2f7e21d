//! A KVM virtual machine on [`Memory`]: every region a memory slot with dirty logging, one vCPU.

use std::time::Duration;

use kvm_bindings::{KVM_MEM_LOG_DIRTY_PAGES, kvm_userspace_memory_region};
use kvm_ioctls::{Kvm, VcpuFd, VmFd};
use vm_memory::{GuestMemoryBackend, GuestMemoryRegion, MemoryRegionAddress};

use crate::dirty::pages_of;
use crate::error::Error;
use crate::layout::{CODE_ADDR, PAGE_SIZE};
use crate::memory::Memory;
use crate::vcpu::{self, RunSummary};

/// One region of guest memory as a KVM memory slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// KVM's slot number (the region's index in guest memory).
    pub id: u32,
    /// Guest physical address.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
    /// `true` for a region backed by a file (here the memfd), `false` for anonymous memory.
    pub file_backed: bool,
}

/// A VM whose memory is a [`Memory`], with one vCPU in real mode at [`CODE_ADDR`].
///
/// Field order is drop order: the vCPU and the VM are closed before the memory they use is
/// unmapped.
#[derive(Debug)]
pub struct Machine {
    vcpu: VcpuFd,
    vm: VmFd,
    mem: Memory,
    slots: Vec<Slot>,
}

impl Machine {
    /// Creates a VM, registers every region of `mem` as a slot with `KVM_MEM_LOG_DIRTY_PAGES`,
    /// and creates its vCPU.
    ///
    /// # Errors
    ///
    /// `UnalignedSlot` or `TooManySlots` for memory KVM cannot take, `Kvm` if an ioctl fails.
    pub fn new(kvm: &Kvm, mem: Memory) -> Result<Machine, Error> {
        let slots = slots_of(&mem, kvm.get_nr_memslots())?;
        let vm = kvm.create_vm().map_err(kvm_error("KVM_CREATE_VM"))?;
        for (slot, region) in slots.iter().zip(mem.iter()) {
            let host = region
                .get_host_address(MemoryRegionAddress(0))
                .map_err(|source| Error::Access {
                    what: "getting a region's host address",
                    source,
                })?;
            let entry = kvm_userspace_memory_region {
                slot: slot.id,
                flags: KVM_MEM_LOG_DIRTY_PAGES,
                guest_phys_addr: slot.base,
                memory_size: slot.size,
                userspace_addr: host as u64,
            };
            // SAFETY: `host..host + size` is the mapping of `region`, which `mem` keeps mapped
            // and which the returned `Machine` owns; its fields drop the vCPU and the VM before
            // `mem`, so KVM never uses the range after it is unmapped. The slots come from one
            // guest memory, so neither their guest ranges nor their mappings overlap.
            unsafe { vm.set_user_memory_region(entry) }
                .map_err(kvm_error("KVM_SET_USER_MEMORY_REGION"))?;
        }
        let mut vcpu = vm.create_vcpu(0).map_err(kvm_error("KVM_CREATE_VCPU"))?;
        vcpu::enter_real_mode(&mut vcpu, CODE_ADDR)?;
        Ok(Machine {
            vcpu,
            vm,
            mem,
            slots,
        })
    }

    /// The guest memory.
    pub fn memory(&self) -> &Memory {
        &self.mem
    }

    /// The memory slots, in the order of the regions.
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// The pages of `slot` the guest wrote since the last call (`KVM_GET_DIRTY_LOG`), as page
    /// indices from the slot's base. Reading the log clears it.
    ///
    /// # Errors
    ///
    /// `Kvm` if the ioctl fails.
    pub fn take_dirty_pages(&self, slot: &Slot) -> Result<Vec<u64>, Error> {
        let words = self
            .vm
            .get_dirty_log(slot.id, slot.size as usize)
            .map_err(kvm_error("KVM_GET_DIRTY_LOG"))?;
        Ok(pages_of(&words))
    }

    /// Runs the vCPU until the guest halts, for at most `timeout`.
    ///
    /// # Errors
    ///
    /// As [`vcpu::run`].
    pub fn run(&mut self, timeout: Duration) -> Result<RunSummary, Error> {
        vcpu::run(&mut self.vcpu, timeout)
    }
}

/// The slots for `mem`'s regions, checked against what KVM accepts.
fn slots_of(mem: &Memory, max_slots: usize) -> Result<Vec<Slot>, Error> {
    if mem.num_regions() > max_slots {
        return Err(Error::TooManySlots {
            regions: mem.num_regions(),
            slots: max_slots,
        });
    }
    mem.iter()
        .enumerate()
        .map(|(id, region)| {
            let (base, size) = (region.start_addr().0, region.len());
            if !base.is_multiple_of(PAGE_SIZE) || !size.is_multiple_of(PAGE_SIZE) {
                return Err(Error::UnalignedSlot {
                    base,
                    size,
                    page_size: PAGE_SIZE,
                });
            }
            Ok(Slot {
                // `id < max_slots`, which KVM reports as an `int`.
                id: id as u32,
                base,
                size,
                file_backed: region.file_offset().is_some(),
            })
        })
        .collect()
}

/// Wraps a KVM error with the ioctl that failed.
pub(crate) fn kvm_error(what: &'static str) -> impl Fn(kvm_ioctls::Error) -> Error {
    move |source| Error::Kvm { what, source }
}
