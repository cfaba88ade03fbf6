//! An in-memory store of metric samples keyed by metric metadata (name, timestamp), with
//! a per-timestamp access broker and an approximate size counter, as in the incident.
//!
//! [`AliasingStore`] reproduces the bug: on the first insert of a key it publishes the
//! caller's own buffer as the shared backing store, releases its permit, and only then
//! adds the length of *that buffer* to the size counter. Meanwhile other threads have
//! appended their samples to the same buffer, so the counter over-counts, sometimes.
//! [`CopyingStore`] publishes a fresh copy and counts what it inserted.

pub mod sync;

use std::collections::HashMap;
use sync::{Arc, AtomicUsize, Mutex, Ordering};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MetricMetadata {
    pub name: String,
    pub timestamp: u64,
}

/// A buffer of samples that callers and the store can share.
pub type Samples = Arc<Mutex<Vec<f32>>>;

/// One thread at a time may change the data of a timestamp.
#[derive(Default)]
pub struct AccessBroker {
    permits: Mutex<HashMap<u64, Arc<Mutex<()>>>>,
}

impl AccessBroker {
    /// Run `f` holding the permit of `timestamp`.
    pub fn with_permit<R>(&self, timestamp: u64, f: impl FnOnce() -> R) -> R {
        let permit = self.permits.lock().entry(timestamp).or_default().clone();
        let _held = permit.lock();
        f()
    }

    /// Forget a timestamp's permit once its data is drained.
    pub fn retire(&self, timestamp: u64) {
        self.permits.lock().remove(&timestamp);
    }
}

pub trait DatapointStore: Sync {
    /// Add `samples` to the metric. `samples` must not be empty.
    fn upsert(&self, metadata: MetricMetadata, samples: Samples);

    /// The map, broker and counter every store keeps.
    fn state(&self) -> &StoreState;

    /// Remove and return every metric of `timestamp` with its samples.
    fn drain(&self, timestamp: u64) -> Vec<(MetricMetadata, Vec<f32>)> {
        let state = self.state();
        let drained = state.broker.with_permit(timestamp, || {
            let mut map = state.samples.lock();
            let keys: Vec<_> = map.keys().filter(|k| k.timestamp == timestamp).cloned().collect();
            keys.into_iter()
                .filter_map(|k| map.remove(&k).map(|s| (k, std::mem::take(&mut *s.lock()))))
                .collect::<Vec<_>>()
        });
        state.broker.retire(timestamp);
        drained
    }

    /// The approximate size counter.
    fn size(&self) -> usize {
        self.state().size.load(Ordering::Relaxed)
    }

    /// Samples actually stored.
    fn stored_samples(&self) -> usize {
        self.state().samples.lock().values().map(|s| s.lock().len()).sum()
    }
}

#[derive(Default)]
pub struct StoreState {
    broker: AccessBroker,
    samples: Mutex<HashMap<MetricMetadata, Samples>>,
    size: AtomicUsize,
}

/// The bug: the caller's buffer becomes the backing store, and is read after sharing.
#[derive(Default)]
pub struct AliasingStore(StoreState);

impl DatapointStore for AliasingStore {
    fn upsert(&self, metadata: MetricMetadata, samples: Samples) {
        let store = &self.0;
        store.broker.with_permit(metadata.timestamp, || {
            let current = store.samples.lock().entry(metadata).or_insert_with(|| samples.clone()).clone();
            if !Arc::ptr_eq(&current, &samples) {
                current.lock().extend_from_slice(&samples.lock());
            }
        });
        // Read after the permit is released: if `samples` became the backing store, other
        // threads may have appended to it by now.
        store.size.fetch_add(samples.lock().len(), Ordering::Relaxed);
    }

    fn state(&self) -> &StoreState {
        &self.0
    }
}

/// The fix: publish a fresh copy, and count what this call inserted.
#[derive(Default)]
pub struct CopyingStore(StoreState);

impl DatapointStore for CopyingStore {
    fn upsert(&self, metadata: MetricMetadata, samples: Samples) {
        let store = &self.0;
        let batch = samples.lock().clone();
        let inserted = batch.len();
        store.broker.with_permit(metadata.timestamp, || {
            let mut map = store.samples.lock();
            match map.get(&metadata) {
                Some(current) => current.lock().extend_from_slice(&batch),
                None => {
                    map.insert(metadata, Arc::new(Mutex::new(batch)));
                }
            }
        });
        store.size.fetch_add(inserted, Ordering::Relaxed);
    }

    fn state(&self) -> &StoreState {
        &self.0
    }
}

/// `threads` threads each upsert `batches` batches into `metrics` metrics; the batch
/// index is the timestamp, so every batch round starts new keys (first inserts race).
pub fn run(store: &dyn DatapointStore, threads: usize, metrics: usize, batches: usize) {
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                for b in 0..batches {
                    for m in 0..metrics {
                        let metadata = MetricMetadata { name: format!("metric-{m}"), timestamp: b as u64 };
                        let batch = vec![t as f32; 1 + (t + m + b) % 8];
                        store.upsert(metadata, Arc::new(Mutex::new(batch)));
                    }
                }
            });
        }
    });
}
