//! The `cargo-lockscope` binary as users run it: exit codes, formats, errors.

mod common;

use common::{app_using_util, json_findings, json_lines, lockscope, stderr, stdout, Scratch};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A lock around a file that is read through it (line 4).
const FLAGGED: &str = "use std::sync::Mutex;\nuse std::fs::File;\npub struct S {\n    f: Mutex<File>,\n}\nimpl S {\n    pub fn first(&self) -> u8 {\n        let mut b = [0];\n        self.f.lock().unwrap().read(&mut b).ok();\n        b[0]\n    }\n}\n";
const CLEAN: &str = "use std::sync::Mutex;\npub struct S {\n    v: Mutex<Vec<u8>>,\n}\n";

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
    // Long, as generated code has them, but a tree only 2,500 deep: no finding.
    let long = format!("use std::sync::Mutex;\nfn g() -> u32 {{ 1{} }}\n", " + 1".repeat(2_500));
    let dir = Scratch::new("deep", &[("deep.rs", &deep), ("long.rs", &long)]);
    let out = lockscope(&["lint", ".", "--format", "json"], &dir.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("\"path\":\"./deep.rs\"") && text.contains("nests more than 3000 levels deep"), "{text}");
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
    assert!(stderr(&no_workspace).contains("no Cargo.toml in"), "{}", stderr(&no_workspace));
}

#[test]
fn lints_the_cargo_workspace_found_from_its_manifests() {
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

/// A type a lock needs is looked for where it is defined or implemented, not in every
/// file that mentions it: in a real package a common type name is in most files.
#[test]
fn needed_types_are_loaded_from_their_definitions_only() {
    let lib = "mod inner;\nmod user;\nuse std::sync::Mutex;\nuse std::io::Read;\npub struct S {\n    inner: Mutex<inner::Inner>,\n}\nimpl S {\n    pub fn first(&self) -> u8 {\n        let mut b = [0];\n        self.inner.lock().unwrap().f.read(&mut b).ok();\n        b[0]\n    }\n}\n";
    let inner = "pub struct Inner {\n    pub f: std::fs::File,\n}\n";
    let user = "use crate::inner::Inner;\npub fn name(_: &Inner) -> &'static str {\n    \"inner\"\n}\n";
    let dir = Scratch::new(
        "needed-types",
        &[
            ("Cargo.toml", "[package]\nname = \"needed\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
            ("src/lib.rs", lib),
            ("src/inner.rs", inner),
            ("src/user.rs", user),
        ],
    );
    let out = lockscope(&["lint", "--rule", "mutex_read_seek", "--format", "json", "--stats"], &dir.0);
    assert_eq!(json_findings(&out), [("src/lib.rs".to_string(), "mutex_read_seek".to_string())], "{}", stderr(&out));
    let err = stderr(&out);
    let stats = err.lines().find(|l| l.starts_with("stats:")).expect("stats line");
    assert!(stats.contains(" parsed_files=2 "), "lib.rs and inner.rs only: {stats}");
}

#[test]
fn packages_kept_in_a_repository_test_folder_are_its_tests() {
    let held = "use std::sync::Mutex;\npub struct Log {\n    lines: Mutex<Vec<String>>,\n}\nimpl Log {\n    pub fn save(&self) {\n        let lines = self.lines.lock().unwrap();\n        std::fs::write(\"log\", lines.join(\"\\n\")).ok();\n    }\n}\n";
    let manifest = |name: &str| format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
    let (app, sim) = (manifest("app"), manifest("sim"));
    let workspace = "[workspace]\nmembers = [\"app\", \"testing/sim\"]\n";
    let dir = Scratch::new(
        "test-folder-packages",
        &[
            ("Cargo.toml", workspace),
            ("app/Cargo.toml", &app),
            ("app/src/lib.rs", held),
            ("testing/sim/Cargo.toml", &sim),
            ("testing/sim/src/lib.rs", held),
        ],
    );
    let expected = [("app/src/lib.rs".to_string(), "lock_across_io".to_string())];
    // Workspace mode: folders below the workspace root.
    let out = lockscope(&["lint", "--rule", "lock_across_io", "--format", "json"], &dir.0);
    assert_eq!(json_findings(&out), expected, "{}", stderr(&out));
    // Path mode: folders below the folder given.
    let out = lockscope(&["lint", ".", "--rule", "lock_across_io", "--format", "json"], &dir.0);
    let found: Vec<(String, String)> =
        json_findings(&out).into_iter().map(|(p, r)| (p.trim_start_matches("./").to_string(), r)).collect();
    assert_eq!(found, expected, "{}", stderr(&out));
    // Given by itself, the package is what was asked for.
    let out = lockscope(&["lint", "testing/sim", "--rule", "lock_across_io", "--format", "json"], &dir.0);
    assert_eq!(json_findings(&out).len(), 1, "{}", stderr(&out));
}

#[test]
fn rules_and_explain() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = lockscope(&["rules"], here);
    assert_eq!(rules.status.code(), Some(0));
    let listing = stdout(&rules);
    let listed: Vec<&str> = listing.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(listed, ["mutex_read_seek", "aliased_buffer", "guard_across_await", "lock_across_io", "syntax_error"]);
    assert!(stdout(&rules).starts_with("mutex_read_seek     Flags a lock"), "{}", stdout(&rules));

    let explain = lockscope(&["explain", "mutex_read_seek"], here);
    assert_eq!(explain.status.code(), Some(0));
    let doc = stdout(&explain);
    for section in ["# mutex_read_seek", "## Why is this bad?", "## Example", "## Use instead", "## Known limits"] {
        assert!(doc.contains(section), "{doc}");
    }
    for rule in ["guard_across_await", "lock_across_io"] {
        let doc = stdout(&lockscope(&["explain", rule], here));
        for section in
            [&format!("# {rule}")[..], "## Why is this bad?", "## Example", "## Use instead", "## Known limits"]
        {
            assert!(doc.contains(section), "{doc}");
        }
    }
    assert_eq!(lockscope(&["explain", "nope"], here).status.code(), Some(2));

    // Each rule's summary is its doc's whole first sentence, even when it wraps.
    let listed = stdout(&rules);
    assert!(
        listed.contains("aliased_buffer      Flags a use of shared mutable state whose")
            && listed.contains("after it has shared it.\n"),
        "{listed}"
    );
}

#[test]
fn a_reader_that_goes_away_is_not_a_crash() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for args in [&["explain", "aliased_buffer"][..], &["rules"], &["lint", "tests/fixtures/aliased_buffer"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-lockscope"))
            .args(args)
            .current_dir(here)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("binary runs");
        drop(child.stdout.take()); // like `| head -0`
        let out = child.wait_with_output().expect("exits");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}: {:?} {err}", out.status);
    }
}

