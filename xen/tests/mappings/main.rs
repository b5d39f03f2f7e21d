//! Integration tests of `vm-memory-xen`: the production code driven through the recording fake
//! device (`test_utils::FakeXenDevice`).

#![cfg(target_os = "linux")]

mod abi;
mod common;
mod flags;
mod foreign;
mod grant;
mod lazy;
mod unix;
