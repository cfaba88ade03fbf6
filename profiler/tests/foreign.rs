//! `timed` and `timed_async` around std and tokio locks.

mod common;
use common::*;
use std::sync::Barrier;
use std::time::Duration;

#[test]
fn timed_measures_a_std_mutex() {
    let (dispatch, report) = contention_dispatch();
    let std_mutex = std::sync::Mutex::new(0u32);
    let holding = Barrier::new(2);
    on_threads(&dispatch, 2, |i| {
        if i == 0 {
            let g = lockscope::timed("std-lock", || std_mutex.lock());
            holding.wait();
            std::thread::sleep(Duration::from_millis(30));
            drop(g);
        } else {
            holding.wait();
            let g = lockscope::timed("std-lock", || std_mutex.lock());
            drop(g);
        }
    });
    let snapshot = report.snapshot();
    let lock = lock(&snapshot, "std-lock");
    assert_eq!(lock.acquisitions, 2);
    // A foreign lock is timed from outside: an uncontended acquisition counts as
    // contended only if it took over `CONTENDED_AFTER` (a descheduled thread can).
    assert!((1..=2).contains(&lock.contended), "{lock:#?}");
    assert!(lock.wait_ns.max >= 20_000_000, "{:?}", lock.wait_ns);
}

#[test]
fn timed_async_measures_a_tokio_mutex() {
    let (dispatch, report) = contention_dispatch();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().expect("runtime");
    let _guard = tracing::dispatcher::set_default(&dispatch);
    runtime.block_on(async {
        let m = std::sync::Arc::new(tokio::sync::Mutex::new(0u32));
        let held = lockscope::timed_async("tokio-lock", m.lock()).await;
        let m2 = m.clone();
        let waiter = tokio::spawn(async move {
            // Spawned tasks run on runtime threads: give them the dispatcher too.
            let _d = tracing::dispatcher::set_default(&tracing::dispatcher::get_default(|d| d.clone()));
            *lockscope::timed_async("tokio-lock", m2.lock()).await += 1;
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        drop(held);
        waiter.await.expect("task");
    });
    let snapshot = report.snapshot();
    let lock = lock(&snapshot, "tokio-lock");
    assert_eq!(lock.acquisitions, 2);
}
