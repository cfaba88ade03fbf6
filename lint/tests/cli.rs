//! The `cargo-lockscope` binary as users run it: exit codes, formats, errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lockscope(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-lockscope")).args(args).current_dir(cwd).output().expect("binary runs")
}

/// A fresh folder with the given files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, files: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("lockscope-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const FLAGGED: &str = "use std::sync::Mutex;\nuse std::fs::File;\npub struct S {\n    f: Mutex<File>,\n}\n";
const CLEAN: &str = "use std::sync::Mutex;\npub struct S {\n    v: Mutex<Vec<u8>>,\n}\n";

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn clean_code_exits_zero() {
    let dir = Scratch::new("clean", &[("a.rs", CLEAN)]);
    let out = lockscope(&["lint", "a.rs"], &dir.0);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("0 findings in 0 files (1 files checked in"), "{}", stderr(&out));
}

#[test]
fn findings_exit_one_with_rustc_style_output() {
    let dir = Scratch::new("human", &[("a.rs", FLAGGED)]);
    let out = lockscope(&["lint", "a.rs"], &dir.0);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("warning[mutex_read_seek]: lock around a `Read + Seek` value: `Mutex<File>` → `File`"),
        "{text}"
    );
    assert!(text.contains("--> a.rs:4:8"), "{text}");
    assert!(text.contains("4 |     f: Mutex<File>,"), "{text}");
    assert!(text.contains("^^^^^^^^^^^") || text.contains("-----------"), "caret under the span: {text}");
    assert!(text.contains("= help: read the file with positional reads"), "{text}");
    assert!(stderr(&out).starts_with("1 findings in 1 files (1 files checked in"), "{}", stderr(&out));
}

#[test]
fn json_lines_carry_the_documented_keys() {
    let dir = Scratch::new("json", &[("a.rs", FLAGGED), ("b.rs", FLAGGED)]);
    let out = lockscope(&["lint", ".", "--format", "json"], &dir.0);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> =
        stdout(&out).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(lines.len(), 2);
    let first = &lines[0];
    assert_eq!(first["rule"], "mutex_read_seek");
    assert_eq!(first["severity"], "warning");
    assert_eq!(first["path"], "./a.rs");
    assert_eq!((first["line"].as_u64(), first["column"].as_u64()), (Some(4), Some(8)));
    assert_eq!((first["end_line"].as_u64(), first["end_column"].as_u64()), (Some(4), Some(19)));
    assert!(first["message"].as_str().is_some_and(|m| m.contains("`Mutex<File>`")));
    assert!(first["help"].as_str().is_some_and(|h| h.contains("read_at")));
}

#[test]
fn a_file_that_does_not_parse_is_a_finding_and_the_rest_is_still_linted() {
    let broken = "use std::sync::Mutex;\nfn broken( {\n";
    let dir = Scratch::new("syntax", &[("bad.rs", broken), ("good.rs", FLAGGED)]);
    let out = lockscope(&["lint", ".", "--format", "json"], &dir.0);
    assert_eq!(out.status.code(), Some(1));
    let rules: Vec<(String, String)> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .map(|v| (v["path"].as_str().unwrap_or("").to_string(), v["rule"].as_str().unwrap_or("").to_string()))
        .collect();
    assert_eq!(
        rules,
        [
            ("./bad.rs".to_string(), "syntax_error".to_string()),
            ("./good.rs".to_string(), "mutex_read_seek".to_string())
        ]
    );
}

#[test]
fn deeply_nested_and_huge_input_does_not_crash() {
    let deep =
        format!("use std::sync::Mutex;\nfn f() {{ let x = {}1{}; }}\n", "(".repeat(100_000), ")".repeat(100_000));
    let long = format!("use std::sync::Mutex;\nfn g() -> u32 {{ 1{} }}\n", " + 1".repeat(200_000));
    let dir = Scratch::new("deep", &[("deep.rs", &deep), ("long.rs", &long)]);
    let out = lockscope(&["lint", ".", "--format", "json"], &dir.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("\"path\":\"./deep.rs\"") && text.contains("nest 1001 levels deep"), "{text}");
    assert!(!text.contains("long.rs"), "a long flat expression parses and has no finding: {text}");
}

