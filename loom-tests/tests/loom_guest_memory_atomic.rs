//! `GuestMemoryAtomic`: readers against writers.
#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use vm_memory_core::atomic::GuestMemoryAtomic;
use vm_memory_loom_tests::model;

/// A map whose two fields must always agree, and which counts its drops.
#[derive(Debug)]
struct Map {
    id: usize,
    check: usize,
    drops: Arc<[AtomicUsize; 4]>,
}

impl Map {
    fn new(id: usize, drops: &Arc<[AtomicUsize; 4]>) -> Self {
        Map {
            id,
            check: !id,
            drops: drops.clone(),
        }
    }

    fn assert_whole(&self) {
        assert_eq!(self.check, !self.id, "a reader saw a torn or freed map");
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        self.assert_whole();
        let before = self.drops[self.id].fetch_add(1, Ordering::SeqCst);
        assert_eq!(before, 0, "map {} dropped twice", self.id);
    }
}

fn counters() -> Arc<[AtomicUsize; 4]> {
    Arc::new([
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    ])
}

#[test]
fn readers_see_whole_maps_while_a_writer_replaces() {
    model(|| {
        let drops = counters();
        let mem = GuestMemoryAtomic::new(Map::new(0, &drops));
        let early = mem.current();

        let readers: Vec<_> = (0..2)
            .map(|_| {
                let mem = mem.clone();
                thread::spawn(move || {
                    let g = mem.current();
                    g.assert_whole();
                    let again = mem.current();
                    again.assert_whole();
                    assert!(again.id >= g.id, "maps appear in publication order");
                    g.id
                })
            })
            .collect();

        mem.lock().unwrap().replace(Map::new(1, &drops));
        // A guard taken before the replace keeps working.
        early.assert_whole();
        assert_eq!(early.id, 0);
        assert_eq!(drops[0].load(Ordering::SeqCst), 0);

        for r in readers {
            let seen = r.join().unwrap();
            assert!(seen <= 1);
        }
        drop(early);
        assert_eq!(
            drops[0].load(Ordering::SeqCst),
            1,
            "dropped after its last guard"
        );
        assert_eq!(drops[1].load(Ordering::SeqCst), 0, "the current map lives");
        drop(mem);
        assert_eq!(drops[1].load(Ordering::SeqCst), 1);
    });
}

#[test]
fn a_reader_racing_two_replaces_never_sees_a_recycled_node_wrongly() {
    model(|| {
        let drops = counters();
        let mem = GuestMemoryAtomic::new(Map::new(0, &drops));
        let reader = {
            let mem = mem.clone();
            thread::spawn(move || {
                let g = mem.current();
                g.assert_whole();
                let copy = g.clone();
                drop(g);
                copy.assert_whole();
                copy.id
            })
        };
        // The second replace can recycle the node of map 0 for map 2.
        mem.lock().unwrap().replace(Map::new(1, &drops));
        mem.lock().unwrap().replace(Map::new(2, &drops));
        let seen = reader.join().unwrap();
        assert!(seen <= 2);
        assert_eq!(drops[0].load(Ordering::SeqCst), 1);
        assert_eq!(drops[1].load(Ordering::SeqCst), 1);
        drop(mem);
        assert_eq!(drops[2].load(Ordering::SeqCst), 1);
    });
}

#[test]
fn two_writers_are_serialised_by_the_lock() {
    model(|| {
        let drops = counters();
        let mem = GuestMemoryAtomic::new(Map::new(0, &drops));
        let writers: Vec<_> = [1, 2]
            .into_iter()
            .map(|id| {
                let mem = mem.clone();
                let drops = drops.clone();
                thread::spawn(move || {
                    let guard = mem.lock().unwrap();
                    guard.replace(Map::new(id, &drops));
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let last = mem.current().id;
        assert!(last == 1 || last == 2);
        let first = 3 - last;
        assert_eq!(drops[0].load(Ordering::SeqCst), 1);
        assert_eq!(drops[first].load(Ordering::SeqCst), 1);
        assert_eq!(drops[last].load(Ordering::SeqCst), 0);
        drop(mem);
        assert_eq!(drops[last].load(Ordering::SeqCst), 1);
    });
}

#[test]
fn the_last_guard_may_outlive_every_handle_on_another_thread() {
    model(|| {
        let drops = counters();
        let mem = GuestMemoryAtomic::new(Map::new(0, &drops));
        let guard = mem.current();
        let holder = thread::spawn(move || {
            guard.assert_whole();
            drop(guard);
        });
        mem.lock().unwrap().replace(Map::new(1, &drops));
        drop(mem);
        holder.join().unwrap();
        assert_eq!(drops[0].load(Ordering::SeqCst), 1);
        assert_eq!(drops[1].load(Ordering::SeqCst), 1);
    });
}

#[test]
fn two_guards_outliving_every_handle_drop_on_two_threads() {
    model(|| {
        let drops = counters();
        let mem = GuestMemoryAtomic::new(Map::new(0, &drops));
        let first = mem.current();
        let second = mem.current();
        drop(mem);
        let a = thread::spawn(move || drop(first));
        let b = thread::spawn(move || drop(second));
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(drops[0].load(Ordering::SeqCst), 1);
    });
}

#[test]
fn guards_of_two_threads_drop_while_the_map_is_replaced_and_the_handle_dropped() {
    model(|| {
        let drops = counters();
        let mem = GuestMemoryAtomic::new(Map::new(0, &drops));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let mem = mem.clone();
                // Each thread counts on the stripe of its own thread id.
                thread::spawn(move || {
                    let guard = mem.current();
                    drop(mem);
                    let copy = guard.clone();
                    drop(guard);
                    copy.assert_whole();
                })
            })
            .collect();
        mem.lock().unwrap().replace(Map::new(1, &drops));
        drop(mem);
        for reader in readers {
            reader.join().unwrap();
        }
        assert_eq!(drops[0].load(Ordering::SeqCst), 1);
        assert_eq!(drops[1].load(Ordering::SeqCst), 1);
    });
}
