//! Renderers: each a pure function of the findings (and their sources) to text.

pub mod human;
pub mod json;

/// Output formats of `lint --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-style diagnostics with the source line and a caret under the span.
    Human,
    /// One JSON object per line per finding.
    Json,
}
