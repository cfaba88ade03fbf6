//! `cargo run --release -p sample-store -- --store aliasing|copying --threads N --metrics K
//!  --batches B [--report FILE.json]`

use clap::{Parser, ValueEnum};
use sample_store::{AliasingStore, CopyingStore, DatapointStore};
use std::io::Write;
use tracing_subscriber::prelude::*;

#[derive(Clone, Copy, ValueEnum)]
enum Store {
    Aliasing,
    Copying,
}

#[derive(Parser)]
#[command(about = "Upsert metric samples from many threads and compare the size counter with the truth")]
struct Args {
    #[arg(long, value_enum)]
    store: Store,
    #[arg(long, default_value_t = 4)]
    threads: usize,
    #[arg(long, default_value_t = 8)]
    metrics: usize,
    #[arg(long, default_value_t = 2_000)]
    batches: usize,
    /// Write the contention report (JSON) here.
    #[arg(long)]
    report: Option<std::path::PathBuf>,
}

fn main() {
    let args = Args::parse();
    let (layer, report) = lockscope::ContentionLayer::new();
    tracing_subscriber::registry().with(layer).init();
    let (name, store): (&str, Box<dyn DatapointStore>) = match args.store {
        Store::Aliasing => ("aliasing", Box::<AliasingStore>::default()),
        Store::Copying => ("copying", Box::<CopyingStore>::default()),
    };
    sample_store::run(&*store, args.threads.max(1), args.metrics.max(1), args.batches);
    let (size, stored) = (store.size(), store.stored_samples());
    let snapshot = report.snapshot();
    // A closed stdout (`| head -1`) ends the output, not the program.
    let mut out = std::io::stdout().lock();
    let _ =
        writeln!(out, "store={name} size_counter={size} stored_samples={stored} drift={}", size as i64 - stored as i64)
            .and_then(|()| writeln!(out, "{snapshot}"));
    if let Some(path) = &args.report {
        if let Err(err) = snapshot.write_json(path) {
            eprintln!("error: cannot write {}: {err}", path.display());
            std::process::exit(2);
        }
    }
}
