//! `GuestMemoryAtomic`: a guest memory map that can be replaced while devices keep using it.
//!
//! Readers call [`GuestAddressSpace::memory`] (or [`GuestMemoryAtomic::current`]) and get a [`GuestMemoryLoadGuard`] that keeps
//! the map they saw alive. A writer takes [`GuestMemoryAtomic::lock`] and publishes a new map
//! with [`GuestMemoryExclusiveGuard::replace`]; the old map is dropped when its last guard drops.
//!
//! # How it works
//!
//! Each published map sits in a *node* with a reference count: one for being current, one per
//! load guard. A reader loads the current node pointer and increments the count unless it is
//! zero (a node whose count reached zero is dead and may be recycled); if it was zero the reader
//! tries again with the new current node. So `memory()` is one load and one compare-and-swap,
//! never waits for a writer, and a writer never waits for readers.
//!
//! Node memory is never returned to the allocator while the map can still be reached: dead nodes
//! go to a free list that only writers (serialised by the lock) take from, so a reader holding a
//! stale node pointer always finds a valid counter. A live node keeps the shared state alive,
//! which frees every node once the last handle and the last guard are gone.
//!
//! # Loom
//!
//! Built with `--cfg loom`, the atomics, the lock and the cell types come from loom, so code that
//! model-checks its own use of `GuestMemoryAtomic` can call it inside `loom::model`. The maps'
//! `Arc<M>` stays a standard `Arc` (it is what [`GuestMemoryLoadGuard::into_inner`] returns).

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::convert::Infallible;
use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering;

use crate::guest_memory::{GuestAddressSpace, GuestMemory};
use crate::sync::{self, Arc as SharedArc, AtomicPtr, AtomicUsize, Mutex, MutexGuard, UnsafeCell};

/// One published map and its reference count.
struct Node<M> {
    /// 0: dead (free or being recycled); otherwise 1 if current plus one per guard.
    refs: AtomicUsize,
    /// The map; `Some` exactly while `refs > 0`.
    map: UnsafeCell<Option<Arc<M>>>,
    /// Keeps the shared state (and so the free list this node returns to) alive while the node
    /// is live.
    owner: UnsafeCell<Option<SharedArc<Shared<M>>>>,
    /// Free-list link.
    next_free: AtomicPtr<Node<M>>,
}

impl<M> Node<M> {
    fn empty() -> Self {
        Node {
            refs: AtomicUsize::new(0),
            map: UnsafeCell::new(None),
            owner: UnsafeCell::new(None),
            next_free: AtomicPtr::new(ptr::null_mut()),
        }
    }
}

/// State shared by all handles.
struct Shared<M> {
    /// The current node; null only after the last handle dropped.
    current: AtomicPtr<Node<M>>,
    /// Dead nodes (a Treiber stack: any thread pushes, only lock holders pop).
    free: AtomicPtr<Node<M>>,
    /// Serialises writers.
    writer: Mutex<()>,
    /// Number of `GuestMemoryAtomic` handles.
    handles: AtomicUsize,
}

impl<M> Shared<M> {
    /// Pushes a dead node onto the free list.
    ///
    /// # Safety
    ///
    /// `node` must be a dead node of `self` (refs 0, fields emptied) that no other thread pushes.
    unsafe fn push_free(&self, node: NonNull<Node<M>>) {
        let mut head = self.free.load(Ordering::Relaxed);
        loop {
            // SAFETY: node storage lives as long as `self` (caller contract) and the node is
            // exclusively ours until the push succeeds.
            unsafe { node.as_ref() }
                .next_free
                .store(head, Ordering::Relaxed);
            match self.free.compare_exchange(
                head,
                node.as_ptr(),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => head = actual,
            }
        }
    }

    /// Pops a dead node, if any. Only called by the holder of the writer lock, so no other pop
    /// runs concurrently and the stack has no ABA problem.
    fn pop_free(&self, _writer: &MutexGuard<'_, ()>) -> Option<NonNull<Node<M>>> {
        let mut head = self.free.load(Ordering::Acquire);
        loop {
            let node = NonNull::new(head)?;
            // SAFETY: nodes on the free list are valid (storage is only freed when `self` drops)
            // and only this thread pops, so `node` stays on the list until our CAS.
            let next = unsafe { node.as_ref() }.next_free.load(Ordering::Relaxed);
            match self
                .free
                .compare_exchange(head, next, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) => return Some(node),
                Err(actual) => head = actual,
            }
        }
    }
}

