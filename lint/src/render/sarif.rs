//! `--format sarif`: one SARIF 2.1.0 log with one run, for GitHub code scanning and
//! other SARIF viewers. Every rule is listed with its documentation; each finding is a
//! result with its physical location.

use crate::diagnostic::Finding;
use crate::rules;
use crate::source::Region;
use serde_json::{json, Value};

/// Where each rule's documentation lives (its source file's top comment).
fn help_uri(rule: &str) -> String {
    let repo = env!("CARGO_PKG_REPOSITORY");
    match rules::by_name(rule) {
        Some(_) => format!("{repo}/blob/main/lint/src/rules/{rule}.rs"),
        None => format!("{repo}#the-lint"),
    }
}

fn rule_descriptor(id: &str, summary: &str, doc: &str) -> Value {
    json!({
        "id": id,
        "name": id,
        "shortDescription": { "text": summary },
        "fullDescription": { "text": summary },
        "help": { "text": doc, "markdown": doc },
        "helpUri": help_uri(id),
        "defaultConfiguration": { "level": "warning" },
    })
}

fn physical(path: &str, region: Region) -> Value {
    json!({
        "artifactLocation": artifact(path),
        "region": {
            "startLine": region.start.line,
            "startColumn": region.start.column,
            "endLine": region.end.line,
            "endColumn": region.end.column.max(region.start.column + 1),
        },
    })
}

/// The whole SARIF log for a run's findings.
pub fn render(findings: &[Finding]) -> String {
    let descriptors: Vec<Value> =
        rules::all().iter().map(|r| rule_descriptor(r.name(), &r.summary(), &r.doc())).collect();
    let ids: Vec<&str> = rules::all().iter().map(|r| r.name()).collect();

    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let text = match &f.help {
                Some(help) => format!("{} ({}). Help: {help}", f.message, f.label),
                None => format!("{} ({})", f.message, f.label),
            };
            let mut result = json!({
                "ruleId": f.rule,
                "ruleIndex": ids.iter().position(|id| *id == f.rule).unwrap_or(0),
                "level": "warning",
                "message": { "text": text },
                "locations": [{ "physicalLocation": physical(f.path(), f.region) }],
            });
            if !f.related.is_empty() {
                result["relatedLocations"] = f
                    .related
                    .iter()
                    .enumerate()
                    .map(|(id, r)| {
                        json!({
                            "id": id,
                            "physicalLocation": physical(&r.file.display, r.region),
                            "message": { "text": r.message },
                        })
                    })
                    .collect();
            }
            result
        })
        .collect();

    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "lockscope",
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "version": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The folder lockscope was run from, or the workspace root." } } },
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}

/// A relative path is relative to the source root; an absolute one is a `file:` URI.
fn artifact(path: &str) -> Value {
    let uri: String = path.replace('\\', "/").split('/').map(encode_segment).collect::<Vec<_>>().join("/");
    if path.starts_with('/') {
        json!({ "uri": format!("file://{uri}") })
    } else {
        json!({ "uri": uri, "uriBaseId": "%SRCROOT%" })
    }
}

/// Percent-encode what may not appear in a URI path segment.
fn encode_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'+' | b'@' | b'=' | b',' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