/// A report with one contended site inside a span, and one quiet site.
fn sample_report(wait: u64) -> lockscope_report::Report {
    use lockscope_report::{LockKind, LockReport, Mode, SiteReport, SpanWait, Summary};
    let site = |name: &str, acquisitions: u64, wait: u64, spans: Vec<SpanWait>| SiteReport {
        site: name.into(),
        mode: Mode::Lock,
        acquisitions,
        contended: u64::from(wait > 0) * 3,
        wait_ns: Summary { total: wait, max: wait / 2, mean: wait / 3, p50: wait / 4, p99: wait / 2 },
        spans,
        blocked_by: vec![],
    };
    let spans = vec![SpanWait { path: "serve;lookup".into(), wait_ns_total: wait * 3 / 4, contended: 2 }];
    let lock = LockReport {
        name: "bundle-archive".into(),
        kind: LockKind::Mutex,
        created_at: "src/lib.rs:10:5".into(),
        acquisitions: 110,
        contended: 3,
        wait_ns: Summary { total: wait, p99: wait / 2, ..Summary::default() },
        hold_ns: Summary::default(),
        sites: vec![site("src/lib.rs:20:9", 100, wait, spans), site("src/lib.rs:30:9", 10, 0, vec![])],
    };
    lockscope_report::Report { version: 1, duration_ns: 1_000_000, hold_sampling: 64, locks: vec![lock] }
}

fn write_report(dir: &Path, name: &str, report: &lockscope_report::Report) -> String {
    let path = dir.join(name);
    report.write_json(&path).expect("write report");
    path.to_string_lossy().into_owned()
}