impl<M> Drop for Shared<M> {
    fn drop(&mut self) {
        // Every live node holds an owner reference, so all nodes are dead and on the free list.
        let mut head = self.free.load(Ordering::Acquire);
        while let Some(node) = NonNull::new(head) {
            // SAFETY: the node is on the free list of a `Shared` nobody else references any more;
            // it was allocated with `Box::new` in `publish`.
            let node = unsafe { Box::from_raw(node.as_ptr()) };
            head = node.next_free.load(Ordering::Relaxed);
        }
    }
}

/// Drops one reference to `node`; the last one empties the node and returns it to the free list.
///
/// # Safety
///
/// The caller must own one reference to `node` (current or guard) and not use it afterwards.
unsafe fn release<M>(node: NonNull<Node<M>>) {
    // SAFETY: the caller's reference keeps the node live, and node storage is valid while live.
    let n = unsafe { node.as_ref() };
    if n.refs.fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    // Pair with every other releaser's `Release` decrement: their uses of the map happen before
    // we drop it. An `Acquire` load of the count does this as an acquire fence would (it reads
    // our own decrement, which ends the release sequence of every earlier one: nobody changes a
    // zero count), and unlike a fence ThreadSanitizer understands it (std's `Arc` does the same
    // under ThreadSanitizer).
    let _zero = n.refs.load(Ordering::Acquire);
    // SAFETY: `refs` reached 0, which readers never increment from, and writers only touch nodes
    // they popped from the free list, which this node is not on yet: we have exclusive access.
    let map = n.map.with_mut(|p| unsafe { (*p).take() });
    // SAFETY: as above.
    let owner = n.owner.with_mut(|p| unsafe { (*p).take() });
    drop(map);
    let owner = owner.expect("a live node has an owner");
    // SAFETY: the node is dead, emptied, and pushed once, by us.
    unsafe { owner.push_free(node) };
    // This may drop the shared state and free every node, including `node`, which we no longer
    // touch.
    drop(owner);
}

/// A guest memory map that can be replaced at run time (memory hotplug), with a lock-free read
/// side.
///
/// Clones share the same map.
///
/// ```
/// use std::sync::Arc;
/// use vm_memory_core::atomic::GuestMemoryAtomic;
/// use vm_memory_core::{GuestAddress, GuestAddressSpace, GuestMemoryBackend, GuestRegionCollection,
///     RawRegion};
///
/// let mut ram = vec![0u64; 1024];
/// let ptr = ram.as_mut_ptr().cast::<u8>();
/// // SAFETY: `ram` outlives every map built on it and is used only through them.
/// let region = |base: u64, len| unsafe { RawRegion::new(ptr, len, GuestAddress(base)).unwrap() };
///
/// let mem = GuestMemoryAtomic::new(GuestRegionCollection::from_regions(vec![region(0, 4096)]).unwrap());
/// let before = mem.memory();
/// mem.lock().unwrap().replace(GuestRegionCollection::from_regions(vec![region(0, 8192)]).unwrap());
/// assert_eq!(before.last_addr(), GuestAddress(0xfff)); // the old snapshot is still valid
/// assert_eq!(mem.memory().last_addr(), GuestAddress(0x1fff));
/// ```
pub struct GuestMemoryAtomic<M> {
    shared: SharedArc<Shared<M>>,
}

// SAFETY: a handle only gives access to `Arc<M>` snapshots (shared across threads like an
// `Arc<M>`, so `M: Send + Sync` is required) and to the shared bookkeeping, which is made of
// atomics and a lock.
unsafe impl<M: Send + Sync> Send for GuestMemoryAtomic<M> {}
// SAFETY: as above.
unsafe impl<M: Send + Sync> Sync for GuestMemoryAtomic<M> {}

impl<M> GuestMemoryAtomic<M> {
    /// Publishes `map` as the first map.
    pub fn new(map: M) -> Self {
        Self::from(Arc::new(map))
    }

