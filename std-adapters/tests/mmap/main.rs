//! Integration tests of the mmap adapter: regions, files, guest memory, I/O and threads.

#![cfg(feature = "backend-mmap")]

mod common;
mod concurrency;
mod guest_memory;
#[cfg(unix)]
mod io;
#[cfg(unix)]
mod unix_file;
#[cfg(unix)]
mod unix_region;
#[cfg(windows)]
mod windows;
