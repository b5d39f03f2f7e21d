//! The real memories the checks run: raw regions over heap buffers in a `RegionTable` or a
//! `GuestRegionCollection`, and `GuestMemoryMmap` from the std face; all with `AtomicBitmap`s.

use std::num::NonZeroUsize;

use vm_memory::GuestMemoryMmap;
use vm_memory::mmap::GuestRegionMmap;
use vm_memory_core::bitmap::AtomicBitmap;
use vm_memory_core::region::FromRangesError;
use vm_memory_core::{
    GuestAddress, GuestMemoryBackend, GuestMemoryRegion, GuestRegionCollection,
    GuestRegionCollectionError, MemoryRegionAddress, RawRegion, RegionTable,
};

use crate::input::{MAX_REGIONS, RegionPlan};
use crate::model::{ModelBitmap, ModelMemory, ModelRegion};

/// A raw region with a dirty bitmap.
pub type Region = RawRegion<AtomicBitmap>;
/// The fixed-capacity table of the checks.
pub type Table = RegionTable<Region, MAX_REGIONS>;
/// The `alloc` collection of the checks.
pub type Collection = GuestRegionCollection<Region>;
/// The std face's memory.
pub type Mmap = GuestMemoryMmap<AtomicBitmap>;

/// A region whose whole dirty bitmap the checks can inspect.
pub trait DirtyRegion: GuestMemoryRegion {
    /// The region's bitmap (offset 0 is the region's first byte).
    fn dirty_bitmap(&self) -> &AtomicBitmap;
}

impl DirtyRegion for Region {
    fn dirty_bitmap(&self) -> &AtomicBitmap {
        RawRegion::bitmap(self)
    }
}

impl DirtyRegion for GuestRegionMmap<AtomicBitmap> {
    fn dirty_bitmap(&self) -> &AtomicBitmap {
        (**self).bitmap()
    }
}

/// Guest memory over heap buffers that live exactly as long as it.
#[derive(Debug)]
pub struct RawBacked<M> {
    // Declared first: the regions drop before the buffers they point into.
    mem: M,
    _buffers: Vec<Vec<u64>>,
}

impl<M> RawBacked<M> {
    /// The memory.
    pub fn mem(&self) -> &M {
        &self.mem
    }
}

/// Raw regions for `plans` (over fresh zeroed, 8-byte aligned buffers) and those buffers.
fn raw_regions(plans: &[RegionPlan]) -> (Vec<Region>, Vec<Vec<u64>>) {
    let mut buffers: Vec<Vec<u64>> = plans.iter().map(|p| vec![0; p.len.div_ceil(8)]).collect();
    let regions = plans
        .iter()
        .zip(buffers.iter_mut())
        .map(|(plan, buffer)| {
            let bitmap = AtomicBitmap::new(plan.len, NonZeroUsize::new(plan.page).unwrap());
            // SAFETY: the buffer holds at least `plan.len` bytes and is owned by the `RawBacked`
            // that also owns the region, which drops the region first; the buffer is never
            // touched through the `Vec` while the region lives, and moving the `Vec` does not
            // move its heap storage.
            unsafe {
                RawRegion::with_bitmap(
                    buffer.as_mut_ptr().cast(),
                    plan.len,
                    GuestAddress(plan.start),
                    bitmap,
                )
            }
            .expect("resolved layouts are valid")
        })
        .collect();
    (regions, buffers)
}

/// A `RegionTable` of raw regions.
///
/// # Errors
///
/// The table's layout error.
pub fn table(plans: &[RegionPlan]) -> Result<RawBacked<Table>, GuestRegionCollectionError> {
    let (regions, buffers) = raw_regions(plans);
    Ok(RawBacked {
        mem: RegionTable::from_regions(regions)?,
        _buffers: buffers,
    })
}

/// A `GuestRegionCollection` of raw regions.
///
/// # Errors
///
/// The collection's layout error.
pub fn collection(
    plans: &[RegionPlan],
) -> Result<RawBacked<Collection>, GuestRegionCollectionError> {
    let (regions, buffers) = raw_regions(plans);
    Ok(RawBacked {
        mem: GuestRegionCollection::from_regions(regions)?,
        _buffers: buffers,
    })
}

