//! rustc-style diagnostics, drawn by `annotate-snippets`.

use crate::diagnostic::{Finding, Severity};
use annotate_snippets::{Level, Renderer, Snippet};

/// Render one finding like rustc: header, the source lines with a caret, notes and help.
pub fn render(finding: &Finding, color: bool) -> String {
    let source = &finding.file;
    let region = finding.region;
    let first_line = region.start.line.max(1);
    let last_line = region.end.line.max(first_line).min(source.line_count().max(first_line));
    // Show only the lines the finding covers: files can be large.
    let start = source.offset(first_line, 1);
    let end = source.offset(last_line, usize::MAX);
    let text = &source.text[start..end.max(start)];
    let from = source.offset(region.start.line, region.start.column).saturating_sub(start).min(text.len());
    let to = source.offset(region.end.line, region.end.column).saturating_sub(start).min(text.len());
    let to = if to <= from { (from + 1).min(text.len().max(from)) } else { to };

    let level = match finding.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    };
    let mut message = level.title(&finding.message).id(finding.rule).snippet(
        Snippet::source(text)
            .line_start(first_line)
            .origin(finding.path())
            .fold(false)
            .annotation(level.span(from..to).label(&finding.label)),
    );
    if let Some(help) = &finding.help {
        message = message.footer(Level::Help.title(help));
    }
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    let rendered = renderer.render(message).to_string();
    rendered
}
