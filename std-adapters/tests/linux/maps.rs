//! Reading `/proc/self/maps` to see what the kernel really mapped.

use std::fs;

/// One line of `/proc/self/maps`.
#[derive(Debug, Clone)]
pub struct MapEntry {
    pub start: usize,
    pub end: usize,
    pub perms: String,
}

/// The mappings of this process that intersect `start..end`.
pub fn entries_in(start: usize, end: usize) -> Vec<MapEntry> {
    let maps = fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (lo, hi) = fields.next()?.split_once('-')?;
            let entry = MapEntry {
                start: usize::from_str_radix(lo, 16).ok()?,
                end: usize::from_str_radix(hi, 16).ok()?,
                perms: fields.next()?.to_owned(),
            };
            (entry.start < end && start < entry.end).then_some(entry)
        })
        .collect()
}

/// The permissions of the mapping that contains `addr`.
pub fn perms_at(addr: usize) -> Option<String> {
    entries_in(addr, addr + 1)
        .first()
        .map(|entry| entry.perms.clone())
}

/// The host page size.
pub fn page_size() -> usize {
    // SAFETY: `sysconf` only reads a configuration value.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap()
}
