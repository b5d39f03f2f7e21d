//! `IommuMemory`: guest memory seen through an IOMMU.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use super::{Error, Iommu, IommuMemorySliceIterator, IotlbIterator, IovaRange};
use crate::address::GuestAddress;
use crate::bitmap::BS;
use crate::guest_memory::{
    GuestMemory, GuestMemoryBackend, GuestMemoryError, GuestMemoryResult, GuestMemorySliceIterator,
    Permissions, SlicePair,
};
use crate::region::GuestMemoryRegion;
use crate::volatile::VolatileSlice;

/// Guest memory addressed by I/O virtual addresses (IOVAs) that an [`Iommu`] translates into
/// the guest physical addresses of a [`GuestMemoryBackend`].
///
/// - IOMMU disabled ([`set_iommu_enabled(false)`](Self::set_iommu_enabled)): a pass-through to
///   the backend; writes are tracked in the regions' bitmaps, and
///   [`physical_memory`](GuestMemory::physical_memory) returns the backend.
/// - IOMMU enabled: every access first translates its *whole* IOVA range for the requested
///   [`Permissions`]; if any byte fails, `get_slices` fails up front with
///   [`GuestMemoryError::IommuError`] and nothing is accessed. The translated pieces are then
///   walked in the backend, and each slice carries a view of this memory's own IOVA bitmap
///   ([`bitmap`](Self::bitmap)) at the slice's IOVA, so writes are tracked by IOVA (what
///   vhost-user's dirty log expects) and the regions' bitmaps are left alone.
///
/// While a slice iterator of an enabled `IommuMemory` lives, it holds the IOMMU's
/// [`IotlbGuard`](Iommu::IotlbGuard), so an IOMMU whose guard is a read lock delays
/// invalidations until in-flight accesses are done.
///
/// ```
/// use std::sync::{RwLock, RwLockReadGuard};
/// use vm_memory_core::iommu::{Error, Iommu, IommuMemory, Iotlb, IotlbIterator, IovaRange};
/// use vm_memory_core::{Bytes, GuestAddress, GuestMemory, Permissions, RawRegion, RegionTable};
///
/// /// An IOMMU that knows only what was put in its IOTLB.
/// #[derive(Debug, Default)]
/// struct StaticIommu(RwLock<Iotlb>);
///
/// impl Iommu for StaticIommu {
///     type IotlbGuard<'a> = RwLockReadGuard<'a, Iotlb>;
///
///     fn translate(
///         &self,
///         iova: GuestAddress,
///         length: usize,
///         access: Permissions,
///     ) -> Result<IotlbIterator<Self::IotlbGuard<'_>>, Error> {
///         Iotlb::lookup(self.0.read().unwrap(), iova, length, access).map_err(|_| {
///             Error::CannotResolve {
///                 iova_range: IovaRange { base: iova, length },
///                 reason: "not in the IOTLB".into(),
///             }
///         })
///     }
/// }
///
/// let mut ram = vec![0u64; 512];
/// // SAFETY: `ram` outlives `mem` and is only accessed through it.
/// let region = unsafe { RawRegion::new(ram.as_mut_ptr().cast(), 4096, GuestAddress(0)) }.unwrap();
/// let backend: RegionTable<_, 1> = RegionTable::from_regions([region]).unwrap();
/// let mem = IommuMemory::new(backend, StaticIommu::default(), true, ());
///
/// mem.iommu().0.write().unwrap()
///     .set_mapping(GuestAddress(0xa000), GuestAddress(0x800), 0x100, Permissions::ReadWrite)
///     .unwrap();
/// mem.write_obj(0x1234_u32, GuestAddress(0xa010)).unwrap();
/// assert!(mem.read_obj::<u32>(GuestAddress(0xa100)).is_err()); // not mapped
///
/// mem.set_iommu_enabled(false); // physical addresses again
/// assert_eq!(mem.read_obj::<u32>(GuestAddress(0x810)).unwrap(), 0x1234);
/// ```
pub struct IommuMemory<M: GuestMemoryBackend, I: Iommu> {
    backend: M,
    iommu: Arc<I>,
    use_iommu: AtomicBool,
    /// Dirty bitmap of the IOVA space.
    bitmap: Arc<<M::R as GuestMemoryRegion>::B>,
}

