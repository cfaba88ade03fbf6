//! `lint --profile REPORT.json`: join findings with what the profiler measured, so the
//! lock that costs most is fixed first.
//!
//! A finding matches a lock of the report when one of the lock's sites (where it was
//! built, where it was acquired) is in the finding's file and either lies on the
//! finding's lines or on a note's (the guard a `guard_across_await` or `lock_across_io`
//! finding holds was taken at its acquire site), or names the field or variable the
//! finding is about (`archive: Mutex<ZipArchive<…>>` matches `self.archive.lock()`).

use crate::diagnostic::Finding;
use lockscope_report::Report;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// What the profiler saw of the lock a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Measured {
    pub lock: String,
    pub acquisitions: u64,
    pub contended: u64,
    pub wait_ns_total: u64,
    pub wait_ns_p99: u64,
}

/// The file and line of a report's `file:line:column` site.
pub(crate) fn parse_site(site: &str) -> Option<(&str, usize)> {
    let mut parts = site.rsplitn(3, ':');
    let _column = parts.next()?;
    let line = parts.next()?.parse().ok()?;
    Some((parts.next()?, line))
}

/// Do two paths name the same file, one perhaps relative to somewhere the other is not?
pub(crate) fn same_file(a: &str, b: &str) -> bool {
    let (a, b) = (a.replace('\\', "/"), b.replace('\\', "/"));
    let (a, b) = (a.trim_start_matches("./"), b.trim_start_matches("./"));
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    long == short || long.ends_with(&format!("/{short}"))
}

/// The field or variable a finding's first line declares (`archive: Mutex<…>`,
/// `let archive = Mutex::new(…)`, `static ARCHIVE: …`), if any.
fn subject(finding: &Finding) -> Option<String> {
    subject_of_line(finding.file.line_text(finding.region.start.line))
}

/// The field or variable a line declares, if any.
pub(crate) fn subject_of_line(line: &str) -> Option<String> {
    let before_colon = line.split([':', '=']).next()?.trim();
    let name = before_colon.rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).next()?;
    (!name.is_empty() && !name.chars().all(|c| c.is_ascii_digit())).then(|| name.to_string())
}

pub(crate) fn mentions_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

/// For each finding, the lock it matched (the one with the most wait), if any.
pub fn join(findings: &[Finding], report: &Report, root: &Path) -> Vec<Option<Measured>> {
    let mut texts: HashMap<String, Option<String>> = HashMap::new();
    let mut line_of = |file: &str, line: usize, finding: &Finding| -> Option<String> {
        if same_file(file, finding.path()) {
            return Some(finding.file.line_text(line).to_string());
        }
        let text = texts.entry(file.to_string()).or_insert_with(|| std::fs::read_to_string(root.join(file)).ok());
        text.as_ref().and_then(|t| t.lines().nth(line.checked_sub(1)?)).map(str::to_string)
    };
    findings
        .iter()
        .map(|finding| {
            let subject = subject(finding);
            let lines = finding.region.start.line..=finding.region.end.line;
            let noted = |line: usize| {
                finding.related.iter().any(|r| {
                    same_file(r.file.display.as_str(), finding.path())
                        && (r.region.start.line..=r.region.end.line).contains(&line)
                })
            };
            report
                .locks
                .iter()
                .filter(|lock| {
                    let sites =
                        std::iter::once(lock.created_at.as_str()).chain(lock.sites.iter().map(|s| s.site.as_str()));
                    sites.filter_map(parse_site).any(|(file, line)| {
                        if !same_file(file, finding.path()) {
                            return false;
                        }
                        lines.contains(&line)
                            || noted(line)
                            || subject.as_deref().is_some_and(|name| {
                                line_of(file, line, finding).is_some_and(|text| mentions_word(&text, name))
                            })
                    })
                })
                .max_by_key(|lock| lock.wait_ns.total)
                .map(|lock| Measured {
                    lock: lock.name.clone(),
                    acquisitions: lock.acquisitions,
                    contended: lock.contended,
                    wait_ns_total: lock.wait_ns.total,
                    wait_ns_p99: lock.wait_ns.p99,
                })
        })
        .collect()
}
