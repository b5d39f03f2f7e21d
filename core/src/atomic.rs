//! `GuestMemoryAtomic`: a guest memory map that can be replaced while devices keep using it.
//!
//! Readers call [`GuestAddressSpace::memory`] (or [`GuestMemoryAtomic::current`]) and get a [`GuestMemoryLoadGuard`] that keeps
//! the map they saw alive. A writer takes [`GuestMemoryAtomic::lock`] and publishes a new map
//! with [`GuestMemoryExclusiveGuard::replace`]; the old map is dropped when its last guard drops.
//!
//! # How it works
//!
//! Each published map sits in a *node*. A node is `LIVE` while it is current, `RETIRED` once a
//! newer map replaced it, and `RECLAIMED` when its map has been dropped. Guards are counted in
//! a node's *stripes*: several counters on separate cache lines, a reader picking one by the
//! address of its own stack, so readers on different threads do not fight over one counter.
//!
//! `memory()` loads the current node, adds one to a stripe with a compare-and-swap and checks
//! that the node is still `LIVE`; otherwise it backs out and tries the new current node. It
//! never waits for a writer, and a writer never waits for readers.
//!
//! Retiring a node *harvests* its stripes: the retirer swaps each stripe for a `HARVESTED`
//! mark and adds the counts it took to the node's one `remaining` counter. From then on guards
//! count in `remaining`; a reader never adds to a harvested stripe, and a guard that finds its
//! stripe harvested drops its count from `remaining` instead. Each count is therefore in exactly
//! one place, and whoever takes `remaining` to zero (the retirer or the last guard) reclaims the
//! node: it drops the map and puts the node on a free list. A guard whose count is still on an
//! unharvested stripe drops it there and touches the node no more, so nothing reads a node after
//! the count that kept it alive is gone. That matters once every handle is dropped: the last
//! reclamation then frees the shared state and every node.
//!
//! Node memory is never returned to the allocator while a handle exists: reclaimed nodes go to
//! a free list that only writers (serialised by the lock) take from, so a reader holding a stale
//! node pointer always finds valid counters (a reclaimed node's stripes stay harvested until a
//! writer publishes it again). A node that is not reclaimed keeps the shared state alive, which
//! frees every node once the last handle and guard are gone.
//!
//! # Loom
//!
//! Built with `--cfg loom`, the atomics, the lock and the cell types come from loom, so code that
//! model-checks its own use of `GuestMemoryAtomic` can call it inside `loom::model`. The maps'
//! `Arc<M>` stays a standard `Arc` (it is what [`GuestMemoryLoadGuard::into_inner`] returns).
//! A node has two stripes under loom instead of sixteen, to keep the model small.

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

/// Node states.
const RECLAIMED: usize = 0;
const RETIRED: usize = 1;
const LIVE: usize = 2;

/// Marks a stripe whose count has been moved to [`Node::remaining`].
const HARVESTED: usize = 1 << (usize::BITS - 1);
/// Held in `remaining` while the retirer harvests, so that guards dropping meanwhile cannot
/// take it to zero before every stripe has been added.
const HARVEST_BIAS: usize = HARVESTED >> 1;

/// Guard counters per node: a power of two.
#[cfg(not(loom))]
const STRIPES: usize = 16;
#[cfg(loom)]
const STRIPES: usize = 2;

/// A counter on a cache line of its own (two lines: adjacent-line prefetchers pair them).
#[repr(align(128))]
struct Stripe(AtomicUsize);

/// One published map and its guard counts.
struct Node<M> {
    /// `LIVE`, `RETIRED` or `RECLAIMED` (see the module docs).
    state: AtomicUsize,
    /// Guards (plus readers about to back off), spread over cache lines, until the node is
    /// retired; then each holds `HARVESTED` until the node is published again.
    stripes: [Stripe; STRIPES],
    /// The guards of a retired node, once its stripes are harvested.
    remaining: AtomicUsize,
    /// The map; `Some` from publication until reclamation.
    map: UnsafeCell<Option<Arc<M>>>,
    /// Keeps the shared state (and so the free list this node returns to) alive until the node
    /// is reclaimed.
    owner: UnsafeCell<Option<SharedArc<Shared<M>>>>,
    /// Free-list link.
    next_free: AtomicPtr<Node<M>>,
}

