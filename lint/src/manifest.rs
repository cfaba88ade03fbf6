//! Cargo manifests read as data: the workspace, its members and their targets, found the
//! way cargo finds them, without running `cargo`, a rustup proxy, `rustc`, or anything a
//! repository names in `rust-toolchain(.toml)` or `.cargo/config.toml`. A manifest is only
//! ever read (with a size limit), so linting works offline, with any pinned toolchain and
//! with none installed.
//!
//! What is read: `[package]` (`name`, `edition`, `build`, `workspace`, `auto*`), the target
//! tables (`[lib]`, `[[bin]]`, `[[example]]`, `[[test]]`, `[[bench]]`), `[workspace]`
//! (`members` globs, `exclude`, `package.edition`) and the path dependencies, which cargo
//! makes members when they sit inside the workspace. Targets not declared are discovered as
//! cargo does: `src/lib.rs`, `src/main.rs`, `src/bin/*.rs`, `src/bin/*/main.rs`, and the
//! same two shapes under `examples/`, `tests/` and `benches/`, and `build.rs`.

use crate::input;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The Rust edition a crate is compiled with: paths and keywords depend on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Edition {
    /// Also what cargo assumes when a manifest has no `edition` key.
    #[default]
    E2015,
    E2018,
    E2021,
    E2024,
}

impl Edition {
    fn parse(text: &str) -> Option<Edition> {
        match text {
            "2015" => Some(Edition::E2015),
            "2018" => Some(Edition::E2018),
            "2021" => Some(Edition::E2021),
            "2024" => Some(Edition::E2024),
            _ => None,
        }
    }
}

/// What kind of crate a target is; the label of its module tree follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    Lib,
    Bin,
    Example,
    Test,
    Bench,
    Build,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub kind: TargetKind,
    pub name: String,
    /// The crate root file.
    pub root: PathBuf,
}

