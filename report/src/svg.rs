//! A flamegraph of wait time (the `svg` feature): the folded stacks drawn by `inferno`.

use crate::{folded, Report};

/// Why no flamegraph could be drawn.
#[derive(Debug)]
pub enum SvgError {
    /// Nothing waited: there is nothing to draw.
    NoWaits,
    Draw(String),
}

impl std::fmt::Display for SvgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SvgError::NoWaits => f.write_str("the report has no lock waits to draw"),
            SvgError::Draw(e) => write!(f, "cannot draw the flamegraph: {e}"),
        }
    }
}

impl std::error::Error for SvgError {}

/// The flamegraph of a report's wait time, as SVG bytes.
pub fn flamegraph(report: &Report) -> Result<Vec<u8>, SvgError> {
    let folded = folded::folded(report);
    if folded.is_empty() {
        return Err(SvgError::NoWaits);
    }
    let mut options = inferno::flamegraph::Options::default();
    options.title = "lockscope: time spent waiting for locks".into();
    options.count_name = "ns".into();
    options.name_type = "Frame:".into();
    let mut out = Vec::new();
    inferno::flamegraph::from_lines(&mut options, folded.lines(), &mut out)
        .map_err(|e| SvgError::Draw(e.to_string()))?;
    Ok(out)
}
