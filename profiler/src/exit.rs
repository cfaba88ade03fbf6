//! `LOCKSCOPE_REPORT`: write the report when the process exits normally.

use crate::ReportHandle;
use std::path::PathBuf;
use std::sync::OnceLock;

static AT_EXIT: OnceLock<(ReportHandle, PathBuf)> = OnceLock::new();

extern "C" fn write_report() {
    if let Some((handle, path)) = AT_EXIT.get() {
        if let Err(err) = handle.write_json(path) {
            eprintln!("lockscope: cannot write {}: {err}", path.display());
        }
    }
}

/// Register (once per process) a write of `handle`'s report to `path` at exit.
pub(crate) fn write_at_exit(handle: ReportHandle, path: PathBuf) {
    if AT_EXIT.set((handle, path)).is_ok() {
        // SAFETY: `write_report` is a plain `extern "C" fn` that does not unwind.
        unsafe {
            libc::atexit(write_report);
        }
    }
}