#[test]
fn report_renders_in_every_format() {
    let scratch = Scratch::new("report", &[]);
    std::fs::create_dir_all(&scratch.0).expect("mkdir");
    let path = write_report(&scratch.0, "r.json", &sample_report(4_000_000));

    let table = lockscope(&["report", &path], &scratch.0);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    assert!(stdout(&table).contains("bundle-archive") && stdout(&table).contains("top site:  src/lib.rs:20:9"));

    let json = lockscope(&["report", &path, "--format", "json"], &scratch.0);
    let back = lockscope_report::Report::from_json(&stdout(&json)).expect("json output is a report");
    assert_eq!(back.locks[0].sites[0].wait_ns.total, 4_000_000);

    let folded = lockscope(&["report", &path, "--format", "folded"], &scratch.0);
    assert_eq!(
        stdout(&folded),
        "serve;lookup;bundle-archive@src/lib.rs:20:9 3000000\nbundle-archive@src/lib.rs:20:9 1000000\n"
    );

    let svg_path = scratch.0.join("r.svg");
    let svg = lockscope(&["report", &path, "--format", "svg", "-o", &svg_path.to_string_lossy()], &scratch.0);
    assert_eq!(svg.status.code(), Some(0), "{}", stderr(&svg));
    let drawn = std::fs::read_to_string(&svg_path).expect("svg written");
    assert!(drawn.contains("<svg") && drawn.contains("bundle-archive@src/lib.rs:20:9"));
    assert!(stdout(&svg).is_empty());

    // Go's mutex profile: gzip, then profile.proto; its delay total is the report's wait.
    let pprof_path = scratch.0.join("r.pb.gz");
    let pprof = lockscope(&["report", &path, "--format", "pprof", "-o", &pprof_path.to_string_lossy()], &scratch.0);
    assert_eq!(pprof.status.code(), Some(0), "{}", stderr(&pprof));
    let gz = std::fs::read(&pprof_path).expect("profile written");
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut raw).expect("gzipped");
    let profile: lockscope_report::pprof::proto::Profile = prost::Message::decode(&raw[..]).expect("profile.proto");
    let delay: i64 = profile.sample.iter().map(|s| s.value[1]).sum();
    assert_eq!(delay, 4_000_000);
    assert_eq!(profile.sample.len(), 2);
}

#[test]
fn report_html_is_one_page_with_the_lints_findings_beside_their_locks() {
    let scratch = Scratch::new("report-html", &[]);
    std::fs::create_dir_all(&scratch.0).expect("mkdir");
    let path = write_report(&scratch.0, "r.json", &sample_report(4_000_000));
    // A finding whose note is on the lock's acquire line (src/lib.rs:20).
    let finding = r#"{"rule":"lock_across_io","path":"src/lib.rs","line":22,"end_line":22,"message":"`std::fs::read` runs while the guard is alive","related":[{"path":"src/lib.rs","line":20,"end_line":20,"message":"the guard is taken here"}]}"#;
    let other = r#"{"rule":"mutex_read_seek","path":"src/other.rs","line":3,"end_line":3,"message":"elsewhere"}"#;
    std::fs::write(scratch.0.join("findings.json"), format!("{finding}\n{other}\n")).expect("write");
    let out = lockscope(&["report", &path, "--format", "html", "--lint", "findings.json"], &scratch.0);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<table id=\"locks\">"));
    assert!(page.contains("<b>lock_across_io</b> at <code>src/lib.rs:22</code>"), "{page}");
    assert!(!page.contains("elsewhere"), "a finding about no lock of the report is left out");
    assert!(page.contains("<svg"), "the flame graph is inline");

    std::fs::write(scratch.0.join("bad.json"), "{\"rule\": 1}\nnot json\n").expect("write");
    let bad = lockscope(&["report", &path, "--format", "html", "--lint", "bad.json"], &scratch.0);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(stderr(&bad).lines().count(), 1, "{}", stderr(&bad));
    assert!(stderr(&bad).contains("bad.json:1: not a lint finding"), "{}", stderr(&bad));
    let misplaced = lockscope(&["report", &path, "--lint", "findings.json"], &scratch.0);
    assert_eq!(misplaced.status.code(), Some(2));
    assert!(stderr(&misplaced).contains("--lint goes with --format html"));
}

