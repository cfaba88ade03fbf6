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
        (ReportFormat::Table, Some(base)) => Ok(diff::diff(base, report).to_string().into_bytes()),
        (ReportFormat::Json, Some(base)) => Ok(json(&diff::diff(base, report).rows)?.into_bytes()),
        (ReportFormat::Folded | ReportFormat::Svg | ReportFormat::Pprof, Some(_)) => {
            Err(RunError("--diff renders as --format table or json".into()))
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, RunError> {
    serde_json::to_string_pretty(value).map(|s| s + "\n").map_err(|e| RunError(format!("cannot write JSON: {e}")))
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
