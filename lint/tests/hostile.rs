//! The lint on repositories and inputs made to break it: nothing the repository names
//! runs, every input is bounded, and every message says what is really wrong.

mod common;

use common::{app_using_util, json_findings, lockscope, stderr, stdout, Scratch};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// A lock around a file that is read through it (line 4).
const FLAGGED: &str = "use std::sync::Mutex;\nuse std::fs::File;\npub struct S {\n    f: Mutex<File>,\n}\nimpl S {\n    pub fn first(&self) -> u8 {\n        let mut b = [0];\n        self.f.lock().unwrap().read(&mut b).ok();\n        b[0]\n    }\n}\n";

/// An executable that leaves `marker` behind if anything ever runs it.
fn trap(dir: &Path, name: &str, marker: &Path) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\necho \"$0 $*\" >> '{}'\nexit 1\n", marker.display()))
        .expect("write trap");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn workspace_mode_runs_nothing_the_repository_names() {
    let traps = Scratch::new("traps", &[]);
    let marker = traps.0.join("FIRED");
    for name in ["cargo", "rustc", "rustup", "rustc-wrapper", "runner", "rustdoc"] {
        trap(&traps.0, name, &marker);
    }
    let t = traps.0.display();
    let config = format!(
        "[build]\nrustc = \"{t}/rustc\"\nrustc-wrapper = \"{t}/rustc-wrapper\"\nrustdoc = \"{t}/rustdoc\"\n[target.x86_64-unknown-linux-gnu]\nrunner = \"{t}/runner\"\n[alias]\nmetadata = \"run\"\n"
    );
    let repo = Scratch::new(
        "trapped-repo",
        &[
            ("Cargo.toml", "[workspace]\nmembers = [\"app\", \"macros\"]\n"),
            ("rust-toolchain.toml", &format!("[toolchain]\npath = \"{t}\"\n")),
            ("rust-toolchain", "nightly-2099-01-01\n"),
            (".cargo/config.toml", &config),
            ("app/Cargo.toml", "[package]\nname = \"app\"\nedition = \"2021\"\nbuild = \"build.rs\"\n[dependencies]\nmacros = { path = \"../macros\" }\n"),
            ("app/build.rs", &format!("fn main() {{ std::fs::write(\"{}\", \"build.rs\").unwrap(); }}\n", marker.display())),
            ("app/src/lib.rs", FLAGGED),
            ("macros/Cargo.toml", "[package]\nname = \"macros\"\nedition = \"2021\"\n[lib]\nproc-macro = true\n"),
            ("macros/src/lib.rs", "#[proc_macro]\npub fn boom(_: proc_macro::TokenStream) -> proc_macro::TokenStream { loop {} }\n"),
        ],
    );
    // Every way a program could be found: PATH, cargo's own variables, rustup's.
    let path = format!("{}:{}", traps.0.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-lockscope"))
        .args(["lint", "--format", "json"])
        .current_dir(repo.0.join("app/src"))
        .env("PATH", path)
        .env("CARGO", traps.0.join("cargo"))
        .env("RUSTC", traps.0.join("rustc"))
        .env("RUSTC_WRAPPER", traps.0.join("rustc-wrapper"))
        .env("RUSTUP_TOOLCHAIN", "nightly-2099-01-01")
        .output()
        .expect("binary runs");
    assert!(!marker.exists(), "a trap fired: {}", std::fs::read_to_string(&marker).unwrap_or_default());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json_findings(&out), [("app/src/lib.rs".to_string(), "mutex_read_seek".to_string())]);
}

