//! The reference models.

pub mod address;
pub mod bitmap;
pub mod error;
pub mod io;
pub mod iotlb;
pub mod layout;
pub mod memory;
mod region;
#[cfg(target_os = "linux")]
pub mod xen;

pub use bitmap::ModelBitmap;
pub use error::{MemError, classify};
pub use memory::{ModelIommu, ModelMemory, ModelRegion, Piece};
