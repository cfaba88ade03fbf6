//! Parsing with `syn`, guarded so no input can crash the run.

use crate::diagnostic::{Finding, Severity};
use crate::source::{Region, SourceFile};
use std::sync::Arc;

/// Nesting deeper than this is refused before `syn` recurses into it. Real code
/// stays far below; the worker threads' stacks are sized for it with room to spare.
pub const MAX_NESTING: usize = 1_000;

pub struct ParsedFile {
    pub source: Arc<SourceFile>,
    pub ast: syn::File,
}

/// The rule name of a file that cannot be read or parsed.
pub const SYNTAX_ERROR: &str = "syntax_error";

/// Parse one file; a file that cannot be parsed becomes a `syntax_error` finding.
pub fn parse(source: &Arc<SourceFile>) -> Result<ParsedFile, Box<Finding>> {
    if let Some((depth, line)) = too_deep(&source.text) {
        return Err(Box::new(syntax_error(
            source,
            Region::whole_line(line),
            format!("brackets nest {depth} levels deep here; lockscope does not analyse files nested deeper than {MAX_NESTING}"),
        )));
    }
    match syn::parse_file(&source.text) {
        Ok(ast) => Ok(ParsedFile { source: source.clone(), ast }),
        Err(err) => {
            let region = Region::of(err.span());
            let region = if region.start.line == 0 { Region::whole_line(1) } else { region };
            Err(Box::new(syntax_error(source, region, format!("this file does not parse: {err}"))))
        }
    }
}

pub fn syntax_error(source: &Arc<SourceFile>, region: Region, message: String) -> Finding {
    Finding {
        rule: SYNTAX_ERROR,
        severity: Severity::Error,
        file: source.clone(),
        region,
        message,
        label: String::new(),
        help: Some("lockscope skipped this file; the rest of the crate was still linted".into()),
    }
}

/// The deepest bracket nesting, skipping comments, strings and char literals, if it
/// exceeds [`MAX_NESTING`]: (depth, line).
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let (mut i, mut depth, mut line) = (0usize, 0usize, 1usize);
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some((depth, line));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut nest = 0usize;
                while i < bytes.len() {
                    if bytes[i] == b'\n' {
                        line += 1;
                    }
                    if bytes[i..].starts_with(b"/*") {
                        nest += 1;
                        i += 2;
                    } else if bytes[i..].starts_with(b"*/") {
                        nest -= 1;
                        i += 2;
                        if nest == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'"' => {
                let hashes = raw_string_hashes(bytes, i);
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\n' => line += 1,
                        b'\\' if hashes.is_none() => i += 1,
                        b'"' => {
                            let n = hashes.unwrap_or(0);
                            if bytes[i + 1..].iter().take(n).filter(|&&b| b == b'#').count() == n {
                                i += n;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            // A char literal ('(' or '\''), not a lifetime ('a).
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\\') => {
                i += 2;
                while i < bytes.len() && bytes[i] != b'\'' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// For a `"` at `quote`, the number of `#` of a raw string (`r##"`), or None if not raw.
fn raw_string_hashes(bytes: &[u8], quote: usize) -> Option<usize> {
    let mut j = quote;
    let mut hashes = 0;
    while j > 0 && bytes[j - 1] == b'#' {
        hashes += 1;
        j -= 1;
    }
    let is_raw =
        j > 0 && bytes[j - 1] == b'r' && (j < 2 || !bytes[j - 2].is_ascii_alphanumeric() || bytes[j - 2] == b'b');
    is_raw.then_some(hashes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_strings_and_comments() {
        assert!(too_deep("fn f() { let s = \"((((\"; // ((((\n }").is_none());
        let deep = format!("fn f() {{ {}{} }}", "(".repeat(2000), ")".repeat(2000));
        assert_eq!(too_deep(&deep).map(|(_, line)| line), Some(1));
        assert!(too_deep("let c = '('; let r = r#\"(\"#; let l: &'a str;").is_none());
    }
}
