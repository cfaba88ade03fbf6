//! Source files as the engine sees them: text, display path, module path, line index.

use std::path::PathBuf;
use std::sync::Arc;

/// Where a file sits in its package's module tree, so `crate::a::B` and `super::B`
/// can be resolved without compiling.
///
/// `target` separates the crates of one package (the library, each binary, test,
/// example, bench, `build.rs`); `segments` is the module path inside that target.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModulePath {
    pub target: Arc<str>,
    pub segments: Vec<String>,
}

const DEPENDENCY_PREFIX: &str = "dep/";

impl ModulePath {
    pub fn root(target: &str) -> Self {
        ModulePath { target: Arc::from(target), segments: Vec::new() }
    }

    /// The module tree of a workspace library this crate depends on (`dep/my_util`): read
    /// for the names it defines, never linted.
    pub fn dependency(lib_name: &str) -> Self {
        ModulePath::root(&format!("{DEPENDENCY_PREFIX}{lib_name}"))
    }

    pub fn is_dependency(&self) -> bool {
        self.target.starts_with(DEPENDENCY_PREFIX)
    }

    pub fn child(&self, name: &str) -> Self {
        let mut segments = self.segments.clone();
        segments.push(name.to_string());
        ModulePath { target: self.target.clone(), segments }
    }

    pub fn parent(&self) -> Option<Self> {
        let mut segments = self.segments.clone();
        segments.pop()?;
        Some(ModulePath { target: self.target.clone(), segments })
    }
}

/// One `.rs` file of a package.
#[derive(Debug)]
pub struct SourceFile {
    /// The path to read the file from.
    pub path: PathBuf,
    /// The path shown to users: as given on the command line, or relative to the workspace root.
    pub display: String,
    pub module: ModulePath,
    /// False for files loaded only so names resolve across the crate: they never get findings.
    pub report: bool,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: PathBuf, display: String, module: ModulePath, report: bool, text: String) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        SourceFile { path, display, module, report, text, line_starts }
    }

    /// The text of 1-based `line`, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self.line_starts.get(line).copied().unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset of a 1-based line and 1-based column counted in `char`s
    /// (what `proc-macro2` reports), clamped to the file.
    pub fn offset(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return self.text.len();
        };
        let line_text = self.line_text(line);
        let within = line_text.char_indices().nth(column.saturating_sub(1)).map_or(line_text.len(), |(i, _)| i);
        start + within
    }
}

/// A 1-based line and 1-based column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// A region of one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region {
    pub start: Position,
    pub end: Position,
}

impl Region {
    pub fn of(span: proc_macro2::Span) -> Self {
        let (s, e) = (span.start(), span.end());
        Region {
            start: Position { line: s.line, column: s.column + 1 },
            end: Position { line: e.line, column: e.column + 1 },
        }
    }

    pub fn whole_line(line: usize) -> Self {
        Region { start: Position { line, column: 1 }, end: Position { line, column: 1 } }
    }
}

/// Module path of a file from its place in a package, following cargo's target layout.
pub fn module_path_for(package_root: &std::path::Path, file: &std::path::Path) -> ModulePath {
    let rel = file.strip_prefix(package_root).unwrap_or(file);
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let strip_rs = |s: &str| s.strip_suffix(".rs").unwrap_or(s).to_string();
    // Turn `a/b.rs` into [a, b] and `a/mod.rs` into [a].
    let modules = |rest: &[String]| -> Vec<String> {
        let mut segs: Vec<String> = rest.iter().map(|s| strip_rs(s)).collect();
        if segs.last().is_some_and(|s| s == "mod") {
            segs.pop();
        }
        segs
    };
    match parts.as_slice() {
        [only] if only == "build.rs" => ModulePath::root("build"),
        [src, bin, rest @ ..] if src == "src" && bin == "bin" && !rest.is_empty() => {
            let target = format!("bin/{}", strip_rs(&rest[0]));
            let mut segs = modules(&rest[1..]);
            if segs.last().is_some_and(|s| s == "main") {
                segs.pop();
            }
            ModulePath { target: Arc::from(target.as_str()), segments: segs }
        }
        [src, root] if src == "src" && (root == "lib.rs" || root == "main.rs") => ModulePath::root("src"),
        [src, rest @ ..] if src == "src" => ModulePath { target: Arc::from("src"), segments: modules(rest) },
        [dir, file] if matches!(dir.as_str(), "tests" | "examples" | "benches") => {
            ModulePath::root(&format!("{dir}/{}", strip_rs(file)))
        }
        [dir, rest @ ..] if matches!(dir.as_str(), "tests" | "examples" | "benches") => {
            let mut segs = modules(rest);
            if segs.last().is_some_and(|s| s == "main") {
                segs.pop();
            }
            ModulePath { target: Arc::from(dir.as_str()), segments: segs }
        }
        _ => ModulePath::root(&rel.to_string_lossy()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn module_paths_follow_cargo_layout() {
        let root = Path::new("/p");
        let m = |f: &str| module_path_for(root, &root.join(f));
        assert_eq!(m("src/lib.rs"), ModulePath::root("src"));
        assert_eq!(m("src/a/b.rs").segments, ["a", "b"]);
        assert_eq!(m("src/a/mod.rs").segments, ["a"]);
        assert_eq!(&*m("src/bin/tool.rs").target, "bin/tool");
        assert_eq!(&*m("tests/it.rs").target, "tests/it");
        assert_eq!(&*m("build.rs").target, "build");
    }

    #[test]
    fn offsets_count_characters() {
        let f = SourceFile::new("x".into(), "x".into(), ModulePath::root("src"), true, "é = 1;\nab".into());
        assert_eq!(f.offset(1, 2), 2);
        assert_eq!(f.offset(2, 2), 9);
        assert_eq!(f.line_text(2), "ab");
        assert_eq!(f.line_text(9), "");
    }
}
