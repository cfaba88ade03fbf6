//! Acquisition counts, kept per thread and summed when a report is made.
//!
//! A count's key is its lock class, acquire site and mode in one word. Each thread
//! counts in a table of its own that only it writes, so counting is a load and a store
//! (no read-modify-write, no cache line shared with other threads), and a lock owns no
//! counters at all: a program's counters grow with its classes, sites and threads,
//! never with its live locks. A report sums every live thread's table and what exited
//! threads left behind, under the registry's lock.

use crate::stats::Mode;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::panic::Location;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Class id (bits 48 and up), site address (below) and mode (the low 2 bits, free in a
/// pointer-aligned `Location`'s address). Never 0: class ids start at 1.
pub(crate) type Key = u64;

/// Where a class id sits in a [`Key`].
pub(crate) const CLASS_SHIFT: u32 = 48;

/// The key of one (class, site, mode), where the site's address leaves room for the
/// class id (user-space addresses are below 2^48 on the 64-bit targets we know).
#[inline(always)]
pub(crate) fn key(class_bits: u64, site: &'static Location<'static>, mode: Mode) -> Option<Key> {
    let address = site as *const Location<'static> as u64;
    (address >> CLASS_SHIFT == 0).then_some(class_bits | address | mode as u64)
}

/// The parts of a key: class id, site, mode.
pub(crate) fn parts(key: Key) -> (u64, usize, Mode) {
    (key >> CLASS_SHIFT, (key & ((1 << CLASS_SHIFT) - 1) & !3) as usize, Mode::from_code(key & 3))
}

/// Count one acquisition of `key` on this thread; the count before it, for sampling.
#[inline(always)]
pub(crate) fn count(key: Key) -> u64 {
    LOCAL
        .try_with(|local| {
            let table = local.table.get();
            if !table.is_null() {
                // SAFETY: this thread's table, which only this thread replaces or frees.
                let table = unsafe { &*table };
                let slot = table.home(key);
                if slot.key.load(Ordering::Relaxed) == key {
                    let n = slot.count.load(Ordering::Relaxed);
                    slot.count.store(n + 1, Ordering::Relaxed);
                    return n;
                }
            }
            local.count_slow(key)
        })
        // The thread is exiting and its table is gone (a lock taken in another
        // thread-local's destructor): count in the registry.
        .unwrap_or_else(|_| count_in_registry(key))
}

/// Every count so far: live threads' and exited threads'.
pub(crate) fn totals() -> HashMap<Key, u64> {
    let registry = REGISTRY.lock();
    let mut totals: HashMap<Key, u64> = registry.retired.iter().map(|(&k, &n)| (k, n)).collect();
    for thread in &registry.threads {
        // SAFETY: tables are replaced and freed only under the registry's lock.
        let table = unsafe { &*thread.table.load(Ordering::Acquire) };
        for (key, count) in table.counts() {
            *totals.entry(key).or_default() += count;
        }
    }
    totals
}

/// Counted with the registry's lock held: keys that do not fit a table, and threads
/// whose table is gone. Exact, and rare.
#[cold]
fn count_in_registry(key: Key) -> u64 {
    let mut registry = REGISTRY.lock();
    let count = registry.retired.entry(key).or_default();
    *count += 1;
    *count - 1
}

/// A key that does not fit a [`Key`] (a site address above 2^48) is counted under
/// this class-and-mode-only key, in the registry.
#[cold]
pub(crate) fn count_unkeyed(class_bits: u64, mode: Mode) -> u64 {
    count_in_registry(class_bits | mode as u64)
}

struct Slot {
    key: AtomicU64,
    count: AtomicU64,
}

/// Open addressing, linear probing; at most half full.
struct Table {
    mask: usize,
    slots: Box<[Slot]>,
    /// Slots taken; written by the owning thread only.
    used: AtomicUsize,
}

const FIRST_CAPACITY: usize = 64;

impl Table {
    fn with_capacity(capacity: usize) -> Table {
        let slots = (0..capacity).map(|_| Slot { key: AtomicU64::new(0), count: AtomicU64::new(0) }).collect();
        Table { mask: capacity - 1, slots, used: AtomicUsize::new(0) }
    }

    #[inline(always)]
    fn index(&self, key: Key) -> usize {
        // Fibonacci hashing: the site bits and the class bits both reach the top.
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & self.mask
    }

    #[inline(always)]
    fn home(&self, key: Key) -> &Slot {
        let index = self.index(key);
        // SAFETY: `index` is masked to the table's power-of-two length.
        unsafe { self.slots.get_unchecked(index) }
    }

    /// The slot of `key`, or the free slot where it goes.
    fn find(&self, key: Key) -> &Slot {
        let mut index = self.index(key);
        loop {
            let slot = &self.slots[index];
            let current = slot.key.load(Ordering::Relaxed);
            if current == key || current == 0 {
                return slot;
            }
            index = (index + 1) & self.mask;
        }
    }

    fn counts(&self) -> impl Iterator<Item = (Key, u64)> + '_ {
        self.slots.iter().filter_map(|slot| {
            let key = slot.key.load(Ordering::Acquire);
            (key != 0).then(|| (key, slot.count.load(Ordering::Relaxed)))
        })
    }
}

