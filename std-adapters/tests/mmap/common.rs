//! Helpers shared by the mmap tests.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh, already unlinked temporary file of `len` bytes (zeroes).
pub fn temp_file(len: u64) -> File {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "vm-memory-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let path: PathBuf = std::env::temp_dir().join(name);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        // FILE_FLAG_DELETE_ON_CLOSE: Windows cannot unlink a file that is open.
        options.custom_flags(0x0400_0000);
    }
    let file = options.open(&path).expect("create a temporary file");
    #[cfg(unix)]
    std::fs::remove_file(&path).expect("unlink the temporary file");
    file.set_len(len).expect("size the temporary file");
    file
}

/// The host page size.
#[cfg(unix)]
pub fn page_size() -> usize {
    // SAFETY: `sysconf` only reads a configuration value.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap()
}
