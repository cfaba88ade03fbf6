//! Finds the packages to lint and their `.rs` files: a cargo workspace through
//! `cargo metadata --no-deps`, or the files and folders given on the command line.

use crate::source::{module_path_for, ModulePath};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// One package (or a loose folder of files): the unit inside which names resolve.
#[derive(Debug)]
pub struct PackageInput {
    pub root: PathBuf,
    /// The library target's name (`my_crate`), so `my_crate::Foo` in tests resolves here.
    pub lib_name: Option<String>,
    pub files: Vec<FileInput>,
    /// Its `lockscope.toml` / Cargo.toml metadata settings.
    pub config: crate::config::Config,
}

#[derive(Debug)]
pub struct FileInput {
    pub path: PathBuf,
    pub display: String,
    pub module: ModulePath,
    pub report: bool,
}

/// What to lint.
#[derive(Debug, Clone)]
pub enum Scope {
    /// The cargo workspace, found from the current directory or `--manifest-path`.
    Workspace {
        manifest_path: Option<PathBuf>,
    },
    Paths(Vec<PathBuf>),
}

/// A run that cannot be done (exit status 2).
#[derive(Debug)]
pub struct DiscoverError(pub String);

impl std::fmt::Display for DiscoverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub struct Discovered {
    pub packages: Vec<PackageInput>,
    /// The workspace root, where configuration is looked up.
    pub workspace_root: Option<PathBuf>,
}

pub fn discover(scope: &Scope) -> Result<Discovered, DiscoverError> {
    match scope {
        Scope::Workspace { manifest_path } => discover_workspace(manifest_path.as_deref()),
        Scope::Paths(paths) => discover_paths(paths),
    }
}

fn discover_workspace(manifest_path: Option<&Path>) -> Result<Discovered, DiscoverError> {
    let mut cmd = cargo_metadata::MetadataCommand::new();
    cmd.no_deps();
    if let Some(path) = manifest_path {
        if !path.is_file() {
            return Err(DiscoverError(format!(
                "manifest `{}` does not exist: pass the path of a Cargo.toml",
                path.display()
            )));
        }
        cmd.manifest_path(path);
    }
    let metadata = cmd.exec().map_err(|e| {
        let detail = match &e {
            cargo_metadata::Error::CargoMetadata { stderr } => stderr.trim().to_string(),
            other => other.to_string(),
        };
        DiscoverError(format!(
            "no cargo workspace found ({detail}); run inside a cargo project, pass --manifest-path, or give the files or folders to lint"
        ))
    })?;
    let workspace_root = metadata.workspace_root.clone().into_std_path_buf();
    let mut packages = Vec::new();
    for package in metadata.workspace_packages() {
        let manifest = package.manifest_path.clone().into_std_path_buf();
        let root = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
        let lib_name = package
            .targets
            .iter()
            .find(|t| {
                t.kind.iter().any(|k| {
                    matches!(
                        k,
                        cargo_metadata::TargetKind::Lib
                            | cargo_metadata::TargetKind::RLib
                            | cargo_metadata::TargetKind::ProcMacro
                    )
                })
            })
            .map(|t| t.name.replace('-', "_"));
        let target_roots: Vec<PathBuf> =
            package.targets.iter().map(|t| t.src_path.clone().into_std_path_buf()).collect();
        let files = target_sources(&target_roots)
            .into_iter()
            .map(|path| {
                let display = path.strip_prefix(&workspace_root).unwrap_or(&path).to_string_lossy().into_owned();
                FileInput { module: module_path_for(&root, &path), display, path, report: true }
            })
            .collect();
        packages.push(PackageInput { root, lib_name, files, config: Default::default() });
    }
    Ok(Discovered { packages, workspace_root: Some(workspace_root) })
}

fn discover_paths(paths: &[PathBuf]) -> Result<Discovered, DiscoverError> {
    let mut requested: Vec<PathBuf> = Vec::new();
    let mut walked_dirs: Vec<PathBuf> = Vec::new();
    for path in paths {
        if path.is_dir() {
            requested.extend(walk_rs_files(path, false));
            walked_dirs.push(absolute(path));
        } else if path.is_file() {
            requested.push(path.clone());
        } else {
            return Err(DiscoverError(format!(
                "`{}` does not exist: give a file or folder to lint, or no path to lint the cargo workspace",
                path.display()
            )));
        }
    }

    // Group files by the package they belong to: the nearest folder with a Cargo.toml.
    let mut roots_cache: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    let mut groups: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    let mut loose: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for file in requested {
        let abs = absolute(&file);
        let dir = abs.parent().unwrap_or(Path::new("/")).to_path_buf();
        match package_root_of(&dir, &mut roots_cache) {
            Some(root) => groups.entry(root).or_default().push(file),
            None => loose.entry(dir).or_default().push(file),
        }
    }

    let mut packages = Vec::new();
    for (root, files) in groups {
        let mut inputs: Vec<FileInput> = files
            .iter()
            .map(|f| FileInput {
                module: module_path_for(&root, &absolute(f)),
                display: f.to_string_lossy().into_owned(),
                path: f.clone(),
                report: true,
            })
            .collect();
        // A file is never linted alone: when only part of a package was given, load the
        // rest of it so names resolve across the crate (those files get no findings).
        if !walked_dirs.iter().any(|d| root.starts_with(d)) {
            let given: std::collections::HashSet<PathBuf> = files.iter().map(|f| absolute(f)).collect();
            for path in walk_rs_files(&root, true) {
                if !given.contains(&path) {
                    inputs.push(FileInput {
                        module: module_path_for(&root, &path),
                        display: path.to_string_lossy().into_owned(),
                        path,
                        report: false,
                    });
                }
            }
        }
        let lib_name = lib_name_of(&root);
        packages.push(PackageInput { root, lib_name, files: inputs, config: Default::default() });
    }
    for (dir, files) in loose {
        let inputs = files
            .iter()
            .map(|f| FileInput {
                module: ModulePath::root(&f.to_string_lossy()),
                display: f.to_string_lossy().into_owned(),
                path: f.clone(),
                report: true,
            })
            .collect();
        packages.push(PackageInput { root: dir, lib_name: None, files: inputs, config: Default::default() });
    }
    Ok(Discovered { packages, workspace_root: None })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn package_root_of(dir: &Path, cache: &mut HashMap<PathBuf, Option<PathBuf>>) -> Option<PathBuf> {
    if let Some(found) = cache.get(dir) {
        return found.clone();
    }
    let found = if dir.join("Cargo.toml").is_file() {
        Some(dir.to_path_buf())
    } else {
        dir.parent().and_then(|p| package_root_of(p, cache))
    };
    cache.insert(dir.to_path_buf(), found.clone());
    found
}

/// The `[lib] name`, or the package name, read from the manifest without cargo.
fn lib_name_of(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).ok()?;
    let name = text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "name").then(|| value.trim().trim_matches('"').to_string())
    })?;
    Some(name.replace('-', "_"))
}

