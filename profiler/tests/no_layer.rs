//! Without a `ContentionLayer`, the wrappers are plain `parking_lot` locks.

#[test]
fn without_a_layer_nothing_is_recorded_and_locks_still_work() {
    let m = lockscope::Mutex::named("unobserved", 0);
    let l = lockscope::RwLock::named("unobserved-rw", 0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..1000 {
                    *m.lock() += 1;
                    *l.write() += 1;
                    let _ = *l.read();
                }
            });
        }
    });
    assert_eq!(*m.lock(), 4000);
    assert_eq!(lockscope::timed("unobserved-std", || 7), 7);
    // A layer created afterwards sees only what happens from then on.
    let (_layer, report) = lockscope::ContentionLayer::new();
    let snapshot = report.snapshot();
    assert!(snapshot.locks.iter().all(|lock| !lock.name.starts_with("unobserved")), "{snapshot:#?}");
    *m.lock() += 1;
    assert_eq!(report.snapshot().locks.iter().find(|l| l.name == "unobserved").map(|l| l.acquisitions), Some(1));
}
