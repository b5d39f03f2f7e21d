//! Integers with an explicit byte order, for device and boot-protocol structures.
//!
//! Each type stores its value in the named byte order and converts with `From`/`Into`.
//!
//! ```
//! use vm_memory::endian::{Be32, Le16};
//!
//! let le = Le16::from(0x1234u16);
//! assert_eq!(u16::from(le), 0x1234);
//! assert_eq!(u32::from(Be32::from(7u32)), 7);
//! ```

pub use vm_memory_core::{Be16, Be32, Be64, BeSize, Le16, Le32, Le64, LeSize};
