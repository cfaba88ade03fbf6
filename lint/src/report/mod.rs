//! `cargo lockscope report`: render a profiler report (`LOCKSCOPE_REPORT`, `--report`) as
//! a table, JSON, folded stacks or a flamegraph, or diff it against a baseline.

use crate::RunError;
use lockscope_report::{diff, folded, Report};
use std::path::Path;

/// What `report --format` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// The contention table.
    Table,
    /// The report itself (version 1 JSON); with `--diff`, the diff rows.
    Json,
    /// `span;span;lock@site wait_ns` lines for flamegraph tools.
    Folded,
    /// A flamegraph of wait time.
    Svg,
    /// Go's mutex profile: a gzipped `profile.proto` (`contentions/count`,
    /// `delay/nanoseconds`) for `go tool pprof`, Pyroscope, Grafana.
    Pprof,
    /// One self-contained page: the table (sortable), the flame graph, the holders each
    /// site queued behind, and (`--lint FINDINGS.json`) the lint's findings beside their locks.
    Html,
}

/// Reports are read up to this size, from files, pipes and devices alike: far above any
/// real report (a report holds at most a few thousand lock classes), and a bound on what a
/// stream that never ends (`/dev/zero`) can cost.
pub const MAX_REPORT_BYTES: u64 = 256_000_000;

/// Read a version 1 report, with a one-line error naming the file on bad input.
pub fn load(path: &Path) -> Result<Report, RunError> {
    let shown = path.display();
    let bytes = crate::input::read_any(path, MAX_REPORT_BYTES)
        .map_err(|e| RunError(format!("cannot read report {shown}: {e}")))?;
    Report::from_slice(&bytes).map_err(|e| match e {
        // `file:line:column: not JSON: …`
        lockscope_report::ReadError::Json(ref j) if j.is_syntax() || j.is_eof() => RunError(format!("{shown}:{e}")),
        _ => RunError(format!("{shown}: {e}")),
    })
}

