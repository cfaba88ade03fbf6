//! Exact counts, wait accuracy against an independent clock, attribution.

mod common;
use common::*;
use std::sync::Barrier;
use std::time::Duration;

#[test]
fn every_acquisition_is_counted_exactly() {
    let (dispatch, report) = contention_dispatch();
    let m = lockscope::Mutex::named("exact-counts", 0u64);
    on_threads(&dispatch, 8, |i| {
        for _ in 0..100_000 {
            if i % 2 == 0 {
                *m.lock() += 1;
                let _even_line = line!();
            } else {
                *m.lock() += 1;
            }
        }
    });
    assert_eq!(*m.lock(), 800_000);
    let snapshot = report.snapshot();
    let lock = lock(&snapshot, "exact-counts");
    // 800k in the threads, one more for the check above.
    assert_eq!(lock.acquisitions, 800_001);
    assert_eq!(lock.sites.iter().map(|s| s.acquisitions).sum::<u64>(), 800_001);
    assert!(lock.contended <= lock.acquisitions);
    assert_eq!(lock.contended, lock.sites.iter().map(|s| s.contended).sum::<u64>());
    assert_eq!(lock.kind, "mutex");
}

#[test]
fn waits_are_attributed_to_the_waiting_span_and_the_holder_site() {
    let (dispatch, report) = contention_dispatch();
    let m = lockscope::Mutex::named("attribution", ());
    let holding = Barrier::new(2);
    on_threads(&dispatch, 2, |i| {
        if i == 0 {
            let guard = m.lock();
            holding.wait();
            std::thread::sleep(Duration::from_millis(50));
            drop(guard);
        } else {
            holding.wait();
            let _outer = tracing::trace_span!("process_event").entered();
            let _inner = tracing::trace_span!("lookup_file").entered();
            drop(m.lock());
        }
    });
    let snapshot = report.snapshot();
    let lock = lock(&snapshot, "attribution");
    assert_eq!(lock.sites.len(), 2, "{lock:#?}");
    let waiter = lock.sites.iter().find(|s| s.contended == 1).expect("the waiter's site");
    let holder = lock.sites.iter().find(|s| s.contended == 0).expect("the holder's site");
    assert!(waiter.wait_ns.total >= 40_000_000, "{:?}", waiter.wait_ns);
    assert_eq!(waiter.spans.len(), 1);
    assert_eq!(waiter.spans[0].path, "process_event;lookup_file");
    assert_eq!(waiter.spans[0].contended, 1);
    assert_eq!(waiter.blocked_by.len(), 1);
    assert_eq!(waiter.blocked_by[0].site, holder.site);
    assert!(holder.site.contains("counts.rs:"), "{}", holder.site);
}

#[test]
fn rwlock_read_and_write_modes_are_counted_apart() {
    let (dispatch, report) = contention_dispatch();
    let l = lockscope::RwLock::named("rw-modes", 0u64);
    on_threads(&dispatch, 4, |i| {
        for _ in 0..10_000 {
            if i == 0 {
                *l.write() += 1;
            } else {
                let _ = *l.read();
            }
        }
    });
    let snapshot = report.snapshot();
    let lock = lock(&snapshot, "rw-modes");
    assert_eq!(lock.kind, "rwlock");
    let count = |mode: &str| lock.sites.iter().filter(|s| s.mode == mode).map(|s| s.acquisitions).sum::<u64>();
    assert_eq!((count("write"), count("read")), (10_000, 30_000), "{lock:#?}");
    assert_eq!(lock.sites.len(), 2);
    assert_eq!(lock.acquisitions, 40_000);
}

#[test]
fn contended_acquisitions_emit_a_tracing_event() {
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::prelude::*;

    #[derive(Default)]
    struct Seen(Mutex<Vec<String>>);
    struct Capture(Arc<Seen>);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
        fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            struct Fields(String);
            impl tracing::field::Visit for Fields {
                fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                    self.0.push_str(&format!("{}={value:?} ", field.name()));
                }
            }
            let mut fields = Fields(format!("{} {} ", event.metadata().target(), event.metadata().level()));
            event.record(&mut fields);
            if let Ok(mut seen) = self.0 .0.lock() {
                seen.push(fields.0);
            }
        }
    }
    let seen = Arc::new(Seen::default());
    let (layer, _report) = lockscope::ContentionLayer::new();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer).with(Capture(seen.clone())));
    let m = lockscope::Mutex::named("evented", ());
    let holding = Barrier::new(2);
    on_threads(&dispatch, 2, |i| {
        if i == 0 {
            let g = m.lock();
            holding.wait();
            std::thread::sleep(Duration::from_millis(20));
            drop(g);
        } else {
            holding.wait();
            drop(m.lock());
        }
    });
    let seen = seen.0.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let event = &seen[0];
    assert!(event.starts_with("lockscope TRACE "), "{event}");
    for field in ["lock=\"evented\"", "site=profiler/tests/counts.rs:", "wait_ns="] {
        assert!(event.contains(field), "{event}");
    }
}