#[test]
fn nesting_too_deep_for_syn_is_a_finding_and_the_other_files_are_linted() {
    let shapes = [
        ("types.rs", format!("type T = {}u8{};\n", "Vec<".repeat(36_000), ">".repeat(36_000))),
        ("closures.rs", format!("fn f() {{ let c = {}1; }}\n", "|| ".repeat(72_000))),
        ("impl_fn.rs", format!("fn f() -> {}u8 {{ todo!() }}\n", "impl Fn() -> ".repeat(50_000))),
        ("refs.rs", format!("fn f() {{ let x = {}1; }}\n", "&".repeat(200_000))),
        ("else_if.rs", format!("fn f(a: bool) {{ if a {{}}{} }}\n", " else if a {}".repeat(50_000))),
        ("mods.rs", format!("{}{}\n", "mod m { ".repeat(20_000), "}".repeat(20_000))),
    ];
    let mut files: Vec<(&str, String)> =
        shapes.iter().map(|(name, text)| (*name, format!("use std::sync::Mutex;\n{text}"))).collect();
    files.push(("good.rs", FLAGGED.to_string()));
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let dir = Scratch::new("deep-shapes", &files);
    let out = lockscope(&["lint", ".", "--format", "json"], &dir.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = json_findings(&out);
    for (name, _) in &shapes {
        assert!(found.contains(&(format!("./{name}"), "syntax_error".into())), "{name}: {found:?}");
    }
    assert!(found.contains(&("./good.rs".into(), "mutex_read_seek".into())), "{found:?}");
    assert!(stdout(&out).contains("nests more than 3000 levels deep"));
}

#[test]
fn edition_2015_code_that_rustc_accepts_is_linted() {
    let old = "use std::sync::Mutex;\nuse std::fs::File;\npub trait Peer {\n    fn is_local(&self, &Address) -> bool;\n    fn send(&mut self, u32, Vec<u8>);\n}\npub struct S {\n    f: Mutex<File>,\n}\nimpl S {\n    pub fn first(&self) -> u8 {\n        let mut b = [0];\n        self.f.lock().unwrap().read(&mut b).ok();\n        b[0]\n    }\n}\n";
    let dir = Scratch::new(
        "edition-2015",
        &[("Cargo.toml", "[package]\nname = \"old\"\nversion = \"0.1.0\"\n"), ("src/lib.rs", old)],
    );
    let out = lockscope(&["lint", "--format", "json"], &dir.0);
    assert_eq!(json_findings(&out), [("src/lib.rs".to_string(), "mutex_read_seek".to_string())], "{}", stdout(&out));
    // From 2018 on, rustc rejects it too.
    let dir = Scratch::new(
        "edition-2018",
        &[("Cargo.toml", "[package]\nname = \"new\"\nversion = \"0.1.0\"\nedition = \"2018\"\n"), ("src/lib.rs", old)],
    );
    let out = lockscope(&["lint", "--format", "json"], &dir.0);
    assert_eq!(json_findings(&out), [("src/lib.rs".to_string(), "syntax_error".to_string())]);
}

#[test]
fn a_suppression_naming_no_rule_is_reported_at_its_name() {
    let text = "use std::sync::Mutex;\nuse std::fs::File;\npub struct S {\n    f: Mutex<File>, // lockscope: allow(mutex_read_sek) one reader\n}\nimpl S {\n    pub fn first(&self) -> u8 {\n        let mut b = [0];\n        self.f.lock().unwrap().read(&mut b).ok();\n        b[0]\n    }\n}\n";
    let dir = Scratch::new("typo", &[("a.rs", text)]);
    let out = lockscope(&["lint", "a.rs", "--format", "json"], &dir.0);
    let lines: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let typo = lines.iter().find(|v| v["rule"] == "syntax_error").expect("the typo is reported");
    assert_eq!((typo["line"].as_u64(), typo["column"].as_u64()), (Some(4), Some(41)));
    assert!(typo["message"].as_str().is_some_and(|m| m.contains("`mutex_read_sek`")), "{typo}");
    assert!(lines.iter().any(|v| v["rule"] == "mutex_read_seek"), "nothing was silenced");
}

#[test]
fn failed_writes_exit_two_and_closed_pipes_do_not() {
    let dir = Scratch::new("full", &[("a.rs", FLAGGED)]);
    let report = dir.0.join("r.json");
    std::fs::write(&report, r#"{"version":1,"duration_ns":0,"hold_sampling":1,"locks":[]}"#).expect("write");
    let full = std::fs::File::create("/dev/full").expect("/dev/full");
    for args in [&["lint", "a.rs"][..], &["rules"], &["explain", "syntax_error"], &["report", "r.json"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_cargo-lockscope"))
            .args(args)
            .current_dir(&dir.0)
            .stdout(full.try_clone().expect("dup"))
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("error: cannot write the output: No space left on device"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn carets_stand_under_tab_indented_code() {
    let dir = Scratch::new(
        "tabs",
        &[("a.rs", "use std::sync::Mutex;\nuse std::fs::File;\nstruct S {\n\t\tf: Mutex<File>,\n}\nimpl S {\n    pub fn first(&self) -> u8 {\n        let mut b = [0];\n        self.f.lock().unwrap().read(&mut b).ok();\n        b[0]\n    }\n}\n")],
    );
    let out = lockscope(&["lint", "a.rs"], &dir.0);
    let text = stdout(&out);
    assert!(text.contains("--> a.rs:4:6"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let source = lines.iter().position(|l| l.contains("f: Mutex<File>")).expect("source line");
    let under = lines[source + 1];
    let caret = under.find(['^', '-']).expect("a caret line");
    assert_eq!(&lines[source][caret..caret + 11], "Mutex<File>", "{text}");
}

#[test]
fn files_that_are_not_text_or_too_large_are_said_so() {
    let big = format!("use std::sync::Mutex;\n{}", "// padding\n".repeat(200));
    let dir =
        Scratch::new("not-text", &[("lockscope.toml", "max_file_size = 1000\n"), ("big.rs", &big), ("ok.rs", FLAGGED)]);
    std::fs::write(dir.0.join("latin1.rs"), b"use std::sync::Mutex;\nfn f() { let s = \"\xe9t\xe9\"; }\n")
        .expect("write");
    let out = lockscope(&["lint", "."], &dir.0);
    let text = stdout(&out);
    assert!(
        text.contains("not valid UTF-8 (the first bad byte is at line 2, column 19)")
            && text.contains("--> ./latin1.rs:2:19"),
        "{text}"
    );
    let err = stderr(&out);
    assert!(err.contains("(2 files checked in"), "the file that is not UTF-8 was checked: {err}");
    assert!(err.contains("note: 1 files not linted, larger than `max_file_size`: ./big.rs (2 KB)"), "{err}");
}

#[test]
fn inputs_that_never_end_or_are_not_files_get_one_line_errors() {
    let dir = Scratch::new(
        "endless",
        &[
            ("a.rs", FLAGGED),
            ("str.json", r#"{"version":"1"}"#),
            ("Cargo.toml", "[package]\nname = \"x\"\n[dependencies\n"),
        ],
    );
    let fifo = dir.0.join("pipe.rs");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let cases: [(&[&str], &str); 6] = [
        (&["report", "/dev/zero"], "cannot read report /dev/zero: it is larger than 256 MB, the limit"),
        (&["lint", "a.rs", "--profile", "/dev/zero"], "it is larger than 256 MB, the limit"),
        (&["report", "str.json"], "\"version\" is \"1\", where a report has the number 1"),
        (&["lint", "pipe.rs"], "`pipe.rs` is a FIFO, not a file or folder"),
        (&["lint", "/dev/zero"], "`/dev/zero` is a character device, not a file or folder"),
        (&["lint"], "Cargo.toml:3:"),
    ];
    for (args, expected) in cases {
        let out = lockscope(args, &dir.0);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn syntax_error_is_a_rule_like_the_others() {
    let dir = Scratch::new("syntax-rule", &[("bad.rs", "use std::sync::Mutex;\nfn broken( {\n"), ("good.rs", FLAGGED)]);
    let only = lockscope(&["lint", ".", "--rule", "syntax_error", "--format", "json"], &dir.0);
    assert_eq!(json_findings(&only), [("./bad.rs".to_string(), "syntax_error".to_string())]);
    let explain = lockscope(&["explain", "syntax_error"], &dir.0);
    assert_eq!(explain.status.code(), Some(0));
    assert!(stdout(&explain).contains("# syntax_error"));
    assert!(stdout(&lockscope(&["rules"], &dir.0)).contains("\nsyntax_error "));
    std::fs::write(dir.0.join("lockscope.toml"), "allow = [\"syntax_error\"]\n").expect("write");
    let allowed = lockscope(&["lint", ".", "--format", "json"], &dir.0);
    assert_eq!(json_findings(&allowed), [("./good.rs".to_string(), "mutex_read_seek".to_string())]);
}

#[test]
fn long_chains_across_items_are_not_followed_without_bound() {
    // Each item is shallow, so the nesting bound does not see these; the walks that follow
    // names from item to item have their own depth limits.
    let n = 5_000;
    let aliases: String = (0..n).map(|i| format!("type T{i} = T{};\n", i + 1)).collect();
    let structs: String = (0..n).map(|i| format!("struct S{i} {{ x: S{} }}\n", i + 1)).collect();
    let calls: String = (0..n).map(|i| format!("fn f{i}(b: Arc<Mutex<Vec<u8>>>) {{ f{}(b) }}\n", i + 1)).collect();
    let files = [
        ("aliases.rs", format!("use std::sync::Mutex;\nuse std::fs::File;\n{aliases}type T{n} = File;\nstruct S {{ m: Mutex<T0> }}\n")),
        ("structs.rs", format!("use std::sync::Mutex;\nuse std::fs::File;\n{structs}struct S{n} {{ f: File }}\nstruct H {{ m: Mutex<S0> }}\n")),
        ("calls.rs", format!("use std::sync::{{Arc, Mutex}};\n{calls}fn f{n}(b: Arc<Mutex<Vec<u8>>>) {{ std::thread::spawn(move || b.lock().unwrap().push(1)); }}\n")),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let dir = Scratch::new("chains", &files);
    let out = lockscope(&["lint", ".", "--format", "json"], &dir.0);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{:?}: {}", out.status, stderr(&out));
    assert!(json_findings(&out).iter().all(|(_, rule)| rule != "syntax_error"), "{}", stdout(&out));
}

#[test]
fn thousands_of_nested_inline_modules_are_read_with_a_bounded_chain_of_imports() {
    // Each module imports its parent's names (`use super::*`) and two of its own, and
    // holds a guard across a file read. A body's imports are looked up through at most a
    // few scopes, never copied per body (which took 35 s for 1,500 levels).
    let levels = 1_500;
    let mut text = String::new();
    for k in 0..levels {
        text.push_str(&format!(
            "mod m{k} {{ use super::*; use std::fs::read as r{k}; use std::sync::Mutex as M{k};
             pub fn f{k}(m: &std::sync::Mutex<u8>) {{ let g = m.lock(); r{k}(\"x\"); drop(g); }}\n"
        ));
    }
    text.push_str(&"}".repeat(levels));
    let scratch = Scratch::new("nested-modules", &[("src/lib.rs", &text)]);
    let out = lockscope(&["lint", "src", "--rule", "lock_across_io", "--format", "json"], &scratch.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Every read through its module's own rename is seen, at every depth.
    assert_eq!(stdout(&out).lines().count(), levels, "{}", stderr(&out));
}

#[test]
fn hundreds_of_nested_loops_sharing_a_buffer_are_walked_in_bounded_time() {
    // Each loop shares the buffer with a thread and measures it: the next iteration is
    // walked again, once per loop, not once per enclosing loop (which would be 2^300).
    let levels = 300;
    let mut body = String::from(
        "use std::sync::{Arc, Mutex};\npub fn f() {\n    let d = Arc::new(Mutex::new(Vec::<u8>::new()));\n",
    );
    for _ in 0..levels {
        body.push_str("for _ in 0..2 { let c = d.clone(); std::thread::spawn(move || c.lock().unwrap().push(1)); let n = d.lock().unwrap().len();\n");
    }
    body.push_str(&"}".repeat(levels));
    body.push_str("\n}\n");
    let scratch = Scratch::new("nested-loops", &[("src/lib.rs", &body)]);
    let out = lockscope(&["lint", "src", "--rule", "aliased_buffer", "--format", "json"], &scratch.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // One finding per loop: its own measurement after its own spawn.
    assert_eq!(stdout(&out).lines().count(), levels, "{}", stderr(&out));
}

#[test]
fn long_helper_chains_many_blocking_calls_and_wide_closures_are_judged_in_bounded_time() {
    let n = 20_000;
    // A constructor's helpers in a chain, listed last first: each is alone only once the
    // one before it is (a fixpoint over every name would take n passes of n names).
    let mut chain =
        String::from("use std::sync::Mutex;\npub struct S;\nimpl S {\n    pub fn new() -> Self { f0(); S }\n}\n");
    for i in (0..n).rev() {
        let next = if i + 1 < n {
            format!("f{}();", i + 1)
        } else {
            "let m = Mutex::new(0); let g = m.lock(); std::thread::sleep(std::time::Duration::from_millis(1)); drop(g);"
                .into()
        };
        chain.push_str(&format!("fn f{i}() {{ {next} }}\n"));
    }
    // Thousands of blocking calls under one guard, each judged against the whole body.
    let mut writes = String::from("use std::sync::Mutex;\npub struct W { m: Mutex<Vec<u8>> }\nimpl W {\n    pub fn w(&self) {\n        let g = self.m.lock().unwrap();\n");
    for i in 0..n {
        writes.push_str(&format!("        std::fs::write(\"p{i}\", &g[..]).ok();\n"));
    }
    writes.push_str("    }\n}\n");
    // A `move` closure naming thousands of identifiers, each checked for capture.
    let mut capture = String::from("use std::sync::Mutex;\npub fn c(m: &Mutex<u32>) {\n    let g = m.lock().unwrap();\n    std::thread::spawn(move || {\n");
    for i in 0..n {
        capture.push_str(&format!("        let v{i} = {i};\n"));
    }
    capture.push_str("    });\n    drop(g);\n}\n");
    let scratch =
        Scratch::new("wide-bodies", &[("chain.rs", &chain), ("writes.rs", &writes), ("capture.rs", &capture)]);
    let out = lockscope(&["lint", ".", "--format", "json"], &scratch.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = json_findings(&out);
    // Every write is flagged (a part of the guarded value, not all of it, goes out); the
    // chain's helpers run while the object is built; the closure takes nothing blocking.
    assert_eq!(found.len(), n, "{}", stderr(&out));
    assert!(found.iter().all(|(path, rule)| path.ends_with("writes.rs") && rule == "lock_across_io"));
}

#[test]
fn thousands_of_joins_under_a_guard_a_thread_needs_are_judged_once() {
    let n = 20_000;
    // The thread reaches the lock through a chain of n methods; the joiner joins n times
    // under the guard. Whether the thread takes the lock is asked once per lock.
    let mut src = String::from(
        "use std::sync::{Arc, Mutex};\nuse std::thread::{self, JoinHandle};\npub struct S { handle: Option<JoinHandle<()>>, on: bool }\n#[derive(Clone)]\npub struct Svc(Arc<Mutex<S>>);\nimpl Svc {\n    pub fn start(&self) {\n        let me = self.clone();\n        let t = thread::spawn(move || while me.f0() {});\n        self.0.lock().unwrap().handle = Some(t);\n    }\n    pub fn stop(&self) {\n        let mut g = self.0.lock().unwrap();\n",
    );
    for _ in 0..n {
        src.push_str("        if let Some(h) = g.handle.take() { h.join().ok(); }\n");
    }
    src.push_str("    }\n");
    for i in 0..n {
        let next = if i + 1 < n { format!("self.f{}()", i + 1) } else { "self.0.lock().unwrap().on".into() };
        src.push_str(&format!("    fn f{i}(&self) -> bool {{ {next} }}\n"));
    }
    src.push_str("}\n");
    let scratch = Scratch::new("joins", &[("lib.rs", &src)]);
    let out = lockscope(&["lint", ".", "--rule", "lock_across_io", "--format", "json"], &scratch.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json_findings(&out).len(), n, "{}", stderr(&out));
}

#[test]
fn nested_closure_running_wrappers_and_deep_closure_types_are_read_in_bounded_depth() {
    // 600 calls of a wrapper that runs its closure under a lock, each inside the last's
    // closure, around one read: every guard is alive at the read.
    let mut nested = String::from("std::fs::read(p).ok()");
    for i in 0..600 {
        nested = format!("s.with_peers(|_x{i}| {nested})");
    }
    let nested = format!(
        "use std::sync::RwLock;\npub struct S {{ peers: RwLock<Vec<u8>> }}\nimpl S {{\n    pub fn with_peers<T>(&self, f: impl FnOnce(&Vec<u8>) -> T) -> T {{ f(&self.peers.read().unwrap()) }}\n}}\npub fn go(s: &S, p: &str) {{ let _ = {nested}; }}\n"
    );
    // Closure parameters behind 2,900 references and 1,400 boxes: read, never a helper
    // that blocks.
    let types = format!(
        "use std::sync::Mutex;\npub struct T {{ m: Mutex<u8> }}\nimpl T {{\n    pub fn a(&self, f: {}dyn Fn(&u8)) {{ f(&self.m.lock().unwrap()) }}\n    pub fn b(&self, f: {}dyn Fn(){}) {{ f() }}\n}}\n",
        "&".repeat(2_900),
        "Box<".repeat(1_400),
        ">".repeat(1_400)
    );
    let scratch = Scratch::new("wrappers", &[("nested.rs", &nested), ("types.rs", &types)]);
    let out = lockscope(&["lint", ".", "--rule", "lock_across_io", "--format", "json"], &scratch.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found: Vec<String> = json_findings(&out).into_iter().map(|(path, _)| path).collect();
    assert_eq!(found, ["./nested.rs"], "{}", stderr(&out));
}

#[test]
fn long_closure_and_builder_chains_under_a_guard_are_walked_in_bounded_depth() {
    // Closures a combinator runs are walked in line: 700 nested (deeper is refused as too
    // deeply nested), and a guard handed down 2,900 links of a chain to the one that sleeps.
    let mut nested = String::from("std::fs::read(p).ok()");
    for i in 0..700 {
        nested = format!("Some(1).and_then(|_x{i}| {nested})");
    }
    let nested = format!(
        "use std::sync::Mutex;\npub fn f(m: &Mutex<Vec<u8>>, p: &str) {{\n    let g = m.lock().unwrap();\n    let _ = {nested};\n    drop(g);\n}}\n"
    );
    let links = ".map(|g| g)".repeat(2_900);
    let chained = format!(
        "pub fn c(m: &std::sync::Mutex<u8>) {{\n    let _ = m.lock(){links}.map(|g| {{ std::thread::sleep(std::time::Duration::from_millis(1)); *g }});\n}}\n"
    );
    // A command built through 2,900 `.arg(..)` links, spawned, its child waited on.
    let command = format!(
        "pub fn w(m: &std::sync::Mutex<u8>) {{\n    let g = m.lock().unwrap();\n    let mut c = std::process::Command::new(\"x\"){}.spawn().unwrap();\n    c.wait().ok();\n    drop(g);\n}}\n",
        ".arg(\"a\")".repeat(2_900)
    );
    let scratch = Scratch::new(
        "combinator-closures",
        &[("nested.rs", &nested), ("chained.rs", &chained), ("command.rs", &command)],
    );
    let out = lockscope(&["lint", ".", "--rule", "lock_across_io", "--format", "json"], &scratch.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut found: Vec<String> = json_findings(&out).into_iter().map(|(path, _)| path).collect();
    found.sort();
    assert_eq!(found, ["./chained.rs", "./command.rs", "./nested.rs"], "{}", stderr(&out));
}

#[test]
fn a_type_named_deep_inside_another_in_an_unparsed_file_is_read_in_bounded_depth() {
    // Whether a value stays on one thread is read from every file that names its type,
    // parsed on demand: here a file with no lock word names it 2,900 generics deep (it
    // escapes: the finding stays), or 20,000 deep (refused as too deeply nested: counted
    // as an escape, the same finding).
    let ctx = "use std::sync::Mutex;\npub(crate) struct Ctx {\n    m: Mutex<Vec<u8>>,\n}\nimpl Ctx {\n    pub(crate) fn load(&self, p: &str) {\n        let mut g = self.m.lock().unwrap();\n        g.extend(std::fs::read(p).unwrap_or_default());\n    }\n}\n";
    // Depth 0 is a plain `&Ctx` parameter there: the type is kept, no finding, which only
    // a file read on demand can tell (unread, it would count as anything).
    for (depth, expected) in [(0, &[][..]), (2_900, &["./src/ctx.rs"][..]), (20_000, &["./src/ctx.rs"][..])] {
        let deep =
            format!("pub(crate) fn keep(_x: {}&crate::ctx::Ctx{}) {{}}\n", "Option<".repeat(depth), ">".repeat(depth));
        let scratch = Scratch::new(
            "one-thread-deep",
            &[
                ("Cargo.toml", "[package]\nname = \"deep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
                ("src/lib.rs", "mod ctx;\nmod deep;\n"),
                ("src/ctx.rs", ctx),
                ("src/deep.rs", &deep),
            ],
        );
        let out = lockscope(&["lint", ".", "--rule", "lock_across_io", "--format", "json"], &scratch.0);
        assert_eq!(out.status.code(), Some(if expected.is_empty() { 0 } else { 1 }), "{}", stderr(&out));
        let found: Vec<String> = json_findings(&out).into_iter().map(|(path, _)| path).collect();
        assert_eq!(found, expected, "depth {depth}: {}", stderr(&out));
    }
}

#[test]
fn lazy_booleans_nested_around_a_large_operand_are_walked_once() {
    // Each `&&` operand is a temporary scope; where it ends is found by walking down its
    // rightmost operand, not from its whole span, which would read the innermost closure
    // once per enclosing `&&` (400 times here).
    let statements: String = (0..20_000).map(|i| format!("let v{i} = {i}; ")).collect();
    let mut expr = format!("(|| {{ {statements} true }})()");
    for i in 0..400 {
        expr = format!("(m.lock().unwrap().len() == {i} && {expr})");
    }
    let src = format!(
        "use std::sync::Mutex;\npub async fn f(m: &Mutex<Vec<u8>>) -> bool {{\n    let held = m.lock().unwrap();\n    let x = {expr};\n    tick().await;\n    drop(held);\n    x\n}}\nasync fn tick() {{}}\n"
    );
    let scratch = Scratch::new("lazy-nest", &[("lib.rs", &src)]);
    let out = lockscope(&["lint", ".", "--rule", "guard_across_await", "--format", "json"], &scratch.0);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Only the bound guard is alive at the await: every operand's temporary is gone.
    let found = json_findings(&out);
    assert_eq!(found.len(), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("`held`"), "{}", stdout(&out));
}

#[test]
fn a_long_chain_of_definitions_in_a_dependencys_file_is_chosen_and_read_once() {
    // `S0` names `S1`, which names `S2`, …, listed last first: choosing the items to parse
    // goes from each chosen definition to the ones it names, not over the file once per link.
    let chain: String = (0..20_000).rev().map(|i| format!("pub struct S{i} {{ next: S{} }}\n", i + 1)).collect();
    let util = format!("pub struct S20000 {{ file: std::fs::File }}\n{chain}");
    let app = "use std::io::Read;\nuse util::S0;\npub struct App {\n    head: std::sync::Mutex<S0>,\n}\nimpl App {\n    pub fn touch(&self) -> usize {\n        let g = self.head.lock().unwrap();\n        std::mem::size_of_val(&*g)\n    }\n}\n";
    let scratch = app_using_util("dep-chain", app, &[("lib.rs", &util)]);
    let out = lockscope(&["lint", "--format", "json", "--stats"], &scratch.0);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    // Chosen whole in one reading: the names later rounds want from it are all held, so
    // the file is not read again (each reading holds a tree as large as the file's).
    assert!(stderr(&out).contains("parsed_files=2 "), "{}", stderr(&out));
}
