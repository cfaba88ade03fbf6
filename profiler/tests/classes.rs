//! Locks made on one line are one row of the report, whether they are alive or
//! dropped, and memory does not grow with the number of locks made.

mod common;
use common::*;

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn instances_from_one_line_are_counted_exactly_as_one_lock() {
    let (dispatch, report) = contention_dispatch();
    let make = || lockscope::Mutex::new(0u64);
    let locks: Vec<_> = (0..4).map(|_| make()).collect();
    // Each thread hammers its own instance, and one more shared with the others, so
    // instance counters and class aggregation are both exercised.
    let shared = make();
    on_threads(&dispatch, 4, |i| {
        for _ in 0..50_000 {
            *locks[i].lock() += 1;
            *shared.lock() += 1;
        }
    });
    // Dropped instances keep counting in the report.
    drop(locks);
    let snapshot = report.snapshot();
    let rows: Vec<_> = snapshot.locks.iter().filter(|l| l.name.contains("classes.rs:")).collect();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = rows[0];
    assert_eq!(row.acquisitions, 8 * 50_000);
    assert_eq!(row.sites.iter().map(|s| s.acquisitions).sum::<u64>(), 8 * 50_000);
    assert_eq!(row.name, row.created_at);
    assert_eq!(*shared.lock(), 4 * 50_000);
}

#[test]
fn short_lived_locks_keep_memory_flat() {
    let (dispatch, report) = contention_dispatch();
    let churn = |n: u64| {
        tracing::dispatcher::with_default(&dispatch, || {
            for i in 0..n {
                let m = lockscope::Mutex::named("per-request", i);
                *m.lock() += 1;
                let r = lockscope::RwLock::named("per-request-rw", i);
                drop(r.read());
                drop(r.write());
            }
        })
    };
    churn(20_000);
    let before = rss_bytes();
    churn(200_000);
    let after = rss_bytes();
    let snapshot = report.snapshot();
    assert_eq!(lock(&snapshot, "per-request").acquisitions, 220_000);
    let rw = lock(&snapshot, "per-request-rw");
    let by_mode = |mode: &str| rw.sites.iter().filter(|s| s.mode == mode).map(|s| s.acquisitions).sum::<u64>();
    assert_eq!((by_mode("read"), by_mode("write")), (220_000, 220_000));
    // Kept per lock, the ~330-byte counters of 400,000 locks would be 130 MB.
    if let (Some(before), Some(after)) = (before, after) {
        assert!(after < before + 32 * 1024 * 1024, "RSS {before} -> {after}");
    }
}

#[test]
fn only_lockscope_wait_events_are_read() {
    let (dispatch, report) = contention_dispatch();
    let m = lockscope::Mutex::named("spoofed", ());
    tracing::dispatcher::with_default(&dispatch, || {
        drop(m.lock());
        let lock_id = 1u64;
        // Same target and field names as the real event, with a site address that
        // points nowhere: it must be ignored, not dereferenced.
        tracing::trace!(target: "lockscope", lock = "spoofed", lock_id, site_ptr = 8u64, wait_ns = 5u64, mode = 0u64);
    });
    let snapshot = report.snapshot();
    assert!(snapshot.locks.iter().all(|l| l.contended == 0), "{snapshot:#?}");
}
