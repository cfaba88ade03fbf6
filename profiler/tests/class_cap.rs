//! Lock classes beyond `MAX_LOCK_CLASSES` are reported together as `other`.
//! (Alone in its binary: the cap is process-wide.)

mod common;
use common::*;

#[test]
fn lock_classes_are_capped_with_an_other_row() {
    let (dispatch, report) = contention_dispatch();
    let extra = 100;
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..lockscope::MAX_LOCK_CLASSES + extra {
            let name: &'static str = Box::leak(format!("class-{i}").into_boxed_str());
            drop(lockscope::Mutex::named(name, ()).lock());
        }
    });
    let snapshot = report.snapshot();
    assert_eq!(snapshot.locks.len(), lockscope::MAX_LOCK_CLASSES + 1);
    let other = lock(&snapshot, "other");
    assert_eq!((other.acquisitions, other.created_at.as_str()), (extra as u64, "other"));
    assert_eq!(
        snapshot.locks.iter().map(|l| l.acquisitions).sum::<u64>(),
        (lockscope::MAX_LOCK_CLASSES + extra) as u64
    );
}
