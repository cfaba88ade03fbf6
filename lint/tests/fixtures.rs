//! Runs every rule over its fixtures in `tests/fixtures/<rule>/`.
//!
//! A fixture is a file (linted as a one-file package) or a folder laid out like a
//! package (`src/lib.rs`, `src/a.rs`, …; with a `Cargo.toml`, its edition counts). A line expected to start a finding ends
//! with `//~ rule_name`; every other line must have none. The rendered messages are
//! pinned by an `insta` snapshot per rule.

use lockscope_lint::discover::{FileInput, PackageInput};
use lockscope_lint::source::{module_path_for, ModulePath};
use lockscope_lint::{lint_packages, render, rules};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("fixture folder").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn fixture_packages(folder: &Path) -> Vec<PackageInput> {
    let mut entries: Vec<_> = std::fs::read_dir(folder).expect("fixture folder").flatten().map(|e| e.path()).collect();
    entries.sort();
    let display = |p: &Path| p.strip_prefix(folder).unwrap_or(p).to_string_lossy().replace('\\', "/");
    entries
        .into_iter()
        .filter_map(|entry| {
            if entry.is_dir() {
                let mut files = Vec::new();
                rs_files(&entry, &mut files);
                let inputs = files
                    .into_iter()
                    .map(|path| FileInput {
                        module: module_path_for(&entry, &path),
                        display: display(&path),
                        path,
                        report: true,
                    })
                    .collect();
                // A fixture crate with a Cargo.toml has its edition (2015 without the key).
                let manifest = lockscope_lint::manifest::read_package(&entry);
                let edition = manifest.as_ref().map_or(lockscope_lint::manifest::Edition::E2021, |p| p.edition);
                Some(PackageInput {
                    root: entry,
                    proc_macro: manifest.as_ref().is_some_and(|p| p.proc_macro),
                    lib_name: manifest.and_then(|p| p.lib_name),
                    edition,
                    files: inputs,
                    config: Default::default(),
                    dependencies: Vec::new(),
                    folders: Vec::new(),
                })
            } else if entry.extension().is_some_and(|e| e == "rs") {
                let file = FileInput {
                    module: ModulePath::root("src"),
                    display: display(&entry),
                    path: entry.clone(),
                    report: true,
                };
                Some(PackageInput {
                    root: folder.to_path_buf(),
                    lib_name: None,
                    proc_macro: false,
                    edition: lockscope_lint::manifest::Edition::E2021,
                    files: vec![file],
                    config: Default::default(),
                    dependencies: Vec::new(),
                    folders: Vec::new(),
                })
            } else {
                None
            }
        })
        .collect()
}

/// `(path, line, rule)` for every `//~ rule` annotation.
fn expected(folder: &Path) -> BTreeSet<(String, usize, String)> {
    let mut files = Vec::new();
    rs_files(folder, &mut files);
    let mut expected = BTreeSet::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("fixture file");
        let shown = path.strip_prefix(folder).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        for (i, line) in text.lines().enumerate() {
            if let Some((_, rules)) = line.split_once("//~ ") {
                for rule in rules.split_whitespace() {
                    expected.insert((shown.clone(), i + 1, rule.to_string()));
                }
            }
        }
    }
    expected
}

fn check_rule(rule_name: &str) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rule_name);
    let rule = rules::by_name(rule_name).expect("rule exists");
    let outcome = lint_packages(&[rule], fixture_packages(&folder));
    let actual: BTreeSet<_> =
        outcome.findings.iter().map(|f| (f.path().to_string(), f.region.start.line, f.rule.to_string())).collect();
    let expected = expected(&folder);
    let missing: Vec<_> = expected.difference(&actual).collect();
    let unexpected: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "rule {rule_name}:\n  expected but not found: {missing:#?}\n  found but not expected: {unexpected:#?}"
    );
    let rendered: String = outcome.findings.iter().map(|f| render::human::render(f, false) + "\n").collect();
    insta::assert_snapshot!(rule_name, rendered);
}

#[test]
fn mutex_read_seek() {
    check_rule("mutex_read_seek");
}

#[test]
fn aliased_buffer() {
    check_rule("aliased_buffer");
}

#[test]
fn guard_across_await() {
    check_rule("guard_across_await");
}

#[test]
fn lock_across_io() {
    check_rule("lock_across_io");
}
