//! Adapters for locks you cannot replace (std, tokio, a dependency's).

use crate::acquire::LockMeta;
use crate::stats::Observing;
use std::collections::HashMap;
use std::future::Future;
use std::panic::Location;
use std::time::{Duration, Instant};

/// A foreign lock's acquisition is only timed from outside, so a wait is counted as
/// contended when it took longer than an uncontended acquisition plausibly can.
pub const CONTENDED_AFTER: Duration = Duration::from_micros(1);

/// One identity per name, made on first use and kept for the program's life (names
/// are `&'static str`: a program has a fixed set of them).
static FOREIGN: parking_lot::Mutex<Option<HashMap<&'static str, &'static LockMeta>>> = parking_lot::Mutex::new(None);

thread_local! {
    // Saves the global map's lock on every acquisition.
    static CACHE: std::cell::RefCell<HashMap<&'static str, &'static LockMeta>> = std::cell::RefCell::new(HashMap::new());
}

fn foreign_meta(name: &'static str, site: &'static Location<'static>) -> &'static LockMeta {
    let shared = || {
        *FOREIGN
            .lock()
            .get_or_insert_with(HashMap::new)
            .entry(name)
            .or_insert_with(|| Box::leak(Box::new(LockMeta::new(Some(name), site))))
    };
    // A thread being torn down has no cache left: go to the shared map.
    CACHE.try_with(|cache| *cache.borrow_mut().entry(name).or_insert_with(shared)).unwrap_or_else(|_| shared())
}

fn record(name: &'static str, site: &'static Location<'static>, waited: Duration) {
    let waited_ns = (waited >= CONTENDED_AFTER).then(|| u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX));
    foreign_meta(name, site).timed_from_outside(site, waited_ns);
}

/// Time the acquisition of any lock, under `name`:
///
/// ```
/// let std_mutex = std::sync::Mutex::new(0);
/// let mut guard = lockscope::timed("std-lock", || std_mutex.lock().unwrap());
/// *guard += 1;
/// ```
#[track_caller]
pub fn timed<G>(name: &'static str, acquire: impl FnOnce() -> G) -> G {
    if Observing::now().is_none() {
        return acquire();
    }
    let site = Location::caller();
    let start = Instant::now();
    let guard = acquire();
    record(name, site, start.elapsed());
    guard
}

/// Time an async acquisition, under `name`:
///
/// ```
/// # async fn demo() {
/// let tokio_mutex = tokio::sync::Mutex::new(0);
/// let mut guard = lockscope::timed_async("tokio-lock", tokio_mutex.lock()).await;
/// *guard += 1;
/// # }
/// ```
#[track_caller]
pub fn timed_async<F: Future>(name: &'static str, acquire: F) -> impl Future<Output = F::Output> {
    let site = Location::caller();
    async move {
        if Observing::now().is_none() {
            return acquire.await;
        }
        let start = Instant::now();
        let guard = acquire.await;
        record(name, site, start.elapsed());
        guard
    }
}
