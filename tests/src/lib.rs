//! End-to-end tests across lockscope's crates and examples live in `tests/`; this
//! library holds what they share.

use lockscope_lint::diagnostic::Finding;
use lockscope_lint::discover::Scope;
use lockscope_lint::{lint, LintOptions};
use std::path::{Path, PathBuf};

/// The folder of the example package `name` (`zip-bundle`, `sample-store`).
pub fn example_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}

/// The 1-based line of the first line of `file` containing `needle`.
pub fn line_of(file: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(file).expect("example source");
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1).expect("needle in file")
}

/// Lint a folder with every rule, as `cargo lockscope lint DIR` does.
pub fn lint_dir(dir: &Path) -> Vec<Finding> {
    lint(&LintOptions { scope: Scope::Paths(vec![dir.to_path_buf()]), rules: vec![] }).expect("lint runs").findings
}

/// `(file name, line, rule)` of each finding.
pub fn summarize(findings: &[Finding]) -> Vec<(String, usize, &'static str)> {
    findings
        .iter()
        .map(|f| {
            let name = Path::new(f.path()).file_name().unwrap_or_default().to_string_lossy().into_owned();
            (name, f.region.start.line, f.rule)
        })
        .collect()
}
