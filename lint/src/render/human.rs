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
    let raw = &source.text[start..end.max(start)];
    let from = source.offset(region.start.line, region.start.column).saturating_sub(start).min(raw.len());
    let to = source.offset(region.end.line, region.end.column).saturating_sub(start).min(raw.len());
    let (text, from, to) = expand_tabs(raw, from, to);
    let to = if to <= from { (from + 1).min(text.len().max(from)) } else { to };
    let text = text.as_str();

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
    let notes: Vec<String> = finding.related.iter().map(|r| format!("{} at {}", r.message, r.location())).collect();
    for note in &notes {
        message = message.footer(Level::Note.title(note));
    }
    if let Some(help) = &finding.help {
        message = message.footer(Level::Help.title(help));
    }
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    let rendered = renderer.render(message).to_string();
    if text.len() == raw.len() {
        return rendered;
    }
    // The `-->` line counts columns in the expanded text; say the finding's own column
    // (characters, a tab counting one), as the JSON output and rustc do.
    let line_start = text[..from].rfind('\n').map_or(0, |i| i + 1);
    let shown = format!("{}:{}:{}", finding.path(), region.start.line, text[line_start..from].chars().count() + 1);
    let real = format!("{}:{}:{}", finding.path(), region.start.line, region.start.column);
    rendered.replacen(&shown, &real, 1)
}

/// Terminal tab stops: a tab moves to the next multiple of this column.
const TAB_STOP: usize = 8;

/// `text` with its tabs expanded to spaces as a terminal shows them, and the byte offsets
/// `from` and `to` moved along, so the caret stands under the characters it marks.
fn expand_tabs(text: &str, from: usize, to: usize) -> (String, usize, usize) {
    if !text.contains('\t') {
        return (text.to_string(), from, to);
    }
    let (mut out, mut column) = (String::with_capacity(text.len()), 0);
    let (mut new_from, mut new_to) = (from, to);
    for (i, c) in text.char_indices() {
        if i == from {
            new_from = out.len();
        }
        if i == to {
            new_to = out.len();
        }
        match c {
            '\t' => {
                let width = TAB_STOP - column % TAB_STOP;
                out.extend(std::iter::repeat(' ').take(width));
                column += width;
            }
            '\n' => {
                out.push(c);
                column = 0;
            }
            _ => {
                out.push(c);
                column += 1;
            }
        }
    }
    if to >= text.len() {
        new_to = out.len();
    }
    if from >= text.len() {
        new_from = out.len();
    }
    (out, new_from, new_to)
}

#[cfg(test)]
mod tests {
    use super::expand_tabs;

    #[test]
    fn tabs_expand_to_terminal_stops_and_offsets_follow() {
        let text = "\t\tf: Mutex<File>,\n\tx\ty";
        let (out, from, to) = expand_tabs(text, 2, 16);
        assert_eq!(&out[from..to], "f: Mutex<File>");
        assert_eq!(out.lines().collect::<Vec<_>>(), ["                f: Mutex<File>,", "        x       y"]);
    }
}
