//! What a live lock costs in memory: its own size, and nothing the profiler allocates
//! for it. Counted by a global allocator of this test binary (an independent count).

#[path = "../benches/support/measure.rs"]
mod measure;

use measure::ALLOCATED;
use std::sync::atomic::Ordering;
use tracing_subscriber::prelude::*;

#[global_allocator]
static GLOBAL: measure::Counting = measure::Counting;

#[test]
fn a_live_lock_is_its_size_and_nothing_more() {
    assert!(std::mem::size_of::<lockscope::Mutex<u64>>() <= 64);
    assert!(std::mem::size_of::<lockscope::RwLock<u64>>() <= 64);
    let (layer, report) = lockscope::ContentionLayer::new();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let mutexes: Vec<lockscope::Mutex<u64>> =
            (0..10_000).map(|_| lockscope::Mutex::named("per-entry", 0)).collect();
        let rwlocks: Vec<lockscope::RwLock<u64>> =
            (0..10_000).map(|_| lockscope::RwLock::named("per-shard", 0)).collect();
        // The first acquisitions make the classes and this thread's counters.
        *mutexes[0].lock() += 1;
        let _ = *rwlocks[0].read();
        *rwlocks[0].write() += 1;
        let before = ALLOCATED.load(Ordering::Relaxed);
        for m in &mutexes[1..] {
            *m.lock() += 1;
        }
        for l in &rwlocks[1..] {
            let _ = *l.read();
            *l.write() += 1;
        }
        assert_eq!(ALLOCATED.load(Ordering::Relaxed) - before, 0, "bytes allocated for 19,998 more locks");
    });
    let snapshot = report.snapshot();
    let count = |name: &str| snapshot.locks.iter().find(|l| l.name == name).map(|l| l.acquisitions);
    assert_eq!((count("per-entry"), count("per-shard")), (Some(10_000), Some(20_000)));
}
