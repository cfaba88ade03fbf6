//! What the CLI test files share: running the binary in a scratch folder.
#![allow(dead_code)] // each test file uses its own part of this

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn lockscope(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-lockscope")).args(args).current_dir(cwd).output().expect("binary runs")
}

/// A fresh folder with the given files, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str, files: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("lockscope-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
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

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Each `--format json` line, parsed.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
}

/// The (path, rule) of each `--format json` line.
pub fn json_findings(out: &Output) -> Vec<(String, String)> {
    json_lines(out)
        .into_iter()
        .map(|v| (v["path"].as_str().unwrap_or("").to_string(), v["rule"].as_str().unwrap_or("").to_string()))
        .collect()
}

/// A workspace of two packages: `app` (its `src/lib.rs` is `app_lib`) depending by path on
/// `util`, whose files are given under `util/src/`.
pub fn app_using_util(name: &str, app_lib: &str, util_src: &[(&str, &str)]) -> Scratch {
    let util: Vec<(String, &str)> = util_src.iter().map(|(path, text)| (format!("util/src/{path}"), *text)).collect();
    let mut files: Vec<(&str, &str)> = vec![
        ("Cargo.toml", "[workspace]\nmembers = [\"app\", \"util\"]\n"),
        (
            "app/Cargo.toml",
            "[package]\nname = \"app\"\nedition = \"2021\"\n[dependencies]\nutil = { path = \"../util\" }\n",
        ),
        ("app/src/lib.rs", app_lib),
        ("util/Cargo.toml", "[package]\nname = \"util\"\nedition = \"2021\"\n"),
    ];
    files.extend(util.iter().map(|(path, text)| (path.as_str(), *text)));
    Scratch::new(name, &files)
}
