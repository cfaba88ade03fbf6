//! `cargo bench -p lockscope --bench memory`: bytes per lock, counted by this
//! program's allocator: the lock's size plus what the profiler allocates for it, for N
//! locks alive at once and each locked once, and what N short-lived locks (made,
//! locked, dropped) leave behind. A layer observes throughout.
//!
//! Options: `--locks N` (default 100,000).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use tracing_subscriber::prelude::*;

/// Bytes allocated and not yet freed.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// (bytes per live lock, bytes left per dropped lock) for `n` locks.
fn per_lock<L>(n: usize, make: impl Fn() -> L, lock_once: impl Fn(&L)) -> (f64, f64) {
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

fn read_then_write_pl(l: &parking_lot::RwLock<u64>) {
    let value = *l.read();
    *l.write() += value;
}

fn read_then_write_ls(l: &lockscope::RwLock<u64>) {
    let value = *l.read();
    *l.write() += value;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = args
        .iter()
        .position(|a| a == "--locks")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (layer, report) = lockscope::ContentionLayer::new();
    let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let rows = [
        ("parking_lot::Mutex<u64>", per_lock(n, || parking_lot::Mutex::new(0u64), |l| *l.lock() += 1)),
        ("lockscope::Mutex<u64>", per_lock(n, || lockscope::Mutex::new(0u64), |l| *l.lock() += 1)),
        ("parking_lot::RwLock<u64>", per_lock(n, || parking_lot::RwLock::new(0u64), read_then_write_pl)),
        ("lockscope::RwLock<u64>", per_lock(n, || lockscope::RwLock::new(0u64), read_then_write_ls)),
    ];
    println!("{n} locks, each locked once, a layer observing");
    println!("{:<26} {:>20} {:>28}", "", "bytes per live lock", "bytes left per dropped lock");
    for (name, (live, left)) in rows {
        println!("{name:<26} {live:>20.1} {left:>28.1}");
    }
    let counted: u64 = report.snapshot().locks.iter().map(|l| l.acquisitions).sum();
    println!("acquisitions counted: {counted} (expected {})", n as u64 * 6);
}
