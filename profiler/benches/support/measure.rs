//! What the profiler's benchmarks, its memory test and `bench-peers` share: an
//! allocator that counts bytes, the memory a kind of lock costs, and the round-robin
//! helpers. Included with `#[path]`; each user takes its own part.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

/// Bytes ever allocated, and bytes allocated and not yet freed.
pub static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
pub static LIVE: AtomicIsize = AtomicIsize::new(0);

/// The system allocator, counting. Install with
/// `#[global_allocator] static GLOBAL: measure::Counting = measure::Counting;`.
pub struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size.saturating_sub(layout.size()), Ordering::Relaxed);
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

/// (bytes per live lock, bytes left per dropped lock): `n` locks made by `make` alive
/// at once, each locked once; then `n` short-lived ones, made, locked and dropped.
pub fn per_lock<L>(n: usize, make: impl Fn() -> L, lock_once: impl Fn(&L)) -> (f64, f64) {
    let before = LIVE.load(Ordering::Relaxed);
    let locks: Vec<L> = (0..n).map(|_| make()).collect();
    locks.iter().for_each(&lock_once);
    let live = (LIVE.load(Ordering::Relaxed) - before) as f64 / n as f64;
    drop(locks);
    let before = LIVE.load(Ordering::Relaxed);
    for _ in 0..n {
        lock_once(&make());
    }
    (live, (LIVE.load(Ordering::Relaxed) - before) as f64 / n as f64)
}

/// The number after `flag` in the command line, or `default`.
pub fn arg(args: &[String], flag: &str, default: u64) -> u64 {
    args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