/// A `GuestMemoryMmap` of anonymous mappings, through `from_ranges`.
///
/// # Errors
///
/// `from_ranges`'s error.
pub fn mmap(
    plans: &[RegionPlan],
) -> Result<Mmap, FromRangesError<vm_memory::mmap::MmapRegionError>> {
    let ranges: Vec<(GuestAddress, usize)> = plans
        .iter()
        .map(|p| (GuestAddress(p.start), p.len))
        .collect();
    GuestMemoryMmap::from_ranges(&ranges)
}

/// The model of `mem` as built: its regions' addresses, host pointers, (zeroed) contents and
/// clean bitmaps with each region's page size.
pub fn model_of<M>(mem: &M) -> ModelMemory
where
    M: GuestMemoryBackend,
    M::R: DirtyRegion,
{
    ModelMemory {
        regions: mem
            .iter()
            .map(|r| ModelRegion {
                start: r.start_addr().0,
                host: r
                    .get_host_address(MemoryRegionAddress(0))
                    .expect("host memory")
                    .addr(),
                data: vec![0; r.len() as usize],
                dirty: ModelBitmap::new(r.len() as usize, r.dirty_bitmap().page_size().get()),
            })
            .collect(),
        iommu: None,
    }
}

/// The contents of every region of `mem`, read without marking anything dirty.
pub fn contents<M: GuestMemoryBackend>(mem: &M) -> Vec<Vec<u8>> {
    mem.iter()
        .map(|r| {
            let mut buf = vec![0u8; r.len() as usize];
            let copied = r
                .as_volatile_slice()
                .expect("host memory")
                .copy_to(&mut buf);
            assert_eq!(copied, buf.len());
            buf
        })
        .collect()
}

/// The dirty flags of every region of `mem`, one per page.
pub fn dirty_bits<M>(mem: &M) -> Vec<Vec<bool>>
where
    M: GuestMemoryBackend,
    M::R: DirtyRegion,
{
    mem.iter()
        .map(|r| {
            let bitmap = r.dirty_bitmap();
            (0..bitmap.len()).map(|i| bitmap.is_bit_set(i)).collect()
        })
        .collect()
}

/// A region that is only a place in the guest address space (no memory): any start, any length,
/// including the empty and overflowing ones that the containers must refuse.
#[derive(Debug)]
pub struct SpanRegion {
    start: GuestAddress,
    len: u64,
}

impl SpanRegion {
    /// A region of `len` bytes at `start`.
    pub fn new(start: u64, len: u64) -> Self {
        SpanRegion {
            start: GuestAddress(start),
            len,
        }
    }
}

impl GuestMemoryRegion for SpanRegion {
    type B = ();

    fn len(&self) -> u64 {
        self.len
    }

    fn start_addr(&self) -> GuestAddress {
        self.start
    }

    fn bitmap(&self) {}
}

impl vm_memory_core::GuestMemoryRegionBytes for SpanRegion {}

impl<M> RawBacked<M> {
    /// The same buffers under a memory built from this one (for example an `IommuMemory` over
    /// it).
    pub fn map<N>(self, f: impl FnOnce(M) -> N) -> RawBacked<N> {
        RawBacked {
            mem: f(self.mem),
            _buffers: self._buffers,
        }
    }
}

/// An IOMMU that translates with an IOTLB only (every miss is a failure).
#[derive(Debug, Default)]
pub struct TestIommu {
    /// The IOTLB.
    pub iotlb: std::sync::RwLock<vm_memory_core::Iotlb>,
}

impl vm_memory_core::Iommu for TestIommu {
    type IotlbGuard<'a> = std::sync::RwLockReadGuard<'a, vm_memory_core::Iotlb>;

    fn translate(
        &self,
        iova: GuestAddress,
        length: usize,
        access: vm_memory_core::Permissions,
    ) -> Result<
        vm_memory_core::iommu::IotlbIterator<Self::IotlbGuard<'_>>,
        vm_memory_core::iommu::Error,
    > {
        let iotlb = self.iotlb.read().expect("not poisoned");
        vm_memory_core::Iotlb::lookup(iotlb, iova, length, access).map_err(|fails| {
            vm_memory_core::iommu::Error::CannotResolve {
                iova_range: vm_memory_core::iommu::IovaRange { base: iova, length },
                reason: format!("{fails:?}"),
            }
        })
    }
}

/// Guest memory through an IOMMU, over a table of raw regions.
pub type Iommued = vm_memory_core::IommuMemory<Table, TestIommu>;