#[test]
fn report_diff_lists_changes_largest_first() {
    let scratch = Scratch::new("report-diff", &[]);
    std::fs::create_dir_all(&scratch.0).expect("mkdir");
    let base = write_report(&scratch.0, "base.json", &sample_report(9_000_000));
    let mut fixed = sample_report(1_000);
    fixed.locks[0].sites.retain(|s| s.site != "src/lib.rs:30:9");
    let after = write_report(&scratch.0, "after.json", &fixed);

    let table = lockscope(&["report", &after, "--diff", &base], &scratch.0);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = stdout(&table);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows[0].contains("src/lib.rs:20:9") && rows[0].contains("-9.00 ms"), "{text}");
    assert!(rows[1].contains("src/lib.rs:30:9") && rows[1].contains("10 → 0"), "{text}");

    let json = lockscope(&["report", &after, "--diff", &base, "--format", "json"], &scratch.0);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("diff JSON");
    assert_eq!(rows[0]["wait_ns_total"]["before"], 9_000_000);
    assert_eq!(rows[0]["wait_ns_total"]["after"], 1_000);
}

#[test]
fn report_errors_are_one_line_with_exit_2() {
    let scratch = Scratch::new(
        "report-errors",
        &[
            ("bad.json", "{\n  \"version\": 1,\n  oops\n}"),
            ("v2.json", "{\"version\": 2, \"locks\": []}"),
            ("other.json", "{\"name\": \"x\"}"),
        ],
    );
    let good = write_report(&scratch.0, "good.json", &sample_report(10));
    let cases: [(&[&str], &str); 5] = [
        (&["report", "missing.json"], "cannot read report missing.json"),
        (&["report", "bad.json"], "bad.json:3:3: not JSON"),
        (&["report", "v2.json"], "report version 2; this lockscope reads version 1"),
        (&["report", "other.json"], "not a lockscope report"),
        (&["report", &good, "--diff", &good, "--format", "folded"], "--diff renders as --format table or json"),
    ];
    for (args, expected) in cases {
        let out = lockscope(args, &scratch.0);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(expected), "{args:?}: {err}");
    }
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

#[test]
fn sarif_output_validates_against_the_sarif_schema() {
    let out = lockscope(&["lint", "examples", "--format", "sarif"], &examples_dir().join(".."));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let log: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON document");
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("sarif-schema-2.1.0.json")).expect("schema is JSON");
    // The OASIS schema (copied from serde-sarif 0.8.0) with one fix: its two `language`
    // patterns have a stray `]` that JSON Schema's regex dialect rejects.
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "loud".into();
    assert!(!validator.is_valid(&broken), "the schema check must be able to fail");

    let run = &log["runs"][0];
    let rule_ids: Vec<&str> =
        run["tool"]["driver"]["rules"].as_array().expect("rules").iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(rule_ids, ["mutex_read_seek", "aliased_buffer", "guard_across_await", "lock_across_io", "syntax_error"]);
    let results = run["results"].as_array().expect("results");
    let found: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            (r["ruleId"].as_str().unwrap_or(""), location["artifactLocation"]["uri"].as_str().unwrap_or(""))
        })
        .collect();
    assert_eq!(
        found,
        [("aliased_buffer", "examples/sample-store/src/lib.rs"), ("mutex_read_seek", "examples/zip-bundle/src/lib.rs")]
    );
    let rule_index = results[0]["ruleIndex"].as_u64().expect("index") as usize;
    assert_eq!(rule_ids[rule_index], "aliased_buffer");
    assert!(run["tool"]["driver"]["rules"][1]["help"]["markdown"].as_str().is_some_and(|d| d.contains("## Why")));
}

