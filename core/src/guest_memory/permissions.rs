//! Access permissions requested by `GuestMemory` accesses.

use core::ops::{BitAnd, BitOr};

/// The kind of access a [`GuestMemory`](super::GuestMemory) operation asks for.
///
/// ```
/// use vm_memory_core::Permissions;
///
/// assert!(Permissions::ReadWrite.allow(Permissions::Read));
/// assert!(!Permissions::Read.allow(Permissions::Write));
/// assert_eq!(Permissions::Read | Permissions::Write, Permissions::ReadWrite);
/// ```
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
#[repr(u8)]
pub enum Permissions {
    /// No access.
    No = 0b00,
    /// Read access.
    Read = 0b01,
    /// Write access.
    Write = 0b10,
    /// Read and write access.
    ReadWrite = 0b11,
}

impl Permissions {
    /// The permission with these two bits (higher bits ignored).
    const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Permissions::No,
            0b01 => Permissions::Read,
            0b10 => Permissions::Write,
            _ => Permissions::ReadWrite,
        }
    }

    /// Whether `self` grants everything `access` asks for (`No` is granted by everything).
    pub fn allow(&self, access: Self) -> bool {
        *self & access == access
    }

    /// Whether `self` includes write access.
    pub fn has_write(&self) -> bool {
        self.allow(Permissions::Write)
    }
}

impl BitOr for Permissions {
    type Output = Permissions;

    fn bitor(self, rhs: Permissions) -> Permissions {
        Permissions::from_bits(self as u8 | rhs as u8)
    }
}

impl BitAnd for Permissions {
    type Output = Permissions;

    fn bitand(self, rhs: Permissions) -> Permissions {
        Permissions::from_bits(self as u8 & rhs as u8)
    }
}
