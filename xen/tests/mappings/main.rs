//! Integration tests of `vm-memory-xen`: the production code driven through the recording fake
//! device (`test_utils::FakeXenDevice`). Miri supports neither memfds nor `MAP_FIXED`.

#![cfg(all(target_os = "linux", not(miri)))]

mod abi;
mod common;
mod fake;
mod flags;
mod foreign;
mod grant;
mod lazy;
mod unix;
