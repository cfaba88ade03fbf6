//! `--format json`: one JSON object per line per finding.

use crate::diagnostic::Finding;
use crate::profile::Measured;
use serde_json::json;

/// With `--profile`, `measured` adds what the profiler saw of the finding's lock.
pub fn render(finding: &Finding, measured: Option<&Measured>) -> String {
    let mut object = json!({
        "rule": finding.rule,
        "severity": finding.severity.as_str(),
        "path": finding.path(),
        "line": finding.region.start.line,
        "column": finding.region.start.column,
        "end_line": finding.region.end.line,
        "end_column": finding.region.end.column,
        "message": finding.message,
        "label": finding.label,
        "help": finding.help,
    });
    if !finding.related.is_empty() {
        object["related"] = finding
            .related
            .iter()
            .map(|r| {
                json!({
                    "path": r.file.display,
                    "line": r.region.start.line,
                    "column": r.region.start.column,
                    "end_line": r.region.end.line,
                    "end_column": r.region.end.column,
                    "message": r.message,
                })
            })
            .collect();
    }
    if let Some(m) = measured {
        object["measured"] = json!(m);
    }
    object.to_string()
}