/// Render `report` (or its diff from `base`) in `format`.
pub fn render(report: &Report, base: Option<&Report>, format: ReportFormat) -> Result<Vec<u8>, RunError> {
    match (format, base) {
        (ReportFormat::Table, None) => Ok(report.to_string().into_bytes()),
        (ReportFormat::Json, None) => Ok(json(report)?.into_bytes()),
        (ReportFormat::Folded, None) => Ok(folded::folded(report).into_bytes()),
        (ReportFormat::Svg, None) => svg(report),
        (ReportFormat::Pprof, None) => pprof(report),
        (ReportFormat::Html, None) => html(report, None),
        (ReportFormat::Table, Some(base)) => Ok(diff::diff(base, report).to_string().into_bytes()),
        (ReportFormat::Json, Some(base)) => Ok(json(&diff::diff(base, report).rows)?.into_bytes()),
        (ReportFormat::Folded | ReportFormat::Svg | ReportFormat::Pprof | ReportFormat::Html, Some(_)) => {
            Err(RunError("--diff renders as --format table or json".into()))
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, RunError> {
    serde_json::to_string_pretty(value).map(|s| s + "\n").map_err(|e| RunError(format!("cannot write JSON: {e}")))
}

/// The HTML page of `report`, with the findings of the lint's JSON output at `findings`
/// beside the locks they are about.
pub fn html(report: &Report, findings: Option<&Path>) -> Result<Vec<u8>, RunError> {
    let notes = match findings {
        Some(path) => notes(report, path)?,
        None => Vec::new(),
    };
    let graph = svg(report).ok().and_then(|bytes| String::from_utf8(bytes).ok());
    Ok(lockscope_report::html::html(report, graph.as_deref(), &notes).into_bytes())
}

/// The findings of `lint --format json` output (one object a line) that are about a
/// lock of the report: a site of the lock (built or acquired) lies on the finding's
/// lines or a note's, in the same file.
fn notes(report: &Report, path: &Path) -> Result<Vec<lockscope_report::html::Note>, RunError> {
    let shown = path.display();
    let bytes = crate::input::read_any(path, MAX_REPORT_BYTES)
        .map_err(|e| RunError(format!("cannot read findings {shown}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| RunError(format!("{shown}: not UTF-8")))?;
    let mut notes = Vec::new();
    let mut sources: std::collections::HashMap<String, Option<String>> = std::collections::HashMap::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| {
            RunError(format!("{shown}:{}: not a lint finding (`lint --format json` output): {e}", n + 1))
        })?;
        let field = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_str).map(str::to_string);
        let lines = |v: &serde_json::Value| {
            let start = v.get("line").and_then(serde_json::Value::as_u64).unwrap_or(0) as usize;
            let end = v.get("end_line").and_then(serde_json::Value::as_u64).map_or(start, |e| e as usize);
            (field(v, "path").unwrap_or_default(), start..=end)
        };
        let (Some(rule), Some(message)) = (field(&value, "rule"), field(&value, "message")) else {
            return Err(RunError(format!("{shown}:{}: not a lint finding (no \"rule\" or \"message\")", n + 1)));
        };
        let mut places = vec![lines(&value)];
        if let Some(related) = value.get("related").and_then(serde_json::Value::as_array) {
            places.extend(related.iter().map(lines));
        }
        let (file, first) = (places[0].0.clone(), *places[0].1.start());
        // The field or variable the finding's line declares (`archive: Mutex<…>`), which
        // a site's line names (`self.archive.lock()`), as `lint --profile` matches them.
        let mut text_of = |f: &str, line: usize| -> Option<String> {
            let text = sources.entry(f.to_string()).or_insert_with(|| {
                crate::input::read_any(Path::new(f), MAX_REPORT_BYTES).ok().and_then(|b| String::from_utf8(b).ok())
            });
            text.as_ref().and_then(|t| t.lines().nth(line.checked_sub(1)?)).map(str::to_string)
        };
        let subject = text_of(&file, first).and_then(|l| crate::profile::subject_of_line(&l));
        for lock in &report.locks {
            let sites = std::iter::once(lock.created_at.as_str()).chain(lock.sites.iter().map(|s| s.site.as_str()));
            let matches = sites.filter_map(crate::profile::parse_site).any(|(site_file, site_line)| {
                let on_lines = places
                    .iter()
                    .any(|(f, range)| crate::profile::same_file(site_file, f) && range.contains(&site_line));
                let names_subject = crate::profile::same_file(site_file, &file)
                    && subject.as_deref().is_some_and(|name| {
                        text_of(&file, site_line).is_some_and(|t| crate::profile::mentions_word(&t, name))
                    });
                on_lines || names_subject
            });
            if matches {
                notes.push(lockscope_report::html::Note {
                    lock: lock.name.clone(),
                    rule: rule.clone(),
                    location: format!("{file}:{first}"),
                    message: message.clone(),
                });
            }
        }
    }
    Ok(notes)
}

#[cfg(feature = "pprof")]
fn pprof(report: &Report) -> Result<Vec<u8>, RunError> {
    lockscope_report::pprof::pprof(report).map_err(|e| RunError(format!("cannot write the profile: {e}")))
}

#[cfg(not(feature = "pprof"))]
fn pprof(_report: &Report) -> Result<Vec<u8>, RunError> {
    Err(RunError("this cargo-lockscope was built without the `pprof` feature".into()))
}

#[cfg(feature = "svg")]
fn svg(report: &Report) -> Result<Vec<u8>, RunError> {
    lockscope_report::svg::flamegraph(report).map_err(|e| RunError(e.to_string()))
}

#[cfg(not(feature = "svg"))]
fn svg(_report: &Report) -> Result<Vec<u8>, RunError> {
    Err(RunError(
        "this cargo-lockscope was built without the `svg` feature; use --format folded with a flamegraph tool".into(),
    ))
}