    /// The current map. Never blocks: one load and one compare-and-swap in the common case.
    ///
    /// For guest memories, [`GuestAddressSpace::memory`] is the same call; this inherent
    /// spelling also works for maps that are not `GuestMemory` (upstream has only the trait
    /// method, so the inherent one has another name to keep `use GuestAddressSpace` meaningful).
    pub fn current(&self) -> GuestMemoryLoadGuard<M> {
        loop {
            let current = self.shared.current.load(Ordering::Acquire);
            let node = NonNull::new(current).expect("the current map exists while a handle does");
            // SAFETY: node storage is freed only when `Shared` drops, and `self` keeps it alive.
            let n = unsafe { node.as_ref() };
            let mut refs = n.refs.load(Ordering::Relaxed);
            while refs != 0 {
                match n
                    .refs
                    .compare_exchange(refs, refs + 1, Ordering::Acquire, Ordering::Relaxed)
                {
                    // SAFETY: we now hold a reference to a live node.
                    Ok(_) => return unsafe { GuestMemoryLoadGuard::adopt(node) },
                    Err(actual) => refs = actual,
                }
            }
            // The node died after we loaded it: a newer map is current. Try again.
            sync::spin_hint();
        }
    }

    /// Takes the writer lock. Writers are serialised; readers are never blocked.
    ///
    /// The lock does not poison (a panicking writer leaves the current map in place), so this
    /// always returns `Ok`; it returns a `Result` for compatibility with vm-memory 0.18.
    ///
    /// # Errors
    ///
    /// Never.
    pub fn lock(&self) -> Result<GuestMemoryExclusiveGuard<'_, M>, Infallible> {
        Ok(GuestMemoryExclusiveGuard {
            handle: self,
            _lock: sync::lock(&self.shared.writer),
        })
    }

    /// Publishes `map` (caller holds the writer lock) and drops the reference of the map it
    /// replaces.
    fn publish(&self, lock: &MutexGuard<'_, ()>, map: Arc<M>) {
        let node = self
            .shared
            .pop_free(lock)
            .unwrap_or_else(|| NonNull::from(Box::leak(Box::new(Node::empty()))));
        // SAFETY: a popped or new node is dead and exclusively ours: readers never increment a
        // zero count, and only the lock holder pops.
        let n = unsafe { node.as_ref() };
        // SAFETY: exclusive access, see above.
        n.map.with_mut(|p| unsafe { *p = Some(map) });
        let owner = self.shared.clone();
        // SAFETY: exclusive access, see above.
        n.owner.with_mut(|p| unsafe { *p = Some(owner) });
        n.refs.store(1, Ordering::Release);
        let old = self.shared.current.swap(node.as_ptr(), Ordering::AcqRel);
        if let Some(old) = NonNull::new(old) {
            // SAFETY: the "current" reference of `old` passed to us with the swap.
            unsafe { release(old) };
        }
    }
}

impl<M> From<Arc<M>> for GuestMemoryAtomic<M> {
    /// Publishes a shared map as the first map.
    fn from(map: Arc<M>) -> Self {
        let handle = GuestMemoryAtomic {
            shared: SharedArc::new(Shared {
                current: AtomicPtr::new(ptr::null_mut()),
                free: AtomicPtr::new(ptr::null_mut()),
                writer: Mutex::new(()),
                handles: AtomicUsize::new(1),
            }),
        };
        {
            let lock = sync::lock(&handle.shared.writer);
            handle.publish(&lock, map);
        }
        handle
    }
}

impl<M> Clone for GuestMemoryAtomic<M> {
    fn clone(&self) -> Self {
        self.shared.handles.fetch_add(1, Ordering::Relaxed);
        GuestMemoryAtomic {
            shared: self.shared.clone(),
        }
    }
}

impl<M> Drop for GuestMemoryAtomic<M> {
    fn drop(&mut self) {
        if self.shared.handles.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        // Last handle: nobody can call `memory()` any more; retire the current map. Guards keep
        // their own references.
        let old = self.shared.current.swap(ptr::null_mut(), Ordering::AcqRel);
        if let Some(old) = NonNull::new(old) {
            // SAFETY: the "current" reference of `old` passed to us with the swap.
            unsafe { release(old) };
        }
    }
}

