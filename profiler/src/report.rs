//! The contention report: model, table (`Display`) and JSON (version 1).

use crate::aggregate::{Breakdown, SiteKey, Totals, OTHER};
use crate::histogram::Histogram;
use crate::layer::Shared;
use crate::stats::{self, LockKind, Mode};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// What the profiler measured. Serializes to the version 1 JSON schema; `Display`
/// renders the contention table.
///
/// ```
/// let (_layer, report) = lockscope::ContentionLayer::new();
/// let snapshot: lockscope::Report = report.snapshot();
/// assert!(snapshot.to_string().starts_with("lockscope: "));
/// let json = serde_json::to_string(&snapshot).unwrap();
/// assert_eq!(lockscope::Report::from_json(&json).unwrap(), snapshot);
/// ```
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub version: u32,
    pub duration_ns: u64,
    /// Hold times were measured for 1 in this many acquisitions.
    pub hold_sampling: u64,
    /// Sorted by total wait, largest first.
    pub locks: Vec<LockReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockReport {
    pub name: String,
    /// `mutex` or `rwlock`.
    pub kind: String,
    pub created_at: String,
    pub acquisitions: u64,
    pub contended: u64,
    pub wait_ns: Summary,
    pub hold_ns: Summary,
    pub sites: Vec<SiteReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SiteReport {
    pub site: String,
    /// `lock`, `read` or `write`.
    pub mode: String,
    pub acquisitions: u64,
    pub contended: u64,
    pub wait_ns: Summary,
    pub spans: Vec<SpanWait>,
    pub blocked_by: Vec<BlockedBy>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpanWait {
    /// Span names from the root, joined by `;`.
    pub path: String,
    pub wait_ns_total: u64,
    pub contended: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BlockedBy {
    /// Acquire site of the holder the waiters queued behind.
    pub site: String,
    pub wait_ns_total: u64,
    pub contended: u64,
}

/// Nanosecond statistics of a set of durations. `total` and `max` are exact (for
/// sampled holds, `total` is the sampled sum scaled by the rate); the percentiles come
/// from a fixed-size histogram and are within 3.2%.
///
/// ```
/// let none = lockscope::Summary::default();
/// assert_eq!((none.total, none.p99), (0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub total: u64,
    pub max: u64,
    pub mean: u64,
    pub p50: u64,
    pub p99: u64,
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Lock => "lock",
        Mode::Read => "read",
        Mode::Write => "write",
    }
}

impl Report {
    pub(crate) fn build(shared: &Shared) -> Report {
        let hold_sampling = stats::hold_sampling();
        let waits = shared.waits.lock();
        let mut breakdown: HashMap<&SiteKey, (Vec<SpanWait>, Vec<BlockedBy>)> = HashMap::new();
        for ((key, part), Totals { wait_ns, contended }) in &waits.breakdown {
            let entry = breakdown.entry(key).or_default();
            let (wait_ns_total, contended) = (*wait_ns, *contended);
            match part {
                Breakdown::Span(path) => {
                    let path = path.as_ref().map_or_else(|| OTHER.to_string(), |p| p.join(";"));
                    entry.0.push(SpanWait { path, wait_ns_total, contended });
                }
                Breakdown::Holder(site) => {
                    let site = match site {
                        None => OTHER.to_string(),
                        Some(address) => stats::site_at(*address).map(stats::site_string).unwrap_or_default(),
                    };
                    entry.1.push(BlockedBy { site, wait_ns_total, contended });
                }
            }
        }
        let mut locks = Vec::new();
        for lock in stats::registered() {
            let mut sites: HashMap<(String, Mode), SiteReport> = HashMap::new();
            for (site, mode, count) in lock.site_counts() {
                // Summed: one source position can have several `Location` addresses.
                let site = site.map_or_else(|| OTHER.to_string(), stats::site_string);
                sites.entry((site.clone(), mode)).or_insert_with(|| empty_site(site, mode, 0)).acquisitions += count;
            }
            let lock_waits = Histogram::default();
            let mut site_waits: HashMap<(String, Mode), Histogram> = HashMap::new();
            for (key, waits) in waits.sites.iter().filter(|(k, _)| k.lock_id == lock.id) {
                lock_waits.add(waits);
                let site = stats::site_at(key.site).map_or_else(|| OTHER.to_string(), stats::site_string);
                site_waits.entry((site.clone(), key.mode)).or_default().add(waits);
                let report = sites.entry((site.clone(), key.mode)).or_insert_with(|| empty_site(site, key.mode, 0));
                if let Some((spans, blocked_by)) = breakdown.remove(key) {
                    report.spans.extend(spans);
                    report.blocked_by.extend(blocked_by);
                }
            }
            for (key, waits) in site_waits {
                if let Some(report) = sites.get_mut(&key) {
                    (report.contended, report.wait_ns) = waits.summary(1);
                    report
                        .spans
                        .sort_by(|a, b| b.wait_ns_total.cmp(&a.wait_ns_total).then_with(|| a.path.cmp(&b.path)));
                    report
                        .blocked_by
                        .sort_by(|a, b| b.wait_ns_total.cmp(&a.wait_ns_total).then_with(|| a.site.cmp(&b.site)));
                }
            }
            let mut sites: Vec<SiteReport> = sites.into_values().collect();
            sites.sort_by(|a, b| {
                b.wait_ns
                    .total
                    .cmp(&a.wait_ns.total)
                    .then(b.acquisitions.cmp(&a.acquisitions))
                    .then_with(|| a.site.cmp(&b.site))
            });
            let (contended, wait_ns) = lock_waits.summary(1);
            locks.push(LockReport {
                name: lock.name.clone(),
                kind: match lock.kind {
                    LockKind::Mutex => "mutex".into(),
                    LockKind::Rwlock => "rwlock".into(),
                },
                created_at: lock.created_at.map_or_else(|| OTHER.to_string(), stats::site_string),
                acquisitions: sites.iter().map(|s| s.acquisitions).sum(),
                contended,
                wait_ns,
                hold_ns: lock.holds.summary(hold_sampling).1,
                sites,
            });
        }
        locks.sort_by(|a, b| b.wait_ns.total.cmp(&a.wait_ns.total).then(b.acquisitions.cmp(&a.acquisitions)));
        Report {
            version: 1,
            duration_ns: u64::try_from(shared.started.elapsed().as_nanos()).unwrap_or(u64::MAX),
            hold_sampling,
            locks,
        }
    }

    /// Write the report as pretty JSON.
    pub fn write_json(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text + "\n")
    }

    /// Read a report written by [`Report::write_json`].
    pub fn from_json(text: &str) -> Result<Report, serde_json::Error> {
        serde_json::from_str(text)
    }
}

