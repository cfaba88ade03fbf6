//! Finds the packages to lint and their `.rs` files: a cargo workspace read from its
//! manifests ([`crate::manifest`]: nothing the repository names is run), or the files and
//! folders given on the command line.

use crate::config::Config;
use crate::manifest::{self, Edition};
use crate::source::{module_path_for, ModulePath};
use crate::{input, RunError};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// One package (or a loose folder of files): the unit inside which names resolve.
#[derive(Debug)]
pub struct PackageInput {
    pub root: PathBuf,
    /// The library target's name (`my_crate`), so `my_crate::Foo` in tests resolves here.
    pub lib_name: Option<String>,
    /// The library is a procedural macro ([`crate::manifest::Package::proc_macro`]).
    pub proc_macro: bool,
    /// The crate's edition (2015 when the manifest says none, as cargo assumes, and for
    /// loose files, as rustc assumes).
    pub edition: Edition,
    pub files: Vec<FileInput>,
    /// Its `lockscope.toml` / Cargo.toml metadata settings.
    pub config: Config,
    /// Libraries of the same workspace it depends on by path: their sources are among
    /// `files` (not reported) under the module tree [`Dependency::target`].
    pub dependencies: Vec<Dependency>,
    /// The folders from the workspace root (or the folder given to lint) down to the
    /// package (`testing`, `simulator`): where a repository keeps it says what it is for.
    pub folders: Vec<String>,
}

/// A path dependency whose names resolve through its sources.
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The name code uses for it (`ckb_util`).
    pub name: String,
    /// The label of its module tree among the package's files (`dep/ckb_util`).
    pub target: String,
    pub edition: Edition,
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

pub struct Discovered {
    pub packages: Vec<PackageInput>,
    /// The workspace root, where configuration is looked up.
    pub workspace_root: Option<PathBuf>,
}

pub fn discover(scope: &Scope) -> Result<Discovered, RunError> {
    match scope {
        Scope::Workspace { manifest_path } => discover_workspace(manifest_path.as_deref()),
        Scope::Paths(paths) => discover_paths(paths),
    }
}

fn discover_workspace(manifest_path: Option<&Path>) -> Result<Discovered, RunError> {
    let cwd = std::env::current_dir().map_err(|e| RunError(format!("cannot read the current folder: {e}")))?;
    let workspace = manifest::find_workspace(manifest_path, &cwd).map_err(|e| RunError(e.0))?;
    let workspace_root = workspace.root;
    let display = |path: &Path| path.strip_prefix(&workspace_root).unwrap_or(path).to_string_lossy().into_owned();
    // Each member's library, by folder: what its dependents resolve names through.
    let libraries: BTreeMap<&Path, (&manifest::Package, &manifest::Target)> = workspace
        .packages
        .iter()
        .filter_map(|p| {
            p.targets.iter().find(|t| t.kind == manifest::TargetKind::Lib).map(|lib| (p.root.as_path(), (p, lib)))
        })
        .collect();
    let mut packages = Vec::new();
    let mut dependency_sources = HashMap::new();
    for package in &workspace.packages {
        let config = Config::for_package(&package.root)?;
        let roots: Vec<(PathBuf, ModulePath)> =
            package.targets.iter().map(|t| (t.root.clone(), ModulePath::root(&t.label()))).collect();
        let mut files: Vec<FileInput> = target_sources(&roots, config.max_file_size)
            .into_iter()
            .map(|(path, module)| FileInput { module, display: display(&path), path, report: true })
            .collect();
        let mut dependencies = Vec::new();
        for (name, dir) in &package.path_deps {
            let Some((dep, lib)) = libraries.get(dir.as_path()) else { continue };
            let tree = ModulePath::dependency(&lib.name);
            let target = tree.target.to_string();
            if !dependencies.iter().any(|d: &Dependency| d.target == target) {
                // Many packages share a dependency: its module tree is read once.
                let sources = dependency_sources
                    .entry((lib.root.clone(), config.max_file_size))
                    .or_insert_with(|| target_sources(&[(lib.root.clone(), tree)], config.max_file_size));
                files.extend(sources.iter().map(|(path, module)| FileInput {
                    module: module.clone(),
                    display: display(path),
                    path: path.clone(),
                    report: false,
                }));
            }
            // Code names a dependency by its key, or by its library's name when not renamed.
            for alias in [name, &lib.name] {
                if !dependencies.iter().any(|d: &Dependency| &d.name == alias) {
                    dependencies.push(Dependency { name: alias.clone(), target: target.clone(), edition: dep.edition });
                }
            }
        }
        packages.push(PackageInput {
            folders: folders_between(&workspace_root, &package.root),
            root: package.root.clone(),
            lib_name: package.lib_name.clone(),
            proc_macro: package.proc_macro,
            edition: package.edition,
            files,
            config,
            dependencies,
        });
    }
    Ok(Discovered { packages, workspace_root: Some(workspace_root) })
}

