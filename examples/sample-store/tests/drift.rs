//! The size counter against the samples actually stored.
#![cfg(not(lockscope_loom))] // loom's types panic outside a loom model

use sample_store::{run, AliasingStore, CopyingStore, DatapointStore, MetricMetadata, Samples};
use std::sync::Arc;

fn samples(values: &[f32]) -> Samples {
    Arc::new(lockscope::Mutex::new(values.to_vec()))
}

#[test]
fn the_copying_store_counts_exactly_under_contention() {
    for _ in 0..20 {
        let store = CopyingStore::default();
        run(&store, 4, 4, 200);
        assert_eq!(store.size(), store.stored_samples());
        // What `run` inserts, counted independently: batch lengths are 1 + (t + m + b) % 8.
        let expected: usize =
            (0..4).flat_map(|t| (0..4).flat_map(move |m| (0..200).map(move |b| 1 + (t + m + b) % 8))).sum();
        assert_eq!(store.stored_samples(), expected, "every batch is stored once");
    }
}

#[test]
fn the_bug_is_the_callers_buffer_becoming_the_backing_store() {
    // Single-threaded, the interleaving of the incident by hand: the first caller's
    // buffer is stored as is, a second upsert appends to it, and the first caller's
    // handle now sees both batches.
    let store = AliasingStore::default();
    let key = MetricMetadata { name: "cpu".into(), timestamp: 1 };
    let first = samples(&[1.0, 2.0]);
    store.upsert(key.clone(), first.clone());
    store.upsert(key.clone(), samples(&[3.0]));
    assert_eq!(first.lock().len(), 3, "the caller's buffer was aliased by the store");

    let store = CopyingStore::default();
    let first = samples(&[1.0, 2.0]);
    store.upsert(key.clone(), first.clone());
    store.upsert(key.clone(), samples(&[3.0]));
    assert_eq!(first.lock().len(), 2, "a fresh copy was stored");
    let drained = store.drain(1);
    assert_eq!(drained, [(key, vec![1.0, 2.0, 3.0])]);
    assert_eq!(store.stored_samples(), 0);
}
