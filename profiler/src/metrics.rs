//! Contention as metrics for a fleet (the `metrics` feature): what the layer aggregated,
//! published through the [`metrics`] facade, so the exporter the service already runs
//! (a Prometheus scrape endpoint, OTLP to a collector) carries it. Nothing here runs on a
//! lock's path: [`ReportHandle::publish_metrics`](crate::ReportHandle::publish_metrics)
//! reads the aggregate, as a snapshot does, whenever the service calls it (a timer).
//!
//! Names follow Prometheus's conventions; labels `lock`, `site`, `mode`, bounded by the
//! lock-class and site caps ([`crate::MAX_LOCK_CLASSES`], [`crate::MAX_SITES`]):
//!
//! | name | kind | what |
//! | --- | --- | --- |
//! | `lockscope_lock_acquisitions_total` | counter | acquisitions, per lock, site and mode |
//! | `lockscope_lock_contended_total` | counter | acquisitions that waited |
//! | `lockscope_lock_wait_seconds_total` | gauge | time waited in all (a float: the facade's counters are integers) |
//! | `lockscope_lock_hold_seconds_total` | gauge | time held in all, per lock and mode, estimated from the sampled holds |
//! | `lockscope_lock_wait_seconds` | histogram | each wait, from the aggregate's buckets (within 3.2%) |

use crate::aggregate::{Shared, SiteKey};
use crate::stats;
use lockscope_report::Report;
use std::collections::HashMap;

pub const ACQUISITIONS: &str = "lockscope_lock_acquisitions_total";
pub const CONTENDED: &str = "lockscope_lock_contended_total";
pub const WAIT_SECONDS_TOTAL: &str = "lockscope_lock_wait_seconds_total";
pub const HOLD_SECONDS_TOTAL: &str = "lockscope_lock_hold_seconds_total";
pub const WAIT_SECONDS: &str = "lockscope_lock_wait_seconds";

/// Bucket bounds for the wait histogram, for exporters that ask (1 µs to 10 s, ×~3).
pub const WAIT_BUCKETS: [f64; 15] =
    [1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0];

/// What was already handed to the histograms, per site and bucket, so each publication
/// adds only the waits since the last one.
#[derive(Default)]
pub(crate) struct Published {
    buckets: HashMap<SiteKey, Vec<u64>>,
}

/// Describe the metrics to the installed recorder (units and help texts).
pub fn describe() {
    use metrics::Unit;
    metrics::describe_counter!(ACQUISITIONS, Unit::Count, "Lock acquisitions, per lock, acquire site and mode");
    metrics::describe_counter!(CONTENDED, Unit::Count, "Lock acquisitions that had to wait");
    metrics::describe_gauge!(WAIT_SECONDS_TOTAL, Unit::Seconds, "Time spent waiting for the lock, in all");
    metrics::describe_gauge!(
        HOLD_SECONDS_TOTAL,
        Unit::Seconds,
        "Time the lock was held, in all (estimated from samples)"
    );
    metrics::describe_histogram!(WAIT_SECONDS, Unit::Seconds, "Each wait for the lock");
}

/// Publish `report` (the counters and totals) and the waits since the last publication
/// (the histogram) to the installed recorder.
pub(crate) fn publish(report: &Report, shared: &Shared, published: &mut Published) {
    for lock in &report.locks {
        for site in &lock.sites {
            let labels = [("lock", lock.name.clone()), ("site", site.site.clone()), ("mode", site.mode.to_string())];
            metrics::counter!(ACQUISITIONS, &labels).absolute(site.acquisitions);
            metrics::counter!(CONTENDED, &labels).absolute(site.contended);
            metrics::gauge!(WAIT_SECONDS_TOTAL, &labels).set(seconds(site.wait_ns.total));
        }
        let mode = if lock.kind == "rwlock" { "write" } else { "lock" };
        let labels = [("lock", lock.name.clone()), ("mode", mode.to_string())];
        metrics::gauge!(HOLD_SECONDS_TOTAL, &labels).set(seconds(lock.hold_ns.total));
    }
    let names: HashMap<u64, String> = stats::registered().iter().map(|c| (c.id, c.name.clone())).collect();
    let waits = shared.waits.lock();
    for (key, histogram) in &waits.sites {
        let Some(lock) = names.get(&key.lock_id) else { continue };
        let counts = histogram.bucket_counts();
        let seen = published.buckets.entry(*key).or_insert_with(|| vec![0; counts.len()]);
        let site = stats::site_at(key.site).map_or_else(|| stats::OTHER.to_string(), stats::site_string);
        let labels = [("lock", lock.clone()), ("site", site), ("mode", key.mode.as_str().to_string())];
        let wait = metrics::histogram!(WAIT_SECONDS, &labels);
        for (bucket, (&now, before)) in counts.iter().zip(seen.iter_mut()).enumerate() {
            if now > *before {
                let n = usize::try_from(now - *before).unwrap_or(usize::MAX);
                wait.record_many(seconds(crate::histogram::bucket_midpoint(bucket)), n);
                *before = now;
            }
        }
    }
}

fn seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}
