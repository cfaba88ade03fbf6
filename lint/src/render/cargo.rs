//! `--message-format json`: cargo's `compiler-message` JSON lines carrying rustc-shaped
//! diagnostics, which editors already read from `cargo check` (rust-analyzer's
//! `check.overrideCommand`).

use crate::diagnostic::Finding;
use crate::source::{Region, SourceFile};
use serde_json::json;

/// One `compiler-message` line. `root` is the folder relative paths are relative to.
pub fn render(finding: &Finding, root: &std::path::Path) -> String {
    let mut children: Vec<_> = finding
        .related
        .iter()
        .map(|r| {
            let span = span(&r.file, r.region, &r.message, false);
            json!({"message": r.message, "code": null, "level": "note", "spans": [span], "children": [], "rendered": null})
        })
        .collect();
    children.extend(finding.help.iter().map(
        |help| json!({"message": help, "code": null, "level": "help", "spans": [], "children": [], "rendered": null}),
    ));
    let absolute = root.join(finding.path());
    json!({
        "reason": "compiler-message",
        "package_id": format!("path+file://{}#lockscope-findings", root.display()),
        "manifest_path": root.join("Cargo.toml"),
        "target": {
            "kind": ["lib"],
            "crate_types": ["lib"],
            "name": "lockscope-findings",
            "src_path": absolute,
            "edition": "2021",
            "doc": true,
            "doctest": false,
            "test": false,
        },
        "message": {
            "$message_type": "diagnostic",
            "message": finding.message,
            "code": { "code": format!("lockscope::{}", finding.rule), "explanation": null },
            "level": finding.severity.as_str(),
            "spans": [span(&finding.file, finding.region, &finding.label, true)],
            "children": children,
            "rendered": crate::render::human::render(finding, false) + "\n",
        },
    })
    .to_string()
}

/// A rustc diagnostic span over `region` of `file`.
fn span(file: &SourceFile, region: Region, label: &str, primary: bool) -> serde_json::Value {
    let (start, end) = (region.start, region.end);
    let byte_start = file.offset(start.line, start.column);
    let byte_end = file.offset(end.line, end.column).max(byte_start);
    let line_text = file.line_text(start.line);
    let highlight_end = if end.line == start.line { end.column.max(start.column + 1) } else { line_text.len() + 1 };
    json!({
        "file_name": file.display,
        "byte_start": byte_start,
        "byte_end": byte_end,
        "line_start": start.line,
        "line_end": end.line,
        "column_start": start.column,
        "column_end": end.column,
        "is_primary": primary,
        "text": [{ "text": line_text, "highlight_start": start.column, "highlight_end": highlight_end }],
        "label": label,
        "suggested_replacement": null,
        "suggestion_applicability": null,
        "expansion": null,
    })
}