#[test]
fn message_format_json_is_cargo_compiler_messages() {
    let scratch = Scratch::new("cargo-json", &[("src/lib.rs", FLAGGED)]);
    let out = lockscope(&["lint", "src", "--message-format", "json"], &scratch.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "no summary on stderr: {}", stderr(&out));
    let text = stdout(&out);
    let messages: Vec<cargo_metadata::Message> =
        cargo_metadata::Message::parse_stream(text.as_bytes()).collect::<Result<_, _>>().expect("cargo JSON lines");
    let [cargo_metadata::Message::CompilerMessage(message)] = messages.as_slice() else {
        panic!("one compiler message: {text}");
    };
    let diagnostic = &message.message;
    assert_eq!(diagnostic.code.as_ref().map(|c| c.code.as_str()), Some("lockscope::mutex_read_seek"));
    assert_eq!(diagnostic.level, cargo_metadata::diagnostic::DiagnosticLevel::Warning);
    let span = &diagnostic.spans[0];
    assert_eq!((span.file_name.as_str(), span.line_start, span.column_start), ("src/lib.rs", 4, 8));
    assert_eq!(&FLAGGED[span.byte_start as usize..span.byte_end as usize], "Mutex<File>");
    assert!(diagnostic.children.iter().any(|c| c.level == cargo_metadata::diagnostic::DiagnosticLevel::Help));
}

#[test]
fn configuration_allows_rules_and_adds_read_seek_types() {
    const READER: &str = "use std::sync::Mutex;\npub struct Reader;\npub struct S {\n    r: Mutex<Reader>,\n}\nimpl S {\n    pub fn go(&self) { self.r.lock().unwrap().read_to_end(&mut Vec::new()).ok(); }\n}\n";
    let manifest = "[package]\nname = \"mylib\"\nversion = \"0.1.0\"\n\n[package.metadata.lockscope]\nread_seek_types = [\"mylib::Reader\"]\n";
    let scratch = Scratch::new("config", &[("Cargo.toml", manifest), ("src/lib.rs", READER)]);
    let out = lockscope(&["lint", "src", "--format", "json"], &scratch.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("`Reader` (in `read_seek_types`)"), "{}", stdout(&out));

    std::fs::write(scratch.0.join("lockscope.toml"), "allow = [\"mutex_read_seek\"]\n").expect("write");
    let out = lockscope(&["lint", "src"], &scratch.0);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn manifests_in_toml_1_1_are_read() {
    // Cargo reads TOML 1.1: an inline table may span lines (biome's manifests do).
    let manifest = "[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ntokio = {\n  version = \"1\",\n  features = [\"sync\"],\n}\n";
    let lib = "use std::sync::Mutex;\npub async fn f(m: &Mutex<u8>) {\n    let g = m.lock().unwrap();\n    tick().await;\n    drop(g);\n}\nasync fn tick() {}\n";
    let scratch = Scratch::new("toml-1-1", &[("Cargo.toml", manifest), ("src/lib.rs", lib)]);
    let out = lockscope(&["lint", "--format", "json"], &scratch.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"rule\":\"guard_across_await\""), "{}", stdout(&out));
}

#[test]
fn bad_configuration_names_the_file_and_key() {
    let cases = [
        ("lockscope.toml", "allow = [\"mutex_read_seek\"]\ncolour = true\n", "lockscope.toml: unknown field `colour`"),
        ("lockscope.toml", "allow = [\"no_such_rule\"]\n", "`allow` names unknown rule `no_such_rule`"),
        ("lockscope.toml", "allow = [\n", "lockscope.toml:1:10: unclosed array"),
        (
            "Cargo.toml",
            "[package]\nname = \"p\"\nversion = \"0.1.0\"\n[package.metadata.lockscope]\nread_seek_types = [\"a::\"]\n",
            "[package.metadata.lockscope]: `read_seek_types` entry `a::` is not a type path",
        ),
    ];
    for (file, text, expected) in cases {
        let scratch = Scratch::new("bad-config", &[(file, text), ("src/lib.rs", CLEAN)]);
        let out = lockscope(&["lint", "src"], &scratch.0);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert!(err.starts_with("error: ") && err.contains(expected), "{file}: {err}");
    }
}

