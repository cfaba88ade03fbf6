//! Memory is bounded by distinct keys, not by acquisitions; layer code never deadlocks.

mod common;
use common::*;
use std::time::Duration;

#[test]
fn ten_million_acquisitions_keep_the_report_the_same_size() {
    let (dispatch, report) = contention_dispatch();
    let m = lockscope::Mutex::named("ten-million", 0u64);
    let run = |n: u64| {
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..n {
                *m.lock() += 1;
            }
        })
    };
    run(1_000_000);
    let size = |report: &lockscope::Report| serde_json::to_string(lock(report, "ten-million")).map_or(0, |s| s.len());
    let after_one = size(&report.snapshot());
    run(9_000_000);
    let snapshot = report.snapshot();
    assert_eq!(lock(&snapshot, "ten-million").acquisitions, 10_000_000);
    let after_ten = size(&snapshot);
    // Only the digits of the counters may grow.
    assert!(after_ten <= after_one + 8, "{after_one} -> {after_ten}");
}

#[test]
fn distinct_span_paths_are_capped_with_an_other_bucket() {
    let (dispatch, report) = contention_dispatch();
    let m = lockscope::Mutex::named("many-spans", ());
    let names: Vec<&'static str> = (0..200).map(|i| &*Box::leak(format!("span{i}").into_boxed_str())).collect();
    // 2 threads × many distinct nested span paths, each contending.
    on_threads(&dispatch, 2, |_| {
        for a in &names {
            for b in names.iter().take(60) {
                let span_a = tracing::trace_span!("a", name = a).entered();
                let _ = span_a;
                let _outer = tracing::span!(tracing::Level::TRACE, "outer", a).entered();
                let _inner = tracing::span!(tracing::Level::TRACE, "inner", b).entered();
                let g = m.lock();
                spin_for(Duration::from_nanos(200));
                drop(g);
            }
        }
    });
    let snapshot = report.snapshot();
    let lock = lock(&snapshot, "many-spans");
    let spans: usize = lock.sites.iter().map(|s| s.spans.len()).sum();
    assert!(spans <= lockscope::MAX_BREAKDOWN_KEYS, "{spans} span rows");
    assert_eq!(lock.acquisitions, 2 * 200 * 60);
}

#[test]
fn snapshots_and_events_while_a_lock_is_held_do_not_deadlock() {
    let (dispatch, report) = contention_dispatch();
    let m = lockscope::Mutex::named("held-while-reporting", 0u32);
    let r = lockscope::RwLock::named("held-rw", 0u32);
    on_threads(&dispatch, 3, |i| {
        for _ in 0..2_000 {
            let g = m.lock();
            let w = r.write();
            tracing::trace!(target: "lockscope", "unrelated event under the lock");
            if i == 0 {
                let snapshot = report.snapshot();
                assert!(snapshot.locks.iter().any(|l| l.name == "held-while-reporting"));
            }
            drop(w);
            drop(g);
        }
    });
    assert_eq!(lock(&report.snapshot(), "held-while-reporting").acquisitions, 6_000);
}
