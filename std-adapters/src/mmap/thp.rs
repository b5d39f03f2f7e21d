//! Transparent huge pages: the host's policy, and the `madvise(MADV_HUGEPAGE)` hint.

use std::fs;
use std::io;

/// Where the kernel publishes its transparent-huge-page settings.
const SYSFS_THP: &str = "/sys/kernel/mm/transparent_hugepage";

/// A transparent-huge-page policy of the host (the bracketed word of a sysfs setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThpMode {
    /// Huge pages wherever possible.
    Always,
    /// Huge pages where `madvise(MADV_HUGEPAGE)` asks for them.
    Madvise,
    /// Shared memory only: huge pages where they fit inside the file size.
    WithinSize,
    /// Shared memory only: huge pages everywhere, even for mounts that refuse them.
    Force,
    /// No huge pages.
    Never,
    /// Shared memory only: no huge pages, even for mounts that ask for them.
    Deny,
}

impl ThpMode {
    /// Whether a `MADV_HUGEPAGE` hint can get huge pages under this policy.
    pub fn honours_hint(self) -> bool {
        !matches!(self, ThpMode::Never | ThpMode::Deny)
    }

    /// Parses a sysfs setting like `always [madvise] never`.
    fn parse(setting: &str) -> Option<ThpMode> {
        let selected = setting.split_whitespace().find_map(|word| {
            word.strip_prefix('[')
                .and_then(|word| word.strip_suffix(']'))
        })?;
        Some(match selected {
            "always" => ThpMode::Always,
            "madvise" | "advise" => ThpMode::Madvise,
            "within_size" => ThpMode::WithinSize,
            "force" => ThpMode::Force,
            "never" => ThpMode::Never,
            "deny" => ThpMode::Deny,
            _ => return None,
        })
    }
}

/// The host's THP policy for anonymous memory (`enabled`) or for shared memory such as memfds
/// (`shmem_enabled`).
///
/// # Errors
///
/// `NotFound` if the kernel has no THP support, `InvalidData` for an unknown setting, or the
/// error reading sysfs.
///
/// ```
/// # #[cfg(miri)] fn main() {} // Miri cannot read sysfs.
/// # #[cfg(not(miri))] fn main() {
/// if let Ok(mode) = vm_memory::mmap::thp_mode(false) {
///     println!("anonymous THP: {mode:?}, honours MADV_HUGEPAGE: {}", mode.honours_hint());
/// }
/// # }
/// ```
pub fn thp_mode(shared: bool) -> io::Result<ThpMode> {
    let file = if shared { "shmem_enabled" } else { "enabled" };
    let setting = fs::read_to_string(format!("{SYSFS_THP}/{file}"))?;
    ThpMode::parse(&setting).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unknown THP setting {setting:?}"),
        )
    })
}

/// The size of a PMD-level transparent huge page, to align regions to (2 MiB on x86-64).
pub(crate) fn pmd_size() -> usize {
    fs::read_to_string(format!("{SYSFS_THP}/hpage_pmd_size"))
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok())
        .filter(|size| size.is_power_of_two())
        .unwrap_or(2 << 20)
}

/// Asks the kernel to back `len` bytes at `addr` with transparent huge pages.
///
/// # Safety
///
/// `addr..addr + len` must be a mapping the caller owns (the hint never changes contents, but
/// the call must not target somebody else's memory).
pub(crate) unsafe fn advise_huge_pages(addr: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: caller contract; MADV_HUGEPAGE changes only how pages are backed, not their data.
    if unsafe { libc::madvise(addr.cast(), len, libc::MADV_HUGEPAGE) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::ThpMode;

    #[test]
    fn parse_takes_the_bracketed_word() {
        assert_eq!(
            ThpMode::parse("always [madvise] never\n"),
            Some(ThpMode::Madvise)
        );
        assert_eq!(
            ThpMode::parse("always within_size advise [never] deny force"),
            Some(ThpMode::Never)
        );
        assert_eq!(ThpMode::parse("[advise] never"), Some(ThpMode::Madvise));
        assert_eq!(ThpMode::parse("always madvise never"), None);
        assert_eq!(ThpMode::parse("[sometimes]"), None);
    }

    #[test]
    fn only_never_and_deny_refuse_the_hint() {
        assert!(ThpMode::Always.honours_hint());
        assert!(ThpMode::Madvise.honours_hint());
        assert!(ThpMode::WithinSize.honours_hint());
        assert!(ThpMode::Force.honours_hint());
        assert!(!ThpMode::Never.honours_hint());
        assert!(!ThpMode::Deny.honours_hint());
    }
}
