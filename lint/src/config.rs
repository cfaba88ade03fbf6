//! Configuration: `[workspace.metadata.lockscope]` and `[package.metadata.lockscope]` in
//! Cargo.toml, or a `lockscope.toml` beside it:
//!
//! ```toml
//! read_seek_types = ["my_crate::Reader"]   # more types mutex_read_seek treats as Read + Seek
//! allow = ["aliased_buffer"]               # rules not to report in this workspace or package
//! max_file_size = 20_000_000               # bytes; larger files are skipped, with a note (default 10 MB)
//! ```
//!
//! A package's settings add to its workspace's; `lockscope.toml` is found in the package
//! folder or any folder above it, up to the workspace root. Unknown keys and unknown rule names are
//! errors that name the file and the key.

use crate::{input, rules, RunError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Rules whose findings are dropped.
    pub allow: Vec<String>,
    /// Full paths (`my_crate::Reader`) of types that are `Read + Seek`.
    pub read_seek_types: Vec<Vec<String>>,
    /// Source files larger than this many bytes are skipped (and said so in the summary):
    /// parsing costs memory in proportion to the file.
    pub max_file_size: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { allow: Vec::new(), read_seek_types: Vec::new(), max_file_size: DEFAULT_MAX_FILE_SIZE }
    }
}

/// Far above hand-written code (the largest files of the registry tree are generated
/// tables and bindings of a few MB), and small enough that linting one stays well under
/// 500 MB of memory (BENCHMARKS.md, "Hostile input").
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10_000_000;

/// Configuration files are small; a larger one is not one.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    read_seek_types: Vec<String>,
    max_file_size: Option<u64>,
}

impl Config {
    /// The configuration of the package rooted at `package_root`: its `Cargo.toml`
    /// metadata and `lockscope.toml`, plus those of the enclosing workspace.
    pub fn for_package(package_root: &Path) -> Result<Config, RunError> {
        let mut config = Config::default();
        let workspace = workspace_root(package_root);
        let mut manifests = vec![package_root.to_path_buf()];
        if let Some(ws) = workspace.as_ref().filter(|ws| *ws != package_root) {
            manifests.push(ws.clone());
        }
        for folder in manifests {
            let manifest = folder.join("Cargo.toml");
            // Someone else's manifest (a vendored crate, a test fixture) is none of our
            // business unless it configures lockscope.
            let mentions_us = input::read_text(&manifest, MAX_CONFIG_BYTES).is_ok_and(|t| t.contains("lockscope"));
            if let Some(doc) = if mentions_us { read_toml(&manifest)? } else { None } {
                for (table, key) in
                    [("package", "[package.metadata.lockscope]"), ("workspace", "[workspace.metadata.lockscope]")]
                {
                    if let Some(value) = doc.get(table).and_then(|t| t.get("metadata")).and_then(|m| m.get("lockscope"))
                    {
                        config.add(&manifest, key, value.clone())?;
                    }
                }
            }
        }
        // `lockscope.toml` is looked for like `rustfmt.toml`: here and in every folder
        // above, up to the workspace root.
        for folder in package_root.ancestors() {
            let own = folder.join("lockscope.toml");
            if let Some(doc) = read_toml(&own)? {
                config.add(&own, "", toml::Value::Table(doc))?;
            }
            if workspace.as_deref() == Some(folder) {
                break;
            }
        }
        Ok(config)
    }

    /// Add the settings of `table` in `file` (`""`: the whole file).
    fn add(&mut self, file: &Path, table: &str, value: toml::Value) -> Result<(), RunError> {
        let shown = if table.is_empty() { file.display().to_string() } else { format!("{}: {table}", file.display()) };
        let raw: Raw =
            value.try_into().map_err(|e: toml::de::Error| RunError(format!("{shown}: {}", e.message().trim_end())))?;
        for rule in &raw.allow {
            if rules::by_name(rule).is_none() {
                return Err(RunError(format!("{shown}: `allow` names unknown rule `{rule}`; {}", rules::known_list())));
            }
        }
        if let Some(size) = raw.max_file_size {
            if size == 0 {
                return Err(RunError(format!(
                    "{shown}: `max_file_size` is 0; give a size in bytes, such as 20_000_000"
                )));
            }
            self.max_file_size = size;
        }
        for path in &raw.read_seek_types {
            let segments: Vec<String> = path.split("::").map(str::trim).map(String::from).collect();
            if segments.iter().any(|s| s.is_empty() || !s.chars().all(|c| c.is_alphanumeric() || c == '_')) {
                return Err(RunError(format!(
                    "{shown}: `read_seek_types` entry `{path}` is not a type path like `my_crate::Reader`"
                )));
            }
            self.read_seek_types.push(segments);
        }
        self.allow.extend(raw.allow);
        Ok(())
    }
}

fn read_toml(path: &Path) -> Result<Option<toml::Table>, RunError> {
    let text = match input::read_text(path, MAX_CONFIG_BYTES) {
        Ok(text) => text,
        Err(input::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RunError(format!("{}: {e}", path.display()))),
    };
    text.parse::<toml::Table>().map(Some).map_err(|e| RunError(crate::manifest::toml_error(path, &text, &e)))
}

/// The nearest folder at or above `from` whose Cargo.toml has a `[workspace]` table.
fn workspace_root(from: &Path) -> Option<PathBuf> {
    from.ancestors()
        .find(|dir| {
            input::read_text(&dir.join("Cargo.toml"), MAX_CONFIG_BYTES)
                .ok()
                .filter(|t| t.contains("[workspace"))
                .and_then(|t| t.parse::<toml::Table>().ok())
                .is_some_and(|doc| doc.contains_key("workspace"))
        })
        .map(Path::to_path_buf)
}