impl Target {
    /// The name of this target's module tree ([`crate::source::ModulePath::target`]):
    /// `src` for the library, `bin/NAME`, `tests/NAME`, `examples/NAME`, `benches/NAME`, `build`.
    pub fn label(&self) -> String {
        match self.kind {
            TargetKind::Lib => "src".into(),
            TargetKind::Bin => format!("bin/{}", self.name),
            TargetKind::Example => format!("examples/{}", self.name),
            TargetKind::Test => format!("tests/{}", self.name),
            TargetKind::Bench => format!("benches/{}", self.name),
            TargetKind::Build => "build".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Package {
    /// The folder of its Cargo.toml.
    pub root: PathBuf,
    pub name: String,
    /// The library target's crate name (`my_crate`), if it has one.
    pub lib_name: Option<String>,
    /// The library is a procedural macro (`[lib] proc-macro = true`): it runs inside the
    /// compiler, once per expansion, not in the program.
    pub proc_macro: bool,
    pub edition: Edition,
    pub targets: Vec<Target>,
    /// `path = "…"` dependencies: the name code uses for each (`ckb_util`) and its folder.
    pub path_deps: Vec<(String, PathBuf)>,
}

#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub packages: Vec<Package>,
}

/// A manifest that cannot be read or understood: the message names the file (and the
/// line and column, where TOML says which).
#[derive(Debug, PartialEq, Eq)]
pub struct ManifestError(pub String);

/// More member globs' matches than this are not followed (a `members = ["/**"]` would
/// otherwise walk the whole file system).
const MAX_GLOB_MATCHES: usize = 10_000;

/// Manifests are small; anything larger than this is not one.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct RawManifest {
    package: Option<RawPackage>,
    workspace: Option<RawWorkspace>,
    lib: Option<RawTarget>,
    #[serde(default)]
    bin: Vec<RawTarget>,
    #[serde(default)]
    example: Vec<RawTarget>,
    #[serde(default)]
    test: Vec<RawTarget>,
    #[serde(default)]
    bench: Vec<RawTarget>,
    dependencies: Option<toml::Table>,
    dev_dependencies: Option<toml::Table>,
    build_dependencies: Option<toml::Table>,
    target: Option<toml::Table>,
}

#[derive(Deserialize, Default)]
struct RawPackage {
    name: Option<String>,
    edition: Option<toml::Value>,
    build: Option<toml::Value>,
    workspace: Option<String>,
    autobins: Option<bool>,
    autoexamples: Option<bool>,
    autotests: Option<bool>,
    autobenches: Option<bool>,
    autolib: Option<bool>,
}

#[derive(Deserialize, Default)]
struct RawWorkspace {
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    package: Option<RawWorkspacePackage>,
    dependencies: Option<toml::Table>,
}

#[derive(Deserialize, Default)]
struct RawWorkspacePackage {
    edition: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawTarget {
    name: Option<String>,
    path: Option<String>,
    // Cargo reads both spellings.
    #[serde(rename = "proc-macro", alias = "proc_macro")]
    proc_macro: Option<bool>,
}

fn read_manifest(path: &Path) -> Result<RawManifest, ManifestError> {
    let shown = path.display();
    let text = input::read_text(path, MAX_MANIFEST_BYTES).map_err(|e| ManifestError(format!("{shown}: {e}")))?;
    toml::from_str(&text).map_err(|e| ManifestError(toml_error(path, &text, &e)))
}

/// A TOML error on one line: `file:line:column: message`.
pub(crate) fn toml_error(path: &Path, text: &str, err: &toml::de::Error) -> String {
    let at = err.span().map(|s| input::line_col(text, s.start)).map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default();
    let message: Vec<&str> = err.message().lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    format!("{}{at}: {}", path.display(), message.join("; "))
}

/// The workspace of the manifest at `start` (a Cargo.toml), or of the nearest Cargo.toml
/// at or above `cwd` when `start` is `None`.
pub fn find_workspace(start: Option<&Path>, cwd: &Path) -> Result<Workspace, ManifestError> {
    let start = match start {
        Some(path) => {
            if !path.is_file() {
                return Err(ManifestError(format!(
                    "manifest `{}` is not a file: pass the path of a Cargo.toml",
                    path.display()
                )));
            }
            absolute(path)
        }
        None => cwd.ancestors().map(|dir| dir.join("Cargo.toml")).find(|m| m.is_file()).ok_or_else(|| {
            ManifestError(format!(
                "no Cargo.toml in `{}` or any folder above it: run inside a cargo project, pass --manifest-path, or give the files or folders to lint",
                cwd.display()
            ))
        })?,
    };
    let start_dir = start.parent().unwrap_or(Path::new("/")).to_path_buf();
    let raw = read_manifest(&start)?;
    let (root, root_raw) = if raw.workspace.is_some() {
        (start_dir.clone(), raw)
    } else if let Some(explicit) = raw.package.as_ref().and_then(|p| p.workspace.as_deref()) {
        let dir = absolute(&start_dir.join(explicit));
        let ws = read_manifest(&dir.join("Cargo.toml"))?;
        (dir, ws)
    } else {
        match enclosing_workspace(&start_dir)? {
            Some((dir, ws)) => (dir, ws),
            None => (start_dir.clone(), raw),
        }
    };
    let ws_edition = root_raw.workspace.as_ref().and_then(|w| w.package.as_ref()).and_then(|p| p.edition.clone());
    let mut member_dirs: Vec<PathBuf> = Vec::new();
    if root_raw.package.is_some() {
        member_dirs.push(root.clone());
    }
    if let Some(ws) = &root_raw.workspace {
        let excluded: Vec<PathBuf> = ws.exclude.iter().map(|e| absolute(&root.join(e))).collect();
        for dir in expand_members(&root, &ws.members) {
            if !excluded.iter().any(|e| dir.starts_with(e)) && !member_dirs.contains(&dir) {
                member_dirs.push(dir);
            }
        }
    } else if member_dirs.is_empty() {
        member_dirs.push(root.clone());
    }
    // Path dependencies inside the workspace folder are members too (cargo's rule).
    let mut packages = Vec::new();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut work = member_dirs;
    work.reverse();
    while let Some(dir) = work.pop() {
        if !seen.insert(dir.clone()) {
            continue;
        }
        let raw = read_manifest(&dir.join("Cargo.toml"))?;
        if raw.package.is_none() {
            continue;
        }
        let mut deps = path_dependencies(&raw, &dir);
        deps.retain(|d| d.starts_with(&root) && !seen.contains(d));
        deps.reverse();
        work.extend(deps);
        let mut package = package_of(&dir, &raw, ws_edition.as_deref())?;
        let ws_deps = root_raw.workspace.as_ref().and_then(|w| w.dependencies.as_ref());
        package.path_deps = named_path_dependencies(&raw, &dir, ws_deps.map(|t| (t, root.as_path())));
        packages.push(package);
    }
    Ok(Workspace { root, packages })
}

/// The nearest folder above `dir` whose manifest has a `[workspace]` that counts `dir`
/// among its members (cargo stops at the first `[workspace]` it finds).
fn enclosing_workspace(dir: &Path) -> Result<Option<(PathBuf, RawManifest)>, ManifestError> {
    for candidate in dir.ancestors().skip(1) {
        let manifest = candidate.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let raw = read_manifest(&manifest)?;
        let Some(ws) = &raw.workspace else { continue };
        let excluded = ws.exclude.iter().any(|e| dir.starts_with(absolute(&candidate.join(e))));
        let member = expand_members(candidate, &ws.members).contains(&dir.to_path_buf());
        let path_dep = raw.package.is_some() && path_dependencies(&raw, candidate).contains(&dir.to_path_buf());
        return Ok((!excluded && (member || path_dep)).then(|| (candidate.to_path_buf(), raw)));
    }
    Ok(None)
}

/// The folders with a Cargo.toml that `members` globs name, in order.
fn expand_members(root: &Path, members: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut budget = MAX_GLOB_MATCHES;
    for pattern in members {
        let full = root.join(pattern);
        let Some(full) = full.to_str() else { continue };
        let Ok(paths) = glob::glob(full) else { continue };
        let mut matched: Vec<PathBuf> = paths.flatten().take(budget).collect();
        budget -= matched.len();
        matched.sort();
        for dir in matched {
            let dir = absolute(&dir);
            if dir.join("Cargo.toml").is_file() && !out.contains(&dir) {
                out.push(dir);
            }
        }
    }
    out
}

/// The folders of the `path = "…"` dependencies of a manifest (all dependency tables,
/// target-specific ones included).
fn path_dependencies(raw: &RawManifest, dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for (_, dep) in named_path_dependencies(raw, dir, None) {
        if !out.contains(&dep) {
            out.push(dep);
        }
    }
    out
}

/// The `path` dependencies of a manifest with the names code uses for them (the table
/// key, `-` as `_`), also those taken from `[workspace.dependencies]` with
/// `workspace = true` (`ws`: that table and the folder it is relative to).
fn named_path_dependencies(raw: &RawManifest, dir: &Path, ws: Option<(&toml::Table, &Path)>) -> Vec<(String, PathBuf)> {
    let mut tables: Vec<&toml::Table> =
        [&raw.dependencies, &raw.dev_dependencies, &raw.build_dependencies].into_iter().flatten().collect();
    for target in raw.target.iter().flat_map(|t| t.values()).filter_map(toml::Value::as_table) {
        for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
            tables.extend(target.get(key).and_then(toml::Value::as_table));
        }
    }
    let mut out = Vec::new();
    for (name, spec) in tables.into_iter().flatten() {
        let own = spec.get("path").and_then(toml::Value::as_str).map(|p| absolute(&dir.join(p)));
        let inherited = || {
            let (table, root) = ws?;
            spec.get("workspace").and_then(toml::Value::as_bool).filter(|&w| w)?;
            let path = table.get(name)?.get("path")?.as_str()?;
            Some(absolute(&root.join(path)))
        };
        if let Some(dep) = own.or_else(inherited).filter(|d| d.join("Cargo.toml").is_file()) {
            let name = name.replace('-', "_");
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, dep));
            }
        }
    }
    out
}

