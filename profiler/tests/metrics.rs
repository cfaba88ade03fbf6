//! The `metrics` feature: what `publish_metrics` records equals the report, exactly.
#![cfg(feature = "metrics")]

mod common;
use common::*;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

#[test]
fn published_metrics_equal_the_report_and_the_histogram_holds_each_wait() {
    let (dispatch, report) = contention_dispatch();
    let m = lockscope::Mutex::named("metrics-published", 0u64);
    // Thread 0 holds the lock while the others ask for it: they wait, every run.
    let holding = std::sync::Barrier::new(4);
    on_threads(&dispatch, 4, |i| {
        if i == 0 {
            let guard = m.lock();
            holding.wait();
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(guard);
        } else {
            holding.wait();
        }
        for _ in 0..2_000 {
            *m.lock() += 1;
        }
    });
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        lockscope::metrics::describe();
        report.publish_metrics();
        // A second publication adds no waits twice.
        report.publish_metrics();
    });
    let snapshot = report.snapshot();
    let lock = lock(&snapshot, "metrics-published");
    let mut acquisitions = 0;
    let mut contended = 0;
    let mut waited = 0.0;
    let mut waits = 0;
    for (key, _, _, value) in snapshot_values(&snapshotter) {
        let labels: Vec<(String, String)> =
            key.key().labels().map(|l| (l.key().to_string(), l.value().to_string())).collect();
        if !labels.iter().any(|(k, v)| k == "lock" && v == "metrics-published") {
            continue;
        }
        match (key.key().name(), value) {
            ("lockscope_lock_acquisitions_total", DebugValue::Counter(n)) => acquisitions += n,
            ("lockscope_lock_contended_total", DebugValue::Counter(n)) => contended += n,
            ("lockscope_lock_wait_seconds_total", DebugValue::Gauge(s)) => waited += s.into_inner(),
            ("lockscope_lock_wait_seconds", DebugValue::Histogram(samples)) => waits += samples.len() as u64,
            _ => {}
        }
    }
    assert_eq!(acquisitions, lock.acquisitions);
    assert_eq!(contended, lock.contended);
    assert!(lock.contended > 0, "four threads on one mutex wait");
    assert_eq!(waits, lock.contended, "one histogram sample per wait");
    let expected = lock.wait_ns.total as f64 / 1e9;
    assert!((waited - expected).abs() <= expected * 1e-9 + 1e-12, "{waited} s against {expected} s");
}

fn snapshot_values(
    snapshotter: &metrics_util::debugging::Snapshotter,
) -> Vec<(metrics_util::CompositeKey, Option<metrics::Unit>, Option<metrics::SharedString>, DebugValue)> {
    snapshotter.snapshot().into_vec()
}
