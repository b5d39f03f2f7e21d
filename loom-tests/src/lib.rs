//! loom models of the concurrent parts of `vm-memory-core`.
//!
//! The models live in `tests/` and only build under `--cfg loom`:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p vm-memory-loom-tests --release
//! ```
//!
//! Under `--cfg loom` the core takes its atomics, `Arc`, lock and cells from loom, so the models
//! exercise the production code, not a copy of it. Guest memory itself (atomics over raw
//! pointers) cannot be modelled by loom; Miri and the thread sanitizer cover it.

#![cfg_attr(not(loom), allow(unused))]

/// The preemption bound used when `LOOM_MAX_PREEMPTIONS` is not set.
///
/// loom's documentation recommends 2 or 3: almost every concurrency bug needs only a couple of
/// preemptions, and the state space grows exponentially with the bound.
pub const DEFAULT_PREEMPTION_BOUND: usize = 3;

/// A loom model builder with the crate's default preemption bound (overridden by
/// `LOOM_MAX_PREEMPTIONS`).
#[cfg(loom)]
pub fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(DEFAULT_PREEMPTION_BOUND);
    }
    builder.check(f);
}
