//! `HugePageSize`: which hugetlb page size to back memory with, and what the host offers.

use std::fmt;
use std::fs;
use std::io;
use std::path::PathBuf;

/// Where the kernel lists the hugetlb page sizes it supports.
const SYSFS_HUGEPAGES: &str = "/sys/kernel/mm/hugepages";

/// A hugetlb page size (2 MiB and 1 GiB on x86-64; arm64 also has 64 KiB, 32 MiB and 512 MiB).
///
/// Hugetlb pages come from a pool the administrator reserves
/// (`/sys/kernel/mm/hugepages/hugepages-<size>kB/nr_hugepages`); memory backed by them is never
/// swapped and needs fewer TLB entries.
///
/// ```
/// use vm_memory::mmap::HugePageSize;
///
/// assert_eq!(HugePageSize::new(2 << 20), Some(HugePageSize::SIZE_2M));
/// assert_eq!(HugePageSize::new(3 << 20), None); // not a power of two
/// assert_eq!(HugePageSize::SIZE_1G.to_string(), "1 GiB");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HugePageSize {
    /// log2 of the size in bytes; 16..=63, so it fits the kernel's 6-bit encoding.
    shift: u32,
}

impl HugePageSize {
    /// 2 MiB pages.
    pub const SIZE_2M: HugePageSize = HugePageSize { shift: 21 };
    /// 1 GiB pages.
    pub const SIZE_1G: HugePageSize = HugePageSize { shift: 30 };

    /// The page size of `bytes`, if it is a power of two of at least 64 KiB.
    pub const fn new(bytes: u64) -> Option<HugePageSize> {
        if bytes.is_power_of_two() && bytes >= 1 << 16 {
            Some(HugePageSize {
                shift: bytes.trailing_zeros(),
            })
        } else {
            None
        }
    }

    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        1 << self.shift
    }

    /// The host's default hugetlb page size (`Hugepagesize` in `/proc/meminfo`).
    ///
    /// # Errors
    ///
    /// `NotFound` if the kernel has no hugetlb support, or the error reading `/proc/meminfo`.
    pub fn host_default() -> io::Result<HugePageSize> {
        let meminfo = fs::read_to_string("/proc/meminfo")?;
        meminfo
            .lines()
            .find_map(|line| line.strip_prefix("Hugepagesize:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kib| kib.trim().parse::<u64>().ok())
            .and_then(|kib| HugePageSize::new(kib.checked_mul(1024)?))
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no Hugepagesize in meminfo"))
    }

    /// The hugetlb page sizes the host supports, smallest first.
    ///
    /// # Errors
    ///
    /// The error listing `/sys/kernel/mm/hugepages` (`NotFound` without hugetlb support).
    pub fn host_supported() -> io::Result<Vec<HugePageSize>> {
        let mut sizes = Vec::new();
        for entry in fs::read_dir(SYSFS_HUGEPAGES)? {
            let name = entry?.file_name();
            let size = name
                .to_str()
                .and_then(|name| name.strip_prefix("hugepages-")?.strip_suffix("kB"))
                .and_then(|kib| kib.parse::<u64>().ok())
                .and_then(|kib| HugePageSize::new(kib.checked_mul(1024)?));
            sizes.extend(size);
        }
        sizes.sort();
        Ok(sizes)
    }

    /// Whether the host supports this page size.
    pub fn is_supported(self) -> bool {
        self.sysfs_dir().is_dir()
    }

    /// How many pages of this size are free and not reserved by existing mappings.
    ///
    /// # Errors
    ///
    /// `NotFound` if the size is not supported, or the error reading sysfs.
    pub fn available_pages(self) -> io::Result<u64> {
        let free = self.read_counter("free_hugepages")?;
        let reserved = self.read_counter("resv_hugepages")?;
        Ok(free.saturating_sub(reserved))
    }

    /// The `mmap(2)` flags that select this page size for anonymous memory.
    pub(crate) fn mmap_flags(self) -> i32 {
        // `shift` is at most 63, so the shifted value fits the 6-bit field above bit 26.
        libc::MAP_HUGETLB | ((self.shift as i32) << libc::MAP_HUGE_SHIFT)
    }

    /// The `memfd_create(2)` flags that select this page size.
    pub(crate) fn memfd_flags(self) -> libc::c_uint {
        libc::MFD_HUGETLB | (self.shift << libc::MFD_HUGE_SHIFT)
    }

    fn sysfs_dir(self) -> PathBuf {
        PathBuf::from(format!(
            "{SYSFS_HUGEPAGES}/hugepages-{}kB",
            self.bytes() >> 10
        ))
    }

    fn read_counter(self, name: &str) -> io::Result<u64> {
        let text = fs::read_to_string(self.sysfs_dir().join(name))?;
        text.trim()
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "malformed hugetlb counter"))
    }
}

impl fmt::Display for HugePageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.shift {
            shift @ 30.. => write!(f, "{} GiB", 1u64 << (shift - 30)),
            shift @ 20.. => write!(f, "{} MiB", 1u64 << (shift - 20)),
            shift => write!(f, "{} KiB", 1u64 << (shift - 10)),
        }
    }
}
