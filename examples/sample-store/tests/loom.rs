//! Every interleaving of two threads upserting into the same metric, explored by loom.
//!
//! Run with `RUSTFLAGS="--cfg lockscope_loom" cargo test -p sample-store --test loom --release`
//! (CI does, in its own target folder): the store is built on loom's `Arc`, `Mutex` and
//! atomics (see `src/sync.rs`), so loom schedules every lock and atomic operation.
#![cfg(lockscope_loom)]

use sample_store::sync::{Arc, Mutex};
use sample_store::{AliasingStore, CopyingStore, DatapointStore, MetricMetadata};
use std::sync::atomic::{AtomicUsize as StdAtomic, Ordering::Relaxed};

fn metadata() -> MetricMetadata {
    MetricMetadata { name: "cpu".into(), timestamp: 7 }
}

fn samples(n: usize) -> sample_store::Samples {
    Arc::new(Mutex::new(vec![1.0; n]))
}

/// Two threads upsert 1 and 2 samples into the same key; returns the drift.
fn two_upserts<S: DatapointStore + Default + Send + 'static>() -> i64 {
    let store = Arc::new(S::default());
    let (a, b) = (store.clone(), store.clone());
    let first = loom::thread::spawn(move || a.upsert(metadata(), samples(1)));
    let second = loom::thread::spawn(move || b.upsert(metadata(), samples(2)));
    first.join().expect("first upsert");
    second.join().expect("second upsert");
    assert_eq!(store.stored_samples(), 3, "no sample may be lost");
    store.size() as i64 - store.stored_samples() as i64
}

/// Run the model over every interleaving; returns (interleavings, how many drifted).
/// Counted outside the model: loom reruns the closure once per interleaving.
fn explore<S: DatapointStore + Default + Send + 'static>() -> (usize, usize) {
    let runs = std::sync::Arc::new(AtomicCounts::default());
    let counts = runs.clone();
    loom::model(move || counts.record(two_upserts::<S>()));
    runs.totals()
}

#[test]
fn the_aliasing_store_drifts_in_some_interleaving() {
    let (interleavings, drifted) = explore::<AliasingStore>();
    println!("aliasing: {drifted} of {interleavings} interleavings drift");
    assert!(drifted > 0, "loom found no drifting interleaving in {interleavings}");
    assert!(drifted < interleavings, "some interleavings should be exact");
}

#[test]
fn the_copying_store_is_exact_in_every_interleaving() {
    let (interleavings, drifted) = explore::<CopyingStore>();
    println!("copying: {drifted} of {interleavings} interleavings drift");
    assert!(interleavings > 1 && drifted == 0);
}

/// Interleavings explored and how many drifted, kept with std atomics (outside loom).
#[derive(Default)]
struct AtomicCounts {
    interleavings: StdAtomic,
    drifted: StdAtomic,
}

impl AtomicCounts {
    fn record(&self, drift: i64) {
        self.interleavings.fetch_add(1, Relaxed);
        if drift != 0 {
            self.drifted.fetch_add(1, Relaxed);
        }
    }

    fn totals(&self) -> (usize, usize) {
        (self.interleavings.load(Relaxed), self.drifted.load(Relaxed))
    }
}
