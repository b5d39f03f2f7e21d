//! Tests of the IOMMU layer: the IOTLB against upstream's semantics and a byte-wise model, and
//! `IommuMemory` with a vhost-user style mock IOMMU.

extern crate std;

mod iotlb;
mod memory;
mod mock;
mod model;
