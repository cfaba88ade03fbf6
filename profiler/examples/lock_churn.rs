//! Memory with many locks: `cargo run --release -p lockscope --example lock_churn -- 10000`.
//!
//! Makes N mutexes on one line while a layer is live and takes each once (a lock per
//! connection), drops them, then makes and drops N more (a lock per request), and
//! prints how much the resident set grew (Linux: `/proc/self/statm`).

use tracing_subscriber::prelude::*;

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn main() {
    let n: usize = match std::env::args().nth(1).map(|arg| arg.parse()) {
        None => 10_000,
        Some(Ok(n)) => n,
        Some(Err(err)) => {
            eprintln!("error: the lock count must be a number: {err}");
            std::process::exit(2);
        }
    };
    let (layer, report) = lockscope::ContentionLayer::new();
    let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let before = resident_bytes();
    let live: Vec<_> = (0..n).map(lockscope::Mutex::new).collect();
    for lock in &live {
        drop(lock.lock());
    }
    let with_live = resident_bytes();
    drop(live);
    for i in 0..n {
        drop(lockscope::Mutex::new(i).lock());
    }
    let after = resident_bytes();
    let rows = report.snapshot().locks.len();
    match (before, with_live, after) {
        (Some(before), Some(with_live), Some(after)) => println!(
            "{n} locks: +{:.1} MB while live, +{:.1} MB after {n} more short-lived ({rows} report rows)",
            with_live.saturating_sub(before) as f64 / 1e6,
            after.saturating_sub(before) as f64 / 1e6,
        ),
        _ => println!("{n} locks, {rows} report rows (no /proc/self/statm here to measure memory)"),
    }
}