impl<M> fmt::Debug for GuestMemoryAtomic<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuestMemoryAtomic").finish_non_exhaustive()
    }
}

impl<M: GuestMemory> GuestAddressSpace for GuestMemoryAtomic<M> {
    type M = M;
    type T = GuestMemoryLoadGuard<M>;

    fn memory(&self) -> GuestMemoryLoadGuard<M> {
        self.current()
    }
}

/// A snapshot of the map of a [`GuestMemoryAtomic`], valid however often the map is replaced.
pub struct GuestMemoryLoadGuard<M> {
    node: NonNull<Node<M>>,
    map: NonNull<M>,
    phantom: PhantomData<Arc<M>>,
}

// SAFETY: the guard behaves like an `Arc<M>` (shared ownership of `M`); its node bookkeeping is
// atomic.
unsafe impl<M: Send + Sync> Send for GuestMemoryLoadGuard<M> {}
// SAFETY: as above.
unsafe impl<M: Send + Sync> Sync for GuestMemoryLoadGuard<M> {}

impl<M> GuestMemoryLoadGuard<M> {
    /// Wraps a reference the caller holds on a live node.
    ///
    /// # Safety
    ///
    /// The caller must own one reference to the live `node` and hand it over.
    unsafe fn adopt(node: NonNull<Node<M>>) -> Self {
        // SAFETY: the node is live (caller contract), so its map is `Some` and not written until
        // the count returns to zero; our `Acquire` increment ordered us after its initialisation.
        let map = unsafe { node.as_ref() }.map.with(|p| {
            // SAFETY: see above.
            let arc = unsafe { (*p).as_ref() }.expect("a live node holds a map");
            NonNull::from(arc.as_ref())
        });
        GuestMemoryLoadGuard {
            node,
            map,
            phantom: PhantomData,
        }
    }

    /// The snapshot as an `Arc`, consuming the guard.
    pub fn into_inner(self) -> Arc<M> {
        // SAFETY: the guard's reference keeps the node live, so the map is present and stable.
        unsafe { self.node.as_ref() }.map.with(|p| {
            // SAFETY: see above.
            let arc = unsafe { (*p).as_ref() }.expect("a live node holds a map");
            Arc::clone(arc)
        })
    }
}

impl<M> Deref for GuestMemoryLoadGuard<M> {
    type Target = M;

    #[inline(always)]
    fn deref(&self) -> &M {
        // SAFETY: the map is kept alive (and never mutated) by the guard's node reference.
        unsafe { self.map.as_ref() }
    }
}

impl<M> Clone for GuestMemoryLoadGuard<M> {
    fn clone(&self) -> Self {
        // SAFETY: the guard holds a reference, so the node is live.
        unsafe { self.node.as_ref() }
            .refs
            .fetch_add(1, Ordering::Relaxed);
        GuestMemoryLoadGuard {
            node: self.node,
            map: self.map,
            phantom: PhantomData,
        }
    }
}

impl<M> Drop for GuestMemoryLoadGuard<M> {
    fn drop(&mut self) {
        // SAFETY: the guard owns one reference and is being dropped.
        unsafe { release(self.node) };
    }
}

impl<M: fmt::Debug> fmt::Debug for GuestMemoryLoadGuard<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GuestMemoryLoadGuard")
            .field(&**self)
            .finish()
    }
}

/// The writer lock of a [`GuestMemoryAtomic`]; [`replace`](Self::replace) publishes a new map.
pub struct GuestMemoryExclusiveGuard<'a, M> {
    handle: &'a GuestMemoryAtomic<M>,
    _lock: MutexGuard<'a, ()>,
}

impl<M> GuestMemoryExclusiveGuard<'_, M> {
    /// Publishes `map` and releases the lock. Existing guards keep the old map; it is dropped
    /// when the last of them drops.
    pub fn replace(self, map: M) {
        self.handle.publish(&self._lock, Arc::new(map));
    }
}

impl<M> fmt::Debug for GuestMemoryExclusiveGuard<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuestMemoryExclusiveGuard")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
