//! Helpers shared by the profiler's integration tests.
#![allow(dead_code)]

use lockscope::{LockReport, Report};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

/// A dispatcher with only the contention layer, and its report handle.
pub fn contention_dispatch() -> (Dispatch, lockscope::ReportHandle) {
    let (layer, report) = lockscope::ContentionLayer::new();
    (Dispatch::new(tracing_subscriber::registry().with(layer)), report)
}

/// Run `f` on `threads` threads, each with `dispatch` as its default subscriber.
pub fn on_threads(dispatch: &Dispatch, threads: usize, f: impl Fn(usize) + Sync) {
    std::thread::scope(|s| {
        for i in 0..threads {
            let dispatch = dispatch.clone();
            let f = &f;
            s.spawn(move || tracing::dispatcher::with_default(&dispatch, || f(i)));
        }
    });
}

pub fn lock<'r>(report: &'r Report, name: &str) -> &'r LockReport {
    report.locks.iter().find(|l| l.name == name).unwrap_or_else(|| panic!("lock {name} in report: {report:#?}"))
}

/// Busy-wait: a hold that keeps the lock without sleeping.
pub fn spin_for(d: std::time::Duration) {
    let start = std::time::Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}
