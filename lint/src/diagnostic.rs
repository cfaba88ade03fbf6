//! The findings model: what every rule emits and every renderer reads.

use crate::source::{Region, SourceFile};
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
    let Some(at) = line.find("//") else { return false };
    let comment = line[at + 2..].trim_start_matches(['/', '!']).trim_start();
    let Some(rest) = comment.strip_prefix("lockscope:") else { return false };
    let Some(rest) = rest.trim_start().strip_prefix("allow(") else { return false };
    let Some(close) = rest.find(')') else { return false };
    rest[..close].split(',').any(|name| name.trim() == rule)
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
    }
}
