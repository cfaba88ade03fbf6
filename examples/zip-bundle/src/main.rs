//! `cargo run --release -p zip-bundle -- --variant shared-mutex|clone-per-reader|indexed
//!  --threads N --lookups M [--bundle FILE.zip] [--report FILE.json]
//!  [--metrics-addr HOST:PORT] [--linger SECONDS]`

use clap::{Parser, ValueEnum};
use std::io::Write;
use std::time::Instant;
use tracing_subscriber::prelude::*;
use zip_bundle::{Bundle, ClonePerReaderBundle, Error, IndexedBundle, SharedMutexBundle};

#[derive(Clone, Copy, ValueEnum)]
enum Variant {
    SharedMutex,
    ClonePerReader,
    Indexed,
}

#[derive(Parser)]
#[command(about = "Serve file lookups from a zip source bundle with many threads")]
struct Args {
    #[arg(long, value_enum)]
    variant: Variant,
    #[arg(long, default_value_t = 4)]
    threads: usize,
    #[arg(long, default_value_t = 20_000)]
    lookups: usize,
    /// An existing bundle (memory-mapped); without it one is generated in memory.
    #[arg(long)]
    bundle: Option<std::path::PathBuf>,
    /// Write the contention report (JSON) here.
    #[arg(long)]
    report: Option<std::path::PathBuf>,
    /// Serve the contention as Prometheus metrics at http://HOST:PORT/metrics while running.
    #[arg(long, value_name = "HOST:PORT")]
    metrics_addr: Option<std::net::SocketAddr>,
    /// Keep serving the metrics this long after the run.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    linger: u64,
}

fn main() {
    let args = Args::parse();
    if let Err(err) = run(&args) {
        eprintln!("error: {err}");
        std::process::exit(2);
    }
}

fn run(args: &Args) -> Result<(), Error> {
    let (layer, report) = lockscope::ContentionLayer::new();
    tracing_subscriber::registry().with(layer).init();
    // Metrics for a fleet: the exporter a service runs, fed from the aggregate on a timer.
    let publishing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(args.metrics_addr.is_some()));
    if let Some(addr) = args.metrics_addr {
        let waits = metrics_exporter_prometheus::Matcher::Full(lockscope::metrics::WAIT_SECONDS.into());
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(addr)
            .set_buckets_for_metric(waits, &lockscope::metrics::WAIT_BUCKETS)
            .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?
            .install()
            .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
        lockscope::metrics::describe();
        let (report, publishing) = (report.clone(), publishing.clone());
        std::thread::spawn(move || {
            while publishing.load(std::sync::atomic::Ordering::Relaxed) {
                report.publish_metrics();
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
    }

    let mapped;
    let generated;
    let data: &[u8] = match &args.bundle {
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            // SAFETY: the bundle is not modified while this process maps it.
            mapped = unsafe { memmap2::Mmap::map(&file)? };
            &mapped
        }
        None => {
            generated = zip_bundle::generate_bundle(300, 7)?;
            &generated
        }
    };
    let bundle: Box<dyn Bundle> = match args.variant {
        Variant::SharedMutex => Box::new(SharedMutexBundle::open(data)?),
        Variant::ClonePerReader => Box::new(ClonePerReaderBundle::open(data)?),
        Variant::Indexed => Box::new(IndexedBundle::open(data)?),
    };
    let mut urls = bundle.urls();
    urls.sort();
    let picks = zip_bundle::zipf_lookups(&urls, args.lookups, 42);
    let threads = args.threads.max(1);
    let started = Instant::now();
    let bundle = &*bundle;
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = picks
            .chunks(picks.len().div_ceil(threads).max(1))
            .map(|chunk| {
                let urls = &urls;
                s.spawn(move || -> Result<(), String> {
                    let mut reader = bundle.reader();
                    for &i in chunk {
                        let _event = tracing::trace_span!("process_event").entered();
                        reader.lookup(&urls[i]).map_err(|e| e.to_string())?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().map_err(|_| "worker panicked".to_string()).and_then(|r| r).err())
            .collect()
    });
    if let Some(first) = failures.first() {
        return Err(first.clone().into());
    }
    let seconds = started.elapsed().as_secs_f64();
    let name = match args.variant {
        Variant::SharedMutex => "shared-mutex",
        Variant::ClonePerReader => "clone-per-reader",
        Variant::Indexed => "indexed",
    };
    let snapshot = report.snapshot();
    // A closed stdout (`| head -1`) ends the output, not the program.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "variant={name} threads={threads} lookups={} seconds={seconds:.3} lookups_per_sec={:.0}",
        args.lookups,
        args.lookups as f64 / seconds
    )
    .and_then(|()| writeln!(out, "{snapshot}"));
    if let Some(path) = &args.report {
        snapshot.write_json(path)?;
    }
    if args.metrics_addr.is_some() {
        report.publish_metrics();
        std::thread::sleep(std::time::Duration::from_secs(args.linger));
        publishing.store(false, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(())
}
