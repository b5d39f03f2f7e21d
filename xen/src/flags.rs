//! `MmapXenFlags`: how a region is to be mapped, as the vhost-user `XEN_MMAP` message says.

use bitflags::bitflags;

bitflags! {
    /// The kind of mapping a region needs, from the `xen_mmap_flags` field of a vhost-user memory
    /// region.
    ///
    /// A valid value is exactly one of:
    ///
    /// | value | mapping |
    /// |---|---|
    /// | `UNIX` (no bit) | an ordinary `mmap(2)` of the region's file, or anonymous memory |
    /// | `FOREIGN` | the guest's frames through `/dev/xen/privcmd`, mapped in advance |
    /// | `GRANT` | grant references through `/dev/xen/gntdev`, mapped in advance |
    /// | `GRANT \| NO_ADVANCE_MAP` | grant references mapped for each access only |
    ///
    /// Build values with [`from_bits`](Self::from_bits), which refuses unknown bits, then check
    /// [`is_valid`](Self::is_valid).
    ///
    /// ```
    /// use vm_memory_xen::MmapXenFlags;
    ///
    /// let lazy = MmapXenFlags::from_bits(0xa).unwrap();
    /// assert!(lazy.is_valid() && lazy.is_grant() && !lazy.mmap_in_advance());
    /// assert!(MmapXenFlags::from_bits(0x4).is_none()); // bit 2 is not defined
    /// assert!(!MmapXenFlags::ALL.is_valid()); // foreign and grant at once
    /// ```
    #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct MmapXenFlags: u32 {
        /// An ordinary Unix mapping: no bit set.
        const UNIX = 0;
        /// The guest's memory, mapped through `/dev/xen/privcmd`.
        const FOREIGN = 1;
        /// Memory the guest granted, mapped through `/dev/xen/gntdev`.
        const GRANT = 1 << 1;
        /// Map only for the duration of each access (grants only).
        const NO_ADVANCE_MAP = 1 << 3;
        /// Both Xen mapping kinds (not itself a valid value).
        const ALL = Self::FOREIGN.bits() | Self::GRANT.bits();
    }
}

impl MmapXenFlags {
    /// Whether the value describes a mapping this crate can make: a grant (mapped in advance or
    /// not) that is not also foreign, or a foreign or Unix mapping that is mapped in advance.
    pub fn is_valid(&self) -> bool {
        if self.is_grant() {
            !self.is_foreign()
        } else if self.is_foreign() || self.is_unix() {
            self.mmap_in_advance()
        } else {
            false
        }
    }

    /// Whether no bit is set: an ordinary Unix mapping.
    pub fn is_unix(&self) -> bool {
        self.bits() == Self::UNIX.bits()
    }

    /// Whether the mapping goes through `/dev/xen/privcmd`.
    pub fn is_foreign(&self) -> bool {
        self.contains(Self::FOREIGN)
    }

    /// Whether the mapping goes through `/dev/xen/gntdev`.
    pub fn is_grant(&self) -> bool {
        self.contains(Self::GRANT)
    }

    /// Whether the whole region is mapped when it is created (`NO_ADVANCE_MAP` is not set).
    pub fn mmap_in_advance(&self) -> bool {
        !self.contains(Self::NO_ADVANCE_MAP)
    }
}