impl<M: GuestMemoryBackend, I: Iommu> IommuMemory<M, I> {
    /// Memory over `backend` translated by `iommu` (if `use_iommu`), tracking writes made
    /// through the IOMMU in `bitmap` at their IOVA.
    pub fn new(
        backend: M,
        iommu: I,
        use_iommu: bool,
        bitmap: <M::R as GuestMemoryRegion>::B,
    ) -> Self {
        IommuMemory {
            backend,
            iommu: Arc::new(iommu),
            use_iommu: AtomicBool::new(use_iommu),
            bitmap: Arc::new(bitmap),
        }
    }

    /// The same memory over another backend (for example after memory hotplug): the IOMMU and
    /// the IOVA bitmap are shared with `self`, the enabled flag is copied.
    pub fn with_replaced_backend(&self, new_backend: M) -> Self {
        IommuMemory {
            backend: new_backend,
            iommu: Arc::clone(&self.iommu),
            use_iommu: AtomicBool::new(self.get_iommu_enabled()),
            bitmap: Arc::clone(&self.bitmap),
        }
    }

    /// The dirty bitmap of the IOVA space: writes made while the IOMMU is enabled, at their
    /// IOVA.
    pub fn bitmap(&self) -> &Arc<<M::R as GuestMemoryRegion>::B> {
        &self.bitmap
    }

    /// Enables or disables translation. Accesses that already hold a slice iterator keep the
    /// mode they started with.
    ///
    /// vm-memory 0.18 takes `&mut self`; this takes `&self`, which every call written for
    /// vm-memory 0.18 still satisfies.
    pub fn set_iommu_enabled(&self, enabled: bool) {
        self.use_iommu.store(enabled, Ordering::Release);
    }

    /// Whether addresses are translated by the IOMMU (otherwise they are physical addresses).
    pub fn get_iommu_enabled(&self) -> bool {
        self.use_iommu.load(Ordering::Acquire)
    }

    /// The IOMMU.
    pub fn iommu(&self) -> &Arc<I> {
        &self.iommu
    }

    /// The physical memory behind the IOMMU.
    pub fn get_backend(&self) -> &M {
        &self.backend
    }
}

impl<M: GuestMemoryBackend + Clone, I: Iommu> Clone for IommuMemory<M, I> {
    /// A copy sharing the IOMMU and the IOVA bitmap, with its own enabled flag.
    fn clone(&self) -> Self {
        self.with_replaced_backend(self.backend.clone())
    }
}

impl<M, I> fmt::Debug for IommuMemory<M, I>
where
    M: GuestMemoryBackend + fmt::Debug,
    I: Iommu,
    <M::R as GuestMemoryRegion>::B: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IommuMemory")
            .field("backend", &self.backend)
            .field("iommu", &self.iommu)
            .field("use_iommu", &self.get_iommu_enabled())
            .field("bitmap", &self.bitmap)
            .finish()
    }
}

impl<M, I> Default for IommuMemory<M, I>
where
    M: GuestMemoryBackend + Default,
    I: Iommu + Default,
    <M::R as GuestMemoryRegion>::B: Default,
{
    /// A default backend and IOMMU, translation disabled.
    fn default() -> Self {
        Self::new(M::default(), I::default(), false, Default::default())
    }
}

impl<M: GuestMemoryBackend, I: Iommu> GuestMemory for IommuMemory<M, I> {
    type PhysicalMemory = M;
    type Bitmap = <M::R as GuestMemoryRegion>::B;

    /// Whether every byte translates for `access` (IOMMU enabled) and lies in the backend.
    /// `count == 0` is accepted wherever the IOMMU accepts it.
    fn check_range(&self, addr: GuestAddress, count: usize, access: Permissions) -> bool {
        self.get_slices(addr, count, access)
            .is_ok_and(|mut slices| slices.all(|slice| slice.is_ok()))
    }

