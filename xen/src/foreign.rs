//! Foreign mappings: a domain's frames mapped through `/dev/xen/privcmd`, all in advance.

use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;

use libc::c_int;

use crate::device::{DeviceMapping, XenDevice};
use crate::error::{Error, MappingKind};
use crate::range::{DeviceRange, MmapRange};
use crate::sys::{self, DomId, PrivcmdMmapBatchV2, XenPfn};

/// Maps the whole range: `mmap(2)` of the privcmd file, then `IOCTL_PRIVCMD_MMAPBATCH_V2` with
/// the frames `addr / page_size + i` of domain `mmap_data`.
///
/// Every failure unmaps what was mapped. Unlike vm-memory 0.18, the per-frame error array is
/// checked: a frame the hypervisor refused fails the whole mapping instead of leaving a hole
/// that would fault on access.
pub(crate) fn map(
    device: &Arc<dyn XenDevice>,
    range: &MmapRange,
    page_size: usize,
) -> Result<DeviceMapping, Error> {
    let kind = MappingKind::Foreign;
    let checked: DeviceRange = range.device_range(kind, page_size)?;
    let domid = DomId::try_from(range.mmap_data())
        .map_err(|_| Error::DomainIdTooLarge(range.mmap_data()))?;
    let frames =
        frame_numbers(range.addr().0, checked.pages, page_size).ok_or(Error::FrameOverflow {
            addr: range.addr().0,
            pages: checked.pages as usize,
        })?;

    let fd = checked.file.file().as_fd();
    let mapping = DeviceMapping::new(
        device,
        checked.size,
        checked.prot,
        checked.flags,
        Some(fd),
        0,
    )
    .map_err(|source| Error::Mmap {
        kind,
        len: checked.size,
        source,
    })?;

    let mut errors: Vec<c_int> = vec![0; frames.len()];
    let mut batch = PrivcmdMmapBatchV2 {
        num: checked.pages,
        dom: domid,
        addr: mapping.ptr().as_ptr().addr() as u64,
        arr: frames.as_ptr(),
        err: errors.as_mut_ptr(),
    };
    // SAFETY: `batch` is the structure the request expects; `frames` and `errors` hold `num`
    // elements each and outlive the call; `addr` is the privcmd mapping just made, of `num` pages.
    let result =
        unsafe { device.ioctl(fd, sys::IOCTL_PRIVCMD_MMAPBATCH_V2, (&raw mut batch).cast()) };
    if let Err(source) = result {
        return Err(Error::PrivcmdMmapBatch {
            domid,
            pages: checked.pages,
            source,
        });
    }
    if let Some((page, &err)) = errors.iter().enumerate().find(|&(_, &err)| err != 0) {
        return Err(Error::ForeignFrame {
            domid,
            page,
            pfn: range.addr().0 / page_size as u64 + page as u64,
            source: io::Error::from_raw_os_error(err.saturating_neg()),
        });
    }
    Ok(mapping)
}

/// The frames `addr / page_size .. + pages`, if they fit `xen_pfn_t`.
fn frame_numbers(addr: u64, pages: u32, page_size: usize) -> Option<Vec<XenPfn>> {
    let first = addr / page_size as u64;
    let last = first.checked_add(u64::from(pages).checked_sub(1)?)?;
    XenPfn::try_from(last).ok()?;
    (first..=last)
        .map(|pfn| XenPfn::try_from(pfn).ok())
        .collect()
}
