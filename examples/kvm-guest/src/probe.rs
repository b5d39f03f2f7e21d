//! Can this host run a KVM guest at all? Opens `/dev/kvm`, creates a VM and a vCPU and runs a
//! one-instruction guest (`hlt`), independently of the example's own VM code, so that a bug in
//! that code fails the example instead of being mistaken for a missing KVM.

use std::fmt;

use kvm_bindings::{KVM_API_VERSION, kvm_userspace_memory_region};
use kvm_ioctls::{Cap, Kvm, VcpuExit};
use vm_memory::mmap::MmapRegion;
use vm_memory::{Bytes, VolatileMemory};

/// Why KVM cannot run a guest here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unavailable {}

/// KVM, once it has been seen to run a guest on this host.
#[derive(Debug)]
pub struct Host {
    /// The open `/dev/kvm`.
    pub kvm: Kvm,
    /// `KVM_GET_API_VERSION`.
    pub api_version: i32,
    /// `KVM_CAP_NR_MEMSLOTS`.
    pub memory_slots: usize,
}

/// Opens `/dev/kvm` and runs a `hlt` guest.
///
/// # Errors
///
/// `Unavailable`, saying which step failed and how.
pub fn probe() -> Result<Host, Unavailable> {
    let fail = |step: &str, e: &dyn fmt::Display| Unavailable(format!("{step}: {e}"));
    let kvm = Kvm::new().map_err(|e| fail("cannot open /dev/kvm", &e))?;
    let api_version = kvm.get_api_version();
    if api_version != KVM_API_VERSION as i32 {
        return Err(Unavailable(format!(
            "/dev/kvm speaks KVM API {api_version}, this example needs {KVM_API_VERSION}"
        )));
    }
    if !kvm.check_extension(Cap::UserMemory) {
        return Err(Unavailable("KVM lacks KVM_CAP_USER_MEMORY".into()));
    }
    let page = MmapRegion::<()>::new(0x1000)
        .map_err(|e| fail("cannot map a page for the probe guest", &e))?;
    page.as_volatile_slice()
        .write_obj(0xf4u8, 0) // hlt
        .map_err(|e| fail("cannot write the probe guest", &e))?;
    let vm = kvm
        .create_vm()
        .map_err(|e| fail("/dev/kvm opens, but KVM_CREATE_VM fails", &e))?;
    let entry = kvm_userspace_memory_region {
        slot: 0,
        flags: 0,
        guest_phys_addr: 0,
        memory_size: 0x1000,
        userspace_addr: page.as_ptr() as u64,
    };
    // SAFETY: `page` is a 4 KiB mapping that outlives `vm` and `vcpu`: it is declared before
    // them, so it is dropped after them. It is the VM's only slot.
    unsafe { vm.set_user_memory_region(entry) }
        .map_err(|e| fail("KVM_SET_USER_MEMORY_REGION fails", &e))?;
    let mut vcpu = vm
        .create_vcpu(0)
        .map_err(|e| fail("KVM creates VMs, but KVM_CREATE_VCPU fails", &e))?;
    let mut sregs = vcpu
        .get_sregs()
        .map_err(|e| fail("KVM_GET_SREGS fails", &e))?;
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    vcpu.set_sregs(&sregs)
        .map_err(|e| fail("KVM_SET_SREGS fails", &e))?;
    let mut regs = vcpu
        .get_regs()
        .map_err(|e| fail("KVM_GET_REGS fails", &e))?;
    regs.rip = 0;
    regs.rflags = 0x2;
    vcpu.set_regs(&regs)
        .map_err(|e| fail("KVM_SET_REGS fails", &e))?;
    match vcpu.run() {
        Ok(VcpuExit::Hlt) => {}
        Ok(exit) => {
            return Err(Unavailable(format!(
                "KVM cannot run a guest here: a one-instruction hlt guest exited with {exit:?}"
            )));
        }
        Err(e) => return Err(fail("KVM cannot run a guest here: KVM_RUN fails", &e)),
    }
    let memory_slots = kvm.get_nr_memslots();
    Ok(Host {
        kvm,
        api_version,
        memory_slots,
    })
}