    /// The slices behind `addr..addr + count`.
    ///
    /// # Errors
    ///
    /// With the IOMMU enabled, before any slice is handed out:
    /// - `GuestAddressOverflow` if the IOVA range runs past `u64::MAX` (the IOMMU is not asked);
    /// - `IommuError(e)` if the IOMMU cannot translate the whole range for `access`, or (hosts
    ///   narrower than 64 bits) if the range lies beyond what the IOVA bitmap can index.
    ///
    /// Afterwards the iterator reports backend failures (a translated address that no region
    /// holds), and an IOMMU whose translation turns out shorter than asked for, as an error
    /// item.
    fn get_slices<'a>(
        &'a self,
        addr: GuestAddress,
        count: usize,
        access: Permissions,
    ) -> GuestMemoryResult<impl GuestMemorySliceIterator<'a, BS<'a, Self::Bitmap>>> {
        if !self.get_iommu_enabled() {
            return Ok(IommuMemorySliceIterator::<M, I>::phys(
                &self.backend,
                addr,
                count,
            ));
        }
        let translation = self.translate(addr, count, access)?;
        Ok(IommuMemorySliceIterator::virt(
            &self.backend,
            &self.bitmap,
            addr,
            count,
            translation,
        ))
    }

    /// The backend while the IOMMU is disabled; `None` while it translates.
    fn physical_memory(&self) -> Option<&M> {
        (!self.get_iommu_enabled()).then_some(&self.backend)
    }

    /// The backend's own lookup while the IOMMU is disabled. While it translates, `None`: a
    /// slice returned here would be used after the IOTLB guard of the translation is gone, so
    /// accesses take [`get_slices`](GuestMemory::get_slices), whose iterator holds the guard
    /// until they are done.
    #[inline]
    fn first_slice(
        &self,
        addr: GuestAddress,
        count: usize,
        _access: Permissions,
    ) -> Option<VolatileSlice<'_, BS<'_, Self::Bitmap>>> {
        if self.get_iommu_enabled() {
            return None;
        }
        GuestMemoryBackend::first_slice(&self.backend, addr, count)
    }

    /// As [`first_slice`](GuestMemory::first_slice): the backend's while disabled, else `None`.
    #[inline]
    fn first_two_slices(
        &self,
        addr: GuestAddress,
        count: usize,
        _access: Permissions,
    ) -> Option<SlicePair<'_, BS<'_, Self::Bitmap>>> {
        if self.get_iommu_enabled() {
            return None;
        }
        GuestMemoryBackend::first_two_slices(&self.backend, addr, count)
    }
}

impl<M: GuestMemoryBackend, I: Iommu> IommuMemory<M, I> {
    /// Asks the IOMMU to translate `addr..addr + count`, after the checks it must not be asked
    /// to make.
    fn translate(
        &self,
        addr: GuestAddress,
        count: usize,
        access: Permissions,
    ) -> GuestMemoryResult<IotlbIterator<I::IotlbGuard<'_>>> {
        if let Some(span) = (count as u64).checked_sub(1) {
            let last = addr
                .0
                .checked_add(span)
                .ok_or(GuestMemoryError::GuestAddressOverflow)?;
            if usize::try_from(last).is_err() {
                return Err(beyond_bitmap(addr.0, count));
            }
        }
        Ok(self.iommu.translate(addr, count, access)?)
    }
}

/// The error for IOVAs that the IOVA bitmap cannot index (above `usize::MAX`, which only exists
/// on hosts narrower than 64 bits).
pub(super) fn beyond_bitmap(base: u64, length: usize) -> GuestMemoryError {
    GuestMemoryError::IommuError(Error::CannotResolve {
        iova_range: IovaRange {
            base: GuestAddress(base),
            length,
        },
        reason: String::from(
            "IOVA lies beyond the host's address width, the IOVA bitmap cannot track it",
        ),
    })
}
