//! Total wait against an independent clock. In its own test binary so no other test
//! competes for the 2 cores while it measures.

mod common;
use common::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[test]
fn total_wait_matches_an_independent_measurement_within_5_percent() {
    let (dispatch, report) = contention_dispatch();
    let m = lockscope::Mutex::named("wait-accuracy", ());
    let outside_ns = AtomicU64::new(0);
    on_threads(&dispatch, 4, |_| {
        for _ in 0..200 {
            let start = Instant::now();
            let guard = m.lock();
            outside_ns.fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
            // Sleeping holders make the others queue even on 2 cores.
            std::thread::sleep(Duration::from_micros(100));
            drop(guard);
            // Time outside the lock, so the others get their turn instead of this thread barging back in.
            std::thread::sleep(Duration::from_micros(20));
        }
    });
    let snapshot = report.snapshot();
    let lock = lock(&snapshot, "wait-accuracy");
    let measured = lock.wait_ns.total as f64;
    let independent = outside_ns.load(Ordering::Relaxed) as f64;
    assert!(lock.contended > 100, "the workload must contend: {} of {}", lock.contended, lock.acquisitions);
    let error = (measured - independent).abs() / independent;
    // BENCHMARKS.md records this figure (`-- --nocapture`).
    eprintln!(
        "wait total: layer {measured} ns, independent {independent} ns, {:+.3}%",
        (measured / independent - 1.0) * 100.0
    );
    assert!(error < 0.05, "layer {measured} ns vs independent {independent} ns: {:.2}% apart", error * 100.0);
    assert!(lock.wait_ns.max >= lock.wait_ns.p99 && lock.wait_ns.p99 >= lock.wait_ns.p50);
    // Hold times are sampled 1 in 64 and scaled: 800 holds of ≥100 µs each.
    assert_eq!(snapshot.hold_sampling, 64);
    assert!(lock.hold_ns.p50 >= 100_000, "{:?}", lock.hold_ns);
    assert!(lock.hold_ns.total >= 800 * 100_000, "{:?}", lock.hold_ns);
}