/// A thread's table, as the registry sees it.
struct ThreadCounts {
    table: AtomicPtr<Table>,
}

impl Drop for ThreadCounts {
    fn drop(&mut self) {
        let table = *self.table.get_mut();
        // SAFETY: made by `Box::into_raw`, freed only here or when replaced.
        drop(unsafe { Box::from_raw(table) });
    }
}

struct Registry {
    threads: Vec<Arc<ThreadCounts>>,
    /// Counts of exited threads, and of keys counted here.
    retired: BTreeMap<Key, u64>,
}

static REGISTRY: parking_lot::Mutex<Registry> =
    parking_lot::Mutex::new(Registry { threads: Vec::new(), retired: BTreeMap::new() });

/// This thread's table: a plain pointer read on the fast path, and the registry's
/// handle to it, folded into the registry when the thread exits.
struct Local {
    table: Cell<*const Table>,
    counts: Cell<Option<Arc<ThreadCounts>>>,
}

thread_local! {
    static LOCAL: Local = const { Local { table: Cell::new(ptr::null()), counts: Cell::new(None) } };
}

impl Local {
    /// First count of this key on this thread, a collision, or the thread's first count.
    #[cold]
    #[inline(never)]
    fn count_slow(&self, key: Key) -> u64 {
        let counts = match self.counts.take() {
            Some(counts) => counts,
            None => {
                let counts = Arc::new(ThreadCounts {
                    table: AtomicPtr::new(Box::into_raw(Box::new(Table::with_capacity(FIRST_CAPACITY)))),
                });
                REGISTRY.lock().threads.push(counts.clone());
                counts
            }
        };
        // SAFETY: this thread's table; only this thread replaces it.
        let mut table = unsafe { &*counts.table.load(Ordering::Relaxed) };
        let mut slot = table.find(key);
        if slot.key.load(Ordering::Relaxed) == 0 {
            let used = table.used.load(Ordering::Relaxed) + 1;
            if used * 2 > table.slots.len() {
                table = grow(&counts);
                slot = table.find(key);
            }
            // The count first, then the key a report looks for.
            slot.count.store(0, Ordering::Relaxed);
            slot.key.store(key, Ordering::Release);
            table.used.fetch_add(1, Ordering::Relaxed);
        }
        let n = slot.count.load(Ordering::Relaxed);
        slot.count.store(n + 1, Ordering::Relaxed);
        self.table.set(table);
        self.counts.set(Some(counts));
        n
    }
}

/// Double a thread's table, under the registry's lock so no report reads it meanwhile.
fn grow(counts: &ThreadCounts) -> &Table {
    let _registry = REGISTRY.lock();
    let old = counts.table.load(Ordering::Relaxed);
    // SAFETY: this thread's table, not freed while the registry's lock is held.
    let old_table = unsafe { &*old };
    let new = Table::with_capacity(old_table.slots.len() * 2);
    for (key, count) in old_table.counts() {
        let slot = new.find(key);
        slot.count.store(count, Ordering::Relaxed);
        slot.key.store(key, Ordering::Relaxed);
    }
    new.used.store(old_table.used.load(Ordering::Relaxed), Ordering::Relaxed);
    counts.table.store(Box::into_raw(Box::new(new)), Ordering::Release);
    // SAFETY: made by `Box::into_raw`; nobody else reads it without the registry's lock.
    drop(unsafe { Box::from_raw(old) });
    // SAFETY: just stored, replaced only by this thread.
    unsafe { &*counts.table.load(Ordering::Relaxed) }
}

impl Drop for Local {
    fn drop(&mut self) {
        let Some(counts) = self.counts.take() else { return };
        let mut registry = REGISTRY.lock();
        // SAFETY: this thread's table, read under the registry's lock.
        let table = unsafe { &*counts.table.load(Ordering::Relaxed) };
        let folded: Vec<(Key, u64)> = table.counts().collect();
        for (key, count) in folded {
            *registry.retired.entry(key).or_default() += count;
        }
        registry.threads.retain(|t| !Arc::ptr_eq(t, &counts));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let site = Location::caller();
        let key = key(7 << CLASS_SHIFT, site, Mode::Write).expect("fits");
        let (class, address, mode) = parts(key);
        assert_eq!((class, address, mode), (7, site as *const Location<'static> as usize, Mode::Write));
    }

    #[test]
    fn tables_grow_and_keep_every_count() {
        let sites: Vec<&'static Location<'static>> =
            (0..200).map(|_| &*Box::leak(Box::new(*Location::caller()))).collect();
        let class = 4093u64 << CLASS_SHIFT;
        let counted = std::thread::spawn(move || {
            for (i, site) in sites.iter().enumerate() {
                for _ in 0..=i {
                    count(key(class, site, Mode::Read).expect("fits"));
                }
            }
            sites
        })
        .join()
        .expect("counting thread");
        let totals = totals();
        for (i, site) in counted.iter().enumerate() {
            assert_eq!(totals.get(&key(class, site, Mode::Read).expect("fits")), Some(&(i as u64 + 1)));
        }
    }
}
