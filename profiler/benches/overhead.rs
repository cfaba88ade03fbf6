//! `cargo bench -p lockscope --bench overhead`: the uncontended cost of lockscope's
//! wrappers over parking_lot, measured round-robin.
//!
//! Criterion (`--bench locks`) measures one case after another, and on a shared
//! machine the speed drifts between cases by more than the 5-10% in question. Here
//! each round times every case once, in turn, and each case's figure is its median
//! over the rounds, so drift hits all cases alike. All "with layer" cases run the same
//! machine code and differ only in the hold sampling rate.
//!
//! Options: `--rounds N` (default 300), `--iterations N` per case per round (200,000).

#[path = "support/measure.rs"]
mod measure;

use measure::{arg, median};
use std::hint::black_box;
use std::time::Instant;
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

#[inline(never)]
fn parking_lot_mutex(lock: &parking_lot::Mutex<u64>, n: u64) {
    for _ in 0..n {
        *black_box(lock).lock() += 1;
    }
}

#[inline(never)]
fn lockscope_mutex(lock: &lockscope::Mutex<u64>, n: u64) {
    for _ in 0..n {
        *black_box(lock).lock() += 1;
    }
}

#[inline(never)]
fn std_instant(n: u64) {
    for _ in 0..n {
        black_box(Instant::now());
    }
}

#[inline(never)]
fn tsc(clock: &quanta::Clock, n: u64) {
    for _ in 0..n {
        black_box(clock.raw());
    }
}

#[inline(never)]
fn parking_lot_read(lock: &parking_lot::RwLock<u64>, n: u64) {
    for _ in 0..n {
        black_box(*black_box(lock).read());
    }
}

#[inline(never)]
fn lockscope_read(lock: &lockscope::RwLock<u64>, n: u64) {
    for _ in 0..n {
        black_box(*black_box(lock).read());
    }
}

struct Case {
    name: String,
    /// Which layer is the thread's default while it runs, and its hold sampling rate.
    layer: Option<u64>,
    run: Box<dyn Fn(u64)>,
    per_op_ns: Vec<f64>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (rounds, iterations) = (arg(&args, "--rounds", 300), arg(&args, "--iterations", 200_000));
    let default_rate = lockscope::ContentionLayer::DEFAULT_HOLD_SAMPLING;
    let pl = Box::leak(Box::new(parking_lot::Mutex::new(0u64)));
    let ls = Box::leak(Box::new(lockscope::Mutex::new(0u64)));
    let pl_rw = Box::leak(Box::new(parking_lot::RwLock::new(0u64)));
    let ls_rw = Box::leak(Box::new(lockscope::RwLock::new(0u64)));
    let clock: &'static quanta::Clock = Box::leak(Box::new(quanta::Clock::new()));
    let case = |name: &str, layer: Option<u64>, run: Box<dyn Fn(u64)>| Case {
        name: name.to_string(),
        layer,
        run,
        per_op_ns: Vec::new(),
    };
    let mut cases = vec![
        case("parking_lot::Mutex", None, Box::new(|n| parking_lot_mutex(pl, n))),
        case("lockscope::Mutex (no layer)", None, Box::new(|n| lockscope_mutex(ls, n))),
        case(
            &format!("lockscope::Mutex (with layer, holds 1/{default_rate}, the default)"),
            Some(default_rate),
            Box::new(|n| lockscope_mutex(ls, n)),
        ),
        case("lockscope::Mutex (with layer, holds 1/128)", Some(128), Box::new(|n| lockscope_mutex(ls, n))),
        case("lockscope::Mutex (with layer, holds 1/1024)", Some(1024), Box::new(|n| lockscope_mutex(ls, n))),
        // Every hold timed: the cost of one sample, over the lock's own.
        case("lockscope::Mutex (with layer, holds 1/1)", Some(1), Box::new(|n| lockscope_mutex(ls, n))),
        case("parking_lot::RwLock read", None, Box::new(|n| parking_lot_read(pl_rw, n))),
        case("lockscope::RwLock read (with layer)", Some(default_rate), Box::new(|n| lockscope_read(ls_rw, n))),
        // The clock reads a hold sample pays for: the TSC that lockscope uses, and std's.
        case("clock read: quanta::Clock::raw", None, Box::new(move |n| tsc(clock, n))),
        case("clock read: std::time::Instant::now", None, Box::new(std_instant)),
    ];

    for round in 0..=rounds {
        for case in &mut cases {
            let run = || {
                let start = Instant::now();
                (case.run)(iterations);
                start.elapsed().as_nanos() as f64 / iterations as f64
            };
            let per_op = match case.layer {
                // A layer of its own for each turn: the wrappers observe while any
                // layer is live, so the cases without one must run with none.
                Some(rate) => {
                    let (layer, _report) = lockscope::ContentionLayer::new();
                    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer.hold_sampling(rate)));
                    tracing::dispatcher::with_default(&dispatch, run)
                }
                None => run(),
            };
            // Round 0 warms up caches, branch predictors and the CPU's clock.
            if round > 0 {
                case.per_op_ns.push(per_op);
            }
        }
    }

    println!("{rounds} rounds x {iterations} iterations, median ns per operation");
    let mut baseline = f64::NAN;
    let mut read_baseline = f64::NAN;
    for case in &mut cases {
        let ns = median(&mut case.per_op_ns);
        match case.name.as_str() {
            "parking_lot::Mutex" => baseline = ns,
            "parking_lot::RwLock read" => read_baseline = ns,
            _ => {}
        }
        let ratio = if case.name.starts_with("clock read") {
            String::new()
        } else {
            let base = if case.name.contains("RwLock") { read_baseline } else { baseline };
            format!("{:>5.3}x", ns / base)
        };
        println!("{:<58} {ns:>6.2} ns  {ratio}", case.name);
    }
}
