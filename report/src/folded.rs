//! Folded stacks (`span;span;lock@site wait_ns`), the input of `flamegraph.pl` and
//! `inferno-flamegraph`: one frame per span of the waiting thread, then the lock and
//! the site that waited.

use crate::Report;
use std::fmt::Write;

/// One line per (span path, lock, site) with its total wait in nanoseconds. Wait a site
/// had outside any recorded span path is a line without span frames.
pub fn folded(report: &Report) -> String {
    let mut out = String::new();
    for lock in &report.locks {
        for site in &lock.sites {
            let leaf = format!("{}@{}", frame(&lock.name), frame(&site.site));
            let mut in_spans = 0;
            for span in site.spans.iter().filter(|s| s.wait_ns_total > 0 && !s.path.is_empty()) {
                in_spans += span.wait_ns_total;
                let path: Vec<String> = span.path.split(';').map(frame).collect();
                let _ = writeln!(out, "{};{leaf} {}", path.join(";"), span.wait_ns_total);
            }
            let rest = site.wait_ns.total.saturating_sub(in_spans);
            if rest > 0 {
                let _ = writeln!(out, "{leaf} {rest}");
            }
        }
    }
    out
}

/// A frame may not contain the separator `;` or a newline.
fn frame(name: &str) -> String {
    name.replace([';', '\n', '\r'], ",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LockKind, LockReport, Mode, SiteReport, SpanWait, Summary};

    fn summary(total: u64) -> Summary {
        Summary { total, ..Summary::default() }
    }

    #[test]
    fn spans_become_frames_and_the_rest_is_kept() {
        let site = SiteReport {
            site: "src/a.rs:3:9".into(),
            mode: Mode::Lock,
            acquisitions: 10,
            contended: 4,
            wait_ns: summary(1000),
            spans: vec![
                SpanWait { path: "serve;lookup".into(), wait_ns_total: 700, contended: 3 },
                SpanWait { path: String::new(), wait_ns_total: 200, contended: 1 },
            ],
            blocked_by: vec![],
        };
        let lock = LockReport {
            name: "cache;x".into(),
            kind: LockKind::Mutex,
            created_at: String::new(),
            acquisitions: 10,
            contended: 4,
            wait_ns: summary(1000),
            hold_ns: summary(0),
            sites: vec![site],
        };
        let report = Report { version: 1, duration_ns: 1, hold_sampling: 64, locks: vec![lock] };
        assert_eq!(folded(&report), "serve;lookup;cache,x@src/a.rs:3:9 700\ncache,x@src/a.rs:3:9 300\n");
    }
}