#[test]
fn profile_joins_findings_with_measured_waits_and_sorts_by_them() {
    const TWO_LOCKS: &str = "use std::sync::Mutex;\nuse std::fs::File;\npub struct T {\n    g: Mutex<File>,\n}\npub struct S {\n    f: Mutex<File>,\n}\nimpl S {\n    pub fn read(&self) { let _g = self.f.lock(); }\n    pub fn more(&self, t: &T) { self.f.lock().unwrap().read(&mut []).ok(); t.g.lock().unwrap().read(&mut []).ok(); }\n}\n";
    let scratch = Scratch::new("profile", &[("src/lib.rs", TWO_LOCKS)]);
    let mut report = sample_report(7_000_000);
    report.locks[0].name = "file-lock".into();
    report.locks[0].sites[0].site = "src/lib.rs:10:45".into();
    report.locks[0].created_at = "src/main.rs:1:1".into();
    let path = write_report(&scratch.0, "profile.json", &report);

    let out = lockscope(&["lint", "src", "--format", "json", "--profile", &path], &scratch.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 2);
    // `S.f` (line 7) waited, so it comes first although `T.g` (line 4) is earlier in the file.
    assert_eq!(rows[0]["line"], 7);
    assert_eq!(rows[0]["measured"]["lock"], "file-lock");
    assert_eq!(rows[0]["measured"]["wait_ns_total"], 7_000_000);
    assert_eq!(rows[0]["measured"]["wait_ns_p99"], 3_500_000);
    assert_eq!(rows[1]["line"], 4);
    assert!(rows[1].get("measured").is_none());

    let human = lockscope(&["lint", "src", "--profile", &path], &scratch.0);
    assert!(stdout(&human).contains("= measured: lock `file-lock` waited 7.00 ms in all, p99 3.50 ms"));
    assert!(stdout(&human).contains("= measured: no lock of the profile matches this finding"));

    let missing = lockscope(&["lint", "src", "--profile", "nope.json"], &scratch.0);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read report nope.json"));
}

#[test]
fn profile_joins_guard_findings_through_the_guards_acquire_site() {
    // `lock_across_io` at the `fs::read` (line 9); its guard is taken on line 8, which is
    // where the profiler saw the lock acquired.
    const CACHE: &str = "use std::collections::HashMap;\nuse std::sync::Mutex;\npub struct Cache {\n    entries: Mutex<HashMap<String, Vec<u8>>>,\n}\nimpl Cache {\n    pub fn get(&self, key: &str) -> Vec<u8> {\n        let mut entries = self.entries.lock().unwrap();\n        let bytes = std::fs::read(key).unwrap_or_default();\n        entries.entry(key.to_string()).or_insert(bytes).clone()\n    }\n}\n";
    let scratch = Scratch::new("profile-guard", &[("src/lib.rs", CACHE)]);
    let mut report = sample_report(9_000_000);
    report.locks[0].name = "cache-entries".into();
    report.locks[0].sites[0].site = "src/lib.rs:8:40".into();
    report.locks[0].created_at = "src/main.rs:1:1".into();
    let path = write_report(&scratch.0, "profile.json", &report);
    let out =
        lockscope(&["lint", "src", "--format", "json", "--rule", "lock_across_io", "--profile", &path], &scratch.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["line"], 9);
    assert_eq!(rows[0]["measured"]["lock"], "cache-entries");
    assert_eq!(rows[0]["measured"]["wait_ns_total"], 9_000_000);

    // A site elsewhere in the file matches nothing.
    report.locks[0].sites[0].site = "src/lib.rs:3:1".into();
    let path = write_report(&scratch.0, "other.json", &report);
    let out =
        lockscope(&["lint", "src", "--format", "json", "--rule", "lock_across_io", "--profile", &path], &scratch.0);
    let rows = json_lines(&out);
    assert!(rows[0].get("measured").is_none(), "{rows:#?}");
}

#[test]
fn names_a_workspace_dependency_re_exports_resolve_through_its_sources() {
    let app = "use std::sync::Mutex;\nuse util::Handle;\npub struct S {\n    f: Mutex<Handle>,\n}\nimpl S {\n    pub fn first(&self) -> u8 {\n        let mut b = [0];\n        self.f.lock().unwrap().read(&mut b).ok();\n        b[0]\n    }\n}\n";
    let dir = app_using_util(
        "workspace-deps",
        app,
        &[("lib.rs", "mod io;\npub use io::Handle;\n"), ("io.rs", "pub use std::fs::File as Handle;\n")],
    );
    let out = lockscope(&["lint", "--format", "json"], &dir.0);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let findings = stdout(&out);
    assert!(findings.contains("\"path\":\"app/src/lib.rs\"") && findings.contains("`Handle`"), "{findings}");
    // The dependency's own files are read for names, not reported twice.
    assert_eq!(findings.lines().count(), 1, "{findings}");
}

