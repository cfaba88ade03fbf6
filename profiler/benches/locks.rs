//! `cargo bench -p lockscope`: the cost of lockscope's wrappers over parking_lot.
//!
//! Every lock is boxed: on the stack, where a lock lands next to the benchmark's own
//! locals swung single-lock timings by 2x between runs of unchanged code.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::{Duration, Instant};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

fn with_layer() -> (Dispatch, lockscope::ReportHandle) {
    let (layer, report) = lockscope::ContentionLayer::new();
    (Dispatch::new(tracing_subscriber::registry().with(layer)), report)
}

fn uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("uncontended lock+unlock");
    let pl = Box::new(parking_lot::Mutex::new(0u64));
    group.bench_function("parking_lot::Mutex", |b| b.iter(|| *black_box(&pl).lock() += 1));
    let std = Box::new(std::sync::Mutex::new(0u64));
    group.bench_function("std::sync::Mutex", |b| {
        b.iter(|| *black_box(&std).lock().unwrap_or_else(|e| e.into_inner()) += 1)
    });
    let ls = Box::new(lockscope::Mutex::new(0u64));
    group.bench_function("lockscope::Mutex (no layer)", |b| b.iter(|| *black_box(&ls).lock() += 1));
    // One closure for every rate, so the rates compare the same machine code.
    let default = lockscope::ContentionLayer::DEFAULT_HOLD_SAMPLING;
    for (label, rate) in [("with layer", default), ("with layer, holds 1/1024", 1024)] {
        let (layer, _report) = lockscope::ContentionLayer::new();
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer.hold_sampling(rate)));
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(format!("lockscope::Mutex ({label})"), |b| b.iter(|| *black_box(&ls).lock() += 1));
        });
    }
    // Back to the default rate for the benchmarks below.
    drop(lockscope::ContentionLayer::new().0.hold_sampling(default));
    group.finish();

    let mut group = c.benchmark_group("uncontended RwLock read");
    let pl = Box::new(parking_lot::RwLock::new(0u64));
    group.bench_function("parking_lot::RwLock", |b| b.iter(|| *black_box(&pl).read()));
    let ls = Box::new(lockscope::RwLock::new(0u64));
    group.bench_function("lockscope::RwLock (no layer)", |b| b.iter(|| *black_box(&ls).read()));
    let (dispatch, _report) = with_layer();
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("lockscope::RwLock (with layer)", |b| b.iter(|| *black_box(&ls).read()));
    });
    group.finish();
}

/// `threads` threads each take the lock `per_thread` times; returns the wall time.
fn hammer<L: Sync>(
    threads: usize,
    per_thread: u64,
    lock: &L,
    dispatch: Option<&Dispatch>,
    take: impl Fn(&L) + Sync,
) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let take = &take;
            s.spawn(move || {
                let run = || (0..per_thread).for_each(|_| take(lock));
                match dispatch {
                    Some(d) => tracing::dispatcher::with_default(d, run),
                    None => run(),
                }
            });
        }
    });
    start.elapsed()
}

fn contended(c: &mut Criterion) {
    const PER_THREAD: u64 = 20_000;
    let mut group = c.benchmark_group("contended throughput");
    group.sample_size(10);
    for threads in [2usize, 4] {
        group.throughput(Throughput::Elements(threads as u64 * PER_THREAD));
        let pl = parking_lot::Mutex::new(0u64);
        group.bench_with_input(BenchmarkId::new("parking_lot::Mutex", threads), &threads, |b, &t| {
            b.iter_custom(|iters| (0..iters).map(|_| hammer(t, PER_THREAD, &pl, None, |l| *l.lock() += 1)).sum())
        });
        let ls = lockscope::Mutex::new(0u64);
        let (dispatch, _report) = with_layer();
        group.bench_with_input(BenchmarkId::new("lockscope::Mutex (with layer)", threads), &threads, |b, &t| {
            b.iter_custom(|iters| {
                (0..iters).map(|_| hammer(t, PER_THREAD, &ls, Some(&dispatch), |l| *l.lock() += 1)).sum()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, uncontended, contended);
criterion_main!(benches);
