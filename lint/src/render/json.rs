//! `--format json`: one JSON object per line per finding.

use crate::diagnostic::Finding;
use serde_json::json;

pub fn render(finding: &Finding) -> String {
    json!({
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
    })
    .to_string()
}
