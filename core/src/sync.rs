//! The synchronisation primitives the crate's own data structures use, switched to loom's
//! models under `--cfg loom`.
//!
//! Guest memory itself is accessed with core atomics through raw pointers, which loom cannot
//! model; only the crate's bookkeeping (`GuestMemoryAtomic`, `AtomicBitmap`) goes through here.

#[cfg(all(not(loom), feature = "alloc"))]
pub(crate) use core::sync::atomic::AtomicPtr;
#[cfg(not(loom))]
pub(crate) use core::sync::atomic::AtomicUsize;
#[cfg(all(loom, feature = "alloc"))]
pub(crate) use loom::sync::atomic::AtomicPtr;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::AtomicUsize;

#[cfg(all(not(loom), feature = "alloc"))]
pub(crate) use alloc::sync::Arc;
#[cfg(all(loom, feature = "alloc"))]
pub(crate) use loom::sync::Arc;

/// An `UnsafeCell` with loom's closure-based access API.
#[cfg(all(not(loom), feature = "alloc"))]
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(all(not(loom), feature = "alloc"))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(core::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a shared raw pointer to the value.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a mutable raw pointer to the value.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(all(loom, feature = "alloc"))]
pub(crate) use loom::cell::UnsafeCell;

/// A mutual exclusion lock for writers: loom's under loom, std's with `std` (so waiting writers
/// sleep), a spin lock otherwise.
#[cfg(all(loom, feature = "alloc"))]
pub(crate) type Mutex<T> = loom::sync::Mutex<T>;
#[cfg(all(not(loom), feature = "std"))]
pub(crate) type Mutex<T> = std::sync::Mutex<T>;
#[cfg(all(not(loom), feature = "alloc", not(feature = "std")))]
pub(crate) type Mutex<T> = spin::Mutex<T>;

/// The guard of [`Mutex`].
#[cfg(all(loom, feature = "alloc"))]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;
#[cfg(all(not(loom), feature = "std"))]
pub(crate) type MutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;
#[cfg(all(not(loom), feature = "alloc", not(feature = "std")))]
pub(crate) type MutexGuard<'a, T> = spin::MutexGuard<'a, T>;

#[cfg(feature = "alloc")]
/// Locks `mutex`; poisoning is ignored because every critical section of this crate leaves the
/// protected state consistent at each step.
#[inline]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(any(loom, feature = "std"))]
    {
        mutex
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
    #[cfg(not(any(loom, feature = "std")))]
    {
        mutex.lock()
    }
}

/// Lets other threads (or loom's scheduler) run inside a retry loop.
#[cfg(feature = "alloc")]
#[inline(always)]
pub(crate) fn spin_hint() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}
