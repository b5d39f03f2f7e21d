//! The differential checks, one per fuzz target. Each `run(data)` decodes a case from raw bytes
//! (returning quietly when they do not decode), runs it on the crates and on the model, and
//! panics on the first difference with the step, the operation and the case.

pub mod address;
pub mod atomic_bitmap;
pub mod guest_memory;
pub mod iommu_memory;
pub mod iotlb;
pub mod region_bytes;
pub mod region_tables;
#[cfg(target_os = "linux")]
pub mod xen_flags;

use std::fmt::Debug;

/// Where a check is: for failure messages.
#[derive(Debug)]
pub(crate) struct Ctx<'a, C: Debug> {
    pub(crate) case: &'a C,
    pub(crate) step: usize,
}

impl<C: Debug> Ctx<'_, C> {
    /// Asserts `real == model`, naming what was compared.
    #[track_caller]
    pub(crate) fn eq<T: PartialEq + Debug>(&self, what: impl Debug, real: T, model: T) {
        if real != model {
            panic!(
                "real and model differ at step {} ({what:?}):\n  real:  {real:?}\n  model: {model:?}\ncase: {:#?}",
                self.step, self.case
            );
        }
    }
}