/// The package whose manifest is in `dir` (for files linted by PATH): its library name and
/// edition. `None` when the folder has no readable `[package]`.
pub fn read_package(dir: &Path) -> Option<Package> {
    let raw = read_manifest(&dir.join("Cargo.toml")).ok()?;
    raw.package.as_ref()?;
    let ws_edition = enclosing_workspace(dir)
        .ok()
        .flatten()
        .and_then(|(_, ws)| ws.workspace.and_then(|w| w.package).and_then(|p| p.edition));
    package_of(dir, &raw, ws_edition.as_deref()).ok()
}

fn package_of(dir: &Path, raw: &RawManifest, ws_edition: Option<&str>) -> Result<Package, ManifestError> {
    let manifest = dir.join("Cargo.toml");
    let package = raw.package.as_ref().ok_or_else(|| ManifestError(format!("{}: no [package]", manifest.display())))?;
    let name = package.name.clone().unwrap_or_else(|| {
        dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "package".into())
    });
    let edition = match &package.edition {
        None => Edition::E2015,
        Some(toml::Value::String(text)) => Edition::parse(text).ok_or_else(|| {
            ManifestError(format!(
                "{}: `package.edition` is `{text}`; editions are 2015, 2018, 2021, 2024",
                manifest.display()
            ))
        })?,
        // `edition.workspace = true`
        Some(toml::Value::Table(_)) => ws_edition.and_then(Edition::parse).unwrap_or_default(),
        Some(other) => {
            return Err(ManifestError(format!(
                "{}: `package.edition` must be a string such as \"2021\", not `{other}`",
                manifest.display()
            )))
        }
    };
    let mut targets = Vec::new();
    let crate_name = name.replace('-', "_");

    // The library.
    let lib_path = raw.lib.as_ref().and_then(|l| l.path.as_deref()).map(|p| dir.join(p));
    let lib_root = lib_path.or_else(|| {
        let default = dir.join("src/lib.rs");
        (package.autolib != Some(false) && default.is_file()).then_some(default)
    });
    let lib_name = lib_root.as_ref().map(|_| {
        raw.lib.as_ref().and_then(|l| l.name.clone()).map_or_else(|| crate_name.clone(), |n| n.replace('-', "_"))
    });
    if let (Some(root), Some(lib)) = (lib_root, &lib_name) {
        targets.push(Target { kind: TargetKind::Lib, name: lib.clone(), root });
    }

    // Binaries, examples, tests, benches: declared, then discovered.
    let kinds = [
        (TargetKind::Bin, &raw.bin, "src/bin", package.autobins),
        (TargetKind::Example, &raw.example, "examples", package.autoexamples),
        (TargetKind::Test, &raw.test, "tests", package.autotests),
        (TargetKind::Bench, &raw.bench, "benches", package.autobenches),
    ];
    for (kind, declared, folder, auto) in kinds {
        for target in declared {
            let target_name = target.name.clone().unwrap_or_else(|| name.clone());
            let root = match &target.path {
                Some(path) => dir.join(path),
                None if kind == TargetKind::Bin && target_name == name => dir.join("src/main.rs"),
                None => {
                    let flat = dir.join(folder).join(format!("{target_name}.rs"));
                    if flat.is_file() {
                        flat
                    } else {
                        dir.join(folder).join(&target_name).join("main.rs")
                    }
                }
            };
            push_target(&mut targets, Target { kind, name: target_name, root });
        }
        // Edition 2015 switches discovery off for a kind that declares targets.
        let discover = auto.unwrap_or(edition > Edition::E2015 || declared.is_empty());
        if discover {
            if kind == TargetKind::Bin {
                let main = dir.join("src/main.rs");
                if main.is_file() {
                    push_target(&mut targets, Target { kind, name: name.clone(), root: main });
                }
            }
            for (target_name, root) in discover_in(&dir.join(folder)) {
                push_target(&mut targets, Target { kind, name: target_name, root });
            }
        }
    }

    // The build script.
    let build = match &package.build {
        Some(toml::Value::String(path)) => Some(dir.join(path)),
        Some(toml::Value::Boolean(false)) => None,
        _ => Some(dir.join("build.rs")).filter(|p| p.is_file()),
    };
    if let Some(root) = build {
        targets.push(Target { kind: TargetKind::Build, name: "build-script-build".into(), root });
    }
    let proc_macro = lib_name.is_some() && raw.lib.as_ref().and_then(|l| l.proc_macro).unwrap_or(false);
    Ok(Package { root: dir.to_path_buf(), name, lib_name, proc_macro, edition, targets, path_deps: Vec::new() })
}

