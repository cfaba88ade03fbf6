//! Adapters for locks you cannot replace (std, tokio, a dependency's).

use crate::stats::{LockKind, LockStats, Mode, Observing};
use crate::wait_event;
use std::collections::HashMap;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A foreign lock's acquisition is only timed from outside, so a wait is counted as
/// contended when it took longer than an uncontended acquisition plausibly can.
pub const CONTENDED_AFTER: Duration = Duration::from_micros(1);

static FOREIGN: parking_lot::Mutex<Option<HashMap<&'static str, Arc<LockStats>>>> = parking_lot::Mutex::new(None);

thread_local! {
    // Saves the global map's lock on every acquisition.
    static CACHE: std::cell::RefCell<HashMap<&'static str, Arc<LockStats>>> = std::cell::RefCell::new(HashMap::new());
}

fn foreign_stats(name: &'static str, site: &'static Location<'static>) -> Arc<LockStats> {
    CACHE.with(|cache| {
        cache
            .borrow_mut()
            .entry(name)
            .or_insert_with(|| {
                FOREIGN
                    .lock()
                    .get_or_insert_with(HashMap::new)
                    .entry(name)
                    .or_insert_with(|| LockStats::register(Some(name), LockKind::Mutex, site))
                    .clone()
            })
            .clone()
    })
}

fn record(name: &'static str, site: &'static Location<'static>, waited: Duration) {
    let stats = foreign_stats(name, site);
    let holder = stats.holder_site();
    stats.count_shared(site, Mode::Lock);
    if waited >= CONTENDED_AFTER {
        wait_event::emit(&stats, site, Mode::Lock, holder, u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX));
    }
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
