//! Reading what a user or a repository hands us, always with a size limit: a source file,
//! a manifest, a configuration file or a report may be a FIFO, `/dev/zero` or a symlink
//! to one, and none of them may hang the run or grow it without bound.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// A FIFO, a device, a socket: what it is.
    NotRegular(&'static str),
    /// Larger than the limit, which is given.
    TooLarge(u64),
    /// 1-based position of the first byte that is not UTF-8.
    NotUtf8 {
        line: usize,
        column: usize,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "cannot read it: {e}"),
            ReadError::NotRegular(kind) => write!(f, "it is a {kind}, not a regular file"),
            ReadError::TooLarge(limit) => write!(f, "it is larger than {}, the limit", human_bytes(*limit)),
            ReadError::NotUtf8 { line, column } => {
                write!(f, "it is not valid UTF-8 (the first bad byte is at line {line}, column {column})")
            }
        }
    }
}

/// What a file-system entry is, when it is not a regular file or a folder.
pub fn special_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() || t.is_dir() {
        None
    } else if t.is_fifo() {
        Some("FIFO")
    } else if t.is_char_device() {
        Some("character device")
    } else if t.is_block_device() {
        Some("block device")
    } else if t.is_socket() {
        Some("socket")
    } else {
        Some("special file")
    }
}

/// Read a regular file of at most `limit` bytes; anything else is refused before it is
/// opened (opening a FIFO would block, reading a device would never end).
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if let Some(kind) = special_kind(&meta) {
        return Err(ReadError::NotRegular(kind));
    }
    if meta.is_dir() {
        return Err(ReadError::NotRegular("folder"));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge(limit));
    }
    read_at_most(File::open(path).map_err(ReadError::Io)?, limit)
}

/// Read a file, pipe or device, stopping after `limit` bytes (a report piped in, or
/// `/dev/stdin`, is fine; `/dev/zero` is an error at the limit, not an endless read).
pub fn read_any(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = File::open(path).map_err(ReadError::Io)?;
    if file.metadata().is_ok_and(|m| m.is_file() && m.len() > limit) {
        return Err(ReadError::TooLarge(limit));
    }
    read_at_most(file, limit)
}

fn read_at_most(file: File, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

/// A regular UTF-8 text file of at most `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    utf8(read_regular(path, limit)?)
}

/// The bytes as text, or where the first byte that is not UTF-8 sits.
pub fn utf8(bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        // The prefix up to the bad byte is valid UTF-8 by definition.
        let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let (line, column) = line_col(before, before.len());
        ReadError::NotUtf8 { line, column }
    })
}

/// 1-based line and column (in characters) of a byte offset of `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// `10 MB`, `256 MB`, `512 KB`, `17 bytes` (decimal units, as `ls -h --si` shows).
pub fn human_bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} bytes"),
        1_000..1_000_000 => format!("{:.0} KB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6).replace(".0 MB", " MB"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_fifos_are_refused_or_bounded() {
        assert!(matches!(read_regular(Path::new("/dev/zero"), 10), Err(ReadError::NotRegular("character device"))));
        assert!(matches!(read_any(Path::new("/dev/zero"), 1 << 20), Err(ReadError::TooLarge(_))));
        assert!(matches!(read_regular(Path::new("/"), 10), Err(ReadError::NotRegular("folder"))));
    }

    #[test]
    fn utf8_errors_point_at_the_first_bad_byte() {
        let err = utf8(b"fn f() {}\nlet s = \"\xff\";".to_vec()).expect_err("not UTF-8");
        assert!(matches!(err, ReadError::NotUtf8 { line: 2, column: 10 }), "{err:?}");
        let err = utf8(b"\xc3\xa9\n\n  ab\xc3(".to_vec()).expect_err("bad");
        assert!(matches!(err, ReadError::NotUtf8 { line: 3, column: 5 }), "{err:?}");
    }

    #[test]
    fn sizes_read_like_ls() {
        assert_eq!(human_bytes(17), "17 bytes");
        assert_eq!(human_bytes(10_000_000), "10 MB");
        assert_eq!(human_bytes(268_435_456), "268.4 MB");
    }
}
