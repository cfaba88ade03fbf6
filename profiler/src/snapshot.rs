//! The report of what the profiler measured, built from its counters and histograms.

use crate::aggregate::{Breakdown, Shared, SiteKey, Totals, OTHER};
use crate::counters;
use crate::histogram::Histogram;
use crate::stats::{self, Mode};
use lockscope_report::{BlockedBy, LockReport, Report, SiteReport, SpanWait, Summary};
use std::collections::HashMap;

/// The report of everything measured so far.
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
    // Acquisitions per class id, then (site address, 0 for none; mode).
    let mut counts: HashMap<u64, Vec<(usize, Mode, u64)>> = HashMap::new();
    for (key, count) in counters::totals() {
        let (class, site, mode) = counters::parts(key);
        counts.entry(class).or_default().push((site, mode, count));
    }
    let mut locks = Vec::new();
    for lock in stats::registered() {
        let mut sites: HashMap<(String, Mode), SiteReport> = HashMap::new();
        for &(site, mode, count) in counts.get(&lock.id).into_iter().flatten() {
            // Summed: one source position can have several `Location` addresses.
            let site = stats::site_at(site).map_or_else(|| OTHER.to_string(), stats::site_string);
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
                report.spans.sort_by(|a, b| b.wait_ns_total.cmp(&a.wait_ns_total).then_with(|| a.path.cmp(&b.path)));
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
            kind: lock.kind,
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
        version: lockscope_report::SCHEMA_VERSION,
        duration_ns: u64::try_from(shared.started.elapsed().as_nanos()).unwrap_or(u64::MAX),
        hold_sampling,
        locks,
    }
}

fn empty_site(site: String, mode: Mode, acquisitions: u64) -> SiteReport {
    SiteReport {
        site,
        mode,
        acquisitions,
        contended: 0,
        wait_ns: Summary::default(),
        spans: Vec::new(),
        blocked_by: Vec::new(),
    }
}