/// `.rs` files under `root`, honouring `.gitignore`, skipping cargo's `target/`.
/// With `stop_at_packages`, folders holding another `Cargo.toml` are left to that package.
fn walk_rs_files(root: &Path, stop_at_packages: bool) -> Vec<PathBuf> {
    let root_owned = root.to_path_buf();
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .hidden(true)
        .filter_entry(move |entry| {
            let path = entry.path();
            if !entry.file_type().is_some_and(|t| t.is_dir()) || path == root_owned {
                return true;
            }
            let is_cargo_target = entry.file_name() == "target"
                && (path.parent().is_some_and(|p| p.join("Cargo.toml").is_file())
                    || path.join("CACHEDIR.TAG").is_file());
            let is_other_package = stop_at_packages && path.join("Cargo.toml").is_file();
            !(is_cargo_target || is_other_package)
        })
        .build_parallel();
    let found = std::sync::Mutex::new(Vec::new());
    walker.run(|| {
        Box::new(|entry| {
            if let Ok(entry) = entry {
                let is_rs = entry.path().extension().is_some_and(|e| e == "rs");
                if is_rs && entry.file_type().is_some_and(|t| t.is_file()) {
                    if let Ok(mut found) = found.lock() {
                        found.push(entry.into_path());
                    }
                }
            }
            ignore::WalkState::Continue
        })
    });
    let mut files = found.into_inner().unwrap_or_default();
    files.sort();
    files
}

/// The files of a package's targets: each target's root and every file reached from it
/// through `mod name;` declarations (following `#[path]` and inline modules), as rustc
/// would compile them. Files in the package folder that no target includes (test
/// fixtures, templates) are not its sources.
fn target_sources(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut seen = std::collections::BTreeSet::new();
    let mut work: Vec<(PathBuf, bool)> = roots.iter().map(|r| (r.clone(), true)).collect();
    while let Some((file, is_root)) = work.pop() {
        if !file.is_file() || !seen.insert(file.clone()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let Ok(tokens) = text.parse::<proc_macro2::TokenStream>() else { continue };
        let parent = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let owns_dir = is_root || file.file_name().is_some_and(|n| n == "mod.rs");
        let module_dir = if owns_dir { parent.clone() } else { parent.join(file.file_stem().unwrap_or_default()) };
        collect_mod_files(tokens, &module_dir, &parent, &mut work);
    }
    seen.into_iter().collect()
}

/// Push the files that `mod name;` declarations in `tokens` refer to.
fn collect_mod_files(
    tokens: proc_macro2::TokenStream,
    module_dir: &Path,
    file_dir: &Path,
    out: &mut Vec<(PathBuf, bool)>,
) {
    use proc_macro2::TokenTree;
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut path_attr: Option<String> = None;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                if let Some(TokenTree::Group(attr)) = tokens.get(i + 1) {
                    let inner: Vec<TokenTree> = attr.stream().into_iter().collect();
                    if let [TokenTree::Ident(name), TokenTree::Punct(eq), TokenTree::Literal(lit)] = inner.as_slice() {
                        if name == "path" && eq.as_char() == '=' {
                            path_attr = Some(lit.to_string().trim_matches('"').to_string());
                        }
                    }
                    i += 2;
                    continue;
                }
            }
            TokenTree::Ident(kw) if kw == "mod" => {
                if let Some(TokenTree::Ident(name)) = tokens.get(i + 1) {
                    let name = name.to_string();
                    let name = name.strip_prefix("r#").unwrap_or(&name);
                    match tokens.get(i + 2) {
                        Some(TokenTree::Punct(semi)) if semi.as_char() == ';' => {
                            if let Some(path) = path_attr.take() {
                                out.push((file_dir.join(path), true));
                            } else {
                                out.push((module_dir.join(format!("{name}.rs")), false));
                                out.push((module_dir.join(name).join("mod.rs"), false));
                            }
                        }
                        Some(TokenTree::Group(body)) => {
                            let dir = module_dir.join(name);
                            collect_mod_files(body.stream(), &dir, &dir, out);
                            path_attr = None;
                            i += 3;
                            continue;
                        }
                        _ => {}
                    }
                    i += 2;
                    continue;
                }
            }
            TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace => {
                // `mod` declarations inside function bodies or other blocks.
                collect_mod_files(g.stream(), module_dir, file_dir, out);
            }
            TokenTree::Punct(p) if p.as_char() == ';' => path_attr = None,
            _ => {}
        }
        i += 1;
    }
}