#[test]
fn runs_that_cannot_be_done_exit_two() {
    let dir = Scratch::new("errors", &[("a.rs", CLEAN)]);
    let missing = lockscope(&["lint", "no/such/path.rs"], &dir.0);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("`no/such/path.rs` does not exist"), "{}", stderr(&missing));

    let unknown_rule = lockscope(&["lint", "a.rs", "--rule", "nope"], &dir.0);
    assert_eq!(unknown_rule.status.code(), Some(2));
    assert!(stderr(&unknown_rule).contains("unknown rule `nope`"));

    let bad_flag = lockscope(&["lint", "--format", "xml"], &dir.0);
    assert_eq!(bad_flag.status.code(), Some(2));

    let no_workspace = lockscope(&["lint"], &dir.0);
    assert_eq!(no_workspace.status.code(), Some(2));
    assert!(stderr(&no_workspace).contains("no cargo workspace found"), "{}", stderr(&no_workspace));
}

#[test]
fn lints_the_cargo_workspace_through_cargo_metadata() {
    let manifest = "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";
    let dir = Scratch::new(
        "workspace",
        &[
            ("Cargo.toml", manifest),
            (
                "src/lib.rs",
                "pub mod store;\n#[path = \"platform/unix_impl.rs\"]\nmod imp;\nmod outer {\n    mod inner;\n}\n",
            ),
            ("src/store.rs", FLAGGED),
            ("src/platform/unix_impl.rs", FLAGGED),
            ("src/outer/inner.rs", FLAGGED),
            ("src/unused.rs", FLAGGED),
            ("tests/it.rs", CLEAN),
            ("tests/fixtures/case.rs", FLAGGED),
            ("target/debug/gen.rs", FLAGGED),
        ],
    );
    let out = lockscope(&["lockscope", "lint", "--format", "json"], &dir.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let paths: Vec<String> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["path"].as_str().unwrap_or("").to_string())
        .collect();
    // Only the targets' sources, followed through `mod` (with `#[path]` and inline
    // modules), relative to the workspace root: no fixture, no unused file, no target/.
    assert_eq!(paths, ["src/outer/inner.rs", "src/platform/unix_impl.rs", "src/store.rs"]);

    let elsewhere = Scratch::new("workspace-elsewhere", &[("x.txt", "")]);
    let manifest_path = dir.0.join("Cargo.toml");
    let out = lockscope(&["lint", "--manifest-path", manifest_path.to_str().unwrap_or("")], &elsewhere.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn rule_selection_and_stats() {
    let dir = Scratch::new("stats", &[("a.rs", FLAGGED)]);
    let out = lockscope(&["lint", "a.rs", "--rule", "mutex_read_seek", "--stats"], &dir.0);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let stats = err.lines().find(|l| l.starts_with("stats:")).expect("stats line");
    for key in ["files=1", "bytes=", "parse_s=", "analysis_s=", "mb_per_s="] {
        assert!(stats.contains(key), "{stats}");
    }
}

#[test]
fn rules_and_explain() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = lockscope(&["rules"], here);
    assert_eq!(rules.status.code(), Some(0));
    assert!(stdout(&rules).starts_with("mutex_read_seek  Flags a lock"), "{}", stdout(&rules));

    let explain = lockscope(&["explain", "mutex_read_seek"], here);
    assert_eq!(explain.status.code(), Some(0));
    let doc = stdout(&explain);
    for section in ["# mutex_read_seek", "## Why is this bad?", "## Example", "## Use instead", "## Known limits"] {
        assert!(doc.contains(section), "{doc}");
    }
    assert_eq!(lockscope(&["explain", "nope"], here).status.code(), Some(2));
}
