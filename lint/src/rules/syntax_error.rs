//! # syntax_error
//!
//! A file lockscope needed to read could not be read or parsed, or a `// lockscope:`
//! comment names no rule lockscope knows. The other files were still linted.
//!
//! ## Why is this bad?
//! lockscope never compiles code, so it reads each file itself with `syn`. A file it
//! cannot read is a file whose locks were not checked: the report is silent about it, not
//! clean. It is an error (exit status 1), so CI notices. Reported for:
//! - code that does not parse (code that rustc accepts is not reported, whatever its
//!   edition: 2015's unnamed trait-method parameters included);
//! - code nested deeper than lockscope analyses (thousands of levels of types, closures,
//!   operators or blocks inside one another: generated code, or input made to crash tools);
//! - a file that is not UTF-8 (at its first bad byte), or not a regular file;
//! - a suppression comment naming no known rule (`// lockscope: allow(mutex_read_sek)`),
//!   which would otherwise silence nothing without anyone noticing (a warning).
//!
//! Files larger than `max_file_size` (configuration, default 10 MB) are not parsed: the run's
//! summary lists them.
//!
//! ## Example
//! ```text
//! error[syntax_error]: this file does not parse: expected `:`
//!  --> src/broken.rs:2:11
//! ```
//!
//! ## Use instead
//! Fix the file, or the rule name in the comment. To lint a larger file, raise
//! `max_file_size`. To stop reporting a file lockscope cannot read (a test fixture of
//! invalid code), `allow = ["syntax_error"]` in the configuration, or exclude it from the
//! paths you lint.
//!
//! ## Known limits
//! Only the files some rule needs are parsed (those mentioning a lock, a spawn, …), so a
//! file that mentions none is not checked for syntax either. `--rule syntax_error` parses
//! those same files and reports only this rule.

use super::{module_doc, PackageContext, Rule};
use crate::diagnostic::Finding;
use crate::prefilter::Prefilter;

/// Reported by the engine itself (loading and parsing), not by an analysis.
pub struct SyntaxError;

impl Rule for SyntaxError {
    fn name(&self) -> &'static str {
        crate::parse::SYNTAX_ERROR
    }

    fn doc(&self) -> String {
        module_doc(include_str!("syntax_error.rs"))
    }

    fn prefilter(&self) -> Prefilter {
        Prefilter { any: &[], pairs: &[], with_followed: &[] }
    }

    fn needed_names(&self, _file: &syn::File, _out: &mut Vec<String>) {}

    fn check(&self, _cx: &PackageContext<'_, '_>, _out: &mut Vec<Finding>) {}
}
