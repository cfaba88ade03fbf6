//! The findings model: what every rule emits and every renderer reads.

use crate::source::{Position, Region, SourceFile};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub file: Arc<SourceFile>,
    pub region: Region,
    /// One sentence: what is wrong here.
    pub message: String,
    /// The short label under the caret.
    pub label: String,
    /// What to do about it.
    pub help: Option<String>,
    /// Other places of the same defect (the accessor and constructor of a flagged lock).
    pub related: Vec<Related>,
}

/// Another place a finding is about, shown as a note.
#[derive(Clone, Debug)]
pub struct Related {
    pub file: Arc<SourceFile>,
    pub region: Region,
    pub message: String,
}

impl Related {
    /// `path:line:column`, as the note shows it.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file.display, self.region.start.line, self.region.start.column)
    }
}

impl Finding {
    pub fn path(&self) -> &str {
        &self.file.display
    }

    /// Sort key: by path, then position, then rule.
    pub fn sort_key(&self) -> (&str, Region, &'static str) {
        (self.path(), self.region, self.rule)
    }
}

/// Does a `// lockscope: allow(rule) reason` comment on the finding's line, or the
/// line above it, silence it?
pub fn is_suppressed(finding: &Finding) -> bool {
    let line = finding.region.start.line;
    let above = line.checked_sub(1).filter(|&l| l >= 1).map(|l| finding.file.line_text(l));
    // The line above counts only as a comment line of its own, not as another
    // statement's trailing comment.
    allows(finding.file.line_text(line), finding.rule)
        || above.is_some_and(|text| text.trim_start().starts_with("//") && allows(text, finding.rule))
}

fn allows(line: &str, rule: &str) -> bool {
    allow_list(line).is_some_and(|names| names.iter().any(|(name, _)| *name == rule))
}

/// The rule names of a `// lockscope: allow(a, b) reason` comment on `line`, each with
/// its byte offset in the line.
fn allow_list(line: &str) -> Option<Vec<(&str, usize)>> {
    let at = line.find("//")?;
    // Inside a string literal (an odd number of unescaped quotes before it), it is text.
    let quotes = line[..at].char_indices().filter(|&(i, c)| c == '"' && !line[..i].ends_with('\\')).count();
    if quotes % 2 == 1 {
        return None;
    }
    let comment = line[at + 2..].trim_start_matches(['/', '!']).trim_start();
    let rest = comment.strip_prefix("lockscope:")?.trim_start().strip_prefix("allow(")?;
    let close = rest.find(')')?;
    let list_start = line.len() - rest.len();
    let mut names = Vec::new();
    let mut offset = list_start;
    for part in rest[..close].split(',') {
        let name = part.trim();
        names.push((name, offset + (part.len() - part.trim_start().len())));
        offset += part.len() + 1;
    }
    Some(names)
}

/// The rule name of a file that cannot be read or parsed (and of a suppression that
/// names no rule).
pub const SYNTAX_ERROR: &str = "syntax_error";

/// A finding for each rule name in a `// lockscope: allow(…)` comment of `file` that no
/// rule has: such a comment silences nothing, and nobody would notice. `known` lists the
/// rules, for the help.
pub fn unknown_suppressions(file: &Arc<SourceFile>, is_rule: impl Fn(&str) -> bool, known: &str) -> Vec<Finding> {
    if !file.text.contains("lockscope:") {
        return Vec::new();
    }
    let mut found = Vec::new();
    for line in 1..=file.line_count() {
        let text = file.line_text(line);
        for (name, offset) in allow_list(text).unwrap_or_default() {
            if is_rule(name) {
                continue;
            }
            let column = text[..offset].chars().count() + 1;
            let end = column + name.chars().count().max(1);
            let shown = if name.is_empty() { "an empty rule name".to_string() } else { format!("`{name}`") };
            found.push(Finding {
                rule: SYNTAX_ERROR,
                severity: Severity::Warning,
                file: file.clone(),
                region: Region { start: Position { line, column }, end: Position { line, column: end } },
                message: format!(
                    "this suppression names {shown}, which is not a lockscope rule, so it silences nothing"
                ),
                label: "unknown rule".into(),
                help: Some(format!("write a rule's name as `cargo lockscope rules` lists it; {known}")),
                related: Vec::new(),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::allows;

    #[test]
    fn allow_comments() {
        assert!(allows("x: Mutex<File>, // lockscope: allow(mutex_read_seek) one reader", "mutex_read_seek"));
        assert!(allows("// lockscope: allow(aliased_buffer, mutex_read_seek)", "mutex_read_seek"));
        assert!(!allows("// lockscope: allow(aliased_buffer)", "mutex_read_seek"));
        assert!(!allows("// allow(mutex_read_seek)", "mutex_read_seek"));
        assert!(!allows(r#"let s = "x // lockscope: allow(mutex_read_seek)";"#, "mutex_read_seek"), "in a string");
        assert!(allows(r#"let s = "a\"b"; // lockscope: allow(mutex_read_seek)"#, "mutex_read_seek"));
    }

    #[test]
    fn unknown_rule_names_are_found_where_they_are_written() {
        use crate::source::{ModulePath, SourceFile};
        use std::sync::Arc;
        let text = "let a = 1; // lockscope: allow(mutex_read_seek, mutex_read_sek) typo\n// lockscope: allow()\n";
        let file = Arc::new(SourceFile::new("a.rs".into(), "a.rs".into(), ModulePath::root("src"), true, text.into()));
        let found = super::unknown_suppressions(&file, |n| n == "mutex_read_seek", "the rules are: mutex_read_seek");
        let at: Vec<_> = found.iter().map(|f| (f.region.start.line, f.region.start.column)).collect();
        assert_eq!(at, [(1, 49), (2, 21)]);
        assert!(found[0].message.contains("`mutex_read_sek`"), "{}", found[0].message);
    }
}
