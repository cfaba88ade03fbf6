//! One self-contained HTML page of a report (the `html` feature): the contention table
//! (sortable), the flame graph of wait time, the holders each site queued behind, and the
//! lint's findings beside the locks they are about. Nothing is fetched when it is opened:
//! styles, script and graph are inline.

use crate::{human_ns, Report};
use std::fmt::Write;

/// A lint finding to show beside a lock (`cargo lockscope lint --format json`, joined by
/// the caller to the lock it names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The lock's name in the report.
    pub lock: String,
    /// `rule`, `path:line` and message, as shown.
    pub rule: String,
    pub location: String,
    pub message: String,
}

/// The page. `flame_graph` is an SVG document (or `None` to leave the graph out).
pub fn html(report: &Report, flame_graph: Option<&str>, notes: &[Note]) -> String {
    let mut out = String::new();
    let total: u64 = report.locks.iter().map(|l| l.wait_ns.total).sum();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
         <title>lockscope report</title><style>{STYLE}</style></head><body>\n\
         <h1>lockscope: {} lock{}, {} of waiting over {}</h1>\n",
        report.locks.len(),
        if report.locks.len() == 1 { "" } else { "s" },
        esc(&human_ns(total)),
        esc(&human_ns(report.duration_ns)),
    );
    out.push_str("<table id=\"locks\"><thead><tr>");
    for (i, head) in
        ["lock", "kind", "acquired", "contended", "wait", "mean", "p99", "max", "hold", "findings"].iter().enumerate()
    {
        let _ = write!(out, "<th data-col=\"{i}\">{head}</th>");
    }
    out.push_str("</tr></thead><tbody>\n");
    for lock in &report.locks {
        let findings = notes.iter().filter(|n| n.lock == lock.name).count();
        let cells: [(String, u64); 10] = [
            (esc(&lock.name), 0),
            (lock.kind.as_str().into(), 0),
            (lock.acquisitions.to_string(), lock.acquisitions),
            (lock.contended.to_string(), lock.contended),
            (esc(&human_ns(lock.wait_ns.total)), lock.wait_ns.total),
            (esc(&human_ns(lock.wait_ns.mean)), lock.wait_ns.mean),
            (esc(&human_ns(lock.wait_ns.p99)), lock.wait_ns.p99),
            (esc(&human_ns(lock.wait_ns.max)), lock.wait_ns.max),
            (esc(&human_ns(lock.hold_ns.total)), lock.hold_ns.total),
            (findings.to_string(), findings as u64),
        ];
        out.push_str("<tr class=\"lock\">");
        for (i, (text, key)) in cells.iter().enumerate() {
            if i < 2 {
                let _ = write!(out, "<td data-key=\"{text}\">{text}</td>");
            } else {
                let _ = write!(out, "<td data-key=\"{key}\" class=\"n\">{text}</td>");
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");

    if let Some(svg) = flame_graph {
        out.push_str("<h2>Where threads waited</h2>\n<div id=\"flamegraph\">");
        out.push_str(svg_element(svg));
        out.push_str("</div>\n");
    }

    out.push_str("<h2>Sites, spans and the holders they queued behind</h2>\n");
    for lock in &report.locks {
        let _ = writeln!(out, "<section class=\"lock-detail\" data-lock=\"{0}\"><h3>{0}</h3>", esc(&lock.name));
        for note in notes.iter().filter(|n| n.lock == lock.name) {
            let _ = writeln!(
                out,
                "<p class=\"finding\"><b>{}</b> at <code>{}</code>: {}</p>",
                esc(&note.rule),
                esc(&note.location),
                esc(&note.message)
            );
        }
        out.push_str("<ul>");
        for site in lock.sites.iter().filter(|s| s.acquisitions > 0 || s.contended > 0) {
            let _ = write!(
                out,
                "<li><code>{}</code> ({}): {} acquisitions, {} waited {}",
                esc(&site.site),
                site.mode.as_str(),
                site.acquisitions,
                site.contended,
                esc(&human_ns(site.wait_ns.total))
            );
            if !site.blocked_by.is_empty() {
                out.push_str("<ul class=\"holders\">");
                for holder in &site.blocked_by {
                    let who = if holder.site.is_empty() { "(unknown)" } else { &holder.site };
                    let _ = write!(
                        out,
                        "<li>behind <code>{}</code> for {} ({} waits)</li>",
                        esc(who),
                        esc(&human_ns(holder.wait_ns_total)),
                        holder.contended
                    );
                }
                out.push_str("</ul>");
            }
            if !site.spans.is_empty() {
                out.push_str("<ul class=\"spans\">");
                for span in &site.spans {
                    let path = if span.path.is_empty() { "(no span)" } else { &span.path };
                    let _ =
                        write!(out, "<li>in <code>{}</code>: {}</li>", esc(path), esc(&human_ns(span.wait_ns_total)));
                }
                out.push_str("</ul>");
            }
            out.push_str("</li>");
        }
        out.push_str("</ul></section>\n");
    }
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body></html>\n");
    out
}

/// The `<svg …>…</svg>` element of an SVG document (without its XML prolog and doctype).
fn svg_element(document: &str) -> &str {
    match (document.find("<svg"), document.rfind("</svg>")) {
        (Some(start), Some(end)) if end > start => &document[start..end + "</svg>".len()],
        _ => "",
    }
}

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #ddd}\
th{cursor:pointer;background:#f4f4f4;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}\
code{font-size:12px}.finding{background:#fff4e5;border-left:4px solid #f0a030;padding:4px 8px}\
#flamegraph svg{width:100%;height:auto}";

/// Click a header to sort by it (again to reverse).
const SCRIPT: &str = "document.querySelectorAll('#locks th').forEach(function(th){\
th.addEventListener('click',function(){var col=+th.dataset.col;var body=document.querySelector('#locks tbody');\
var rows=Array.from(body.rows);var down=th.dataset.down!=='1';th.dataset.down=down?'1':'0';\
rows.sort(function(a,b){var x=a.cells[col].dataset.key,y=b.cells[col].dataset.key;\
var nx=Number(x),ny=Number(y);var c=(isNaN(nx)||isNaN(ny))?x.localeCompare(y):nx-ny;return down?-c:c;});\
rows.forEach(function(r){body.appendChild(r);});});});";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BlockedBy, LockKind, LockReport, Mode, SiteReport, Summary};

    #[test]
    fn the_page_holds_the_table_graph_holders_and_findings_escaped() {
        let wait = Summary { total: 2_000_000, max: 1, mean: 1, p50: 1, p99: 1 };
        let site = SiteReport {
            site: "src/lib.rs:7:3".into(),
            mode: Mode::Lock,
            acquisitions: 5,
            contended: 2,
            wait_ns: wait,
            spans: Vec::new(),
            blocked_by: vec![BlockedBy { site: "src/lib.rs:9:1".into(), wait_ns_total: 2_000_000, contended: 2 }],
        };
        let lock = LockReport {
            name: "cache<&str>".into(),
            kind: LockKind::Mutex,
            created_at: "src/lib.rs:1:1".into(),
            acquisitions: 5,
            contended: 2,
            wait_ns: wait,
            hold_ns: Summary::default(),
            sites: vec![site],
        };
        let report = Report { locks: vec![lock], ..Report::empty(1) };
        let note = Note {
            lock: "cache<&str>".into(),
            rule: "lock_across_io".into(),
            location: "src/lib.rs:8".into(),
            message: "`std::fs::read` runs while the guard is alive".into(),
        };
        let page = html(&report, Some("<?xml version=\"1.0\"?><!DOCTYPE svg><svg id=\"g\"></svg>"), &[note]);
        assert!(page.contains("<td data-key=\"cache&lt;&amp;str&gt;\">cache&lt;&amp;str&gt;</td>"));
        assert!(page.contains("<div id=\"flamegraph\"><svg id=\"g\"></svg></div>"));
        assert!(page.contains("behind <code>src/lib.rs:9:1</code> for 2.00 ms (2 waits)"));
        assert!(page.contains("<b>lock_across_io</b> at <code>src/lib.rs:8</code>"));
        assert!(!page.contains("http://") && !page.contains("https://"), "nothing to fetch");
    }
}
