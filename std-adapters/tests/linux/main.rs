//! Integration tests of the Linux-only backings: memfd, hugetlb, transparent huge pages and
//! guard pages. Each option either works or fails with the error that names what the host lacks;
//! the tests check whichever of the two the host allows, and always at least one of them.
//! Miri supports none of these system calls.

#![cfg(all(target_os = "linux", feature = "backend-mmap"))]

mod guard;
mod hugetlb;
mod maps;
mod memfd;
mod thp;