/// A target whose root file another target already has is the same crate declared twice.
fn push_target(targets: &mut Vec<Target>, target: Target) {
    if !targets.iter().any(|t| t.root == target.root) {
        targets.push(target);
    }
}

/// `folder/*.rs` and `folder/*/main.rs`, by name, sorted.
fn discover_in(folder: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
    let mut found: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "rs") && path.is_file() {
                Some((path.file_stem()?.to_string_lossy().into_owned(), path))
            } else if path.join("main.rs").is_file() {
                Some((path.file_name()?.to_string_lossy().into_owned(), path.join("main.rs")))
            } else {
                None
            }
        })
        .collect();
    found.sort();
    found
}

pub(crate) fn absolute(path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    // Fold `a/../b` so one folder has one name (no symlinks are resolved: nothing outside
    // the path as written is trusted or followed).
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tree(PathBuf);

    impl Tree {
        fn new(name: &str, files: &[(&str, &str)]) -> Tree {
            let dir = std::env::temp_dir().join(format!("lockscope-manifest-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            for (path, text) in files {
                let path = dir.join(path);
                std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                std::fs::write(path, text).expect("write");
            }
            Tree(dir)
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn labels(package: &Package) -> Vec<String> {
        package.targets.iter().map(Target::label).collect()
    }

    #[test]
    fn targets_are_discovered_as_cargo_does() {
        let t = Tree::new(
            "discovery",
            &[
                ("Cargo.toml", "[package]\nname = \"my-tool\"\nedition = \"2021\"\n"),
                ("src/lib.rs", ""),
                ("src/main.rs", ""),
                ("src/bin/extra.rs", ""),
                ("src/bin/multi/main.rs", ""),
                ("tests/it.rs", ""),
                ("tests/fixtures/data.rs", ""),
                ("examples/demo.rs", ""),
                ("benches/speed.rs", ""),
                ("build.rs", ""),
            ],
        );
        let ws = find_workspace(None, &t.0.join("src/bin")).expect("workspace");
        assert_eq!(ws.root, t.0);
        let package = &ws.packages[0];
        assert_eq!(package.lib_name.as_deref(), Some("my_tool"));
        assert_eq!(package.edition, Edition::E2021);
        assert_eq!(
            labels(package),
            ["src", "bin/my-tool", "bin/extra", "bin/multi", "examples/demo", "tests/it", "benches/speed", "build"]
        );
    }

    #[test]
    fn declared_targets_and_2015_discovery() {
        let t = Tree::new(
            "declared",
            &[
                (
                    "Cargo.toml",
                    "[package]\nname = \"old\"\nbuild = false\n[lib]\nname = \"core_lib\"\npath = \"lib.rs\"\n[[bin]]\nname = \"only\"\npath = \"tools/only.rs\"\n",
                ),
                ("lib.rs", ""),
                ("tools/only.rs", ""),
                ("src/bin/ignored.rs", ""),
                ("build.rs", ""),
            ],
        );
        let ws = find_workspace(Some(&t.0.join("Cargo.toml")), &t.0).expect("workspace");
        let package = &ws.packages[0];
        assert_eq!(package.edition, Edition::E2015);
        assert_eq!(package.lib_name.as_deref(), Some("core_lib"));
        assert_eq!(
            labels(package),
            ["src", "bin/only"],
            "2015 discovery is off where bins are declared; build = false"
        );
        assert!(!package.proc_macro);
    }

    #[test]
    fn a_proc_macro_library_in_either_spelling() {
        for (spelling, library) in
            [("proc-macro = true", true), ("proc_macro = true", true), ("proc-macro = false", false)]
        {
            let manifest = format!("[package]\nname = \"m\"\nedition = \"2021\"\n[lib]\n{spelling}\n");
            let t = Tree::new("procmacro", &[("Cargo.toml", &manifest), ("src/lib.rs", "")]);
            let package = read_package(&t.0).expect("package");
            assert_eq!(package.proc_macro, library, "{spelling}");
        }
    }

    #[test]
    fn workspace_members_globs_excludes_and_path_dependencies() {
        let pkg = |name: &str| format!("[package]\nname = \"{name}\"\nedition.workspace = true\n");
        let t = Tree::new(
            "workspace",
            &[
                (
                    "Cargo.toml",
                    "[workspace]\nmembers = [\"crates/*\"]\nexclude = [\"crates/skip\"]\n[workspace.package]\nedition = \"2018\"\n",
                ),
                ("crates/a/Cargo.toml", "[package]\nname = \"a\"\nedition.workspace = true\n[dependencies]\nutil = { path = \"../../util\" }\nfar = { path = \"../../../far\" }\n"),
                ("crates/a/src/lib.rs", ""),
                ("crates/b/Cargo.toml", &pkg("b")),
                ("crates/b/src/main.rs", ""),
                ("crates/skip/Cargo.toml", &pkg("skip")),
                ("crates/notes/readme.txt", ""),
                ("util/Cargo.toml", &pkg("util")),
                ("util/src/lib.rs", ""),
            ],
        );
        // Found from inside a member, as cargo would.
        let ws = find_workspace(None, &t.0.join("crates/b/src")).expect("workspace");
        assert_eq!(ws.root, t.0);
        let names: Vec<&str> = ws.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "util", "b"]);
        assert!(ws.packages.iter().all(|p| p.edition == Edition::E2018));
    }

    #[test]
    fn bad_manifests_say_where_and_what() {
        let t = Tree::new("bad", &[("Cargo.toml", "[package]\nname = \"x\"\nedition = 2021\n")]);
        let err = find_workspace(None, &t.0).expect_err("integer edition");
        assert!(err.0.contains("must be a string"), "{}", err.0);
        let t = Tree::new("broken", &[("Cargo.toml", "[package\nname = 1\n")]);
        let err = find_workspace(None, &t.0).expect_err("not TOML");
        assert!(err.0.contains("Cargo.toml:1:"), "{}", err.0);
        let none = std::env::temp_dir().join("lockscope-no-such-manifest");
        assert!(find_workspace(Some(&none), &t.0).expect_err("missing").0.contains("is not a file"));
    }
}
