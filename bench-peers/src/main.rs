//! lockscope beside parking_lot and three peers, each with what it needs switched on,
//! in one process: uncontended `Mutex` lock+unlock and `RwLock` read, measured
//! round-robin (each round times every case once, so a shared machine's drift hits
//! all alike; medians over rounds), and bytes per live lock: the lock's size plus what
//! the tool allocates for it, counted by this program's allocator, for 100,000 locks
//! each locked once, and for 100,000 short-lived ones (made, locked, dropped).
//!
//! Options: `--rounds N` (default 100), `--iterations N` (200,000), `--locks N` (100,000).
#![allow(deprecated)] // hotpath's `new` constructors: its macros do the same, by label.

#[path = "../../profiler/benches/support/measure.rs"]
mod measure;

use measure::{arg, median, per_lock};
use std::hint::black_box;
use std::time::Instant;
use tracing_subscriber::prelude::*;

#[global_allocator]
static GLOBAL: measure::Counting = measure::Counting;

type PlMutex = parking_lot::Mutex<u64>;
type LsMutex = lockscope::Mutex<u64>;
type TmMutex = tracing_mutex::parkinglot::tracing::Mutex<u64>;
type HpMutex = hotpath::wrap::parking_lot::Mutex<u64>;
type LtMutex = locktick::parking_lot::Mutex<u64>;
type PlRw = parking_lot::RwLock<u64>;
type LsRw = lockscope::RwLock<u64>;
type TmRw = tracing_mutex::parkinglot::tracing::RwLock<u64>;
type HpRw = hotpath::wrap::parking_lot::RwLock<u64>;
type LtRw = locktick::parking_lot::RwLock<u64>;

/// One loop per lock type, so each is compiled for its own type.
macro_rules! loops {
    ($($lock:ident: $ty:ty, $read:ident: $rw:ty;)*) => {$(
        #[inline(never)]
        fn $lock(lock: &$ty, n: u64) {
            for _ in 0..n {
                *black_box(lock).lock() += 1;
            }
        }
        #[inline(never)]
        fn $read(lock: &$rw, n: u64) {
            for _ in 0..n {
                black_box(*black_box(lock).read());
            }
        }
    )*};
}

loops! {
    pl_lock: PlMutex, pl_read: PlRw;
    ls_lock: LsMutex, ls_read: LsRw;
    tm_lock: TmMutex, tm_read: TmRw;
    hp_lock: HpMutex, hp_read: HpRw;
    lt_lock: LtMutex, lt_read: LtRw;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (rounds, iterations, n) =
        (arg(&args, "--rounds", 100), arg(&args, "--iterations", 200_000), arg(&args, "--locks", 100_000) as usize);

    // Everything switched on: lockscope's layer, hotpath's guard.
    let (layer, report) = lockscope::ContentionLayer::new();
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let _hotpath = hotpath::HotpathGuardBuilder::new("bench-peers").build();

    let pl = PlMutex::new(0);
    let ls = LsMutex::new(0);
    let tm = TmMutex::new(0);
    let hp = HpMutex::new(0);
    let lt = LtMutex::new(0);
    let (pl_rw, ls_rw, tm_rw, hp_rw, lt_rw) = (PlRw::new(0), LsRw::new(0), TmRw::new(0), HpRw::new(0), LtRw::new(0));
    type Run<'a> = (&'a str, Box<dyn Fn(u64) + 'a>, Box<dyn Fn(u64) + 'a>);
    let tools: Vec<Run<'_>> = vec![
        ("parking_lot", Box::new(|i| pl_lock(&pl, i)), Box::new(|i| pl_read(&pl_rw, i))),
        ("lockscope", Box::new(|i| ls_lock(&ls, i)), Box::new(|i| ls_read(&ls_rw, i))),
        ("tracing-mutex 0.3", Box::new(|i| tm_lock(&tm, i)), Box::new(|i| tm_read(&tm_rw, i))),
        ("hotpath 0.30", Box::new(|i| hp_lock(&hp, i)), Box::new(|i| hp_read(&hp_rw, i))),
        ("locktick 0.6", Box::new(|i| lt_lock(&lt, i)), Box::new(|i| lt_read(&lt_rw, i))),
    ];
    let mut lock_ns = vec![Vec::new(); tools.len()];
    let mut read_ns = vec![Vec::new(); tools.len()];
    let time = |f: &dyn Fn(u64)| {
        let start = Instant::now();
        f(iterations);
        start.elapsed().as_nanos() as f64 / iterations as f64
    };
    for round in 0..=rounds {
        for (i, (_, lock, read)) in tools.iter().enumerate() {
            let (l, r) = (time(lock), time(read));
            // Round 0 warms up caches, branch predictors and the CPU's clock.
            if round > 0 {
                lock_ns[i].push(l);
                read_ns[i].push(r);
            }
        }
    }

    let memories = [
        per_lock(n, || PlMutex::new(0), |l| *l.lock() += 1),
        per_lock(n, || LsMutex::new(0), |l| *l.lock() += 1),
        per_lock(n, || TmMutex::new(0), |l| *l.lock() += 1),
        per_lock(n, || HpMutex::new(0), |l| *l.lock() += 1),
        per_lock(n, || LtMutex::new(0), |l| *l.lock() += 1),
    ];

    // lockscope really observed: every acquisition of its timed `Mutex` was counted.
    let snapshot = report.snapshot();
    let counted: u64 = snapshot.locks.iter().filter(|l| l.created_at.contains("main.rs")).map(|l| l.acquisitions).sum();
    println!("lockscope counted {counted} acquisitions of its locks in this file");
    println!("{rounds} rounds x {iterations} iterations (medians); memory over {n} locks");
    println!("| | lock+unlock | ratio | RwLock read | ratio | bytes per live lock | bytes left per dropped lock |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let (base_lock, base_read) = (median(&mut lock_ns[0].clone()), median(&mut read_ns[0].clone()));
    for (i, (name, _, _)) in tools.iter().enumerate() {
        let (l, r) = (median(&mut lock_ns[i]), median(&mut read_ns[i]));
        let (live, left) = memories[i];
        println!(
            "| {name} | {l:.2} ns | {:.2}x | {r:.2} ns | {:.2}x | {live:.0} | {left:.0} |",
            l / base_lock,
            r / base_read
        );
    }
}