impl<M> Node<M> {
    fn empty() -> Self {
        Node {
            state: AtomicUsize::new(RECLAIMED),
            stripes: core::array::from_fn(|_| Stripe(AtomicUsize::new(HARVESTED))),
            remaining: AtomicUsize::new(0),
            map: UnsafeCell::new(None),
            owner: UnsafeCell::new(None),
            next_free: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Adds one count to `stripe`, unless it has been harvested (the node is retired or
    /// reclaimed): then the count would be lost, and `false` says so.
    #[inline(always)]
    fn count_on(&self, stripe: usize) -> bool {
        let counter = &self.stripes[stripe].0;
        let mut seen = counter.load(Ordering::Acquire);
        while seen & HARVESTED == 0 {
            match counter.compare_exchange_weak(
                seen,
                seen + 1,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => seen = actual,
            }
        }
        false
    }
}

/// The stripe this thread uses: threads have separate stacks, so the address of a local is a
/// cheap thread identity (a wrong guess only costs contention, never correctness).
#[cfg(not(loom))]
#[inline(always)]
fn stripe_hint() -> usize {
    let marker = 0u8;
    let at = ptr::addr_of!(marker).addr() >> 16;
    (at ^ (at >> 5) ^ (at >> 11)) & (STRIPES - 1)
}

/// Under loom, stack addresses change between executions, which would make the model
/// non-deterministic: use the number loom gives the thread within an execution (it is only
/// exposed through `Debug`; the `Hash` of a loom thread id changes between executions).
#[cfg(loom)]
fn stripe_hint() -> usize {
    let id = alloc::format!("{:?}", loom::thread::current().id());
    id.bytes()
        .filter(u8::is_ascii_digit)
        .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'))
        & (STRIPES - 1)
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
    /// `node` must be a reclaimed node of `self` (fields emptied) that no other thread pushes.
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
        // Every node that is not reclaimed holds an owner reference, so all nodes are reclaimed
        // and on the free list.
        let mut head = self.free.load(Ordering::Acquire);
        while let Some(node) = NonNull::new(head) {
            // SAFETY: the node is on the free list of a `Shared` nobody else references any more;
            // it was allocated with `Box::new` in `publish`.
            let node = unsafe { Box::from_raw(node.as_ptr()) };
            head = node.next_free.load(Ordering::Relaxed);
        }
    }
}

/// Drops a guard's count on `stripe` of `node` (or a reader's count that it backs out), and
/// reclaims the node if that was the last count of a retired map.
///
/// # Safety
///
/// The caller must own one count on `stripe` of `node` and not use it afterwards.
unsafe fn unguard<M>(node: NonNull<Node<M>>, stripe: usize) {
    // SAFETY: our count keeps the node from being reclaimed, so its storage is valid until the
    // count is dropped below; after that the node is not touched (it may be freed at once).
    let n = unsafe { node.as_ref() };
    let counter = &n.stripes[stripe].0;
    let mut seen = counter.load(Ordering::Acquire);
    while seen & HARVESTED == 0 {
        match counter.compare_exchange_weak(seen, seen - 1, Ordering::Release, Ordering::Acquire) {
            // The retirer will harvest the stripe without our count.
            Ok(_) => return,
            Err(actual) => seen = actual,
        }
    }
    // The stripe was harvested with our count in it: the count is in `remaining`.
    if n.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
        // SAFETY: we took the last count of a retired node to zero, which happens once.
        unsafe { reclaim(node) };
    }
}

/// Retires `node`: new readers no longer adopt it, its guards move to `remaining`, and it is
/// reclaimed now or by its last guard.
///
/// # Safety
///
/// `node` must be a node that the caller just unpublished (swapped out of `current`).
unsafe fn retire<M>(node: NonNull<Node<M>>) {
    // SAFETY: an unpublished node is not yet reclaimed (only a retirement leads there), so its
    // storage is valid, and nothing can free it before `remaining` reaches zero below.
    let n = unsafe { node.as_ref() };
    n.state.store(RETIRED, Ordering::Release);
    // Set before any stripe shows `HARVESTED`: the swaps below release it to the guards that
    // see the mark.
    n.remaining.store(HARVEST_BIAS, Ordering::Relaxed);
    let counted: usize = n
        .stripes
        .iter()
        .map(|stripe| stripe.0.swap(HARVESTED, Ordering::AcqRel))
        .sum();
    let unbias = HARVEST_BIAS - counted;
    if n.remaining.fetch_sub(unbias, Ordering::AcqRel) == unbias {
        // SAFETY: no guard was left (all counted ones already dropped theirs): we took
        // `remaining` to zero, which happens once.
        unsafe { reclaim(node) };
    }
}

/// Drops the map of a retired node whose last count is gone and returns the node to the free
/// list.
///
/// # Safety
///
/// `node` must be a retired node whose `remaining` the caller just took to zero.
unsafe fn reclaim<M>(node: NonNull<Node<M>>) {
    // SAFETY: no guard holds the node and no reader adopts it (it is retired and its stripes
    // are harvested), so we have exclusive access to its fields until we push it onto the free
    // list. Every guard dropped its count with release ordering, and the acquire side of the
    // read-modify-write that reached zero orders their uses of the map before the drop.
    let n = unsafe { node.as_ref() };
    n.state.store(RECLAIMED, Ordering::Relaxed);
    // SAFETY: exclusive access, see above.
    let map = n.map.with_mut(|p| unsafe { (*p).take() });
    // SAFETY: as above.
    let owner = n.owner.with_mut(|p| unsafe { (*p).take() });
    drop(map);
    let owner = owner.expect("a node that is not reclaimed has an owner");
    // SAFETY: the node is reclaimed, emptied, and pushed once, by us.
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

    /// The current map. Never blocks: a few loads and one compare-and-swap in the common case.
    ///
    /// For guest memories, [`GuestAddressSpace::memory`] is the same call; this inherent
    /// spelling also works for maps that are not `GuestMemory` (upstream has only the trait
    /// method, so the inherent one has another name to keep `use GuestAddressSpace` meaningful).
    pub fn current(&self) -> GuestMemoryLoadGuard<M> {
        let stripe = stripe_hint();
        loop {
            let current = self.shared.current.load(Ordering::Acquire);
            let node = NonNull::new(current).expect("the current map exists while a handle does");
            // SAFETY: node storage is freed only when `Shared` drops, and `self` keeps it alive.
            let n = unsafe { node.as_ref() };
            // A node already retired is not worth counting on: retry at once.
            if n.state.load(Ordering::Relaxed) == LIVE && n.count_on(stripe) {
                // Still `LIVE` with our count taken: adopt it. (A node being published again
                // has unharvested stripes before it is `LIVE`.)
                if n.state.load(Ordering::Acquire) == LIVE {
                    // SAFETY: we hold a count on a node we saw `LIVE` after taking it; the
                    // acquire load ordered us after the map was stored.
                    return unsafe { GuestMemoryLoadGuard::adopt(node, stripe) };
                }
                // Retired after we loaded it: a newer map is current. Back out.
                // SAFETY: we own the count we just added.
                unsafe { unguard(node, stripe) };
            }
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
        // SAFETY: a popped or new node is reclaimed and exclusively ours (readers only touch its
        // stripes and state, and only adopt it once it is `LIVE`), and only the lock holder pops.
        let n = unsafe { node.as_ref() };
        // SAFETY: exclusive access, see above.
        n.map.with_mut(|p| unsafe { *p = Some(map) });
        let owner = self.shared.clone();
        // SAFETY: exclusive access, see above.
        n.owner.with_mut(|p| unsafe { *p = Some(owner) });
        // Readers may count on the node from here on, but adopt it only once it is `LIVE`.
        for stripe in &n.stripes {
            stripe.0.store(0, Ordering::Release);
        }
        n.state.store(LIVE, Ordering::Release);
        let old = self.shared.current.swap(node.as_ptr(), Ordering::AcqRel);
        if let Some(old) = NonNull::new(old) {
            // SAFETY: we just unpublished `old`.
            unsafe { retire(old) };
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
            // SAFETY: we just unpublished `old`.
            unsafe { retire(old) };
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
    stripe: usize,
    phantom: PhantomData<Arc<M>>,
}

// SAFETY: the guard behaves like an `Arc<M>` (shared ownership of `M`); its node bookkeeping is
// atomic.
unsafe impl<M: Send + Sync> Send for GuestMemoryLoadGuard<M> {}
// SAFETY: as above.
unsafe impl<M: Send + Sync> Sync for GuestMemoryLoadGuard<M> {}

impl<M> GuestMemoryLoadGuard<M> {
    /// Wraps a count the caller holds on `stripe` of a node it saw `LIVE`.
    ///
    /// # Safety
    ///
    /// The caller must own one count on `stripe` of `node`, have seen the node `LIVE` after
    /// taking it, and hand the count over.
    unsafe fn adopt(node: NonNull<Node<M>>, stripe: usize) -> Self {
        // SAFETY: the node was live when we checked, with our count taken before, so it cannot
        // be reclaimed while we hold the count: its map is `Some` and not written until then,
        // and the acquire load that saw `LIVE` ordered us after its initialisation.
        let map = unsafe { node.as_ref() }.map.with(|p| {
            // SAFETY: see above.
            let arc = unsafe { (*p).as_ref() }.expect("a live node holds a map");
            NonNull::from(arc.as_ref())
        });
        GuestMemoryLoadGuard {
            node,
            map,
            stripe,
            phantom: PhantomData,
        }
    }

    /// The snapshot as an `Arc`, consuming the guard.
    pub fn into_inner(self) -> Arc<M> {
        // SAFETY: the guard's count keeps the node from being reclaimed, so the map is present and
        // stable.
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
        // SAFETY: the guard holds a count, so the node cannot be reclaimed meanwhile.
        let n = unsafe { self.node.as_ref() };
        if !n.count_on(self.stripe) {
            // Harvested: our own count is in `remaining` and keeps it above zero.
            n.remaining.fetch_add(1, Ordering::Relaxed);
        }
        GuestMemoryLoadGuard {
            node: self.node,
            map: self.map,
            stripe: self.stripe,
            phantom: PhantomData,
        }
    }
}

impl<M> Drop for GuestMemoryLoadGuard<M> {
    fn drop(&mut self) {
        // SAFETY: the guard owns one count on its stripe and is being dropped.
        unsafe { unguard(self.node, self.stripe) };
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