#[test]
fn a_workspace_dependency_reading_a_field_of_the_same_name_is_no_read_of_this_packages_lock() {
    // `util` reads its own `state` file; `app`'s `state` is a log it only writes. A
    // dependency cannot name `app`'s lock, so its reads are no evidence for it.
    let util = "use std::io::Read;\npub struct Replay {\n    state: std::sync::Mutex<std::fs::File>,\n}\nimpl Replay {\n    pub fn next(&self, out: &mut [u8]) {\n        self.state.lock().unwrap().read_exact(out).ok();\n    }\n}\n";
    let app = "use std::io::Write;\npub struct Log {\n    state: std::sync::Mutex<Option<std::fs::File>>,\n}\nimpl Log {\n    pub fn line(&self, text: &str) {\n        if let Some(f) = self.state.lock().unwrap().as_mut() {\n            f.write_all(text.as_bytes()).ok();\n        }\n    }\n}\npub fn replay(r: &util::Replay) {\n    r.next(&mut [0; 4]);\n}\n";
    let dir = app_using_util("workspace-dep-evidence", app, &[("lib.rs", util)]);
    let out = lockscope(&["lint", "--format", "json", "--rule", "mutex_read_seek"], &dir.0);
    let findings = stdout(&out);
    let paths: Vec<String> = json_lines(&out).iter().map(|l| l["path"].to_string()).collect();
    assert_eq!(paths, ["\"util/src/lib.rs\""], "{findings}{}", stderr(&out));
}

#[test]
fn a_field_declared_by_a_workspace_dependencys_type_is_read_from_its_declaration() {
    // `shared.buffer` is declared by `util::SharedBuffer` as an async-aware lock: its
    // guard may be held across an `.await`; a blocking one of the same shape may not.
    let app = "use util::{Blocking, SharedBuffer};\npub async fn flush(shared: SharedBuffer, blocking: Blocking) {\n    let buf = shared.buffer.try_lock().unwrap();\n    write(&buf).await;\n    let other = blocking.bytes.try_lock().unwrap();\n    write(&other).await;\n}\nasync fn write(_: &[u8]) {}\n";
    let util = "use std::sync::Arc;\npub struct SharedBuffer {\n    pub buffer: Arc<futures::lock::Mutex<Vec<u8>>>,\n}\npub struct Blocking {\n    pub bytes: Arc<std::sync::Mutex<Vec<u8>>>,\n}\n";
    let dir = app_using_util("workspace-dep-field", app, &[("lib.rs", util)]);
    let out = lockscope(&["lint", "--format", "json", "--rule", "guard_across_await"], &dir.0);
    let findings = stdout(&out);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{findings}{}", stderr(&out));
    assert_eq!(lines[0]["line"], 6, "{findings}");
}

#[test]
fn a_name_a_dependency_defines_beside_one_needed_earlier_is_still_read() {
    // `util` is parsed for `Holder` first, and only the items defining it are kept; the
    // types of its fields (`Blocking`, `Quiet`) and what they alias (`Inner`, `Calm`) are
    // needed in later rounds, from the same file, which is then parsed again for them.
    let app = "use util::Holder;\npub async fn flush(s: Holder) {\n    let g = s.a.try_lock().unwrap();\n    write(&g).await;\n    let h = s.b.try_lock().unwrap();\n    write(&h).await;\n}\nasync fn write(_: &[u8]) {}\n";
    let util = "use std::sync::Arc;\npub struct Holder {\n    pub a: Blocking,\n    pub b: Quiet,\n}\npub struct Unused;\npub type Blocking = Arc<Inner>;\npub type Quiet = Arc<Calm>;\npub type Inner = std::sync::Mutex<Vec<u8>>;\npub type Calm = futures::lock::Mutex<Vec<u8>>;\n";
    let dir = app_using_util("workspace-dep-rounds", app, &[("lib.rs", util)]);
    let out = lockscope(&["lint", "--format", "json", "--rule", "guard_across_await"], &dir.0);
    let findings = stdout(&out);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{findings}{}", stderr(&out));
    assert_eq!(lines[0]["line"], 4, "{findings}");
}