fn empty_site(site: String, mode: Mode, acquisitions: u64) -> SiteReport {
    SiteReport {
        site,
        mode: mode_name(mode).into(),
        acquisitions,
        contended: 0,
        wait_ns: Summary::default(),
        spans: Vec::new(),
        blocked_by: Vec::new(),
    }
}

/// `1.23 ms`, `456 µs`, `12 ns`: how the table prints durations.
///
/// ```
/// assert_eq!(lockscope::human_ns(12), "12 ns");
/// assert_eq!(lockscope::human_ns(1_230_000), "1.23 ms");
/// ```
pub fn human_ns(ns: u64) -> String {
    let n = ns as f64;
    if n >= 1e9 {
        format!("{:.2} s", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.2} ms", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} µs", n / 1e3)
    } else {
        format!("{ns} ns")
    }
}

impl fmt::Display for Report {
    /// The contention table: one row per lock, then its top site, span and holder.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "lockscope: {} locks over {} (hold times sampled 1 in {})",
            self.locks.len(),
            human_ns(self.duration_ns),
            self.hold_sampling
        )?;
        writeln!(
            f,
            "{:<24} {:<6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "lock", "kind", "acquired", "contended", "wait", "mean", "p99", "max", "hold"
        )?;
        for lock in &self.locks {
            let pct =
                if lock.acquisitions == 0 { 0.0 } else { 100.0 * lock.contended as f64 / lock.acquisitions as f64 };
            let mut name = lock.name.clone();
            if name.chars().count() > 24 {
                name = format!(
                    "…{}",
                    name.chars().rev().take(23).collect::<Vec<_>>().into_iter().rev().collect::<String>()
                );
            }
            writeln!(
                f,
                "{:<24} {:<6} {:>10} {:>9.1}% {:>10} {:>10} {:>10} {:>10} {:>10}",
                name,
                lock.kind,
                lock.acquisitions,
                pct,
                human_ns(lock.wait_ns.total),
                human_ns(lock.wait_ns.mean),
                human_ns(lock.wait_ns.p99),
                human_ns(lock.wait_ns.max),
                human_ns(lock.hold_ns.total),
            )?;
            if let Some(site) = lock.sites.iter().find(|s| s.contended > 0) {
                writeln!(
                    f,
                    "  top site:  {} ({}) waited {} in {} waits",
                    site.site,
                    site.mode,
                    human_ns(site.wait_ns.total),
                    site.contended
                )?;
                if let Some(span) = site.spans.first() {
                    let path = if span.path.is_empty() { "(no span)" } else { &span.path };
                    writeln!(f, "  top span:  {path} waited {}", human_ns(span.wait_ns_total))?;
                }
                if let Some(holder) = site.blocked_by.first() {
                    let who = if holder.site.is_empty() { "(unknown)" } else { &holder.site };
                    writeln!(f, "  behind:    {who} for {}", human_ns(holder.wait_ns_total))?;
                }
            }
        }
        Ok(())
    }
}
