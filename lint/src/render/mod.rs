//! Renderers: each a pure function of the findings (and their sources) to text.

pub mod cargo;
pub mod human;
pub mod json;
pub mod sarif;

/// Output formats of `lint --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-style diagnostics with the source line and a caret under the span.
    Human,
    /// One JSON object per line per finding.
    Json,
    /// One SARIF 2.1.0 log (GitHub code scanning).
    Sarif,
}

/// `--message-format`: cargo's names, for editors that run `cargo check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    /// Same as `--format human`.
    Human,
    /// cargo's `compiler-message` JSON lines with rustc-shaped diagnostics.
    Json,
}