#[test]
fn what_a_dependency_implements_a_standard_trait_for_is_not_followed() {
    // `Handle<T: Debug>` names `Debug`, which `util` does not define. That `util` also
    // implements it for `Noise` says nothing about `Handle`: `Noise`'s field type `Loud`
    // is not looked for, and its file is not parsed (as if it did not exist).
    let app = "use std::sync::Mutex;\nuse util::Handle;\npub struct S {\n    f: Mutex<Handle<u8>>,\n}\nimpl S {\n    pub fn get(&self) -> u8 {\n        self.f.lock().unwrap().get()\n    }\n}\n";
    let handle = "use std::fmt::Debug;\npub struct Handle<T: Debug>(T);\nimpl<T: Debug + Copy> Handle<T> {\n    pub fn get(&self) -> T {\n        self.0\n    }\n}\n";
    let parsed = |name: &str, loud: bool| {
        let dir = if loud {
            app_using_util(
                name,
                app,
                &[
                    ("lib.rs", "mod handle;\nmod noise;\nmod loud;\npub use handle::Handle;\n"),
                    ("handle.rs", handle),
                    ("noise.rs", "pub struct Noise(crate::loud::Loud);\nimpl std::fmt::Debug for Noise {}\n"),
                    ("loud.rs", "pub struct Loud;\n"),
                ],
            )
        } else {
            app_using_util(
                name,
                app,
                &[
                    ("lib.rs", "mod handle;\nmod noise;\npub use handle::Handle;\n"),
                    ("handle.rs", handle),
                    ("noise.rs", "pub struct Noise(u8);\nimpl std::fmt::Debug for Noise {}\n"),
                ],
            )
        };
        let out = lockscope(&["lint", "--format", "json", "--stats"], &dir.0);
        let stats = stderr(&out);
        let count = stats.split_whitespace().find_map(|w| w.strip_prefix("parsed_files=")).map(str::to_string);
        count.unwrap_or_else(|| panic!("no stats: {stats}"))
    };
    assert_eq!(parsed("workspace-dep-loud", true), parsed("workspace-dep-quiet", false));
}

#[test]
fn one_lock_is_one_finding_with_its_other_places_as_notes_in_every_format() {
    let source = "use std::sync::Mutex;\nuse std::fs::File;\nuse std::io::Read;\npub struct S {\n    f: Mutex<File>,\n}\nimpl S {\n    pub fn new(f: Mutex<File>) -> Self {\n        S { f }\n    }\n    pub fn handle(&self) -> &Mutex<File> {\n        &self.f\n    }\n    pub fn first(&self) -> u8 {\n        let mut b = [0];\n        self.handle().lock().unwrap().read(&mut b).ok();\n        b[0]\n    }\n}\n";
    let dir = Scratch::new("related", &[("a.rs", source)]);

    let out = lockscope(&["lint", "a.rs", "--format", "json"], &dir.0);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{}", stdout(&out));
    let related = lines[0]["related"].as_array().expect("related");
    let at: Vec<(u64, &str)> =
        related.iter().map(|r| (r["line"].as_u64().unwrap_or(0), r["message"].as_str().unwrap_or(""))).collect();
    assert_eq!(at, [(8, "the same lock is passed in here"), (11, "the same lock is handed out by this accessor")]);

    let out = lockscope(&["lint", "a.rs"], &dir.0);
    assert!(
        stdout(&out).contains("= note: the same lock is handed out by this accessor at a.rs:11:30"),
        "{}",
        stdout(&out)
    );

    let out = lockscope(&["lint", "a.rs", "--format", "sarif"], &dir.0);
    let log: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("sarif");
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("sarif-schema-2.1.0.json")).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    assert!(validator.is_valid(&log), "{log}");
    let locations = log["runs"][0]["results"][0]["relatedLocations"].as_array().expect("relatedLocations");
    assert_eq!(locations.len(), 2);
    assert_eq!(locations[1]["physicalLocation"]["region"]["startLine"], 11);

    let out = lockscope(&["lint", "a.rs", "--message-format", "json"], &dir.0);
    let message: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap_or("")).expect("cargo json");
    let notes: Vec<&str> = message["message"]["children"]
        .as_array()
        .expect("children")
        .iter()
        .filter_map(|c| c["level"].as_str())
        .collect();
    assert_eq!(notes, ["note", "note", "help"]);
}