fn discover_paths(paths: &[PathBuf]) -> Result<Discovered, RunError> {
    let mut requested: Vec<PathBuf> = Vec::new();
    let mut walked_dirs: Vec<PathBuf> = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => RunError(format!(
                "`{}` does not exist: give a file or folder to lint, or no path to lint the cargo workspace",
                path.display()
            )),
            _ => RunError(format!("cannot read `{}`: {e}", path.display())),
        })?;
        if let Some(kind) = input::special_kind(&meta) {
            return Err(RunError(format!(
                "`{}` is a {kind}, not a file or folder: lockscope lints `.rs` files, read from disk",
                path.display()
            )));
        } else if meta.is_dir() {
            requested.extend(walk_rs_files(path, false));
            walked_dirs.push(absolute(path));
        } else {
            requested.push(path.clone());
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
        let config = Config::for_package(&root)?;
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
        let package = manifest::read_package(&root);
        let lib_name = package.as_ref().and_then(|p| p.lib_name.clone());
        let proc_macro = package.as_ref().is_some_and(|p| p.proc_macro);
        let edition = package.map(|p| p.edition).unwrap_or_default();
        let folders =
            walked_dirs.iter().find(|d| root.starts_with(d)).map_or_else(Vec::new, |d| folders_between(d, &root));
        packages.push(PackageInput {
            root,
            lib_name,
            proc_macro,
            edition,
            files: inputs,
            config,
            dependencies: Vec::new(),
            folders,
        });
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
        let config = Config::for_package(&dir)?;
        packages.push(PackageInput {
            root: dir,
            lib_name: None,
            proc_macro: false,
            edition: Edition::default(),
            files: inputs,
            config,
            dependencies: Vec::new(),
            folders: Vec::new(),
        });
    }
    Ok(Discovered { packages, workspace_root: None })
}

/// The folder names from `top` down to `package` (none when it is not below `top`).
fn folders_between(top: &Path, package: &Path) -> Vec<String> {
    package
        .strip_prefix(top)
        .map(|rest| rest.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

fn absolute(path: &Path) -> PathBuf {
    manifest::absolute(path)
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

/// The files of a package's targets with their module paths: each target's root and every
/// file reached from it through `mod name;` declarations (following `#[path]` and inline
/// modules), as rustc would compile them. Files in the package folder that no target
/// includes (test fixtures, templates) are not its sources. Files larger than `max_bytes`
/// or not regular are still listed (loading reports them) but not followed.
fn target_sources(roots: &[(PathBuf, ModulePath)], max_bytes: u64) -> Vec<(PathBuf, ModulePath)> {
    let mut seen: BTreeMap<PathBuf, ModulePath> = BTreeMap::new();
    let mut work: Vec<ModFile> = roots
        .iter()
        .rev()
        .map(|(path, module)| ModFile { path: path.clone(), module: module.clone(), owns_dir: true })
        .collect();
    while let Some(file) = work.pop() {
        if seen.contains_key(&file.path) || !file.path.exists() {
            continue;
        }
        seen.insert(file.path.clone(), file.module.clone());
        let Ok(text) = input::read_text(&file.path, max_bytes) else { continue };
        let Ok(tokens) = text.parse::<proc_macro2::TokenStream>() else { continue };
        let parent = file.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let module_dir =
            if file.owns_dir { parent.clone() } else { parent.join(file.path.file_stem().unwrap_or_default()) };
        let mut found = Vec::new();
        collect_mod_files(tokens, &module_dir, &parent, &file.module, &mut found);
        // Its tokens are gone: forget the copy of its text proc-macro2 keeps for span
        // locations, or the thread holds every file discovery ever read (biome: 342 MB).
        crate::parse::release_thread_spans();
        found.reverse();
        work.extend(found);
    }
    seen.into_iter().collect()
}

/// A file that a `mod` declaration names, with the module it becomes.
struct ModFile {
    path: PathBuf,
    module: ModulePath,
    /// A crate root, `mod.rs` or `#[path]` file: its child modules live beside it.
    owns_dir: bool,
}

/// The files that `mod name;` declarations in `tokens` refer to. Walks nested groups with
/// an explicit stack: a file can nest braces as deep as it likes.
fn collect_mod_files(
    tokens: proc_macro2::TokenStream,
    module_dir: &Path,
    file_dir: &Path,
    module: &ModulePath,
    out: &mut Vec<ModFile>,
) {
    use proc_macro2::{Delimiter, TokenTree};
    // (tokens, where `mod x;` files live, where `#[path]` is relative to, module path)
    let mut stack = vec![(tokens, module_dir.to_path_buf(), file_dir.to_path_buf(), module.clone())];
    while let Some((tokens, module_dir, file_dir, module)) = stack.pop() {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut path_attr: Option<String> = None;
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    if let Some(TokenTree::Group(attr)) = tokens.get(i + 1) {
                        let inner: Vec<TokenTree> = attr.stream().into_iter().collect();
                        if let [TokenTree::Ident(name), TokenTree::Punct(eq), TokenTree::Literal(lit)] =
                            inner.as_slice()
                        {
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
                        let name = name.strip_prefix("r#").unwrap_or(&name).to_string();
                        let child = module.child(&name);
                        match tokens.get(i + 2) {
                            Some(TokenTree::Punct(semi)) if semi.as_char() == ';' => {
                                if let Some(path) = path_attr.take() {
                                    out.push(ModFile { path: file_dir.join(path), module: child, owns_dir: true });
                                } else {
                                    let flat = module_dir.join(format!("{name}.rs"));
                                    let nested = module_dir.join(&name).join("mod.rs");
                                    let (path, owns_dir) = if flat.exists() { (flat, false) } else { (nested, true) };
                                    out.push(ModFile { path, module: child, owns_dir });
                                }
                            }
                            Some(TokenTree::Group(body)) => {
                                let dir = match path_attr.take() {
                                    Some(path) => file_dir.join(path),
                                    None => module_dir.join(&name),
                                };
                                stack.push((body.stream(), dir.clone(), dir, child));
                                i += 3;
                                continue;
                            }
                            _ => {}
                        }
                        i += 2;
                        continue;
                    }
                }
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                    // `mod` declarations inside function bodies or other blocks.
                    stack.push((g.stream(), module_dir.clone(), file_dir.clone(), module.clone()));
                }
                TokenTree::Punct(p) if p.as_char() == ';' => path_attr = None,
                _ => {}
            }
            i += 1;
        }
    }
}
