//! `cargo bench -p lockscope --bench memory`: bytes per lock, counted by this
//! program's allocator: the lock's size plus what the profiler allocates for it, for N
//! locks alive at once and each locked once, and what N short-lived locks (made,
//! locked, dropped) leave behind. A layer observes throughout.
//!
//! Options: `--locks N` (default 100,000).

#[path = "support/measure.rs"]
mod measure;

use measure::per_lock;
use tracing_subscriber::prelude::*;

#[global_allocator]
static GLOBAL: measure::Counting = measure::Counting;

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
    let n = measure::arg(&args, "--locks", 100_000) as usize;
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
